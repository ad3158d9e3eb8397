/*
 * yamldoc.c - libyaml document loading with located errors (yamldoc.h).
 */
#include "yamldoc.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

/* A config is a few kilobytes; a class table or a cell-count config
 * no more. */
#define YAMLDOC_MAX_BYTES       (16u << 20)
/* ... and three levels deep: model: widths: [...] */
#define YAMLDOC_MAX_DEPTH       64

/*
 * Walk the events of the LEN bytes of TEXT once before libyaml builds the
 * tree, stopping at the first collection nested deeper than
 * YAMLDOC_MAX_DEPTH.  libyaml's scanner does work in proportion to the
 * nesting for every token, so that a 100000-deep mapping took the loader
 * minutes; a config is three levels deep.
 */
static void
yamldoc_precheck(const char *name, const char *text, size_t len)
{
	yaml_parser_t p;
	yaml_event_t e;
	int depth = 0, done = 0, docs = 0;
	char msg[128] = "";
	unsigned long line = 1;

	if (!yaml_parser_initialize(&p))
		die("%s: cannot initialise the YAML parser", name);
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	while (!done) {
		if (!yaml_parser_parse(&p, &e)) {
			snprintf(msg, sizeof msg, "invalid YAML: %s",
			    p.problem ? p.problem : "syntax error");
			line = p.problem_mark.line + 1;
			break;
		}
		line = e.start_mark.line + 1;
		switch (e.type) {
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1)
				snprintf(msg, sizeof msg, "a second YAML "
				    "document (expected one)");
			break;
		case YAML_MAPPING_START_EVENT:
		case YAML_SEQUENCE_START_EVENT:
			if (++depth > YAMLDOC_MAX_DEPTH)
				snprintf(msg, sizeof msg, "nested deeper than "
				    "%d levels", YAMLDOC_MAX_DEPTH);
			break;
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			depth--;
			break;
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		default:
			break;
		}
		yaml_event_delete(&e);
		if (*msg != '\0')
			break;
	}
	yaml_parser_delete(&p);
	if (*msg != '\0')
		die("%s:%lu: %s", name, line, msg);
}

static void yamldoc_track(const yaml_document_t *d, int add);

/* Die at the first NUL byte of the LEN bytes at TEXT: libyaml would stop
 * there, and the rest of the file would be ignored without a word. */
static void
yamldoc_nul(const char *name, const char *text, size_t len)
{
	const char *nul = memchr(text, '\0', len), *c;
	unsigned long line = 1;

	if (nul == NULL)
		return;
	for (c = text; c < nul; c++)
		line += *c == '\n';
	die("%s:%lu: a NUL byte (expected YAML text)", name, line);
}

struct key_ref {
	const char *key;
	int index;              /* the pair's place in its mapping */
	const yaml_node_t *node;
};

static int
key_ref_cmp(const void *a, const void *b)
{
	const struct key_ref *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : x->index - y->index;
}

/*
 * Die at the first repeated key of any mapping in the document: libyaml
 * keeps both pairs, and a reader that takes the first would ignore the
 * second without a word (a duplicated section, a key given twice).  Keys
 * are sorted, so that a mapping of many keys costs n log n.
 */
static void
yamldoc_unique_keys(struct yamldoc *y)
{
	yaml_node_t *m;
	yaml_node_pair_t *pr;
	struct key_ref *r, *dup, *first;
	size_t n, k, i;

	for (m = y->doc.nodes.start; m < y->doc.nodes.top; m++) {
		if (m->type != YAML_MAPPING_NODE)
			continue;
		n = m->data.mapping.pairs.top - m->data.mapping.pairs.start;
		r = xmalloc_array(n ? n : 1, sizeof *r);
		for (k = 0, pr = m->data.mapping.pairs.start;
		    pr < m->data.mapping.pairs.top; pr++) {
			yaml_node_t *kn = yamldoc_node(y, pr->key);
			if (kn == NULL || kn->type != YAML_SCALAR_NODE)
				continue;
			r[k].key = (const char *)kn->data.scalar.value;
			r[k].index = (int)(pr - m->data.mapping.pairs.start);
			r[k++].node = kn;
		}
		qsort(r, k, sizeof *r, key_ref_cmp);
		dup = first = NULL;
		for (i = 1; i < k; i++)
			if (strcmp(r[i].key, r[i - 1].key) == 0 &&
			    (dup == NULL || r[i].index < dup->index)) {
				dup = &r[i];
				first = &r[i - 1];
			}
		if (dup != NULL)
			yamldoc_die(y, dup->node, "key '%s' repeated (first "
			    "at line %lu)", dup->key,
			    (unsigned long)first->node->start_mark.line + 1);
		free(r);
	}
}

void
yamldoc_load(struct yamldoc *y, const char *path, const char *text)
{
	yaml_parser_t p;
	char *buf = NULL;
	size_t len;

	y->path = display_name(path);
	if (text == NULL)
		text = buf = read_whole_file_max(path, YAMLDOC_MAX_BYTES,
		    &len);
	else
		len = strlen(text);
	yamldoc_nul(y->path, text, len);
	yamldoc_precheck(y->path, text, len);
	if (!yaml_parser_initialize(&p))
		die("%s: cannot initialise the YAML parser", y->path);
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	if (!yaml_parser_load(&p, &y->doc)) {
		/* what the loader alone finds (an undefined alias) */
		char msg[128];
		unsigned long line = p.problem_mark.line + 1;
		snprintf(msg, sizeof msg, "%s", p.problem ? p.problem :
		    "syntax error");
		yaml_parser_delete(&p);
		die("%s:%lu: invalid YAML: %s", y->path, line, msg);
	}
	yaml_parser_delete(&p);
	free(buf);
	yamldoc_track(&y->doc, 1);
	if (yaml_document_get_root_node(&y->doc) == NULL)
		die("%s: empty YAML document", y->path);
	yamldoc_unique_keys(y);
}

/* The documents loaded and not yet freed (copies of their structs), for
 * yamldoc_release_all(). */
static yaml_document_t live_docs[16];
static int nlive_docs;

static void
yamldoc_track(const yaml_document_t *d, int add)
{
	int i;

	if (add) {
		if (nlive_docs < 16)
			live_docs[nlive_docs++] = *d;
		return;
	}
	for (i = 0; i < nlive_docs; i++)
		if (live_docs[i].nodes.start == d->nodes.start) {
			live_docs[i] = live_docs[--nlive_docs];
			return;
		}
}

void
yamldoc_release_all(void)
{
	while (nlive_docs > 0)
		yaml_document_delete(&live_docs[--nlive_docs]);
}

void
yamldoc_free(struct yamldoc *y)
{
	yamldoc_track(&y->doc, 0);
	yaml_document_delete(&y->doc);
}

yaml_node_t *
yamldoc_root(struct yamldoc *y)
{
	return yaml_document_get_root_node(&y->doc);
}

yaml_node_t *
yamldoc_node(struct yamldoc *y, int id)
{
	return yaml_document_get_node(&y->doc, id);
}

noreturn void
yamldoc_die(struct yamldoc *y, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	die("%s:%lu: %s", y->path,
	    n ? (unsigned long)n->start_mark.line + 1 : 1UL, msg);
}

const char *
yamldoc_scalar(struct yamldoc *y, yaml_node_t *n, const char *what)
{
	if (n == NULL || n->type != YAML_SCALAR_NODE)
		yamldoc_die(y, n, "expected %s", what);
	return (const char *)n->data.scalar.value;
}

long
yamldoc_long(struct yamldoc *y, yaml_node_t *n, const char *key,
    long min, long max)
{
	const char *s = yamldoc_scalar(y, n, "an integer");
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0')
		yamldoc_die(y, n, "%s: '%s' is not an integer", key, s);
	if (errno == ERANGE || v < min || v > max)
		yamldoc_die(y, n, "%s: %s is out of range (expected %ld..%ld)",
		    key, s, min, max);
	return v;
}

double
yamldoc_double(struct yamldoc *y, yaml_node_t *n, const char *key,
    double min, double max)
{
	const char *s = yamldoc_scalar(y, n, "a number");
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || isnan(v))
		yamldoc_die(y, n, "%s: '%s' is not a number", key, s);
	if (errno == ERANGE || v < min || v > max)
		yamldoc_die(y, n, "%s: %s is out of range (expected %g..%g)",
		    key, s, min, max);
	return v;
}

int
yamldoc_bool(struct yamldoc *y, yaml_node_t *n, const char *key)
{
	const char *s = yamldoc_scalar(y, n, "true or false");

	if (strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0)
		return 1;
	if (strcasecmp(s, "false") == 0 || strcasecmp(s, "no") == 0)
		return 0;
	yamldoc_die(y, n, "%s: '%s' is not true or false", key, s);
}

yaml_node_t *
yamldoc_get(struct yamldoc *y, yaml_node_t *m, const char *key)
{
	yaml_node_pair_t *pr;
	yaml_node_t *k;

	if (m == NULL || m->type != YAML_MAPPING_NODE)
		yamldoc_die(y, m, "expected a mapping");
	for (pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top;
	    pr++) {
		k = yamldoc_node(y, pr->key);
		if (k->type == YAML_SCALAR_NODE &&
		    strcmp((const char *)k->data.scalar.value, key) == 0)
			return yamldoc_node(y, pr->value);
	}
	return NULL;
}

void
yamldoc_check_keys(struct yamldoc *y, yaml_node_t *m,
    const char *const *allowed)
{
	yaml_node_pair_t *pr;
	const char *const *a;
	const char *key;

	if (m == NULL || m->type != YAML_MAPPING_NODE)
		yamldoc_die(y, m, "expected a mapping");
	for (pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top;
	    pr++) {
		key = yamldoc_scalar(y, yamldoc_node(y, pr->key), "a key");
		for (a = allowed; *a != NULL; a++)
			if (strcmp(*a, key) == 0)
				break;
		if (*a == NULL)
			yamldoc_die(y, yamldoc_node(y, pr->key),
			    "unknown key '%s'", key);
	}
}
