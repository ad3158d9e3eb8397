/*
 * winograd.c - 3x3 SAME convolution by Winograd's minimal filtering
 * F(2x2, 3x3) (Lavin and Gray, "Fast algorithms for convolutional neural
 * networks", 2015), forward and weight gradient.
 *
 * The output is cut into tiles of 2x2 pixels.  Tile t of output channel co
 * is Y = A^T [sum_ci U(ci, co) . V(t, ci)] A, where V = B^T d B is the
 * transform of the tile's 4x4 input patch d (rows 2ty-1 .. 2ty+2, zeros
 * outside the image), U = G g G^T that of the 3x3 filter g, and . the
 * product per element.  Each of the 16 elements xi of the 4x4 transformed
 * domain is then an independent GEMM over channels,
 *	M[xi] (tiles, Cout) = V[xi] (tiles, Cin) * U[xi] (Cin, Cout),
 * 16 multiply-adds per (tile, ci, co) against im2col's 36: the 3x3
 * convolutions, 90% of the network's FLOPs, cost 2.25 times fewer.  The
 * transforms are additions and halvings over contiguous channel runs
 * (NHWC), O(16 * (Cin + Cout)) per tile.  The matrices are those of
 * Lavin and Gray; their values (0, +-1, +-1/2) keep the rounding error
 * within a few float ulps of the direct sum.
 *
 * The weight gradient is the same computation transposed: with dM = A dY
 * A^T the transformed output gradient of each tile,
 *	dU[xi] (Cin, Cout) = sum over tiles V[xi]^T * dM[xi],
 * and dw = G^T dU G.  It is exact in real arithmetic, since the forward
 * map from U to Y is linear.
 *
 * The output transform also adds the bias and applies the leaky ReLU.
 *
 * Tiles are processed in blocks of whole tile rows (2 image rows) so that
 * V and M stay bounded whatever the batch.  In the forward pass each
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
 * time), but at least WINO_MIN_TILES tiles, so that the GEMMs' rows pay
 * for the packing of U. */
#define WINO_L2 ((size_t)1 << 18)
#define WINO_MIN_TILES 256

/* The weight gradient's tiles are cut into up to WINO_PARTS parts, as
 * many as fit partial sums dU of WINO_DU floats in all (32 MiB). */
#define WINO_PARTS 8
#define WINO_DU ((size_t)8 << 20)

/* Tiling of B images of H x W: TW tiles per tile row, TH tile rows per
 * image, NTR in all, and R tile rows per block of about NT tiles. */
struct tiling {
	int H, W, th, tw, ntr, R;
};

static struct tiling
tiling(int B, int H, int W, size_t nt)
{
	struct tiling t = { H, W, (H + 1) / 2, (W + 1) / 2, 0, 0 };
	size_t r = (nt + t.tw - 1) / t.tw;

	t.ntr = B * t.th;
	t.R = r > (size_t)t.ntr ? t.ntr : (int)r;
	return t;
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
 * The 1-D transforms of F(2, 3), each over a run of n channels, applied
 * to the columns and then to the rows of each block:
 *	B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]   (input, 4 -> 4)
 *	G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1] (filter, 3 -> 4)
 *	A^T = [1 1 1 0; 0 1 -1 -1]                      (output, 4 -> 2)
 * and their transposes for the weight gradient, A (2 -> 4) and G^T
 * (4 -> 3).  Y[k] is row k of the result and X[k] row k of the argument, each n
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

/* Channels per pass of a transform: its intermediate rows (16 x CH
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
	int r = r0 + i / t->tw;
	const float *p[16];
	float u[16][CH];

	pixels(p, 4, 4, t, r / t->th, 2 * (r % t->th) - 1, 2 * (i % t->tw) - 1,
	    in, C, zero);
	for (int c0 = 0; c0 < C; c0 += CH) {
		int n = C - c0 < CH ? C - c0 : CH;
		for (int j = 0; j < 4; j++) {           /* columns: B^T d */
			const float *x[4] = { p[j] + c0, p[4 + j] + c0,
			    p[8 + j] + c0, p[12 + j] + c0 };
			float *y[4] = { u[j], u[4 + j], u[8 + j], u[12 + j] };
			bt4(y, x, n);
		}
		for (int j = 0; j < 4; j++) {           /* rows: (B^T d) B */
			float *v = V + (4 * j) * xs + (size_t)i * ldv + C0 + c0;
			const float *x[4] = { u[4 * j], u[4 * j + 1],
			    u[4 * j + 2], u[4 * j + 3] };
			float *y[4] = { v, v + xs, v + 2 * xs, v + 3 * xs };
			bt4(y, x, n);
		}
	}
}

/* The 2x2 output pixels of tile I of the block from tile row R0 in OUT
 * (B,H,W,N) = leaky ReLU of slope ALPHA of A^T M A + bias (N), from row I
 * of M[xi] (xi stride XS); pixels outside the image are dropped. */
CPU_VECTOR_SELECT static void
output_tile(float *out, int N, const float *bias, float alpha,
    const struct tiling *t, int r0, int i, const float *M, size_t xs)
{
	int r = r0 + i / t->tw, b = r / t->th, y0 = 2 * (r % t->th);
	int x0 = 2 * (i % t->tw);
	int ny = y0 + 1 < t->H ? 2 : 1, nx = x0 + 1 < t->W ? 2 : 1;
	float *o = out + (((size_t)b * t->H + y0) * t->W + x0) * N;
	// the dropped pixels alias kept ones and are written first
	float *po[4] = { o, o + (size_t)(nx - 1) * N,
	    o + (size_t)(ny - 1) * t->W * N, NULL };
	float s[8][CH], y[4][CH];

	po[3] = po[2] + (size_t)(nx - 1) * N;
	for (int c0 = 0; c0 < N; c0 += CH) {
		const float *m = M + (size_t)i * N + c0;
		int n = N - c0 < CH ? N - c0 : CH;
		for (int j = 0; j < 4; j++) {           /* columns: A^T m */
			const float *x[4] = { m + j * xs, m + (4 + j) * xs,
			    m + (8 + j) * xs, m + (12 + j) * xs };
			float *yy[2] = { s[j], s[4 + j] };
			at2(yy, x, n);
		}
		for (int j = 0; j < 2; j++) {           /* rows: (A^T m) A */
			const float *x[4] = { s[4 * j], s[4 * j + 1],
			    s[4 * j + 2], s[4 * j + 3] };
			float *yy[2] = { y[2 * j], y[2 * j + 1] };
			at2(yy, x, n);
		}
		for (int k = 3; k >= 0; k--) {
			float *dst = po[k] + c0;
			#pragma omp simd
			for (int c = 0; c < n; c++) {
				float z = y[k][c] + bias[c0 + c];
				dst[c] = z > 0 ? z : alpha * z;
			}
		}
	}
}

/* Row I of dM[xi] (nt, N; xi stride XS) = A dY A^T for tile I of the
 * block from tile row R0 of DOUT (B,H,W,N), zero outside the image. */
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

/* U[xi] (C, N) = G g G^T for every filter g of w (3,3,C rows of ldw
 * floats, N used). */
static void
wino_weights(float *U, const float *w, int ldw, int C, int N)
{
	size_t xs = (size_t)C * N, ts = (size_t)C * ldw;  /* xi, tap */

	#pragma omp parallel for schedule(static) \
	    if (xs * 16 >= CPU_PAR_MIN)
	for (int ci = 0; ci < C; ci++) {
		float s[12][CH];
		for (int c0 = 0; c0 < N; c0 += CH) {
			const float *g = w + (size_t)ci * ldw + c0;
			int n = N - c0 < CH ? N - c0 : CH;
			for (int j = 0; j < 3; j++) {   /* columns: G g */
				const float *x[3] = { g + j * ts,
				    g + (3 + j) * ts, g + (6 + j) * ts };
				float *y[4] = { s[j], s[3 + j], s[6 + j],
				    s[9 + j] };
				g4(y, x, n);
			}
			for (int j = 0; j < 4; j++) {   /* rows: (G g) G^T */
				float *u = U + (4 * j) * xs + (size_t)ci * N +
				    c0;
				const float *x[3] = { s[3 * j], s[3 * j + 1],
				    s[3 * j + 2] };
				float *y[4] = { u, u + xs, u + 2 * xs,
				    u + 3 * xs };
				g4(y, x, n);
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
cpu_wino3x3(const struct conv_out *o, int nout, const float *in1, int C1,
    const float *in2, int C2, int B, int H, int W)
{
	int C = C1 + C2, nmax = 0, ntot = 0, nth = cpu_threads();

	for (int j = 0; j < nout; j++) {
		nmax = o[j].N > nmax ? o[j].N : nmax;
		ntot += o[j].N;
	}
	size_t nt = WINO_L2 / (16 * (size_t)(C + nmax));
	struct tiling t = tiling(B, H, W, nt > WINO_MIN_TILES ? nt :
	    WINO_MIN_TILES);
	size_t blk = (size_t)t.R * t.tw * 16, nz = C > nmax ? C : nmax;
	float *V = cpu_scratch(2, nth * blk * C * sizeof(float));
	float *M = cpu_scratch(3, nth * blk * nmax * sizeof(float));
	float *U = cpu_scratch(4, (size_t)16 * C * ntot * sizeof(float));
	float *zero = cpu_scratch(5, nz * sizeof(float));

	// zeros: the padding pixels, and the bias of a product without one
	memset(zero, 0, nz * sizeof(float));
	for (int j = 0, n = 0; j < nout; n += o[j++].N)
		wino_weights(U + (size_t)16 * C * n, o[j].w, o[j].ldw, C,
		    o[j].N);

	// share sh: tile rows a..b-1 in blocks of R, one share per thread
	#pragma omp parallel for schedule(static) num_threads(nth) \
	    if ((size_t)t.ntr * t.tw * C * nmax >= CPU_PAR_MIN)
	for (int sh = 0; sh < nth; sh++) {
		int a = (int)((long)t.ntr * sh / nth);
		int b = (int)((long)t.ntr * (sh + 1) / nth);
		float *v = V + sh * blk * C, *m = M + sh * blk * nmax;
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
				const float *u = U + (size_t)16 * C * k;
				const float *bias = o[j].bias != NULL ?
				    o[j].bias : zero;
				int N = o[j].N;
				size_t ms = (size_t)nt * N;
				for (int xi = 0; xi < 16; xi++)
					cpu_sgemm1(0, 0, nt, N, C, 1,
					    v + xi * vs, C,
					    u + (size_t)xi * C * N, N, 0,
					    m + xi * ms, N);
				for (int i = 0; i < nt; i++)
					output_tile(o[j].out, N, bias,
					    o[j].alpha, &t, r0, i, m, ms);
			}
		}
	}
}

void
cpu_wino3x3_dw(float *dw, const float *dout, int N, const float *in1,
    int C1, const float *in2, int C2, int B, int H, int W)
{
	int C = C1 + C2, nth = cpu_threads(), P;
	size_t nt = WINO_L2 / (16 * (size_t)(C + N)), xs = (size_t)C * N;
	struct tiling t = tiling(B, H, W, nt > WINO_MIN_TILES ? nt :
	    WINO_MIN_TILES);
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
