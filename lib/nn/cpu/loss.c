/*
 * loss.c - per-pixel softmax and weighted softmax cross-entropy.
 *
 * Normalisation: the loss is the class-weighted MEAN over scored pixels,
 *   L = sum_p w[y_p] * CE_p / sum_p w[y_p],   p not labelled 255,
 * which is PyTorch's cross_entropy(weight=w, ignore_index=255,
 * reduction="mean").  It is bounded by the largest per-pixel CE whatever
 * the weights or the class mix of a batch, unlike the reference's division
 * by the pixel count, where a batch with many heavy-weight pixels gave a
 * loss (and a step) hundreds of times larger.  The kernels return the two
 * sums rather than the quotient so that data-parallel training can divide
 * by the sum over all ranks.
 */
#include <math.h>

#include "nn/cpu/cpu.h"

/* probs (K) = softmax(z (K)); returns log(sum exp(z - max)) + max. */
static double
softmax_row(float *probs, const float *z, int K)
{
	float mx = z[0];
	double s = 0;

	for (int k = 1; k < K; k++)
		mx = z[k] > mx ? z[k] : mx;
	for (int k = 0; k < K; k++)
		s += probs[k] = expf(z[k] - mx);
	for (int k = 0; k < K; k++)
		probs[k] = (float)(probs[k] / s);
	return log(s) + mx;
}

void
cpu_softmax_forward(float *probs, const float *logits, int N, int K)
{
	#pragma omp parallel for schedule(static) \
	    if ((size_t)N * K >= CPU_PAR_MIN)
	for (int n = 0; n < N; n++)
		softmax_row(probs + (size_t)n * K, logits + (size_t)n * K, K);
}

void
cpu_xent_forward(float *probs, double *sums, const float *logits,
    const uint8_t *labels, const float *class_w, int N, int K)
{
	double sce = 0, sw = 0;

	#pragma omp parallel for schedule(static) reduction(+:sce, sw) \
	    if ((size_t)N * K >= CPU_PAR_MIN)
	for (int n = 0; n < N; n++) {
		const float *z = logits + (size_t)n * K;
		double lse = softmax_row(probs + (size_t)n * K, z, K);
		int y = labels[n];
		if (y == NN_IGNORE_LABEL)
			continue;
		// CE = logsumexp(z) - z[y], in double for the golden test
		sce += class_w[y] * (lse - z[y]);
		sw += class_w[y];
	}
	sums[0] = sce;
	sums[1] = sw;
}

void
cpu_xent_backward(float *dlogits, const float *probs, const uint8_t *labels,
    const float *class_w, float scale, int N, int K)
{
	#pragma omp parallel for schedule(static) \
	    if ((size_t)N * K >= CPU_PAR_MIN)
	for (int n = 0; n < N; n++) {
		const float *p = probs + (size_t)n * K;
		float *d = dlogits + (size_t)n * K;
		int y = labels[n];
		float s = y == NN_IGNORE_LABEL ? 0 : scale * class_w[y];
		for (int k = 0; k < K; k++)
			d[k] = s * (p[k] - (k == y));
	}
}
