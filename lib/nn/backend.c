/*
 * backend.c - the built backends by name; opening and closing them
 * (backend.h).
 *
 * The list below is the only place that names a backend's table: the
 * CUDA backend is in it when the build compiled lib/nn/cuda/ (the
 * Makefile defines SMEARSEG_CUDA then).
 */
#include <stdio.h>
#include <string.h>

#include "threads.h"
#include "util.h"
#include "nn/backend.h"
#include "nn/cpu/cpu.h"
#if SMEARSEG_CUDA
#include "nn/cuda/cuda.h"
#endif

static const struct nn_ops *const backends[] = {
	&nn_ops_cpu,
#if SMEARSEG_CUDA
	&nn_ops_cuda,
#endif
};
#define NBACKENDS (sizeof(backends) / sizeof(backends[0]))

const struct nn_ops *
nn_backend_find(const char *name)
{
	for (size_t i = 0; i < NBACKENDS; i++)
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i];
	return NULL;
}

const char *
nn_backend_names(void)
{
	static char list[64];

	if (list[0] == '\0')
		for (size_t i = 0; i < NBACKENDS; i++)
			snprintf(list + strlen(list), sizeof(list) -
			    strlen(list), "%s%s", i ? ", " : "",
			    backends[i]->name);
	return list;
}

const struct nn_ops *
nn_backend_try(const char *name, const struct nn_backend_opts *o, char *why,
    size_t whylen)
{
	static const struct nn_backend_opts dflt = { .threads = 1 };
	const struct nn_ops *ops = nn_backend_find(name);

	if (o == NULL)
		o = &dflt;
	if (ops == NULL) {
		snprintf(why, whylen, "unknown device '%s' (this build has: "
		    "%s)", name, nn_backend_names());
		return NULL;
	}
	if (o->threads < 1)
		die("%d threads", o->threads);
	threads_set(o->threads);
	if (ops->init != NULL && ops->init(o, why, whylen) != 0)
		return NULL;
	return ops;
}

const struct nn_ops *
nn_backend_open(const char *name, const struct nn_backend_opts *o)
{
	char why[256];
	const struct nn_ops *ops = nn_backend_try(name, o, why, sizeof why);

	if (ops == NULL)
		die("%s", why);
	return ops;
}

void
nn_backend_close(const struct nn_ops *ops)
{
	if (ops != NULL && ops->shutdown != NULL)
		ops->shutdown();
}
