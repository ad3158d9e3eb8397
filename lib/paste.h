/*
 * paste.h - turning a cell sample into a patch and pasting it onto a
 * labelled canvas, for make-background and compose-tile.
 *
 * A patch is a sample after rotation, flip and colour jitter, cut to the
 * bounding box of its cell.  It keeps two masks on purpose:
 *
 *	mask   0 or 1: the cell's footprint, where its colour is blended
 *	       in (and what counts as covered when cells overlap).  It comes
 *	       from the bilinearly resampled alpha thresholded at 128, so a
 *	       label is never interpolated and never takes a value between
 *	       two classes.
 *	alpha  0..255: the weight of the sample's colour in the image.  It is
 *	       0 wherever mask is 0 and ramps up over the first pixels inside
 *	       the cell (a quarter on the outermost ring for a feather of 2),
 *	       so the image gets a soft edge with no halo of the sample's
 *	       own surroundings (the dark outline the reference had).
 *
 * The label becomes the sample's class where alpha is at least one half:
 * a pixel is labelled cell where the image is more cell than what lay
 * beneath it.  With a feather the label is thus one ring smaller than the
 * footprint; were it the whole footprint, every pasted cell would be
 * labelled about a pixel wider than it looks, and a network trained on
 * it draws every real cell that much too wide.
 *
 * The colour is resampled with alpha-weighted bilinear interpolation, so
 * pixels outside the source cell never bleed into the edge.
 */
#ifndef SMEARSEG_PASTE_H
#define SMEARSEG_PASTE_H

#include "image.h"

struct paste_patch {
	int w, h;
	unsigned char *rgb;     /* h * w * 3 */
	unsigned char *mask;    /* h * w, 0 or 1 */
	unsigned char *alpha;   /* h * w, 0..255, 0 where mask is 0 */
	unsigned char *label;   /* h * w, 0 or 1: where the label goes */
	int area;               /* pixels with mask set */
	size_t cap;             /* pixels allocated */
};

/* Make P (buffers reused across calls; zero it before the first) from the
 * RGB_ALPHA sample SRC: mirror it left-right if FLIP, rotate it by ANGLE
 * radians about its centre, multiply the colour channels by GAIN[0..2],
 * and feather the image alpha over FEATHER pixels (0 = a hard edge).  The
 * patch is cut to its cell's bounding box; P->area is 0 if no pixel of
 * the cell survived the threshold. */
void paste_transform(struct paste_patch *p, const struct img *src,
    double angle, int flip, const float gain[3], double feather);

/* The same with the image's soft edge (FEATHER) and the label's
 * (LABEL_FEATHER) apart: the label is set where a soft edge of
 * LABEL_FEATHER would weigh the cell at least one half.  A narrower image
 * edge keeps what lies at a cell's rim, a parasite say, visible, with the
 * label where paste_transform puts it for LABEL_FEATHER. */
void paste_transform_edge(struct paste_patch *p, const struct img *src,
    double angle, int flip, const float gain[3], double feather,
    double label_feather);

/* Count the cell pixels of P placed with its top-left corner at (X0, Y0)
 * on a W x H canvas: return how many fall inside the canvas and, in
 * *COVERED, how many of those land on a pixel where COVER[(y * W + x) *
 * STRIDE] is not zero. */
int paste_count(const struct paste_patch *p, int x0, int y0, int w, int h,
    const unsigned char *cover, int stride, int *covered);

/* Paste P onto DST (IMG_LABEL) with its top-left corner at (X0, Y0); parts
 * outside DST are cut off.  The image is blended by alpha under the mask,
 * and the label plane becomes CLS where the patch's label is set (alpha >=
 * 128 after paste_transform).  If OWNER is not
 * NULL (DST's width * height bytes), it becomes ID where the label does. */
void paste_apply(struct img *dst, const struct paste_patch *p, int x0,
    int y0, int cls, unsigned char *owner, unsigned char id);

void paste_free(struct paste_patch *p);

#endif
