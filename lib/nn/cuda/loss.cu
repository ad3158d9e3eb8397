/*
 * loss.cu - per-pixel softmax and class-weighted softmax cross-entropy
 * with partial labels, as lib/nn/cpu/loss.c (whose comment gives the
 * formulas): a label V >= K with sets[V] != 0 stands for any class of the
 * bit set sets[V], scores -log of its members' summed probability, and
 * weighs the mean of their class weights.
 *
 * The loss is reduced on the device: one thread per pixel, a double
 * partial sum per block by a fixed tree, the blocks' partial sums added
 * in block order by one more block, and ONE small download of the two
 * sums (w*CE and w) that the caller needs on the host.
 */
#include <math.h>

#include "nn/cuda/common.cuh"
#include "nn/xent.h"

#define XENT_BLOCKS 1024

/* lw[v] for the 256 label values: class_w for a class, the mean of the
 * members' for a partial label, 0 for the ignore label and the rest. */
__global__ static void
label_weights(float *lw, const float *class_w, const uint32_t *sets, int K)
{
	int v = threadIdx.x;
	double s = 0;
	int n = 0;

	if (v < K) {
		lw[v] = class_w[v];
		return;
	}
	if (sets == NULL || v == NN_IGNORE_LABEL) {
		lw[v] = 0;
		return;
	}
	for (int k = 0; k < K; k++)
		if (sets[v] >> k & 1) {
			s += class_w[k];
			n++;
		}
	lw[v] = n ? (float)(s / n) : 0;
}

/* probs (K) = softmax(z (K)); returns log(sum exp(z - max)) + max, the
 * sum in double as the CPU's. */
__device__ static double
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

__global__ static void
softmax_kernel(float *probs, const float *logits, int N, int K)
{
	GRID_STRIDE(n, (size_t)N)
		softmax_row(probs + n * K, logits + n * K, K);
}

void
cuda_softmax_forward(float *probs, const float *logits, int N, int K)
{
	softmax_kernel<<<nblocks(N), THREADS, 0, cuda_stream>>>(probs, logits,
	    N, K);
	KERNEL_CHECK();
}

/* part[2*block] = sum w*CE, part[2*block+1] = sum w over the block's
 * pixels (grid-stride, so a fixed number of blocks). */
__global__ static void
xent_fwd(double *part, float *probs, const float *logits,
    const uint8_t *labels, const float *lw, const uint32_t *sets, int N,
    int K)
{
	__shared__ double sc[THREADS], sw[THREADS];
	double ce = 0, w = 0;

	GRID_STRIDE(n, (size_t)N) {
		const float *z = logits + n * K;
		double lse = softmax_row(probs + n * K, z, K);
		int y = labels[n];
		if (lw[y] == 0)
			continue;
		if (y < K) {
			ce += lw[y] * (lse - z[y]);
		} else {
			float mx = z[0];
			double s = 0;
			for (int k = 1; k < K; k++)
				mx = z[k] > mx ? z[k] : mx;
			for (int k = 0; k < K; k++)
				if (sets[y] >> k & 1)
					s += exp((double)z[k] - mx);
			ce += lw[y] * (lse - mx - log(s));
		}
		w += lw[y];
	}
	sc[threadIdx.x] = ce;
	sw[threadIdx.x] = w;
	__syncthreads();
	for (int s = blockDim.x / 2; s > 0; s >>= 1) {
		if (threadIdx.x < s) {
			sc[threadIdx.x] += sc[threadIdx.x + s];
			sw[threadIdx.x] += sw[threadIdx.x + s];
		}
		__syncthreads();
	}
	if (threadIdx.x == 0) {
		part[2 * blockIdx.x] = sc[0];
		part[2 * blockIdx.x + 1] = sw[0];
	}
}

__global__ static void
xent_final(double *sums, const double *part, int nb)
{
	double a = 0, b = 0;

	for (int i = 0; i < nb; i++) {
		a += part[2 * i];
		b += part[2 * i + 1];
	}
	sums[0] = a;
	sums[1] = b;
}

/* The label weights in scratch: 256 floats after 2*XENT_BLOCKS+2 doubles
 * of partial and final sums. */
static float *
xent_scratch(double **part, const float *class_w, const uint32_t *sets,
    int K)
{
	size_t off = (2 * XENT_BLOCKS + 2) * sizeof(double);
	char *s = (char *)cuda_scratch(2, off + 256 * sizeof(float));
	float *lw = (float *)(s + off);

	*part = (double *)s;
	label_weights<<<1, 256, 0, cuda_stream>>>(lw, class_w, sets, K);
	KERNEL_CHECK();
	return lw;
}

void
cuda_xent_forward(float *probs, double *sums, const float *logits,
    const uint8_t *labels, const float *class_w, const uint32_t *sets,
    int N, int K)
{
	double *part;
	float *lw = xent_scratch(&part, class_w, sets, K);
	unsigned nb = nblocks(N) < XENT_BLOCKS ? nblocks(N) : XENT_BLOCKS;

	xent_fwd<<<nb, THREADS, 0, cuda_stream>>>(part, probs, logits, labels,
	    lw, sets, N, K);
	KERNEL_CHECK();
	xent_final<<<1, 1, 0, cuda_stream>>>(part + 2 * XENT_BLOCKS, part, nb);
	KERNEL_CHECK();
	cuda_download(sums, part + 2 * XENT_BLOCKS, 2 * sizeof(double));
}

__global__ static void
xent_bwd(float *dlogits, const float *probs, const uint8_t *labels,
    const float *lw, const uint32_t *sets, float scale, int N, int K)
{
	GRID_STRIDE(n, (size_t)N) {
		int y = labels[n];

		xent_pixel_grad(dlogits + n * K, probs + n * K, y, sets,
		    scale * lw[y], K);
	}
}

void
cuda_xent_backward(float *dlogits, const float *probs, const uint8_t *labels,
    const float *class_w, const uint32_t *sets, float scale, int N, int K)
{
	double *part;
	float *lw = xent_scratch(&part, class_w, sets, K);

	xent_bwd<<<nblocks(N), THREADS, 0, cuda_stream>>>(dlogits, probs,
	    labels, lw, sets, scale, N, K);
	KERNEL_CHECK();
}
