/*
 * cuda.h - the CUDA backend: its op table and the kernels' entry points.
 *
 * Device memory, one stream, cuBLAS for the matrix products (no cuDNN),
 * and CUDA kernels for the rest: im2col over the two inputs of a conv in
 * chunks of up to 1 GiB, bias and leaky ReLU, max-pool, the transposed
 * conv's scatter, GroupNorm, softmax cross-entropy reduced on the device,
 * Adam; and the products too small for cuBLAS to do well (the first
 * layer's 3x3 conv of 3 channels, the 1x1 head to 10 classes) as plain
 * kernels (conv.cu).  Page-locked host memory for the buffers that move
 * every step (host_alloc).
 * Every op is queued on the backend's stream and returns at once;
 * upload, download and xent_forward wait for the stream (nn/ops.h,
 * Ordering).  Reductions sum in a fixed order (no atomics), so that a
 * step gives the same bits every time and a resumed run continues
 * exactly.  The functions below have the CPU twins' signatures (cpu.h).
 *
 * Built only where nvcc is found; only lib/nn/backend.c and the files in
 * this directory include this header.
 */
#ifndef SMEARSEG_NN_CUDA_H
#define SMEARSEG_NN_CUDA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "nn/ops.h"

extern const struct nn_ops nn_ops_cuda;

// --- runtime (runtime.cu) ----------------------------------------------------
int cuda_init(const struct nn_backend_opts *o, char *why, size_t whylen);
void cuda_shutdown(void);
void cuda_sync(void);
const char *cuda_describe(void);
void *cuda_alloc(size_t bytes);
void cuda_free(void *p);
void cuda_zero(void *p, size_t bytes);
void cuda_upload(void *dst, const void *host_src, size_t bytes);
void cuda_download(void *host_dst, const void *src, size_t bytes);
void *cuda_host_alloc(size_t bytes);
void cuda_host_free(void *p);

// --- collectives (nccl.cu) -----------------------------------------------------
int cuda_collective_init(int rank, int size, int local_size,
    void (*bcast)(void *buf, size_t bytes), int (*all_ok)(int ok),
    char *why, size_t whylen);
void cuda_allreduce_mean(float *buf, size_t n);
void cuda_allreduce_wait(void);
void cuda_collective_free(void);

// --- kernels (signatures and shapes as in struct nn_ops) ----------------------
void cuda_conv3x3_forward(float *out, const float *inp, const float *inp2,
    const float *w, const float *bias, int B, int H, int W, int Cin,
    int Cin2, int Cout, float alpha);
void cuda_conv3x3_backward(float *dinp, float *dinp2, float *dw,
    float *dbias, const float *dout, const float *inp, const float *inp2,
    const float *w, int B, int H, int W, int Cin, int Cin2, int Cout);
void cuda_conv1x1_forward(float *out, const float *inp, const float *w,
    const float *bias, int N, int Cin, int Cout);
void cuda_conv1x1_backward(float *dinp, float *dw, float *dbias,
    const float *dout, const float *inp, const float *w,
    int N, int Cin, int Cout);
void cuda_convt2x2_forward(float *out, const float *inp, const float *w,
    const float *bias, int B, int H, int W, int Cin, int Cout);
void cuda_convt2x2_backward(float *dinp, float *dw, float *dbias,
    const float *dout, const float *inp, const float *w,
    int B, int H, int W, int Cin, int Cout);
void cuda_maxpool2x2_forward(float *out, const float *inp,
    int B, int H, int W, int C);
void cuda_maxpool2x2_backward(float *dinp, const float *dout,
    const float *inp, const float *out, int B, int H, int W, int C);
void cuda_act_forward(float *out, const float *inp, size_t n, float alpha);
void cuda_act_backward(float *dinp, const float *dout, const float *out,
    size_t n, float alpha);
void cuda_groupnorm_forward(float *out, float *mean, float *rstd,
    const float *inp, const float *gamma, const float *beta,
    int B, int HW, int C, int G, float eps);
void cuda_groupnorm_backward(float *dinp, float *dgamma, float *dbeta,
    const float *dout, const float *inp, const float *mean,
    const float *rstd, const float *gamma, int B, int HW, int C, int G);
void cuda_xent_forward(float *probs, double *sums, const float *logits,
    const uint8_t *labels, const float *class_w, const uint32_t *sets,
    int N, int K);
void cuda_xent_backward(float *dlogits, const float *probs,
    const uint8_t *labels, const float *class_w, const uint32_t *sets,
    float scale, int N, int K);
void cuda_softmax_forward(float *probs, const float *logits, int N, int K);
void cuda_adam_update(float *p, float *m, float *v, const float *g, size_t n,
    float lr, float beta1, float beta2, float eps, float wd, long t);
void cuda_add(float *y, const float *x, size_t n);

#ifdef __cplusplus
}
#endif

#endif
