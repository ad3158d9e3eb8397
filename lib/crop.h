/*
 * crop.h - cut a segmented cell out of a photo as a cell sample.
 *
 * A cell sample (share/doc/design.md) is a PAM RGB_ALPHA image at the 40x scale:
 * alpha 255 on the cell, 0 around it, the cell one 8-connected component
 * without holes, and a few transparent pixels of margin around its box.
 * Resampling happens once, from the source photo straight to the sample:
 * the colours by area averaging when shrinking (bilinear when enlarging),
 * the mask by the same weights and then a threshold at one half, so that
 * the alpha plane is never soft.  A pixel on the cell's edge mixes the
 * cell with what surrounds it in the photo, unless CROP_OWN_COLOUR: then
 * it takes the colour of the cell's part alone (for cells cut out onto
 * black, whose surroundings are no plasma).
 */
#ifndef SMEARSEG_CROP_H
#define SMEARSEG_CROP_H

#include "image.h"
#include "mask.h"
#include "segment.h"

#define CROP_OWN_COLOUR 1        /* edge pixels: the cell's colour alone */

/* Cut the cell marked in MASK (0/1, one byte per pixel of IM) out of the
 * RGB image IM, scaled by SCALE, with MARGIN transparent pixels on every
 * side of the cell's box, into OUT (allocated here, no metadata); FLAGS
 * is 0 or CROP_OWN_COLOUR.  If the
 * mask holds several pieces at the new scale, the largest is kept.  CELL,
 * if not NULL, gets the box (in OUT) and the area of the cell's alpha.
 * Returns SEG_OK, or SEG_NO_CELL if MASK is empty or the cell vanishes at
 * the new scale (OUT and CELL are then left alone). */
enum seg_result crop_sample(struct img *out, const struct img *im,
    const unsigned char *mask, double scale, int margin, int flags,
    struct mask_box *cell);

#endif
