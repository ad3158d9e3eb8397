/*
 * yamldoc.h - load a YAML file into libyaml's document tree, and walk it
 * with messages that name the file and line.
 *
 * Every config in smearseg is YAML; errors say "FILE:LINE: problem", with
 * LINE 1-based, so that a user can go straight to the bad key.
 */
#ifndef SMEARSEG_YAMLDOC_H
#define SMEARSEG_YAMLDOC_H

#include <stdnoreturn.h>
#include <yaml.h>

struct yamldoc {
	const char *path;               /* for messages */
	yaml_document_t doc;
};

/* Load PATH (or a NUL-terminated TEXT if not NULL, with PATH only naming
 * it); dies on a syntax error or an empty document. */
void yamldoc_load(struct yamldoc *y, const char *path, const char *text);
void yamldoc_free(struct yamldoc *y);
/* Free every document loaded and not yet freed: for a caller that went
 * on after a die() (the fuzz harnesses), not for the programs. */
void yamldoc_release_all(void);
yaml_node_t *yamldoc_root(struct yamldoc *y);
yaml_node_t *yamldoc_node(struct yamldoc *y, int id);
/* Die with "PATH:LINE: message" at node N. */
noreturn void yamldoc_die(struct yamldoc *y, const yaml_node_t *n,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The scalar text of N, or die "expected WHAT". */
const char *yamldoc_scalar(struct yamldoc *y, yaml_node_t *n, const char *what);
/* Checked numbers from scalar N, naming KEY in the message. */
long yamldoc_long(struct yamldoc *y, yaml_node_t *n, const char *key,
    long min, long max);
double yamldoc_double(struct yamldoc *y, yaml_node_t *n, const char *key,
    double min, double max);
int yamldoc_bool(struct yamldoc *y, yaml_node_t *n, const char *key);
/* Check that mapping M has only keys from the NULL-terminated list
 * ALLOWED; an unknown key dies naming the key and its line. */
void yamldoc_check_keys(struct yamldoc *y, yaml_node_t *m,
    const char *const *allowed);
/* The value of KEY in mapping M, or NULL. */
yaml_node_t *yamldoc_get(struct yamldoc *y, yaml_node_t *m, const char *key);

#endif
