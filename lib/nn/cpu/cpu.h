/*
 * cpu.h - the CPU backend: its op table and the helpers its kernels share.
 *
 * Kernels run on the host with OpenMP for the element-wise work and
 * OpenBLAS sgemm for the matrix products (a portable GEMM when the build
 * has BLAS=none).  Only lib/nn/backend.c and the files in this directory
 * include this header.
 */
#ifndef SMEARSEG_NN_CPU_H
#define SMEARSEG_NN_CPU_H

#include <stddef.h>

#include "nn/ops.h"

extern const struct nn_ops nn_ops_cpu;

/*
 * GCC will not turn "x > 0 ? a : b" on floats into a vector select while
 * float compares may trap (-ftrapping-math, the default), so an element-
 * wise loop with such a select stays scalar, and on random signs its
 * branch mispredicts half the time.  Kernels that need the select, and
 * never run with FP traps enabled, are compiled without the assumption.
 */
#if defined(__GNUC__) && !defined(__clang__)
#define CPU_VECTOR_SELECT __attribute__((optimize("no-trapping-math")))
#else
#define CPU_VECTOR_SELECT
#endif

/* Work items (floats touched, or multiply-adds) below which a kernel runs
 * on one thread: waking a thread team costs microseconds, and far more
 * when another process holds a core, which made the tiny networks of the
 * tests 100 times slower on a busy machine. */
#define CPU_PAR_MIN ((size_t)1 << 15)

/* Row-major C = alpha * op(A) * op(B) + beta * C, with op(X) = X or X^T
 * as TA / TB are 0 or 1; op(A) is M,K and op(B) is K,N. */
void cpu_sgemm(int ta, int tb, int M, int N, int K, float alpha,
    const float *A, int lda, const float *B, int ldb, float beta,
    float *C, int ldc);

/* cpu_sgemm on the calling thread alone, for products that threads of
 * one parallel region run side by side. */
void cpu_sgemm1(int ta, int tb, int M, int N, int K, float alpha,
    const float *A, int lda, const float *B, int ldb, float beta,
    float *C, int ldc);

/* The threads a parallel region gets, and the caller's number in its
 * team (1 and 0 without OpenMP). */
int cpu_threads(void);
int cpu_thread_num(void);

/* Scratch buffer SLOT (0 .. CPU_SCRATCH_SLOTS-1), at least BYTES long, owned by
 * the backend (freed by its shutdown) and reused across calls: the im2col columns and the like.
 * Not for concurrent use by two threads running ops. */
#define CPU_SCRATCH_SLOTS 6
float *cpu_scratch(int slot, size_t bytes);
/* Free every scratch buffer: the backend's shutdown. */
void cpu_scratch_free(void);

/* db[c] += sum over the N rows of x[n, c], summed in double. */
void cpu_colsum_add(float *db /* C */, const float *x /* N,C */, size_t N,
    int C);

/* One product of a 3x3 conv: out (pixels, N, row stride N) = leaky ReLU
 * of slope alpha of the conv of the input with w (3,3,C rows of ldw
 * floats, N used) (+ bias (N) if not NULL). */
struct conv_out {
	float *out;
	const float *w;
	int ldw, N;
	const float *bias;
	float alpha;            /* leaky ReLU slope; 1: none */
};

/* Input channels from which cpu_wino3x3 beats im2col. */
#define CPU_WINO_MIN_C 16

/* The outputs O[0..nout-1] of a 3x3 SAME conv over the channel concat
 * [in1 (B,H,W,C1) | in2 (B,H,W,C2) or NULL], by Winograd F(M x M, 3x3),
 * M = 2 or 4, or with M = 0 by F(4x4) where it costs less and F(2x2)
 * elsewhere (winograd.c).  Scratch slots 2 to 5. */
void cpu_wino3x3(int m, const struct conv_out *o, int nout,
    const float *in1, int C1, const float *in2, int C2, int B, int H, int W);
/* dw (3,3,C1+C2,N) += the weight gradient of that conv for the output
 * gradient DOUT (B,H,W,N), by the same transforms. */
void cpu_wino3x3_dw(float *dw, const float *dout, int N, const float *in1,
    int C1, const float *in2, int C2, int B, int H, int W);

// --- kernels (signatures and shapes as in struct nn_ops) --------------------
void cpu_conv3x3_forward(float *out, const float *inp, const float *inp2,
    const float *w, const float *bias, int B, int H, int W, int Cin,
    int Cin2, int Cout, float alpha);
void cpu_conv3x3_infer(float *out, const float *inp, const float *inp2,
    const float *w, const float *bias, int B, int H, int W, int Cin,
    int Cin2, int Cout, float alpha);
void cpu_conv3x3_backward(float *dinp, float *dinp2, float *dw,
    float *dbias, const float *dout, const float *inp, const float *inp2,
    const float *w, int B, int H, int W, int Cin, int Cin2, int Cout);
void cpu_conv1x1_forward(float *out, const float *inp, const float *w,
    const float *bias, int N, int Cin, int Cout);
void cpu_conv1x1_backward(float *dinp, float *dw, float *dbias,
    const float *dout, const float *inp, const float *w,
    int N, int Cin, int Cout);
void cpu_convt2x2_forward(float *out, const float *inp, const float *w,
    const float *bias, int B, int H, int W, int Cin, int Cout);
void cpu_convt2x2_backward(float *dinp, float *dw, float *dbias,
    const float *dout, const float *inp, const float *w,
    int B, int H, int W, int Cin, int Cout);
void cpu_maxpool2x2_forward(float *out, const float *inp,
    int B, int H, int W, int C);
void cpu_maxpool2x2_backward(float *dinp, const float *dout,
    const float *inp, const float *out, int B, int H, int W, int C);
void cpu_act_forward(float *out, const float *inp, size_t n, float alpha);
void cpu_act_backward(float *dinp, const float *dout, const float *out,
    size_t n, float alpha);
void cpu_groupnorm_forward(float *out, float *mean, float *rstd,
    const float *inp, const float *gamma, const float *beta,
    int B, int HW, int C, int G, float eps);
void cpu_groupnorm_backward(float *dinp, float *dgamma, float *dbeta,
    const float *dout, const float *inp, const float *mean,
    const float *rstd, const float *gamma, int B, int HW, int C, int G);
void cpu_xent_forward(float *probs, double *sums, const float *logits,
    const uint8_t *labels, const float *class_w, const uint32_t *sets,
    int N, int K);
void cpu_xent_backward(float *dlogits, const float *probs,
    const uint8_t *labels, const float *class_w, const uint32_t *sets,
    float scale, int N, int K);
void cpu_softmax_forward(float *probs, const float *logits, int N, int K);
void cpu_adam_update(float *p, float *m, float *v, const float *g, size_t n,
    float lr, float beta1, float beta2, float eps, float wd, long t);
void cpu_add(float *y, const float *x, size_t n);

#endif
