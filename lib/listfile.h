/*
 * listfile.h - the per-image list files of crop-cells and label-smear.
 *
 * A list is a text file with one line per image of a stream, in order:
 * words separated by spaces, tabs or carriage returns, the first word the
 * image's id.  Blank lines and lines whose first word begins with '#' are
 * skipped (they still count for the line numbers in messages).  What the
 * other words mean is the program's; this module cuts the file into
 * lines and words, names a line in messages as "FILE:LINE: ", and finds
 * an id on two lines.  A box is written "xmin,ymin,xmax,ymax": pixels
 * counted from 0, inclusive, each a decimal number of digits alone.
 */
#ifndef SMEARSEG_LISTFILE_H
#define SMEARSEG_LISTFILE_H

#include <stddef.h>

/* What list_box() makes of a box. */
enum list_box_result {
	LIST_BOX_OK,
	LIST_BOX_SYNTAX,        /* not four numbers 0..LIST_COORD_MAX */
	LIST_BOX_ORDER,         /* xmin > xmax or ymin > ymax */
};

#define LIST_COORD_MAX 1000000

/* One line that is neither blank nor a comment. */
struct list_line {
	int line;               /* its number in the file, from 1 */
	int nword;              /* at least 1 */
	char **word;            /* its words, into the list's text */
};

struct list {
	const char *name;       /* the file's name in messages */
	struct list_line *v;
	int n;
	char *text;             /* the file, its words NUL-terminated */
};

/* Read the list file PATH ("-" = stdin) into L, naming it NAME in
 * messages.  Dies with "NAME: no lines (expected 'FORM')" if it has no
 * line but blank ones and comments. */
void list_read(struct list *l, const char *path, const char *name,
    const char *form);
/* "NAME:LINE: " for line K of L into BUF (N bytes); returns BUF. */
const char *list_where(const struct list *l, int k, char *buf, size_t n);
/* Whether two lines of L have the same id.  If so, *FIRST and *SECOND get
 * the indexes of the first two lines with the smallest such id (by
 * strcmp), in file order. */
int list_repeated_id(const struct list *l, int *first, int *second);
void list_free(struct list *l);

/* Parse the box S, "xmin,ymin,xmax,ymax", into B[0..3]. */
enum list_box_result list_box(const char *s, int b[4]);

#endif
