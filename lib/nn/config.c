/*
 * config.c - read a U-Net config (YAML) into struct unet_config, and the
 * architecture's own reader, writer and comparison (config.h).
 *
 * Defaults first, then every key present overrides its default after a
 * type and range check; unknown keys die naming the file and line (via
 * lib/yamldoc).  Checks that involve several keys (the input size must
 * halve cleanly at every level, the group count must divide every width)
 * are done last and name the key that fails.  The model: section has its
 * writer next to its reader, so that a key added to one is seen missing
 * from the other.
 */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "util.h"
#include "yamldoc.h"
#include "nn/config.h"

static const char *const act_names[] = { "relu", "leaky_relu" };
static const char *const norm_names[] = { "none", "group" };
static const char *const sched_names[] = { "constant", "cosine", "step" };
static const char *const cw_names[] = { "none", "median_freq",
    "inv_sqrt_freq" };
static_assert(sizeof(act_names) / sizeof(*act_names) ==
    UNET_ACT_LEAKY_RELU + 1, "act_names");
static_assert(sizeof(norm_names) / sizeof(*norm_names) ==
    UNET_NORM_GROUP + 1, "norm_names");
static_assert(sizeof(sched_names) / sizeof(*sched_names) ==
    UNET_SCHED_STEP + 1, "sched_names");
static_assert(sizeof(cw_names) / sizeof(*cw_names) ==
    UNET_CW_INV_SQRT_FREQ + 1, "cw_names");

const char *unet_act_name(enum unet_act a) { return act_names[a]; }
const char *unet_norm_name(enum unet_norm n) { return norm_names[n]; }
const char *unet_sched_name(enum unet_sched s) { return sched_names[s]; }
const char *unet_cw_name(enum unet_cw w) { return cw_names[w]; }

static void
arch_default(struct unet_arch *a)
{
	static const int w[] = { 32, 64, 128, 256 };

	memset(a, 0, sizeof(*a));
	a->input_h = a->input_w = 224;
	a->in_channels = 3;
	a->classes = 10;
	a->nlevels = 4;
	memcpy(a->widths, w, sizeof(w));
	a->bottleneck = 512;
	a->convs = 2;
	a->act = UNET_ACT_LEAKY_RELU;
	a->alpha = 0.1f;
	a->norm = UNET_NORM_NONE;
	a->groups = 8;
}

void
unet_config_default(struct unet_config *c)
{
	struct unet_train *t = &c->train;
	struct augment *g = &c->augment;

	memset(c, 0, sizeof(*c));
	arch_default(&c->model);

	t->epochs = 40;
	t->batch = 16;
	t->lr = 1e-3f;
	t->min_lr = 1e-5f;
	t->schedule = UNET_SCHED_COSINE;
	t->warmup_epochs = 1;
	t->step_every = 10;
	t->step_gamma = 0.1f;
	t->adam.weight_decay = 1e-4f;
	t->adam.beta1 = 0.9f;
	t->adam.beta2 = 0.999f;
	t->adam.eps = 1e-8f;
	t->class_weights = UNET_CW_MEDIAN_FREQ;
	t->class_weight_max = 10;
	t->seed = 1;

	g->flip = g->rot90 = 1;
	g->color = 0.1f;
	g->stain = 0.05f;
	g->scale = 0.1f;
}

// --- parsing helpers --------------------------------------------------------

static int
get_enum(struct yamldoc *y, yaml_node_t *n, const char *key,
    const char *const *names, int count)
{
	const char *s = yamldoc_scalar(y, n, "a name");

	for (int i = 0; i < count; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	yamldoc_die(y, n, "%s: unknown value '%s'", key, s);
}

/* The node of KEY in mapping M if both exist, else FALLBACK: where a
 * cross-key error is reported. */
static yaml_node_t *
where(struct yamldoc *y, yaml_node_t *m, const char *key,
    yaml_node_t *fallback)
{
	yaml_node_t *n = m != NULL ? yamldoc_get(y, m, key) : NULL;

	return n != NULL ? n : fallback;
}

#define ENUM(y, n, key, names) \
	get_enum(y, n, key, names, (int)(sizeof(names) / sizeof(*names)))

static void
load_model(struct yamldoc *y, yaml_node_t *m, struct unet_arch *c)
{
	static const char *const keys[] = { "input_size", "in_channels",
	    "classes", "widths", "bottleneck", "convs_per_level",
	    "activation", "leaky_alpha", "norm", "norm_groups", NULL };
	yaml_node_t *n;

	yamldoc_check_keys(y, m, keys);
	if ((n = yamldoc_get(y, m, "input_size")) != NULL)
		c->input_h = c->input_w = (int)yamldoc_long(y, n, "input_size",
		    2, 8192);
	/* every program feeds the network RGB pictures (tileset.c,
	 * unet-infer): any other count would read past them */
	if ((n = yamldoc_get(y, m, "in_channels")) != NULL &&
	    (c->in_channels = (int)yamldoc_long(y, n, "in_channels", 1,
	    64)) != 3)
		yamldoc_die(y, n, "in_channels: %d is not supported (the "
		    "input is an RGB picture: 3)", c->in_channels);
	if ((n = yamldoc_get(y, m, "classes")) != NULL)
		c->classes = (int)yamldoc_long(y, n, "classes", 2, 255);
	if ((n = yamldoc_get(y, m, "widths")) != NULL) {
		yaml_node_item_t *it;
		if (n->type != YAML_SEQUENCE_NODE)
			yamldoc_die(y, n,
			    "widths: expected a list of integers");
		c->nlevels = 0;
		for (it = n->data.sequence.items.start;
		    it < n->data.sequence.items.top; it++) {
			if (c->nlevels == UNET_MAX_LEVELS)
				yamldoc_die(y, n, "widths: more than %d levels",
				    UNET_MAX_LEVELS);
			c->widths[c->nlevels++] = (int)yamldoc_long(y,
			    yamldoc_node(y, *it), "widths", 1, 4096);
		}
		if (c->nlevels == 0)
			yamldoc_die(y, n,
			    "widths: expected at least one level");
	}
	if ((n = yamldoc_get(y, m, "bottleneck")) != NULL)
		c->bottleneck = (int)yamldoc_long(y, n, "bottleneck", 1, 8192);
	if ((n = yamldoc_get(y, m, "convs_per_level")) != NULL)
		c->convs = (int)yamldoc_long(y, n, "convs_per_level", 1, 8);
	if ((n = yamldoc_get(y, m, "activation")) != NULL)
		c->act = ENUM(y, n, "activation", act_names);
	if ((n = yamldoc_get(y, m, "leaky_alpha")) != NULL)
		c->alpha = (float)yamldoc_double(y, n, "leaky_alpha", 0, 1);
	if ((n = yamldoc_get(y, m, "norm")) != NULL)
		c->norm = ENUM(y, n, "norm", norm_names);
	if ((n = yamldoc_get(y, m, "norm_groups")) != NULL)
		c->groups = (int)yamldoc_long(y, n, "norm_groups", 1, 4096);
}

static void
load_train(struct yamldoc *y, yaml_node_t *m, struct unet_train *c)
{
	static const char *const keys[] = { "epochs", "batch", "lr",
	    "min_lr", "schedule", "warmup_epochs", "step_every",
	    "step_gamma", "weight_decay", "beta1", "beta2", "adam_eps",
	    "class_weights", "class_weight_max", "seed", NULL };
	yaml_node_t *n;

	yamldoc_check_keys(y, m, keys);
	if ((n = yamldoc_get(y, m, "epochs")) != NULL)
		c->epochs = (int)yamldoc_long(y, n, "epochs", 1, 100000);
	if ((n = yamldoc_get(y, m, "batch")) != NULL)
		c->batch = (int)yamldoc_long(y, n, "batch", 1, 4096);
	if ((n = yamldoc_get(y, m, "lr")) != NULL)
		c->lr = (float)yamldoc_double(y, n, "lr", 1e-9, 10);
	if ((n = yamldoc_get(y, m, "min_lr")) != NULL)
		c->min_lr = (float)yamldoc_double(y, n, "min_lr", 0, 10);
	if ((n = yamldoc_get(y, m, "schedule")) != NULL)
		c->schedule = ENUM(y, n, "schedule", sched_names);
	if ((n = yamldoc_get(y, m, "warmup_epochs")) != NULL)
		c->warmup_epochs = (float)yamldoc_double(y, n, "warmup_epochs",
		    0, 100000);
	if ((n = yamldoc_get(y, m, "step_every")) != NULL)
		c->step_every = (int)yamldoc_long(y, n, "step_every", 1,
		    100000);
	if ((n = yamldoc_get(y, m, "step_gamma")) != NULL)
		c->step_gamma = (float)yamldoc_double(y, n, "step_gamma", 0, 1);
	if ((n = yamldoc_get(y, m, "weight_decay")) != NULL)
		c->adam.weight_decay = (float)yamldoc_double(y, n,
		    "weight_decay", 0, 1);
	if ((n = yamldoc_get(y, m, "beta1")) != NULL)
		c->adam.beta1 = (float)yamldoc_double(y, n, "beta1", 0,
		    0.999999);
	if ((n = yamldoc_get(y, m, "beta2")) != NULL)
		c->adam.beta2 = (float)yamldoc_double(y, n, "beta2", 0,
		    0.999999);
	if ((n = yamldoc_get(y, m, "adam_eps")) != NULL)
		c->adam.eps = (float)yamldoc_double(y, n, "adam_eps", 1e-12, 1);
	if ((n = yamldoc_get(y, m, "class_weights")) != NULL)
		c->class_weights = ENUM(y, n, "class_weights", cw_names);
	if ((n = yamldoc_get(y, m, "class_weight_max")) != NULL)
		c->class_weight_max = (float)yamldoc_double(y, n,
		    "class_weight_max", 1, 1e6);
	if ((n = yamldoc_get(y, m, "seed")) != NULL)
		c->seed = (uint64_t)yamldoc_long(y, n, "seed", 0, 0x7fffffffL);
}

static void
load_augment(struct yamldoc *y, yaml_node_t *m, struct augment *c)
{
	static const char *const keys[] = { "flip", "rot90", "color_jitter",
	    "stain_jitter", "scale_jitter", "hue_jitter", "hue_any",
	    "hed_jitter",
	    "saturation_jitter", "gamma_jitter", "blur", "noise", NULL };
	yaml_node_t *n;

	yamldoc_check_keys(y, m, keys);
	if ((n = yamldoc_get(y, m, "flip")) != NULL)
		c->flip = yamldoc_bool(y, n, "flip");
	if ((n = yamldoc_get(y, m, "rot90")) != NULL)
		c->rot90 = yamldoc_bool(y, n, "rot90");
	if ((n = yamldoc_get(y, m, "color_jitter")) != NULL)
		c->color = (float)yamldoc_double(y, n, "color_jitter",
		    0, 0.9);
	if ((n = yamldoc_get(y, m, "stain_jitter")) != NULL)
		c->stain = (float)yamldoc_double(y, n, "stain_jitter",
		    0, 0.9);
	if ((n = yamldoc_get(y, m, "scale_jitter")) != NULL)
		c->scale = (float)yamldoc_double(y, n, "scale_jitter",
		    0, 0.5);
	if ((n = yamldoc_get(y, m, "hue_jitter")) != NULL)
		c->hue = (float)yamldoc_double(y, n, "hue_jitter", 0, 90);
	if ((n = yamldoc_get(y, m, "hue_any")) != NULL)
		c->hue_any = (float)yamldoc_double(y, n, "hue_any", 0, 1);
	if ((n = yamldoc_get(y, m, "hed_jitter")) != NULL)
		c->hed = (float)yamldoc_double(y, n, "hed_jitter", 0, 0.5);
	if ((n = yamldoc_get(y, m, "saturation_jitter")) != NULL)
		c->saturation = (float)yamldoc_double(y, n,
		    "saturation_jitter", 0, 0.9);
	if ((n = yamldoc_get(y, m, "gamma_jitter")) != NULL)
		c->gamma = (float)yamldoc_double(y, n, "gamma_jitter",
		    0, 0.9);
	if ((n = yamldoc_get(y, m, "blur")) != NULL)
		c->blur = (float)yamldoc_double(y, n, "blur", 0, 5);
	if ((n = yamldoc_get(y, m, "noise")) != NULL)
		c->noise = (float)yamldoc_double(y, n, "noise", 0, 50);
}

// --- loading ----------------------------------------------------------------

/* The checks of model: that involve several keys, reported at the key
 * that has to change (in mapping M, else at ROOT). */
static void
check_arch(struct yamldoc *y, yaml_node_t *m, yaml_node_t *root,
    const struct unet_arch *a)
{
	int f = 1 << a->nlevels;

	if (a->input_h % f != 0)
		yamldoc_die(y, where(y, m, "input_size", root),
		    "input_size: %d is not a multiple of 2^%d (one halving "
		    "per level of widths)", a->input_h, a->nlevels);
	if (a->norm == UNET_NORM_GROUP) {
		for (int l = 0; l <= a->nlevels; l++) {
			int w = l < a->nlevels ? a->widths[l] : a->bottleneck;
			if (w % a->groups != 0)
				yamldoc_die(y, where(y, m, "norm_groups",
				    root), "norm_groups: %d does not divide "
				    "width %d", a->groups, w);
		}
	}
}

void
unet_config_load(struct unet_config *c, const char *path, const char *text)
{
	static const char *const keys[] = { "model", "train", "augment", NULL };
	struct yamldoc y;
	yaml_node_t *root, *n, *m, *t;

	unet_config_default(c);
	yamldoc_load(&y, path, text);
	root = yamldoc_root(&y);
	yamldoc_check_keys(&y, root, keys);
	if ((m = yamldoc_get(&y, root, "model")) != NULL)
		load_model(&y, m, &c->model);
	if ((t = yamldoc_get(&y, root, "train")) != NULL)
		load_train(&y, t, &c->train);
	if ((n = yamldoc_get(&y, root, "augment")) != NULL)
		load_augment(&y, n, &c->augment);

	// cross-key checks, reported at the key that has to change
	check_arch(&y, m, root, &c->model);
	if (c->train.min_lr > c->train.lr)
		yamldoc_die(&y, where(&y, t, "min_lr", root),
		    "min_lr: %g is above lr %g", c->train.min_lr, c->train.lr);
	yamldoc_free(&y);
}

void
unet_arch_load(struct unet_arch *a, const char *path, const char *text)
{
	static const char *const keys[] = { "model", NULL };
	struct yamldoc y;
	yaml_node_t *root, *m;

	arch_default(a);
	yamldoc_load(&y, path, text);
	root = yamldoc_root(&y);
	yamldoc_check_keys(&y, root, keys);
	if ((m = yamldoc_get(&y, root, "model")) != NULL)
		load_model(&y, m, a);
	check_arch(&y, m, root, a);
	yamldoc_free(&y);
}

// --- the architecture as text, and compared ---------------------------------

char *
unet_arch_yaml(const struct unet_arch *a)
{
	char *s;
	size_t len;
	FILE *f = open_memstream(&s, &len);

	if (f == NULL)
		die("open_memstream:");
	fprintf(f, "model:\n  widths: [");
	for (int l = 0; l < a->nlevels; l++)
		fprintf(f, "%s%d", l ? ", " : "", a->widths[l]);
	/* %.9g: the float comes back exactly */
	fprintf(f, "]\n"
	    "  input_size: %d\n"
	    "  in_channels: %d\n"
	    "  classes: %d\n"
	    "  bottleneck: %d\n"
	    "  convs_per_level: %d\n"
	    "  activation: %s\n"
	    "  leaky_alpha: %.9g\n"
	    "  norm: %s\n"
	    "  norm_groups: %d\n",
	    a->input_h, a->in_channels, a->classes, a->bottleneck,
	    a->convs, unet_act_name(a->act), a->alpha, unet_norm_name(a->norm),
	    a->groups);
	if (ferror(f) || fclose(f) != 0)
		die("out of memory");
	return s;
}

/* The widths of A as "[4, 8]" into BUF of N bytes. */
static void
widths_text(char *buf, size_t n, const struct unet_arch *a)
{
	size_t len = snprintf(buf, n, "[");

	for (int l = 0; l < a->nlevels && len < n; l++)
		len += snprintf(buf + len, n - len, "%s%d", l ? ", " : "",
		    a->widths[l]);
	if (len < n)
		snprintf(buf + len, n - len, "]");
}

/*
 * Every field that unet_arch_yaml() writes takes part, the irrelevant ones
 * too (leaky_alpha under relu, norm_groups without a norm): two equal
 * architectures write the same model: section.
 */
char *
unet_arch_diff(const struct unet_arch *a, const struct unet_arch *b)
{
	char s[256], wa[96], wb[96];

	if (a->input_h != b->input_h || a->input_w != b->input_w) {
		if (a->input_h == a->input_w && b->input_h == b->input_w)
			snprintf(s, sizeof(s), "input_size: %d against %d",
			    a->input_h, b->input_h);
		else
			snprintf(s, sizeof(s), "input_size: %dx%d against "
			    "%dx%d", a->input_w, a->input_h, b->input_w,
			    b->input_h);
	}
	else if (a->in_channels != b->in_channels)
		snprintf(s, sizeof(s), "in_channels: %d against %d",
		    a->in_channels, b->in_channels);
	else if (a->classes != b->classes)
		snprintf(s, sizeof(s), "classes: %d against %d", a->classes,
		    b->classes);
	else if (a->nlevels != b->nlevels || memcmp(a->widths, b->widths,
	    a->nlevels * sizeof(a->widths[0])) != 0) {
		widths_text(wa, sizeof(wa), a);
		widths_text(wb, sizeof(wb), b);
		snprintf(s, sizeof(s), "widths: %s against %s", wa, wb);
	} else if (a->bottleneck != b->bottleneck)
		snprintf(s, sizeof(s), "bottleneck: %d against %d",
		    a->bottleneck, b->bottleneck);
	else if (a->convs != b->convs)
		snprintf(s, sizeof(s), "convs_per_level: %d against %d",
		    a->convs, b->convs);
	else if (a->act != b->act)
		snprintf(s, sizeof(s), "activation: %s against %s",
		    unet_act_name(a->act), unet_act_name(b->act));
	else if (a->alpha != b->alpha)
		snprintf(s, sizeof(s), "leaky_alpha: %.9g against %.9g",
		    a->alpha, b->alpha);
	else if (a->norm != b->norm)
		snprintf(s, sizeof(s), "norm: %s against %s",
		    unet_norm_name(a->norm), unet_norm_name(b->norm));
	else if (a->groups != b->groups)
		snprintf(s, sizeof(s), "norm_groups: %d against %d", a->groups,
		    b->groups);
	else
		return NULL;
	return xstrdup(s);
}

// --- learning-rate schedule -------------------------------------------------

/*
 * Linear warm-up from lr/10 to lr over warmup_epochs, then constant, cosine
 * decay to min_lr at the last epoch, or a step decay by step_gamma every
 * step_every epochs (never below min_lr).
 */
float
unet_train_lr(const struct unet_train *c, double e)
{
	double lr = c->lr;

	if (e < c->warmup_epochs)
		return (float)(c->lr * (0.1 + 0.9 * e / c->warmup_epochs));
	switch (c->schedule) {
	case UNET_SCHED_CONSTANT:
		break;
	case UNET_SCHED_COSINE: {
		double span = c->epochs - c->warmup_epochs;
		double t = span > 0 ? (e - c->warmup_epochs) / span : 1;
		if (t > 1)
			t = 1;
		lr = c->min_lr + 0.5 * (c->lr - c->min_lr) *
		    (1 + cos(acos(-1.0) * t));
		break;
	}
	case UNET_SCHED_STEP:
		lr = c->lr * pow(c->step_gamma, floor(e / c->step_every));
		if (lr < c->min_lr)
			lr = c->min_lr;
		break;
	}
	return (float)lr;
}
