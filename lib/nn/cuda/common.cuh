/*
 * common.cuh - what the CUDA backend's files share: the checking macros,
 * the stream and cuBLAS handle, the row-major GEMM, scratch buffers,
 * launch sizes and the deterministic column sum.
 *
 * Every CUDA and cuBLAS call is checked: CUDA_CHECK and CUBLAS_CHECK are
 * built by one generator (ggml's CUDA_CHECK_GEN) that names the call, the
 * file and line and the library's own error string, and ends in die(),
 * the project's error path, on standard error.
 */
#ifndef SMEARSEG_NN_CUDA_COMMON_CUH
#define SMEARSEG_NN_CUDA_COMMON_CUH

#include <stddef.h>
#include <stdint.h>

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "nn/cuda/cuda.h"

/* util.h's die() (util.h itself is C11 with <stdnoreturn.h>). */
extern "C" void die(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));

const char *cuda_blas_error(cublasStatus_t s);

#define CHECK_GEN(x, type, ok, errstr) do { \
	type check_err_ = (x); \
	if (check_err_ != (ok)) \
		die("%s:%d: %s: %s", __FILE__, __LINE__, #x, \
		    errstr(check_err_)); \
} while (0)
#define CUDA_CHECK(x) CHECK_GEN(x, cudaError_t, cudaSuccess, \
	cudaGetErrorString)
#define CUBLAS_CHECK(x) CHECK_GEN(x, cublasStatus_t, \
	CUBLAS_STATUS_SUCCESS, cuda_blas_error)
/* After a kernel launch: a bad configuration is reported here. */
#define KERNEL_CHECK() CUDA_CHECK(cudaGetLastError())

extern cudaStream_t cuda_stream;
extern cublasHandle_t cuda_blas;

/* Row-major C = alpha * op(A) * op(B) + beta * C as cpu_sgemm (cpu.h),
 * by cuBLAS in the backend's precision: the column-major product
 * C^T = op(B)^T op(A)^T (darknet's gemm_gpu). */
void gpu_sgemm(int ta, int tb, int M, int N, int K, float alpha,
    const float *A, int lda, const float *B, int ldb, float beta,
    float *C, int ldc);

/* Device scratch buffer SLOT (0 .. CUDA_SCRATCH_SLOTS-1), at least BYTES
 * long; it grows on the first step and is reused after, freed by the
 * backend's shutdown. */
#define CUDA_SCRATCH_SLOTS 4
float *cuda_scratch(int slot, size_t bytes);

/* db[c] += sum over the N rows of x[n, c] (x: N,C), in double, in a
 * fixed order. */
void cuda_colsum_add(float *db, const float *x, size_t N, int C);

/* Blocks of THREADS for N work items, capped for grid-stride loops. */
#define THREADS 256
static inline unsigned
nblocks(size_t n)
{
	size_t b = (n + THREADS - 1) / THREADS;

	return b < 1 ? 1 : b > 65535 * 8 ? 65535 * 8 : (unsigned)b;
}

#define GRID_STRIDE(i, n) \
	for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; \
	    i < (n); i += (size_t)gridDim.x * blockDim.x)

#endif
