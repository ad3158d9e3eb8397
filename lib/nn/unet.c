/*
 * unet.c - the U-Net model: parameter table, activation plan, forward and
 * backward passes (model files are lib/model.c).
 *
 * The network is a list of conv layers in forward order (encoder, bottle-
 * neck, decoder, head), each a 3x3 conv, a transposed conv or the 1x1
 * head, with its own parameters and output buffers; max-pools sit between
 * them and are run by the level loops below.  The decoder's concat [up,
 * skip] is its first conv's two inputs (see conv3x3 in ops.h).  Every op
 * goes through net->ops, so this file is the same for every backend.
 *
 * Activation plan.  Training keeps, per layer, its output `a` (after the
 * activation, which is all the activation's backward needs) and with
 * GroupNorm also the conv output `z` and the group statistics; per level
 * the pool output.  The backward pass needs only two gradient buffers of
 * the largest activation size: each layer reads the gradient of its
 * output from one and writes that of its input to the other.  A skip
 * gradient must wait from the decoder's first conv until the encoder's
 * pool; it is parked in that conv's own output buffer, which its backward
 * pass has read before it writes the input gradients.  Inference keeps
 * the skip outputs and puts everything else in two ping-pong buffers,
 * since each layer reads only its predecessor (and its skip).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "nn/backend.h"
#include "nn/unet.h"

#define GN_EPS 1e-5f

enum lkind { L_CONV3, L_CONVT, L_HEAD };

struct unet_layer {
	enum lkind kind;
	int cin, cin2, cout;    /* cin2: skip channels of a decoder's conv0 */
	int H, W;               /* input size (= output size but for CONVT) */
	int act, norm;          /* activation / GroupNorm after the conv */
	int pw, pb, pg, pbeta;  /* ptab indices of weight, bias, gamma, beta */
	float *z;               /* B,Ho,Wo,cout conv output (norm only) */
	float *a;               /* B,Ho,Wo,cout layer output */
	float *mean, *rstd;     /* B,groups (norm only) */
};

/* The activation's slope for negative inputs: 0 for ReLU. */
static float
act_alpha(const struct unet_arch *c)
{
	return c->act == UNET_ACT_LEAKY_RELU ? c->alpha : 0;
}

/* Channels of level L, the bottleneck being level nlevels. */
static int
level_width(const struct unet_arch *c, int l)
{
	return l < c->nlevels ? c->widths[l] : c->bottleneck;
}

// --- building ---------------------------------------------------------------

static int
add_param(struct unet *net, const char *name, enum unet_pkind kind, int cin,
    int cout, int decay)
{
	struct unet_param *p;

	net->ptab = xrealloc(net->ptab, (net->nptab + 1) * sizeof(*p));
	p = &net->ptab[net->nptab];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->kind = kind;
	p->decay = decay;
	switch (kind) {
	case UNET_P_CONV3:
	case UNET_P_CONV1: {
		int k = kind == UNET_P_CONV3 ? 3 : 1;
		p->ndim = 4;
		p->shape[0] = cout, p->shape[1] = cin;
		p->shape[2] = p->shape[3] = k;
		break;
	}
	case UNET_P_CONVT:
		p->ndim = 4;
		p->shape[0] = cin, p->shape[1] = cout;
		p->shape[2] = p->shape[3] = 2;
		break;
	case UNET_P_VEC:
		p->ndim = 1;
		p->shape[0] = cout;
		break;
	}
	p->n = 1;
	for (int i = 0; i < p->ndim; i++)
		p->n *= (size_t)p->shape[i];
	p->off = net->nparams;
	net->nparams += p->n;
	return net->nptab++;
}

/* Append a layer with its parameters, named PREFIX.conv{K}/.norm{K},
 * PREFIX.up or head. */
static void
add_layer(struct unet *net, enum lkind kind, const char *prefix, int k,
    int cin, int cin2, int cout, int H, int W)
{
	const struct unet_arch *c = &net->arch;
	struct unet_layer *L;
	char name[32];

	net->layers = xrealloc(net->layers, (net->nlayers + 1) * sizeof(*L));
	L = &net->layers[net->nlayers++];
	memset(L, 0, sizeof(*L));
	L->kind = kind;
	L->cin = cin, L->cin2 = cin2, L->cout = cout, L->H = H, L->W = W;
	L->act = kind != L_HEAD;
	L->norm = kind == L_CONV3 && c->norm == UNET_NORM_GROUP;
	L->pg = L->pbeta = -1;
	switch (kind) {
	case L_CONV3:
		snprintf(name, sizeof(name), "%s.conv%d.weight", prefix, k);
		L->pw = add_param(net, name, UNET_P_CONV3, cin + cin2, cout,
		    1);
		snprintf(name, sizeof(name), "%s.conv%d.bias", prefix, k);
		L->pb = add_param(net, name, UNET_P_VEC, 0, cout, 0);
		if (L->norm) {
			snprintf(name, sizeof(name), "%s.norm%d.weight",
			    prefix, k);
			L->pg = add_param(net, name, UNET_P_VEC, 0, cout, 0);
			snprintf(name, sizeof(name), "%s.norm%d.bias",
			    prefix, k);
			L->pbeta = add_param(net, name, UNET_P_VEC, 0, cout, 0);
		}
		break;
	case L_CONVT:
		snprintf(name, sizeof(name), "%s.up.weight", prefix);
		L->pw = add_param(net, name, UNET_P_CONVT, cin, cout, 1);
		snprintf(name, sizeof(name), "%s.up.bias", prefix);
		L->pb = add_param(net, name, UNET_P_VEC, 0, cout, 0);
		break;
	case L_HEAD:
		L->pw = add_param(net, "head.weight", UNET_P_CONV1, cin, cout,
		    1);
		L->pb = add_param(net, "head.bias", UNET_P_VEC, 0, cout, 0);
		break;
	}
}

/* Pixels of one image at the output of layer L. */
static size_t
out_pixels(const struct unet_layer *L)
{
	return (size_t)L->H * L->W * (L->kind == L_CONVT ? 4 : 1);
}

/*
 * Activation allocator: a persistent buffer of its own, or (inference,
 * non-skip) one of two ping-pong buffers, alternating with each request so
 * that an op's input and output never share one.  A first pass (PLAN)
 * only measures the ping-pong sizes.
 */
struct planner {
	struct unet *net;
	int plan, turn;
	size_t pp_size[2];
	float *pp[2];
};

static float *
act_alloc(struct planner *p, size_t floats, int keep)
{
	struct unet *net = p->net;

	if (net->train || keep) {
		if (p->plan)
			return NULL;
		net->act_bytes += floats * sizeof(float);
		return net->ops->alloc(floats * sizeof(float));
	}
	int t = p->turn;
	p->turn ^= 1;
	if (p->plan) {
		if (floats > p->pp_size[t])
			p->pp_size[t] = floats;
		return NULL;
	}
	return p->pp[t];
}

/* The buffers of conv layer L: z and the statistics with a norm, a. */
static void
conv_alloc(struct planner *p, struct unet_layer *L, int keep)
{
	struct unet *net = p->net;
	size_t sz = (size_t)net->max_batch * out_pixels(L) * L->cout;
	size_t st = (size_t)net->max_batch * net->arch.groups * sizeof(float);

	if (L->norm) {
		L->z = act_alloc(p, sz, 0);
		if (!p->plan) {
			L->mean = net->ops->alloc(st);
			L->rstd = net->ops->alloc(st);
		}
	}
	L->a = act_alloc(p, sz, keep);
}

/*
 * Walk the layers in forward order and give each its buffers; called
 * twice with the same sequence of requests, so the ping-pong turns match.
 * Encoder levels end with their skip output (kept) and a pool; decoder
 * levels start with the transposed conv.
 */
static void
plan_activations(struct planner *p)
{
	struct unet *net = p->net;
	const struct unet_arch *c = &net->arch;
	int B = net->max_batch, n = 0;

	p->turn = 0;
	for (int l = 0; l <= c->nlevels; l++) {
		for (int k = 0; k < c->convs; k++, n++)
			conv_alloc(p, &net->layers[n], l < c->nlevels &&
			    k == c->convs - 1);
		if (l < c->nlevels) {
			size_t px = (size_t)B * (c->input_h >> (l + 1)) *
			    (c->input_w >> (l + 1));
			net->pool[l] = act_alloc(p, px * c->widths[l], 0);
		}
	}
	for (int l = c->nlevels - 1; l >= 0; l--) {
		struct unet_layer *U = &net->layers[n++];
		U->a = act_alloc(p, (size_t)B * out_pixels(U) * U->cout, 0);
		for (int k = 0; k < c->convs; k++, n++)
			conv_alloc(p, &net->layers[n], 0);
	}
	net->layers[n].a = NULL;        /* the head writes net->logits */
}

struct unet *
unet_create(const struct unet_arch *arch, int max_batch, int train,
    const struct nn_ops *ops)
{
	struct unet *net = xcalloc(1, sizeof(*net));
	const struct unet_arch *c = &net->arch;
	char prefix[16];
	int H = arch->input_h, W = arch->input_w;

	// what the config loader checks, for architectures built in code
	if (arch->nlevels < 1 || arch->nlevels > UNET_MAX_LEVELS ||
	    H % (1 << arch->nlevels) != 0 || W % (1 << arch->nlevels) != 0)
		die("a %dx%d input does not halve cleanly %d times", H, W,
		    arch->nlevels);
	for (int l = 0; arch->norm == UNET_NORM_GROUP && l <= arch->nlevels;
	    l++)
		if (level_width(arch, l) % arch->groups != 0)
			die("%d norm groups do not divide width %d",
			    arch->groups, level_width(arch, l));
	if (max_batch < 1)
		die("a network for %d images", max_batch);
	net->arch = *arch;
	net->ops = ops != NULL ? ops : nn_backend_find("cpu");
	net->max_batch = max_batch;
	net->train = train;

	// layers and parameter table, in forward order
	for (int l = 0; l <= c->nlevels; l++) {
		int h = H >> l, w = W >> l, cin;
		if (l < c->nlevels)
			snprintf(prefix, sizeof(prefix), "enc%d", l);
		else
			snprintf(prefix, sizeof(prefix), "mid");
		cin = l == 0 ? c->in_channels : c->widths[l - 1];
		for (int k = 0; k < c->convs; k++) {
			add_layer(net, L_CONV3, prefix, k, cin, 0,
			    level_width(c, l), h, w);
			cin = level_width(c, l);
		}
	}
	for (int l = c->nlevels - 1; l >= 0; l--) {
		int h = H >> l, w = W >> l;
		snprintf(prefix, sizeof(prefix), "dec%d", l);
		add_layer(net, L_CONVT, prefix, 0, level_width(c, l + 1), 0,
		    c->widths[l], h / 2, w / 2);
		// conv0 reads [up, skip]: the up part is cin, the skip cin2
		for (int k = 0; k < c->convs; k++)
			add_layer(net, L_CONV3, prefix, k, c->widths[l],
			    k == 0 ? c->widths[l] : 0, c->widths[l], h, w);
	}
	add_layer(net, L_HEAD, "head", 0, c->widths[0], 0, c->classes, H, W);

	net->params = net->ops->alloc(net->nparams * sizeof(float));
	if (train)
		net->grads = net->ops->alloc(net->nparams * sizeof(float));

	// activations: measure the ping-pong buffers, allocate, then assign
	struct planner p = { .net = net, .plan = 1 };
	plan_activations(&p);
	for (int i = 0; i < 2; i++)
		if (p.pp_size[i] > 0) {
			p.pp[i] = net->ops->alloc(p.pp_size[i] * sizeof(float));
			net->act_bytes += p.pp_size[i] * sizeof(float);
		}
	p.plan = 0;
	plan_activations(&p);
	net->gbuf[0] = p.pp[0];         /* owned via gbuf in inference */
	net->gbuf[1] = p.pp[1];

	size_t npx = (size_t)max_batch * H * W;
	net->x = net->ops->alloc(npx * c->in_channels * sizeof(float));
	net->logits = net->ops->alloc(npx * c->classes * sizeof(float));
	net->probs = net->ops->alloc(npx * c->classes * sizeof(float));
	net->labels = net->ops->alloc(npx);
	net->class_w = net->ops->alloc(c->classes * sizeof(float));
	net->act_bytes += npx * (c->in_channels + 2 * c->classes) * 4 + npx;

	if (train) {
		// gradient buffers: the largest input or output of a layer
		size_t g = npx * c->classes;
		for (int i = 0; i < net->nlayers; i++) {
			const struct unet_layer *L = &net->layers[i];
			size_t in = (size_t)max_batch * L->H * L->W * L->cin;
			size_t out = (size_t)max_batch * out_pixels(L) *
			    L->cout;
			g = in > g ? in : g;
			g = out > g ? out : g;
		}
		for (int i = 0; i < 2; i++)
			net->gbuf[i] = net->ops->alloc(g * sizeof(float));
		net->act_bytes += 2 * g * sizeof(float);
	}
	return net;
}

void
unet_free(struct unet *net)
{
	const struct nn_ops *o;

	if (net == NULL)
		return;
	o = net->ops;
	for (int i = 0; i < net->nlayers; i++) {
		struct unet_layer *L = &net->layers[i];
		int skip = 0;
		// in inference only skip outputs are owned by their layer
		for (int l = 0; l < net->arch.nlevels; l++)
			skip |= i == (l + 1) * net->arch.convs - 1;
		if (net->train || skip)
			o->free(L->a);
		if (net->train)
			o->free(L->z);
		o->free(L->mean);
		o->free(L->rstd);
	}
	if (net->train)
		for (int l = 0; l < net->arch.nlevels; l++)
			o->free(net->pool[l]);
	o->free(net->gbuf[0]);
	o->free(net->gbuf[1]);
	o->free(net->x);
	o->free(net->logits);
	o->free(net->probs);
	o->free(net->labels);
	o->free(net->class_w);
	if (net->sets)
		o->free(net->sets);
	o->free(net->params);
	o->free(net->grads);
	free(net->layers);
	free(net->ptab);
	free(net);
}

const struct unet_param *
unet_param_find(const struct unet *net, const char *name)
{
	for (int i = 0; i < net->nptab; i++)
		if (strcmp(net->ptab[i].name, name) == 0)
			return &net->ptab[i];
	return NULL;
}

void
unet_init_params(struct unet *net, struct rng *r)
{
	float alpha = act_alpha(&net->arch);
	float *h = xmalloc_array(net->nparams, sizeof(float));

	for (int i = 0; i < net->nptab; i++) {
		const struct unet_param *p = &net->ptab[i];
		float *d = h + p->off, sd = 0;
		// fan-in: Cin*k*k, and Cin for the transposed conv (each output
		// pixel sees one tap of every input channel)
		switch (p->kind) {
		case UNET_P_CONV3:
			sd = sqrtf(2 / ((1 + alpha * alpha) * p->shape[1] * 9));
			break;
		case UNET_P_CONVT:
			sd = sqrtf(2 / ((1 + alpha * alpha) * p->shape[0]));
			break;
		case UNET_P_CONV1:
			sd = sqrtf(1.0f / p->shape[1]);
			break;
		case UNET_P_VEC:
			break;
		}
		for (size_t j = 0; j < p->n; j++)
			d[j] = p->kind == UNET_P_VEC ? 0 : sd * rng_normal(r);
	}
	// norm scales start at one
	for (int i = 0; i < net->nlayers; i++) {
		const struct unet_param *g;
		if (!net->layers[i].norm)
			continue;
		g = &net->ptab[net->layers[i].pg];
		for (size_t j = 0; j < g->n; j++)
			h[g->off + j] = 1;
	}
	net->ops->upload(net->params, h, net->nparams * sizeof(float));
	free(h);
}

// --- forward ----------------------------------------------------------------

#define P(net, idx) ((net)->params + (net)->ptab[idx].off)
#define G(net, idx) ((net)->grads + (net)->ptab[idx].off)

/* Run layer L on IN (B, H, W, cin) and IN2 (B, H, W, cin2; for a decoder's
 * conv0) into OUT, L->a but for the head. */
static void
layer_forward(struct unet *net, struct unet_layer *L, const float *in,
    const float *in2, float *out, int B)
{
	const struct nn_ops *o = net->ops;
	float alpha = act_alpha(&net->arch);
	float *y = L->norm ? L->z : out;
	size_t n = (size_t)B * out_pixels(L) * L->cout;
	int fused = L->kind == L_CONV3 && L->act && !L->norm;

	switch (L->kind) {
	case L_CONV3: {
		// the activation in the conv's output pass unless a norm
		// comes between them; an inference network takes the
		// backend's faster conv where it has one
		nn_conv3x3_fn *conv = !net->train && o->conv3x3_infer ?
		    o->conv3x3_infer : o->conv3x3_forward;
		conv(y, in, in2, P(net, L->pw), P(net, L->pb), B, L->H, L->W,
		    L->cin, L->cin2, L->cout, fused ? alpha : 1);
		break;
	}
	case L_CONVT:
		o->convt2x2_forward(y, in, P(net, L->pw), P(net, L->pb), B,
		    L->H, L->W, L->cin, L->cout);
		break;
	case L_HEAD:
		o->conv1x1_forward(y, in, P(net, L->pw), P(net, L->pb),
		    B * L->H * L->W, L->cin, L->cout);
		break;
	}
	if (L->norm)
		o->groupnorm_forward(out, L->mean, L->rstd, L->z, P(net, L->pg),
		    P(net, L->pbeta), B, L->H * L->W, L->cout, net->arch.groups,
		    GN_EPS);
	if (L->act && !fused)
		o->act_forward(out, out, n, alpha);
}

void
unet_forward(struct unet *net, const float *x, int B)
{
	const struct unet_arch *c = &net->arch;
	const struct nn_ops *o = net->ops;
	const float *in = net->x;
	int n = 0;

	if (B < 1 || B > net->max_batch)
		die("batch of %d images for a network built for 1..%d", B,
		    net->max_batch);
	net->B = B;
	net->have_loss = 0;
	o->upload(net->x, x, (size_t)B * c->input_h * c->input_w *
	    c->in_channels * sizeof(float));

	// encoder and bottleneck
	for (int l = 0; l <= c->nlevels; l++) {
		struct unet_layer *L = NULL;
		for (int k = 0; k < c->convs; k++, n++) {
			L = &net->layers[n];
			layer_forward(net, L, in, NULL, L->a, B);
			in = L->a;
		}
		if (l < c->nlevels) {
			o->maxpool2x2_forward(net->pool[l], L->a, B, L->H, L->W,
			    L->cout);
			in = net->pool[l];
		}
	}
	// decoder: up, then convs, the first on [up, skip]
	for (int l = c->nlevels - 1; l >= 0; l--) {
		struct unet_layer *U = &net->layers[n++];
		layer_forward(net, U, in, NULL, U->a, B);
		in = U->a;
		for (int k = 0; k < c->convs; k++, n++) {
			struct unet_layer *L = &net->layers[n];
			layer_forward(net, L, in, k == 0 ? unet_skip(net, l) :
			    NULL, L->a, B);
			in = L->a;
		}
	}
	layer_forward(net, &net->layers[n], in, NULL, net->logits, B);
}

void
unet_probs(struct unet *net, float *probs)
{
	const struct unet_arch *c = &net->arch;
	int N = net->B * c->input_h * c->input_w;

	net->ops->softmax_forward(net->probs, net->logits, N, c->classes);
	net->ops->download(probs, net->probs, (size_t)N * c->classes *
	    sizeof(float));
}

float
unet_forward_loss(struct unet *net, const float *x, const uint8_t *labels,
    const float *class_w, int B)
{
	const struct unet_arch *c = &net->arch;
	int N = B * c->input_h * c->input_w, K = c->classes;
	float *ones = NULL;

	for (int i = 0; i < N; i++)
		if (labels[i] >= K && labels[i] != NN_IGNORE_LABEL &&
		    (net->sets == NULL || net->host_sets[labels[i]] == 0))
			die("label %d at pixel %d is not a class (0..%d), a "
			    "partial label or %d", labels[i], i, K - 1,
			    NN_IGNORE_LABEL);
	if (class_w == NULL) {
		ones = xmalloc_array(K, sizeof(float));
		for (int k = 0; k < K; k++)
			ones[k] = 1;
		class_w = ones;
	}
	unet_forward(net, x, B);
	net->ops->upload(net->labels, labels, (size_t)N);
	net->ops->upload(net->class_w, class_w, K * sizeof(float));
	net->ops->xent_forward(net->probs, net->sums, net->logits, net->labels,
	    net->class_w, net->sets, N, K);
	free(ones);
	net->have_loss = 1;
	return net->sums[1] > 0 ? (float)(net->sums[0] / net->sums[1]) : 0;
}

const float *
unet_skip(const struct unet *net, int l)
{
	return net->layers[(l + 1) * net->arch.convs - 1].a;
}

void
unet_set_partial(struct unet *net, const uint32_t *sets)
{
	const struct nn_ops *o = net->ops;
	uint32_t all = net->arch.classes >= 32 ? 0xffffffffu :
	    (1u << net->arch.classes) - 1;
	int n = 0;

	memset(net->host_sets, 0, sizeof net->host_sets);
	for (int v = net->arch.classes; sets && v < NN_IGNORE_LABEL; v++) {
		if (sets[v] & ~all)
			die("partial label %d names a class beyond %d", v,
			    net->arch.classes - 1);
		net->host_sets[v] = sets[v];
		n += sets[v] != 0;
	}
	if (n == 0) {
		if (net->sets)
			o->free(net->sets);
		net->sets = NULL;
		return;
	}
	if (net->sets == NULL)
		net->sets = o->alloc(sizeof net->host_sets);
	o->upload(net->sets, net->host_sets, sizeof net->host_sets);
}

double
unet_loss_wsum(const struct unet *net)
{
	return net->sums[1];
}

// --- backward ---------------------------------------------------------------

void
unet_zero_grad(struct unet *net)
{
	net->ops->zero(net->grads, net->nparams * sizeof(float));
}

/*
 * Backward through layer L whose inputs were IN (and IN2) and output OUT.
 * On entry gbuf[*cur] holds the gradient of OUT; on return it holds that
 * of IN (unless NEED_DINP is 0), and DIN2 that of IN2.  Each step writes
 * the other buffer and flips *cur.
 */
static void
layer_backward(struct unet *net, struct unet_layer *L, const float *in,
    const float *in2, float *din2, const float *out, int *cur,
    int need_dinp)
{
	const struct nn_ops *o = net->ops;
	float alpha = act_alpha(&net->arch);
	int B = net->B;
	size_t n = (size_t)B * out_pixels(L) * L->cout;
	float *d = net->gbuf[*cur];

	if (L->act)
		o->act_backward(d, d, out, n, alpha);
	if (L->norm) {
		float *dz = net->gbuf[*cur ^ 1];
		o->groupnorm_backward(dz, G(net, L->pg), G(net, L->pbeta), d,
		    L->z, L->mean, L->rstd, P(net, L->pg), B, L->H * L->W,
		    L->cout, net->arch.groups);
		*cur ^= 1;
		d = dz;
	}
	float *dinp = need_dinp ? net->gbuf[*cur ^ 1] : NULL;
	switch (L->kind) {
	case L_CONV3:
		o->conv3x3_backward(dinp, din2, G(net, L->pw), G(net, L->pb),
		    d, in, in2, P(net, L->pw), B, L->H, L->W, L->cin, L->cin2,
		    L->cout);
		break;
	case L_CONVT:
		o->convt2x2_backward(dinp, G(net, L->pw), G(net, L->pb), d, in,
		    P(net, L->pw), B, L->H, L->W, L->cin, L->cout);
		break;
	case L_HEAD:
		o->conv1x1_backward(dinp, G(net, L->pw), G(net, L->pb), d, in,
		    P(net, L->pw), B * L->H * L->W, L->cin, L->cout);
		break;
	}
	*cur ^= 1;
	if (net->grad_ready)
		net->grad_ready(net->ptab[L->pw].off);  /* its first param */
}

void
unet_backward(struct unet *net, double wsum)
{
	const struct unet_arch *c = &net->arch;
	const struct nn_ops *o = net->ops;
	int B = net->B, L = c->nlevels, cv = c->convs, cur = 0;
	int N = B * c->input_h * c->input_w;
	struct unet_layer *ly = net->layers;
	int n = net->nlayers - 1;       /* the head */

	if (!net->train)
		die("backward pass on a network built for inference");
	if (!net->have_loss)
		die("backward pass without a forward pass with a loss");
	o->xent_backward(net->gbuf[cur], net->probs, net->labels, net->class_w,
	    net->sets, wsum > 0 ? (float)(1 / wsum) : 0, N, c->classes);

	// head, then the decoder from the top level down to level L-1
	const float *in = ly[n - 1].a;
	float *park[UNET_MAX_LEVELS];   /* the skip gradients, level by level */
	layer_backward(net, &ly[n], in, NULL, NULL, net->logits, &cur, 1);
	n--;
	for (int l = 0; l < L; l++) {
		for (int k = cv - 1; k >= 0; k--, n--) {
			if (k > 0) {
				layer_backward(net, &ly[n], ly[n - 1].a, NULL,
				    NULL, ly[n].a, &cur, 1);
				continue;
			}
			// conv0 on [up, skip]: up's gradient goes on, the
			// skip's is parked in conv0's output buffer
			park[l] = ly[n].a;
			layer_backward(net, &ly[n], ly[n - 1].a,
			    unet_skip(net, l), park[l], ly[n].a, &cur, 1);
		}
		struct unet_layer *U = &ly[n];
		in = l == L - 1 ? ly[(L + 1) * cv - 1].a : ly[n - 1].a;
		layer_backward(net, U, in, NULL, NULL, U->a, &cur, 1);
		n--;
	}
	// bottleneck and encoder; the skip output's gradient is the pool's
	// plus the parked one
	for (int l = L; l >= 0; l--) {
		if (l < L) {
			struct unet_layer *S = &ly[(l + 1) * cv - 1];
			o->maxpool2x2_backward(net->gbuf[cur ^ 1],
			    net->gbuf[cur], S->a, net->pool[l], B, S->H, S->W,
			    S->cout);
			cur ^= 1;
			o->add(net->gbuf[cur], park[l],
			    (size_t)B * S->H * S->W * S->cout);
		}
		for (int k = cv - 1; k >= 0; k--, n--) {
			if (k > 0)
				in = ly[n - 1].a;
			else
				in = l == 0 ? net->x : net->pool[l - 1];
			layer_backward(net, &ly[n], in, NULL, NULL, ly[n].a,
			    &cur, !(l == 0 && k == 0));
		}
	}
}
