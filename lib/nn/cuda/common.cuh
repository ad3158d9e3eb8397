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
#define CUDA_SCRATCH_SLOTS 5
float *cuda_scratch(int slot, size_t bytes);

/* Row blocks of a deterministic column sum over N rows (runtime.cu). */
int cuda_sum_parts(size_t N);

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

/* 16-byte aligned (NULL is): a float4 can be read there. */
static inline bool
aligned16(const void *p)
{
	return ((uintptr_t)p & 15) == 0;
}

/* Elementwise float / float4 helpers for kernels written for either. */
template <typename T> __device__ static inline T zero_of();
template <> __device__ inline float zero_of<float>() { return 0.0f; }
template <> __device__ inline float4 zero_of<float4>()
{
	return make_float4(0.0f, 0.0f, 0.0f, 0.0f);
}
__device__ static inline float4
operator+(float4 a, float4 b)
{
	return make_float4(a.x + b.x, a.y + b.y, a.z + b.z, a.w + b.w);
}
__device__ static inline float
leaky(float v, float alpha)
{
	return v > 0 ? v : alpha * v;
}
__device__ static inline float4
leaky(float4 v, float alpha)
{
	return make_float4(leaky(v.x, alpha), leaky(v.y, alpha),
	    leaky(v.z, alpha), leaky(v.w, alpha));
}

/* A grid-stride kernel KERNEL<I> over N items, with 32-bit indices where
 * N allows (a 64-bit division is a long subroutine on a GPU; a 32-bit one
 * a few instructions), 64-bit otherwise.  Below 2^31, the last index plus
 * the grid's stride cannot wrap round. */
#define LAUNCH_INDEXED(kernel, n, ...) do { \
	size_t launch_n_ = (n); \
	if (launch_n_ <= (size_t)INT32_MAX) \
		kernel<uint32_t><<<nblocks(launch_n_), THREADS, 0, \
		    cuda_stream>>>(__VA_ARGS__); \
	else \
		kernel<size_t><<<nblocks(launch_n_), THREADS, 0, \
		    cuda_stream>>>(__VA_ARGS__); \
	KERNEL_CHECK(); \
} while (0)

/* GRID_STRIDE with an index of type I. */
#define GRID_STRIDE_I(I, i, n) \
	for (I i = (I)blockIdx.x * blockDim.x + threadIdx.x; i < (I)(n); \
	    i += (I)gridDim.x * blockDim.x)

#define GRID_STRIDE(i, n) \
	for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; \
	    i < (n); i += (size_t)gridDim.x * blockDim.x)

#endif
