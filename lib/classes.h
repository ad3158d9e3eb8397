/*
 * classes.h - the class table of DESIGN.md, read from share/classes.yaml.
 *
 * Class indices are small integers 0..n-1; CLASS_IGNORE (255) marks pixels
 * that are neither scored nor trained on.  Every program that reads or
 * writes labels takes the table from here, so there is one source of truth.
 */
#ifndef SMEARSEG_CLASSES_H
#define SMEARSEG_CLASSES_H

#define CLASS_MAX 32
#define CLASS_IGNORE 255
#define CLASS_NAME_MAX 48

struct class_info {
	char name[CLASS_NAME_MAX];
	unsigned char rgb[3];
};

struct class_table {
	int n;                          /* classes 0..n-1 */
	struct class_info c[CLASS_MAX];
	struct class_info ignore;       /* index CLASS_IGNORE */
};

/* Load a table; NULL means the default share/classes.yaml.  Dies with
 * "FILE:LINE: problem" on any error.  The default table is cached. */
const struct class_table *classes_load(const char *path);
/* Index of NAME, matched without regard to case, and with ' ', '_' and '-'
 * treated alike ("platelet_clump" finds "Platelet clump"); -1 if none. */
int classes_lookup(const struct class_table *t, const char *name);
/* The display colour of index I (the ignore colour for CLASS_IGNORE, and
 * NULL for any other index outside the table). */
const unsigned char *classes_colour(const struct class_table *t, int i);
/* The table as a JSON array, for model metadata; caller frees. */
char *classes_to_json(const struct class_table *t);

#endif
