/*
 * listfile.c - per-image list files (listfile.h).
 *
 * The whole file is read into memory and cut in place: each '\n' and each
 * separator after a word becomes a NUL, and the lines point into the
 * text, so a list costs one allocation for its text and one per line.
 * Reading stops at the first NUL byte of the file, as a C string would.
 */
#include "listfile.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define LIST_SEP " \t\r"
/* A list names one file per line: a million lines fit easily. */
#define LIST_MAX_BYTES  (256u << 20)

/* Cut the line S (NUL-terminated) into its words; returns how many, and
 * *WORD an array of them (NULL if none). */
static int
split_words(char *s, char ***word)
{
	char **v = NULL, *p;
	int n = 0, cap = 0;

	for (p = s + strspn(s, LIST_SEP); *p != '\0';
	    p += strspn(p, LIST_SEP)) {
		if (n == cap) {
			cap = cap ? 2 * cap : 8;
			v = xrealloc(v, cap * sizeof *v);
		}
		v[n++] = p;
		p += strcspn(p, LIST_SEP);
		if (*p != '\0')
			*p++ = '\0';
	}
	*word = v;
	return n;
}

void
list_read(struct list *l, const char *path, const char *name,
    const char *form)
{
	char *line, *next, **word;
	int lineno = 0, cap = 0, nword;

	memset(l, 0, sizeof *l);
	l->name = name;
	l->text = read_whole_file_max(path, LIST_MAX_BYTES, NULL);
	for (line = l->text; *line != '\0'; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		else
			next = line + strlen(line);
		lineno++;
		nword = split_words(line, &word);
		if (nword == 0 || word[0][0] == '#') {
			free(word);
			continue;
		}
		if (l->n == cap) {
			cap = cap ? 2 * cap : 256;
			l->v = xrealloc(l->v, cap * sizeof *l->v);
		}
		l->v[l->n++] = (struct list_line){ lineno, nword, word };
	}
	if (l->n == 0)
		die("%s: no lines (expected '%s')", name, form);
}

const char *
list_where(const struct list *l, int k, char *buf, size_t n)
{
	snprintf(buf, n, "%s:%d: ", l->name, l->v[k].line);
	return buf;
}

static const struct list *sort_list;

/* Order line indexes by id, then by position in the file. */
static int
cmp_line_id(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	int c = strcmp(sort_list->v[x].word[0], sort_list->v[y].word[0]);

	return c != 0 ? c : (x > y) - (x < y);
}

int
list_repeated_id(const struct list *l, int *first, int *second)
{
	int *idx = xmalloc_array(l->n, sizeof *idx), k, found = 0;

	for (k = 0; k < l->n; k++)
		idx[k] = k;
	sort_list = l;
	qsort(idx, l->n, sizeof *idx, cmp_line_id);
	for (k = 1; k < l->n && !found; k++)
		if (strcmp(l->v[idx[k - 1]].word[0], l->v[idx[k]].word[0]) ==
		    0) {
			*first = idx[k - 1];
			*second = idx[k];
			found = 1;
		}
	free(idx);
	return found;
}

void
list_free(struct list *l)
{
	int k;

	for (k = 0; k < l->n; k++)
		free(l->v[k].word);
	free(l->v);
	free(l->text);
	memset(l, 0, sizeof *l);
}

enum list_box_result
list_box(const char *s, int b[4])
{
	char *end;
	long v;
	int k;

	for (k = 0; k < 4; k++) {
		if (!isdigit((unsigned char)*s))
			return LIST_BOX_SYNTAX;
		v = strtol(s, &end, 10);
		if (v > LIST_COORD_MAX || *end != (k < 3 ? ',' : '\0'))
			return LIST_BOX_SYNTAX;
		b[k] = (int)v;
		s = end + 1;
	}
	return b[0] > b[2] || b[1] > b[3] ? LIST_BOX_ORDER : LIST_BOX_OK;
}
