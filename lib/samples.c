/*
 * samples.c - reading and checking sample streams (see samples.h).
 *
 * Ids are checked for uniqueness with a sorted copy after reading, which
 * keeps the reader simple and costs O(n log n) once.
 */
#include "samples.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

#define META_MAX 256

int
samples_has_cell(const struct img *im)
{
	size_t i, n = (size_t)im->width * im->height;

	for (i = 0; i < n; i++)
		if (im->data[i * 4 + 3] >= 128)
			return 1;
	return 0;
}

static int
cmp_id(const void *a, const void *b)
{
	const struct sample *const *x = a, *const *y = b;

	return strcmp((*x)->id, (*y)->id);
}

static void
check_unique(const struct sample_set *set)
{
	const struct sample **s;
	int i;

	if (set->n < 2)
		return;
	s = xmalloc_array(set->n, sizeof *s);
	for (i = 0; i < set->n; i++)
		s[i] = &set->v[i];
	qsort(s, set->n, sizeof *s, cmp_id);
	for (i = 1; i < set->n; i++)
		if (strcmp(s[i - 1]->id, s[i]->id) == 0)
			die("%s: images %d and %d have the same id '%s'",
			    set->name, s[i - 1]->index < s[i]->index ?
			    s[i - 1]->index : s[i]->index,
			    s[i - 1]->index < s[i]->index ? s[i]->index :
			    s[i - 1]->index, s[i]->id);
	free(s);
}

void
samples_read(struct sample_set *set, const char *path,
    const unsigned char want[CLASS_MAX])
{
	const struct class_table *t = classes_load(NULL);
	struct img_reader r;
	struct img im;
	char buf[META_MAX];
	struct sample *s;
	int cls;

	memset(set, 0, sizeof *set);
	memset(&im, 0, sizeof im);
	img_open(&r, path);
	set->name = r.name;
	while (img_read(&r, &im, IMG_RGBA)) {
		if (img_meta_get(&im, "class", buf, sizeof buf) == NULL)
			die("%s: image %d: no 'class' in its metadata",
			    r.name, r.count);
		cls = classes_lookup(t, buf);
		if (cls <= 0)
			die("%s: image %d: '%s' is not a cell class of the "
			    "class table", r.name, r.count, buf);
		if (img_meta_get(&im, "id", buf, sizeof buf) == NULL ||
		    buf[0] == '\0')
			die("%s: image %d: no 'id' in its metadata", r.name,
			    r.count);
		if (want != NULL && !want[cls]) {
			set->skipped++;
			continue;
		}
		if (!samples_has_cell(&im)) {
			if (set->rejected++ == 0)
				set->first_rejected = r.count;
			continue;
		}
		if (set->n == set->cap) {
			set->cap = set->cap ? set->cap * 2 : 64;
			set->v = xrealloc(set->v, set->cap * sizeof *set->v);
		}
		s = &set->v[set->n++];
		s->cls = cls;
		s->index = r.count;
		s->id = xstrdup(buf);
		s->group = xstrdup(img_meta_get(&im, "group", buf, sizeof buf)
		    && buf[0] != '\0' ? buf : s->id);
		s->im = im;
		memset(&im, 0, sizeof im);
	}
	img_free(&im);
	img_close(&r);
	check_unique(set);
}

void
samples_warn_rejects(const struct sample_set *set)
{
	if (set->rejected > 0)
		warn("%s: rejected %d sample%s with no cell pixel in the mask "
		    "(first: image %d)", set->name, set->rejected,
		    set->rejected == 1 ? "" : "s", set->first_rejected);
}

void
samples_free(struct sample_set *set)
{
	int i;

	for (i = 0; i < set->n; i++) {
		img_free(&set->v[i].im);
		free(set->v[i].id);
		free(set->v[i].group);
	}
	free(set->v);
	memset(set, 0, sizeof *set);
}
