/*
 * test_nn_golden.c - the C engine against the independent PyTorch U-Net.
 *
 * test/reference/unet_ref.py wrote, for the tiny network, a debug state:
 * weights, one batch (input, labels with ignored pixels, class weights),
 * the logits and loss, every parameter gradient, and the losses of and
 * parameters after 3 AdamW steps.  This test builds the network from the
 * file's own "unet.config", loads the same weights, and compares every
 * tensor elementwise with
 *
 *	|c - t| <= ATOL * max|t| + RTOL * |t|,  RTOL = 1e-4, ATOL = 1e-5,
 *
 * i.e. a relative error of 1e-4 with an absolute floor of 1e-5 of the
 * tensor's own scale (gradients of different layers differ by orders of
 * magnitude, so a fixed absolute floor would be too loose for some and
 * too tight for others).  After the Adam steps the floor is 1e-3 of the
 * total step size, 3 * lr (3e-5 here): Adam divides each gradient by
 * its own RMS, so for an element whose gradient is near zero a 1e-6
 * difference in the gradient moves the update by a visible fraction of
 * lr; a wrong Adam formula moves it by a large fraction of lr, 1000 times
 * more.  Where a step's gradient is within its own tolerance of zero (a
 * conv bias before a GroupNorm, whose group sums cancel, or an element
 * whose gradient changes sign between steps), its sign is noise, and
 * that step may go either way: such an element may be off by up to
 * 3 * lr times the largest over the steps of min(1, 2 * tolerance(g) /
 * |g|), the share of the gradient that the tolerance leaves unknown; a
 * wrong Adam formula still moves the elements of well-known gradient.
 * The worst error of each tensor is printed.  The fixtures are committed,
 * so the test needs no PyTorch.
 *
 * -b BACKEND checks another backend than the CPU against the same
 * fixtures: the logits, loss and gradients, and the losses of the three
 * steps.  Its weights after the steps are compared with the CPU backend's
 * beside it after the first step, not with the fixture's after the third:
 * at the fixture's lr of 1e-2 each step moves every weight by about a
 * tenth of its size, and by the second step some leaky ReLU inputs lie
 * within 5e-8 of their layer's scale of zero, so an implementation that
 * sums in another order than PyTorch's CPU takes the other slope there,
 * and the gradients part.  On an H200 (cuBLAS) the GroupNorm fixture's
 * gradients agree with the CPU's to 0.09 of the tolerance in step 1, 1.2
 * in step 2 and 3000 in step 3, while the three losses agree; the lines
 * starting with '#' show these figures for steps 2 and 3.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "safetensors.h"
#include "util.h"
#include "nn/adam.h"
#include "nn/backend.h"
#include "nn/config.h"
#include "nn/unet.h"
#include "tap.h"

#define RTOL 1e-4
#define ATOL 1e-5

static double worst_all;
static const struct nn_ops *ops;

/* Compare N floats C with T, |c - t| <= atol + RTOL*|t| with ATOL, if
 * negative, ATOL times the largest |t|; print and return pass/fail. */
static int
compare(const char *what, const float *c, const float *t, size_t n,
    double atol)
{
	double scale = 0, worst = 0, wabs = 0;
	size_t at = 0;
	int ok = 1;

	for (size_t i = 0; i < n; i++)
		scale = fmax(scale, fabs(t[i]));
	if (atol < 0)
		atol = ATOL * scale;
	for (size_t i = 0; i < n; i++) {
		double d = fabs((double)c[i] - t[i]);
		double lim = atol + RTOL * fabs(t[i]);
		// the error in units of the tolerance's relative part
		double r = d / (atol / RTOL + fabs(t[i]) + 1e-30);
		if (d > lim)
			ok = 0;
		if (r > worst)
			worst = r, wabs = d, at = i;
	}
	worst_all = fmax(worst_all, worst);
	return tap_ok(ok, "%s: %zu values, worst rel. error %.2e (abs %.2e at "
	    "%zu, scale %.3g)", what, n, worst, wabs, at, scale);
}

static const struct tensor *
need(const struct st_file *f, const char *fname, const char *name,
    size_t n)
{
	const struct tensor *t = st_find(f, name);

	if (t == NULL)
		die("%s: no tensor '%s'", fname, name);
	if (tensor_numel(t) != n)
		die("%s: tensor '%s' has %zu values, expected %zu", fname, name,
		    tensor_numel(t), n);
	return t;
}

static double
meta_num(const struct st_file *f, const char *fname, const char *key)
{
	const char *v = st_meta(f, key);

	if (v == NULL)
		die("%s: no metadata '%s'", fname, key);
	return xstrtod(v, -1e9, 1e9, key);
}

/* NOISE[i] = max(NOISE[i], min(1, 2 tol(g) / |g|)) for the gradient G of
 * one step (net layout), tol(g) = ATOL * max|g of its tensor| + RTOL |g|:
 * how far the sign of each element's Adam step is noise. */
static void
grad_noise(const struct unet *net, const float *g, float *noise)
{
	for (int t = 0; t < net->nptab; t++) {
		const struct unet_param *p = &net->ptab[t];
		double gs = 0;

		for (size_t i = p->off; i < p->off + p->n; i++)
			gs = fmax(gs, fabs(g[i]));
		for (size_t i = p->off; i < p->off + p->n; i++) {
			double tol = ATOL * gs + RTOL * fabs(g[i]);
			double r = fmin(1, 2 * tol / (fabs(g[i]) + 1e-30));
			noise[i] = fmaxf(noise[i], (float)r);
		}
	}
}

/* The parameters after STEPS Adam steps of rate LR: C against T, with the
 * floor ATOL, plus STEPS * lr * NOISE (grad_noise, see the top). */
static int
compare_steps(const char *what, const float *c, const float *t,
    const float *noise, size_t n, double atol, int steps, double lr)
{
	double worst = 0, wabs = 0;
	size_t at = 0;
	int ok = 1;

	for (size_t i = 0; i < n; i++) {
		double d = fabs((double)c[i] - t[i]);
		double lim = atol + RTOL * fabs(t[i]) + steps * lr * noise[i];
		double r = d / lim;
		if (d > lim)
			ok = 0;
		if (r > worst)
			worst = r, wabs = d, at = i;
	}
	worst_all = fmax(worst_all, worst * RTOL);
	return tap_ok(ok, "%s: %zu values, worst error %.2f of its limit (abs "
	    "%.2e at %zu)", what, n, worst, wabs, at);
}

/* Compare BUF (net layout) with F's tensors PREFIX + name, one by one;
 * after Adam steps (NOISE not NULL, net layout), as compare_steps. */
static void
compare_params(const char *stage, struct unet *net, const float *buf,
    const struct st_file *f, const char *fname, const char *prefix,
    double atol, const float *noise, double lr)
{
	struct tensor *c = model_export(net, buf, ""), *e = NULL;
	char name[96];

	if (noise != NULL) {            /* model_export reads backend memory */
		float *d = ops->alloc(net->nparams * sizeof(float));
		ops->upload(d, noise, net->nparams * sizeof(float));
		e = model_export(net, d, "");
		ops->free(d);
	}

	for (int i = 0; i < net->nptab; i++) {
		const struct unet_param *p = &net->ptab[i];
		snprintf(name, sizeof(name), "%s%s", prefix, p->name);
		const struct tensor *t = need(f, fname, name, p->n);
		snprintf(name, sizeof(name), "%s %s", stage, p->name);
		if (e != NULL)
			compare_steps(name, c[i].data, t->data, e[i].data,
			    p->n, atol, 3, lr);
		else
			compare(name, c[i].data, t->data, p->n, atol);
	}
	model_tensors_free(net, c);
	if (e != NULL)
		model_tensors_free(net, e);
}

/* The worst |a - b| over the tensors of A and B (net layout), in units of
 * ATOL * max|b of the tensor| + RTOL * |b|; the tensor's name in WHERE. */
static double
worst_tensor(const struct unet *net, const float *a, const float *b,
    const char **where)
{
	double worst = 0;

	*where = "";
	for (int t = 0; t < net->nptab; t++) {
		const struct unet_param *p = &net->ptab[t];
		double sc = 0;
		for (size_t i = p->off; i < p->off + p->n; i++)
			sc = fmax(sc, fabs(b[i]));
		for (size_t i = p->off; i < p->off + p->n; i++) {
			double r = fabs((double)a[i] - b[i]) / (ATOL * sc +
			    RTOL * fabs(b[i]) + 1e-30);
			if (r > worst)
				worst = r, *where = p->name;
		}
	}
	return worst;
}

/* The weights of NET (the backend under test) and TWIN (the CPU) after
 * one Adam step of rate LR, as compare_steps with the noise of the first
 * step's gradient. */
static void
compare_twin(struct unet *net, struct unet *twin, const struct nn_ops *cpu,
    const float *noise, double lr)
{
	float *a = xmalloc_array(net->nparams, sizeof(float));
	float *b = xmalloc_array(net->nparams, sizeof(float));
	double worst = 0;
	const char *where = "";

	ops->download(a, net->params, net->nparams * sizeof(float));
	cpu->download(b, twin->params, net->nparams * sizeof(float));
	for (int t = 0; t < net->nptab; t++) {
		const struct unet_param *p = &net->ptab[t];
		for (size_t i = p->off; i < p->off + p->n; i++) {
			double lim = 1e-3 * lr + RTOL * fabs(b[i]) + lr *
			    noise[i];
			double r = fabs((double)a[i] - b[i]) / lim;
			if (r > worst)
				worst = r, where = p->name;
		}
	}
	tap_ok(worst <= 1, "step 1: the weights on %s and cpu agree: worst "
	    "%.3g of the limit, in %s", ops->name, worst, where);
	free(a), free(b);
}

static void
golden(const char *fname, const char *yaml_path)
{
	struct st_file f;
	struct unet_arch cfg;
	struct unet_config ref;
	struct unet *net;
	struct adam opt;

	st_read(fname, &f);
	model_arch(&cfg, &f, fname);
	if (yaml_path != NULL) {
		// the fixture must be of the architecture the repo ships
		unet_config_load(&ref, yaml_path, NULL);
		char *d = unet_arch_diff(&cfg, &ref.model);
		tap_ok(d == NULL, "%s: architecture is that of %s%s%s", fname,
		    yaml_path, d ? ": " : "", d ? d : "");
		free(d);
	}
	const struct tensor *x = st_find(&f, "input");
	if (x == NULL || x->ndim != 4)
		die("%s: no 4-d tensor 'input'", fname);
	int B = (int)x->shape[0], K = cfg.classes;
	size_t npx = (size_t)B * cfg.input_h * cfg.input_w;
	need(&f, fname, "input", npx * cfg.in_channels);
	const struct tensor *lab = need(&f, fname, "labels", npx);
	const struct tensor *cw = need(&f, fname, "class_w", K);
	const struct tensor *logits = need(&f, fname, "logits", npx * K);
	const struct tensor *loss = need(&f, fname, "loss", 1);
	const struct tensor *losses = need(&f, fname, "losses", 3);
	if (lab->dtype != DTYPE_U8)
		die("%s: 'labels' is not U8", fname);

	net = unet_create(&cfg, B, 1, ops);
	float *h = xmalloc_array(npx * K, sizeof(float));
	model_import(net, net->params, &f, fname, "");
	printf("# %s: %zu parameters, norm %s\n", fname, net->nparams,
	    unet_norm_name(cfg.norm));

	// forward: logits and loss
	float l = unet_forward_loss(net, x->data, lab->data, cw->data, B);
	ops->download(h, net->logits, npx * K * sizeof(float));
	compare("logits", h, logits->data, npx * K, -1);
	compare("loss", &l, loss->data, 1, -1);

	// an inference network (ping-pong activation buffers) agrees
	struct unet *inf = unet_create(&cfg, B, 0, ops);
	model_import(inf, inf->params, &f, fname, "");
	unet_forward(inf, x->data, B);
	ops->download(h, inf->logits, npx * K * sizeof(float));
	compare("logits, inference network", h, logits->data, npx * K, -1);
	free(h);
	unet_free(inf);

	// backward: every parameter gradient
	unet_zero_grad(net);
	unet_backward(net, unet_loss_wsum(net));
	compare_params("grad", net, net->grads, &f, fname, "grad.", -1, NULL,
	    0);

	// three AdamW steps on the same batch, as the reference did
	struct adam_settings as = {
		.beta1 = (float)meta_num(&f, fname, "adam.beta1"),
		.beta2 = (float)meta_num(&f, fname, "adam.beta2"),
		.eps = (float)meta_num(&f, fname, "adam.eps"),
		.weight_decay = (float)meta_num(&f, fname, "adam.weight_decay"),
	};
	adam_init(&opt, net, &as);
	float lr = (float)meta_num(&f, fname, "adam.lr"), ls[3];
	float *noise = xcalloc(net->nparams, sizeof(float));
	float *g = xmalloc_array(net->nparams, sizeof(float));
	// on another backend than the CPU, the same steps on the CPU beside
	// it, the gradients of each step compared: where the two part
	const struct nn_ops *cpu = NULL;
	struct unet *twin = NULL;
	struct adam topt;
	float *gc = NULL;
	if (strcmp(ops->name, "cpu") != 0) {
		char why[256];
		if ((cpu = nn_backend_try("cpu", NULL, why, sizeof why)) == NULL)
			die("%s", why);
		twin = unet_create(&cfg, B, 1, cpu);
		model_import(twin, twin->params, &f, fname, "");
		adam_init(&topt, twin, &as);
		gc = xmalloc_array(net->nparams, sizeof(float));
	}
	for (int step = 0; step < 3; step++) {
		if (step > 0) {
			ls[step] = unet_forward_loss(net, x->data, lab->data,
			    cw->data, B);
			unet_zero_grad(net);
			unet_backward(net, unet_loss_wsum(net));
		} else {
			ls[0] = l;
		}
		ops->download(g, net->grads, net->nparams * sizeof(float));
		grad_noise(net, g, noise);
		if (twin != NULL) {
			const char *where;
			unet_forward_loss(twin, x->data, lab->data, cw->data,
			    B);
			unet_zero_grad(twin);
			unet_backward(twin, unet_loss_wsum(twin));
			cpu->download(gc, twin->grads, net->nparams *
			    sizeof(float));
			double w = worst_tensor(net, g, gc, &where);
			if (step == 0)
				tap_ok(w <= 1, "step 1: the gradients on %s and "
				    "cpu agree: worst %.3g of the tolerance, in "
				    "%s", ops->name, w, where);
			else
				printf("# step %d: the gradients on %s and cpu "
				    "differ by %.3g of the tolerance at most, in "
				    "%s\n", step + 1, ops->name, w, where);
			adam_step(&topt, twin, lr);
		}
		adam_step(&opt, net, lr);
		if (twin != NULL && step == 0)
			compare_twin(net, twin, cpu, noise, lr);
	}
	compare("3 step losses", ls, losses->data, 3, -1);
	if (twin != NULL) {
		free(gc);
		adam_free(&topt, twin);
		unet_free(twin);
	} else {
		compare_params("step3", net, net->params, &f, fname, "step3.",
		    1e-3 * 3 * lr, noise, lr);
	}
	free(noise), free(g);

	adam_free(&opt, net);
	unet_free(net);
	st_free(&f);
}

int
main(int argc, char **argv)
{
	setprogname(argv[0]);
	const char *backend = "cpu";
	char why[256];

	if (argc == 3 && strcmp(argv[1], "-b") == 0)
		backend = argv[2];
	else if (argc != 1)
		die("usage: test_nn_golden [-b backend]");
	if ((ops = nn_backend_try(backend, NULL, why, sizeof why)) == NULL) {
		tap_skip(why);
		return tap_done();
	}
	golden("test/fixtures/golden/unet_tiny_debug.safetensors",
	    "share/unet-tiny.yaml");
	golden("test/fixtures/golden/unet_tiny_gn_debug.safetensors", NULL);
	printf("# worst error over all tensors, in units of |t| + atol/rtol: "
	    "%.2e (limit %.0e)\n", worst_all, RTOL);
	nn_backend_close(ops);
	return tap_done();
}
