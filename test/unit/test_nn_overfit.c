/*
 * test_nn_overfit.c - the tiny U-Net must learn 8 synthetic tiles.
 *
 * Each 32x32 tile is a noisy light background (class 0) with three to five
 * discs of classes 1..4, each class its own colour, and a one-pixel
 * ignored (255) ring around every disc, much like cells on a smear.  Full
 * batch AdamW on share/unet-tiny.yaml must reach 95% pixel accuracy on the
 * scored pixels within 300 steps; the loss must fall and the ignored
 * pixels must not matter.  A failure here, with the gradient and golden
 * tests passing, points at the training loop glue (zeroing, step count,
 * learning rate) rather than at an op.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "util.h"
#include "nn/adam.h"
#include "nn/config.h"
#include "nn/unet.h"
#include "tap.h"

#define NT 8
#define NCLS 5

static const float colour[NCLS][3] = {
	{ 0.85f, 0.80f, 0.85f },        /* background, pale */
	{ 0.60f, 0.10f, 0.15f },        /* dark red */
	{ 0.20f, 0.20f, 0.70f },        /* blue */
	{ 0.55f, 0.45f, 0.80f },        /* lilac */
	{ 0.90f, 0.60f, 0.55f },        /* pink */
};

/* Tile T: image X (S,S,3, in [-1,1]) and labels LAB (S,S). */
static void
make_tile(struct rng *r, int S, float *x, uint8_t *lab)
{
	int nd = 3 + (int)rng_below(r, 3);

	memset(lab, 0, (size_t)S * S);
	for (int d = 0; d < nd; d++) {
		int cls = 1 + (d + (int)rng_below(r, NCLS - 1)) % (NCLS - 1);
		double cy = 4 + rng_uniform(r) * (S - 8);
		double cx = 4 + rng_uniform(r) * (S - 8);
		double rad = 3 + rng_uniform(r) * 4;
		for (int y = 0; y < S; y++)
			for (int xx = 0; xx < S; xx++) {
				double dd = hypot(y - cy, xx - cx);
				if (dd <= rad)
					lab[y * S + xx] = (uint8_t)cls;
				else if (dd <= rad + 1 && lab[y * S + xx] == 0)
					lab[y * S + xx] = NN_IGNORE_LABEL;
			}
	}
	for (int i = 0; i < S * S; i++) {
		int c = lab[i] == NN_IGNORE_LABEL ? 0 : lab[i];
		for (int ch = 0; ch < 3; ch++)
			x[i * 3 + ch] = 2 * (colour[c][ch] +
			    0.05f * rng_normal(r)) - 1;
	}
}

int
main(int argc, char **argv)
{
	struct unet_config cfg;
	struct unet *net;
	struct adam opt;
	struct rng r;

	setprogname(argv[0]);
	unet_config_load(&cfg, "share/unet-tiny.yaml", NULL);
	rng_seed(&r, cfg.train.seed);
	int S = cfg.model.input_h, npx = NT * S * S, K = cfg.model.classes;
	float *x = xmalloc_array((size_t)npx * 3, sizeof(float));
	float *probs = xmalloc_array((size_t)npx * cfg.model.classes,
	    sizeof(float));
	uint8_t *lab = xmalloc(npx);
	for (int t = 0; t < NT; t++)
		make_tile(&r, S, x + (size_t)t * S * S * 3, lab + t * S * S);

	net = unet_create(&cfg.model, NT, 1, NULL);
	unet_init_params(net, &r);
	adam_init(&opt, net, &cfg.train.adam);

	float first = 0, loss = 0, acc = 0;
	int step;
	for (step = 0; step < 300; step++) {
		loss = unet_forward_loss(net, x, lab, NULL, NT);
		if (step == 0)
			first = loss;
		unet_zero_grad(net);
		unet_backward(net, unet_loss_wsum(net));
		adam_step(&opt, net, cfg.train.lr);
		if (step % 25 == 24) {
			// accuracy of the parameters before this step's update
			int ok = 0, n = 0;
			unet_probs(net, probs);
			for (int i = 0; i < npx; i++) {
				const float *p = probs + (size_t)i * K;
				int best = 0;
				if (lab[i] == NN_IGNORE_LABEL)
					continue;
				for (int k = 1; k < K; k++)
					best = p[k] > p[best] ? k : best;
				ok += best == lab[i];
				n++;
			}
			acc = (float)ok / n;
			printf("# step %d loss %.4f pixel accuracy %.4f\n",
			    step + 1, loss, acc);
			if (acc >= 0.99f)
				break;
		}
	}
	tap_ok(loss < 0.5f * first, "loss falls: %.4f -> %.4f", first, loss);
	tap_ok(acc >= 0.95f, "pixel accuracy %.4f >= 0.95 after %d steps",
	    acc, step + 1);

	adam_free(&opt, net);
	unet_free(net);
	free(x), free(probs), free(lab);
	return tap_done();
}
