/*
 * gemm.c - the matrix product every convolution reduces to, the backend's
 * scratch buffers, and the bias-gradient column sum.
 *
 * With BLAS (the default) cpu_sgemm is cblas_sgemm in row-major order,
 * with the rows of C split between the OpenMP threads and OpenBLAS itself
 * kept single-threaded.  All parallelism is then OpenMP's: two thread
 * pools (OpenBLAS's pthreads and OpenMP's) busy-waiting on the same two
 * cores were measured to make small-network training 70 times slower.
 * With BLAS=none it is a plain loop nest parallelised over rows of C:
 * slow, but it keeps the project buildable and testable without a BLAS.
 */
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif
#if SMEARSEG_BLAS
#include <cblas.h>
#endif

#include "util.h"
#include "nn/cpu/cpu.h"

// --- GEMM -------------------------------------------------------------------

#if SMEARSEG_BLAS
static void
sgemm1(int ta, int tb, int M, int N, int K, float alpha, const float *A,
    int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
	cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans,
	    tb ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B, ldb,
	    beta, C, ldc);
}

/* Called from every thread: OpenBLAS's own threads stay at one. */
static void
blas_single(void)
{
	static int once;

	#pragma omp critical(blas_single)
	if (!once) {
		openblas_set_num_threads(1);
		once = 1;
	}
}

void
cpu_sgemm1(int ta, int tb, int M, int N, int K, float alpha,
    const float *A, int lda, const float *B, int ldb, float beta,
    float *C, int ldc)
{
	blas_single();
	sgemm1(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void
cpu_sgemm(int ta, int tb, int M, int N, int K, float alpha,
    const float *A, int lda, const float *B, int ldb, float beta,
    float *C, int ldc)
{
	int nt = 1;

	blas_single();
#ifdef _OPENMP
	nt = omp_get_max_threads();
#endif
	// below ~1 MFLOP, or with too few rows to share, one call
	if (nt == 1 || M < 16 * nt || (double)M * N * K < 5e5) {
		sgemm1(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
		return;
	}
	// rows m0..m1-1 of op(A) are rows of A, or columns if transposed
	#pragma omp parallel num_threads(nt)
	{
		int t = 0, n = 1;
#ifdef _OPENMP
		t = omp_get_thread_num();
		n = omp_get_num_threads();
#endif
		int m0 = (int)((long)M * t / n);
		int m1 = (int)((long)M * (t + 1) / n);
		const float *a = ta ? A + m0 : A + (size_t)m0 * lda;
		if (m1 > m0)
			sgemm1(ta, tb, m1 - m0, N, K, alpha, a, lda, B, ldb,
			    beta, C + (size_t)m0 * ldc, ldc);
	}
}
#else
void
cpu_sgemm(int ta, int tb, int M, int N, int K, float alpha,
    const float *A, int lda, const float *B, int ldb, float beta,
    float *C, int ldc)
{
	/*
	 * C[i, :] = beta*C[i, :] + alpha * sum_k op(A)[i, k] * op(B)[k, :].
	 * The inner loop runs over j, contiguous in C and (for tb == 0) in
	 * B, so the compiler vectorises it.
	 */
	#pragma omp parallel for schedule(static) \
	    if ((size_t)M * N * K >= CPU_PAR_MIN)
	for (int i = 0; i < M; i++) {
		float *c = C + (size_t)i * ldc;
		for (int j = 0; j < N; j++)
			c[j] = beta == 0 ? 0 : beta * c[j];
		for (int k = 0; k < K; k++) {
			float a = alpha * (ta ? A[(size_t)k * lda + i] :
			    A[(size_t)i * lda + k]);
			if (a == 0)
				continue;
			if (!tb) {
				const float *b = B + (size_t)k * ldb;
				for (int j = 0; j < N; j++)
					c[j] += a * b[j];
			} else {
				for (int j = 0; j < N; j++)
					c[j] += a * B[(size_t)j * ldb + k];
			}
		}
	}
}

/* Inside a parallel region the loop nest's team is the calling thread. */
void
cpu_sgemm1(int ta, int tb, int M, int N, int K, float alpha,
    const float *A, int lda, const float *B, int ldb, float beta,
    float *C, int ldc)
{
	cpu_sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
#endif

// --- threads --------------------------------------------------------------

int
cpu_threads(void)
{
#ifdef _OPENMP
	return omp_get_max_threads();
#else
	return 1;
#endif
}

int
cpu_thread_num(void)
{
#ifdef _OPENMP
	return omp_get_thread_num();
#else
	return 0;
#endif
}

// --- scratch ----------------------------------------------------------------

static float *scratch[CPU_SCRATCH_SLOTS];
static size_t scratch_size[CPU_SCRATCH_SLOTS];

float *
cpu_scratch(int slot, size_t bytes)
{
	if (bytes > scratch_size[slot]) {
		free(scratch[slot]);
		scratch_size[slot] = 0;
		/* aligned_alloc, not posix_memalign as the tensors: the fuzz
		 * harnesses free what a failed input left allocated through
		 * posix_memalign, and this cache outlives any one input */
		bytes = (bytes + 63) / 64 * 64;
		scratch[slot] = aligned_alloc(64, bytes);
		if (scratch[slot] == NULL)
			die("out of memory (%zu bytes of scratch)", bytes);
		scratch_size[slot] = bytes;
	}
	return scratch[slot];
}

void
cpu_scratch_free(void)
{
	for (int i = 0; i < CPU_SCRATCH_SLOTS; i++) {
		free(scratch[i]);
		scratch[i] = NULL;
		scratch_size[i] = 0;
	}
}

// --- bias gradient ----------------------------------------------------------

void
cpu_colsum_add(float *db, const float *x, size_t N, int C)
{
	/*
	 * The rows are cut into a fixed number of blocks, each summed into
	 * its own double vector, and the vectors are added in block order:
	 * the result is the same for any number of threads.
	 */
	enum { NBLK = 32 };
	double *acc = xcalloc((size_t)NBLK * C, sizeof(double));

	#pragma omp parallel for schedule(static) \
	    if (N * C >= CPU_PAR_MIN)
	for (int blk = 0; blk < NBLK; blk++) {
		size_t n0 = N * blk / NBLK, n1 = N * (blk + 1) / NBLK;
		double *a = acc + (size_t)blk * C;
		for (size_t n = n0; n < n1; n++) {
			const float *row = x + n * C;
			for (int c = 0; c < C; c++)
				a[c] += row[c];
		}
	}
	for (int c = 0; c < C; c++) {
		double s = 0;
		for (int blk = 0; blk < NBLK; blk++)
			s += acc[(size_t)blk * C + c];
		db[c] += (float)s;
	}
	free(acc);
}
