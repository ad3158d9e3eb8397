/*
 * segment.h - binary masks and the cell segmenters of crop-cells.
 *
 * A mask is W*H bytes, row-major, each 0 (outside) or 1 (the cell).  The
 * primitives are the classical ones: 8-connected components, hole filling
 * (holes are what the 4-connected outside cannot reach), and morphology
 * with a true Euclidean disk, computed from a distance transform so that a
 * radius of 20 px costs no more than a radius of 1.
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

/* Label the 8-connected components of M into LAB (1..n, 0 = outside) and
 * return n.  AREA, if not NULL, gets a malloc'ed array of n + 1 pixel
 * counts (AREA[0] unused) that the caller frees. */
int seg_label(int *lab, const unsigned char *m, int w, int h, long **area);
/* Keep only the largest 8-connected component of M; return its area. */
long seg_keep_largest(unsigned char *m, int w, int h);
/* Set every hole of M (a 0 pixel that no 4-connected path of 0 pixels
 * joins to the image border) to 1. */
void seg_fill_holes(unsigned char *m, int w, int h);
/* Morphology with a Euclidean disk of radius R pixels (R >= 0). */
void seg_dilate(unsigned char *m, int w, int h, double r);
void seg_erode(unsigned char *m, int w, int h, double r);
void seg_open(unsigned char *m, int w, int h, double r);
void seg_close(unsigned char *m, int w, int h, double r);
/* The bounding box of M; returns 0 (and leaves the box alone) if M is
 * empty. */
int seg_bbox(const unsigned char *m, int w, int h, int *x0, int *y0,
    int *x1, int *y1);

/* The background colour of the RGB image IM: the mean of its brightest
 * fifth, which in a smear is the plasma between the cells. */
void seg_background_colour(const struct img *im, double bg[3]);

/* Segment the cell of KIND nearest (CX, CY) in the RGB image IM into MASK
 * (IM->width * IM->height bytes).  SCALE is the factor that will bring IM
 * to the 40x scale; the segmenters' sizes are set at that scale and so
 * follow the source's magnification.  Returns SEG_OK with MASK holding one
 * 8-connected component without holes, or the reason for failing. */
enum seg_result seg_cell(unsigned char *mask, const struct img *im,
    enum seg_kind kind, double cx, double cy, double scale);

#endif
