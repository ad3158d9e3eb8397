/*
 * adam.h - the optimizer: AdamW (Loshchilov and Hutter, 2019) on a U-Net's
 * parameter buffer.
 *
 * Its hyper-parameters are its own settings, given to adam_init(): a
 * training run takes them from the train: section of its config
 * (config.h), a test from its fixture.  The moments live in backend
 * memory beside the parameters, one float each, in the parameters' order,
 * so that a checkpoint stores each as one tensor.  Weight decay is
 * decoupled from the gradient and applies only to the tensors that the
 * network marks (conv weights, not biases or norm scales).
 */
#ifndef SMEARSEG_NN_ADAM_H
#define SMEARSEG_NN_ADAM_H

struct unet;

struct adam_settings {
	float beta1, beta2;     /* moment decay rates (0.9, 0.999) */
	float eps;              /* added to the root of the second moment */
	float weight_decay;     /* decoupled, on tensors marked for it */
};

struct adam {
	float *m, *v;           /* nparams each, backend memory */
	long t;                 /* steps taken */
	struct adam_settings s;
};

/* Zeroed moments sized for NET, hyper-parameters S. */
void adam_init(struct adam *opt, const struct unet *net,
    const struct adam_settings *s);
void adam_free(struct adam *opt, const struct unet *net);
/* One AdamW step on net->params from net->grads with learning rate LR;
 * weight decay only on tensors with decay set. */
void adam_step(struct adam *opt, struct unet *net, float lr);

#endif
