/*
 * threads.c - set the thread count of OpenMP and of OpenBLAS together, so
 * that --threads means the same for every part of the engine.
 */
#include "threads.h"

#include <omp.h>

#if SMEARSEG_BLAS
#include <cblas.h>
#endif

void
threads_set(int n)
{
	omp_set_num_threads(n);
#if SMEARSEG_BLAS
	openblas_set_num_threads(n);
#endif
}
