/*
 * xent.h - the per-pixel gradient of the softmax cross-entropy, one
 * definition for every backend (a host function in C, a host and device
 * function in CUDA).
 *
 * D[0..K) gets S times the gradient with respect to the logits for one
 * pixel of probabilities P[0..K) and label Y: P - onehot(Y) for a class,
 * and for a partial label Y >= K (its member classes the bits of SETS[Y])
 * P minus P renormalised over the members, the gradient of -log of their
 * summed probability.  S = 0 (an ignored pixel) gives zeros.
 */
#ifndef SMEARSEG_NN_XENT_H
#define SMEARSEG_NN_XENT_H

#include <stdint.h>

#ifdef __CUDACC__
#define XENT_FN __host__ __device__ static inline
#else
#define XENT_FN static inline
#endif

XENT_FN void
xent_pixel_grad(float *d, const float *p, int y, const uint32_t *sets,
    float s, int K)
{
	if (y < K || s == 0) {
		for (int k = 0; k < K; k++)
			d[k] = s * (p[k] - (k == y));
		return;
	}
	double ps = 0;
	for (int k = 0; k < K; k++)
		if (sets[y] >> k & 1)
			ps += p[k];
	for (int k = 0; k < K; k++)
		d[k] = s * (float)(p[k] - ((sets[y] >> k & 1) && ps > 0 ?
		    p[k] / ps : 0));
}

#endif
