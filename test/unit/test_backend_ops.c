/*
 * test_backend_ops.c - every op of a backend against a reference, on
 * random inputs (as ggml's tests/test-backend-ops.cpp).
 *
 *	test_backend_ops [-b BACKEND] [-o OP] [-p PRECISION] [-m test|perf]
 *
 * The backend under test X (default cpu) runs each op on random inputs of
 * several shapes (odd sizes, one- and two-input convs, ties in the
 * max-pool, ignored and partial labels in the loss); the reference R runs
 * the same op on the same inputs: for X = cpu, R is the naive loops below
 * (direct sums in double, written for clarity, not speed: an independent
 * second implementation), for any other backend R is the CPU backend.
 * Tensors reach the backends only through upload and download, so the
 * test is the same for host and device memory.  Every output (and every
 * accumulated gradient, which starts from random values to test the +=)
 * must satisfy, elementwise,
 *
 *	|x - r| <= atol * max|r| + rtol * |r|
 *
 * with (rtol, atol) = (1e-4, 1e-5) for fp32 arithmetic, (1e-2, 2e-3) for
 * TF32 GEMMs and (4e-2, 1e-2) for BF16 GEMMs (ops without a GEMM keep the
 * fp32 pair).  The worst error of each tensor is printed, in units of its
 * tolerance.  A first check makes sure that the comparison itself fails
 * on a result perturbed by 1e-3.
 *
 * -o unet trains the tiny network (share/unet-tiny.yaml, with and
 * without GroupNorm, with ignored and partial labels) for STEPS Adam
 * steps on X and on R from the same weights and batch: the losses of
 * every step must agree within 10 rtol (TF32 and BF16: twice the rtol of
 * their GEMMs), and the weights after the first step within 1e-3 of lr
 * plus rtol, except where the two backends' first gradients differ in
 * sign or by their own size: Adam's first step is lr times the sign of
 * the gradient, so there the steps may differ by up to 2 lr.  The
 * weights after the last step are only shown: by then a leaky ReLU input
 * within rounding of zero may have taken the other slope on one backend,
 * and the runs part (test_nn_golden's comment; on an H200 the GroupNorm
 * network's did, after a change to the summation order of the head's
 * weight gradient alone).
 *
 * -m probe opens X and prints its description, or why it cannot run
 * here, and exits 0 or 1: for make check-cuda.
 *
 * -m perf times each op on X instead, at the reference network's sizes,
 * and prints "perf: OP GFLOP/s or GB/s" lines.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rng.h"
#include "util.h"
#include "nn/adam.h"
#include "nn/backend.h"
#include "nn/config.h"
#include "nn/ops.h"
#include "nn/unet.h"
#include "tap.h"

static const struct nn_ops *X, *R;
static struct rng rng;
static double rtol_gemm = 1e-4, atol_gemm = 1e-5;

#define RTOL 1e-4
#define ATOL 1e-5

// --- the naive reference ------------------------------------------------------

/* In (B,H,W,C1+C2) at (b, y, x, c) of the concat [in1 | in2], 0 outside. */
static double
at2(const float *in1, int C1, const float *in2, int C2, int b, int y, int x,
    int c, int H, int W)
{
	size_t px;

	if (y < 0 || y >= H || x < 0 || x >= W)
		return 0;
	px = ((size_t)b * H + y) * W + x;
	return c < C1 ? in1[px * C1 + c] : in2[px * C2 + c - C1];
}

static void
ref_conv3x3_forward(float *out, const float *inp, const float *inp2,
    const float *w, const float *bias, int B, int H, int W, int Cin,
    int Cin2, int Cout, float alpha)
{
	int C = Cin + Cin2;

	for (int b = 0; b < B; b++)
	for (int y = 0; y < H; y++)
	for (int x = 0; x < W; x++)
	for (int co = 0; co < Cout; co++) {
		double s = bias[co];
		for (int t = 0; t < 9; t++)
			for (int ci = 0; ci < C; ci++)
				s += at2(inp, Cin, inp2, Cin2, b, y + t / 3 - 1,
				    x + t % 3 - 1, ci, H, W) *
				    w[((size_t)t * C + ci) * Cout + co];
		out[(((size_t)b * H + y) * W + x) * Cout + co] =
		    (float)(s > 0 ? s : alpha * s);
	}
}

static void
ref_conv3x3_backward(float *dinp, float *dinp2, float *dw, float *dbias,
    const float *dout, const float *inp, const float *inp2, const float *w,
    int B, int H, int W, int Cin, int Cin2, int Cout)
{
	int C = Cin + Cin2;
	size_t npx = (size_t)B * H * W;

	for (int co = 0; co < Cout; co++) {
		double s = 0;
		for (size_t p = 0; p < npx; p++)
			s += dout[p * Cout + co];
		dbias[co] += (float)s;
	}
	for (int t = 0; t < 9; t++)
	for (int ci = 0; ci < C; ci++)
	for (int co = 0; co < Cout; co++) {
		double s = 0;
		for (int b = 0; b < B; b++)
		for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++)
			s += at2(inp, Cin, inp2, Cin2, b, y + t / 3 - 1,
			    x + t % 3 - 1, ci, H, W) *
			    dout[(((size_t)b * H + y) * W + x) * Cout + co];
		dw[((size_t)t * C + ci) * Cout + co] += (float)s;
	}
	// input pixel (y, x) feeds output (y - dy, x - dx) through tap (dy+1,
	// dx+1)
	for (int b = 0; b < B; b++)
	for (int y = 0; y < H; y++)
	for (int x = 0; x < W; x++)
	for (int ci = 0; ci < C; ci++) {
		double s = 0;
		for (int t = 0; t < 9; t++) {
			int oy = y - (t / 3 - 1), ox = x - (t % 3 - 1);
			if (oy < 0 || oy >= H || ox < 0 || ox >= W)
				continue;
			for (int co = 0; co < Cout; co++)
				s += dout[(((size_t)b * H + oy) * W + ox) *
				    Cout + co] * w[((size_t)t * C + ci) * Cout +
				    co];
		}
		size_t px = ((size_t)b * H + y) * W + x;
		if (ci < Cin && dinp != NULL)
			dinp[px * Cin + ci] = (float)s;
		if (ci >= Cin && dinp2 != NULL)
			dinp2[px * Cin2 + ci - Cin] = (float)s;
	}
}

static void
ref_conv1x1_forward(float *out, const float *inp, const float *w,
    const float *bias, int N, int Cin, int Cout)
{
	for (int n = 0; n < N; n++)
		for (int co = 0; co < Cout; co++) {
			double s = bias[co];
			for (int ci = 0; ci < Cin; ci++)
				s += (double)inp[(size_t)n * Cin + ci] *
				    w[(size_t)ci * Cout + co];
			out[(size_t)n * Cout + co] = (float)s;
		}
}

static void
ref_conv1x1_backward(float *dinp, float *dw, float *dbias,
    const float *dout, const float *inp, const float *w, int N, int Cin,
    int Cout)
{
	for (int co = 0; co < Cout; co++) {
		double sb = 0;
		for (int n = 0; n < N; n++)
			sb += dout[(size_t)n * Cout + co];
		dbias[co] += (float)sb;
		for (int ci = 0; ci < Cin; ci++) {
			double s = 0;
			for (int n = 0; n < N; n++)
				s += (double)inp[(size_t)n * Cin + ci] *
				    dout[(size_t)n * Cout + co];
			dw[(size_t)ci * Cout + co] += (float)s;
		}
	}
	for (int n = 0; n < N && dinp != NULL; n++)
		for (int ci = 0; ci < Cin; ci++) {
			double s = 0;
			for (int co = 0; co < Cout; co++)
				s += (double)dout[(size_t)n * Cout + co] *
				    w[(size_t)ci * Cout + co];
			dinp[(size_t)n * Cin + ci] = (float)s;
		}
}

/* Output pixel (b, 2y+ky, 2x+kx) of a transposed conv with input H x W. */
static size_t
t2_px(int b, int y, int x, int ky, int kx, int H, int W)
{
	return ((size_t)b * 2 * H + 2 * y + ky) * 2 * W + 2 * x + kx;
}

static void
ref_convt2x2_forward(float *out, const float *inp, const float *w,
    const float *bias, int B, int H, int W, int Cin, int Cout)
{
	for (int b = 0; b < B; b++)
	for (int y = 0; y < H; y++)
	for (int x = 0; x < W; x++)
	for (int k = 0; k < 4; k++)
	for (int co = 0; co < Cout; co++) {
		double s = bias[co];
		const float *in = inp + (((size_t)b * H + y) * W + x) * Cin;
		for (int ci = 0; ci < Cin; ci++)
			s += (double)in[ci] * w[((size_t)ci * 4 + k) * Cout + co];
		out[t2_px(b, y, x, k / 2, k % 2, H, W) * Cout + co] = (float)s;
	}
}

static void
ref_convt2x2_backward(float *dinp, float *dw, float *dbias,
    const float *dout, const float *inp, const float *w, int B, int H, int W,
    int Cin, int Cout)
{
	double *sw = xcalloc((size_t)Cin * 4 * Cout, sizeof(double));
	double *sb = xcalloc(Cout, sizeof(double));

	for (int b = 0; b < B; b++)
	for (int y = 0; y < H; y++)
	for (int x = 0; x < W; x++) {
		size_t px = ((size_t)b * H + y) * W + x;
		for (int ci = 0; ci < Cin; ci++) {
			double s = 0;
			for (int k = 0; k < 4; k++)
				for (int co = 0; co < Cout; co++) {
					double d = dout[t2_px(b, y, x, k / 2,
					    k % 2, H, W) * Cout + co];
					s += d * w[((size_t)ci * 4 + k) * Cout +
					    co];
					sw[((size_t)ci * 4 + k) * Cout + co] +=
					    d * inp[px * Cin + ci];
				}
			if (dinp != NULL)
				dinp[px * Cin + ci] = (float)s;
		}
		for (int k = 0; k < 4; k++)
			for (int co = 0; co < Cout; co++)
				sb[co] += dout[t2_px(b, y, x, k / 2, k % 2, H,
				    W) * Cout + co];
	}
	for (size_t i = 0; i < (size_t)Cin * 4 * Cout; i++)
		dw[i] += (float)sw[i];
	for (int co = 0; co < Cout; co++)
		dbias[co] += (float)sb[co];
	free(sw);
	free(sb);
}

/* The input index of the first maximum of output window (b, y, x, c). */
static size_t
pool_arg(const float *inp, int b, int y, int x, int c, int H, int W, int C)
{
	size_t best = 0;

	for (int k = 0; k < 4; k++) {
		size_t i = (((size_t)b * H + 2 * y + k / 2) * W + 2 * x +
		    k % 2) * C + c;
		if (k == 0 || inp[i] > inp[best])
			best = i;
	}
	return best;
}

static void
ref_maxpool2x2_forward(float *out, const float *inp, int B, int H, int W,
    int C)
{
	for (int b = 0; b < B; b++)
	for (int y = 0; y < H / 2; y++)
	for (int x = 0; x < W / 2; x++)
	for (int c = 0; c < C; c++)
		out[(((size_t)b * H / 2 + y) * (W / 2) + x) * C + c] =
		    inp[pool_arg(inp, b, y, x, c, H, W, C)];
}

static void
ref_maxpool2x2_backward(float *dinp, const float *dout, const float *inp,
    const float *out, int B, int H, int W, int C)
{
	memset(dinp, 0, (size_t)B * H * W * C * sizeof(float));
	for (int b = 0; b < B; b++)
	for (int y = 0; y < H / 2; y++)
	for (int x = 0; x < W / 2; x++)
	for (int c = 0; c < C; c++)
		dinp[pool_arg(inp, b, y, x, c, H, W, C)] =
		    dout[(((size_t)b * H / 2 + y) * (W / 2) + x) * C + c];
}

static void
ref_act_forward(float *out, const float *inp, size_t n, float alpha)
{
	for (size_t i = 0; i < n; i++)
		out[i] = inp[i] > 0 ? inp[i] : alpha * inp[i];
}

static void
ref_act_backward(float *dinp, const float *dout, const float *out, size_t n,
    float alpha)
{
	for (size_t i = 0; i < n; i++)
		dinp[i] = out[i] > 0 ? dout[i] : alpha * dout[i];
}

static void
ref_add(float *y, const float *x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		y[i] += x[i];
}

static void
ref_groupnorm_forward(float *out, float *mean, float *rstd,
    const float *inp, const float *gamma, const float *beta,
    int B, int HW, int C, int G, float eps)
{
	int cg = C / G;

	for (int b = 0; b < B; b++)
		for (int g = 0; g < G; g++) {
			const float *x = inp + (size_t)b * HW * C + g * cg;
			double s = 0, v = 0, n = (double)HW * cg;
			for (int p = 0; p < HW; p++)
				for (int c = 0; c < cg; c++)
					s += x[(size_t)p * C + c];
			s /= n;
			for (int p = 0; p < HW; p++)
				for (int c = 0; c < cg; c++)
					v += (x[(size_t)p * C + c] - s) *
					    (x[(size_t)p * C + c] - s);
			double rs = 1 / sqrt(v / n + eps);
			mean[b * G + g] = (float)s;
			rstd[b * G + g] = (float)rs;
			for (int p = 0; p < HW; p++)
				for (int c = 0; c < cg; c++) {
					size_t i = (size_t)p * C + c;
					int ch = g * cg + c;
					out[(size_t)b * HW * C + g * cg + i] =
					    (float)((x[i] - s) * rs * gamma[ch] +
					    beta[ch]);
				}
		}
}

static void
ref_groupnorm_backward(float *dinp, float *dgamma, float *dbeta,
    const float *dout, const float *inp, const float *mean,
    const float *rstd, const float *gamma, int B, int HW, int C, int G)
{
	int cg = C / G;
	double *dg = xcalloc(C, sizeof(double)), *db = xcalloc(C,
	    sizeof(double));

	for (int b = 0; b < B; b++)
		for (int g = 0; g < G; g++) {
			size_t o = (size_t)b * HW * C + g * cg;
			double mu = mean[b * G + g], rs = rstd[b * G + g];
			double s1 = 0, s2 = 0, n = (double)HW * cg;
			for (int p = 0; p < HW; p++)
				for (int c = 0; c < cg; c++) {
					size_t i = o + (size_t)p * C + c;
					double xh = (inp[i] - mu) * rs;
					double dxh = dout[i] * gamma[g * cg + c];
					s1 += dxh;
					s2 += dxh * xh;
					dg[g * cg + c] += dout[i] * xh;
					db[g * cg + c] += dout[i];
				}
			for (int p = 0; p < HW; p++)
				for (int c = 0; c < cg; c++) {
					size_t i = o + (size_t)p * C + c;
					double xh = (inp[i] - mu) * rs;
					double dxh = dout[i] * gamma[g * cg + c];
					dinp[i] = (float)(rs * (dxh - s1 / n -
					    xh * s2 / n));
				}
		}
	for (int c = 0; c < C; c++) {
		dgamma[c] += (float)dg[c];
		dbeta[c] += (float)db[c];
	}
	free(dg);
	free(db);
}

/* The weight of label V (see loss.c): a class's, the mean of a partial
 * label's members', else 0. */
static double
ref_label_w(int v, const float *class_w, const uint32_t *sets, int K)
{
	double s = 0;
	int n = 0;

	if (v < K)
		return class_w[v];
	if (sets == NULL || v == NN_IGNORE_LABEL)
		return 0;
	for (int k = 0; k < K; k++)
		if (sets[v] >> k & 1)
			s += class_w[k], n++;
	return n ? s / n : 0;
}

/* The label's member set: one bit for a class. */
static uint32_t
ref_members(int v, const uint32_t *sets, int K)
{
	return v < K ? 1u << v : sets != NULL ? sets[v] : 0;
}

static void
ref_softmax_forward(float *probs, const float *logits, int N, int K)
{
	for (int n = 0; n < N; n++) {
		const float *z = logits + (size_t)n * K;
		double mx = z[0], s = 0;
		for (int k = 1; k < K; k++)
			mx = z[k] > mx ? z[k] : mx;
		for (int k = 0; k < K; k++)
			s += exp(z[k] - mx);
		for (int k = 0; k < K; k++)
			probs[(size_t)n * K + k] = (float)(exp(z[k] - mx) / s);
	}
}

static void
ref_xent_forward(float *probs, double *sums, const float *logits,
    const uint8_t *labels, const float *class_w, const uint32_t *sets,
    int N, int K)
{
	ref_softmax_forward(probs, logits, N, K);
	sums[0] = sums[1] = 0;
	for (int n = 0; n < N; n++) {
		const float *z = logits + (size_t)n * K;
		double w = ref_label_w(labels[n], class_w, sets, K);
		uint32_t m = ref_members(labels[n], sets, K);
		double mx = z[0], all = 0, in = 0;
		if (w == 0)
			continue;
		for (int k = 1; k < K; k++)
			mx = z[k] > mx ? z[k] : mx;
		for (int k = 0; k < K; k++) {
			all += exp(z[k] - mx);
			in += (m >> k & 1) ? exp(z[k] - mx) : 0;
		}
		sums[0] += w * (log(all) - log(in));
		sums[1] += w;
	}
}

static void
ref_xent_backward(float *dlogits, const float *probs, const uint8_t *labels,
    const float *class_w, const uint32_t *sets, float scale, int N, int K)
{
	for (int n = 0; n < N; n++) {
		const float *p = probs + (size_t)n * K;
		double s = scale * ref_label_w(labels[n], class_w, sets, K);
		uint32_t m = ref_members(labels[n], sets, K);
		double ps = 0;
		for (int k = 0; k < K; k++)
			ps += (m >> k & 1) ? p[k] : 0;
		for (int k = 0; k < K; k++)
			dlogits[(size_t)n * K + k] = (float)(s == 0 ? 0 :
			    s * (p[k] - ((m >> k & 1) && ps > 0 ? p[k] / ps :
			    0)));
	}
}

static void
ref_adam_update(float *p, float *m, float *v, const float *g, size_t n,
    float lr, float beta1, float beta2, float eps, float wd, long t)
{
	for (size_t i = 0; i < n; i++) {
		double pi = p[i] * (1 - (double)lr * wd);
		double mi = beta1 * (double)m[i] + (1 - (double)beta1) * g[i];
		double vi = beta2 * (double)v[i] + (1 - (double)beta2) * g[i] *
		    g[i];
		m[i] = (float)mi;
		v[i] = (float)vi;
		p[i] = (float)(pi - lr * (mi / (1 - pow(beta1, t))) /
		    (sqrt(vi / (1 - pow(beta2, t))) + eps));
	}
}

static void *
ref_alloc(size_t bytes)
{
	return xcalloc(bytes ? bytes : 1, 1);
}

static void
ref_copy(void *dst, const void *src, size_t bytes)
{
	memcpy(dst, src, bytes);
}

static void ref_sync(void) {}

static void
ref_zero(void *p, size_t bytes)
{
	memset(p, 0, bytes);
}

static const struct nn_ops ref_ops = {
	.name = "reference",
	.host_memory = 1,
	.sync = ref_sync,
	.alloc = ref_alloc,
	.free = free,
	.zero = ref_zero,
	.upload = ref_copy,
	.download = ref_copy,
	.conv3x3_forward = ref_conv3x3_forward,
	.conv3x3_backward = ref_conv3x3_backward,
	.conv1x1_forward = ref_conv1x1_forward,
	.conv1x1_backward = ref_conv1x1_backward,
	.convt2x2_forward = ref_convt2x2_forward,
	.convt2x2_backward = ref_convt2x2_backward,
	.maxpool2x2_forward = ref_maxpool2x2_forward,
	.maxpool2x2_backward = ref_maxpool2x2_backward,
	.act_forward = ref_act_forward,
	.act_backward = ref_act_backward,
	.groupnorm_forward = ref_groupnorm_forward,
	.groupnorm_backward = ref_groupnorm_backward,
	.xent_forward = ref_xent_forward,
	.xent_backward = ref_xent_backward,
	.softmax_forward = ref_softmax_forward,
	.adam_update = ref_adam_update,
	.add = ref_add,
};

// --- running an op on two backends ------------------------------------------

/* One tensor argument of an op: host contents (NULL: a NULL pointer),
 * its size, and whether the op writes it (then it is compared). */
struct arg {
	const char *name;
	void *h;
	size_t bytes;
	int out;
	int gemm;               /* its error follows the GEMM precision */
};

#define MAXARGS 12

/* The op with its scalar arguments, called with the arguments' backend
 * pointers D. */
struct call {
	void (*fn)(const struct nn_ops *o, void **d, const struct call *c);
	int i[8];
	float f[8];
	double sums[2];         /* xent_forward's host result */
	double tolx;            /* the GEMM tolerance times this (0: 1) */
};

/* Run C on backend O with the host arguments A; the written arguments'
 * results go to RES[i] (malloc'ed). */
static void
run_on(const struct nn_ops *o, struct call *c, const struct arg *a, int na,
    void **res)
{
	void *d[MAXARGS];

	for (int i = 0; i < na; i++) {
		d[i] = NULL;
		if (a[i].h == NULL)
			continue;
		d[i] = o->alloc(a[i].bytes);
		o->upload(d[i], a[i].h, a[i].bytes);
	}
	c->fn(o, d, c);
	o->sync();
	for (int i = 0; i < na; i++) {
		res[i] = NULL;
		if (a[i].out && a[i].h != NULL) {
			res[i] = xmalloc(a[i].bytes);
			o->download(res[i], d[i], a[i].bytes);
		}
		if (d[i] != NULL)
			o->free(d[i]);
	}
}

/* The worst error of N floats GOT against WANT in units of the tolerance
 * atol*max|want| + rtol*|want| (<= 1 passes). */
static double
worst_err(const float *got, const float *want, size_t n, double rtol,
    double atol)
{
	double scale = 0, worst = 0;

	for (size_t i = 0; i < n; i++)
		scale = fmax(scale, fabs(want[i]));
	atol *= scale > 0 ? scale : 1;
	for (size_t i = 0; i < n; i++) {
		double e = fabs((double)got[i] - want[i]) /
		    (atol + rtol * fabs(want[i]));
		if (!(e <= worst))      /* NaN counts as failure */
			worst = isnan(e) ? INFINITY : e;
	}
	return worst;
}

/* Run C on X and R and compare every written argument (those flagged
 * gemm with the GEMM precision's tolerance); WHAT names the case. */
static void
check(const char *what, struct call *c, const struct arg *a, int na)
{
	void *rx[MAXARGS], *rr[MAXARGS];
	struct call cx = *c, cr = *c;

	run_on(X, &cx, a, na, rx);
	run_on(R, &cr, a, na, rr);
	for (int i = 0; i < na; i++) {
		if (rx[i] == NULL)
			continue;
		double x = c->tolx > 0 ? c->tolx : 1;
		double rt = a[i].gemm ? x * rtol_gemm : RTOL;
		double at = a[i].gemm ? x * atol_gemm : ATOL;
		double e = worst_err(rx[i], rr[i], a[i].bytes / sizeof(float),
		    rt, at);
		tap_ok(e <= 1, "%s: %s, %s against %s: worst error %.3g of "
		    "the tolerance (rtol %.0e, atol %.0e)", what, a[i].name,
		    X->name, R->name, e, rt, at);
		free(rx[i]);
		free(rr[i]);
	}
	if (c->fn != NULL && (cx.sums[1] != 0 || cr.sums[1] != 0)) {
		float s[4] = { (float)cx.sums[0], (float)cx.sums[1],
		    (float)cr.sums[0], (float)cr.sums[1] };
		double e = worst_err(s, s + 2, 2, RTOL, ATOL);
		tap_ok(e <= 1, "%s: sums %.8g %.8g, %s %.8g %.8g", what,
		    cx.sums[0], cx.sums[1], R->name, cr.sums[0], cr.sums[1]);
	}
}

static float *
randn(size_t n, float scale)
{
	float *p = xmalloc_array(n, sizeof(float));

	for (size_t i = 0; i < n; i++)
		p[i] = scale * rng_normal(&rng);
	return p;
}

#define FARG(nm, p, n, o, g) \
	(struct arg){ nm, p, (size_t)(n) * sizeof(float), o, g }

static void
free_args(struct arg *a, int na)
{
	for (int i = 0; i < na; i++)
		free(a[i].h);
}

// --- the cases --------------------------------------------------------------

#define F(i) ((float *)d[i])
#define CF(i) ((const float *)d[i])

static void
do_conv3x3(const struct nn_ops *o, void **d, const struct call *c)
{
	const int *s = c->i;
	nn_conv3x3_fn *fn = s[6] && o->conv3x3_infer ? o->conv3x3_infer :
	    o->conv3x3_forward;

	fn(F(0), CF(1), CF(2), CF(3), CF(4), s[0], s[1], s[2], s[3], s[4],
	    s[5], c->f[0]);
}

static void
do_conv3x3_bwd(const struct nn_ops *o, void **d, const struct call *c)
{
	const int *s = c->i;

	o->conv3x3_backward(F(0), F(1), F(2), F(3), CF(4), CF(5), CF(6),
	    CF(7), s[0], s[1], s[2], s[3], s[4], s[5]);
}

static void
test_conv3x3(int B, int H, int W, int C1, int C2, int Co, float alpha,
    int infer)
{
	size_t np = (size_t)B * H * W, nw = (size_t)9 * (C1 + C2) * Co;
	char what[96];
	struct call c = { .fn = do_conv3x3, { B, H, W, C1, C2, Co, infer },
	    { alpha } };
	struct arg a[] = {
		FARG("out", xcalloc(np * Co, 4), np * Co, 1, 1),
		FARG("inp", randn(np * C1, 1), np * C1, 0, 0),
		FARG("inp2", C2 ? randn(np * C2, 1) : NULL, np * C2, 0, 0),
		FARG("w", randn(nw, 0.2f), nw, 0, 0),
		FARG("bias", randn(Co, 1), Co, 0, 0),
	};
	snprintf(what, sizeof what, "conv3x3%s %dx%dx%dx(%d+%d)->%d alpha "
	    "%g", infer ? " infer" : "", B, H, W, C1, C2, Co, alpha);
	// F(4x4) Winograd of the CPU's inference conv is a few 1e-6 of the
	// output's scale off the direct sum (ops.h)
	c.tolx = infer ? 10 : 1;
	check(what, &c, a, 5);
	free_args(a, 5);

	if (infer)
		return;
	struct call cb = { .fn = do_conv3x3_bwd, { B, H, W, C1, C2, Co } };
	struct arg b[] = {
		FARG("dinp", xcalloc(np * C1, 4), np * C1, 1, 1),
		FARG("dinp2", C2 ? xcalloc(np * C2, 4) : NULL, np * C2, 1, 1),
		FARG("dw", randn(nw, 1), nw, 1, 1),
		FARG("dbias", randn(Co, 1), Co, 1, 0),
		FARG("dout", randn(np * Co, 1), np * Co, 0, 0),
		FARG("inp", randn(np * C1, 1), np * C1, 0, 0),
		FARG("inp2", C2 ? randn(np * C2, 1) : NULL, np * C2, 0, 0),
		FARG("w", randn(nw, 0.2f), nw, 0, 0),
	};
	snprintf(what, sizeof what, "conv3x3 backward %dx%dx%dx(%d+%d)->%d",
	    B, H, W, C1, C2, Co);
	check(what, &cb, b, 8);
	free_args(b, 8);
}

static void
do_conv1x1(const struct nn_ops *o, void **d, const struct call *c)
{
	o->conv1x1_forward(F(0), CF(1), CF(2), CF(3), c->i[0], c->i[1],
	    c->i[2]);
}

static void
do_conv1x1_bwd(const struct nn_ops *o, void **d, const struct call *c)
{
	o->conv1x1_backward(F(0), F(1), F(2), CF(3), CF(4), CF(5), c->i[0],
	    c->i[1], c->i[2]);
}

static void
test_conv1x1(int N, int Ci, int Co)
{
	char what[64];
	size_t nw = (size_t)Ci * Co;
	struct call c = { .fn = do_conv1x1, { N, Ci, Co } };
	struct arg a[] = {
		FARG("out", xcalloc((size_t)N * Co, 4), (size_t)N * Co, 1, 1),
		FARG("inp", randn((size_t)N * Ci, 1), (size_t)N * Ci, 0, 0),
		FARG("w", randn(nw, 0.3f), nw, 0, 0),
		FARG("bias", randn(Co, 1), Co, 0, 0),
	};
	snprintf(what, sizeof what, "conv1x1 %d x %d->%d", N, Ci, Co);
	check(what, &c, a, 4);
	free_args(a, 4);

	struct call cb = { .fn = do_conv1x1_bwd, { N, Ci, Co } };
	struct arg b[] = {
		FARG("dinp", xcalloc((size_t)N * Ci, 4), (size_t)N * Ci, 1, 1),
		FARG("dw", randn(nw, 1), nw, 1, 1),
		FARG("dbias", randn(Co, 1), Co, 1, 0),
		FARG("dout", randn((size_t)N * Co, 1), (size_t)N * Co, 0, 0),
		FARG("inp", randn((size_t)N * Ci, 1), (size_t)N * Ci, 0, 0),
		FARG("w", randn(nw, 0.3f), nw, 0, 0),
	};
	snprintf(what, sizeof what, "conv1x1 backward %d x %d->%d", N, Ci, Co);
	check(what, &cb, b, 6);
	free_args(b, 6);
}

static void
do_convt(const struct nn_ops *o, void **d, const struct call *c)
{
	const int *s = c->i;

	o->convt2x2_forward(F(0), CF(1), CF(2), CF(3), s[0], s[1], s[2], s[3],
	    s[4]);
}

static void
do_convt_bwd(const struct nn_ops *o, void **d, const struct call *c)
{
	const int *s = c->i;

	o->convt2x2_backward(F(0), F(1), F(2), CF(3), CF(4), CF(5), s[0], s[1],
	    s[2], s[3], s[4]);
}

static void
test_convt2x2(int B, int H, int W, int Ci, int Co)
{
	char what[80];
	size_t ni = (size_t)B * H * W, no = 4 * ni, nw = (size_t)Ci * 4 * Co;
	struct call c = { .fn = do_convt, { B, H, W, Ci, Co } };
	struct arg a[] = {
		FARG("out", xcalloc(no * Co, 4), no * Co, 1, 1),
		FARG("inp", randn(ni * Ci, 1), ni * Ci, 0, 0),
		FARG("w", randn(nw, 0.3f), nw, 0, 0),
		FARG("bias", randn(Co, 1), Co, 0, 0),
	};
	snprintf(what, sizeof what, "convt2x2 %dx%dx%dx%d->%d", B, H, W, Ci,
	    Co);
	check(what, &c, a, 4);
	free_args(a, 4);

	struct call cb = { .fn = do_convt_bwd, { B, H, W, Ci, Co } };
	struct arg b[] = {
		FARG("dinp", xcalloc(ni * Ci, 4), ni * Ci, 1, 1),
		FARG("dw", randn(nw, 1), nw, 1, 1),
		FARG("dbias", randn(Co, 1), Co, 1, 0),
		FARG("dout", randn(no * Co, 1), no * Co, 0, 0),
		FARG("inp", randn(ni * Ci, 1), ni * Ci, 0, 0),
		FARG("w", randn(nw, 0.3f), nw, 0, 0),
	};
	snprintf(what, sizeof what, "convt2x2 backward %dx%dx%dx%d->%d", B, H,
	    W, Ci, Co);
	check(what, &cb, b, 6);
	free_args(b, 6);
}

static void
do_pool(const struct nn_ops *o, void **d, const struct call *c)
{
	o->maxpool2x2_forward(F(0), CF(1), c->i[0], c->i[1], c->i[2], c->i[3]);
}

static void
do_pool_bwd(const struct nn_ops *o, void **d, const struct call *c)
{
	o->maxpool2x2_backward(F(0), CF(1), CF(2), CF(3), c->i[0], c->i[1],
	    c->i[2], c->i[3]);
}

/* Inputs rounded to quarters, so that windows hold ties: the first
 * maximum in row-major order must get the gradient. */
static void
test_maxpool(int B, int H, int W, int C)
{
	size_t n = (size_t)B * H * W * C, no = n / 4;
	float *x = randn(n, 2);
	struct call c = { .fn = do_pool, { B, H, W, C } };

	for (size_t i = 0; i < n; i++)
		x[i] = roundf(x[i] * 2) / 4;
	struct arg a[] = {
		FARG("out", xcalloc(no, 4), no, 1, 0),
		FARG("inp", x, n, 0, 0),
	};
	check("maxpool2x2 (ties)", &c, a, 2);
	float *y = xmalloc_array(no, 4);
	ref_maxpool2x2_forward(y, x, B, H, W, C);

	struct call cb = { .fn = do_pool_bwd, { B, H, W, C } };
	struct arg b[] = {
		FARG("dinp", randn(n, 1), n, 1, 0),
		FARG("dout", randn(no, 1), no, 0, 0),
		FARG("inp", x, n, 0, 0),
		FARG("out", y, no, 0, 0),
	};
	check("maxpool2x2 backward (ties)", &cb, b, 4);
	free(a[0].h);
	free(b[0].h), free(b[1].h), free(x), free(y);
}

static void
do_act(const struct nn_ops *o, void **d, const struct call *c)
{
	o->act_forward(F(0), CF(1), (size_t)c->i[0], c->f[0]);
}

static void
do_act_bwd(const struct nn_ops *o, void **d, const struct call *c)
{
	o->act_backward(F(0), CF(1), CF(2), (size_t)c->i[0], c->f[0]);
}

static void
do_add(const struct nn_ops *o, void **d, const struct call *c)
{
	o->add(F(0), CF(1), (size_t)c->i[0]);
}

static void
test_pointwise(int n, float alpha)
{
	char what[64];
	struct call c = { .fn = do_act, { n }, { alpha } };
	struct arg a[] = {
		FARG("out", xcalloc(n, 4), n, 1, 0),
		FARG("inp", randn(n, 1), n, 0, 0),
	};
	snprintf(what, sizeof what, "act alpha %g, %d values", alpha, n);
	check(what, &c, a, 2);
	free_args(a, 2);

	struct call cb = { .fn = do_act_bwd, { n }, { alpha } };
	struct arg b[] = {
		FARG("dinp", xcalloc(n, 4), n, 1, 0),
		FARG("dout", randn(n, 1), n, 0, 0),
		FARG("out", randn(n, 1), n, 0, 0),
	};
	snprintf(what, sizeof what, "act backward alpha %g", alpha);
	check(what, &cb, b, 3);
	free_args(b, 3);

	struct call cd = { .fn = do_add, { n } };
	struct arg e[] = {
		FARG("y", randn(n, 1), n, 1, 0),
		FARG("x", randn(n, 1), n, 0, 0),
	};
	check("add", &cd, e, 2);
	free_args(e, 2);
}

static void
do_gn(const struct nn_ops *o, void **d, const struct call *c)
{
	o->groupnorm_forward(F(0), F(1), F(2), CF(3), CF(4), CF(5), c->i[0],
	    c->i[1], c->i[2], c->i[3], 1e-5f);
}

static void
do_gn_bwd(const struct nn_ops *o, void **d, const struct call *c)
{
	o->groupnorm_backward(F(0), F(1), F(2), CF(3), CF(4), CF(5), CF(6),
	    CF(7), c->i[0], c->i[1], c->i[2], c->i[3]);
}

static void
test_groupnorm(int B, int HW, int C, int G)
{
	char what[64];
	size_t n = (size_t)B * HW * C;
	float *x = randn(n, 2), *g = randn(C, 1), *be = randn(C, 1);
	struct call c = { .fn = do_gn, { B, HW, C, G } };

	for (size_t i = 0; i < n; i++)
		x[i] += 1.5f;           /* a mean away from 0 */
	struct arg a[] = {
		FARG("out", xcalloc(n, 4), n, 1, 0),
		FARG("mean", xcalloc(B * G, 4), B * G, 1, 0),
		FARG("rstd", xcalloc(B * G, 4), B * G, 1, 0),
		FARG("inp", x, n, 0, 0),
		FARG("gamma", g, C, 0, 0),
		FARG("beta", be, C, 0, 0),
	};
	snprintf(what, sizeof what, "groupnorm %dx%dx%d, %d groups", B, HW, C,
	    G);
	check(what, &c, a, 6);
	float *y = xmalloc_array(n, 4), *mu = xmalloc_array(B * G, 4);
	float *rs = xmalloc_array(B * G, 4);
	ref_groupnorm_forward(y, mu, rs, x, g, be, B, HW, C, G, 1e-5f);

	struct call cb = { .fn = do_gn_bwd, { B, HW, C, G } };
	struct arg b[] = {
		FARG("dinp", xcalloc(n, 4), n, 1, 0),
		FARG("dgamma", randn(C, 1), C, 1, 0),
		FARG("dbeta", randn(C, 1), C, 1, 0),
		FARG("dout", randn(n, 1), n, 0, 0),
		FARG("inp", x, n, 0, 0),
		FARG("mean", mu, B * G, 0, 0),
		FARG("rstd", rs, B * G, 0, 0),
		FARG("gamma", g, C, 0, 0),
	};
	snprintf(what, sizeof what, "groupnorm backward %dx%dx%d", B, HW, C);
	check(what, &cb, b, 8);
	free(a[0].h), free(a[1].h), free(a[2].h);
	free(b[0].h), free(b[1].h), free(b[2].h), free(b[3].h);
	free(x), free(g), free(be), free(y), free(mu), free(rs);
}

static void
do_xent(const struct nn_ops *o, void **d, const struct call *c)
{
	struct call *cc = (struct call *)c;

	o->xent_forward(F(0), cc->sums, CF(1), d[2], CF(3), d[4], c->i[0],
	    c->i[1]);
}

static void
do_xent_bwd(const struct nn_ops *o, void **d, const struct call *c)
{
	o->xent_backward(F(0), CF(1), d[2], CF(3), d[4], c->f[0], c->i[0],
	    c->i[1]);
}

static void
do_softmax(const struct nn_ops *o, void **d, const struct call *c)
{
	o->softmax_forward(F(0), CF(1), c->i[0], c->i[1]);
}

/* Labels: classes, the ignore label, and (with PARTIAL) two partial
 * labels, one of three classes and one of a single class. */
static void
test_xent(int N, int K, int partial)
{
	char what[64];
	size_t n = (size_t)N * K;
	float *z = randn(n, 3), *w = xmalloc_array(K, 4);
	uint8_t *lab = xmalloc(N);
	uint32_t *sets = NULL;

	for (int k = 0; k < K; k++)
		w[k] = 0.5f + (float)rng_uniform(&rng) * 3;
	if (partial) {
		sets = xcalloc(256, sizeof *sets);
		sets[200] = 1u << 1 | 1u << 2 | 1u << 3;
		sets[201] = 1u << 4;
	}
	for (int i = 0; i < N; i++) {
		int r = (int)(rng_uniform(&rng) * 10);
		lab[i] = r == 0 ? NN_IGNORE_LABEL : partial && r == 1 ? 200 :
		    partial && r == 2 ? 201 : (uint8_t)(rng_uniform(&rng) * K);
	}
	struct call c = { .fn = do_xent, { N, K } };
	struct arg a[] = {
		FARG("probs", xcalloc(n, 4), n, 1, 0),
		FARG("logits", z, n, 0, 0),
		{ "labels", lab, (size_t)N, 0, 0 },
		FARG("class_w", w, K, 0, 0),
		{ "sets", sets, 256 * sizeof *sets, 0, 0 },
	};
	snprintf(what, sizeof what, "xent %d x %d%s", N, K, partial ?
	    ", partial labels" : "");
	check(what, &c, a, 5);
	float *p = xmalloc_array(n, 4);
	double s[2];
	ref_xent_forward(p, s, z, lab, w, sets, N, K);

	struct call cb = { .fn = do_xent_bwd, { N, K }, { (float)(1 / s[1]) } };
	struct arg b[] = {
		FARG("dlogits", xcalloc(n, 4), n, 1, 0),
		FARG("probs", p, n, 0, 0),
		{ "labels", lab, (size_t)N, 0, 0 },
		FARG("class_w", w, K, 0, 0),
		{ "sets", sets, 256 * sizeof *sets, 0, 0 },
	};
	snprintf(what, sizeof what, "xent backward %d x %d%s", N, K, partial ?
	    ", partial labels" : "");
	check(what, &cb, b, 5);

	struct call cs = { .fn = do_softmax, { N, K } };
	struct arg e[] = {
		FARG("probs", xcalloc(n, 4), n, 1, 0),
		FARG("logits", z, n, 0, 0),
	};
	check("softmax", &cs, e, 2);
	free(a[0].h), free(b[0].h), free(e[0].h);
	free(z), free(w), free(lab), free(sets), free(p);
}

static void
do_adam(const struct nn_ops *o, void **d, const struct call *c)
{
	o->adam_update(F(0), F(1), F(2), CF(3), (size_t)c->i[0], c->f[0],
	    c->f[1], c->f[2], c->f[3], c->f[4], c->i[1]);
}

static void
test_adam(int n, long t)
{
	char what[64];
	float *v = randn(n, 0.1f);
	struct call c = { .fn = do_adam, { n, (int)t }, { 1e-3f, 0.9f, 0.999f,
	    1e-8f, 0.1f } };

	for (int i = 0; i < n; i++)
		v[i] *= v[i];           /* a second moment is >= 0 */
	struct arg a[] = {
		FARG("p", randn(n, 1), n, 1, 0),
		FARG("m", randn(n, 0.1f), n, 1, 0),
		FARG("v", v, n, 1, 0),
		FARG("g", randn(n, 0.1f), n, 0, 0),
	};
	snprintf(what, sizeof what, "adam step %ld, %d values", t, n);
	check(what, &c, a, 4);
	free_args(a, 4);
}

/* The comparison must see an error of 1e-3: otherwise every check above
 * could pass by accident. */
static void
test_comparison(void)
{
	size_t n = 1000;
	float *r = randn(n, 1), *x = xmalloc_array(n, 4);

	memcpy(x, r, n * 4);
	tap_ok(worst_err(x, r, n, RTOL, ATOL) == 0, "comparison: equal "
	    "tensors pass");
	x[n / 2] *= 1.001f;
	x[n / 2] += 1e-3f;
	tap_ok(worst_err(x, r, n, RTOL, ATOL) > 1, "comparison: an error of "
	    "1e-3 fails");
	x[n / 2] = NAN;
	tap_ok(worst_err(x, r, n, RTOL, ATOL) > 1, "comparison: NaN fails");
	free(r);
	free(x);
}

// --- the whole network -------------------------------------------------------

#define UNET_STEPS 4

/* Losses of UNET_STEPS training steps of a tiny net on backend O into
 * LOSS, its first step's gradient into G1, its weights after the first
 * step into W1 and after the last into W (nparams each). */
static void
train_steps(const struct nn_ops *o, const struct unet_config *cfg,
    const float *x, const uint8_t *lab, const float *cw, int B, float *loss,
    float **g1, float **w1, float **w)
{
	struct unet *net = unet_create(&cfg->model, B, 1, o);
	struct adam opt;
	struct rng init;
	uint32_t sets[256] = { 0 };

	sets[200] = 1u << 1 | 1u << 2 | 1u << 3;
	unet_set_partial(net, sets);
	rng_seed(&init, 11);
	unet_init_params(net, &init);
	adam_init(&opt, net, &cfg->train.adam);
	for (int s = 0; s < UNET_STEPS; s++) {
		loss[s] = unet_forward_loss(net, x, lab, cw, B);
		unet_zero_grad(net);
		unet_backward(net, unet_loss_wsum(net));
		if (s == 0) {
			*g1 = xmalloc_array(net->nparams, sizeof(float));
			o->download(*g1, net->grads, net->nparams *
			    sizeof(float));
		}
		adam_step(&opt, net, cfg->train.lr);
		if (s == 0) {
			*w1 = xmalloc_array(net->nparams, sizeof(float));
			o->download(*w1, net->params, net->nparams *
			    sizeof(float));
		}
	}
	*w = xmalloc_array(net->nparams, sizeof(float));
	o->download(*w, net->params, net->nparams * sizeof(float));
	adam_free(&opt, net);
	unet_free(net);
}

static void
test_unet(int norm)
{
	struct unet_config cfg;
	float lx[UNET_STEPS], lr_[UNET_STEPS], *wx, *wr, *w1x, *w1r, *gx, *gr;
	float cw[10];
	int B = 2;

	unet_config_load(&cfg, "share/unet-tiny.yaml", NULL);
	cfg.model.norm = norm ? UNET_NORM_GROUP : UNET_NORM_NONE;
	cfg.model.groups = 2;
	size_t npx = (size_t)B * cfg.model.input_h * cfg.model.input_w;
	float *x = randn(npx * cfg.model.in_channels, 1);
	uint8_t *lab = xmalloc(npx);
	for (size_t i = 0; i < npx; i++) {
		int r = (int)(rng_uniform(&rng) * 20);
		lab[i] = r == 0 ? NN_IGNORE_LABEL : r == 1 ? 200 :
		    (uint8_t)(rng_uniform(&rng) * cfg.model.classes);
	}
	for (int k = 0; k < cfg.model.classes; k++)
		cw[k] = 0.5f + k * 0.2f;
	struct unet *shape = unet_create(&cfg.model, 1, 0, &ref_ops);
	train_steps(X, &cfg, x, lab, cw, B, lx, &gx, &w1x, &wx);
	train_steps(R, &cfg, x, lab, cw, B, lr_, &gr, &w1r, &wr);

	double tol = rtol_gemm > RTOL ? 2 * rtol_gemm : 10 * RTOL, worst = 0;
	for (int s = 0; s < UNET_STEPS; s++)
		worst = fmax(worst, fabs(lx[s] - lr_[s]) / (tol * fabs(lr_[s])));
	tap_ok(worst <= 1, "unet%s: %d training steps on %s give %s's losses "
	    "(%.6f .. %.6f against %.6f .. %.6f): worst error %.3g of the "
	    "tolerance (rtol %.0e)", norm ? " with groupnorm" : "", UNET_STEPS,
	    X->name, R->name, lx[0], lx[UNET_STEPS - 1], lr_[0],
	    lr_[UNET_STEPS - 1], worst, tol);

	// the weights after one step: Adam's first step is lr times the sign
	// of the gradient, so where the two gradients differ in sign or by
	// their own size the steps may differ by up to 2 lr; elsewhere they
	// must agree to 1e-3 lr plus rtol.  The gradients themselves are the
	// op tests' and the losses' business.  After the last step the
	// weights are only shown: by then a leaky ReLU input within rounding
	// of zero may have taken the other slope on one backend, and the
	// runs part (test_nn_golden's comment)
	double lr = cfg.train.lr, floor = 1e-3 * lr, rt = rtol_gemm;
	worst = 0;
	for (size_t i = 0; i < shape->nparams; i++) {
		double d = fabs((double)gx[i] - gr[i]), a = fabs(gr[i]);
		double flip = gx[i] * gr[i] <= 0 ? 1 : fmin(1, 2 * d / a);
		worst = fmax(worst, fabs(w1x[i] - w1r[i]) / (floor + rt *
		    fabs(w1r[i]) + 2 * lr * flip));
	}
	tap_ok(worst <= 1, "unet%s: the weights after 1 step agree: worst "
	    "error %.3g of the tolerance (atol %.1e, rtol %.0e, up to 2 lr "
	    "where the gradients part)", norm ? " with groupnorm" : "", worst,
	    floor, rt);
	worst = 0;
	for (size_t i = 0; i < shape->nparams; i++)
		worst = fmax(worst, fabs(wx[i] - wr[i]) / (UNET_STEPS * lr));
	printf("# unet%s: after %d steps the weights differ by %.3g of the "
	    "total step size at most\n", norm ? " with groupnorm" : "",
	    UNET_STEPS, worst);
	unet_free(shape);
	free(x), free(lab), free(wx), free(wr), free(w1x), free(w1r);
	free(gx), free(gr);
}

// --- perf -------------------------------------------------------------------

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* Time the reference network's heaviest ops on X at batch B. */
static void
perf(int B)
{
	static const int lv[][3] = { { 224, 3, 32 }, { 112, 64, 64 },
	    { 56, 128, 128 }, { 28, 256, 256 }, { 14, 512, 512 } };

	for (size_t i = 0; i < sizeof lv / sizeof lv[0]; i++) {
		int H = lv[i][0], Ci = lv[i][1], Co = lv[i][2], reps = 3;
		size_t np = (size_t)B * H * H, nw = (size_t)9 * Ci * Co;
		float *in = X->alloc(np * Ci * 4), *out = X->alloc(np * Co * 4);
		float *w = X->alloc(nw * 4), *b = X->alloc(Co * 4);
		float *din = X->alloc(np * Ci * 4), *dw = X->alloc(nw * 4);
		double flop = 2.0 * np * nw, t0;

		X->conv3x3_forward(out, in, NULL, w, b, B, H, H, Ci, 0, Co, 0);
		X->sync();
		t0 = now();
		for (int r = 0; r < reps; r++)
			X->conv3x3_forward(out, in, NULL, w, b, B, H, H, Ci, 0,
			    Co, 0);
		X->sync();
		printf("perf: conv3x3 %dx%dx%d %d->%d forward %.1f GFLOP/s\n",
		    B, H, H, Ci, Co, flop * reps / (now() - t0) / 1e9);
		t0 = now();
		for (int r = 0; r < reps; r++)
			X->conv3x3_backward(din, NULL, dw, b, out, in, NULL, w,
			    B, H, H, Ci, 0, Co);
		X->sync();
		printf("perf: conv3x3 %dx%dx%d %d->%d backward %.1f GFLOP/s\n",
		    B, H, H, Ci, Co, 2 * flop * reps / (now() - t0) / 1e9);
		X->free(in), X->free(out), X->free(w), X->free(b);
		X->free(din), X->free(dw);
	}
}

int
main(int argc, char **argv)
{
	const char *only = NULL, *backend = "cpu", *mode = "test";
	struct nn_backend_opts bo = { .threads = 1 };
	char why[256];
	int prec;

	setprogname(argv[0]);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
			only = argv[++i];
		else if (strcmp(argv[i], "-b") == 0 && i + 1 < argc)
			backend = argv[++i];
		else if (strcmp(argv[i], "-m") == 0 && i + 1 < argc)
			mode = argv[++i];
		else if (strcmp(argv[i], "-p") == 0 && i + 1 < argc) {
			if ((prec = nn_precision_lookup(argv[++i])) < 0)
				die("unknown precision '%s'", argv[i]);
			bo.precision = prec;
		} else
			die("usage: test_backend_ops [-b backend] [-o op] "
			    "[-p fp32|tf32|bf16] [-m test|perf]");
	}
	if (only != NULL && nn_op_lookup(only) < 0 &&
	    strcmp(only, "unet") != 0)
		die("unknown op '%s'", only);
	if (strcmp(mode, "test") != 0 && strcmp(mode, "perf") != 0 &&
	    strcmp(mode, "probe") != 0)
		die("unknown mode '%s'", mode);
	X = nn_backend_try(backend, &bo, why, sizeof why);
	if (strcmp(mode, "probe") == 0) {
		printf("%s\n", X != NULL ? X->describe() : why);
		nn_backend_close(X);
		return X != NULL ? 0 : 1;
	}
	if (X == NULL) {
		tap_skip(why);
		return tap_done();
	}
	R = strcmp(X->name, "cpu") == 0 ? &ref_ops : nn_backend_find("cpu");
	if (bo.precision == NN_PREC_TF32)
		rtol_gemm = 1e-2, atol_gemm = 2e-3;
	if (bo.precision == NN_PREC_BF16)
		rtol_gemm = 4e-2, atol_gemm = 1e-2;
	printf("# %s against %s\n", X->describe ? X->describe() : X->name,
	    R->name);
	if (strcmp(mode, "perf") == 0) {
		perf(8);
		nn_backend_close(X);
		return 0;
	}
	rng_seed(&rng, 7);
	test_comparison();

#define RUN(op, call) \
	if (only == NULL || nn_op_lookup(only) == (int)(op)) { call; }
	RUN(NN_OP_CONV3X3, test_conv3x3(2, 5, 7, 3, 0, 4, 1, 0);
	    test_conv3x3(1, 6, 5, 3, 0, 40, 0.1f, 0);
	    test_conv3x3(2, 7, 6, 24, 0, 17, 0.1f, 0);
	    test_conv3x3(1, 9, 9, 16, 0, 32, 0, 0);
	    test_conv3x3(2, 6, 5, 20, 0, 12, 0.1f, 1));
	RUN(NN_OP_CONCAT, test_conv3x3(2, 6, 9, 12, 9, 20, 0.1f, 0);
	    test_conv3x3(1, 5, 5, 3, 2, 4, 1, 0));
	RUN(NN_OP_CONV1X1, test_conv1x1(77, 16, 10); test_conv1x1(5, 3, 7);
	    test_conv1x1(33, 72, 8));
	RUN(NN_OP_CONVT2X2, test_convt2x2(2, 3, 5, 16, 8);
	    test_convt2x2(1, 4, 4, 5, 3));
	RUN(NN_OP_MAXPOOL2X2, test_maxpool(2, 6, 8, 5));
	RUN(NN_OP_ACT, test_pointwise(1001, 0.1f); test_pointwise(37, 0));
	RUN(NN_OP_GROUPNORM, test_groupnorm(2, 35, 12, 4);
	    test_groupnorm(1, 16, 8, 1));
	RUN(NN_OP_XENT, test_xent(500, 10, 0); test_xent(700, 10, 1));
	RUN(NN_OP_ADAM, test_adam(1000, 1); test_adam(333, 7));
	if (only == NULL || strcmp(only, "unet") == 0) {
		test_unet(0);
		test_unet(1);
	}
	nn_backend_close(X);
	return tap_done();
}
