/*
 * samples.h - a whole stream of cell samples in memory, checked.
 *
 * A cell sample is a PAM RGB_ALPHA image whose metadata names its class
 * ("class: Basophil", a name of the class table) and a unique provenance
 * id ("id: ..."); "group" (slide or patient) and "source" are optional.
 * Reading dies on what would silently spoil a dataset (a missing or
 * unknown class, a missing or repeated id) and rejects, with a count, a
 * sample whose mask holds no cell pixel.
 */
#ifndef SMEARSEG_SAMPLES_H
#define SMEARSEG_SAMPLES_H

#include "classes.h"
#include "image.h"

struct sample {
	struct img im;
	int cls;                /* class index, 1..n-1 */
	char *id;               /* provenance id */
	char *group;            /* slide / patient group; the id if none */
	int index;              /* 1-based position in its stream */
};

struct sample_set {
	struct sample *v;
	int n, cap;
	int rejected;           /* samples with no cell pixel, not kept */
	int first_rejected;     /* stream position of the first of them */
	int skipped;            /* samples of classes not wanted */
	const char *name;       /* display name of the stream */
};

/* Read every sample of the stream PATH ("-" = stdin) into SET.  If WANT is
 * not NULL, only samples whose class index c has WANT[c] set are kept; the
 * others are checked and counted in SET->skipped.  Dies on an empty
 * stream, an image that is not RGB_ALPHA, missing or unknown "class",
 * missing "id", or an id seen twice. */
void samples_read(struct sample_set *set, const char *path,
    const unsigned char want[CLASS_MAX]);
/* One warning line if SET rejected samples with an empty mask. */
void samples_warn_rejects(const struct sample_set *set);
void samples_free(struct sample_set *set);
/* Whether the alpha plane of IM has a pixel of the cell (alpha >= 128). */
int samples_has_cell(const struct img *im);

#endif
