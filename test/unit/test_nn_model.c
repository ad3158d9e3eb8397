/*
 * test_nn_model.c - model-level properties of the U-Net engine: config
 * parsing and its errors, the architecture's text and comparison, the
 * learning-rate schedule, parameter counts, model files and checkpoints,
 * the training history and log, class weights, and the data-parallel
 * identity.
 *
 * The identity is the one unet_backward()'s WSUM argument exists for: a
 * batch of 2 must give the same gradient as two batches of 1 whose
 * backward passes divide by the weight sum of both (what an MPI run on 2
 * ranks does after an allreduce of the weight sums).  Config errors are
 * checked in a child process, as die() exits: the status must be 1 and the
 * one line on standard error must name the file, line and key.  The
 * tests run from the top of the tree (share/ holds the class table).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "classweights.h"
#include "history.h"
#include "model.h"
#include "rng.h"
#include "safetensors.h"
#include "util.h"
#include "nn/adam.h"
#include "nn/config.h"
#include "nn/unet.h"
#include "tap.h"

// --- config -----------------------------------------------------------------

/* Run FN(ARG) in a child; 1 if it dies with status 1 and a message
 * containing WANT (WHAT names the check). */
static int
dies(void (*fn)(const void *), const void *arg, const char *what,
    const char *want)
{
	int fd[2], status;
	char msg[512] = "";
	ssize_t n, got = 0;
	pid_t pid;

	fflush(stdout);
	if (pipe(fd) != 0 || (pid = fork()) < 0)
		die("pipe/fork:");
	if (pid == 0) {
		dup2(fd[1], 2);
		close(fd[0]);
		fn(arg);
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
	    strstr(msg, want) != NULL, "%s: '%s'", what, msg);
}

static void
load_config(const void *text)
{
	struct unet_config c;

	unet_config_load(&c, "bad.yaml", text);
}

static void
load_arch(const void *text)
{
	struct unet_arch a;

	unet_arch_load(&a, "bad.yaml", text);
}

/* Loading config TEXT (named "bad.yaml") dies naming WANT. */
static int
config_fails(const char *text, const char *want)
{
	return dies(load_config, text, "config error", want);
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
	config_fails("model:\n  classes: 10\n  widths: [4]\n  classes: 9\n",
	    "bad.yaml:4: key 'classes' repeated (first at line 2)");
	config_fails("train:\n  lr: 0.1\nmodel:\n  classes: 10\n"
	    "train:\n  lr: 0.2\n",
	    "bad.yaml:5: key 'train' repeated (first at line 1)");
	config_fails("model:\n  classes: 10\n---\nmodel:\n  classes: 9\n",
	    "bad.yaml:3: a second YAML document (expected one)");
	dies(load_arch, "model: {input_size: 32, input_size: 64}\n",
	    "a model's architecture", "bad.yaml:1: key 'input_size' "
	    "repeated (first at line 1)");
	config_fails("model:\n  in_channels: 8\n",
	    "bad.yaml:2: in_channels: 8 is not supported (the input is an "
	    "RGB picture: 3)");
	config_fails("model:\n  in_channels: 1\n",
	    "bad.yaml:2: in_channels: 1 is not supported");
	dies(load_arch, "model:\n  in_channels: 64\n", "a model's "
	    "architecture", "bad.yaml:2: in_channels: 64 is not supported");
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
	dies(load_arch, "model:\n  widths: [4]\ntrain:\n  lr: 1\n",
	    "architecture error", "bad.yaml:3: unknown key 'train'");
	dies(load_arch, "model:\n  input_size: 18\n  widths: [4, 8]\n",
	    "architecture error",
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

/* A scratch directory for files. */
static const char *
scratch(void)
{
	static char dir[512];
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";

	if (dir[0] == '\0') {
		snprintf(dir, sizeof(dir), "%s/test_nn_model.XXXXXX", tmp);
		if (mkdtemp(dir) == NULL)
			die("mkdtemp %s:", dir);
	}
	return dir;
}

static void
test_save_load(void)
{
	struct unet_config c;
	struct unet_arch c2;
	struct unet *net, *net2;
	struct model_info info = { { 200, 180.5f, 210 }, { 30, 40, 25.25f } };
	struct model_info info2;
	struct kv meta = { 0 };
	struct st_file f;
	struct rng r;
	char path[600];

	snprintf(path, sizeof(path), "%s/m.safetensors", scratch());
	unet_config_load(&c, "share/unet-tiny.yaml", NULL);
	c.model.norm = UNET_NORM_GROUP, c.model.groups = 2;
	rng_seed(&r, 5);
	net = unet_create(&c.model, 1, 0, NULL);
	unet_init_params(net, &r);
	kv_set(&meta, "note", "kept");
	model_write(path, net, 0, &info, NULL, 0, &meta);
	kv_free(&meta);

	st_read(path, &f);
	model_arch(&c2, &f, path);
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
	st_free(&f);
	net2 = model_read(path, 1, 0, NULL, &f, &info2);
	tap_ok(net2->nparams == net->nparams && !memcmp(net->params,
	    net2->params, net->nparams * sizeof(float)),
	    "model file: %zu parameters round-trip bit for bit", net->nparams);
	tap_ok(memcmp(&info, &info2, sizeof(info)) == 0,
	    "model file: the input normalisation round-trips exactly");
	st_free(&f);
	unet_free(net);
	unet_free(net2);
	remove(path);
}

/* Fill the N floats at backend buffer BUF of NET with draws from R. */
static void
fill(struct unet *net, float *buf, size_t n, struct rng *r)
{
	float *h = xmalloc_array(n, sizeof(float));

	for (size_t i = 0; i < n; i++)
		h[i] = rng_normal(r);
	net->ops->upload(buf, h, n * sizeof(float));
	free(h);
}

static const struct adam_settings test_adam = { 0.9f, 0.999f, 1e-8f, 0 };

static void
load_other_arch(const void *dir)
{
	struct unet_config c;
	struct train_state s = { 0 };

	unet_config_load(&c, "share/unet-tiny.yaml", NULL);
	c.model.bottleneck = 8;
	checkpoint_load(dir, &s, &c.model, "other.yaml", 1, NULL, &test_adam);
}

static void
test_checkpoint(void)
{
	struct unet_config c;
	struct train_state s = { 0 }, s2 = { 0 };
	struct kv meta = { 0 };
	struct rng r;
	size_t np;
	const char *dir = scratch();

	unet_config_load(&c, "share/unet-tiny.yaml", NULL);
	rng_seed(&r, 11);
	s.net = unet_create(&c.model, 2, 1, NULL);
	np = s.net->nparams;
	unet_init_params(s.net, &r);
	adam_init(&s.opt, s.net, &test_adam);
	fill(s.net, s.opt.m, np, &r);
	fill(s.net, s.opt.v, np, &r);
	s.opt.t = 42;
	rng_seed(&s.data_rng, 77);
	rng_u64(&s.data_rng);
	s.norm = (struct model_info){ { 1, 2, 3 }, { 4, 5, 6 } };
	for (int k = 0; k < c.model.classes; k++)
		s.rec.class_w[k] = 0.1f + k / 3.0f;
	s.rec.history = xstrdup("[{\"epoch\": 1, \"val_mean_iou\": 0.1}, "
	    "{\"epoch\": 2, \"val_mean_iou\": 0.2}]");
	s.rec.epochs = 2, s.rec.best_epoch = 2, s.rec.best_miou = 0.2 / 3;
	s.rec.seed = 5, s.rec.batch = 2, s.rec.ranks = 1;
	kv_set(&meta, "dataset", "tiny");
	s.rec.meta = &meta;
	checkpoint_save(dir, &s);

	s2.rec.history = xstrdup("[]");
	checkpoint_load(dir, &s2, &c.model, "share/unet-tiny.yaml", 2, NULL,
	    &test_adam);
	tap_ok(s2.net->nparams == np && !memcmp(s.net->params,
	    s2.net->params, np * sizeof(float)) && !memcmp(s.opt.m,
	    s2.opt.m, np * sizeof(float)) && !memcmp(s.opt.v, s2.opt.v,
	    np * sizeof(float)) && s2.opt.t == 42 && s2.net->grads != NULL,
	    "checkpoint: parameters, Adam moments and step come back");
	tap_ok(memcmp(&s.data_rng, &s2.data_rng, sizeof(s.data_rng)) == 0 &&
	    memcmp(&s.norm, &s2.norm, sizeof(s.norm)) == 0,
	    "checkpoint: the data-order RNG and the normalisation come back");
	tap_ok(memcmp(s.rec.class_w, s2.rec.class_w,
	    c.model.classes * sizeof(float)) == 0 &&
	    strcmp(s.rec.history, s2.rec.history) == 0 &&
	    s2.rec.epochs == 2 && s2.rec.best_epoch == 2 &&
	    s2.rec.best_miou == s.rec.best_miou,
	    "checkpoint: class weights, history, epochs and best score "
	    "come back exactly");
	dies(load_other_arch, dir, "checkpoint of another architecture",
	    "checkpoint.safetensors: its model differs from the one in "
	    "other.yaml (bottleneck: 16 against 8)");
	tap_ok(model_meta_key_free("dataset") &&
	    !model_meta_key_free("training.epochs") &&
	    !model_meta_key_free("adam.t") && !model_meta_key_free("classes"),
	    "metadata keys of the project's own are not the user's");

	adam_free(&s.opt, s.net);
	adam_free(&s2.opt, s2.net);
	unet_free(s.net);
	unet_free(s2.net);
	free(s.rec.history);
	free(s2.rec.history);
	kv_free(&meta);
	char path[600];
	snprintf(path, sizeof(path), "%s/checkpoint.safetensors", dir);
	remove(path);
}

static void
load_bad_history(const void *dir)
{
	struct unet_config c;
	struct train_state s = { 0 };

	unet_config_load(&c, "share/unet-tiny.yaml", NULL);
	checkpoint_load(dir, &s, &c.model, "tiny.yaml", 1, NULL, &test_adam);
}

/* Rewrite DIR/checkpoint.safetensors with tensor NAME stored as F16
 * (zeros: the same elements in half the bytes; a U8 tensor's bytes as
 * half as many F16). */
static void
checkpoint_to_f16(const char *dir, const char *name)
{
	char path[600];
	struct st_file f;
	uint16_t *h = NULL;

	snprintf(path, sizeof(path), "%s/checkpoint.safetensors", dir);
	st_read(path, &f);
	for (int i = 0; i < f.n; i++)
		if (strcmp(f.t[i].name, name) == 0) {
			/* the same elements; a U8 tensor the same bytes */
			size_t k = f.t[i].dtype == DTYPE_U8 ?
			    tensor_nbytes(&f.t[i]) / 2 : tensor_numel(&f.t[i]);
			f.t[i].dtype = DTYPE_F16;
			f.t[i].ndim = 1;
			f.t[i].shape[0] = (int64_t)k;
			h = xcalloc(k, sizeof *h);
			f.t[i].data = h;
		}
	st_write(path, f.t, f.n, f.meta_key, f.meta_val, f.nmeta);
	free(h);
	st_free(&f);
}

/* Checkpoints whose optimizer or RNG state is stored as F16: refused with
 * one line, not read through the converted parameters' freed buffers. */
static void
test_checkpoint_dtypes(void)
{
	static const char *const names[] = { "adam.m", "adam.v", "rng.data" };
	struct unet_config c;
	struct train_state s = { 0 };
	const char *dir = scratch();
	char path[600], what[64];

	unet_config_load(&c, "share/unet-tiny.yaml", NULL);
	s.net = unet_create(&c.model, 1, 1, NULL);
	adam_init(&s.opt, s.net, &test_adam);
	s.norm = (struct model_info){ { 1, 2, 3 }, { 4, 5, 6 } };
	for (int k = 0; k < c.model.classes; k++)
		s.rec.class_w[k] = 1;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		checkpoint_save(dir, &s);
		checkpoint_to_f16(dir, names[i]);
		snprintf(what, sizeof what, "checkpoint with %s as F16",
		    names[i]);
		dies(load_bad_history, dir, what, "checkpoint.safetensors: not "
		    "a checkpoint (optimizer or RNG state missing or of the "
		    "wrong dtype or size");
	}
	adam_free(&s.opt, s.net);
	unet_free(s.net);
	snprintf(path, sizeof(path), "%s/checkpoint.safetensors", dir);
	remove(path);
}

/* The history and the log: jansson's text of the numbers as printf
 * rounds them, and the same text again after a parse (a resumed run). */
static void
test_history(void)
{
	struct epoch_record e = { .epoch = 1, .lr = 1e-5f, .train_loss = 0.5,
	    .val_loss = 1.23456789, .val_acc = 0.6149904, .val_miou = NAN,
	    .seconds = 2, .tiles_per_s = 12.3456, .ranks = 2 };
	const char *want1 = "[{\"epoch\": 1, \"lr\": 1e-5, \"train_loss\": "
	    "0.5, \"val_loss\": 1.234568, \"val_pixel_accuracy\": 0.61499, "
	    "\"val_mean_iou\": null}]";
	char *h1 = history_append("[]", &e), *h2;

	tap_ok(strcmp(h1, want1) == 0, "history: %s", h1);
	e.epoch = 2, e.lr = 0.00271448, e.val_miou = 0;
	h2 = history_append(h1, &e);
	tap_ok(strncmp(h2, h1, strlen(h1) - 1) == 0 && strcmp(h2 + strlen(h1)
	    - 1, ", {\"epoch\": 2, \"lr\": 0.00271448, \"train_loss\": 0.5, "
	    "\"val_loss\": 1.234568, \"val_pixel_accuracy\": 0.61499, "
	    "\"val_mean_iou\": 0.0}]") == 0,
	    "history: an epoch appended, the first one's text unchanged");

	char *buf;
	size_t len;
	FILE *f = open_memstream(&buf, &len);
	history_log(f, "log", &e);
	fclose(f);
	tap_ok(strcmp(buf, "{\"epoch\": 2, \"lr\": 0.00271448, \"train_loss\": "
	    "0.5, \"val_loss\": 1.234568, \"val_pixel_accuracy\": 0.61499, "
	    "\"val_mean_iou\": 0.0, \"seconds\": 2.0, \"train_tiles_per_s\": "
	    "12.346, \"ranks\": 2}\n") == 0, "log line: %s", buf);
	free(buf);
	free(h1);
	free(h2);

	// a checkpoint whose history is not a JSON array
	const char *dir = scratch();
	struct unet_config c;
	struct train_state s = { 0 };
	unet_config_load(&c, "share/unet-tiny.yaml", NULL);
	s.net = unet_create(&c.model, 1, 1, NULL);
	adam_init(&s.opt, s.net, &test_adam);
	s.norm = (struct model_info){ { 1, 2, 3 }, { 4, 5, 6 } };
	s.rec.history = "{\"epoch\": 1}";
	checkpoint_save(dir, &s);
	dies(load_bad_history, dir, "checkpoint with a bad history",
	    "checkpoint.safetensors: metadata 'training.history' is not a "
	    "JSON array");
	// an empty history text: once written before the history array
	s.rec.history = "";
	checkpoint_save(dir, &s);
	dies(load_bad_history, dir, "checkpoint with an empty history",
	    "checkpoint.safetensors: metadata 'training.history' is not a "
	    "JSON array");
	adam_free(&s.opt, s.net);
	unet_free(s.net);
	char path[600];
	snprintf(path, sizeof(path), "%s/checkpoint.safetensors", dir);
	remove(path);
}

static void
test_class_weights(void)
{
	/* frequencies 0.5, 0.25, 0.125, 0.125, 0: median 0.1875 */
	uint64_t counts[5] = { 400, 200, 100, 100, 0 };
	float w[5];

	class_weights(w, counts, 5, UNET_CW_MEDIAN_FREQ, 10);
	tap_ok(tap_close(w[0], 0.375, 0, 1e-6) &&
	    tap_close(w[1], 0.75, 0, 1e-6) && tap_close(w[2], 1.5, 0, 1e-6) &&
	    tap_close(w[3], 1.5, 0, 1e-6) && w[4] == 10,
	    "class weights: median frequency / frequency, absent class max");
	class_weights(w, counts, 5, UNET_CW_MEDIAN_FREQ, 2);
	tap_ok(w[0] == 0.5f && w[2] == 1.5f && w[4] == 2,
	    "class weights: clipped to [1/max, max]");
	class_weights(w, counts, 5, UNET_CW_INV_SQRT_FREQ, 10);
	tap_ok(tap_close(w[1], sqrt(0.75), 0, 1e-6),
	    "class weights: inv_sqrt_freq is the square root");
	class_weights(w, counts, 5, UNET_CW_NONE, 10);
	tap_ok(w[0] == 1 && w[4] == 1, "class weights: none gives 1");
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
	setenv("SMEARSEG_SHARE", "share", 0);   /* the class table */
	test_config();
	test_schedule();
	test_arch();
	test_param_count();
	test_save_load();
	test_checkpoint();
	test_history();
	test_checkpoint_dtypes();
	test_class_weights();
	test_split_batch();
	rmdir(scratch());
	return tap_done();
}
