/*
 * mask.h - binary masks and label images: components, holes, distances,
 * morphology and boxes.
 *
 * A mask is W*H bytes, row-major, each 0 (outside) or 1 (inside).  A label
 * image is W*H labels, row-major, 0 for the outside and 1..n for n
 * regions; mask_label() writes them as int, and a mask is the label image
 * whose only label is 1.  The primitives are the classical ones:
 * 8-connected components, hole filling (holes are what the 4-connected
 * outside cannot reach), and morphology with a true Euclidean disk,
 * computed from a distance transform so that a radius of 20 px costs no
 * more than a radius of 1.
 */
#ifndef SMEARSEG_MASK_H
#define SMEARSEG_MASK_H

#include <stddef.h>

#define MASK_FAR 1e12           /* "no feature" in the distance transform */

/* The bounding box (inclusive) and the pixel count of one label.  A label
 * with no pixel has area 0 and the empty box x0 = W, y0 = H, x1 = y1 = -1. */
struct mask_box {
	int x0, y0, x1, y1;
	long area;
};

/* Label the 8-connected components of M into LAB (1..n, 0 = outside) and
 * return n.  AREA, if not NULL, gets a malloc'ed array of n + 1 pixel
 * counts (AREA[0] unused) that the caller frees. */
int mask_label(int *lab, const unsigned char *m, int w, int h, long **area);
/* Set M to 1 exactly where the label image LAB (NPIX ints) equals L. */
void mask_from_label(unsigned char *m, const int *lab, size_t npix, int l);
/* Keep only the largest 8-connected component of M; return its area. */
long mask_keep_largest(unsigned char *m, int w, int h);
/* Set every hole of M (a 0 pixel that no 4-connected path of 0 pixels
 * joins to the image border) to 1. */
void mask_fill_holes(unsigned char *m, int w, int h);

/* The box and area of every label 1..N of the W x H label image LAB into
 * BOX[1..N], in one scan of LAB (BOX[0] is left alone).  LAB holds labels
 * of SIZE bytes: sizeof(int) for mask_label()'s, or 1 for a label image
 * of bytes (a mask, or a plane of owners).  Values outside 1..N are
 * passed over. */
void mask_boxes(struct mask_box *box, int n, const void *lab, size_t size,
    int w, int h);
/* The box and area of the mask M into *B; returns 0 if M is empty (*B
 * is then the empty box). */
int mask_bbox(struct mask_box *b, const unsigned char *m, int w, int h);

/* D gets, for every pixel of M, the squared Euclidean distance to the
 * nearest pixel whose value is FEATURE (0 or 1); MASK_FAR or more if
 * there is none. */
void mask_edt(double *d, const unsigned char *m, int w, int h, int feature);
/* Morphology with a Euclidean disk of radius R pixels (R >= 0).  Pixels
 * outside the image are neither inside nor outside for it, so an erosion
 * does not eat a region that touches the border. */
void mask_dilate(unsigned char *m, int w, int h, double r);
void mask_erode(unsigned char *m, int w, int h, double r);
void mask_open(unsigned char *m, int w, int h, double r);
void mask_close(unsigned char *m, int w, int h, double r);

#endif
