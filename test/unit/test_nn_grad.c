/*
 * test_nn_grad.c - finite-difference gradient checks of every network op
 * and of the whole tiny U-Net, on any backend (default the CPU).
 *
 *	test_nn_grad [-b BACKEND] [-o OP] [-v]
 *
 * Each op is reduced to a scalar L = sum_i r_i * out_i (r fixed random,
 * summed in double), so that its backward pass, fed dout = r, must
 * return dL/d(every input).  The numerical derivative is a central
 * difference, 2-point (exact for ops linear in the checked tensor, up to
 * rounding) or 4-point (O(h^4) truncation, for the smooth nonlinear ops),
 * with a per-op step h.  Points within a few h of a kink (ReLU at 0, a
 * max-pool window whose two largest values are close) are skipped.
 *
 * The error of a tensor is the symmetric relative measure
 *	max_i |a_i - n_i| / max(|a_i| + |n_i|, 1e-2 * max_j (|a_j| + |n_j|))
 * with a the analytic and n the numerical gradient; it is printed per
 * tensor and must be below the op's tolerance.  -b picks the backend
 * (default cpu; a device backend is reached through upload and download,
 * hostview.h, and -H does so for the CPU too), -o OP runs one op (names
 * as nn_op_name(), or "unet"); -v prints every check.  Adam has no
 * gradient: it is checked against the update written out in double.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "util.h"
#include "nn/config.h"
#include "nn/backend.h"
#include "nn/ops.h"
#include "nn/unet.h"
#include "hostview.h"
#include "tap.h"

static const struct nn_ops *ops;
static struct rng rng;
static int verbose;

static float *
randn(size_t n, float scale)
{
	float *p = xmalloc_array(n, sizeof(float));

	for (size_t i = 0; i < n; i++)
		p[i] = scale * rng_normal(&rng);
	return p;
}

static double
dot(const float *r, const float *y, size_t n)
{
	double s = 0;

	for (size_t i = 0; i < n; i++)
		s += (double)r[i] * y[i];
	return s;
}

// --- the checker ------------------------------------------------------------

/* One op under test: loss() runs the forward pass and returns L. */
struct fd {
	double (*loss)(void *ctx);
	void *ctx;
	double h;               /* finite-difference step */
	int four;               /* 4-point stencil */
	double tol;
};

/* Skip test: nonzero if element I of X is too close to a kink. */
typedef int (*skip_fn)(void *ctx, const float *x, size_t i, double h);

/* Compare analytic gradient A (n) of tensor X (n) with finite differences
 * of f->loss; check only every STRIDE-th element if STRIDE > 1. */
static void
check(const char *op, const char *tname, struct fd *f, float *x,
    const float *a, size_t n, size_t stride, skip_fn skip)
{
	double *num = xcalloc(n, sizeof(double)), scale = 0, err = 0;
	size_t worst = 0, nchk = 0;
	char *used = xcalloc(n, 1);

	for (size_t i = 0; i < n; i += stride) {
		float x0 = x[i];
		double h = f->h, d;
		if (skip != NULL && skip(f->ctx, x, i, h))
			continue;
		x[i] = (float)(x0 + h);
		double p1 = f->loss(f->ctx);
		x[i] = (float)(x0 - h);
		double m1 = f->loss(f->ctx);
		// the step actually taken, after rounding to float
		double hh = ((double)(float)(x0 + h) - (float)(x0 - h)) / 2;
		if (f->four) {
			x[i] = (float)(x0 + 2 * h);
			double p2 = f->loss(f->ctx);
			x[i] = (float)(x0 - 2 * h);
			double m2 = f->loss(f->ctx);
			d = (8 * (p1 - m1) - (p2 - m2)) / (12 * hh);
		} else {
			d = (p1 - m1) / (2 * hh);
		}
		x[i] = x0;
		num[i] = d;
		used[i] = 1;
		nchk++;
		if (fabs(a[i]) + fabs(d) > scale)
			scale = fabs(a[i]) + fabs(d);
	}
	for (size_t i = 0; i < n; i++) {
		if (!used[i])
			continue;
		double den = fabs(a[i]) + fabs(num[i]), e;
		if (den < 1e-2 * scale)
			den = 1e-2 * scale;
		e = den > 0 ? fabs(a[i] - num[i]) / den : 0;
		if (verbose)
			printf("# %s %s[%zu] analytic %.8g numeric %.8g\n", op,
			    tname, i, a[i], num[i]);
		if (e > err)
			err = e, worst = i;
	}
	tap_ok(err <= f->tol && nchk > 0, "%s: d%s: %zu of %zu checked, worst "
	    "symmetric rel. error %.2e at %zu (tol %.0e)", op, tname, nchk, n,
	    err, worst, f->tol);
	free(num);
	free(used);
}

/*
 * Directional version for whole networks: the derivative of L along NDIR
 * unit directions v (the gradient's own, then random ones), sum_i a_i v_i
 * against the finite difference of L(x + t v), with the symmetric error
 * floored at a tenth of the gradient's norm.  Float rounding noise in L
 * is the same as for one element, but the signal is the whole gradient's
 * norm rather than one entry.
 */
static void
check_dir(const char *op, const char *tname, struct fd *f, float *x,
    const float *a, size_t n, int ndir)
{
	float *x0 = xmalloc_array(n, sizeof(float));
	double *v = xmalloc_array(n, sizeof(double)), err = 0, an = 0, nu = 0;
	double gnorm = 0;

	for (size_t i = 0; i < n; i++)
		gnorm += (double)a[i] * a[i];
	gnorm = sqrt(gnorm);

	memcpy(x0, x, n * sizeof(float));
	for (int k = 0; k < ndir; k++) {
		double norm = 0, ga = 0, l[4];
		static const double at[4] = { 1, -1, 2, -2 };
		// the first direction is the gradient itself
		for (size_t i = 0; i < n; i++) {
			v[i] = k == 0 ? a[i] : rng_normal(&rng);
			norm += v[i] * v[i];
		}
		if (norm == 0)
			continue;
		norm = sqrt(norm);
		for (size_t i = 0; i < n; i++)
			ga += a[i] * (v[i] /= norm);
		for (int s = 0; s < 4; s++) {
			for (size_t i = 0; i < n; i++)
				x[i] = (float)(x0[i] + at[s] * f->h * v[i]);
			l[s] = f->loss(f->ctx);
		}
		memcpy(x, x0, n * sizeof(float));
		double d = (8 * (l[0] - l[1]) - (l[2] - l[3])) / (12 * f->h);
		// |g.v| <= |g|: errors are measured against at least |g|/10
		double e = fabs(ga - d) / fmax(fabs(ga) + fabs(d), 0.1 * gnorm);
		if (e > err)
			err = e, an = ga, nu = d;
	}
	tap_ok(err <= f->tol, "%s: d%s: %d directions, worst symmetric rel. "
	    "error %.2e (analytic %.6g numeric %.6g, tol %.0e)", op, tname,
	    ndir, err, an, nu, f->tol);
	free(x0);
	free(v);
}

// --- conv3x3 ----------------------------------------------------------------

struct conv_ctx {
	int B, H, W, Cin, Cout, kind;   /* kind 0: 3x3, 1: 1x1, 2: T2x2 */
	float *x, *w, *b, *y, *r;
	size_t nx, nw, ny;
};

static void
conv_fwd(struct conv_ctx *c)
{
	switch (c->kind) {
	case 0:
		ops->conv3x3_forward(c->y, c->x, NULL, c->w, c->b, c->B, c->H,
		    c->W, c->Cin, 0, c->Cout, 1);
		break;
	case 1:
		ops->conv1x1_forward(c->y, c->x, c->w, c->b, c->B * c->H * c->W,
		    c->Cin, c->Cout);
		break;
	case 2:
		ops->convt2x2_forward(c->y, c->x, c->w, c->b, c->B, c->H, c->W,
		    c->Cin, c->Cout);
		break;
	}
}

static double
conv_loss(void *ctx)
{
	struct conv_ctx *c = ctx;

	conv_fwd(c);
	return dot(c->r, c->y, c->ny);
}

static void
test_conv(int kind)
{
	static const enum nn_op opk[] = { NN_OP_CONV3X3, NN_OP_CONV1X1,
	    NN_OP_CONVT2X2 };
	const char *op = nn_op_name(opk[kind]);
	struct conv_ctx c = { .B = 2, .H = 5, .W = 6, .Cin = 3, .Cout = 4,
	    .kind = kind };
	float *dx, *dw, *db;

	if (kind == 2)
		c.H = 3, c.W = 4, c.Cin = 5, c.Cout = 3;
	c.nx = (size_t)c.B * c.H * c.W * c.Cin;
	c.nw = (size_t)(kind == 0 ? 9 : kind == 1 ? 1 : 4) * c.Cin * c.Cout;
	c.ny = (size_t)c.B * c.H * c.W * c.Cout * (kind == 2 ? 4 : 1);
	c.x = randn(c.nx, 1);
	c.w = randn(c.nw, 0.5f);
	c.b = randn(c.Cout, 0.5f);
	c.y = randn(c.ny, 1);           /* garbage: forward must overwrite */
	c.r = randn(c.ny, 1);
	dx = randn(c.nx, 1);            /* garbage: backward must overwrite */
	dw = xcalloc(c.nw, sizeof(float));
	db = xcalloc(c.Cout, sizeof(float));

	switch (kind) {
	case 0:
		ops->conv3x3_backward(dx, NULL, dw, db, c.r, c.x, NULL, c.w,
		    c.B, c.H, c.W, c.Cin, 0, c.Cout);
		break;
	case 1:
		ops->conv1x1_backward(dx, dw, db, c.r, c.x, c.w,
		    c.B * c.H * c.W, c.Cin, c.Cout);
		break;
	case 2:
		ops->convt2x2_backward(dx, dw, db, c.r, c.x, c.w, c.B, c.H, c.W,
		    c.Cin, c.Cout);
		break;
	}
	struct fd f = { conv_loss, &c, 1e-1, 0, 1e-3 };
	check(op, "inp", &f, c.x, dx, c.nx, 1, NULL);
	check(op, "w", &f, c.w, dw, c.nw, 1, NULL);
	check(op, "bias", &f, c.b, db, c.Cout, 1, NULL);

	// parameter gradients accumulate: a second backward doubles them
	float *dw2 = xmalloc_array(c.nw, sizeof(float));
	memcpy(dw2, dw, c.nw * sizeof(float));
	switch (kind) {
	case 0:
		ops->conv3x3_backward(NULL, NULL, dw, db, c.r, c.x, NULL, c.w,
		    c.B, c.H, c.W, c.Cin, 0, c.Cout);
		break;
	case 1:
		ops->conv1x1_backward(NULL, dw, db, c.r, c.x, c.w,
		    c.B * c.H * c.W, c.Cin, c.Cout);
		break;
	case 2:
		ops->convt2x2_backward(NULL, dw, db, c.r, c.x, c.w, c.B, c.H,
		    c.W, c.Cin, c.Cout);
		break;
	}
	int acc = 1;
	for (size_t i = 0; i < c.nw; i++)
		acc &= tap_close(dw[i], 2 * dw2[i], 1e-6, 1e-5);
	tap_ok(acc, "%s: backward accumulates dw (+=), dinp may be NULL", op);

	free(c.x), free(c.w), free(c.b), free(c.y), free(c.r);
	free(dx), free(dw), free(db), free(dw2);
}

// --- maxpool ----------------------------------------------------------------

struct pool_ctx {
	int B, H, W, C;
	float *x, *y, *r;
	size_t nx, ny;
};

static double
pool_loss(void *ctx)
{
	struct pool_ctx *c = ctx;

	ops->maxpool2x2_forward(c->y, c->x, c->B, c->H, c->W, c->C);
	return dot(c->r, c->y, c->ny);
}

/* Skip an element whose window holds another value within 3h of it. */
static int
pool_skip(void *ctx, const float *x, size_t i, double h)
{
	struct pool_ctx *c = ctx;
	size_t ch = i % c->C, px = i / c->C;
	int xx = (int)(px % c->W), yy = (int)(px / c->W % c->H);
	int b = (int)(px / c->W / c->H), y0 = yy & ~1, x0 = xx & ~1;

	for (int dy = 0; dy < 2; dy++)
		for (int dx = 0; dx < 2; dx++) {
			size_t j = (((size_t)b * c->H + y0 + dy) * c->W + x0 +
			    dx) * c->C + ch;
			if (j != i && fabs(x[j] - x[i]) < 3 * h)
				return 1;
		}
	return 0;
}

static void
test_maxpool(void)
{
	struct pool_ctx c = { .B = 2, .H = 6, .W = 4, .C = 3 };
	float *dx;

	c.nx = (size_t)c.B * c.H * c.W * c.C;
	c.ny = c.nx / 4;
	c.x = randn(c.nx, 1);
	c.y = randn(c.ny, 1);
	c.r = randn(c.ny, 1);
	dx = randn(c.nx, 1);
	ops->maxpool2x2_forward(c.y, c.x, c.B, c.H, c.W, c.C);
	ops->maxpool2x2_backward(dx, c.r, c.x, c.y, c.B, c.H, c.W, c.C);
	struct fd f = { pool_loss, &c, 1e-3, 0, 1e-3 };
	check("maxpool2x2", "inp", &f, c.x, dx, c.nx, 1, pool_skip);

	// ties: the gradient goes to exactly one element of the window
	float x4[4] = { 1, 1, 1, 1 }, y1, d1 = 1, dx4[4];
	ops->maxpool2x2_forward(&y1, x4, 1, 2, 2, 1);
	ops->maxpool2x2_backward(dx4, &d1, x4, &y1, 1, 2, 2, 1);
	tap_ok(dx4[0] == 1 && dx4[1] == 0 && dx4[2] == 0 && dx4[3] == 0,
	    "maxpool2x2: a tie routes the gradient to the first maximum");
	free(c.x), free(c.y), free(c.r), free(dx);
}

// --- concat (the 3x3 conv's second input) -----------------------------------

struct cat_ctx {
	int B, H, W, C1, C2, Cout;
	float *x1, *x2, *w, *b, *y, *r;
	size_t ny;
};

static double
cat_loss(void *ctx)
{
	struct cat_ctx *c = ctx;

	ops->conv3x3_forward(c->y, c->x1, c->x2, c->w, c->b, c->B, c->H, c->W,
	    c->C1, c->C2, c->Cout, 1);
	return dot(c->r, c->y, c->ny);
}

/*
 * The concat is fused into the 3x3 conv: conv([x1 | x2]) with two inputs
 * must equal the one-input conv of the explicitly concatenated tensor,
 * bit for bit (same im2col rows), and its gradients must split as the
 * finite differences say.
 */
static void
test_concat(int C1, int C2, int Cout)
{
	struct cat_ctx c = { .B = 2, .H = 4, .W = 5, .C1 = C1, .C2 = C2,
	    .Cout = Cout };
	size_t px = (size_t)c.B * c.H * c.W, nw = 9 * (c.C1 + c.C2) * c.Cout;
	int C = c.C1 + c.C2;
	float *d1, *d2, *dw, *db, *xc, *yc;

	c.ny = px * c.Cout;
	c.x1 = randn(px * c.C1, 1);
	c.x2 = randn(px * c.C2, 1);
	c.w = randn(nw, 0.5f);
	c.b = randn(c.Cout, 0.5f);
	c.y = randn(c.ny, 1);
	c.r = randn(c.ny, 1);
	d1 = randn(px * c.C1, 1);
	d2 = randn(px * c.C2, 1);
	dw = xcalloc(nw, sizeof(float));
	db = xcalloc(c.Cout, sizeof(float));

	xc = xmalloc_array(px * C, sizeof(float));
	yc = xmalloc_array(c.ny, sizeof(float));
	for (size_t p = 0; p < px; p++) {
		memcpy(xc + p * C, c.x1 + p * c.C1, c.C1 * sizeof(float));
		memcpy(xc + p * C + c.C1, c.x2 + p * c.C2,
		    c.C2 * sizeof(float));
	}
	cat_loss(&c);
	ops->conv3x3_forward(yc, xc, NULL, c.w, c.b, c.B, c.H, c.W, C, 0,
	    c.Cout, 1);
	tap_ok(memcmp(yc, c.y, c.ny * sizeof(float)) == 0,
	    "concat: conv of [x1 | x2] = conv of the concatenated tensor");

	ops->conv3x3_backward(d1, d2, dw, db, c.r, c.x1, c.x2, c.w, c.B, c.H,
	    c.W, c.C1, c.C2, c.Cout);
	struct fd f = { cat_loss, &c, 1e-1, 0, 1e-3 };
	check("concat", "inp", &f, c.x1, d1, px * c.C1, 1, NULL);
	check("concat", "inp2", &f, c.x2, d2, px * c.C2, 1, NULL);
	check("concat", "w", &f, c.w, dw, nw, 1, NULL);
	free(c.x1), free(c.x2), free(c.w), free(c.b), free(c.y), free(c.r);
	free(d1), free(d2), free(dw), free(db), free(xc), free(yc);
}

// --- 3x3 conv against the direct sum ---------------------------------------

/*
 * From CPU_WINO_MIN_C channels the CPU backend convolves by Winograd
 * F(2x2, 3x3), whose rounding differs from the direct sum.  Forward, input
 * gradient and weight gradient are compared with the direct sums in
 * double, on odd image sizes (partial tiles) and a two-input conv; the
 * error is relative to the largest reference value.  The inference conv
 * (conv3x3_infer: on the CPU F(4x4, 3x3) where it has fewer products,
 * which the sizes below mostly choose) is held to the same bound, with
 * and without its fused activation.
 */
static void
test_conv_direct(int B, int H, int W, int C1, int C2, int Cout)
{
	int C = C1 + C2;
	size_t px = (size_t)B * H * W, nw = (size_t)9 * C * Cout;
	float *x1 = randn(px * C1, 1), *x2 = C2 ? randn(px * C2, 1) : NULL;
	float *w = randn(nw, 0.2f), *b = randn(Cout, 0.5f);
	float *y = randn(px * Cout, 1), *r = randn(px * Cout, 1);
	float *d1 = randn(px * C1, 1), *d2 = C2 ? randn(px * C2, 1) : NULL;
	float *dw = xcalloc(nw, sizeof(float)), *db = xcalloc(Cout, 4);
	double *ry = xcalloc(px * Cout, sizeof(double));
	double *rdx = xcalloc(px * C, sizeof(double));
	double *rdw = xcalloc(nw, sizeof(double));

	ops->conv3x3_forward(y, x1, x2, w, b, B, H, W, C1, C2, Cout, 1);
	ops->conv3x3_backward(d1, d2, dw, db, r, x1, x2, w, B, H, W, C1, C2,
	    Cout);
	for (size_t p = 0; p < px; p++) {
		int bb = (int)(p / ((size_t)H * W)), yy = (int)(p / W % H);
		int xx = (int)(p % W);
		for (int t = 0; t < 9; t++) {
			int sy = yy + t / 3 - 1, sx = xx + t % 3 - 1;
			if (sy < 0 || sy >= H || sx < 0 || sx >= W)
				continue;
			size_t q = ((size_t)bb * H + sy) * W + sx;
			for (int ci = 0; ci < C; ci++) {
				double xv = ci < C1 ? x1[q * C1 + ci] :
				    x2[q * C2 + ci - C1];
				const float *wr = w + ((size_t)t * C + ci) *
				    Cout;
				for (int co = 0; co < Cout; co++) {
					ry[p * Cout + co] += xv * wr[co];
					rdx[q * C + ci] += (double)r[p * Cout +
					    co] * wr[co];
					rdw[((size_t)t * C + ci) * Cout + co] +=
					    xv * r[p * Cout + co];
				}
			}
		}
		for (int co = 0; co < Cout; co++)
			ry[p * Cout + co] += b[co];
	}
	double ey = 0, my = 0, ex = 0, mx = 0, ew = 0, mw = 0;
	for (size_t i = 0; i < px * Cout; i++) {
		ey = fmax(ey, fabs(y[i] - ry[i]));
		my = fmax(my, fabs(ry[i]));
	}
	for (size_t p = 0; p < px; p++)
		for (int ci = 0; ci < C; ci++) {
			double g = ci < C1 ? d1[p * C1 + ci] :
			    d2[p * C2 + ci - C1];
			ex = fmax(ex, fabs(g - rdx[p * C + ci]));
			mx = fmax(mx, fabs(rdx[p * C + ci]));
		}
	for (size_t i = 0; i < nw; i++) {
		ew = fmax(ew, fabs(dw[i] - rdw[i]));
		mw = fmax(mw, fabs(rdw[i]));
	}
	tap_ok(ey < 1e-5 * my && ex < 1e-5 * mx && ew < 1e-5 * mw,
	    "conv3x3 %dx%dx%d, %d+%d -> %d channels = direct sum (rel err "
	    "out %.1e, inp %.1e, w %.1e)", B, H, W, C1, C2, Cout, ey / my,
	    ex / mx, ew / mw);
	// the fused leaky ReLU is that of the conv's output
	float *ya = xmalloc_array(px * Cout, sizeof(float));
	int fu = 1;
	ops->conv3x3_forward(ya, x1, x2, w, b, B, H, W, C1, C2, Cout, 0.1f);
	for (size_t i = 0; i < px * Cout; i++)
		fu &= ya[i] == (y[i] > 0 ? y[i] : 0.1f * y[i]);
	tap_ok(fu, "conv3x3 %d+%d -> %d channels: fused leaky ReLU", C1, C2,
	    Cout);
	if (ops->conv3x3_infer != NULL) {
		double ei = 0;
		ops->conv3x3_infer(ya, x1, x2, w, b, B, H, W, C1, C2, Cout, 1);
		for (size_t i = 0; i < px * Cout; i++)
			ei = fmax(ei, fabs(ya[i] - ry[i]));
		tap_ok(ei < 1e-5 * my, "conv3x3_infer %dx%dx%d, %d+%d -> %d "
		    "channels = direct sum (rel err %.1e)", B, H, W, C1, C2,
		    Cout, ei / my);
		// its leaky ReLU is that of its own output
		float *yi = xmalloc_array(px * Cout, sizeof(float));
		fu = 1;
		ops->conv3x3_infer(yi, x1, x2, w, b, B, H, W, C1, C2, Cout,
		    0.1f);
		for (size_t i = 0; i < px * Cout; i++)
			fu &= yi[i] == (ya[i] > 0 ? ya[i] : 0.1f * ya[i]);
		tap_ok(fu, "conv3x3_infer %d+%d -> %d channels: fused leaky "
		    "ReLU", C1, C2, Cout);
		free(yi);
	}
	free(ya);
	// and dw accumulates
	float *dw1 = xmalloc_array(nw, sizeof(float));
	int acc = 1;
	memcpy(dw1, dw, nw * sizeof(float));
	ops->conv3x3_backward(NULL, NULL, dw, db, r, x1, x2, w, B, H, W, C1,
	    C2, Cout);
	for (size_t i = 0; i < nw; i++)
		acc &= tap_close(dw[i], 2 * dw1[i], 1e-6, 1e-5);
	tap_ok(acc, "conv3x3 %d+%d -> %d channels: dw accumulates (+=)", C1,
	    C2, Cout);
	free(dw1);
	free(x1), free(x2), free(w), free(b), free(y), free(r), free(d1);
	free(d2), free(dw), free(db), free(ry), free(rdx), free(rdw);
}

// --- activation -------------------------------------------------------------

struct act_ctx {
	size_t n;
	float alpha;
	float *x, *y, *r;
};

static double
act_loss(void *ctx)
{
	struct act_ctx *c = ctx;

	ops->act_forward(c->y, c->x, c->n, c->alpha);
	return dot(c->r, c->y, c->n);
}

static int
act_skip(void *ctx, const float *x, size_t i, double h)
{
	return fabs(x[i]) < 3 * h;
}

static void
test_act(float alpha)
{
	struct act_ctx c = { .n = 60, .alpha = alpha };
	char name[32];
	float *dx;

	snprintf(name, sizeof(name), "act(alpha=%g)", alpha);
	c.x = randn(c.n, 1);
	c.y = randn(c.n, 1);
	c.r = randn(c.n, 1);
	dx = randn(c.n, 1);
	ops->act_forward(c.y, c.x, c.n, c.alpha);
	ops->act_backward(dx, c.r, c.y, c.n, c.alpha);
	struct fd f = { act_loss, &c, 1e-3, 0, 1e-4 };
	check(name, "inp", &f, c.x, dx, c.n, 1, act_skip);

	// in place: out == inp and dinp == dout give the same results
	float *y2 = xmalloc_array(c.n, sizeof(float));
	float *d2 = xmalloc_array(c.n, sizeof(float));
	memcpy(y2, c.x, c.n * sizeof(float));
	ops->act_forward(y2, y2, c.n, c.alpha);
	ops->act_forward(c.y, c.x, c.n, c.alpha);
	memcpy(d2, c.r, c.n * sizeof(float));
	ops->act_backward(d2, d2, y2, c.n, c.alpha);
	tap_ok(memcmp(y2, c.y, c.n * 4) == 0 && memcmp(d2, dx, c.n * 4) == 0,
	    "%s: in place gives the same forward and backward", name);
	free(c.x), free(c.y), free(c.r), free(dx), free(y2), free(d2);
}

// --- group norm -------------------------------------------------------------

struct gn_ctx {
	int B, HW, C, G;
	float *x, *g, *b, *y, *r, *mean, *rstd;
	size_t n;
};

static double
gn_loss(void *ctx)
{
	struct gn_ctx *c = ctx;

	ops->groupnorm_forward(c->y, c->mean, c->rstd, c->x, c->g, c->b, c->B,
	    c->HW, c->C, c->G, 1e-5f);
	return dot(c->r, c->y, c->n);
}

static void
test_groupnorm(void)
{
	struct gn_ctx c = { .B = 2, .HW = 12, .C = 6, .G = 3 };
	float *dx, *dg, *db;

	c.n = (size_t)c.B * c.HW * c.C;
	c.x = randn(c.n, 2);
	for (size_t i = 0; i < c.n; i++)
		c.x[i] += 1;            /* a non-zero mean */
	c.g = randn(c.C, 1);
	c.b = randn(c.C, 1);
	c.y = randn(c.n, 1);
	c.r = randn(c.n, 1);
	c.mean = xmalloc_array(c.B * c.G, sizeof(float));
	c.rstd = xmalloc_array(c.B * c.G, sizeof(float));
	dx = randn(c.n, 1);
	dg = xcalloc(c.C, sizeof(float));
	db = xcalloc(c.C, sizeof(float));
	gn_loss(&c);
	ops->groupnorm_backward(dx, dg, db, c.r, c.x, c.mean, c.rstd, c.g,
	    c.B, c.HW, c.C, c.G);
	struct fd f = { gn_loss, &c, 1e-1, 1, 1e-3 };
	check("groupnorm", "inp", &f, c.x, dx, c.n, 1, NULL);
	check("groupnorm", "gamma", &f, c.g, dg, c.C, 1, NULL);
	check("groupnorm", "beta", &f, c.b, db, c.C, 1, NULL);
	free(c.x), free(c.g), free(c.b), free(c.y), free(c.r);
	free(c.mean), free(c.rstd), free(dx), free(dg), free(db);
}

// --- weighted cross-entropy -------------------------------------------------

struct xent_ctx {
	int N, K;
	float *z, *p, *w;
	uint8_t *lab;
	uint32_t *sets;         /* NULL: no partial labels */
};

static double
xent_loss(void *ctx)
{
	struct xent_ctx *c = ctx;
	double s[2];

	ops->xent_forward(c->p, s, c->z, c->lab, c->w, c->sets, c->N, c->K);
	return s[0] / s[1];
}

static void
test_xent(void)
{
	struct xent_ctx c = { .N = 24, .K = 5 };
	float *dz;
	double s[2], ref = 0, wsum = 0;

	c.z = randn((size_t)c.N * c.K, 2);
	c.p = randn((size_t)c.N * c.K, 1);
	c.w = xmalloc_array(c.K, sizeof(float));
	c.lab = xmalloc(c.N);
	for (int k = 0; k < c.K; k++)
		c.w[k] = 0.2f + (float)rng_uniform(&rng) * 4;
	for (int n = 0; n < c.N; n++)
		c.lab[n] = n % 6 == 5 ? NN_IGNORE_LABEL : rng_below(&rng, c.K);
	dz = randn((size_t)c.N * c.K, 1);
	ops->xent_forward(c.p, s, c.z, c.lab, c.w, NULL, c.N, c.K);
	ops->xent_backward(dz, c.p, c.lab, c.w, NULL, (float)(1 / s[1]), c.N,
	    c.K);
	struct fd f = { xent_loss, &c, 1e-2, 1, 1e-3 };
	check("xent", "logits", &f, c.z, dz, (size_t)c.N * c.K, 1, NULL);

	// the loss itself, written out in double
	for (int n = 0; n < c.N; n++) {
		const float *z = c.z + (size_t)n * c.K;
		double se = 0;
		if (c.lab[n] == NN_IGNORE_LABEL)
			continue;
		for (int k = 0; k < c.K; k++)
			se += exp(z[k]);
		ref += c.w[c.lab[n]] * (log(se) - z[c.lab[n]]);
		wsum += c.w[c.lab[n]];
	}
	tap_ok(tap_close(s[0] / s[1], ref / wsum, 1e-6, 1e-6) &&
	    tap_close(s[1], wsum, 1e-6, 1e-6),
	    "xent: loss %.8f = sum w*CE / sum w = %.8f, ignore label skipped",
	    s[0] / s[1], ref / wsum);
	free(c.z), free(c.p), free(c.w), free(c.lab), free(dz);
}

/* Partial labels: 200 = any of classes {1, 2, 3}, 201 = {4} alone (which
 * must score as label 4 does), beside classes and the ignore label. */
static void
test_xent_partial(void)
{
	struct xent_ctx c = { .N = 30, .K = 5 };
	uint32_t *sets = xcalloc(256, sizeof *sets);
	float *dz, *p1, *dz1;
	double s[2], s1[2], ref = 0, wsum = 0;

	sets[200] = 1u << 1 | 1u << 2 | 1u << 3;
	sets[201] = 1u << 4;
	c.sets = sets;
	c.z = randn((size_t)c.N * c.K, 2);
	c.p = randn((size_t)c.N * c.K, 1);
	c.w = xmalloc_array(c.K, sizeof(float));
	c.lab = xmalloc(c.N);
	for (int k = 0; k < c.K; k++)
		c.w[k] = 0.2f + (float)rng_uniform(&rng) * 4;
	for (int n = 0; n < c.N; n++)
		c.lab[n] = n % 5 == 4 ? NN_IGNORE_LABEL : n % 5 == 3 ? 200 :
		    n % 5 == 2 ? 201 : rng_below(&rng, c.K);
	dz = randn((size_t)c.N * c.K, 1);
	ops->xent_forward(c.p, s, c.z, c.lab, c.w, sets, c.N, c.K);
	ops->xent_backward(dz, c.p, c.lab, c.w, sets, (float)(1 / s[1]), c.N,
	    c.K);
	struct fd f = { xent_loss, &c, 1e-2, 1, 1e-3 };
	check("xent partial", "logits", &f, c.z, dz, (size_t)c.N * c.K, 1,
	    NULL);

	for (int n = 0; n < c.N; n++) {
		const float *z = c.z + (size_t)n * c.K;
		double se = 0, ss = 0, w = 0;
		int y = c.lab[n], m = 0;
		if (y == NN_IGNORE_LABEL)
			continue;
		for (int k = 0; k < c.K; k++) {
			int in = y < c.K ? k == y : (int)(sets[y] >> k & 1);
			se += exp(z[k]);
			ss += in ? exp(z[k]) : 0;
			w += in ? c.w[k] : 0;
			m += in;
		}
		ref += w / m * (log(se) - log(ss));
		wsum += w / m;
	}
	tap_ok(tap_close(s[0] / s[1], ref / wsum, 1e-6, 1e-6) &&
	    tap_close(s[1], wsum, 1e-6, 1e-6),
	    "xent partial: loss %.8f = -log of the set's probability, "
	    "weighted by the members' mean = %.8f", s[0] / s[1], ref / wsum);

	/* the set of one class is that class, in loss and gradient */
	p1 = randn((size_t)c.N * c.K, 1);
	dz1 = randn((size_t)c.N * c.K, 1);
	for (int n = 0; n < c.N; n++)
		if (c.lab[n] == 201)
			c.lab[n] = 4;
	ops->xent_forward(p1, s1, c.z, c.lab, c.w, sets, c.N, c.K);
	ops->xent_backward(dz1, p1, c.lab, c.w, sets, (float)(1 / s1[1]),
	    c.N, c.K);
	double dmax = 0;
	for (size_t i = 0; i < (size_t)c.N * c.K; i++)
		dmax = fmax(dmax, fabs(dz1[i] - dz[i]));
	tap_ok(tap_close(s1[0], s[0], 1e-9, 1e-9) &&
	    tap_close(s1[1], s[1], 1e-9, 1e-9) && dmax < 1e-6,
	    "xent partial: a one-class set scores as that class "
	    "(loss %.8f vs %.8f, gradient differs by %.2g)", s1[0] / s1[1],
	    s[0] / s[1], dmax);
	free(c.z), free(c.p), free(c.w), free(c.lab), free(dz), free(p1);
	free(dz1), free(sets);
}

// --- Adam -------------------------------------------------------------------

static void
test_adam(void)
{
	size_t n = 50;
	float *p = randn(n, 1), *m = xcalloc(n, 4), *v = xcalloc(n, 4), *g;
	double *pr = xcalloc(n, 8), *mr = xcalloc(n, 8), *vr = xcalloc(n, 8);
	float lr = 1e-2f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f, wd = 0.1f;
	double err = 0;

	for (size_t i = 0; i < n; i++)
		pr[i] = p[i];
	for (long t = 1; t <= 5; t++) {
		g = randn(n, 1);
		ops->adam_update(p, m, v, g, n, lr, b1, b2, eps, wd, t);
		for (size_t i = 0; i < n; i++) {
			pr[i] -= lr * wd * pr[i];
			mr[i] = b1 * mr[i] + (1 - b1) * g[i];
			vr[i] = b2 * vr[i] + (1 - b2) * (double)g[i] * g[i];
			double mh = mr[i] / (1 - pow(b1, t));
			double vh = vr[i] / (1 - pow(b2, t));
			pr[i] -= lr * mh / (sqrt(vh) + eps);
		}
		free(g);
	}
	for (size_t i = 0; i < n; i++)
		if (fabs(p[i] - pr[i]) > err)
			err = fabs(p[i] - pr[i]);
	tap_ok(err < 1e-6, "adam: 5 AdamW steps match the double formula "
	    "(max abs error %.2e)", err);
	free(p), free(m), free(v), free(pr), free(mr), free(vr);
}

// --- the whole network ------------------------------------------------------

struct net_ctx {
	struct unet *net;
	float *x, *cw;
	uint8_t *lab;
	int B;
};

static double
net_loss(void *ctx)
{
	struct net_ctx *c = ctx;

	unet_forward_loss(c->net, c->x, c->lab, c->cw, c->B);
	return c->net->sums[0] / c->net->sums[1];
}

/* The smallest gap between the largest and second largest value of any
 * max-pool window of the last forward pass (CPU memory is host memory). */
static double
min_pool_gap(const struct unet *net)
{
	const struct unet_arch *c = &net->arch;
	double gap = INFINITY;

	for (int l = 0; l < c->nlevels; l++) {
		int H = c->input_h >> l, W = c->input_w >> l, C = c->widths[l];
		const float *a = unet_skip(net, l);
		size_t nout = (size_t)net->B * (H / 2) * (W / 2) * C;
		// output element o = ((b*H/2 + y)*W/2 + x)*C + ch
		for (size_t o = 0; o < nout; o++) {
			size_t ch = o % C, px = o / C, x = px % (W / 2);
			size_t by = px / (W / 2);       /* b*H/2 + y */
			const float *p = a + ((2 * by * W) + 2 * x) * C + ch;
			float v[4] = { p[0], p[C], p[(size_t)W * C],
			    p[(size_t)W * C + C] };
			float m1 = -INFINITY, m2 = -INFINITY;
			for (int k = 0; k < 4; k++) {
				if (v[k] > m1)
					m2 = m1, m1 = v[k];
				else if (v[k] > m2)
					m2 = v[k];
			}
			gap = fmin(gap, m1 - m2);
		}
	}
	return gap;
}

/*
 * The tiny network's loss against its parameter gradients, along the
 * gradient's own direction (the largest signal) and two random ones.  The
 * activation is leaky ReLU with slope 1, i.e. the identity: the kinks of
 * the real activation are checked by the act test, and here they would
 * only add noise.  Max-pool switches are avoided by drawing inputs until
 * the best of 50 random inputs, whose pool windows' top two values are
 * all several steps apart.  What remains is float rounding in the forward
 * pass (about 1e-3 of |g| here), hence the 2% tolerance, which still
 * catches any wrong index or missing term; the golden test against
 * PyTorch checks the real network's gradients to 1e-4.
 */
static void
test_unet(enum unet_norm norm)
{
	struct unet_config cfg;
	struct net_ctx c = { .B = 2 };
	char op[32];
	double h = 3e-3, gap, best = 0;
	float *xbest;

	unet_config_default(&cfg);
	cfg.model.input_h = cfg.model.input_w = 8;
	cfg.model.nlevels = 2;
	cfg.model.widths[0] = 4, cfg.model.widths[1] = 4;
	cfg.model.bottleneck = 8;
	cfg.model.classes = 3;
	cfg.model.norm = norm;
	cfg.model.groups = 2;
	cfg.model.alpha = 1;
	snprintf(op, sizeof(op), "unet(norm=%s)", unet_norm_name(norm));

	c.net = unet_create(&cfg.model, c.B, 1, ops);
	unet_init_params(c.net, &rng);
	size_t npx = (size_t)c.B * 8 * 8;
	c.x = xmalloc_array(npx * 3, sizeof(float));
	c.lab = xmalloc(npx);
	for (size_t i = 0; i < npx; i++)
		c.lab[i] = i % 7 == 3 ? NN_IGNORE_LABEL : rng_below(&rng, 3);
	c.cw = xmalloc_array(3, sizeof(float));
	c.cw[0] = 0.5f, c.cw[1] = 2, c.cw[2] = 1;
	xbest = xmalloc_array(npx * 3, sizeof(float));
	for (int tries = 0; tries < 50; tries++) {
		for (size_t i = 0; i < npx * 3; i++)
			c.x[i] = rng_normal(&rng);
		unet_forward_loss(c.net, c.x, c.lab, c.cw, c.B);
		if ((gap = min_pool_gap(c.net)) > best) {
			best = gap;
			memcpy(xbest, c.x, npx * 3 * sizeof(float));
		}
	}
	memcpy(c.x, xbest, npx * 3 * sizeof(float));
	free(xbest);
	tap_ok(best > 4 * h, "%s: input with max-pool gaps >= %.3g, > 4 steps",
	    op, best);

	unet_forward_loss(c.net, c.x, c.lab, c.cw, c.B);
	unet_zero_grad(c.net);
	unet_backward(c.net, unet_loss_wsum(c.net));

	struct fd f = { net_loss, &c, h, 1, 2e-2 };
	for (int i = 0; i < c.net->nptab; i++) {
		const struct unet_param *p = &c.net->ptab[i];
		check_dir(op, p->name, &f, c.net->params + p->off,
		    c.net->grads + p->off, p->n, 3);
	}
	unet_free(c.net);
	free(c.x), free(c.lab), free(c.cw);
}

// --- main -------------------------------------------------------------------

int
main(int argc, char **argv)
{
	const char *only = NULL, *backend = "cpu";
	int hview = 0;

	setprogname(argv[0]);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
			only = argv[++i];
		else if (strcmp(argv[i], "-b") == 0 && i + 1 < argc)
			backend = argv[++i];
		else if (strcmp(argv[i], "-v") == 0)
			verbose = 1;
		else if (strcmp(argv[i], "-H") == 0)
			hview = 1;
		else
			die("usage: test_nn_grad [-b backend] [-o op] [-v] [-H]");
	}
	if (only != NULL && nn_op_lookup(only) < 0 && strcmp(only, "unet") != 0)
		die("unknown op '%s'", only);
	/* the checks read and write the ops' tensors on the host: any
	 * other backend is reached through upload and download */
	ops = nn_backend_open(backend, NULL);
	if (!ops->host_memory || hview)
		ops = hostview(ops);
	rng_seed(&rng, 42);

#define RUN(name, call) \
	if (only == NULL || strcmp(only, name) == 0) { call; }
	RUN("conv3x3", test_conv(0));
	RUN("conv1x1", test_conv(1));
	RUN("convt2x2", test_conv(2));
	RUN("maxpool2x2", test_maxpool());
	RUN("conv3x3", test_conv_direct(2, 5, 7, 3, 0, 4);
	    test_conv_direct(2, 7, 5, 24, 0, 17);
	    test_conv_direct(3, 6, 9, 12, 9, 20);
	    test_conv_direct(1, 1, 3, 16, 0, 16);
	    test_conv_direct(2, 12, 13, 48, 16, 40));
	RUN("concat", test_concat(3, 2, 4); test_concat(11, 7, 16));
	RUN("act", test_act(0.1f); test_act(0));
	RUN("groupnorm", test_groupnorm());
	RUN("xent", test_xent());
	RUN("xent", test_xent_partial());
	RUN("adam", test_adam());
	RUN("unet", test_unet(UNET_NORM_NONE); test_unet(UNET_NORM_GROUP));
	return tap_done();
}
