/*
 * test_nn_model.c - model-level properties of the U-Net engine: config
 * parsing and its errors, the learning-rate schedule, parameter counts,
 * model files, and the data-parallel identity.
 *
 * The identity is the one unet_backward()'s WSUM argument exists for: a
 * batch of 2 must give the same gradient as two batches of 1 whose
 * backward passes divide by the weight sum of both (what an MPI run on 2
 * ranks does after an allreduce of the weight sums).  Config errors are
 * checked in a child process, as die() exits: the status must be 1 and the
 * one line on standard error must name the file, line and key.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rng.h"
#include "safetensors.h"
#include "util.h"
#include "nn/config.h"
#include "nn/unet.h"
#include "tap.h"

// --- config -----------------------------------------------------------------

/* Load config TEXT (named "bad.yaml"; with ARCH as a model file's
 * architecture) in a child; 1 if it dies with status 1 and a message
 * containing WANT. */
static int
load_fails(int arch, const char *text, const char *want)
{
	int fd[2], status;
	char msg[512] = "";
	ssize_t n, got = 0;
	pid_t pid;

	if (pipe(fd) != 0 || (pid = fork()) < 0)
		die("pipe/fork:");
	if (pid == 0) {
		struct unet_config c;
		dup2(fd[1], 2);
		close(fd[0]);
		if (arch)
			unet_arch_load(&c.model, "bad.yaml", text);
		else
			unet_config_load(&c, "bad.yaml", text);
		_exit(0);
	}
	close(fd[1]);
	while ((n = read(fd[0], msg + got, sizeof(msg) - 1 - got)) > 0)
		got += n;
	msg[got] = '\0';
	close(fd[0]);
	waitpid(pid, &status, 0);
	msg[strcspn(msg, "\n")] = '\0';
	return tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 1 &&
	    strstr(msg, want) != NULL, "config error: '%s'", msg);
}

static int
config_fails(const char *text, const char *want)
{
	return load_fails(0, text, want);
}

static void
test_config(void)
{
	struct unet_config c, d;

	unet_config_load(&c, "share/unet.yaml", NULL);
	unet_config_default(&d);
	tap_ok(memcmp(&c, &d, sizeof(c)) == 0,
	    "share/unet.yaml states exactly the defaults");
	unet_config_load(&c, "share/unet-tiny.yaml", NULL);
	tap_ok(c.model.input_h == 32 && c.model.nlevels == 2 &&
	    c.model.widths[0] == 4 && c.model.widths[1] == 8 &&
	    c.model.bottleneck == 16 && c.model.classes == 10,
	    "share/unet-tiny.yaml: 32x32, widths 4 8, bottleneck 16");

	config_fails("model:\n  classes: 10\n  foo: 1\n",
	    "bad.yaml:3: unknown key 'foo'");
	config_fails("train:\n  lr: 0.001\n\n  batch: 0\n",
	    "bad.yaml:4: batch: 0 is out of range");
	config_fails("model:\n  input_size: 100\n",
	    "bad.yaml:2: input_size: 100 is not a multiple of 2^4");
	config_fails("model:\n  norm: group\n  norm_groups: 5\n",
	    "bad.yaml:3: norm_groups: 5 does not divide width 32");
	config_fails("model:\n  activation: gelu\n",
	    "bad.yaml:2: activation: unknown value 'gelu'");
	config_fails("model:\n  widths: 32\n",
	    "bad.yaml:2: widths: expected a list");
	config_fails("optimizer:\n  lr: 1\n",
	    "bad.yaml:1: unknown key 'optimizer'");
}

static void
test_schedule(void)
{
	struct unet_config c;

	struct unet_train *t = &c.train;

	unet_config_default(&c);
	t->lr = 1e-3f, t->min_lr = 1e-5f, t->epochs = 10, t->warmup_epochs = 1;
	t->schedule = UNET_SCHED_COSINE;
	tap_ok(tap_close(unet_train_lr(t, 0), 1e-4, 1e-9, 1e-5) &&
	    tap_close(unet_train_lr(t, 1), 1e-3, 1e-9, 1e-5) &&
	    tap_close(unet_train_lr(t, 5.5), 0.5 * (1e-3 + 1e-5), 1e-9,
	    1e-5) && tap_close(unet_train_lr(t, 10), 1e-5, 1e-9, 1e-5),
	    "cosine: lr/10 at 0, lr after warm-up, midpoint, min_lr at end");
	t->schedule = UNET_SCHED_STEP, t->step_every = 3, t->step_gamma = 0.1f;
	t->warmup_epochs = 0;
	tap_ok(tap_close(unet_train_lr(t, 2.9), 1e-3, 1e-9, 1e-5) &&
	    tap_close(unet_train_lr(t, 3), 1e-4, 1e-9, 1e-5) &&
	    tap_close(unet_train_lr(t, 9), 1e-5, 1e-9, 1e-5),
	    "step: x0.1 every 3 epochs, floored at min_lr");
}

/* 1 if unet_arch_diff(A, B) is WANT (NULL: no difference). */
static int
diff_is(const struct unet_arch *a, const struct unet_arch *b, const char *want)
{
	char *d = unet_arch_diff(a, b);
	int ok = want == NULL ? d == NULL : d != NULL && strcmp(d, want) == 0;

	tap_ok(ok, "architecture diff: '%s'", d ? d : "(none)");
	free(d);
	return ok;
}

static void
test_arch(void)
{
	struct unet_config c;
	struct unet_arch a, b;
	char *y;

	// the writer's text reads back to the same struct
	unet_config_load(&c, "share/unet-tiny.yaml", NULL);
	c.model.norm = UNET_NORM_GROUP, c.model.groups = 2;
	c.model.alpha = 0.3f;
	y = unet_arch_yaml(&c.model);
	unet_arch_load(&a, "arch.yaml", y);
	tap_ok(memcmp(&a, &c.model, sizeof(a)) == 0,
	    "unet_arch_yaml() reads back to the same architecture");
	free(y);
	load_fails(1, "model:\n  widths: [4]\ntrain:\n  lr: 1\n",
	    "bad.yaml:3: unknown key 'train'");
	load_fails(1, "model:\n  input_size: 18\n  widths: [4, 8]\n",
	    "bad.yaml:2: input_size: 18 is not a multiple of 2^2");

	// the first key that differs, with both values
	b = a;
	diff_is(&a, &b, NULL);
	b.bottleneck = 8;
	diff_is(&a, &b, "bottleneck: 16 against 8");
	b = a, b.widths[1] = 16;
	diff_is(&a, &b, "widths: [4, 8] against [4, 16]");
	b = a, b.nlevels = 1;
	diff_is(&a, &b, "widths: [4, 8] against [4]");
	b = a, b.input_h = b.input_w = 64;
	diff_is(&a, &b, "input_size: 32 against 64");
	b = a, b.act = UNET_ACT_RELU;
	diff_is(&a, &b, "activation: leaky_relu against relu");
	b = a, b.alpha = 0.1f;
	diff_is(&a, &b, "leaky_alpha: 0.300000012 against 0.100000001");
	b = a, b.groups = 4;
	diff_is(&a, &b, "norm_groups: 2 against 4");
}

// --- parameters and files ---------------------------------------------------

static void
test_param_count(void)
{
	struct unet_config c;
	struct unet *net;

	// parameters do not depend on the input size: build it small
	unet_config_load(&c, "share/unet.yaml", NULL);
	c.model.input_h = c.model.input_w = 16;
	net = unet_create(&c.model, 1, 0, NULL);
	tap_ok(net->nparams == 7760394, "share/unet.yaml: %zu parameters "
	    "(reference 7,760,427 with 11 classes = 7,760,394 with 10)",
	    net->nparams);
	unet_free(net);
	c.model.classes = 11;
	net = unet_create(&c.model, 1, 0, NULL);
	tap_ok(net->nparams == 7760427, "with 11 classes: %zu parameters",
	    net->nparams);
	unet_free(net);
	c.model.classes = 10, c.model.norm = UNET_NORM_GROUP;
	net = unet_create(&c.model, 1, 0, NULL);
	// one (gamma, beta) pair per 3x3 conv: 2 per level, 9 levels
	tap_ok(net->nparams == 7760394 + 2 * (2 * (32 + 64 + 128 + 256) * 2 +
	    2 * 512), "with GroupNorm: %zu parameters", net->nparams);
	unet_free(net);
}

static void
test_save_load(void)
{
	struct unet_config c;
	struct unet_arch c2;
	struct unet *net, *net2;
	struct st_file f;
	struct rng r;
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char dir[512], path[600];
	char *k[] = { "note" }, *v[] = { "kept" };

	snprintf(dir, sizeof(dir), "%s/test_nn_model.XXXXXX", tmp);
	if (mkdtemp(dir) == NULL)
		die("mkdtemp %s:", dir);
	snprintf(path, sizeof(path), "%s/m.safetensors", dir);
	unet_config_load(&c, "share/unet-tiny.yaml", NULL);
	c.model.norm = UNET_NORM_GROUP, c.model.groups = 2;
	rng_seed(&r, 5);
	net = unet_create(&c.model, 1, 0, NULL);
	unet_init_params(net, &r);
	unet_save(net, path, k, v, 1);

	st_read(path, &f);
	unet_model_arch(&c2, &f, path);
	tap_ok(memcmp(&c2, &c.model, sizeof(c2)) == 0,
	    "model file: the architecture comes back from 'unet.config'");
	tap_ok(st_meta(&f, "note") && !strcmp(st_meta(&f, "note"), "kept"),
	    "model file: extra metadata kept");
	const struct tensor *w = st_find(&f, "enc0.conv0.weight");
	const struct tensor *u = st_find(&f, "dec0.up.weight");
	tap_ok(w && w->ndim == 4 && w->shape[0] == 4 && w->shape[1] == 3 &&
	    w->shape[2] == 3 && u && u->shape[0] == 8 && u->shape[1] == 4 &&
	    u->shape[2] == 2, "model file: PyTorch shapes [out,in,3,3], "
	    "[in,out,2,2]");
	net2 = unet_create(&c2, 1, 0, NULL);
	unet_import(net2, net2->params, &f, path, "");
	tap_ok(net2->nparams == net->nparams && !memcmp(net->params,
	    net2->params, net->nparams * sizeof(float)),
	    "model file: %zu parameters round-trip bit for bit", net->nparams);
	st_free(&f);
	unet_free(net);
	unet_free(net2);
	remove(path);
	rmdir(dir);
}

// --- data-parallel identity -------------------------------------------------

static void
test_split_batch(void)
{
	struct unet_config c;
	struct unet *net;
	struct rng r;
	float cw[10];

	unet_config_load(&c, "share/unet-tiny.yaml", NULL);
	c.model.norm = UNET_NORM_GROUP, c.model.groups = 2;
	rng_seed(&r, 9);
	net = unet_create(&c.model, 2, 1, NULL);
	unet_init_params(net, &r);
	size_t img = (size_t)c.model.input_h * c.model.input_w;
	size_t n = net->nparams;
	float *x = xmalloc_array(2 * img * 3, sizeof(float));
	uint8_t *lab = xmalloc(2 * img);
	for (size_t i = 0; i < 2 * img * 3; i++)
		x[i] = rng_normal(&r);
	for (size_t i = 0; i < 2 * img; i++)
		lab[i] = i % 9 == 0 ? NN_IGNORE_LABEL : rng_below(&r, 10);
	for (int k = 0; k < 10; k++)
		cw[k] = 0.5f + k * 0.2f;

	// one batch of 2
	float l2 = unet_forward_loss(net, x, lab, cw, 2);
	unet_zero_grad(net);
	unet_backward(net, unet_loss_wsum(net));
	float *g2 = xmalloc_array(n, sizeof(float));
	memcpy(g2, net->grads, n * sizeof(float));

	// two "ranks" of 1, dividing by the summed weight sums
	double s0, s1, w0, w1;
	unet_forward_loss(net, x, lab, cw, 1);
	s0 = net->sums[0], w0 = unet_loss_wsum(net);
	unet_forward_loss(net, x + img * 3, lab + img, cw, 1);
	s1 = net->sums[0], w1 = unet_loss_wsum(net);
	unet_zero_grad(net);
	unet_forward_loss(net, x, lab, cw, 1);
	unet_backward(net, w0 + w1);
	unet_forward_loss(net, x + img * 3, lab + img, cw, 1);
	unet_backward(net, w0 + w1);

	double err = 0, scale = 0;
	for (size_t i = 0; i < n; i++) {
		err = fmax(err, fabs(net->grads[i] - g2[i]));
		scale = fmax(scale, fabs(g2[i]));
	}
	tap_ok(tap_close((s0 + s1) / (w0 + w1), l2, 1e-7, 1e-6),
	    "split batch: loss %.6f = (sum of sums) / (sum of weights)", l2);
	tap_ok(err <= 1e-5 * scale, "split batch: gradients of 2 x 1 images "
	    "= gradient of 1 x 2 (max diff %.2e, scale %.2e)", err, scale);
	free(g2), free(x), free(lab);
	unet_free(net);
}

int
main(int argc, char **argv)
{
	setprogname(argv[0]);
	test_config();
	test_schedule();
	test_arch();
	test_param_count();
	test_save_load();
	test_split_batch();
	return tap_done();
}
