/*
 * segment.h - the cell segmenters of crop-cells.
 *
 * The segmenters find one stained cell in a photo of a Romanowsky-stained
 * smear (May-Grunwald-Giemsa, Wright, Giemsa).  They work on two measures
 * taken relative to the photo's own background colour, so that a cream
 * CellaVision crop and a grey-green BCCD smear are treated alike:
 * "purple", how much more blue than green a pixel is (nuclei and platelets
 * are strongly purple, red cells and plasma are not), and "dark", how much
 * darker than the background it is in its darkest channel.
 */
#ifndef SMEARSEG_SEGMENT_H
#define SMEARSEG_SEGMENT_H

#include "image.h"

/* What a segmenter looks for; each class of the table maps to one. */
enum seg_kind {
	SEG_WBC,                /* nucleus grown to the whole white cell */
	SEG_PLATELET,           /* one small purple blob */
	SEG_CLUMP,              /* a group of purple blobs, taken as one */
	SEG_RBC,                /* one red cell, pale centre included */
};

/* Why a segmenter or a sample was turned down (SEG_OK: it was not). */
enum seg_result {
	SEG_OK,
	SEG_NO_CELL,            /* nothing stained, or an empty mask */
	SEG_OFF_CENTRE,         /* stained objects, none near the centre */
	SEG_LEAK,               /* cut by the photo's edge, or ran into it */
	SEG_TOO_SMALL,
	SEG_TOO_LARGE,
	SEG_NOT_ROUND,          /* a red cell filling too little of its box */
	SEG_NRESULTS
};

/* A short name of R for messages ("no cell", "too small", ...). */
const char *seg_result_name(enum seg_result r);

/* The background colour of the RGB image IM: the mean of its brightest
 * fifth, which in a smear is the plasma between the cells. */
void seg_background_colour(const struct img *im, double bg[3]);
/* Otsu's threshold of a 256-bin histogram: the level t that best splits
 * the values below t from those at or above it. */
int seg_otsu(const long hist[256]);

/* Segment the cell of KIND nearest (CX, CY) in the RGB image IM into MASK
 * (IM->width * IM->height bytes, a mask of mask.h).  SCALE is the factor
 * that will bring IM to the 40x scale; the segmenters' sizes are set at
 * that scale and so follow the source's magnification.  Returns SEG_OK with MASK holding one
 * 8-connected component without holes, or the reason for failing. */
enum seg_result seg_cell(unsigned char *mask, const struct img *im,
    enum seg_kind kind, double cx, double cy, double scale);

#endif
