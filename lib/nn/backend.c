/*
 * backend.c - the built backends by name; opening and closing them
 * (backend.h).
 *
 * The CPU backend is linked into every program.  The CUDA backend, where
 * the build compiled lib/nn/cuda/ (the Makefile defines SMEARSEG_CUDA
 * then), is a shared library of its own, libsmearseg-cuda.so, with
 * cuBLAS, the CUDA runtime and NCCL behind it: it is loaded when a program
 * first asks for "cuda", so that a CPU run maps none of those libraries
 * and a machine without them runs every program on the CPU.  It is looked
 * for at $SMEARSEG_CUDA_LIB, then in lib/smearseg/ beside the program's
 * bin/ (an installed tree), then where the build made it.  It calls back
 * die() and nn_precision_name() of the program (the Makefile exports
 * them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if SMEARSEG_CUDA
#include <dlfcn.h>
#include <unistd.h>
#endif

#include "paths.h"
#include "threads.h"
#include "util.h"
#include "nn/backend.h"
#include "nn/cpu/cpu.h"
#include "nn/profile.h"

static const char *const names[] = {
	"cpu",
#if SMEARSEG_CUDA
	"cuda",
#endif
};
#define NBACKENDS (sizeof(names) / sizeof(names[0]))

#if SMEARSEG_CUDA
#define CUDA_LIB "libsmearseg-cuda.so"
#ifndef SMEARSEG_CUDA_BUILT
#define SMEARSEG_CUDA_BUILT CUDA_LIB
#endif

/* Why the CUDA library could not be loaded, for nn_backend_try. */
static char cuda_why[4096];

/* The op table of the CUDA library, loaded once; NULL with cuda_why set
 * if it cannot be. */
static const struct nn_ops *
cuda_load(void)
{
	static const struct nn_ops *ops;
	static int tried;
	char installed[4200], given[4200];
	const char *cand[3], *env, *exe;
	void *h = NULL;
	int i, n = 0;

	if (tried)
		return ops;
	tried = 1;
	/* a bare file name is a file here, not one for dlopen to search */
	if ((env = getenv("SMEARSEG_CUDA_LIB")) != NULL && *env != '\0') {
		snprintf(given, sizeof given, "%s%s",
		    strchr(env, '/') == NULL ? "./" : "", env);
		cand[n++] = given;
	}
	if ((exe = exe_dir()) != NULL) {
		snprintf(installed, sizeof installed, "%s/../lib/smearseg/%s",
		    exe, CUDA_LIB);
		cand[n++] = installed;
	}
	cand[n++] = SMEARSEG_CUDA_BUILT;
	for (i = 0; i < n; i++)
		if (access(cand[i], R_OK) == 0)
			break;
	if (i == n) {
		snprintf(cuda_why, sizeof cuda_why, "the cuda device needs "
		    "%s, which is in none of: $SMEARSEG_CUDA_LIB, %.1500s%s%.1500s",
		    CUDA_LIB, exe != NULL ? installed : "",
		    exe != NULL ? ", " : "", SMEARSEG_CUDA_BUILT);
		return NULL;
	}
	if ((h = dlopen(cand[i], RTLD_NOW | RTLD_LOCAL)) == NULL) {
		snprintf(cuda_why, sizeof cuda_why, "the cuda device could not "
		    "be loaded: %.3000s", dlerror());
		return NULL;
	}
	if ((ops = dlsym(h, "nn_ops_cuda")) == NULL)
		snprintf(cuda_why, sizeof cuda_why, "%.3000s: no nn_ops_cuda in it",
		    cand[i]);
	return ops;
}
#endif

const struct nn_ops *
nn_backend_find(const char *name)
{
	if (strcmp(name, "cpu") == 0)
		return &nn_ops_cpu;
#if SMEARSEG_CUDA
	if (strcmp(name, "cuda") == 0)
		return cuda_load();
#endif
	return NULL;
}

const char *
nn_backend_names(void)
{
	static char list[64];

	if (list[0] == '\0')
		for (size_t i = 0; i < NBACKENDS; i++)
			snprintf(list + strlen(list), sizeof(list) -
			    strlen(list), "%s%s", i ? ", " : "", names[i]);
	return list;
}

const struct nn_ops *
nn_backend_try(const char *name, const struct nn_backend_opts *o, char *why,
    size_t whylen)
{
	static const struct nn_backend_opts dflt = { .threads = 1 };
	const struct nn_ops *ops = nn_backend_find(name);
	const char *env;

	if (o == NULL)
		o = &dflt;
	if (ops == NULL) {
#if SMEARSEG_CUDA
		if (strcmp(name, "cuda") == 0) {
			snprintf(why, whylen, "%s", cuda_why);
			return NULL;
		}
#endif
		snprintf(why, whylen, "unknown device '%s' (this build has: "
		    "%s)", name, nn_backend_names());
		return NULL;
	}
	if (o->threads < 1)
		die("%d threads", o->threads);
	threads_set(o->threads);
	if (ops->init != NULL && ops->init(o, why, whylen) != 0)
		return NULL;
	if ((env = getenv("SMEARSEG_PROFILE")) != NULL && *env != '\0')
		ops = nn_profile_wrap(ops);
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

void *
nn_host_alloc(const struct nn_ops *ops, size_t bytes)
{
	if (ops->host_alloc != NULL)
		return ops->host_alloc(bytes);
	return xmalloc(bytes ? bytes : 1);
}

void
nn_host_free(const struct nn_ops *ops, void *p)
{
	if (p == NULL)
		return;
	if (ops->host_free != NULL)
		ops->host_free(p);
	else
		free(p);
}

void
nn_backend_close(const struct nn_ops *ops)
{
	const char *env = getenv("SMEARSEG_PROFILE");

	if (ops != NULL && env != NULL && *env != '\0')
		nn_profile_report(stderr);
	if (ops != NULL && ops->shutdown != NULL)
		ops->shutdown();
}
