/*
 * rbcsize.h - the size of the red cells in a smear photo, measured from
 * the photo alone, and so the factor that brings it to a model's scale.
 *
 * A model is trained at one pixel scale (smearseg's: a healthy red cell is
 * about 38 px across), and a smear from another microscope or camera must
 * be rescaled to it first.  Red cells are the one object that every smear
 * holds in numbers and whose true size hardly varies (7-8 um), so their
 * size in the photo gives the factor.
 *
 * The measure is a granulometry in two passes.  The cells are the pixels
 * darker than the plasma (Otsu's threshold of the darkness below the
 * photo's own background colour, as lib/segment.c measures it), closed and
 * with their holes filled, so that a red cell's pale centre counts as
 * cell.  In the Euclidean distance transform of that mask, the centre of
 * every cell is a local maximum, the radius of the largest disc that fits
 * in it; touching cells keep a disc each.  Each disc grows into its cell
 * through a lower threshold, which takes in the pale edge of the cells;
 * where cells touch, a pixel goes to the disc nearest in units of its
 * radius.  A cell's size is its long axis (the BCCD boxes, on which the
 * project's scale factors rest, span it too), and the photo's red-cell
 * size is the mode of the sizes of the cells clear of the edge.  The
 * first pass gives a rough size; the second closes the mask by a share of
 * it, which mends the broken rims of pale red cells, and measures again.
 */
#ifndef SMEARSEG_RBCSIZE_H
#define SMEARSEG_RBCSIZE_H

#include "image.h"

/* What rbc_measure found in one photo. */
struct rbc_size {
	double diameter;        /* typical red-cell diameter in pixels, or 0 */
	int cells;              /* cells within a factor 1.5 of the mode */
	double spread;          /* their interquartile range over median */
};

/* Fewer cells than this and the photo gives no estimate. */
#define RBC_MIN_CELLS 3

/* Measure the red cells of the RGB (or RGB_LABEL) image IM into *S.
 * Returns 1, or 0 with S->diameter = 0 when too few cells were found. */
int rbc_measure(const struct img *im, struct rbc_size *s);

#endif
