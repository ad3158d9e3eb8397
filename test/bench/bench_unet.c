/*
 * bench_unet.c - training and inference throughput of the C U-Net.
 *
 *	bench_unet [-c config] [-b batch] [-n steps] [-m train|infer|both]
 *
 * Builds the network of CONFIG (default share/unet.yaml) at its input
 * size, fills a batch with random pixels and labels, and times N steps,
 * after two warm-up steps that fault in the buffers, of inference
 * (forward + softmax) and of training (forward, loss, backward, AdamW).
 * Inference runs first, so the peak resident size printed after each
 * phase is that phase's own peak.
 * Threads come from OMP_NUM_THREADS.  Output, one line per measure:
 *
 *	bench: infer_img_per_s V img/s
 *	bench: infer_peak_rss_mb V MB
 *	bench: train_img_per_s V img/s
 *	bench: train_peak_rss_mb V MB
 *
 * test/reference/bench_torch.py measures PyTorch the same way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "rng.h"
#include "util.h"
#include "nn/adam.h"
#include "nn/config.h"
#include "nn/unet.h"

static double
peak_rss_mb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss / 1024.0;   /* Linux: kilobytes */
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_unet [-c config] [-b batch] [-n steps] "
	    "[-m train|infer|both]\n");
	exit(1);
}

int
main(int argc, char **argv)
{
	const char *cfgpath = "share/unet.yaml", *mode = "both";
	int B = 16, steps = 3, c;
	struct unet_config cfg;
	struct rng r;

	setprogname(argv[0]);
	while ((c = getopt(argc, argv, "c:b:n:m:")) != -1) {
		switch (c) {
		case 'c':
			cfgpath = optarg;
			break;
		case 'b':
			B = (int)xstrtol(optarg, 1, 4096, "batch");
			break;
		case 'n':
			steps = (int)xstrtol(optarg, 1, 100000, "steps");
			break;
		case 'm':
			mode = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || (strcmp(mode, "train") && strcmp(mode, "infer") &&
	    strcmp(mode, "both")))
		usage();

	unet_config_load(&cfg, cfgpath, NULL);
	rng_seed(&r, 1);
	size_t npx = (size_t)B * cfg.model.input_h * cfg.model.input_w;
	float *x = xmalloc_array(npx * cfg.model.in_channels, sizeof(float));
	uint8_t *lab = xmalloc(npx);
	for (size_t i = 0; i < npx * cfg.model.in_channels; i++)
		x[i] = (float)rng_uniform(&r) * 2 - 1;
	for (size_t i = 0; i < npx; i++)
		lab[i] = (uint8_t)rng_below(&r, cfg.model.classes);
	fprintf(stderr, "bench_unet: %s, %dx%d, batch %d, %d steps\n",
	    cfgpath, cfg.model.input_h, cfg.model.input_w, B, steps);

	if (strcmp(mode, "train") != 0) {
		struct unet *net = unet_create(&cfg.model, B, 0, NULL);
		float *probs = xmalloc_array(npx * cfg.model.classes,
		    sizeof(float));
		unet_init_params(net, &r);
		double t0 = 0;
		for (int s = 0; s < steps + 2; s++) {
			if (s == 2)
				t0 = now_seconds();
			unet_forward(net, x, B);
			unet_probs(net, probs);
		}
		printf("bench: infer_img_per_s %.3f img/s\n",
		    B * steps / (now_seconds() - t0));
		printf("bench: infer_peak_rss_mb %.0f MB\n", peak_rss_mb());
		fflush(stdout);
		free(probs);
		unet_free(net);
	}
	if (strcmp(mode, "infer") != 0) {
		struct unet *net = unet_create(&cfg.model, B, 1, NULL);
		struct adam opt;
		double t0 = 0;
		unet_init_params(net, &r);
		adam_init(&opt, net, &cfg.train.adam);
		for (int s = 0; s < steps + 2; s++) {
			if (s == 2)
				t0 = now_seconds();
			unet_forward_loss(net, x, lab, NULL, B);
			unet_zero_grad(net);
			unet_backward(net, unet_loss_wsum(net));
			adam_step(&opt, net, 1e-4f);
		}
		printf("bench: train_img_per_s %.3f img/s\n",
		    B * steps / (now_seconds() - t0));
		printf("bench: train_peak_rss_mb %.0f MB\n", peak_rss_mb());
		adam_free(&opt, net);
		unet_free(net);
	}
	free(x);
	free(lab);
	xfshut(stdout, "<stdout>");
	return 0;
}
