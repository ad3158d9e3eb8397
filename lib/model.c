/*
 * model.c - model and checkpoint files (model.h).
 */
#define _GNU_SOURCE             /* vasprintf */
#include "model.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classes.h"
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
	char *end;

	while (*s == ' ')
		s++;
	if (*s++ != '[')
		return 0;
	for (int i = 0; i < n; i++) {
		out[i] = strtof(s, &end);
		if (end == s)
			return 0;
		s = end;
		while (*s == ' ')
			s++;
		if (*s != (i == n - 1 ? ']' : ','))
			return 0;
		s++;
	}
	return 1;
}

void
model_write(const char *path, const struct unet *net, int half,
    const struct model_info *info, const struct tensor *extra, int nextra,
    const struct kv *meta)
{
	struct tensor *p = unet_params_export(net), *all;
	struct kv m = { 0 };
	char *cfg = unet_arch_yaml(&net->arch);
	char *cls = classes_to_json(classes_load(NULL));
	int i, n = net->nptab + nextra;

	kv_set(&m, "format", MODEL_FORMAT);
	kv_set(&m, "format_version", MODEL_FORMAT_VERSION);
	kv_set(&m, "unet.config", "%s", cfg);
	kv_set(&m, "classes", "%s", cls);
	/* %.9g: a float survives the trip through text exactly */
	kv_set(&m, "input.mean", "[%.9g, %.9g, %.9g]", info->mean[0],
	    info->mean[1], info->mean[2]);
	kv_set(&m, "input.std", "[%.9g, %.9g, %.9g]", info->std[0],
	    info->std[1], info->std[2]);
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
	void **conv;
	int i;

	st_read(path, f);
	if ((v = st_meta(f, "format")) == NULL || strcmp(v, MODEL_FORMAT))
		die("%s: not a smearseg model (metadata 'format' is %s%s%s)",
		    name, v ? "'" : "", v ? v : "missing", v ? "'" : "");
	if ((v = st_meta(f, "format_version")) == NULL ||
	    strcmp(v, MODEL_FORMAT_VERSION))
		die("%s: model format version %s, expected %s", name,
		    v ? v : "missing", MODEL_FORMAT_VERSION);
	if ((v = st_meta(f, "unet.config")) == NULL)
		die("%s: no 'unet.config' in the metadata", name);
	unet_arch_load(&arch, name, v);
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

	/* F16 parameters at rest become F32 for the network */
	conv = xcalloc(f->n, sizeof *conv);
	for (i = 0; i < f->n; i++)
		if (f->t[i].dtype == DTYPE_F16) {
			size_t k = tensor_numel(&f->t[i]);
			float *d = xmalloc_array(k, sizeof *d);
			f16_to_f32(d, f->t[i].data, k);
			f->t[i].data = conv[i] = d;
			f->t[i].dtype = DTYPE_F32;
		}
	net = unet_create(&arch, max_batch, train, ops);
	unet_params_import(net, f, name);
	for (i = 0; i < f->n; i++)
		if (conv[i] != NULL) {
			free(conv[i]);
			f->t[i].data = NULL;
		}
	free(conv);
	return net;
}
