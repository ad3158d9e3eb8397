/*
 * classweights.h - the loss's class weights against class imbalance.
 *
 * Median frequency balancing (Eigen & Fergus 2015): w_c = median(f) / f_c
 * over the classes present in the training labels, so that the median
 * class has weight 1.  The weights are then clipped to [1/M, M], M =
 * class_weight_max of the config (default 10, so at most 100x between
 * classes; the reference's raw inverse frequencies spanned 772x and made
 * the loss noisy).  inv_sqrt_freq uses sqrt(median / f_c) instead; none
 * gives all 1.  A class absent from the training tiles gets weight M,
 * which only matters if it appears in a batch.
 */
#ifndef SMEARSEG_CLASSWEIGHTS_H
#define SMEARSEG_CLASSWEIGHTS_H

#include <stdint.h>

#include "nn/config.h"

/* W[0..k) from the scored pixels COUNTS[0..k) of each class, k at most
 * CLASS_MAX (classes.h). */
void class_weights(float *w, const uint64_t *counts, int k,
    enum unet_cw scheme, double wmax);

#endif
