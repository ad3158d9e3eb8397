/*
 * classes.h - the class table (share/doc/design.md), read from
 * share/classes.yaml.
 *
 * Class indices are small integers 0..n-1; CLASS_IGNORE (255) marks pixels
 * that are neither scored nor trained on.  A partial label (index n..254)
 * marks pixels known to be one of several classes but not which (a white
 * cell of unknown type, as a box of a real smear says): training scores
 * them by the members' summed probability, evaluation does not score
 * them.  Every program that reads or
 * writes labels takes the table from here, so there is one source of truth.
 */
#ifndef SMEARSEG_CLASSES_H
#define SMEARSEG_CLASSES_H

#define CLASS_MAX 32
#define CLASS_IGNORE 255
#define CLASS_NAME_MAX 48
#define CLASS_PARTIAL_MAX 8

#include <stddef.h>
#include <stdint.h>

struct class_info {
	char name[CLASS_NAME_MAX];
	unsigned char rgb[3];
};

struct class_partial {
	int index;                      /* n..254 */
	struct class_info info;
	uint32_t members;               /* bit k: class k */
};

struct class_table {
	int n;                          /* classes 0..n-1 */
	struct class_info c[CLASS_MAX];
	struct class_info ignore;       /* index CLASS_IGNORE */
	int npartial;
	struct class_partial partial[CLASS_PARTIAL_MAX];
};

/* Load a table; NULL means the default share/classes.yaml.  Dies with
 * "FILE:LINE: problem" on any error.  The default table is cached. */
const struct class_table *classes_load(const char *path);
/* Index of NAME, matched without regard to case, and with ' ', '_' and '-'
 * treated alike ("platelet_clump" finds "Platelet clump"); -1 if none. */
int classes_lookup(const struct class_table *t, const char *name);
/* The index of the partial label called NAME (matched as above), or -1. */
int classes_partial(const struct class_table *t, const char *name);
/* The classes label value I stands for, as a bit set: one bit for a
 * class, the members for a partial label, 0 for the ignore label and any
 * value outside the table. */
uint32_t classes_members(const struct class_table *t, int i);
/* The display colour of index I (the ignore colour for CLASS_IGNORE, a
 * partial label's own colour, and NULL for any other index outside the
 * table). */
const unsigned char *classes_colour(const struct class_table *t, int i);
/* The table as a compact JSON array of {"index", "name", "colour"}, for
 * model metadata; caller frees. */
char *classes_to_json(const struct class_table *t);
/* Whether the JSON text TEXT (as classes_to_json writes it, in any
 * spacing) is another table than T's classes: 0 if it is the same, else 1
 * with the first difference described in WHY (N bytes), TEXT's side
 * first: "class 3: 'A' #ff0000 against 'B' #ff0000". */
int classes_json_differs(const struct class_table *t, const char *text,
    char *why, size_t n);

#endif
