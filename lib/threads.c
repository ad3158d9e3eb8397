/*
 * threads.c - the one thread knob of the engine.
 *
 * All CPU parallelism is OpenMP: the GEMM wrapper (lib/nn/cpu/gemm.c)
 * splits each product across OpenMP threads and runs OpenBLAS single-
 * threaded inside them, since two thread pools spinning on the same few
 * cores slow training down many times over.
 */
#include "threads.h"

#include <omp.h>
#include <unistd.h>

void
threads_set(int n)
{
	omp_set_num_threads(n);
}

int
threads_online(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 1024 ? 1024 : (int)n;
}
