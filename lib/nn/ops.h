/*
 * ops.h - the network's operations, as one table of function pointers per
 * backend.
 *
 * Every layer of the U-Net is a forward/backward pair with one argument
 * convention (llm.c train_gpt2.c): outputs first, then inputs and saved
 * activations, then sizes.  Every tensor argument carries its shape in a
 * comment.  Backward functions OVERWRITE the input gradient (dinp = ...)
 * and ACCUMULATE parameter gradients (dw += ...), so that a training step
 * zeroes the parameter gradients once and the activation gradients need no
 * clearing at all.  An input gradient may be NULL when nobody needs it
 * (the image), which skips its cost.
 *
 * Layout: activations are NHWC (batch, row, column, channel), channels
 * fastest.  With channels contiguous a 3x3 convolution over a block of pixels
 * is ONE GEMM of (pixels, 9*Cin) x (9*Cin, Cout), a 1x1 convolution and a 2x2
 * stride-2 transposed convolution are plain GEMMs over the pixel matrix with
 * no copy at all, a channel concat is a gather of two row blocks (done inside
 * the conv's im2col), and the GEMMs have the pixel count as their large M
 * dimension, which is where BLAS kernels are fastest.  NCHW would need a
 * per-image im2col and per-image GEMMs with the small channel count as M.
 *
 * Weights are kept in the GEMM-ready layout: 3x3 conv [3][3][Cin][Cout]
 * (HWIO), 1x1 conv [Cin][Cout], transposed conv [Cin][2][2][Cout].
 * lib/model.c converts to PyTorch's layouts at save and load.
 *
 * Pointers are backend memory (host memory for the CPU backend, device
 * memory for a CUDA one): the host reads and writes them only through
 * upload and download.  The backend is opened once, by nn_backend_open()
 * (nn/backend.h), and the model calls only through the table, so the CUDA
 * twin in lib/nn/cuda/ slots in without a single #ifdef in the layer or
 * model code.
 *
 * Ordering.  A backend may run its ops asynchronously (the CUDA one queues
 * them on one stream): every op is ordered after the ops called before it,
 * upload and download are ordered with the ops and return only when the
 * host buffer may be reused (upload) or read (download), and xent_forward
 * returns its sums on the host.  sync() waits until every op queued so far
 * has finished, so that another agent (an MPI or NCCL call reading device
 * memory) may read its results.
 */
#ifndef SMEARSEG_NN_OPS_H
#define SMEARSEG_NN_OPS_H

#include <stddef.h>
#include <stdint.h>

/* The ops by name, for the tests' -o filter and for messages. */
enum nn_op {
	NN_OP_CONV3X3,
	NN_OP_CONV1X1,
	NN_OP_CONVT2X2,
	NN_OP_MAXPOOL2X2,
	NN_OP_CONCAT,           /* fused: conv3x3's second input */
	NN_OP_ACT,
	NN_OP_GROUPNORM,
	NN_OP_XENT,
	NN_OP_ADAM,
	NN_OP_COUNT
};

const char *nn_op_name(enum nn_op op);
/* The op called NAME, or -1. */
int nn_op_lookup(const char *name);

/* Label value that is never scored and contributes no loss. */
#define NN_IGNORE_LABEL 255

/* A 3x3 SAME convolution, forward (see conv3x3_forward below). */
typedef void nn_conv3x3_fn(
    float *out,                 /* B,H,W,Cout */
    const float *inp,           /* B,H,W,Cin */
    const float *inp2,          /* B,H,W,Cin2 or NULL */
    const float *w,             /* 3,3,Cin+Cin2,Cout */
    const float *bias,          /* Cout */
    int B, int H, int W, int Cin, int Cin2, int Cout, float alpha);

/* Arithmetic of the matrix products (the GEMMs).  FP32 is the
 * reference; TF32 rounds the GEMM inputs to a 10-bit mantissa on tensor
 * cores; BF16 stores the GEMM inputs in bfloat16 with fp32 accumulation,
 * the master weights, gradients and optimizer state staying fp32.  The CPU
 * backend has FP32 only. */
enum nn_precision {
	NN_PREC_FP32,
	NN_PREC_TF32,
	NN_PREC_BF16,
	NN_PREC_COUNT
};

const char *nn_precision_name(enum nn_precision p);
/* The precision called NAME ("fp32", "tf32", "bf16"), or -1. */
int nn_precision_lookup(const char *name);

/* What a backend is opened with (nn_backend_open). */
struct nn_backend_opts {
	int threads;                    /* host threads, >= 1 */
	int device;                     /* GPU ordinal; CPU: unused */
	enum nn_precision precision;
};

struct nn_ops {
	const char *name;
	int host_memory;        /* 1: backend pointers are host pointers */

	// --- lifetime (called by nn/backend.c alone) ------------------------
	// init gets the backend ready (device, library handles, streams) and
	// returns 0, or returns -1 with a reason in WHY (WHYLEN bytes) when
	// this machine cannot run it (no GPU); it dies on real errors.
	// shutdown frees what init and the ops took (scratch, handles).
	int (*init)(const struct nn_backend_opts *o, char *why, size_t whylen);
	void (*shutdown)(void);
	// Wait for every op queued so far (see Ordering above).
	void (*sync)(void);
	// A one-line description of the hardware, for logs and benchmarks.
	const char *(*describe)(void);

	// --- data-parallel collectives in backend memory (NULL: none) -------
	// collective_init joins the backend to the job's RANK of SIZE ranks
	// (LOCAL_SIZE of them on this host), with BCAST copying bytes from
	// rank 0 to all and ALL_OK(ok) returning 1 if ok is 1 on every rank
	// (the MPI layer's); it returns -1 with the reason in WHY, on every
	// rank alike, where it cannot (no NCCL, ranks sharing a GPU on some
	// host), and the MPI layer then keeps its host path.  allreduce_mean replaces buf[0..n)
	// by its mean over the ranks, started after the ops queued so far
	// and running beside those queued later; allreduce_wait orders every
	// op queued after it after every allreduce started (see
	// mpi/comm.h).  shutdown leaves the collective.
	int (*collective_init)(int rank, int size, int local_size,
	    void (*bcast)(void *buf, size_t bytes), int (*all_ok)(int ok),
	    char *why, size_t whylen);
	void (*allreduce_mean)(float *buf, size_t n);
	void (*allreduce_wait)(void);

	// --- memory ---------------------------------------------------------
	void *(*alloc)(size_t bytes);                   /* zeroed */
	void (*free)(void *p);
	void (*zero)(void *p, size_t bytes);
	void (*upload)(void *dst, const void *host_src, size_t bytes);
	void (*download)(void *host_dst, const void *src, size_t bytes);
	// Host memory that upload and download move fastest (a GPU's
	// page-locked memory: 4 to 7 times the speed of malloc'd memory on
	// an H200),
	// for the buffers moved every step; NULL: malloc and free serve.
	// Free it before the backend closes (nn_host_free).
	void *(*host_alloc)(size_t bytes);
	void (*host_free)(void *p);

	// --- 3x3 convolution, stride 1, SAME (zero) padding, with bias ------
	// The input is the channel concat [inp | inp2] of one or two tensors
	// (inp2 NULL and Cin2 0 for one).  This is the U-Net's concat op: the
	// decoder concatenates the upsampled tensor and the skip only to feed
	// them to its first conv, so the conv gathers both in its im2col and
	// the concatenated tensor (the network's largest) is never stored;
	// the backward pass writes the two inputs' gradients apart.  The
	// forward pass applies the leaky ReLU of slope alpha (0: ReLU) to its
	// output as it writes it, saving the activation's pass over memory;
	// alpha 1, the identity, gives the bare conv.
	nn_conv3x3_fn *conv3x3_forward;
	// The same conv for inference, whose output no gradient is taken
	// of: a backend may trade accuracy for speed there (the CPU one uses
	// Winograd F(4x4, 3x3), a few 1e-6 of the output's scale off the
	// direct sum, about 1e-5 at 256 channels, against F(2x2)'s 2e-7 to
	// 7e-7).  NULL: conv3x3_forward serves.
	nn_conv3x3_fn *conv3x3_infer;
	void (*conv3x3_backward)(
	    float *dinp,                /* B,H,W,Cin  (=, may be NULL) */
	    float *dinp2,               /* B,H,W,Cin2  (=, may be NULL) */
	    float *dw,                  /* 3,3,Cin+Cin2,Cout  (+=) */
	    float *dbias,               /* Cout  (+=) */
	    const float *dout,          /* B,H,W,Cout */
	    const float *inp,           /* B,H,W,Cin */
	    const float *inp2,          /* B,H,W,Cin2 or NULL */
	    const float *w,             /* 3,3,Cin+Cin2,Cout */
	    int B, int H, int W, int Cin, int Cin2, int Cout);

	// --- 1x1 convolution with bias (N = B*H*W pixels) -------------------
	void (*conv1x1_forward)(
	    float *out,                 /* N,Cout */
	    const float *inp,           /* N,Cin */
	    const float *w,             /* Cin,Cout */
	    const float *bias,          /* Cout */
	    int N, int Cin, int Cout);
	void (*conv1x1_backward)(
	    float *dinp,                /* N,Cin  (=, may be NULL) */
	    float *dw,                  /* Cin,Cout  (+=) */
	    float *dbias,               /* Cout  (+=) */
	    const float *dout,          /* N,Cout */
	    const float *inp,           /* N,Cin */
	    const float *w,             /* Cin,Cout */
	    int N, int Cin, int Cout);

	// --- 2x2 stride-2 transposed convolution with bias ------------------
	// H, W are the INPUT sizes; the output is 2H x 2W.
	void (*convt2x2_forward)(
	    float *out,                 /* B,2H,2W,Cout */
	    const float *inp,           /* B,H,W,Cin */
	    const float *w,             /* Cin,2,2,Cout */
	    const float *bias,          /* Cout */
	    int B, int H, int W, int Cin, int Cout);
	void (*convt2x2_backward)(
	    float *dinp,                /* B,H,W,Cin  (=, may be NULL) */
	    float *dw,                  /* Cin,2,2,Cout  (+=) */
	    float *dbias,               /* Cout  (+=) */
	    const float *dout,          /* B,2H,2W,Cout */
	    const float *inp,           /* B,H,W,Cin */
	    const float *w,             /* Cin,2,2,Cout */
	    int B, int H, int W, int Cin, int Cout);

	// --- 2x2 max-pool, stride 2 (H, W even; the INPUT sizes) ------------
	// The backward pass routes each output gradient to the first maximum
	// of its window in row-major order, found again from inp and out, so
	// no argmax tensor is stored.
	void (*maxpool2x2_forward)(
	    float *out,                 /* B,H/2,W/2,C */
	    const float *inp,           /* B,H,W,C */
	    int B, int H, int W, int C);
	void (*maxpool2x2_backward)(
	    float *dinp,                /* B,H,W,C  (=) */
	    const float *dout,          /* B,H/2,W/2,C */
	    const float *inp,           /* B,H,W,C */
	    const float *out,           /* B,H/2,W/2,C */
	    int B, int H, int W, int C);

	// --- leaky ReLU, alpha = 0 gives ReLU -------------------------------
	// In place is allowed (out == inp, dinp == dout).  The derivative is
	// read from the OUTPUT: for alpha >= 0, out > 0 exactly when inp > 0,
	// so the pre-activation need not be kept.
	void (*act_forward)(
	    float *out,                 /* n */
	    const float *inp,           /* n */
	    size_t n, float alpha);
	void (*act_backward)(
	    float *dinp,                /* n  (=) */
	    const float *dout,          /* n */
	    const float *out,           /* n */
	    size_t n, float alpha);

	// --- group normalisation over (H, W, C/G) per sample ----------------
	void (*groupnorm_forward)(
	    float *out,                 /* B,HW,C */
	    float *mean,                /* B,G  (saved for backward) */
	    float *rstd,                /* B,G  (saved for backward) */
	    const float *inp,           /* B,HW,C */
	    const float *gamma,         /* C */
	    const float *beta,          /* C */
	    int B, int HW, int C, int G, float eps);
	void (*groupnorm_backward)(
	    float *dinp,                /* B,HW,C  (=) */
	    float *dgamma,              /* C  (+=) */
	    float *dbeta,               /* C  (+=) */
	    const float *dout,          /* B,HW,C */
	    const float *inp,           /* B,HW,C */
	    const float *mean,          /* B,G */
	    const float *rstd,          /* B,G */
	    const float *gamma,         /* C */
	    int B, int HW, int C, int G);

	// --- per-pixel softmax cross-entropy with class weights -------------
	// Pixels labelled NN_IGNORE_LABEL are skipped.  The forward pass
	// writes the probabilities and returns, on the host, sums[0] =
	// sum w[y]*CE and sums[1] = sum w[y] over the scored pixels; the loss
	// is sums[0]/sums[1].  The backward pass writes dlogits = scale *
	// w[y] * (p - onehot(y)), with scale = dloss / sums[1] chosen by the
	// caller (so that data-parallel ranks can use the global sum).
	// Partial labels: a value v >= K with sets[v] != 0 stands for any
	// class of the bit set sets[v]; its CE is -log sum_{k in set} p_k,
	// its weight the mean of the members' w, and the backward pass
	// writes scale * w * (p - p*[k in set] / sum_set p).
	void (*xent_forward)(
	    float *probs,               /* N,K */
	    double *sums,               /* 2, host */
	    const float *logits,        /* N,K */
	    const uint8_t *labels,      /* N */
	    const float *class_w,       /* K */
	    const uint32_t *sets,       /* 256 or NULL */
	    int N, int K);
	void (*xent_backward)(
	    float *dlogits,             /* N,K  (=) */
	    const float *probs,         /* N,K */
	    const uint8_t *labels,      /* N */
	    const float *class_w,       /* K */
	    const uint32_t *sets,       /* 256 or NULL */
	    float scale, int N, int K);
	/* Softmax alone, for inference. */
	void (*softmax_forward)(
	    float *probs,               /* N,K */
	    const float *logits,        /* N,K */
	    int N, int K);

	// --- Adam with bias correction and decoupled weight decay -----------
	// t is the 1-based step number.  p -= lr * (mhat/(sqrt(vhat)+eps) +
	// wd * p), as PyTorch's AdamW.
	void (*adam_update)(
	    float *p,                   /* n */
	    float *m,                   /* n */
	    float *v,                   /* n */
	    const float *g,             /* n */
	    size_t n, float lr, float beta1, float beta2, float eps,
	    float wd, long t);

	// --- y += x ---------------------------------------------------------
	void (*add)(float *y, const float *x, size_t n);
};

#endif
