/*
 * unet.h - the U-Net: parameters, activations, forward and backward.
 *
 * Architecture (struct unet_arch, config.h): for each level l of widths[],
 * convs 3x3 convs (each followed by the optional GroupNorm and the
 * activation), the last of which is the level's skip output, then a 2x2
 * max-pool; convs 3x3 convs at the bottleneck width; then for l = L-1 .. 0
 * a 2x2 stride-2 transposed conv to widths[l] (with the activation) and
 * convs 3x3 convs, the first on the concat [upsampled, skip]; finally a
 * 1x1 head to the class logits.  With
 * widths 32-64-128-256, bottleneck 512, leaky ReLU 0.1 and no norm this is
 * the reference network (7,760,394 parameters for 10 classes).
 *
 * The optional normalisation is GroupNorm (Wu and He, 2018) after each 3x3
 * conv.  Its statistics are per image, so it behaves the same at a batch
 * of 1 or 2 images per rank (where BatchNorm's batch statistics are too
 * noisy), the same in training and inference (no running averages to
 * drift), and it keeps a data-parallel run on N ranks of batch b equal to
 * one rank of batch N*b, which BatchNorm breaks unless its statistics are
 * synchronised across ranks every layer.
 *
 * Memory: all parameters live in ONE contiguous float buffer and all
 * gradients in another, described by a table of named tensors (llm.c's
 * malloc_and_point_parameters), so a data-parallel gradient average is
 * one MPI_Allreduce over net->grads and a checkpoint is one write.
 * Activations are allocated once by unet_create() for at most max_batch
 * images of the configured size.  A training network keeps every
 * activation that the backward pass reads and two gradient buffers that
 * the layers ping-pong between; an inference network keeps only the skip
 * outputs and two ping-pong buffers.  All buffers are backend memory:
 * read them on the host with net->ops->download().
 *
 * A training step:
 *
 *	loss = unet_forward_loss(net, x, labels, class_w, B);
 *	unet_zero_grad(net);
 *	unet_backward(net, unet_loss_wsum(net));  // or the all-ranks sum
 *	adam_step(&opt, net, lr);
 *
 * Model files and checkpoints are lib/model.h; the optimizer nn/adam.h.
 */
#ifndef SMEARSEG_NN_UNET_H
#define SMEARSEG_NN_UNET_H

#include <stddef.h>
#include <stdint.h>

#include "rng.h"
#include "nn/config.h"
#include "nn/ops.h"

/* How a parameter tensor is stored inside the buffer. */
enum unet_pkind {
	UNET_P_CONV3,           /* [3][3][Cin][Cout]; file [Cout,Cin,3,3] */
	UNET_P_CONV1,           /* [Cin][Cout];       file [Cout,Cin,1,1] */
	UNET_P_CONVT,           /* [Cin][2][2][Cout]; file [Cin,Cout,2,2] */
	UNET_P_VEC              /* [C];               file [C] */
};

/* One named tensor of the parameter buffer. */
struct unet_param {
	char name[32];          /* "enc0.conv0.weight", PyTorch-style */
	enum unet_pkind kind;
	int ndim;
	int64_t shape[4];       /* PyTorch's shape, as stored in files */
	size_t off, n;          /* offset and length in floats */
	int decay;              /* weight decay applies (conv weights) */
};

struct unet_layer;

struct unet {
	struct unet_arch arch;
	const struct nn_ops *ops;
	int max_batch, train;

	// parameters and gradients: one buffer each, described by ptab
	int nptab;
	struct unet_param *ptab;
	size_t nparams;
	float *params;          /* nparams */
	float *grads;           /* nparams (training only) */

	// layers and activations (see unet.c)
	int nlayers;
	struct unet_layer *layers;
	float *x;               /* B,H,W,Cin */
	float *pool[UNET_MAX_LEVELS];   /* B,H>>(l+1),W>>(l+1),widths[l] */
	float *logits;          /* B,H,W,K */
	float *probs;           /* B,H,W,K */
	uint8_t *labels;        /* B,H,W */
	float *class_w;         /* K */
	uint32_t *sets;         /* 256: partial labels' class sets, or NULL */
	uint32_t host_sets[256];        /* ... as set by unet_set_partial */
	float *gbuf[2];         /* activation gradients, ping-pong */
	size_t act_bytes;       /* backend memory for activations */
	int B;                  /* batch of the last forward pass */
	int have_loss;          /* probs and labels belong to that pass */
	double sums[2];         /* sum w*CE and sum w of the last loss */
	/* If set, unet_backward calls it after each layer with OFF such
	 * that grads[OFF..nparams) are final (the layers' parameters lie
	 * in layer order, and the backward pass visits them from the last):
	 * the data-parallel layer starts averaging them from there. */
	void (*grad_ready)(size_t off);
};

/* Build the network ARCH for batches of at most MAX_BATCH images of
 * arch->input_h x arch->input_w on backend OPS (NULL: CPU).  TRAIN
 * allocates what the backward pass needs; otherwise only inference. */
struct unet *unet_create(const struct unet_arch *arch, int max_batch,
    int train, const struct nn_ops *ops);
void unet_free(struct unet *net);

/* He-normal conv weights (fan-in, leaky-ReLU gain), zero biases, unit
 * norm scales; the 1x1 head gets variance 1/fan-in. */
void unet_init_params(struct unet *net, struct rng *r);

/* The parameter tensor called NAME, or NULL. */
const struct unet_param *unet_param_find(const struct unet *net,
    const char *name);

// --- forward and backward ---------------------------------------------------

/* Logits for B images X (host, B,H,W,Cin, NHWC) into net->logits. */
void unet_forward(struct unet *net, const float *x, int B);
/* Softmax of the last forward pass, downloaded to host PROBS (B,H,W,K). */
void unet_probs(struct unet *net, float *probs);
/* Forward pass and loss for host X (B,H,W,Cin), LABELS (B,H,W; class
 * index, a partial label set by unet_set_partial, or 255 = ignore) and
 * CLASS_W (K; NULL = all ones).  Returns the weighted mean cross-entropy
 * (loss.c), 0 if no pixel is scored. */
float unet_forward_loss(struct unet *net, const float *x,
    const uint8_t *labels, const float *class_w, int B);
/* Partial labels for the loss: label value V (K..254) stands for any
 * class in the bit set SETS[V] (see nn_ops.xent_forward); SETS (256
 * entries, those below K and 255 unused) NULL clears them.  Until set,
 * every label must be a class or 255. */
void unet_set_partial(struct unet *net, const uint32_t *sets);
/* The skip output of encoder level L (B, H>>L, W>>L, widths[L]) of the
 * last forward pass, in backend memory: the max-pool's input. */
const float *unet_skip(const struct unet *net, int l);
/* The loss's denominator, sum of class_w over the scored pixels of the
 * last batch. */
double unet_loss_wsum(const struct unet *net);
void unet_zero_grad(struct unet *net);
/* After unet_forward_loss(): add the gradient of (sum w*CE) / WSUM to
 * net->grads.  WSUM is unet_loss_wsum() for this batch alone, or its sum
 * over all ranks (or micro-batches) so that the result equals one big
 * batch. */
void unet_backward(struct unet *net, double wsum);

#endif
