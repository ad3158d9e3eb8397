/*
 * pointwise.cu - the memory-bound ops: max-pool, leaky ReLU, y += x,
 * group normalisation and Adam, each a grid-stride kernel over NHWC data
 * (lib/nn/cpu/pointwise.c is the twin).  Reductions (group statistics,
 * gamma and beta gradients) sum in double in a fixed order: one block
 * per group with a tree in shared memory, and per-part partial sums added
 * in part order, so the results do not change from run to run.
 */
#include <math.h>

#include "nn/cuda/common.cuh"

// --- 2x2 max-pool -----------------------------------------------------------

template <typename I>
__global__ static void
maxpool_fwd(float *out, const float *inp, int B, int H, int W, int C)
{
	int Ho = H / 2, Wo = W / 2;
	size_t n = (size_t)B * Ho * Wo * C;

	GRID_STRIDE_I(I, i, n) {
		I p = i / C, q = p / Wo;
		int c = (int)(i - p * C), x = (int)(p - q * Wo);
		int b = (int)(q / Ho), y = (int)(q - (I)b * Ho);
		const float *p00 = inp + (((size_t)b * H + 2 * y) * W + 2 * x) *
		    C + c;
		float m = p00[0];
		m = p00[C] > m ? p00[C] : m;
		m = p00[(size_t)W * C] > m ? p00[(size_t)W * C] : m;
		m = p00[(size_t)W * C + C] > m ? p00[(size_t)W * C + C] : m;
		out[i] = m;
	}
}

/* Each output gradient goes to the first maximum of its window in row-
 * major order; the other three inputs get 0. */
template <typename I>
__global__ static void
maxpool_bwd(float *dinp, const float *dout, const float *inp,
    const float *out, int B, int H, int W, int C)
{
	int Ho = H / 2, Wo = W / 2;
	size_t n = (size_t)B * Ho * Wo * C;

	GRID_STRIDE_I(I, i, n) {
		I p = i / C, q = p / Wo;
		int c = (int)(i - p * C), x = (int)(p - q * Wo);
		int b = (int)(q / Ho), y = (int)(q - (I)b * Ho), hit = 0;
		size_t i00 = (((size_t)b * H + 2 * y) * W + 2 * x) * C + c;
		size_t idx[4] = { i00, i00 + C, i00 + (size_t)W * C,
		    i00 + (size_t)W * C + C };
		for (int k = 0; k < 4; k++) {
			int win = !hit && inp[idx[k]] == out[i];
			dinp[idx[k]] = win ? dout[i] : 0;
			hit |= win;
		}
	}
}

void
cuda_maxpool2x2_forward(float *out, const float *inp, int B, int H, int W,
    int C)
{
	LAUNCH_INDEXED(maxpool_fwd, (size_t)B * (H / 2) * (W / 2) * C, out,
	    inp, B, H, W, C);
}

void
cuda_maxpool2x2_backward(float *dinp, const float *dout, const float *inp,
    const float *out, int B, int H, int W, int C)
{
	LAUNCH_INDEXED(maxpool_bwd, (size_t)B * (H / 2) * (W / 2) * C, dinp,
	    dout, inp, out, B, H, W, C);
}

// --- leaky ReLU, add ----------------------------------------------------------

__global__ static void
act_fwd(float *out, const float *inp, size_t n, float alpha)
{
	GRID_STRIDE(i, n)
		out[i] = inp[i] > 0 ? inp[i] : alpha * inp[i];
}

__global__ static void
act_bwd(float *dinp, const float *dout, const float *out, size_t n,
    float alpha)
{
	GRID_STRIDE(i, n)
		dinp[i] = out[i] > 0 ? dout[i] : alpha * dout[i];
}

__global__ static void
add_kernel(float *y, const float *x, size_t n)
{
	GRID_STRIDE(i, n)
		y[i] += x[i];
}

void
cuda_act_forward(float *out, const float *inp, size_t n, float alpha)
{
	act_fwd<<<nblocks(n), THREADS, 0, cuda_stream>>>(out, inp, n, alpha);
	KERNEL_CHECK();
}

void
cuda_act_backward(float *dinp, const float *dout, const float *out,
    size_t n, float alpha)
{
	act_bwd<<<nblocks(n), THREADS, 0, cuda_stream>>>(dinp, dout, out, n,
	    alpha);
	KERNEL_CHECK();
}

void
cuda_add(float *y, const float *x, size_t n)
{
	add_kernel<<<nblocks(n), THREADS, 0, cuda_stream>>>(y, x, n);
	KERNEL_CHECK();
}

// --- group normalisation ----------------------------------------------------

/* Sum of A (one value per thread of the block) in double, by a fixed
 * tree; the result in thread 0. */
__device__ static double
block_sum(double a, double *sh)
{
	sh[threadIdx.x] = a;
	__syncthreads();
	for (int s = blockDim.x / 2; s > 0; s >>= 1) {
		if (threadIdx.x < s)
			sh[threadIdx.x] += sh[threadIdx.x + s];
		__syncthreads();
	}
	a = sh[0];
	__syncthreads();
	return a;
}

/* One block per (sample b, group g): mean and rstd over its HW * C/G
 * values, two passes as PyTorch (the biased variance). */
__global__ static void
gn_stats(float *mean, float *rstd, const float *inp, int HW, int C, int G,
    float eps)
{
	__shared__ double sh[THREADS];
	int b = blockIdx.x / G, g = blockIdx.x % G, cg = C / G;
	size_t n = (size_t)HW * cg;
	const float *x = inp + (size_t)b * HW * C + (size_t)g * cg;
	double s = 0, v = 0, mu;

	// n < 2^32: a sample's pixels times a group's channels
	for (unsigned i = threadIdx.x; i < n; i += blockDim.x)
		s += x[(size_t)(i / cg) * C + i % cg];
	mu = block_sum(s, sh) / n;
	for (unsigned i = threadIdx.x; i < n; i += blockDim.x) {
		double d = x[(size_t)(i / cg) * C + i % cg] - mu;
		v += d * d;
	}
	v = block_sum(v, sh) / n;
	if (threadIdx.x == 0) {
		mean[blockIdx.x] = (float)mu;
		rstd[blockIdx.x] = (float)(1 / sqrt(v + eps));
	}
}

template <typename I>
__global__ static void
gn_apply(float *out, const float *inp, const float *mean, const float *rstd,
    const float *gamma, const float *beta, int B, int HW, int C, int G)
{
	size_t n = (size_t)B * HW * C;

	GRID_STRIDE_I(I, i, n) {
		I p = i / C;
		int c = (int)(i - p * C), b = (int)(p / HW);
		int bg = b * G + c / (C / G);
		float a = rstd[bg] * gamma[c];
		out[i] = inp[i] * a + (beta[c] - mean[bg] * a);
	}
}

void
cuda_groupnorm_forward(float *out, float *mean, float *rstd,
    const float *inp, const float *gamma, const float *beta,
    int B, int HW, int C, int G, float eps)
{
	gn_stats<<<B * G, THREADS, 0, cuda_stream>>>(mean, rstd, inp, HW, C,
	    G, eps);
	KERNEL_CHECK();
	LAUNCH_INDEXED(gn_apply, (size_t)B * HW * C, out, inp, mean, rstd,
	    gamma, beta, B, HW, C, G);
}

/*
 * With xhat = (x - mean) * rstd, dxhat = dout * gamma and n = HW * C/G:
 *   dinp = rstd * (dxhat - mean_g(dxhat) - xhat * mean_g(dxhat * xhat)),
 * the group means by one block per (b, g); dgamma[c] += sum dout * xhat
 * and dbeta[c] += sum dout over every pixel of every sample, by partial
 * sums per (part of the rows, channel) added in part order.
 */
__global__ static void
gn_bwd_group(float *k, const float *dout, const float *inp,
    const float *mean, const float *rstd, const float *gamma, int HW, int C,
    int G)
{
	__shared__ double sh[THREADS];
	int b = blockIdx.x / G, g = blockIdx.x % G, cg = C / G;
	size_t n = (size_t)HW * cg, off = (size_t)b * HW * C + (size_t)g * cg;
	double mu = mean[blockIdx.x], rs = rstd[blockIdx.x], s1 = 0, s2 = 0;

	for (unsigned i = threadIdx.x; i < n; i += blockDim.x) {
		size_t j = off + (size_t)(i / cg) * C + i % cg;
		double dxh = (double)dout[j] * gamma[g * cg + i % cg];
		s1 += dxh;
		s2 += dxh * (inp[j] - mu) * rs;
	}
	s1 = block_sum(s1, sh);
	s2 = block_sum(s2, sh);
	if (threadIdx.x == 0) {
		k[2 * blockIdx.x] = (float)(s1 / n);
		k[2 * blockIdx.x + 1] = (float)(s2 / n);
	}
}

template <typename I>
__global__ static void
gn_bwd_apply(float *dinp, const float *k, const float *dout,
    const float *inp, const float *mean, const float *rstd,
    const float *gamma, int B, int HW, int C, int G)
{
	size_t n = (size_t)B * HW * C;

	GRID_STRIDE_I(I, i, n) {
		I p = i / C;
		int c = (int)(i - p * C), b = (int)(p / HW);
		int bg = b * G + c / (C / G);
		float rs = rstd[bg], xh = (inp[i] - mean[bg]) * rs;
		dinp[i] = rs * (dout[i] * gamma[c] - k[2 * bg] -
		    xh * k[2 * bg + 1]);
	}
}

/* part[p][c] = (sum dout * xhat, sum dout) over rows p*N/P .. of channel
 * c: a block of 32 channels x 8 row lanes per (channel group, part),
 * the lanes added in lane order. */
__global__ static void
gn_param_part(double *part, const float *dout, const float *inp,
    const float *mean, const float *rstd, int B, int HW, int C, int G,
    int P)
{
	__shared__ double s[2][8][33];
	int c = blockIdx.x * 32 + threadIdx.x, p = blockIdx.y, cg = C / G;
	size_t N = (size_t)B * HW;
	size_t n0 = N * p / P, n1 = N * (p + 1) / P;
	double sg = 0, sb = 0;

	if (c < C) {
		size_t r = n0 + threadIdx.y;
		int b = (int)(r / HW), inb = (int)(r - (size_t)b * HW);
		for (; r < n1; r += 8) {
			int bg = b * G + c / cg;
			double d = dout[r * C + c];
			sg += d * (inp[r * C + c] - mean[bg]) * rstd[bg];
			sb += d;
			for (inb += 8; inb >= HW; inb -= HW)
				b++;
		}
	}
	s[0][threadIdx.y][threadIdx.x] = sg;
	s[1][threadIdx.y][threadIdx.x] = sb;
	__syncthreads();
	if (threadIdx.y == 0 && c < C) {
		for (int k = 1; k < 8; k++) {
			sg += s[0][k][threadIdx.x];
			sb += s[1][k][threadIdx.x];
		}
		part[((size_t)p * C + c) * 2] = sg;
		part[((size_t)p * C + c) * 2 + 1] = sb;
	}
}

__global__ static void
gn_param_final(float *dgamma, float *dbeta, const double *part, int C, int P)
{
	int c = blockIdx.x * blockDim.x + threadIdx.x;
	double sg = 0, sb = 0;

	if (c >= C)
		return;
	for (int p = 0; p < P; p++) {
		sg += part[((size_t)p * C + c) * 2];
		sb += part[((size_t)p * C + c) * 2 + 1];
	}
	dgamma[c] += (float)sg;
	dbeta[c] += (float)sb;
}

void
cuda_groupnorm_backward(float *dinp, float *dgamma, float *dbeta,
    const float *dout, const float *inp, const float *mean,
    const float *rstd, const float *gamma, int B, int HW, int C, int G)
{
	int P = cuda_sum_parts((size_t)B * HW);
	float *k = cuda_scratch(1, (size_t)2 * B * G * sizeof(float));
	double *part = (double *)cuda_scratch(3, (size_t)P * C * 2 *
	    sizeof(double));

	gn_bwd_group<<<B * G, THREADS, 0, cuda_stream>>>(k, dout, inp, mean,
	    rstd, gamma, HW, C, G);
	KERNEL_CHECK();
	LAUNCH_INDEXED(gn_bwd_apply, (size_t)B * HW * C, dinp, k, dout, inp,
	    mean, rstd, gamma, B, HW, C, G);
	gn_param_part<<<dim3((C + 31) / 32, P), dim3(32, 8), 0, cuda_stream>>>(
	    part, dout, inp, mean, rstd, B, HW, C, G, P);
	KERNEL_CHECK();
	gn_param_final<<<(C + 127) / 128, 128, 0, cuda_stream>>>(dgamma, dbeta,
	    part, C, P);
	KERNEL_CHECK();
}

// --- Adam -------------------------------------------------------------------

/* AdamW in the CPU's order and float arithmetic (cpu/pointwise.c). */
__global__ static void
adam_kernel(float *p, float *m, float *v, const float *g, size_t n, float lr,
    float beta1, float beta2, float eps, float wd, float step, float sbc2)
{
	GRID_STRIDE(i, n) {
		float pi = p[i] * (1 - lr * wd);
		float mi = beta1 * m[i] + (1 - beta1) * g[i];
		float vi = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
		m[i] = mi;
		v[i] = vi;
		p[i] = pi - step * mi / (sqrtf(vi) / sbc2 + eps);
	}
}

void
cuda_adam_update(float *p, float *m, float *v, const float *g, size_t n,
    float lr, float beta1, float beta2, float eps, float wd, long t)
{
	double bc1 = 1 - pow(beta1, (double)t), bc2 = 1 - pow(beta2, (double)t);

	adam_kernel<<<nblocks(n), THREADS, 0, cuda_stream>>>(p, m, v, g, n, lr,
	    beta1, beta2, eps, wd, (float)(lr / bc1), (float)sqrt(bc2));
	KERNEL_CHECK();
}
