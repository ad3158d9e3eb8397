/*
 * model.c - model and checkpoint files (model.h).
 *
 * The network keeps its parameters in its own layouts (unet.h, struct
 * unet_param); files hold PyTorch's, so that a model loads into the
 * reference network as it is.  export() and model_import() convert one
 * buffer of nparams floats (the parameters, or an Adam moment) tensor by
 * tensor.  The training record's keys are written in one place,
 * record_meta(), for both the model and the checkpoint.
 */
#define _GNU_SOURCE             /* vasprintf */
#include "model.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "classes.h"
#include "history.h"
#include "util.h"

void
kv_set(struct kv *m, const char *key, const char *fmt, ...)
{
	va_list ap;
	char *v;
	int i;

	va_start(ap, fmt);
	if (vasprintf(&v, fmt, ap) < 0)
		die("out of memory");
	va_end(ap);
	for (i = 0; i < m->n; i++)
		if (strcmp(m->key[i], key) == 0) {
			free(m->val[i]);
			m->val[i] = v;
			return;
		}
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 16;
		m->key = xrealloc(m->key, m->cap * sizeof *m->key);
		m->val = xrealloc(m->val, m->cap * sizeof *m->val);
	}
	m->key[m->n] = xstrdup(key);
	m->val[m->n++] = v;
}

void
kv_free(struct kv *m)
{
	for (int i = 0; i < m->n; i++) {
		free(m->key[i]);
		free(m->val[i]);
	}
	free(m->key);
	free(m->val);
	memset(m, 0, sizeof *m);
}

int
parse_float_array(const char *s, float *out, int n)
{
	json_t *a = json_loads(s, 0, NULL);
	int ok = json_is_array(a) && json_array_size(a) == (size_t)n;

	for (int i = 0; ok && i < n; i++) {
		json_t *v = json_array_get(a, i);
		if ((ok = json_is_number(v)))
			out[i] = (float)json_number_value(v);
	}
	json_decref(a);
	return ok;
}

/* V[0..n) as a JSON array, "%.9g" each (a float survives the trip through
 * text exactly), malloc'd: parse_float_array() reads it back. */
static char *
float_array_json(const float *v, int n)
{
	char *s = xmalloc(32 * n + 4);
	size_t len = 0;

	len += sprintf(s, "[");
	for (int i = 0; i < n; i++)
		len += sprintf(s + len, "%s%.9g", i ? ", " : "", v[i]);
	sprintf(s + len, "]");
	return s;
}

// --- tensors ----------------------------------------------------------------

/*
 * Internal <-> file layout of one tensor (shapes in struct unet_param):
 *   CONV3 [ky][kx][ci][co] <-> [co][ci][ky][kx]
 *   CONV1 [ci][co]         <-> [co][ci][1][1]
 *   CONVT [ci][ky][kx][co] <-> [ci][co][ky][kx]
 */
static void
convert(const struct unet_param *p, float *dst, const float *src, int to_file)
{
	size_t a, b;

	switch (p->kind) {
	case UNET_P_VEC:
		memcpy(dst, src, p->n * sizeof(float));
		return;
	case UNET_P_CONV3:
	case UNET_P_CONV1: {
		int co_n = (int)p->shape[0], ci_n = (int)p->shape[1];
		int kk = (int)(p->shape[2] * p->shape[3]);
		for (int co = 0; co < co_n; co++)
			for (int ci = 0; ci < ci_n; ci++)
				for (int t = 0; t < kk; t++) {
					a = ((size_t)co * ci_n + ci) * kk + t;
					b = ((size_t)t * ci_n + ci) * co_n + co;
					if (to_file)
						dst[a] = src[b];
					else
						dst[b] = src[a];
				}
		return;
	}
	case UNET_P_CONVT: {
		int ci_n = (int)p->shape[0], co_n = (int)p->shape[1];
		for (int ci = 0; ci < ci_n; ci++)
			for (int co = 0; co < co_n; co++)
				for (int t = 0; t < 4; t++) {
					a = ((size_t)ci * co_n + co) * 4 + t;
					b = ((size_t)ci * 4 + t) * co_n + co;
					if (to_file)
						dst[a] = src[b];
					else
						dst[b] = src[a];
				}
		return;
	}
	}
}

/* BUF as host tensors; names PREFIX + name (malloc'd), or with a NULL
 * PREFIX the ptab names themselves (then free only each data and t). */
static struct tensor *
export(const struct unet *net, const float *buf, const char *prefix)
{
	struct tensor *t = xcalloc(net->nptab, sizeof(*t));
	float *h = xmalloc_array(net->nparams, sizeof(float));

	net->ops->download(h, buf, net->nparams * sizeof(float));
	for (int i = 0; i < net->nptab; i++) {
		const struct unet_param *p = &net->ptab[i];
		if (prefix == NULL) {
			t[i].name = (char *)p->name;
		} else {
			t[i].name = xmalloc(strlen(prefix) +
			    strlen(p->name) + 1);
			strcpy(t[i].name, prefix);
			strcat(t[i].name, p->name);
		}
		t[i].dtype = DTYPE_F32;
		t[i].ndim = p->ndim;
		memcpy(t[i].shape, p->shape, sizeof(p->shape));
		t[i].data = xmalloc_array(p->n, sizeof(float));
		convert(p, t[i].data, h + p->off, 1);
	}
	free(h);
	return t;
}

struct tensor *
model_export(const struct unet *net, const float *buf, const char *prefix)
{
	return export(net, buf, prefix);
}

void
model_tensors_free(const struct unet *net, struct tensor *t)
{
	for (int i = 0; i < net->nptab; i++) {
		free(t[i].name);
		free(t[i].data);
	}
	free(t);
}

void
model_import(struct unet *net, float *buf, const struct st_file *f,
    const char *fname, const char *prefix)
{
	float *h = xmalloc_array(net->nparams, sizeof(float));
	char *name = xmalloc(strlen(prefix) + sizeof(net->ptab[0].name));

	for (int i = 0; i < net->nptab; i++) {
		const struct unet_param *p = &net->ptab[i];
		const struct tensor *t;
		int ok;
		strcpy(name, prefix);
		strcat(name, p->name);
		if ((t = st_find(f, name)) == NULL)
			die("%s: no tensor '%s' (not a model of this "
			    "architecture?)", fname, name);
		ok = (t->dtype == DTYPE_F32 || (t->dtype == DTYPE_F16 &&
		    *prefix == '\0')) && t->ndim == p->ndim;
		for (int j = 0; ok && j < p->ndim; j++)
			ok = t->shape[j] == p->shape[j];
		if (!ok)
			die("%s: tensor '%s' is not %s of shape [%lld,%lld,"
			    "%lld,%lld] (first %d dims)", fname, name,
			    *prefix == '\0' ? "F32 or F16" : "F32",
			    (long long)p->shape[0], (long long)p->shape[1],
			    (long long)p->shape[2], (long long)p->shape[3],
			    p->ndim);
		if (t->dtype == DTYPE_F16) {
			/* parameters at rest as F16 become F32 here; the
			 * file's tensor is left as it is */
			float *d = xmalloc_array(p->n, sizeof *d);
			f16_to_f32(d, t->data, p->n);
			convert(p, h + p->off, d, 0);
			free(d);
		} else {
			convert(p, h + p->off, t->data, 0);
		}
	}
	net->ops->upload(buf, h, net->nparams * sizeof(float));
	free(name);
	free(h);
}

// --- model files ------------------------------------------------------------

void
model_write(const char *path, const struct unet *net, int half,
    const struct model_info *info, const struct tensor *extra, int nextra,
    const struct kv *meta)
{
	struct tensor *p = export(net, net->params, NULL), *all;
	struct kv m = { 0 };
	char *cfg = unet_arch_yaml(&net->arch);
	char *cls = classes_to_json(classes_load(NULL));
	char *mean = float_array_json(info->mean, 3);
	char *std = float_array_json(info->std, 3);
	int i, n = net->nptab + nextra;

	kv_set(&m, "format", MODEL_FORMAT);
	kv_set(&m, "format_version", MODEL_FORMAT_VERSION);
	kv_set(&m, "unet.config", "%s", cfg);
	kv_set(&m, "classes", "%s", cls);
	kv_set(&m, "input.mean", "%s", mean);
	kv_set(&m, "input.std", "%s", std);
	kv_set(&m, "pixel_scale", MODEL_PIXEL_SCALE);
	for (i = 0; meta && i < meta->n; i++)
		kv_set(&m, meta->key[i], "%s", meta->val[i]);

	/* extras (F32 optimizer state, U8 RNG state) first, so that the wide
	 * tensors stay naturally aligned; then the parameters */
	all = xcalloc(n, sizeof *all);
	for (i = 0; i < nextra; i++)
		all[i] = extra[i];
	for (i = 0; i < net->nptab; i++) {
		all[nextra + i] = p[i];
		if (half) {
			size_t k = tensor_numel(&p[i]);
			uint16_t *h = xmalloc_array(k, sizeof *h);
			f32_to_f16(h, p[i].data, k);
			all[nextra + i].data = h;
			all[nextra + i].dtype = DTYPE_F16;
		}
	}
	st_write(path, all, n, m.key, m.val, m.n);
	for (i = 0; i < net->nptab; i++) {
		if (half)
			free(all[nextra + i].data);
		free(p[i].data);
	}
	free(all);
	free(p);
	free(cfg);
	free(cls);
	free(mean);
	free(std);
	kv_free(&m);
}

struct unet *
model_read(const char *path, int max_batch, int train,
    const struct nn_ops *ops, struct st_file *f, struct model_info *info)
{
	const char *name = display_name(path), *v;
	struct unet_arch arch;
	struct unet *net;
	char why[256];
	int i;

	st_read(path, f);
	if ((v = st_meta(f, "format")) == NULL || strcmp(v, MODEL_FORMAT))
		die("%s: not a smearseg model (metadata 'format' is %s%s%s)",
		    name, v ? "'" : "", v ? v : "missing", v ? "'" : "");
	if ((v = st_meta(f, "format_version")) == NULL ||
	    strcmp(v, MODEL_FORMAT_VERSION))
		die("%s: model format version %s, expected %s", name,
		    v ? v : "missing", MODEL_FORMAT_VERSION);
	model_arch(&arch, f, name);
	if ((v = st_meta(f, "classes")) == NULL)
		die("%s: no 'classes' in the metadata", name);
	if (classes_json_differs(classes_load(NULL), v, why, sizeof why))
		die("%s: the model's class table differs from classes.yaml "
		    "(%s)", name, why);
	if ((v = st_meta(f, "input.mean")) == NULL ||
	    !parse_float_array(v, info->mean, 3))
		die("%s: metadata 'input.mean' is missing or not 3 numbers",
		    name);
	if ((v = st_meta(f, "input.std")) == NULL ||
	    !parse_float_array(v, info->std, 3))
		die("%s: metadata 'input.std' is missing or not 3 numbers",
		    name);
	for (i = 0; i < 3; i++)
		if (!(info->std[i] > 0))
			die("%s: metadata 'input.std' must be positive", name);

	/* F16 parameters at rest become F32 in model_import(); F's tensors
	 * stay as the file has them */
	model_check_memory(&arch, max_batch, train, name);
	net = unet_create(&arch, max_batch, train, ops);
	model_import(net, net->params, f, name, "");
	return net;
}

// --- memory ------------------------------------------------------------------

/*
 * An upper estimate of what a network of architecture A takes for
 * batches of BATCH (TRAIN: with gradients), in bytes: the input, logits
 * and probabilities; per level the convolutions' outputs, the skip and
 * the up-sampled tensor; the bottleneck; twice that for training (the
 * backward buffers and pre-norm outputs); the parameters, with gradients
 * and Adam's moments for training.
 */
static double
model_memory(const struct unet_arch *a, int batch, int train)
{
	double hw = (double)a->input_h * a->input_w, act, par = 0;
	int cin = a->in_channels, l;

	act = hw * (a->in_channels + 2.0 * a->classes + 1);
	for (l = 0; l < a->nlevels; l++) {
		double px = hw / ((double)(1 << l) * (1 << l));
		act += px * a->widths[l] * (2.0 * a->convs + 2);
		par += 9.0 * a->widths[l] * (cin + a->widths[l] * (2.0 *
		    a->convs - 1)) + 4.0 * a->widths[l] * (l + 1 < a->nlevels ?
		    a->widths[l + 1] : a->bottleneck);
		cin = a->widths[l];
	}
	act += hw / ((double)(1 << l) * (1 << l)) * a->bottleneck * a->convs;
	par += 9.0 * a->bottleneck * (cin + a->bottleneck * (a->convs - 1));
	return 4 * (act * batch * (train ? 2 : 1) + par * (train ? 4 : 1));
}

void
model_check_memory(const struct unet_arch *a, int batch, int train,
    const char *name)
{
	const char *env = getenv("SMEARSEG_MAX_MEMORY");
	double need = model_memory(a, batch, train), limit;
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);

	if (env != NULL && *env != '\0')
		limit = xstrtod(env, 1, 1e9, "SMEARSEG_MAX_MEMORY (MiB)") *
		    1048576;
	else if (pages > 0 && psize > 0)
		limit = (double)pages * psize;
	else
		return;
	if (need > limit)
		die("%s: a network of input %dx%d needs about %.0f MiB for "
		    "a batch of %d, more than the limit of %.0f MiB (the "
		    "memory, or SMEARSEG_MAX_MEMORY)", name, a->input_w,
		    a->input_h, need / 1048576, batch, limit / 1048576);
}

void
model_arch(struct unet_arch *arch, const struct st_file *f,
    const char *fname)
{
	const char *v = st_meta(f, "unet.config");

	if (v == NULL)
		die("%s: no 'unet.config' in the metadata", fname);
	unet_arch_load(arch, fname, v);
}

// --- trained models and checkpoints -----------------------------------------

int
model_meta_key_free(const char *key)
{
	static const char *const own[] = { "format", "format_version",
	    "unet.config", "classes", "input.mean", "input.std", "pixel_scale",
	    "class_weights", "class_weights.scheme" };

	if (strncmp(key, "training.", 9) == 0 || strncmp(key, "adam.", 5) == 0
	    || strncmp(key, "checkpoint.", 11) == 0)
		return 0;
	for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
		if (strcmp(key, own[i]) == 0)
			return 0;
	return 1;
}

/* The training record R of a network of K classes, as metadata pairs
 * added to M: the keys that models and checkpoints share. */
static void
record_meta(struct kv *m, const struct train_record *r, int k)
{
	char *cw = float_array_json(r->class_w, k);

	kv_set(m, "class_weights", "%s", cw);
	kv_set(m, "class_weights.scheme", "%s, clipped to [1/%g, %g]",
	    unet_cw_name(r->cw_scheme), r->cw_max, r->cw_max);
	kv_set(m, "training.history", "%s", r->history ? r->history : "[]");
	kv_set(m, "training.epochs", "%d", r->epochs);
	kv_set(m, "training.seed", "%llu", (unsigned long long)r->seed);
	kv_set(m, "training.batch", "%d x %d ranks", r->batch, r->ranks);
	kv_set(m, "training.tiles", "%d train, %d val", r->ntrain, r->nval);
	kv_set(m, "training.best_epoch", "%d", r->best_epoch);
	kv_set(m, "training.best_val_mean_iou", "%.6f", r->best_miou);
	for (int i = 0; r->meta && i < r->meta->n; i++)
		kv_set(m, r->meta->key[i], "%s", r->meta->val[i]);
	free(cw);
}

void
model_save(const char *path, const struct train_state *s, int half)
{
	struct kv m = { 0 };

	record_meta(&m, &s->rec, s->net->arch.classes);
	model_write(path, s->net, half, &s->norm, NULL, 0, &m);
	kv_free(&m);
}

void
model_load_weights(struct unet *net, const char *path,
    struct model_info *info, const char *config)
{
	struct st_file f;
	struct model_info mi;
	struct unet *src = model_read(path, 1, 0, net->ops, &f, &mi);
	char *d = unet_arch_diff(&src->arch, &net->arch);

	if (d != NULL)
		die("%s: its architecture differs from the model: section of "
		    "%s (%s)", path, config, d);
	float *h = xmalloc_array(src->nparams, sizeof *h);
	net->ops->download(h, src->params, src->nparams * sizeof *h);
	net->ops->upload(net->params, h, src->nparams * sizeof *h);
	free(h);
	*info = mi;
	unet_free(src);
	st_free(&f);
}

/* DIR/checkpoint.safetensors, malloc'd. */
static char *
checkpoint_path(const char *dir)
{
	static const char file[] = "/checkpoint.safetensors";
	char *p = xmalloc(strlen(dir) + sizeof file);

	strcpy(p, dir);
	strcat(p, file);
	return p;
}

/*
 * The moments and the RNG go first (F32, then U8), the parameters after
 * them (model_write()).  The best score is also kept exactly, as the
 * "%.6f" of the model's key would not compare as the run did.
 */
void
checkpoint_save(const char *dir, const struct train_state *s)
{
	const struct unet *net = s->net;
	size_t np = net->nparams;
	float *mv = xmalloc_array(2 * np, sizeof *mv);
	char *path = checkpoint_path(dir);
	struct tensor ex[3];
	struct kv m = { 0 };

	mkdir(dir, 0777);
	net->ops->download(mv, s->opt.m, np * sizeof *mv);
	net->ops->download(mv + np, s->opt.v, np * sizeof *mv);
	ex[0] = (struct tensor){ .name = "adam.m", .dtype = DTYPE_F32,
	    .ndim = 1, .shape = { (int64_t)np }, .data = mv };
	ex[1] = (struct tensor){ .name = "adam.v", .dtype = DTYPE_F32,
	    .ndim = 1, .shape = { (int64_t)np }, .data = mv + np };
	ex[2] = (struct tensor){ .name = "rng.data", .dtype = DTYPE_U8,
	    .ndim = 1, .shape = { sizeof s->data_rng },
	    .data = (void *)&s->data_rng };
	record_meta(&m, &s->rec, net->arch.classes);
	kv_set(&m, "checkpoint.epoch", "%d", s->rec.epochs);
	kv_set(&m, "adam.t", "%ld", s->opt.t);
	kv_set(&m, "training.best_val_mean_iou.exact", "%.17g",
	    s->rec.best_miou);
	model_write(path, net, 0, &s->norm, ex, 3, &m);
	kv_free(&m);
	free(path);
	free(mv);
}

void
checkpoint_load(const char *dir, struct train_state *s,
    const struct unet_arch *arch, const char *config, int max_batch,
    const struct nn_ops *ops, const struct adam_settings *as)
{
	struct train_record *r = &s->rec;
	char *path = checkpoint_path(dir), *d;
	const struct tensor *m, *v, *rg;
	struct st_file f;
	const char *val;
	size_t np;

	s->net = model_read(path, max_batch, 1, ops, &f, &s->norm);
	if ((d = unet_arch_diff(&s->net->arch, arch)) != NULL)
		die("%s: its model differs from the one in %s (%s)", path,
		    config, d);
	np = s->net->nparams;
	m = st_find(&f, "adam.m");
	v = st_find(&f, "adam.v");
	rg = st_find(&f, "rng.data");
	if (!m || !v || !rg || m->dtype != DTYPE_F32 ||
	    v->dtype != DTYPE_F32 || rg->dtype != DTYPE_U8 ||
	    tensor_numel(m) != np ||
	    tensor_numel(v) != np || tensor_nbytes(rg) != sizeof s->data_rng)
		die("%s: not a checkpoint (optimizer or RNG state missing or "
		    "of the wrong dtype or size: adam.m and adam.v F32, "
		    "rng.data U8)", path);
	adam_init(&s->opt, s->net, as);
	s->net->ops->upload(s->opt.m, m->data, np * sizeof(float));
	s->net->ops->upload(s->opt.v, v->data, np * sizeof(float));
	memcpy(&s->data_rng, rg->data, sizeof s->data_rng);
	if (!(val = st_meta(&f, "checkpoint.epoch")))
		die("%s: no 'checkpoint.epoch' in the metadata", path);
	r->epochs = (int)xstrtol(val, 0, 1000000, "checkpoint.epoch");
	if (!(val = st_meta(&f, "adam.t")))
		die("%s: no 'adam.t' in the metadata", path);
	s->opt.t = xstrtol(val, 0, 0x7fffffffffffffffL, "adam.t");
	if (!(val = st_meta(&f, "training.best_val_mean_iou.exact")))
		die("%s: no best score in the metadata", path);
	r->best_miou = xstrtod(val, -1, 2, "best mean IoU");
	if ((val = st_meta(&f, "training.best_epoch")))
		r->best_epoch = (int)xstrtol(val, 0, 1000000, "best epoch");
	if (!(val = st_meta(&f, "class_weights")) ||
	    !parse_float_array(val, r->class_w, s->net->arch.classes))
		die("%s: metadata 'class_weights' is missing or malformed",
		    path);
	val = st_meta(&f, "training.history");
	history_check(val ? val : "[]", path);
	free(r->history);
	r->history = xstrdup(val ? val : "[]");
	st_free(&f);
	free(path);
}
