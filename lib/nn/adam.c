/*
 * adam.c - AdamW over the parameter table (adam.h).
 *
 * One backend update per parameter tensor, so that each gets the weight
 * decay its table entry asks for; the update itself (bias-corrected
 * moments, then the decoupled decay) is the backend's adam_update.
 */
#include <string.h>

#include "nn/adam.h"
#include "nn/unet.h"

void
adam_init(struct adam *opt, const struct unet *net,
    const struct adam_settings *s)
{
	memset(opt, 0, sizeof(*opt));
	opt->m = net->ops->alloc(net->nparams * sizeof(float));
	opt->v = net->ops->alloc(net->nparams * sizeof(float));
	opt->s = *s;
}

void
adam_free(struct adam *opt, const struct unet *net)
{
	net->ops->free(opt->m);
	net->ops->free(opt->v);
	opt->m = opt->v = NULL;
}

void
adam_step(struct adam *opt, struct unet *net, float lr)
{
	const struct adam_settings *s = &opt->s;

	opt->t++;
	for (int i = 0; i < net->nptab; i++) {
		const struct unet_param *p = &net->ptab[i];
		net->ops->adam_update(net->params + p->off, opt->m + p->off,
		    opt->v + p->off, net->grads + p->off, p->n, lr, s->beta1,
		    s->beta2, s->eps, p->decay ? s->weight_decay : 0, opt->t);
	}
}
