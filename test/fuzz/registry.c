/*
 * registry.c - the allocation and stream registry of the fuzz harnesses
 * (fuzz.h), and fuzz_run().  Compiled without the fuzzer's coverage
 * instrumentation: its loops would slow every input and guide nothing.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void *__real_malloc(size_t);
void *__real_calloc(size_t, size_t);
void *__real_realloc(void *, size_t);
int __real_posix_memalign(void **, size_t, size_t);
void __real_free(void *);

#define FUZZ_SLOTS (1u << 16)           /* open addressing, power of 2 */
static void **fuzz_live;                /* live blocks; NULL or TOMB */
static size_t fuzz_nlive;
static int fuzz_tracking;
static char fuzz_tomb;
#define TOMB ((void *)&fuzz_tomb)

static size_t
fuzz_slot(void *p)
{
	return ((uintptr_t)p >> 4) * 0x9e3779b97f4a7c15ULL >> 48 &
	    (FUZZ_SLOTS - 1);
}

static void
fuzz_add(void *p)
{
	size_t i;

	if (p == NULL || !fuzz_tracking || fuzz_nlive >= FUZZ_SLOTS / 2)
		return;
	for (i = fuzz_slot(p); fuzz_live[i] != NULL && fuzz_live[i] != TOMB;
	    i = (i + 1) & (FUZZ_SLOTS - 1))
		;
	fuzz_live[i] = p;
	fuzz_nlive++;
}

static void
fuzz_del(void *p)
{
	size_t i;

	if (p == NULL || fuzz_live == NULL)
		return;
	for (i = fuzz_slot(p); fuzz_live[i] != NULL;
	    i = (i + 1) & (FUZZ_SLOTS - 1))
		if (fuzz_live[i] == p) {
			fuzz_live[i] = TOMB;
			fuzz_nlive--;
			return;
		}
}

void *__wrap_malloc(size_t n) { void *p = __real_malloc(n); fuzz_add(p); return p; }
void *__wrap_calloc(size_t n, size_t m) { void *p = __real_calloc(n, m); fuzz_add(p); return p; }
void __wrap_free(void *p) { fuzz_del(p); __real_free(p); }
/* the CPU backend's tensors (its GEMM scratch, a cache that must outlive
 * an input, comes from aligned_alloc, which is not recorded) */
int
__wrap_posix_memalign(void **p, size_t align, size_t n)
{
	int e = __real_posix_memalign(p, align, n);

	if (e == 0)
		fuzz_add(*p);
	return e;
}
void *
__wrap_realloc(void *p, size_t n)
{
	void *q;

	fuzz_del(p);
	q = __real_realloc(p, n);
	fuzz_add(q != NULL ? q : p);
	return q;
}

/* Streams opened while an input runs, closed after a die() as the blocks
 * are freed (--wrap=fopen,fdopen,fclose): a reader that dies holding its
 * file would otherwise use up the descriptors. */
FILE *__real_fopen(const char *, const char *);
FILE *__real_fdopen(int, const char *);
int __real_fclose(FILE *);
#define FUZZ_FILES 64
static FILE *fuzz_files[FUZZ_FILES];

static FILE *
fuzz_add_file(FILE *f)
{
	for (int i = 0; f != NULL && fuzz_tracking && i < FUZZ_FILES; i++)
		if (fuzz_files[i] == NULL) {
			fuzz_files[i] = f;
			break;
		}
	return f;
}

FILE *__wrap_fopen(const char *p, const char *m) { return fuzz_add_file(__real_fopen(p, m)); }
FILE *__wrap_fdopen(int fd, const char *m) { return fuzz_add_file(__real_fdopen(fd, m)); }
int
__wrap_fclose(FILE *f)
{
	for (int i = 0; i < FUZZ_FILES; i++)
		if (fuzz_files[i] == f)
			fuzz_files[i] = NULL;
	return __real_fclose(f);
}

/* Free every block still recorded, and forget them all. */
static void
fuzz_release(void)
{
	for (int i = 0; i < FUZZ_FILES; i++)
		if (fuzz_files[i] != NULL) {
			__real_fclose(fuzz_files[i]);
			fuzz_files[i] = NULL;
		}
	for (size_t i = 0; i < FUZZ_SLOTS; i++) {
		if (fuzz_live[i] != NULL && fuzz_live[i] != TOMB)
			__real_free(fuzz_live[i]);
		fuzz_live[i] = NULL;
	}
	fuzz_nlive = 0;
}

// --- running one input --------------------------------------------------------

/* Run FN(ARG) with die() jumping back; 1 if it returned, 0 if it died. */
int
fuzz_run(void (*fn)(const void *), const void *arg)
{
	jmp_buf jb;
	volatile int ok = 0;

	if (fuzz_nlive > 0)
		memset(fuzz_live, 0, FUZZ_SLOTS * sizeof *fuzz_live);
	fuzz_nlive = 0;
	memset(fuzz_files, 0, sizeof fuzz_files);
	die_jump = &jb;
	fuzz_tracking = 1;
	if (setjmp(jb) == 0) {
		fn(arg);
		ok = 1;
	}
	fuzz_tracking = 0;
	die_jump = NULL;
	if (!ok)
		fuzz_release();
	return ok;
}


void
fuzz_registry_init(void)
{
	fuzz_live = __real_calloc(FUZZ_SLOTS, sizeof *fuzz_live);
	if (fuzz_live == NULL)
		abort();
}
