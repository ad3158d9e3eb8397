/*
 * hostview.h - any backend seen as a host-memory one, for the tests that
 * read and write an op's tensors on the host (the gradient checks).
 *
 * hostview(D) returns a table whose tensors are host memory and whose
 * every op uploads all its tensor arguments to fresh buffers of backend
 * D, runs D's op there and downloads the ones it writes: the tests reach
 * D's memory only through upload and download, so the same checks run on
 * any backend.  Slow (a copy of every argument per call), which the
 * tests' tiny tensors allow.  For a host-memory D it still copies, which
 * checks the wrapper itself.  Header-only, as tap.h.
 */
#ifndef SMEARSEG_TEST_HOSTVIEW_H
#define SMEARSEG_TEST_HOSTVIEW_H

#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "nn/ops.h"

static const struct nn_ops *hv_dev;

/* A backend copy of host tensor H (NULL: NULL) of BYTES bytes. */
static void *
hv_put(const void *h, size_t bytes)
{
	void *d;

	if (h == NULL)
		return NULL;
	d = hv_dev->alloc(bytes);
	hv_dev->upload(d, h, bytes);
	return d;
}

/* Download D into H if the op wrote it (H not NULL), then free D. */
static void
hv_get(void *h, void *d, size_t bytes)
{
	if (d == NULL)
		return;
	if (h != NULL)
		hv_dev->download(h, d, bytes);
	hv_dev->free(d);
}

#define F4(n) ((size_t)(n) * sizeof(float))

static void *
hv_alloc(size_t bytes)
{
	return xcalloc(bytes ? bytes : 1, 1);
}

static void hv_hfree(void *p) { free(p); }
static void hv_zero(void *p, size_t bytes) { memset(p, 0, bytes); }
static void hv_copy(void *d, const void *s, size_t b) { memcpy(d, s, b); }
static void hv_sync(void) {}
static const char *hv_describe(void) { return hv_dev->describe(); }

static void
hv_conv3x3_any(int infer, float *out, const float *inp, const float *inp2,
    const float *w, const float *bias, int B, int H, int W, int Cin,
    int Cin2, int Cout, float alpha)
{
	size_t np = (size_t)B * H * W, nw = (size_t)9 * (Cin + Cin2) * Cout;
	float *o = hv_put(out, F4(np * Cout)), *x = hv_put(inp, F4(np * Cin));
	float *x2 = hv_put(inp2, F4(np * Cin2)), *dw = hv_put(w, F4(nw));
	float *b = hv_put(bias, F4(Cout));
	nn_conv3x3_fn *fn = infer && hv_dev->conv3x3_infer ?
	    hv_dev->conv3x3_infer : hv_dev->conv3x3_forward;

	fn(o, x, x2, dw, b, B, H, W, Cin, Cin2, Cout, alpha);
	hv_get(out, o, F4(np * Cout));
	hv_get(NULL, x, 0), hv_get(NULL, x2, 0), hv_get(NULL, dw, 0);
	hv_get(NULL, b, 0);
}

static void
hv_conv3x3_forward(float *out, const float *inp, const float *inp2,
    const float *w, const float *bias, int B, int H, int W, int Cin,
    int Cin2, int Cout, float alpha)
{
	hv_conv3x3_any(0, out, inp, inp2, w, bias, B, H, W, Cin, Cin2, Cout,
	    alpha);
}

static void
hv_conv3x3_infer(float *out, const float *inp, const float *inp2,
    const float *w, const float *bias, int B, int H, int W, int Cin,
    int Cin2, int Cout, float alpha)
{
	hv_conv3x3_any(1, out, inp, inp2, w, bias, B, H, W, Cin, Cin2, Cout,
	    alpha);
}

static void
hv_conv3x3_backward(float *dinp, float *dinp2, float *dw, float *dbias,
    const float *dout, const float *inp, const float *inp2, const float *w,
    int B, int H, int W, int Cin, int Cin2, int Cout)
{
	size_t np = (size_t)B * H * W, nw = (size_t)9 * (Cin + Cin2) * Cout;
	float *a = hv_put(dinp, F4(np * Cin)), *a2 = hv_put(dinp2, F4(np * Cin2));
	float *g = hv_put(dw, F4(nw)), *gb = hv_put(dbias, F4(Cout));
	float *d = hv_put(dout, F4(np * Cout)), *x = hv_put(inp, F4(np * Cin));
	float *x2 = hv_put(inp2, F4(np * Cin2)), *k = hv_put(w, F4(nw));

	hv_dev->conv3x3_backward(a, a2, g, gb, d, x, x2, k, B, H, W, Cin, Cin2,
	    Cout);
	hv_get(dinp, a, F4(np * Cin)), hv_get(dinp2, a2, F4(np * Cin2));
	hv_get(dw, g, F4(nw)), hv_get(dbias, gb, F4(Cout));
	hv_get(NULL, d, 0), hv_get(NULL, x, 0), hv_get(NULL, x2, 0);
	hv_get(NULL, k, 0);
}

static void
hv_conv1x1_forward(float *out, const float *inp, const float *w,
    const float *bias, int N, int Cin, int Cout)
{
	float *o = hv_put(out, F4((size_t)N * Cout));
	float *x = hv_put(inp, F4((size_t)N * Cin));
	float *k = hv_put(w, F4((size_t)Cin * Cout)), *b = hv_put(bias, F4(Cout));

	hv_dev->conv1x1_forward(o, x, k, b, N, Cin, Cout);
	hv_get(out, o, F4((size_t)N * Cout));
	hv_get(NULL, x, 0), hv_get(NULL, k, 0), hv_get(NULL, b, 0);
}

static void
hv_conv1x1_backward(float *dinp, float *dw, float *dbias, const float *dout,
    const float *inp, const float *w, int N, int Cin, int Cout)
{
	size_t nw = (size_t)Cin * Cout;
	float *a = hv_put(dinp, F4((size_t)N * Cin)), *g = hv_put(dw, F4(nw));
	float *gb = hv_put(dbias, F4(Cout));
	float *d = hv_put(dout, F4((size_t)N * Cout));
	float *x = hv_put(inp, F4((size_t)N * Cin)), *k = hv_put(w, F4(nw));

	hv_dev->conv1x1_backward(a, g, gb, d, x, k, N, Cin, Cout);
	hv_get(dinp, a, F4((size_t)N * Cin)), hv_get(dw, g, F4(nw));
	hv_get(dbias, gb, F4(Cout));
	hv_get(NULL, d, 0), hv_get(NULL, x, 0), hv_get(NULL, k, 0);
}

static void
hv_convt2x2_forward(float *out, const float *inp, const float *w,
    const float *bias, int B, int H, int W, int Cin, int Cout)
{
	size_t np = (size_t)B * H * W, nw = (size_t)Cin * 4 * Cout;
	float *o = hv_put(out, F4(4 * np * Cout)), *x = hv_put(inp, F4(np * Cin));
	float *k = hv_put(w, F4(nw)), *b = hv_put(bias, F4(Cout));

	hv_dev->convt2x2_forward(o, x, k, b, B, H, W, Cin, Cout);
	hv_get(out, o, F4(4 * np * Cout));
	hv_get(NULL, x, 0), hv_get(NULL, k, 0), hv_get(NULL, b, 0);
}

static void
hv_convt2x2_backward(float *dinp, float *dw, float *dbias, const float *dout,
    const float *inp, const float *w, int B, int H, int W, int Cin, int Cout)
{
	size_t np = (size_t)B * H * W, nw = (size_t)Cin * 4 * Cout;
	float *a = hv_put(dinp, F4(np * Cin)), *g = hv_put(dw, F4(nw));
	float *gb = hv_put(dbias, F4(Cout)), *d = hv_put(dout, F4(4 * np * Cout));
	float *x = hv_put(inp, F4(np * Cin)), *k = hv_put(w, F4(nw));

	hv_dev->convt2x2_backward(a, g, gb, d, x, k, B, H, W, Cin, Cout);
	hv_get(dinp, a, F4(np * Cin)), hv_get(dw, g, F4(nw));
	hv_get(dbias, gb, F4(Cout));
	hv_get(NULL, d, 0), hv_get(NULL, x, 0), hv_get(NULL, k, 0);
}

static void
hv_maxpool2x2_forward(float *out, const float *inp, int B, int H, int W,
    int C)
{
	size_t n = (size_t)B * H * W * C;
	float *o = hv_put(out, F4(n / 4)), *x = hv_put(inp, F4(n));

	hv_dev->maxpool2x2_forward(o, x, B, H, W, C);
	hv_get(out, o, F4(n / 4)), hv_get(NULL, x, 0);
}

static void
hv_maxpool2x2_backward(float *dinp, const float *dout, const float *inp,
    const float *out, int B, int H, int W, int C)
{
	size_t n = (size_t)B * H * W * C;
	float *a = hv_put(dinp, F4(n)), *d = hv_put(dout, F4(n / 4));
	float *x = hv_put(inp, F4(n)), *o = hv_put(out, F4(n / 4));

	hv_dev->maxpool2x2_backward(a, d, x, o, B, H, W, C);
	hv_get(dinp, a, F4(n));
	hv_get(NULL, d, 0), hv_get(NULL, x, 0), hv_get(NULL, o, 0);
}

static void
hv_act_forward(float *out, const float *inp, size_t n, float alpha)
{
	float *o = hv_put(out, F4(n)), *x = hv_put(inp, F4(n));

	hv_dev->act_forward(o, x, n, alpha);
	hv_get(out, o, F4(n)), hv_get(NULL, x, 0);
}

static void
hv_act_backward(float *dinp, const float *dout, const float *out, size_t n,
    float alpha)
{
	float *a = hv_put(dinp, F4(n)), *d = hv_put(dout, F4(n));
	float *o = hv_put(out, F4(n));

	hv_dev->act_backward(a, d, o, n, alpha);
	hv_get(dinp, a, F4(n)), hv_get(NULL, d, 0), hv_get(NULL, o, 0);
}

static void
hv_add(float *y, const float *x, size_t n)
{
	float *a = hv_put(y, F4(n)), *b = hv_put(x, F4(n));

	hv_dev->add(a, b, n);
	hv_get(y, a, F4(n)), hv_get(NULL, b, 0);
}

static void
hv_groupnorm_forward(float *out, float *mean, float *rstd, const float *inp,
    const float *gamma, const float *beta, int B, int HW, int C, int G,
    float eps)
{
	size_t n = (size_t)B * HW * C;
	float *o = hv_put(out, F4(n)), *m = hv_put(mean, F4(B * G));
	float *r = hv_put(rstd, F4(B * G)), *x = hv_put(inp, F4(n));
	float *g = hv_put(gamma, F4(C)), *b = hv_put(beta, F4(C));

	hv_dev->groupnorm_forward(o, m, r, x, g, b, B, HW, C, G, eps);
	hv_get(out, o, F4(n)), hv_get(mean, m, F4(B * G));
	hv_get(rstd, r, F4(B * G));
	hv_get(NULL, x, 0), hv_get(NULL, g, 0), hv_get(NULL, b, 0);
}

static void
hv_groupnorm_backward(float *dinp, float *dgamma, float *dbeta,
    const float *dout, const float *inp, const float *mean,
    const float *rstd, const float *gamma, int B, int HW, int C, int G)
{
	size_t n = (size_t)B * HW * C;
	float *a = hv_put(dinp, F4(n)), *dg = hv_put(dgamma, F4(C));
	float *db = hv_put(dbeta, F4(C)), *d = hv_put(dout, F4(n));
	float *x = hv_put(inp, F4(n)), *m = hv_put(mean, F4(B * G));
	float *r = hv_put(rstd, F4(B * G)), *g = hv_put(gamma, F4(C));

	hv_dev->groupnorm_backward(a, dg, db, d, x, m, r, g, B, HW, C, G);
	hv_get(dinp, a, F4(n)), hv_get(dgamma, dg, F4(C));
	hv_get(dbeta, db, F4(C));
	hv_get(NULL, d, 0), hv_get(NULL, x, 0), hv_get(NULL, m, 0);
	hv_get(NULL, r, 0), hv_get(NULL, g, 0);
}

static void
hv_xent_forward(float *probs, double *sums, const float *logits,
    const uint8_t *labels, const float *class_w, const uint32_t *sets,
    int N, int K)
{
	size_t n = (size_t)N * K;
	float *p = hv_put(probs, F4(n)), *z = hv_put(logits, F4(n));
	uint8_t *l = hv_put(labels, (size_t)N);
	float *w = hv_put(class_w, F4(K));
	uint32_t *s = hv_put(sets, 256 * sizeof *sets);

	hv_dev->xent_forward(p, sums, z, l, w, s, N, K);
	hv_get(probs, p, F4(n));
	hv_get(NULL, z, 0), hv_get(NULL, l, 0), hv_get(NULL, w, 0);
	hv_get(NULL, s, 0);
}

static void
hv_xent_backward(float *dlogits, const float *probs, const uint8_t *labels,
    const float *class_w, const uint32_t *sets, float scale, int N, int K)
{
	size_t n = (size_t)N * K;
	float *d = hv_put(dlogits, F4(n)), *p = hv_put(probs, F4(n));
	uint8_t *l = hv_put(labels, (size_t)N);
	float *w = hv_put(class_w, F4(K));
	uint32_t *s = hv_put(sets, 256 * sizeof *sets);

	hv_dev->xent_backward(d, p, l, w, s, scale, N, K);
	hv_get(dlogits, d, F4(n));
	hv_get(NULL, p, 0), hv_get(NULL, l, 0), hv_get(NULL, w, 0);
	hv_get(NULL, s, 0);
}

static void
hv_softmax_forward(float *probs, const float *logits, int N, int K)
{
	size_t n = (size_t)N * K;
	float *p = hv_put(probs, F4(n)), *z = hv_put(logits, F4(n));

	hv_dev->softmax_forward(p, z, N, K);
	hv_get(probs, p, F4(n)), hv_get(NULL, z, 0);
}

static void
hv_adam_update(float *p, float *m, float *v, const float *g, size_t n,
    float lr, float beta1, float beta2, float eps, float wd, long t)
{
	float *a = hv_put(p, F4(n)), *b = hv_put(m, F4(n));
	float *c = hv_put(v, F4(n)), *d = hv_put(g, F4(n));

	hv_dev->adam_update(a, b, c, d, n, lr, beta1, beta2, eps, wd, t);
	hv_get(p, a, F4(n)), hv_get(m, b, F4(n)), hv_get(v, c, F4(n));
	hv_get(NULL, d, 0);
}

/* D seen through host memory. */
static const struct nn_ops *
hostview(const struct nn_ops *d)
{
	static struct nn_ops t = {
		.host_memory = 1,
		.sync = hv_sync,
		.describe = hv_describe,
		.alloc = hv_alloc,
		.free = hv_hfree,
		.zero = hv_zero,
		.upload = hv_copy,
		.download = hv_copy,
		.conv3x3_forward = hv_conv3x3_forward,
		.conv3x3_backward = hv_conv3x3_backward,
		.conv1x1_forward = hv_conv1x1_forward,
		.conv1x1_backward = hv_conv1x1_backward,
		.convt2x2_forward = hv_convt2x2_forward,
		.convt2x2_backward = hv_convt2x2_backward,
		.maxpool2x2_forward = hv_maxpool2x2_forward,
		.maxpool2x2_backward = hv_maxpool2x2_backward,
		.act_forward = hv_act_forward,
		.act_backward = hv_act_backward,
		.groupnorm_forward = hv_groupnorm_forward,
		.groupnorm_backward = hv_groupnorm_backward,
		.xent_forward = hv_xent_forward,
		.xent_backward = hv_xent_backward,
		.softmax_forward = hv_softmax_forward,
		.adam_update = hv_adam_update,
		.add = hv_add,
	};

	hv_dev = d;
	t.name = d->name;
	t.conv3x3_infer = d->conv3x3_infer ? hv_conv3x3_infer : NULL;
	return &t;
}

#endif
