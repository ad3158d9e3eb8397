/*
 * conv.c - 3x3 SAME convolution, 1x1 convolution and 2x2 stride-2
 * transposed convolution on NHWC activations, forward and backward.
 *
 * 3x3: the pixels are processed in blocks of whole image rows.  For each
 * block, im2col copies every pixel's 3x3 neighbourhood (9*Cin values, tap
 * major, channel minor, zeros outside the image) into one row of a scratch
 * matrix, and one sgemm multiplies it by the [3][3][Cin][Cout] weights.  With
 * a second input, im2col reads the channels of both, which is the decoder's
 * channel concat without the concatenated tensor.  Blocking bounds the
 * scratch to COL_FLOATS floats whatever the batch and image size, while
 * keeping the GEMM's M dimension in the thousands.  The input gradient is
 * itself a 3x3 SAME convolution of the output gradient with the weights
 * flipped in space and transposed in channels, so the backward pass reuses
 * the forward code and needs no col2im scatter; the weight gradient is
 * col^T dout per block.
 *
 * 1x1: one GEMM over the (N, Cin) pixel matrix, no copies.
 *
 * 2x2 stride 2 transposed: every input pixel feeds its own 2x2 output
 * block, so out = scatter(inp * w) with w viewed as (Cin, 4*Cout); the
 * product goes through a bounded scratch block and is scattered to the
 * output rows.  The backward pass gathers the 2x2 blocks of dout into rows
 * of 4*Cout and does the two transposed products.
 */
#include <string.h>

#include "nn/cpu/cpu.h"

/* Scratch budget of one im2col / scatter block, in floats (16 MiB). */
#define COL_FLOATS ((size_t)4 << 20)

/* Budget of a forward im2col block and its output, in floats (512 KiB):
 * the GEMM then reads the columns, and the bias and activation passes
 * touch its output, in a core's L2 cache.  With 16 MiB blocks the first
 * conv of the U-Net (27 columns, 32 outputs) spent twice as long in
 * those memory passes over DRAM as in its GEMM. */
#define COL_L2 ((size_t)1 << 17)

/* Rows (of W pixels, K values each) per block under the budget. */
static int
block_rows(int nrows, int W, size_t K, size_t budget)
{
	size_t r = budget / ((size_t)W * K);

	if (r < 1)
		r = 1;
	return r > (size_t)nrows ? nrows : (int)r;
}

// --- 3x3 convolution --------------------------------------------------------

/* col (R*W, 9*(C1+C2)): the 3x3 neighbourhoods of rows r0..r0+R-1 of the
 * channel concat [in1 | in2] (B*H rows of W pixels), zero-padded at the
 * image edges; in2 may be NULL with C2 = 0. */
static void
im2col3x3(float *col, const float *in1, int C1, const float *in2, int C2,
    int r0, int R, int H, int W)
{
	int C = C1 + C2;
	size_t K = (size_t)9 * C;

	#pragma omp parallel for schedule(static) \
	    if ((size_t)R * W * K >= CPU_PAR_MIN)
	for (int i = 0; i < R; i++) {
		int r = r0 + i, b = r / H, y = r % H;
		size_t img = (size_t)b * H * W;         /* first pixel */
		for (int x = 0; x < W; x++) {
			float *dst = col + ((size_t)i * W + x) * K;
			for (int t = 0; t < 9; t++, dst += C) {
				int yy = y + t / 3 - 1, xx = x + t % 3 - 1;
				size_t px;
				if (yy < 0 || yy >= H || xx < 0 || xx >= W) {
					memset(dst, 0, C * sizeof(float));
					continue;
				}
				px = img + (size_t)yy * W + xx;
				memcpy(dst, in1 + px * C1, C1 * sizeof(float));
				if (C2 > 0)
					memcpy(dst + C1, in2 + px * C2,
					    C2 * sizeof(float));
			}
		}
	}
}

/* x = leaky ReLU of x, slope alpha, on the calling thread: the fused
 * activation of an im2col block while it is in cache. */
CPU_VECTOR_SELECT static void
leaky(float *x, size_t n, float alpha)
{
	#pragma omp simd
	for (size_t i = 0; i < n; i++)
		x[i] = x[i] > 0 ? x[i] : alpha * x[i];
}

/*
 * The outputs O[0..nout-1] of a 3x3 conv over [in1 | in2]: by Winograd
 * F(M x M) (see cpu_wino3x3) from CPU_WINO_MIN_C channels, else by
 * im2col.  Each thread takes its own share of the rows, with its own
 * im2col blocks (of COL_L2) and single-threaded GEMMs, so that the conv
 * has one parallel region and no barrier inside (see winograd.c).
 */
static void
conv3x3(int m, const struct conv_out *o, int nout, const float *in1, int C1,
    const float *in2, int C2, int B, int H, int W)
{
	size_t K = (size_t)9 * (C1 + C2), ntot = 0;
	int nrows = B * H, nth = cpu_threads(), R;

	if (C1 + C2 >= CPU_WINO_MIN_C) {
		cpu_wino3x3(m, o, nout, in1, C1, in2, C2, B, H, W);
		return;
	}
	for (int j = 0; j < nout; j++)
		ntot += o[j].N;
	R = block_rows(nrows, W, K + ntot, COL_L2);
	float *col = cpu_scratch(0, nth * (size_t)R * W * K * sizeof(float));

	#pragma omp parallel for schedule(static) num_threads(nth) \
	    if ((size_t)nrows * W * K >= CPU_PAR_MIN)
	for (int sh = 0; sh < nth; sh++) {
		int a = (int)((long)nrows * sh / nth);
		int b = (int)((long)nrows * (sh + 1) / nth);
		float *c = col + sh * (size_t)R * W * K;
		for (int r0 = a; r0 < b; r0 += R) {
			int rr = b - r0 < R ? b - r0 : R, M = rr * W;
			im2col3x3(c, in1, C1, in2, C2, r0, rr, H, W);
			for (int j = 0; j < nout; j++) {
				float *y = o[j].out + (size_t)r0 * W * o[j].N;
				int N = o[j].N;
				for (int m = 0; m < M && o[j].bias != NULL; m++)
					memcpy(y + (size_t)m * N, o[j].bias,
					    N * sizeof(float));
				cpu_sgemm1(0, 0, M, N, (int)K, 1, c, (int)K,
				    o[j].w, o[j].ldw, o[j].bias != NULL ? 1 : 0,
				    y, N);
				if (o[j].alpha != 1)
					leaky(y, (size_t)M * N, o[j].alpha);
			}
		}
	}
}

void
cpu_conv3x3_forward(float *out, const float *inp, const float *inp2,
    const float *w, const float *bias, int B, int H, int W, int Cin,
    int Cin2, int Cout, float alpha)
{
	struct conv_out o = { out, w, Cout, Cout, bias, alpha };

	conv3x3(2, &o, 1, inp, Cin, inp2, Cin2, B, H, W);
}

/* Inference: F(4x4) where it pays (see winograd.c on its accuracy). */
void
cpu_conv3x3_infer(float *out, const float *inp, const float *inp2,
    const float *w, const float *bias, int B, int H, int W, int Cin,
    int Cin2, int Cout, float alpha)
{
	struct conv_out o = { out, w, Cout, Cout, bias, alpha };

	conv3x3(0, &o, 1, inp, Cin, inp2, Cin2, B, H, W);
}

/* dw (9*C, Cout) += col^T (9*C, M) * dout (M, Cout), per im2col block. */
static void
conv3x3_dw(float *dw, const float *dout, const float *inp, const float *inp2,
    int B, int H, int W, int Cin, int Cin2, int Cout)
{
	size_t K = (size_t)9 * (Cin + Cin2);
	int nrows = B * H, R = block_rows(nrows, W, K, COL_FLOATS);
	float *col = cpu_scratch(0, (size_t)R * W * K * sizeof(float));

	for (int r0 = 0; r0 < nrows; r0 += R) {
		int rr = nrows - r0 < R ? nrows - r0 : R, M = rr * W;

		im2col3x3(col, inp, Cin, inp2, Cin2, r0, rr, H, W);
		cpu_sgemm(1, 0, (int)K, Cout, M, 1, col, (int)K,
		    dout + (size_t)r0 * W * Cout, Cout, 1, dw, Cout);
	}
}

void
cpu_conv3x3_backward(float *dinp, float *dinp2, float *dw, float *dbias,
    const float *dout, const float *inp, const float *inp2, const float *w,
    int B, int H, int W, int Cin, int Cin2, int Cout)
{
	int C = Cin + Cin2;
	size_t K = (size_t)9 * C;

	if (C >= CPU_WINO_MIN_C)
		cpu_wino3x3_dw(dw, dout, Cout, inp, Cin, inp2, Cin2, B, H, W);
	else
		conv3x3_dw(dw, dout, inp, inp2, B, H, W, Cin, Cin2, Cout);
	cpu_colsum_add(dbias, dout, (size_t)B * H * W, Cout);
	if (dinp == NULL && dinp2 == NULL)
		return;

	/*
	 * [dinp | dinp2] = conv3x3(dout, wf) with wf[ky][kx][co][ci] =
	 * w[2-ky][2-kx][ci][co]; the two inputs' gradients are the column
	 * ranges 0..Cin-1 and Cin..C-1 of wf, two products of one im2col.
	 */
	float *wf = cpu_scratch(1, K * Cout * sizeof(float));
	for (int t = 0; t < 9; t++) {
		const float *src = w + (size_t)(8 - t) * C * Cout;
		float *dst = wf + (size_t)t * Cout * C;
		for (int ci = 0; ci < C; ci++)
			for (int co = 0; co < Cout; co++)
				dst[(size_t)co * C + ci] =
				    src[(size_t)ci * Cout + co];
	}
	struct conv_out o[2];
	int n = 0;
	if (dinp != NULL)
		o[n++] = (struct conv_out){ dinp, wf, C, Cin, NULL, 1 };
	if (dinp2 != NULL)
		o[n++] = (struct conv_out){ dinp2, wf + Cin, C, Cin2, NULL,
		    1 };
	conv3x3(2, o, n, dout, Cout, NULL, 0, B, H, W);
}

// --- 1x1 convolution --------------------------------------------------------

void
cpu_conv1x1_forward(float *out, const float *inp, const float *w,
    const float *bias, int N, int Cin, int Cout)
{
	#pragma omp parallel for schedule(static) \
	    if ((size_t)N * Cout >= CPU_PAR_MIN)
	for (int n = 0; n < N; n++)
		memcpy(out + (size_t)n * Cout, bias, Cout * sizeof(float));
	cpu_sgemm(0, 0, N, Cout, Cin, 1, inp, Cin, w, Cout, 1, out, Cout);
}

void
cpu_conv1x1_backward(float *dinp, float *dw, float *dbias,
    const float *dout, const float *inp, const float *w,
    int N, int Cin, int Cout)
{
	cpu_sgemm(1, 0, Cin, Cout, N, 1, inp, Cin, dout, Cout, 1, dw, Cout);
	cpu_colsum_add(dbias, dout, (size_t)N, Cout);
	if (dinp != NULL)
		cpu_sgemm(0, 1, N, Cin, Cout, 1, dout, Cout, w, Cout, 0, dinp,
		    Cin);
}

// --- 2x2 stride-2 transposed convolution ------------------------------------

/*
 * Block row i of tmp (R*W, 4*Cout) holds, for input pixel (r, x), the
 * values of output pixels (2y+ky, 2x+kx) as [ky][kx][Cout].  Forward
 * scatters tmp into out (adding the bias); backward gathers dout into tmp.
 */
static void
t2x2_move(float *tmp, float *out, const float *bias, int r0, int R, int W,
    int Cout, int gather)
{
	size_t orow = (size_t)2 * W * Cout;     /* floats per output row */

	#pragma omp parallel for schedule(static) \
	    if ((size_t)R * W * 4 * Cout >= CPU_PAR_MIN)
	for (int i = 0; i < R; i++) {
		int r = r0 + i;                 /* = b*H + y; out row 2r+ky */
		for (int x = 0; x < W; x++)
			for (int ky = 0; ky < 2; ky++) {
				float *t = tmp + (((size_t)i * W + x) * 4 +
				    ky * 2) * Cout;
				float *o = out + ((size_t)2 * r + ky) * orow +
				    (size_t)2 * x * Cout;
				if (gather) {
					memcpy(t, o, 2 * Cout * sizeof(float));
					continue;
				}
				for (int kx = 0; kx < 2; kx++)
					for (int k = 0; k < Cout; k++)
						o[kx * Cout + k] = t[kx * Cout + k] +
						    bias[k];
			}
	}
}

void
cpu_convt2x2_forward(float *out, const float *inp, const float *w,
    const float *bias, int B, int H, int W, int Cin, int Cout)
{
	int nrows = B * H, nth = cpu_threads();
	int R = block_rows(nrows, W, (size_t)4 * Cout * nth, COL_FLOATS);
	size_t blk = (size_t)R * W * 4 * Cout;
	float *tmp = cpu_scratch(0, nth * blk * sizeof(float));

	// one share of the rows per thread, as conv3x3
	#pragma omp parallel for schedule(static) num_threads(nth) \
	    if ((size_t)nrows * W * Cin * Cout >= CPU_PAR_MIN)
	for (int sh = 0; sh < nth; sh++) {
		int a = (int)((long)nrows * sh / nth);
		int b = (int)((long)nrows * (sh + 1) / nth);
		float *t = tmp + sh * blk;
		for (int r0 = a; r0 < b; r0 += R) {
			int rr = b - r0 < R ? b - r0 : R;
			cpu_sgemm1(0, 0, rr * W, 4 * Cout, Cin, 1,
			    inp + (size_t)r0 * W * Cin, Cin, w, 4 * Cout, 0,
			    t, 4 * Cout);
			t2x2_move(t, out, bias, r0, rr, W, Cout, 0);
		}
	}
}

void
cpu_convt2x2_backward(float *dinp, float *dw, float *dbias,
    const float *dout, const float *inp, const float *w,
    int B, int H, int W, int Cin, int Cout)
{
	int nrows = B * H, R = block_rows(nrows, W, (size_t)4 * Cout,
	    COL_FLOATS);
	float *tmp = cpu_scratch(0, (size_t)R * W * 4 * Cout * sizeof(float));

	for (int r0 = 0; r0 < nrows; r0 += R) {
		int rr = nrows - r0 < R ? nrows - r0 : R, M = rr * W;
		const float *in = inp + (size_t)r0 * W * Cin;

		t2x2_move(tmp, (float *)dout, NULL, r0, rr, W, Cout, 1);
		// dw (Cin, 4Cout) += in^T (Cin, M) * tmp (M, 4Cout)
		cpu_sgemm(1, 0, Cin, 4 * Cout, M, 1, in, Cin, tmp, 4 * Cout, 1,
		    dw, 4 * Cout);
		// dinp (M, Cin) = tmp (M, 4Cout) * w^T (4Cout, Cin)
		if (dinp != NULL)
			cpu_sgemm(0, 1, M, Cin, 4 * Cout, 1, tmp, 4 * Cout, w,
			    4 * Cout, 0, dinp + (size_t)r0 * W * Cin, Cin);
	}
	cpu_colsum_add(dbias, dout, (size_t)B * 4 * H * W, Cout);
}
