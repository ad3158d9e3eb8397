/*
 * bench_unet.c - training and inference throughput of the C U-Net.
 *
 *	bench_unet [-c config] [-b batch] [-n steps] [-m train|infer|both]
 *	    [-d device] [-p fp32|tf32|bf16]
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
 * On another device than the CPU (-d cuda) the lines are named gpu_*
 * and carry the batch, the precision, the device and the model FLOP
 * utilisation: the network's FLOPs (2 per multiply-add of its convs,
 * counted from the architecture; a training step 3 times the forward
 * pass) per second over the device's dense peak for the precision, from
 * the vendor's data sheet (peak_tflops below; unknown devices get none):
 *
 *	bench: gpu_train_img_per_s V img/s batch=B precision=P
 *	    device="cuda 0: NVIDIA H200 (...)" mfu=M% peak=T TFLOP/s
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
#include "nn/backend.h"
#include "nn/profile.h"
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
	    "[-m train|infer|both] [-d device] [-p fp32|tf32|bf16]\n");
	exit(1);
}

/* Multiply-adds times 2 of one image's forward pass (unet.c's layers). */
static double
forward_flops(const struct unet_arch *a)
{
	double f = 0, hw;
	int cin = a->in_channels, w;

	for (int l = 0; l <= a->nlevels; l++) {
		w = l < a->nlevels ? a->widths[l] : a->bottleneck;
		hw = (double)(a->input_h >> l) * (a->input_w >> l);
		for (int k = 0; k < a->convs; k++, cin = w)
			f += 2.0 * 9 * cin * w * hw;
	}
	for (int l = a->nlevels - 1; l >= 0; l--) {
		w = a->widths[l];
		hw = (double)(a->input_h >> l) * (a->input_w >> l);
		f += 2.0 * cin * w * hw;        /* 2x2 stride 2: hw/4 * 4 taps */
		for (int k = 0; k < a->convs; k++)
			f += 2.0 * 9 * (k == 0 ? 2 * w : w) * w * hw;
		cin = w;
	}
	return f + 2.0 * a->widths[0] * a->classes * a->input_h * a->input_w;
}

/* Dense peak TFLOP/s of the device DESC at precision P (SXM data-sheet
 * figures, without sparsity), or 0 if unknown. */
static double
peak_tflops(const char *desc, enum nn_precision p)
{
	static const struct {
		const char *name;
		double fp32, tf32, bf16;
	} t[] = {
		{ "H200", 66.9, 494.7, 989.4 },
		{ "H100", 66.9, 494.7, 989.4 },
		{ "A100", 19.5, 156, 312 },
		{ "L40S", 91.6, 183, 362 },
	};

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (strstr(desc, t[i].name) != NULL)
			return p == NN_PREC_TF32 ? t[i].tf32 : p == NN_PREC_BF16 ?
			    t[i].bf16 : t[i].fp32;
	return 0;
}

/* One result line; on the CPU the old form. */
static void
report(const struct nn_ops *o, const char *what, double ips, int B,
    enum nn_precision p, double flops_per_img)
{
	double peak;

	if (o->host_memory) {
		printf("bench: %s_img_per_s %.3f img/s\n", what, ips);
		return;
	}
	peak = peak_tflops(o->describe(), p);
	printf("bench: gpu_%s_img_per_s %.3f img/s batch=%d precision=%s "
	    "device=\"%s\"", what, ips, B, nn_precision_name(p),
	    o->describe());
	if (peak > 0)
		printf(" mfu=%.1f%% peak=%.1f TFLOP/s\n", 100 * ips *
		    flops_per_img / (peak * 1e12), peak);
	else
		printf(" mfu=unknown (no peak for this device)\n");
}

int
main(int argc, char **argv)
{
	const char *cfgpath = "share/unet.yaml", *mode = "both", *dev = "cpu";
	struct nn_backend_opts bo = { .threads = 1 };
	const struct nn_ops *o;
	int B = 16, steps = 3, c;
	struct unet_config cfg;
	struct rng r;

	setprogname(argv[0]);
	while ((c = getopt(argc, argv, "c:b:n:m:d:p:")) != -1) {
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
		case 'd':
			dev = optarg;
			break;
		case 'p':
			if ((c = nn_precision_lookup(optarg)) < 0)
				usage();
			bo.precision = c;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || (strcmp(mode, "train") && strcmp(mode, "infer") &&
	    strcmp(mode, "both")))
		usage();

	/* threads from OMP_NUM_THREADS, else one per core as OpenMP's */
	bo.threads = getenv("OMP_NUM_THREADS") != NULL ?
	    (int)xstrtol(getenv("OMP_NUM_THREADS"), 1, 1024,
	    "OMP_NUM_THREADS") : (int)sysconf(_SC_NPROCESSORS_ONLN);
	o = nn_backend_open(dev, &bo);
	unet_config_load(&cfg, cfgpath, NULL);
	double fpi = forward_flops(&cfg.model);
	rng_seed(&r, 1);
	size_t npx = (size_t)B * cfg.model.input_h * cfg.model.input_w;
	float *x = nn_host_alloc(o, npx * cfg.model.in_channels *
	    sizeof(float));
	uint8_t *lab = nn_host_alloc(o, npx);
	for (size_t i = 0; i < npx * cfg.model.in_channels; i++)
		x[i] = (float)rng_uniform(&r) * 2 - 1;
	for (size_t i = 0; i < npx; i++)
		lab[i] = (uint8_t)rng_below(&r, cfg.model.classes);
	fprintf(stderr, "bench_unet: %s, %dx%d, batch %d, %d steps\n",
	    cfgpath, cfg.model.input_h, cfg.model.input_w, B, steps);

	if (strcmp(mode, "train") != 0) {
		struct unet *net = unet_create(&cfg.model, B, 0, o);
		float *probs = nn_host_alloc(o, npx * cfg.model.classes *
		    sizeof(float));
		unet_init_params(net, &r);
		double t0 = 0;
		for (int s = 0; s < steps + 2; s++) {
			if (s == 2) {
				o->sync();
				nn_profile_reset();
				t0 = now_seconds();
			}
			unet_forward(net, x, B);
			unet_probs(net, probs);
		}
		report(o, "infer", B * steps / (now_seconds() - t0), B,
		    bo.precision, fpi);
		printf("bench: infer_peak_rss_mb %.0f MB\n", peak_rss_mb());
		fflush(stdout);
		nn_host_free(o, probs);
		unet_free(net);
	}
	if (strcmp(mode, "infer") != 0) {
		struct unet *net = unet_create(&cfg.model, B, 1, o);
		struct adam opt;
		double t0 = 0;
		unet_init_params(net, &r);
		adam_init(&opt, net, &cfg.train.adam);
		for (int s = 0; s < steps + 2; s++) {
			if (s == 2) {
				o->sync();
				nn_profile_reset();
				t0 = now_seconds();
			}
			unet_forward_loss(net, x, lab, NULL, B);
			unet_zero_grad(net);
			unet_backward(net, unet_loss_wsum(net));
			adam_step(&opt, net, 1e-4f);
		}
		o->sync();
		report(o, "train", B * steps / (now_seconds() - t0), B,
		    bo.precision, 3 * fpi);
		printf("bench: train_peak_rss_mb %.0f MB\n", peak_rss_mb());
		adam_free(&opt, net);
		unet_free(net);
	}
	nn_host_free(o, x);
	nn_host_free(o, lab);
	nn_backend_close(o);
	xfshut(stdout, "<stdout>");
	return 0;
}
