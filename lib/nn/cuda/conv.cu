/*
 * conv.cu - 3x3 SAME convolution, 1x1 convolution and 2x2 stride-2
 * transposed convolution on NHWC activations, forward and backward, as
 * im2col (or scatter / gather) kernels around cuBLAS GEMMs.  The method
 * is the CPU's (lib/nn/cpu/conv.c), without Winograd:
 *
 * 3x3: the pixels are processed in chunks of whole image rows; for each
 * chunk an im2col kernel writes every pixel's 3x3 neighbourhood over the
 * channel concat [inp | inp2] (9*(Cin+Cin2) values, tap major, zeros
 * outside the image) into a scratch matrix of at most col_floats() floats,
 * and one GEMM multiplies it by the [3][3][C][Cout] weights.  A second kernel
 * adds the bias and applies the leaky ReLU.  The input gradient is the
 * 3x3 conv of dout with the weights flipped in space and transposed in
 * channels, two products (dinp, dinp2) of one im2col; the weight gradient
 * is col^T dout per chunk, accumulated by the GEMM's beta = 1.
 *
 * 1x1: one GEMM over the (N, Cin) pixel matrix.
 *
 * 2x2 stride 2 transposed: out = scatter(inp * w) with w viewed as (Cin,
 * 4*Cout); the backward pass gathers the 2x2 blocks of dout into rows of
 * 4*Cout and does the two transposed products.
 */
#include <stdlib.h>

#include "nn/cuda/common.cuh"

/* Floats of one im2col / scatter chunk: 1 GiB or a quarter of the free
 * device memory, whichever is less, or SMEARSEG_CUDA_COL_MIB MiB (for
 * tuning).  On an H200, 64 MiB chunks (which stay in its 60 MiB L2 cache
 * between the kernel that writes a chunk and the GEMM that reads it) ran
 * the reference network 18 to 23 % slower than 1 GiB ones: fewer, larger
 * GEMMs and launches win over the cache. */
static size_t
col_floats(void)
{
	static size_t n;
	size_t freeb, total;
	const char *e;

	if (n == 0) {
		n = (size_t)1 << 28;
		CUDA_CHECK(cudaMemGetInfo(&freeb, &total));
		if (n > freeb / 16)
			n = freeb / 16;
		if ((e = getenv("SMEARSEG_CUDA_COL_MIB")) != NULL && atoi(e) > 0)
			n = (size_t)atoi(e) << 18;
		if (n < (size_t)1 << 20)
			n = (size_t)1 << 20;
		if (n > (size_t)1 << 29)
			n = (size_t)1 << 29;
	}
	return n;
}

/* Rows (of W pixels, K values each) per chunk under the budget. */
static int
chunk_rows(int nrows, int W, size_t K)
{
	size_t r = col_floats() / ((size_t)W * K);

	if (r < 1)
		r = 1;
	return r > (size_t)nrows ? nrows : (int)r;
}

// --- 3x3 convolution --------------------------------------------------------

/*
 * col (R*W, 9*(C1+C2)) from rows r0.. of [in1 | in2] (B*H rows of W):
 * thread i copies one vector of V channels (V = 4: float4, where C1, C2
 * and the pointers allow) of one pixel to its 9 places in col, the
 * pixel's own row in the 3x3 neighbourhoods of it and its 8 neighbours
 * turned round: col[(px, t, c)] = in[px + offset(t), c], zero outside
 * the image.  Indices are 32-bit (a chunk has < 2^31 values) and there
 * are three divisions per thread, not one per value: 64-bit division is
 * a long subroutine on a GPU, and it was most of this kernel's time.
 */
template <typename T>
__global__ static void
im2col3x3(T *col, int ld, const T *in1, int c1, const T *in2, int c2,
    int r0, int R, int H, int W)
{
	int cv = c1 + c2;
	unsigned n = (unsigned)R * W * cv;

	GRID_STRIDE_I(unsigned, i, n) {
		unsigned px = i / cv;
		int c = (int)(i - px * cv), rowi = (int)(px / W);
		int x = (int)px - rowi * W, row = r0 + rowi, b = row / H;
		int y = row - b * H;
		T *dst = col + (size_t)px * ld + c;
#pragma unroll
		for (int t = 0; t < 9; t++) {
			int yy = y + t / 3 - 1, xx = x + t % 3 - 1;
			T v;
			if (yy >= 0 && yy < H && xx >= 0 && xx < W) {
				size_t q = ((size_t)b * H + yy) * W + xx;
				v = c < c1 ? in1[q * c1 + c] :
				    in2[q * c2 + c - c1];
			} else
				v = zero_of<T>();
			dst[t * cv] = v;
		}
		if (c == cv - 1)        /* the row's padding, if any */
			for (int k = 9 * cv - c; k < ld - c; k++)
				dst[k] = zero_of<T>();
	}
}

/* The row length of an im2col matrix of K values per pixel: K where it
 * is whole float4s, else K rounded up to 8 (the first layer's 27).
 * cuBLAS reads rows of a length that is not a multiple of 16 bytes with
 * its slow kernels: 30 times slower here, on the 3-channel input. */
static size_t
padded_k(size_t K)
{
	return K % 4 == 0 ? K : (K + 7) & ~(size_t)7;
}

/* im2col3x3 into rows of padded_k(9 * (C1 + C2)) floats, with float4
 * where every row of in1, in2 and col is whole float4s, float otherwise. */
static void
im2col(float *col, const float *in1, int C1, const float *in2, int C2,
    int r0, int R, int H, int W)
{
	size_t px = (size_t)R * W;
	int ld = (int)padded_k((size_t)9 * (C1 + C2));

	if (C1 % 4 == 0 && C2 % 4 == 0 && aligned16(in1) && aligned16(in2) &&
	    aligned16(col)) {
		im2col3x3<float4><<<nblocks(px * (C1 + C2) / 4), THREADS, 0,
		    cuda_stream>>>((float4 *)col, ld / 4, (const float4 *)in1,
		    C1 / 4, (const float4 *)in2, C2 / 4, r0, R, H, W);
	} else {
		im2col3x3<float><<<nblocks(px * (C1 + C2)), THREADS, 0,
		    cuda_stream>>>(col, ld, in1, C1, in2, C2, r0, R, H, W);
	}
	KERNEL_CHECK();
}

/* The weights W (K rows of LDW floats, N used) with rows of zeros up to
 * padded_k(K), in scratch: the other side of a padded im2col. */
static const float *
padded_weights(const float *w, int ldw, int N, size_t K)
{
	size_t Kp = padded_k(K);
	float *wp;

	if (Kp == K)
		return w;
	wp = cuda_scratch(4, Kp * N * sizeof(float));
	CUDA_CHECK(cudaMemcpy2DAsync(wp, (size_t)N * sizeof(float), w,
	    (size_t)ldw * sizeof(float), (size_t)N * sizeof(float), K,
	    cudaMemcpyDeviceToDevice, cuda_stream));
	CUDA_CHECK(cudaMemsetAsync(wp + K * N, 0, (Kp - K) * N * sizeof(float),
	    cuda_stream));
	return wp;
}

/* y (M, N) = leaky ReLU of slope alpha of y + bias (bias may be NULL;
 * alpha 1: none), V channels per thread. */
template <typename T>
__global__ static void
bias_act(T *y, const T *bias, unsigned M, int N, float alpha)
{
	unsigned n = M * N;

	GRID_STRIDE_I(unsigned, i, n) {
		T v = y[i];
		if (bias != NULL)
			v = v + bias[i % N];
		y[i] = leaky(v, alpha);
	}
}

static void
bias_act_rows(float *y, const float *bias, size_t M, int N, float alpha)
{
	if ((size_t)M * N >= (size_t)1 << 31)
		die("conv output chunk of %zu values: too large", M * N);
	if (N % 4 == 0 && aligned16(y) && aligned16(bias))
		bias_act<float4><<<nblocks(M * N / 4), THREADS, 0,
		    cuda_stream>>>((float4 *)y, (const float4 *)bias,
		    (unsigned)M, N / 4, alpha);
	else
		bias_act<float><<<nblocks(M * N), THREADS, 0, cuda_stream>>>(
		    y, bias, (unsigned)M, N, alpha);
	KERNEL_CHECK();
}

/* out (N rows of C) = bias, row by row. */
template <typename I>
__global__ static void
fill_rows(float *out, const float *bias, size_t N, int C)
{
	GRID_STRIDE_I(I, i, N * C)
		out[i] = bias[i % (I)C];
}

/* One product of a 3x3 conv over [in1 | in2]: out (pixels, N, row stride
 * N) = conv with w (9*(C1+C2) rows of ldw floats, N used). */
struct conv_out {
	float *out;
	const float *w;
	int ldw, N;
	const float *bias;
	float alpha;
};

static void
conv3x3(const struct conv_out *o, int nout, const float *in1, int C1,
    const float *in2, int C2, int B, int H, int W)
{
	size_t K = (size_t)9 * (C1 + C2), Kp = padded_k(K);
	int nrows = B * H, R = chunk_rows(nrows, W, Kp);
	float *col = cuda_scratch(0, (size_t)R * W * Kp * sizeof(float));

	for (int r0 = 0; r0 < nrows; r0 += R) {
		int rr = nrows - r0 < R ? nrows - r0 : R, M = rr * W;
		im2col(col, in1, C1, in2, C2, r0, rr, H, W);
		for (int j = 0; j < nout; j++) {
			float *y = o[j].out + (size_t)r0 * W * o[j].N;
			const float *w = padded_weights(o[j].w, o[j].ldw,
			    o[j].N, K);
			gpu_sgemm(0, 0, M, o[j].N, (int)Kp, 1, col, (int)Kp,
			    w, w == o[j].w ? o[j].ldw : o[j].N, 0, y, o[j].N);
			if (o[j].bias != NULL || o[j].alpha != 1)
				bias_act_rows(y, o[j].bias, (size_t)M, o[j].N,
				    o[j].alpha);
		}
	}
}

/*
 * The first layer (3 channels in: 27 products per output) needs no
 * im2col matrix, whose rows would be mostly padding: a thread per pixel
 * gathers its 9 * C inputs and keeps its Cout outputs (Cout <= MAXN) in
 * registers, the weights in shared memory (1.8 ms for 64 images of
 * 224x224 on an H200).
 */
#define DIRECT_K 32

template <int MAXN>
__global__ static void
conv3x3_direct(float *out, const float *in, int C, const float *w,
    const float *bias, int B, int H, int W, int N, float alpha)
{
	__shared__ float sw[DIRECT_K * MAXN];
	int K = 9 * C, npx = B * H * W;

	for (int k = threadIdx.x; k < K * N; k += blockDim.x)
		sw[k] = w[k];
	__syncthreads();
	GRID_STRIDE_I(int, p, npx) {
		int row = p / W, x = p - row * W, b = row / H;
		int y = row - b * H;
		float acc[MAXN];
#pragma unroll
		for (int j = 0; j < MAXN; j++)
			acc[j] = j < N && bias != NULL ? bias[j] : 0.0f;
		for (int t = 0; t < 9; t++) {
			int yy = y + t / 3 - 1, xx = x + t % 3 - 1;
			if (yy < 0 || yy >= H || xx < 0 || xx >= W)
				continue;
			const float *ip = in + (((size_t)b * H + yy) * W + xx) *
			    C;
			for (int c = 0; c < C; c++) {
				float v = ip[c];
				const float *wr = sw + (t * C + c) * N;
#pragma unroll
				for (int j = 0; j < MAXN; j++)
					if (j < N)
						acc[j] += v * wr[j];
			}
		}
		float *op = out + (size_t)p * N;
#pragma unroll
		for (int j = 0; j < MAXN; j++)
			if (j < N)
				op[j] = acc[j] > 0 ? acc[j] : alpha * acc[j];
	}
}

void
cuda_conv3x3_forward(float *out, const float *inp, const float *inp2,
    const float *w, const float *bias, int B, int H, int W, int Cin,
    int Cin2, int Cout, float alpha)
{
	struct conv_out o = { out, w, Cout, Cout, bias, alpha };
	size_t npx = (size_t)B * H * W;

	if (9 * (Cin + Cin2) <= DIRECT_K && Cin2 == 0 && Cout <= 64 &&
	    npx < (size_t)1 << 31) {
		unsigned nb = (unsigned)((npx + 127) / 128 < 8192 ?
		    (npx + 127) / 128 : 8192);
		if (Cout <= 32)
			conv3x3_direct<32><<<nb, 128, 0, cuda_stream>>>(out, inp,
			    Cin, w, bias, B, H, W, Cout, alpha);
		else
			conv3x3_direct<64><<<nb, 128, 0, cuda_stream>>>(out, inp,
			    Cin, w, bias, B, H, W, Cout, alpha);
		KERNEL_CHECK();
		return;
	}
	conv3x3(&o, 1, inp, Cin, inp2, Cin2, B, H, W);
}

/* wf[t][co][ci] = w[8-t][ci][co]: the input gradient's weights. */
__global__ static void
flip_weights(float *wf, const float *w, int C, int Cout)
{
	size_t n = (size_t)9 * C * Cout;

	GRID_STRIDE(i, n) {
		int t = (int)(i / ((size_t)C * Cout));
		int r = (int)(i % ((size_t)C * Cout)), co = r / C, ci = r % C;
		wf[i] = w[((size_t)(8 - t) * C + ci) * Cout + co];
	}
}

void
cuda_conv3x3_backward(float *dinp, float *dinp2, float *dw, float *dbias,
    const float *dout, const float *inp, const float *inp2, const float *w,
    int B, int H, int W, int Cin, int Cin2, int Cout)
{
	int C = Cin + Cin2, nrows = B * H;
	size_t K = (size_t)9 * C, Kp = padded_k(K);
	int R = chunk_rows(nrows, W, Kp);
	float *col = cuda_scratch(0, (size_t)R * W * Kp * sizeof(float));

	// dw (9C, Cout) += col^T (9C, M) dout (M, Cout), chunk by chunk; with
	// padded rows, into Kp rows of scratch (the padding's are 0), whose
	// first K are then added: a GEMM of 27 output rows ran 300 times
	// slower than one of 32 in BF16 on an H200
	float *dwp = dw;
	if (Kp != K) {
		dwp = cuda_scratch(4, Kp * Cout * sizeof(float));
		cuda_zero(dwp, Kp * Cout * sizeof(float));
	}
	for (int r0 = 0; r0 < nrows; r0 += R) {
		int rr = nrows - r0 < R ? nrows - r0 : R, M = rr * W;
		im2col(col, inp, Cin, inp2, Cin2, r0, rr, H, W);
		gpu_sgemm(1, 0, (int)Kp, Cout, M, 1, col, (int)Kp,
		    dout + (size_t)r0 * W * Cout, Cout, 1, dwp, Cout);
	}
	if (dwp != dw)
		cuda_add(dw, dwp, K * Cout);
	cuda_colsum_add(dbias, dout, (size_t)B * H * W, Cout);
	if (dinp == NULL && dinp2 == NULL)
		return;

	float *wf = cuda_scratch(1, K * Cout * sizeof(float));
	flip_weights<<<nblocks(K * Cout), THREADS, 0, cuda_stream>>>(wf, w, C,
	    Cout);
	KERNEL_CHECK();
	struct conv_out o[2];
	int n = 0;
	if (dinp != NULL)
		o[n++] = (struct conv_out){ dinp, wf, C, Cin, NULL, 1 };
	if (dinp2 != NULL)
		o[n++] = (struct conv_out){ dinp2, wf + Cin, C, Cin2, NULL, 1 };
	conv3x3(o, n, dout, Cout, NULL, 0, B, H, W);
}

// --- 1x1 convolution --------------------------------------------------------

/*
 * The network's head (32 channels to 10 classes) as a cuBLAS GEMM took
 * 4.2 ms for 64 images of 224x224 on an H200 (a row of 10 floats is not
 * whole 16-byte vectors); the kernel below, 0.7 ms.  Where one side has
 * at most SMALL_C channels and the other is not a multiple of 4, the
 * products are plain kernels: a thread per pixel for y = x M (M, at most
 * SMALL_C x SMALL_C, in shared memory), and for the weight gradient a
 * thread per weight summing its pixels in parts of fixed bounds, the
 * parts then added in order.  (The backward pass took 2.7 ms both ways.)
 */
#define SMALL_C 64

static int
small_1x1(int Cin, int Cout)
{
	return Cin <= SMALL_C && Cout <= SMALL_C && (Cin % 4 || Cout % 4);
}

/* y[p][j] = (bias ? bias[j] : 0) + sum_i x[p][i] m[i][j] for p < N, with
 * m (A x Bn, Bn <= MAXB) = w, or w^T where TRANS (w then Bn x A). */
template <int MAXB>
__global__ static void
rowmul(float *y, const float *x, const float *w, const float *bias, int N,
    int A, int Bn, int trans)
{
	__shared__ float m[SMALL_C * MAXB];
	float acc[MAXB];

	for (int k = threadIdx.x; k < A * Bn; k += blockDim.x) {
		int i = k / Bn, j = k % Bn;
		m[k] = trans ? w[j * A + i] : w[k];
	}
	__syncthreads();
	GRID_STRIDE_I(int, p, N) {
		const float *xp = x + (size_t)p * A;
#pragma unroll
		for (int j = 0; j < MAXB; j++)
			acc[j] = j < Bn && bias != NULL ? bias[j] : 0.0f;
		for (int i = 0; i < A; i++) {
			float v = xp[i];
#pragma unroll
			for (int j = 0; j < MAXB; j++)
				if (j < Bn)
					acc[j] += v * m[i * Bn + j];
		}
		float *yp = y + (size_t)p * Bn;
#pragma unroll
		for (int j = 0; j < MAXB; j++)
			if (j < Bn)
				yp[j] = acc[j];
	}
}

/* part[q][i][j] = sum over pixels q*N/P .. of x[p][i] d[p][j]: a block
 * per part, a thread per (i, j). */
__global__ static void
outer_part(double *part, const float *x, const float *d, int N, int A,
    int Bn, int P)
{
	int q = blockIdx.x, n0 = (int)((size_t)N * q / P);
	int n1 = (int)((size_t)N * (q + 1) / P);

	for (int k = threadIdx.x; k < A * Bn; k += blockDim.x) {
		int i = k / Bn, j = k % Bn;
		double a = 0;
		for (int p = n0; p < n1; p++)
			a += x[(size_t)p * A + i] * d[(size_t)p * Bn + j];
		part[(size_t)q * A * Bn + k] = a;
	}
}

__global__ static void
outer_final(float *dw, const double *part, int n, int P)
{
	GRID_STRIDE_I(int, k, n) {
		double a = 0;
		for (int q = 0; q < P; q++)
			a += part[(size_t)q * n + k];
		dw[k] += (float)a;
	}
}

static unsigned
row_blocks(int N)
{
	return (unsigned)((N + 127) / 128 < 4096 ? (N + 127) / 128 : 4096);
}

/* rowmul with the smallest register row that holds Bn outputs. */
static void
rowmul_any(float *y, const float *x, const float *w, const float *bias,
    int N, int A, int Bn, int trans)
{
	if (Bn <= 16)
		rowmul<16><<<row_blocks(N), 128, 0, cuda_stream>>>(y, x, w,
		    bias, N, A, Bn, trans);
	else if (Bn <= 32)
		rowmul<32><<<row_blocks(N), 128, 0, cuda_stream>>>(y, x, w,
		    bias, N, A, Bn, trans);
	else
		rowmul<SMALL_C><<<row_blocks(N), 128, 0, cuda_stream>>>(y, x,
		    w, bias, N, A, Bn, trans);
	KERNEL_CHECK();
}

void
cuda_conv1x1_forward(float *out, const float *inp, const float *w,
    const float *bias, int N, int Cin, int Cout)
{
	if (small_1x1(Cin, Cout)) {
		rowmul_any(out, inp, w, bias, N, Cin, Cout, 0);
		return;
	}
	LAUNCH_INDEXED(fill_rows, (size_t)N * Cout, out, bias, (size_t)N,
	    Cout);
	gpu_sgemm(0, 0, N, Cout, Cin, 1, inp, Cin, w, Cout, 1, out, Cout);
}

void
cuda_conv1x1_backward(float *dinp, float *dw, float *dbias,
    const float *dout, const float *inp, const float *w,
    int N, int Cin, int Cout)
{
	if (small_1x1(Cin, Cout)) {
		int P = cuda_sum_parts((size_t)N);
		double *part = (double *)cuda_scratch(3, (size_t)P * Cin *
		    Cout * sizeof(double));
		outer_part<<<P, 256, 0, cuda_stream>>>(part, inp, dout, N, Cin,
		    Cout, P);
		KERNEL_CHECK();
		outer_final<<<(Cin * Cout + 255) / 256, 256, 0, cuda_stream>>>(
		    dw, part, Cin * Cout, P);
		KERNEL_CHECK();
	} else {
		gpu_sgemm(1, 0, Cin, Cout, N, 1, inp, Cin, dout, Cout, 1, dw,
		    Cout);
	}
	cuda_colsum_add(dbias, dout, (size_t)N, Cout);
	if (dinp == NULL)
		return;
	if (small_1x1(Cin, Cout)) {
		rowmul_any(dinp, dout, w, NULL, N, Cout, Cin, 1);
	} else {
		gpu_sgemm(0, 1, N, Cin, Cout, 1, dout, Cout, w, Cout, 0, dinp,
		    Cin);
	}
}

// --- 2x2 stride-2 transposed convolution ------------------------------------

/*
 * Row i of tmp (R*W, 4*Cout) holds, for input pixel (r0 + i / W, i % W),
 * the output pixels (2y+ky, 2x+kx) as [ky][kx][Cout].  Scatter: out =
 * tmp + bias; gather: tmp = out.
 */
__global__ static void
t2x2_move(float *tmp, float *out, const float *bias, int r0, int R, int W,
    int Cout, int gather)
{
	unsigned n = (unsigned)R * W * 4 * Cout, k4 = 4 * Cout;

	GRID_STRIDE_I(unsigned, i, n) {
		unsigned px = i / k4;
		int k = (int)(i - px * k4), q = k / Cout, c = k - q * Cout;
		int rr = (int)(px / W), x = (int)px - rr * W, r = r0 + rr;
		size_t o = (((size_t)2 * r + q / 2) * 2 * W + 2 * x + q % 2) *
		    Cout + c;
		if (gather)
			tmp[i] = out[o];
		else
			out[o] = tmp[i] + bias[c];
	}
}

void
cuda_convt2x2_forward(float *out, const float *inp, const float *w,
    const float *bias, int B, int H, int W, int Cin, int Cout)
{
	int nrows = B * H, R = chunk_rows(nrows, W, (size_t)4 * Cout);
	float *tmp = cuda_scratch(2, (size_t)R * W * 4 * Cout * sizeof(float));

	for (int r0 = 0; r0 < nrows; r0 += R) {
		int rr = nrows - r0 < R ? nrows - r0 : R, M = rr * W;
		gpu_sgemm(0, 0, M, 4 * Cout, Cin, 1, inp + (size_t)r0 * W * Cin,
		    Cin, w, 4 * Cout, 0, tmp, 4 * Cout);
		t2x2_move<<<nblocks((size_t)M * 4 * Cout), THREADS, 0,
		    cuda_stream>>>(tmp, out, bias, r0, rr, W, Cout, 0);
		KERNEL_CHECK();
	}
}

void
cuda_convt2x2_backward(float *dinp, float *dw, float *dbias,
    const float *dout, const float *inp, const float *w,
    int B, int H, int W, int Cin, int Cout)
{
	int nrows = B * H, R = chunk_rows(nrows, W, (size_t)4 * Cout);
	float *tmp = cuda_scratch(2, (size_t)R * W * 4 * Cout * sizeof(float));

	for (int r0 = 0; r0 < nrows; r0 += R) {
		int rr = nrows - r0 < R ? nrows - r0 : R, M = rr * W;
		const float *in = inp + (size_t)r0 * W * Cin;
		t2x2_move<<<nblocks((size_t)M * 4 * Cout), THREADS, 0,
		    cuda_stream>>>(tmp, (float *)dout, NULL, r0, rr, W, Cout,
		    1);
		KERNEL_CHECK();
		gpu_sgemm(1, 0, Cin, 4 * Cout, M, 1, in, Cin, tmp, 4 * Cout, 1,
		    dw, 4 * Cout);
		if (dinp != NULL)
			gpu_sgemm(0, 1, M, Cin, 4 * Cout, 1, tmp, 4 * Cout, w,
			    4 * Cout, 0, dinp + (size_t)r0 * W * Cin, Cin);
	}
	cuda_colsum_add(dbias, dout, (size_t)B * 4 * H * W, Cout);
}
