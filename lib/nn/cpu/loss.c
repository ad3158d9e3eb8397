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
 *
 * Partial labels: a label value V >= K with SETS[V] != 0 says "one of the
 * classes in the bit set SETS[V]" (a white cell of unknown type).  Its
 * loss is -log of the members' summed probability, with the mean of
 * their weights; its gradient is p_k - [k in S] p_k / sum_S p, which for
 * a set of one class is the ordinary p_k - [k = y].
 */
#include <math.h>

#include "nn/cpu/cpu.h"
#include "nn/xent.h"

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

/* The weight of each label value: class_w for a class, the mean of the
 * members' for a partial label, 0 for the ignore label and values outside
 * both. */
static void
label_weights(float *lw, const float *class_w, const uint32_t *sets, int K)
{
	for (int v = 0; v < 256; v++) {
		double s = 0;
		int n = 0;
		lw[v] = v < K ? class_w[v] : 0;
		if (v < K || sets == NULL || v == NN_IGNORE_LABEL)
			continue;
		for (int k = 0; k < K; k++)
			if (sets[v] >> k & 1) {
				s += class_w[k];
				n++;
			}
		lw[v] = n ? (float)(s / n) : 0;
	}
}

/* log of the summed exp(z_k - mx) over the members of SET. */
static double
log_set_sum(const float *z, float mx, uint32_t set, int K)
{
	double s = 0;

	for (int k = 0; k < K; k++)
		if (set >> k & 1)
			s += exp((double)z[k] - mx);
	return log(s);
}

void
cpu_xent_forward(float *probs, double *sums, const float *logits,
    const uint8_t *labels, const float *class_w, const uint32_t *sets,
    int N, int K)
{
	double sce = 0, sw = 0;
	float lw[256];

	label_weights(lw, class_w, sets, K);

	#pragma omp parallel for schedule(static) reduction(+:sce, sw) \
	    if ((size_t)N * K >= CPU_PAR_MIN)
	for (int n = 0; n < N; n++) {
		const float *z = logits + (size_t)n * K;
		double lse = softmax_row(probs + (size_t)n * K, z, K);
		int y = labels[n];
		if (lw[y] == 0)
			continue;
		if (y < K) {
			// CE = logsumexp(z) - z[y], in double for the golden test
			sce += lw[y] * (lse - z[y]);
		} else {
			float mx = z[0];
			for (int k = 1; k < K; k++)
				mx = z[k] > mx ? z[k] : mx;
			sce += lw[y] * (lse - mx - log_set_sum(z, mx, sets[y], K));
		}
		sw += lw[y];
	}
	sums[0] = sce;
	sums[1] = sw;
}

void
cpu_xent_backward(float *dlogits, const float *probs, const uint8_t *labels,
    const float *class_w, const uint32_t *sets, float scale, int N, int K)
{
	float lw[256];

	label_weights(lw, class_w, sets, K);
	#pragma omp parallel for schedule(static) \
	    if ((size_t)N * K >= CPU_PAR_MIN)
	for (int n = 0; n < N; n++) {
		int y = labels[n];

		xent_pixel_grad(dlogits + (size_t)n * K, probs + (size_t)n * K,
		    y, sets, scale * lw[y], K);
	}
}
