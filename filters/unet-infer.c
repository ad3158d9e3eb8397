/*
 * unet-infer - segment images with a trained U-Net.
 *
 * Reads PPM images (or RGB_LABEL tiles, whose picture planes are used) and
 * writes one PGM class map per image: each pixel the class of highest
 * probability.  Images of the model's input size go through the network
 * as they are, in batches.  Larger (or smaller) images, such as whole
 * smears, are cut into overlapping windows of the input size; the class
 * probabilities of the windows are blended with weights that fall off
 * towards each window's edge, so that no seam shows where windows meet,
 * and only then decoded.  Parts of a window outside the image are filled
 * with the training mean colour.
 *
 * --tta runs every window eight times, in each of the square's flips and
 * quarter turns (the dihedral group), maps each prediction back and
 * blends all eight with the same weights: test-time augmentation, as
 * nnU-Net's mirroring, at eight times the work.
 *
 * Several -m models make an ensemble: every window goes through each of
 * them and their probabilities are averaged before the blend, at the work
 * of all of them together.  Their windows must be of one size; each model
 * brings its own input normalisation.
 *
 * --probs writes the blended probabilities of every image as one float32
 * .npy array (images, height, width, classes); the images must then share
 * one size.  Output is spooled: nothing is written unless every image
 * was read cleanly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic.h"
#include "classes.h"
#include "cli.h"
#include "image.h"
#include "model.h"
#include "npy.h"
#include "nn/backend.h"
#include "paths.h"
#include "threads.h"
#include "util.h"

#define MAX_MODELS 16

struct cmdline {
	const char *model[MAX_MODELS], *input, *probs, *device;
	int nmodels;
	int batch, threads, overlap, quiet, tta, precision;
};

static const struct cli_info info = {
	"unet-infer",
	"[-m model]... [-b batch] [-j threads] [-O overlap]\n"
	"       [-p probs.npy] [-t] [file]",
	"Segment images (PPM, or RGB_LABEL tiles) with a trained U-Net; writes\n"
	"one PGM class map per image.  Images larger than the model's input\n"
	"are segmented in overlapping windows whose probabilities are blended.\n"
	"\n"
	"  -m, --model FILE     the model (safetensors, from unet-train;\n"
	"                       default: the shipped models/default.safetensors);\n"
	"                       several -m: an ensemble, their probabilities\n"
	"                       averaged (each one more pass of the network)\n"
	"  -b, --batch B        windows per forward pass (default 8)\n"
	"  -j, --threads T      CPU threads (default: all processors)\n"
	"  -O, --overlap PX     overlap of neighbouring windows (default 1/4\n"
	"                       of the input size)\n"
	"  -p, --probs FILE     also write the class probabilities as .npy\n"
	"                       (images, height, width, classes), float32\n"
	"  -t, --tta            average each window over its 8 flips and\n"
	"                       quarter turns (8 times slower)\n"
	"  -d, --device NAME    cpu (default), or cuda where built\n"
	"      --precision P    GEMM arithmetic: fp32 (default), tf32, bf16\n"
	"                       (the last two for cuda)\n"
	"  -q, --quiet          no progress on standard error\n"
	"  -h, --help           this help\n"
	"      --version        print the version\n",
};

static void
parse_cmdline(int argc, char **argv, struct cmdline *cmd)
{
	static const struct option opts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "batch", required_argument, NULL, 'b' },
		{ "threads", required_argument, NULL, 'j' },
		{ "overlap", required_argument, NULL, 'O' },
		{ "probs", required_argument, NULL, 'p' },
		{ "device", required_argument, NULL, 'd' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "tta", no_argument, NULL, 't' },
		{ "precision", required_argument, NULL, 0x2000 },
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int c;

	cli_begin(argc, argv, &info);
	memset(cmd, 0, sizeof *cmd);
	cmd->batch = 8;
	cmd->threads = threads_online();
	cmd->overlap = -1;
	cmd->device = "cpu";
	while ((c = getopt_long(argc, argv, ":hm:b:j:O:p:d:qt", opts, NULL))
	    != -1)
		switch (c) {
		case 'm':
			if (cmd->nmodels == MAX_MODELS)
				cli_usage("-m: at most %d models", MAX_MODELS);
			cmd->model[cmd->nmodels++] = optarg;
			break;
		case 'b':
			cmd->batch = xstrtol(optarg, 1, 1024, "batch");
			break;
		case 'j':
			cmd->threads = xstrtol(optarg, 1, 1024, "threads");
			break;
		case 'O':
			cmd->overlap = xstrtol(optarg, 0, 100000, "overlap");
			break;
		case 'p': cmd->probs = optarg; break;
		case 'd': cmd->device = optarg; break;
		case 'q': cmd->quiet = 1; break;
		case 't': cmd->tta = 1; break;
		case 0x2000:
			if ((cmd->precision = nn_precision_lookup(optarg)) < 0)
				cli_usage("--precision: '%s' is not fp32, tf32 "
				    "or bf16", optarg);
			break;
		default:
			cli_common(c);
		}
	cli_max_operands(argc, optind, 1);
	if (cmd->nmodels == 0)
		cmd->model[cmd->nmodels++] =
		    share_path("models/default.safetensors");
	cmd->input = optind < argc ? argv[optind] : "-";
	if (cmd->probs != NULL && strcmp(cmd->probs, "-") == 0)
		cli_usage("--probs needs a file name (the maps go to standard "
		    "output)");
	if (cmd->probs != NULL)
		atomic_check(cmd->probs);
}

// --- windows -----------------------------------------------------------------

/* An image waiting for its windows, with the running blend. */
struct pending {
	struct img im;
	float *acc;             /* h,w,K: weighted probability sums */
	float *wsum;            /* h,w: sum of weights */
	int left;               /* windows not yet run */
};

struct job {
	int slot;               /* index into the pending ring */
	int x0, y0;             /* window origin in the image */
	int t;                  /* dihedral transform, 0 = none (see below) */
};

struct infer {
	struct cmdline cmd;
	struct unet *net[MAX_MODELS];
	struct model_info norm[MAX_MODELS];
	int S, K, B;            /* window size, classes, batch */
	int stride;
	float *x, *probs;       /* B,S,S,3 and B,S,S,K */
	float *mean;            /* B,S,S,K: the models' mean probabilities */
	float *wwin;            /* S,S blend weights */
	struct pending *ring;   /* images in reading order */
	int nring, cap, head;   /* head: first image not yet written */
	struct job *jobs;
	int njobs;
	FILE *out;
	float *allprobs;        /* for --probs: n,h,w,K */
	size_t nall;
	int done;
};

/* Window origins along a side of LEN: 0, stride, ..., with the last
 * window flush with the far edge. */
static int
origins(int len, int S, int stride, int *o)
{
	int n = 0, p;

	if (len <= S) {
		o[0] = 0;
		return 1;
	}
	for (p = 0; p + S < len; p += stride)
		o[n++] = p;
	o[n++] = len - S;
	return n;
}

/* The window pixel that the network sees at (Y, X) under dihedral
 * transform T of the S x S window: bit 0 mirrors x, bit 1 mirrors y,
 * bit 2 transposes; the eight values are the eight symmetries of the
 * square.  The network's output at (Y, X) belongs to that pixel too. */
static void
dihedral(int t, int S, int y, int x, int *wy, int *wx)
{
	int u = t & 2 ? S - 1 - y : y, v = t & 1 ? S - 1 - x : x;

	*wy = t & 4 ? v : u;
	*wx = t & 4 ? u : v;
}

/* Blend weights: a pyramid, 1 at the centre falling linearly to a small
 * floor at the border, so that a pixel takes most from the window that
 * sees it best centred. */
static void
make_window(float *w, int S)
{
	for (int y = 0; y < S; y++)
		for (int x = 0; x < S; x++) {
			int dx = x < S - 1 - x ? x : S - 1 - x;
			int dy = y < S - 1 - y ? y : S - 1 - y;
			int d = dx < dy ? dx : dy;
			w[y * S + x] = (d + 1.0f) / (S / 2.0f);
			if (w[y * S + x] > 1)
				w[y * S + x] = 1;
		}
}

/* Write the finished image at the head of the ring. */
static void
finish(struct infer *f, struct pending *p)
{
	int w = p->im.width, h = p->im.height, K = f->K;
	struct img map;
	size_t i;

	img_alloc(&map, w, h, IMG_GRAY);
	for (i = 0; i < (size_t)w * h; i++) {
		float *a = p->acc + i * K, inv = 1 / p->wsum[i];
		int best = 0;
		for (int c = 0; c < K; c++) {
			a[c] *= inv;
			if (a[c] > a[best])
				best = c;
		}
		map.data[i] = (unsigned char)best;
	}
	img_write(f->out, "<stdout>", &map);
	img_free(&map);
	if (f->cmd.probs) {
		size_t n = (size_t)w * h * K;
		f->allprobs = xrealloc(f->allprobs, (f->nall + n) *
		    sizeof(float));
		memcpy(f->allprobs + f->nall, p->acc, n * sizeof(float));
		f->nall += n;
	}
	f->done++;
	img_free(&p->im);
	free(p->acc);
	free(p->wsum);
}

/* Fill F->x with the N queued windows, each in its dihedral transform,
 * normalised as model M expects. */
static void
load_windows(struct infer *f, int n, int m)
{
	int S = f->S;
	size_t px = (size_t)S * S;
	const struct model_info *nm = &f->norm[m];

	#pragma omp parallel for schedule(static)
	for (int j = 0; j < n; j++) {
		const struct job *jb = &f->jobs[j];
		const struct img *im = &f->ring[jb->slot].im;
		float *x = f->x + j * px * 3;
		for (int y = 0; y < S; y++)
			for (int xx = 0; xx < S; xx++) {
				int wy, wx;
				dihedral(jb->t, S, y, xx, &wy, &wx);
				int iy = jb->y0 + wy, ix = jb->x0 + wx;
				float *o = x + ((size_t)y * S + xx) * 3;
				if (iy >= im->height || ix >= im->width) {
					o[0] = o[1] = o[2] = 0;
					continue;
				}
				const unsigned char *s = im->data +
				    ((size_t)iy * im->width + ix) * im->depth;
				for (int c = 0; c < 3; c++)
					o[c] = (s[c] - nm->mean[c]) / nm->std[c];
			}
	}
}

/* Run the queued windows through the network (each model of an
 * ensemble, their probabilities averaged) and blend the results. */
static void
run_jobs(struct infer *f)
{
	int S = f->S, K = f->K, n = f->njobs, M = f->cmd.nmodels;
	size_t px = (size_t)S * S;

	if (n == 0)
		return;
	for (int m = 0; m < M; m++) {
		load_windows(f, n, m);
		unet_forward(f->net[m], f->x, n);
		unet_probs(f->net[m], f->probs);
		if (M > 1)
			for (size_t i = 0; i < (size_t)n * px * K; i++)
				f->mean[i] = (m ? f->mean[i] : 0) +
				    f->probs[i] / M;
	}
	const float *probs = M > 1 ? f->mean : f->probs;
	for (int j = 0; j < n; j++) {
		const struct job *jb = &f->jobs[j];
		struct pending *p = &f->ring[jb->slot];
		for (int y = 0; y < S; y++)
			for (int xx = 0; xx < S; xx++) {
				int wy, wx;
				dihedral(jb->t, S, y, xx, &wy, &wx);
				if (jb->y0 + wy >= p->im.height ||
				    jb->x0 + wx >= p->im.width)
					continue;
				size_t o = (size_t)(jb->y0 + wy) * p->im.width +
				    jb->x0 + wx;
				float w = f->wwin[wy * S + wx];
				const float *pr = probs +
				    ((size_t)j * px + (size_t)y * S + xx) * K;
				for (int c = 0; c < K; c++)
					p->acc[o * K + c] += w * pr[c];
				p->wsum[o] += w;
			}
		p->left--;
	}
	f->njobs = 0;
	while (f->head < f->nring && f->ring[f->head].left == 0)
		finish(f, &f->ring[f->head++]);
}

/* Queue the windows of the image just read into ring slot SLOT. */
static void
queue_image(struct infer *f, int slot)
{
	struct pending *p = &f->ring[slot];
	int ox[4096], oy[4096], nx, ny;

	if (p->im.width > 4096 * f->stride || p->im.height > 4096 * f->stride)
		die("%s: image %d is too large (%dx%d)",
		    display_name(f->cmd.input), slot + 1, p->im.width,
		    p->im.height);
	nx = origins(p->im.width, f->S, f->stride, ox);
	ny = origins(p->im.height, f->S, f->stride, oy);
	p->acc = xcalloc((size_t)p->im.width * p->im.height * f->K,
	    sizeof(float));
	p->wsum = xcalloc((size_t)p->im.width * p->im.height, sizeof(float));
	int nt = f->cmd.tta ? 8 : 1;
	p->left = nx * ny * nt;
	for (int j = 0; j < ny; j++)
		for (int i = 0; i < nx; i++)
			for (int t = 0; t < nt; t++) {
				f->jobs[f->njobs++] = (struct job){ slot, ox[i],
				    oy[j], t };
				if (f->njobs == f->B)
					run_jobs(f);
			}
}

int
main(int argc, char **argv)
{
	struct infer f = { 0 };
	struct img_reader r;
	struct st_file sf;
	struct atomic_file probs;
	const struct nn_ops *ops;
	int first_w = 0, first_h = 0;

	parse_cmdline(argc, argv, &f.cmd);
	struct nn_backend_opts bo = { .threads = f.cmd.threads,
	    .precision = f.cmd.precision };
	ops = nn_backend_open(f.cmd.device, &bo);
	f.B = f.cmd.batch;
	for (int m = 0; m < f.cmd.nmodels; m++) {
		const char *name = f.cmd.model[m];
		f.net[m] = model_read(name, f.B, 0, ops, &sf, &f.norm[m]);
		st_free(&sf);
		const struct unet_arch *a = &f.net[m]->arch;
		if (a->input_h != a->input_w)
			die("%s: the model's input is %dx%d; only square "
			    "inputs are supported", name, a->input_w,
			    a->input_h);
		if (m > 0 && a->input_w != f.S)
			die("%s: the model's input is %dx%d, %s's %dx%d: an "
			    "ensemble needs one window size", name,
			    a->input_w, a->input_h, f.cmd.model[0], f.S, f.S);
		f.S = a->input_w;
		f.K = a->classes;
	}
	if (f.cmd.overlap < 0)
		f.cmd.overlap = f.S / 4;
	if (f.cmd.overlap >= f.S)
		die("overlap %d must be less than the window size %d",
		    f.cmd.overlap, f.S);
	f.stride = f.S - f.cmd.overlap;
	f.x = nn_host_alloc(ops, (size_t)f.B * f.S * f.S * 3 * sizeof(float));
	f.probs = nn_host_alloc(ops, (size_t)f.B * f.S * f.S * f.K *
	    sizeof(float));
	if (f.cmd.nmodels > 1)
		f.mean = xmalloc_array((size_t)f.B * f.S * f.S * f.K,
		    sizeof(float));
	f.wwin = xmalloc_array((size_t)f.S * f.S, sizeof(float));
	make_window(f.wwin, f.S);
	f.jobs = xmalloc_array(f.B, sizeof *f.jobs);
	f.out = spool_open();

	img_open(&r, f.cmd.input);
	for (;;) {
		if (f.nring == f.cap) {
			f.cap = f.cap ? 2 * f.cap : 16;
			f.ring = xrealloc(f.ring, f.cap * sizeof *f.ring);
		}
		memset(&f.ring[f.nring], 0, sizeof f.ring[0]);
		if (!img_read(&r, &f.ring[f.nring].im, IMG_RGB | IMG_LABEL))
			break;
		const struct img *im = &f.ring[f.nring].im;
		if (f.cmd.probs && f.nring > 0 &&
		    (im->width != first_w || im->height != first_h))
			die("%s: image %d is %dx%d, image 1 %dx%d: --probs "
			    "needs one size", r.name, r.count, im->width,
			    im->height, first_w, first_h);
		first_w = f.nring ? first_w : im->width;
		first_h = f.nring ? first_h : im->height;
		queue_image(&f, f.nring++);
		if (!f.cmd.quiet && isatty(2))
			fprintf(stderr, "\r%s: %d images", argv0, f.done);
	}
	run_jobs(&f);
	img_close(&r);
	if (!f.cmd.quiet && isatty(2))
		fprintf(stderr, "\r%s: %d images\n", argv0, f.done);
	/* the probabilities go to their temporary file, which is renamed
	 * into place only once the maps have reached stdout: a failure of
	 * either leaves no probabilities file behind */
	if (f.cmd.probs) {
		struct tensor t = { .dtype = DTYPE_F32, .ndim = 4,
		    .shape = { f.done, first_h, first_w, f.K },
		    .data = f.allprobs };
		npy_write_stream(atomic_open(&probs, f.cmd.probs), f.cmd.probs,
		    &t);
	}
	spool_commit(f.out, stdout, "<stdout>");
	if (f.cmd.probs)
		atomic_commit(&probs);
	for (int m = 0; m < f.cmd.nmodels; m++)
		unet_free(f.net[m]);
	free(f.mean);
	nn_host_free(ops, f.x);
	nn_host_free(ops, f.probs);
	nn_backend_close(ops);
	return 0;
}
