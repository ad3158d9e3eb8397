/*
 * runtime.cu - the CUDA backend's lifetime and memory, its GEMM and its
 * scratch buffers.
 *
 * init picks the device (the caller's ordinal modulo the devices there
 * are, so that ranks of one host spread over its GPUs and share them when
 * there are more ranks), creates one non-blocking stream and a cuBLAS
 * handle bound to it, and sets the GEMM precision: FP32, TF32 (inputs
 * rounded to a 10-bit mantissa on tensor cores) or BF16 (inputs rounded
 * to bfloat16, products accumulated in fp32).  In every precision the
 * tensors in memory, and so the master weights, the gradients and Adam's
 * moments, are fp32: the precision is that of the matrix products alone.
 *
 * Memory: alloc is cudaMalloc, called when a network or optimizer is
 * built; the ops' temporary buffers are scratch slots that grow to their
 * largest size in the first step and are reused after, so a training
 * step allocates nothing.
 */
#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include "nn/cuda/common.cuh"

cudaStream_t cuda_stream;
cublasHandle_t cuda_blas;

static int device = -1;
static enum nn_precision precision;
static cublasComputeType_t compute = CUBLAS_COMPUTE_32F;
static float *scratch[CUDA_SCRATCH_SLOTS];
static size_t scratch_size[CUDA_SCRATCH_SLOTS];
static char description[512];

const char *
cuda_blas_error(cublasStatus_t s)
{
	return cublasGetStatusString(s);
}

// --- lifetime ---------------------------------------------------------------

int
cuda_init(const struct nn_backend_opts *o, char *why, size_t whylen)
{
	cudaDeviceProp prop;
	int n = 0;
	cudaError_t e = cudaGetDeviceCount(&n);

	if (e != cudaSuccess || n == 0) {
		snprintf(why, whylen, "no CUDA device here (%s)", e !=
		    cudaSuccess ? cudaGetErrorString(e) :
		    "the driver reports none");
		return -1;
	}
	if (device >= 0)
		die("the cuda backend is open already");
	device = (o->device > 0 ? o->device : 0) % n;
	precision = o->precision;
	CUDA_CHECK(cudaSetDevice(device));
	CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
	CUDA_CHECK(cudaStreamCreateWithFlags(&cuda_stream,
	    cudaStreamNonBlocking));
	CUBLAS_CHECK(cublasCreate(&cuda_blas));
	CUBLAS_CHECK(cublasSetStream(cuda_blas, cuda_stream));
	switch (precision) {
	case NN_PREC_TF32:
		compute = CUBLAS_COMPUTE_32F_FAST_TF32;
		CUBLAS_CHECK(cublasSetMathMode(cuda_blas,
		    CUBLAS_TF32_TENSOR_OP_MATH));
		break;
	case NN_PREC_BF16:
		compute = CUBLAS_COMPUTE_32F_FAST_16BF;
		break;
	default:
		compute = CUBLAS_COMPUTE_32F;
		CUBLAS_CHECK(cublasSetMathMode(cuda_blas,
		    CUBLAS_DEFAULT_MATH));
		break;
	}
	snprintf(description, sizeof description, "cuda %d: %s (sm_%d%d, "
	    "%.0f GiB), %s", device, prop.name, prop.major, prop.minor,
	    prop.totalGlobalMem / 1073741824.0, nn_precision_name(precision));
	return 0;
}

void
cuda_shutdown(void)
{
	if (device < 0)
		return;
	CUDA_CHECK(cudaStreamSynchronize(cuda_stream));
	cuda_collective_free();
	for (int i = 0; i < CUDA_SCRATCH_SLOTS; i++) {
		CUDA_CHECK(cudaFree(scratch[i]));
		scratch[i] = NULL;
		scratch_size[i] = 0;
	}
	CUBLAS_CHECK(cublasDestroy(cuda_blas));
	CUDA_CHECK(cudaStreamDestroy(cuda_stream));
	device = -1;
}

void
cuda_sync(void)
{
	CUDA_CHECK(cudaStreamSynchronize(cuda_stream));
}

const char *
cuda_describe(void)
{
	return description;
}

// --- memory -----------------------------------------------------------------

void *
cuda_alloc(size_t bytes)
{
	void *p = NULL;

	if (device < 0)
		die("the cuda backend is used before it is opened");
	CUDA_CHECK(cudaMalloc(&p, bytes ? bytes : 1));
	CUDA_CHECK(cudaMemsetAsync(p, 0, bytes ? bytes : 1, cuda_stream));
	return p;
}

void
cuda_free(void *p)
{
	if (p == NULL)
		return;
	// a buffer may still be read by queued ops
	CUDA_CHECK(cudaStreamSynchronize(cuda_stream));
	CUDA_CHECK(cudaFree(p));
}

void
cuda_zero(void *p, size_t bytes)
{
	CUDA_CHECK(cudaMemsetAsync(p, 0, bytes, cuda_stream));
}

void
cuda_upload(void *dst, const void *host_src, size_t bytes)
{
	CUDA_CHECK(cudaMemcpyAsync(dst, host_src, bytes,
	    cudaMemcpyHostToDevice, cuda_stream));
	CUDA_CHECK(cudaStreamSynchronize(cuda_stream));
}

void
cuda_download(void *host_dst, const void *src, size_t bytes)
{
	CUDA_CHECK(cudaMemcpyAsync(host_dst, src, bytes,
	    cudaMemcpyDeviceToHost, cuda_stream));
	CUDA_CHECK(cudaStreamSynchronize(cuda_stream));
}

void *
cuda_host_alloc(size_t bytes)
{
	void *p = NULL;

	if (device < 0)
		die("the cuda backend is used before it is opened");
	CUDA_CHECK(cudaMallocHost(&p, bytes ? bytes : 1));
	return p;
}

void
cuda_host_free(void *p)
{
	if (p != NULL)
		CUDA_CHECK(cudaFreeHost(p));
}

float *
cuda_scratch(int slot, size_t bytes)
{
	if (bytes > scratch_size[slot]) {
		CUDA_CHECK(cudaStreamSynchronize(cuda_stream));
		CUDA_CHECK(cudaFree(scratch[slot]));
		CUDA_CHECK(cudaMalloc((void **)&scratch[slot], bytes));
		scratch_size[slot] = bytes;
	}
	return scratch[slot];
}

// --- GEMM -------------------------------------------------------------------

void
gpu_sgemm(int ta, int tb, int M, int N, int K, float alpha, const float *A,
    int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
	if (M == 0 || N == 0)
		return;
	CUBLAS_CHECK(cublasGemmEx(cuda_blas, tb ? CUBLAS_OP_T : CUBLAS_OP_N,
	    ta ? CUBLAS_OP_T : CUBLAS_OP_N, N, M, K, &alpha, B, CUDA_R_32F, ldb,
	    A, CUDA_R_32F, lda, &beta, C, CUDA_R_32F, ldc, compute,
	    CUBLAS_GEMM_DEFAULT));
}

// --- column sums ------------------------------------------------------------

/* Row blocks of a column sum over N rows: a number that depends on N
 * alone, so that the order of the additions depends on the sizes alone,
 * and enough blocks to fill the GPU (about 2048 rows each, at most 1024
 * blocks per 32 columns). */
int
cuda_sum_parts(size_t N)
{
	size_t p = N / 2048;

	return p < 1 ? 1 : p > 1024 ? 1024 : (int)p;
}

/* part[p][c] = sum over rows p*N/P .. (p+1)*N/P - 1 of x[n, c]: a block
 * of 32 columns x 8 row lanes per (column group, part). */
__global__ static void
colsum_part(double *part, const float *x, size_t N, int C, int P)
{
	__shared__ double s[8][33];
	int c = blockIdx.x * 32 + threadIdx.x, p = blockIdx.y;
	size_t n0 = N * p / P, n1 = N * (p + 1) / P;
	double a = 0;

	if (c < C)
		for (size_t n = n0 + threadIdx.y; n < n1; n += 8)
			a += x[n * C + c];
	s[threadIdx.y][threadIdx.x] = a;
	__syncthreads();
	if (threadIdx.y == 0 && c < C) {
		for (int k = 1; k < 8; k++)
			a += s[k][threadIdx.x];
		part[(size_t)p * C + c] = a;
	}
}

__global__ static void
colsum_final(float *db, const double *part, int C, int P)
{
	int c = blockIdx.x * blockDim.x + threadIdx.x;
	double a = 0;

	if (c >= C)
		return;
	for (int p = 0; p < P; p++)
		a += part[(size_t)p * C + c];
	db[c] += (float)a;
}

void
cuda_colsum_add(float *db, const float *x, size_t N, int C)
{
	int P = cuda_sum_parts(N);
	double *part = (double *)cuda_scratch(3, (size_t)P * C *
	    sizeof(double));
	dim3 grid((C + 31) / 32, P), block(32, 8);

	colsum_part<<<grid, block, 0, cuda_stream>>>(part, x, N, C, P);
	KERNEL_CHECK();
	colsum_final<<<(C + 127) / 128, 128, 0, cuda_stream>>>(db, part, C, P);
	KERNEL_CHECK();
}
