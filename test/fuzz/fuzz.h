/*
 * fuzz.h - what every libFuzzer harness of test/fuzz shares.
 *
 * The harnesses call the project's own readers in-process.  A reader that
 * rejects its input calls die(), which here jumps back to the harness
 * (util.h die_jump) instead of exiting; what the failing code held is then
 * released through an allocation registry: the harness is linked with
 * --wrap=malloc,calloc,realloc,free,posix_memalign (the CPU backend's
 * tensors; its GEMM scratch, a cache that outlives an input, comes from
 * aligned_alloc, which is not wrapped), so every block the project (and
 * jansson, through json_set_alloc_funcs) allocates while an input runs is
 * recorded, and whatever is still live after a die() is freed, and the
 * streams it opened closed.  So a long run neither exits at the first bad
 * input nor runs out of memory or descriptors.
 *
 * Path-based readers get the input through a memfd named by
 * /proc/self/fd/N.  SMEARSEG_SHARE points at the source tree's share/.
 */
#ifndef SMEARSEG_FUZZ_H
#define SMEARSEG_FUZZ_H

#define _GNU_SOURCE
#include <jansson.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "classes.h"
#include "util.h"

// --- the allocation registry and one run (registry.c) --------------------

void *__real_malloc(size_t);
void __real_free(void *);
FILE *__real_fopen(const char *, const char *);
int __real_fclose(FILE *);
void *__wrap_malloc(size_t);
void __wrap_free(void *);
/* Start or stop recording (fuzz_init starts the registry). */
void fuzz_registry_init(void);
/* Run FN(ARG) with die() jumping back; 1 if it returned, 0 if it died
 * (then what it held is released). */
int fuzz_run(void (*fn)(const void *), const void *arg);

/* The input as a file: a path naming a memfd with its bytes.  The fd
 * stays open for the next input (rewritten each time). */
__attribute__((unused)) static const char *
fuzz_file(const uint8_t *data, size_t size)
{
	static char path[64];
	static int fd = -1;

	if (fd < 0) {
		fd = memfd_create("fuzz-input", 0);
		if (fd < 0)
			abort();
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	return path;
}

/* The input as a NUL-terminated string (malloc'd, to be freed). */
__attribute__((unused)) static char *
fuzz_text(const uint8_t *data, size_t size)
{
	char *s = __real_malloc(size + 1);

	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

static void
fuzz_init(const char *name)
{
	setprogname(name);
	setenv("SMEARSEG_SHARE", FUZZ_SHARE, 1);
	fuzz_registry_init();
	json_set_alloc_funcs(__wrap_malloc, __wrap_free);
	classes_load(NULL);     /* cached for good: not in the registry */
}

#endif
