/*
 * winograd.c - 3x3 SAME convolution by Winograd's minimal filtering
 * F(m x m, 3x3) (Lavin and Gray, "Fast algorithms for convolutional neural
 * networks", 2015): the forward pass by F(2x2, 3x3) or F(4x4, 3x3), the
 * weight gradient by F(2x2, 3x3).
 *
 * The output is cut into tiles of m x m pixels.  Tile t of output channel
 * co is Y = A^T [sum_ci U(ci, co) . V(t, ci)] A, where V = B^T d B is the
 * transform of the tile's a x a input patch d (a = m + 2; rows m*ty-1 ..
 * m*ty+m, zeros outside the image), U = G g G^T that of the 3x3 filter g,
 * and . the product per element.  Each of the a*a elements xi of the
 * transformed domain is then an independent GEMM over channels,
 *	M[xi] (tiles, Cout) = V[xi] (tiles, Cin) * U[xi] (Cin, Cout),
 * a*a multiply-adds per (tile, ci, co) for m*m outputs against im2col's
 * 9 per output: F(2x2) costs 16/4 = 4, F(4x4) 36/16 = 2.25, so the 3x3
 * convolutions, 90% of the network's FLOPs, cost 2.25 or 4 times fewer.
 * The transforms are additions and small multiples over contiguous
 * channel runs (NHWC), O(a*a * (Cin + Cout)) per tile.
 *
 * Accuracy.  The F(2x2) matrices of Lavin and Gray hold 0, +-1, +-1/2,
 * and keep the rounding error within a few float ulps of the direct sum.
 * Those of F(4x4) (interpolation points 0, +-1, +-2) hold entries up to 8
 * and fractions such as 1/6 that are not exact in binary: its error is
 * ten to twenty times larger, a few 1e-6 of the output's scale against
 * the direct sum, about 1e-5 at 256 input channels.  It serves inference
 * only (the backend's conv3x3_infer), where F(4x4) has the fewer products
 * (36 per 4x4 tile against 16 per 2x2 one, partial tiles counted whole)
 * and its transformed weights fit the scratch that the weight gradient
 * takes anyway (see wino_m).  Training keeps F(2x2): its gradient checks
 * and the data-parallel identity (a batch split over ranks gives the
 * gradient of the whole batch within 1e-5) need the smaller error.
 *
 * The weight gradient is the F(2x2) computation transposed: with dM = A
 * dY A^T the transformed output gradient of each tile,
 *	dU[xi] (Cin, Cout) = sum over tiles V[xi]^T * dM[xi],
 * and dw = G^T dU G.  It is exact in real arithmetic, since the forward
 * map from U to Y is linear.
 *
 * The output transform also adds the bias and applies the leaky ReLU.
 *
 * Tiles are processed in blocks of whole tile rows so that V and M stay
 * bounded whatever the batch.  In the forward pass each
 * thread takes its own share of the tile rows and runs transforms and
 * GEMMs (single-threaded) on its blocks alone, with no barrier between
 * the steps: on a machine whose cores other processes also use, every
 * barrier costs a scheduler time slice, and a version with 18 parallel
 * regions per block ran 4 times slower than im2col there.
 * The weight gradient sums over all tiles: its tiles are cut into a
 * number of parts that depends on the sizes alone, each summed by one
 * thread (the same way) into its own partial dU, and the partial sums are
 * added in part order, so that the result is the same on any number of
 * threads.
 */
#include <string.h>

#include "nn/cpu/cpu.h"

/* A thread's block holds V and M together in about WINO_L2 floats (1 MiB,
 * a core's L2 here), so that the GEMMs read the transforms' output from
 * cache (with 16 MiB blocks, from and to DRAM, training took 14% more
 * time), but at least WINO_MIN_ROWS transformed rows (tiles times a*a),
 * so that the GEMMs' rows pay for the packing of U: 256 tiles of F(2x2),
 * 113 of F(4x4), the same V and M for a layer either way. */
#define WINO_L2 ((size_t)1 << 18)
#define WINO_MIN_ROWS ((size_t)256 * 16)

/* The weight gradient's tiles are cut into up to WINO_PARTS parts, as
 * many as fit partial sums dU of WINO_DU floats in all (32 MiB). */
#define WINO_PARTS 8
#define WINO_DU ((size_t)8 << 20)

/* Tiling of B images of H x W by tiles of M x M (patches of A = M + 2):
 * TW tiles per tile row, TH tile rows per image, NTR in all, and R tile
 * rows per block of about NT tiles. */
struct tiling {
	int m, a;
	int H, W, th, tw, ntr, R;
};

/* The tiling by F(m x m) for a conv with C inputs and N outputs (the
 * most of one product), blocks sized as WINO_L2 says. */
static struct tiling
tiling(int m, int B, int H, int W, int C, int N)
{
	struct tiling t = { m, m + 2, H, W, (H + m - 1) / m, (W + m - 1) / m,
	    0, 0 };
	size_t aa = (size_t)t.a * t.a, nt = WINO_L2 / (aa * (C + N)), r;

	if (nt * aa < WINO_MIN_ROWS)
		nt = (WINO_MIN_ROWS + aa - 1) / aa;
	r = (nt + t.tw - 1) / t.tw;
	t.ntr = B * t.th;
	t.R = r > (size_t)t.ntr ? t.ntr : (int)r;
	return t;
}

/*
 * The tile side of the forward pass for images of H x W, C input and
 * NTOT output channels: F(4x4) when its GEMMs are the smaller (36 per
 * 4x4 tile against 16 per 2x2 one, partial tiles counted whole) and its
 * U (36, C, NTOT) fits in WINO_DU floats, else F(2x2).
 */
static int
wino_m(int H, int W, int C, int ntot)
{
	size_t f2 = (size_t)16 * ((H + 1) / 2) * ((W + 1) / 2);
	size_t f4 = (size_t)36 * ((H + 3) / 4) * ((W + 3) / 4);

	return f4 < f2 && (size_t)36 * C * ntot <= WINO_DU ? 4 : 2;
}

/* Pointers to the N x M pixels from (y0, x0) of image B of IN (C
 * channels per pixel), row-major, or ZERO outside the image. */
static void
pixels(const float **p, int n, int m, const struct tiling *t, int b, int y0,
    int x0, const float *in, int C, const float *zero)
{
	for (int a = 0; a < n; a++)
		for (int c = 0; c < m; c++) {
			int y = y0 + a, x = x0 + c;
			p[a * m + c] = y < 0 || y >= t->H || x < 0 ||
			    x >= t->W ? zero : in + (((size_t)b * t->H + y) *
			    t->W + x) * C;
		}
}

/*
 * The 1-D transforms, each over a run of n channels, applied to the
 * columns and then to the rows of each block.  F(2, 3):
 *	B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]   (input, 4 -> 4)
 *	G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1] (filter, 3 -> 4)
 *	A^T = [1 1 1 0; 0 1 -1 -1]                      (output, 4 -> 2)
 * and their transposes for the weight gradient, A (2 -> 4) and G^T
 * (4 -> 3).  F(4, 3), points 0, 1, -1, 2, -2 and infinity:
 *	B^T = [4  0 -5  0 1 0;     G = [ 1/4     0    0;
 *	       0 -4 -4  1 1 0;          -1/6  -1/6 -1/6;
 *	       0  4 -4 -1 1 0;          -1/6   1/6 -1/6;
 *	       0 -2 -1  2 1 0;          1/24  1/12  1/6;
 *	       0  2 -1 -2 1 0;          1/24 -1/12  1/6;
 *	       0  4  0 -5 0 1]             0     0    1]
 *	A^T = [1 1  1 1  1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
 * Y[k] is row k of the result and X[k] row k of the argument, each n
 * contiguous floats; the loops over channels vectorise.
 */
static inline void
bt4(float *const *y, const float *const *x, int n)
{
	float *y0 = y[0], *y1 = y[1], *y2 = y[2], *y3 = y[3];
	const float *x0 = x[0], *x1 = x[1], *x2 = x[2], *x3 = x[3];

	#pragma omp simd
	for (int c = 0; c < n; c++) {
		float a = x0[c], b = x1[c], d = x2[c], e = x3[c];
		y0[c] = a - d;
		y1[c] = b + d;
		y2[c] = d - b;
		y3[c] = b - e;
	}
}

static inline void
bt6(float *const *y, const float *const *x, int n)
{
	float *y0 = y[0], *y1 = y[1], *y2 = y[2], *y3 = y[3], *y4 = y[4];
	float *y5 = y[5];
	const float *x0 = x[0], *x1 = x[1], *x2 = x[2], *x3 = x[3];
	const float *x4 = x[4], *x5 = x[5];

	#pragma omp simd
	for (int c = 0; c < n; c++) {
		float p = x4[c] - 4 * x2[c], q = 4 * x1[c] - x3[c];
		float r = x4[c] - x2[c], s = 2 * (x1[c] - x3[c]);
		y0[c] = 4 * (x0[c] - x2[c]) + r;
		y1[c] = p - q;
		y2[c] = p + q;
		y3[c] = r - s;
		y4[c] = r + s;
		y5[c] = 4 * (x1[c] - x3[c]) + (x5[c] - x3[c]);
	}
}

static inline void
g4(float *const *y, const float *const *x, int n)
{
	float *y0 = y[0], *y1 = y[1], *y2 = y[2], *y3 = y[3];
	const float *x0 = x[0], *x1 = x[1], *x2 = x[2];

	#pragma omp simd
	for (int c = 0; c < n; c++) {
		float a = x0[c], b = x1[c], d = x2[c];
		y0[c] = a;
		y1[c] = 0.5f * (a + b + d);
		y2[c] = 0.5f * (a - b + d);
		y3[c] = d;
	}
}

static inline void
g6(float *const *y, const float *const *x, int n)
{
	float *y0 = y[0], *y1 = y[1], *y2 = y[2], *y3 = y[3], *y4 = y[4];
	float *y5 = y[5];
	const float *x0 = x[0], *x1 = x[1], *x2 = x[2];

	#pragma omp simd
	for (int c = 0; c < n; c++) {
		float a = x0[c], b = x1[c], d = x2[c];
		float e = a + d, f = a / 24 + d / 6, h = b / 12;
		y0[c] = a / 4;
		y1[c] = -(e + b) / 6;
		y2[c] = -(e - b) / 6;
		y3[c] = f + h;
		y4[c] = f - h;
		y5[c] = d;
	}
}

static inline void
at2(float *const *y, const float *const *x, int n)
{
	float *y0 = y[0], *y1 = y[1];
	const float *x0 = x[0], *x1 = x[1], *x2 = x[2], *x3 = x[3];

	#pragma omp simd
	for (int c = 0; c < n; c++) {
		float b = x1[c], d = x2[c];
		y0[c] = x0[c] + b + d;
		y1[c] = b - d - x3[c];
	}
}

static inline void
at4(float *const *y, const float *const *x, int n)
{
	float *y0 = y[0], *y1 = y[1], *y2 = y[2], *y3 = y[3];
	const float *x0 = x[0], *x1 = x[1], *x2 = x[2], *x3 = x[3];
	const float *x4 = x[4], *x5 = x[5];

	#pragma omp simd
	for (int c = 0; c < n; c++) {
		float a = x1[c] + x2[c], b = x1[c] - x2[c];
		float d = x3[c] + x4[c], e = x3[c] - x4[c];
		y0[c] = x0[c] + a + d;
		y1[c] = b + 2 * e;
		y2[c] = a + 4 * d;
		y3[c] = b + 8 * e + x5[c];
	}
}

static inline void
a4(float *const *y, const float *const *x, int n)
{
	float *y0 = y[0], *y1 = y[1], *y2 = y[2], *y3 = y[3];
	const float *x0 = x[0], *x1 = x[1];

	#pragma omp simd
	for (int c = 0; c < n; c++) {
		float a = x0[c], b = x1[c];
		y0[c] = a;
		y1[c] = a + b;
		y2[c] = a - b;
		y3[c] = -b;
	}
}

/* (the weight gradient's last step accumulates: Y += G^T X) */
static inline void
gt3(float *const *y, const float *const *x, int n)
{
	float *y0 = y[0], *y1 = y[1], *y2 = y[2];
	const float *x0 = x[0], *x1 = x[1], *x2 = x[2], *x3 = x[3];

	#pragma omp simd
	for (int c = 0; c < n; c++) {
		float p = 0.5f * (x1[c] + x2[c]);
		y0[c] += x0[c] + p;
		y1[c] += 0.5f * (x1[c] - x2[c]);
		y2[c] += p + x3[c];
	}
}

/* Channels per pass of a transform: its intermediate rows (36 x CH
 * floats) stay in L1. */
#define CH 64

/*
 * Row I of V[xi] (xi stride XS) at column offset C0 = B^T d B for the
 * tile I of the block from tile row R0, channels 0..C-1 of IN.
 */
static void
input_tile(float *V, size_t xs, int ldv, int C0, const struct tiling *t,
    int r0, int i, const float *in, int C, const float *zero)
{
	int m = t->m, a = t->a, r = r0 + i / t->tw;
	const float *p[36], *x[6];
	float u[36][CH], *y[6];

	pixels(p, a, a, t, r / t->th, m * (r % t->th) - 1,
	    m * (i % t->tw) - 1, in, C, zero);
	for (int c0 = 0; c0 < C; c0 += CH) {
		int n = C - c0 < CH ? C - c0 : CH;
		for (int j = 0; j < a; j++) {           /* columns: B^T d */
			for (int k = 0; k < a; k++) {
				x[k] = p[k * a + j] + c0;
				y[k] = u[k * a + j];
			}
			m == 2 ? bt4(y, x, n) : bt6(y, x, n);
		}
		for (int j = 0; j < a; j++) {           /* rows: (B^T d) B */
			float *v = V + (size_t)(a * j) * xs + (size_t)i * ldv +
			    C0 + c0;
			for (int k = 0; k < a; k++) {
				x[k] = u[a * j + k];
				y[k] = v + k * xs;
			}
			m == 2 ? bt4(y, x, n) : bt6(y, x, n);
		}
	}
}

/* The m x m output pixels of tile I of the block from tile row R0 in OUT
 * (B,H,W,N) = leaky ReLU of slope ALPHA of A^T M A + bias (N), from row I
 * of M[xi] (xi stride XS); pixels outside the image are dropped. */
CPU_VECTOR_SELECT static void
output_tile(float *out, int N, const float *bias, float alpha,
    const struct tiling *t, int r0, int i, const float *M, size_t xs)
{
	int m = t->m, a = t->a;
	int r = r0 + i / t->tw, b = r / t->th, y0 = m * (r % t->th);
	int x0 = m * (i % t->tw);
	int ny = t->H - y0 < m ? t->H - y0 : m;
	int nx = t->W - x0 < m ? t->W - x0 : m;
	float *o = out + (((size_t)b * t->H + y0) * t->W + x0) * N;
	float s[24][CH], yv[16][CH], *y[6];
	const float *x[6];

	for (int c0 = 0; c0 < N; c0 += CH) {
		const float *mm = M + (size_t)i * N + c0;
		int n = N - c0 < CH ? N - c0 : CH;
		for (int j = 0; j < a; j++) {           /* columns: A^T m */
			for (int k = 0; k < a; k++)
				x[k] = mm + (k * a + j) * xs;
			for (int q = 0; q < m; q++)
				y[q] = s[q * a + j];
			m == 2 ? at2(y, x, n) : at4(y, x, n);
		}
		for (int j = 0; j < m; j++) {           /* rows: (A^T m) A */
			for (int k = 0; k < a; k++)
				x[k] = s[a * j + k];
			for (int q = 0; q < m; q++)
				y[q] = yv[m * j + q];
			m == 2 ? at2(y, x, n) : at4(y, x, n);
		}
		for (int py = 0; py < ny; py++)
			for (int px = 0; px < nx; px++) {
				float *dst = o + ((size_t)py * t->W + px) * N +
				    c0;
				const float *src = yv[m * py + px];
				#pragma omp simd
				for (int c = 0; c < n; c++) {
					float z = src[c] + bias[c0 + c];
					dst[c] = z > 0 ? z : alpha * z;
				}
			}
	}
}

/* Row I of dM[xi] (nt, N; xi stride XS) = A dY A^T for tile I of the
 * F(2x2) block from tile row R0 of DOUT (B,H,W,N), zero outside the
 * image. */
static void
dout_tile(float *dM, size_t xs, const struct tiling *t, int r0, int i,
    const float *dout, int N, const float *zero)
{
	int r = r0 + i / t->tw;
	const float *p[4];
	float s[8][CH];

	pixels(p, 2, 2, t, r / t->th, 2 * (r % t->th), 2 * (i % t->tw), dout,
	    N, zero);
	for (int c0 = 0; c0 < N; c0 += CH) {
		int n = N - c0 < CH ? N - c0 : CH;
		for (int j = 0; j < 2; j++) {           /* columns: A dY */
			const float *x[2] = { p[j] + c0, p[2 + j] + c0 };
			float *y[4] = { s[j], s[2 + j], s[4 + j], s[6 + j] };
			a4(y, x, n);
		}
		for (int j = 0; j < 4; j++) {           /* rows: (A dY) A^T */
			float *m = dM + (4 * j) * xs + (size_t)i * N + c0;
			const float *x[2] = { s[2 * j], s[2 * j + 1] };
			float *y[4] = { m, m + xs, m + 2 * xs, m + 3 * xs };
			a4(y, x, n);
		}
	}
}

/* U[xi] (C, N) = G g G^T of F(m x m) for every filter g of w (3,3,C
 * rows of ldw floats, N used). */
static void
wino_weights(float *U, int m, const float *w, int ldw, int C, int N)
{
	int a = m + 2;
	size_t xs = (size_t)C * N, ts = (size_t)C * ldw;  /* xi, tap */

	#pragma omp parallel for schedule(static) \
	    if (xs * a * a >= CPU_PAR_MIN)
	for (int ci = 0; ci < C; ci++) {
		float s[18][CH], *y[6];
		const float *x[3];
		for (int c0 = 0; c0 < N; c0 += CH) {
			const float *g = w + (size_t)ci * ldw + c0;
			int n = N - c0 < CH ? N - c0 : CH;
			for (int j = 0; j < 3; j++) {   /* columns: G g */
				for (int k = 0; k < 3; k++)
					x[k] = g + (3 * k + j) * ts;
				for (int q = 0; q < a; q++)
					y[q] = s[3 * q + j];
				m == 2 ? g4(y, x, n) : g6(y, x, n);
			}
			for (int j = 0; j < a; j++) {   /* rows: (G g) G^T */
				float *u = U + (size_t)(a * j) * xs +
				    (size_t)ci * N + c0;
				for (int k = 0; k < 3; k++)
					x[k] = s[3 * j + k];
				for (int q = 0; q < a; q++)
					y[q] = u + q * xs;
				m == 2 ? g4(y, x, n) : g6(y, x, n);
			}
		}
	}
}

/* dw (3,3,C,N) += G^T dU G for every (ci, co) of dU[xi] (C, N), the sum
 * of the P partial sums dU + p*16*C*N, added in order into the first. */
static void
wino_dweights(float *dw, float *dU, int P, int C, int N)
{
	size_t xs = (size_t)C * N, ts = (size_t)C * N;  /* xi, tap */

	#pragma omp parallel for schedule(static) \
	    if (xs * 16 * P >= CPU_PAR_MIN)
	for (int ci = 0; ci < C; ci++) {
		float s[12][CH];
		for (int p = 1; p < P; p++)
			for (int xi = 0; xi < 16; xi++) {
				float *y = dU + xi * xs + (size_t)ci * N;
				const float *x = y + p * 16 * xs;
				#pragma omp simd
				for (int c = 0; c < N; c++)
					y[c] += x[c];
			}
		for (int c0 = 0; c0 < N; c0 += CH) {
			const float *u = dU + (size_t)ci * N + c0;
			float *g = dw + (size_t)ci * N + c0;
			int n = N - c0 < CH ? N - c0 : CH;
			memset(s, 0, sizeof(s));
			for (int j = 0; j < 4; j++) {   /* columns: G^T dU */
				const float *x[4] = { u + j * xs,
				    u + (4 + j) * xs, u + (8 + j) * xs,
				    u + (12 + j) * xs };
				float *y[3] = { s[j], s[4 + j], s[8 + j] };
				gt3(y, x, n);
			}
			for (int j = 0; j < 3; j++) {   /* rows: (G^T dU) G */
				const float *x[4] = { s[4 * j], s[4 * j + 1],
				    s[4 * j + 2], s[4 * j + 3] };
				float *y[3] = { g + 3 * j * ts,
				    g + (3 * j + 1) * ts, g + (3 * j + 2) * ts };
				gt3(y, x, n);
			}
		}
	}
}

void
cpu_wino3x3(int m, const struct conv_out *o, int nout, const float *in1,
    int C1, const float *in2, int C2, int B, int H, int W)
{
	int C = C1 + C2, nmax = 0, ntot = 0, nth = cpu_threads();

	for (int j = 0; j < nout; j++) {
		nmax = o[j].N > nmax ? o[j].N : nmax;
		ntot += o[j].N;
	}
	if (m == 0)
		m = wino_m(H, W, C, ntot);
	struct tiling t = tiling(m, B, H, W, C, nmax);
	size_t aa = (size_t)t.a * t.a, blk = (size_t)t.R * t.tw * aa;
	size_t nz = C > nmax ? C : nmax;
	float *V = cpu_scratch(2, nth * blk * C * sizeof(float));
	float *M = cpu_scratch(3, nth * blk * nmax * sizeof(float));
	float *U = cpu_scratch(4, aa * C * ntot * sizeof(float));
	float *zero = cpu_scratch(5, nz * sizeof(float));

	// zeros: the padding pixels, and the bias of a product without one
	memset(zero, 0, nz * sizeof(float));
	for (int j = 0, n = 0; j < nout; n += o[j++].N)
		wino_weights(U + aa * C * n, m, o[j].w, o[j].ldw, C, o[j].N);

	// share sh: tile rows a..b-1 in blocks of R, one share per thread
	#pragma omp parallel for schedule(static) num_threads(nth) \
	    if ((size_t)t.ntr * t.tw * C * nmax >= CPU_PAR_MIN)
	for (int sh = 0; sh < nth; sh++) {
		int a = (int)((long)t.ntr * sh / nth);
		int b = (int)((long)t.ntr * (sh + 1) / nth);
		float *v = V + sh * blk * C, *mb = M + sh * blk * nmax;
		for (int r0 = a; r0 < b; r0 += t.R) {
			int nt = (b - r0 < t.R ? b - r0 : t.R) * t.tw;
			size_t vs = (size_t)nt * C;
			for (int i = 0; i < nt; i++) {
				input_tile(v, vs, C, 0, &t, r0, i, in1, C1,
				    zero);
				if (C2 > 0)
					input_tile(v, vs, C, C1, &t, r0, i,
					    in2, C2, zero);
			}
			for (int j = 0, k = 0; j < nout; k += o[j++].N) {
				const float *u = U + aa * C * k;
				const float *bias = o[j].bias != NULL ?
				    o[j].bias : zero;
				int N = o[j].N;
				size_t ms = (size_t)nt * N;
				for (size_t xi = 0; xi < aa; xi++)
					cpu_sgemm1(0, 0, nt, N, C, 1,
					    v + xi * vs, C,
					    u + xi * C * N, N, 0,
					    mb + xi * ms, N);
				for (int i = 0; i < nt; i++)
					output_tile(o[j].out, N, bias,
					    o[j].alpha, &t, r0, i, mb, ms);
			}
		}
	}
}

void
cpu_wino3x3_dw(float *dw, const float *dout, int N, const float *in1,
    int C1, const float *in2, int C2, int B, int H, int W)
{
	int C = C1 + C2, nth = cpu_threads(), P;
	size_t xs = (size_t)C * N;
	struct tiling t = tiling(2, B, H, W, C, N);
	size_t blk = (size_t)t.R * t.tw * 16, nz = C > N ? C : N;

	P = (int)(WINO_DU / (16 * xs));
	P = P < 1 ? 1 : P > WINO_PARTS ? WINO_PARTS : P;
	P = P > t.ntr ? t.ntr : P;
	float *V = cpu_scratch(2, nth * blk * C * sizeof(float));
	float *dM = cpu_scratch(3, nth * blk * N * sizeof(float));
	float *dU = cpu_scratch(4, P * 16 * xs * sizeof(float));
	float *zero = cpu_scratch(5, nz * sizeof(float));

	memset(zero, 0, nz * sizeof(float));
	// part p: tile rows a..b-1, summed into dU + p*16*xs by one thread
	#pragma omp parallel for schedule(static) \
	    if ((size_t)t.ntr * t.tw * xs >= CPU_PAR_MIN)
	for (int p = 0; p < P; p++) {
		int a = (int)((long)t.ntr * p / P);
		int b = (int)((long)t.ntr * (p + 1) / P);
		float *v = V + cpu_thread_num() * blk * C;
		float *m = dM + cpu_thread_num() * blk * N;
		float *u = dU + p * 16 * xs;
		for (int r0 = a; r0 < b; r0 += t.R) {
			int n = (b - r0 < t.R ? b - r0 : t.R) * t.tw;
			size_t vs = (size_t)n * C, ms = (size_t)n * N;
			for (int i = 0; i < n; i++) {
				input_tile(v, vs, C, 0, &t, r0, i, in1, C1,
				    zero);
				if (C2 > 0)
					input_tile(v, vs, C, C1, &t, r0, i,
					    in2, C2, zero);
				dout_tile(m, ms, &t, r0, i, dout, N, zero);
			}
			// dU[xi] (C, N) (+)= V[xi]^T (C, n) * dM[xi] (n, N)
			for (int xi = 0; xi < 16; xi++)
				cpu_sgemm1(1, 0, C, N, n, 1, v + xi * vs, C,
				    m + xi * ms, N, r0 > a ? 1 : 0,
				    u + xi * xs, N);
		}
	}
	wino_dweights(dw, dU, P, C, N);
}
