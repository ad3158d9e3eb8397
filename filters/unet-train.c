/*
 * unet-train - train the U-Net on labelled tiles.
 *
 * Reads RGB_LABEL tile streams (training and validation), builds the
 * network from a YAML config, and trains it with Adam under the config's
 * learning-rate schedule, with class weights against the class imbalance
 * and random flips, quarter turns, zoom and colour / stain jitter.  After
 * every epoch it scores the validation tiles (pixel accuracy, mean IoU),
 * writes the best model so far to --out, and with --checkpoint-dir an
 * atomic checkpoint (weights, Adam state, RNG state, epoch, history) from
 * which --resume continues exactly.  Progress goes to standard error, one
 * JSON object per epoch to the log.
 *
 * Data parallel: under `mpirun -np N` every rank holds the tiles and a
 * model replica; rank r trains on its slice of each global batch of N*B
 * tiles, and the gradients are averaged each step (mpi/comm.h).  The data
 * order and each tile's augmentation depend only on the tile's place in the
 * global batch, so N ranks at batch B follow the same path as one rank at
 * batch N*B.  Rank 0 alone logs and writes files.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "classes.h"
#include "cli.h"
#include "comm.h"
#include "metrics.h"
#include "model.h"
#include "nn/adam.h"
#include "rng.h"
#include "threads.h"
#include "tileset.h"
#include "util.h"

struct cmdline {
	const char *config, *train, *val, *out;
	const char *ckpt_dir, *resume, *log, *device;
	const char *init;       /* --init: starting weights */
	int epochs, batch, threads, quiet, half;
	double bucket_mb;       /* allreduce bucket under MPI; 0: one */
	struct kv meta;         /* --meta KEY=VALUE pairs */
	long long seed;         /* -1: from the config */
};

static const struct cli_info info = {
	"unet-train",
	"-c config -t train.pam -v val.pam -o model.safetensors\n"
	"                  [-e epochs] [-b batch] [-s seed] [-j threads]\n"
	"                  [-C checkpoint-dir] [-r resume-dir] [-i model] [-l log]\n"
	"                  [-q]",
	"Train the U-Net on labelled tiles (PAM RGB_LABEL streams).\n"
	"\n"
	"  -c, --config FILE        network and training settings (YAML)\n"
	"  -t, --train FILE         training tiles\n"
	"  -v, --val FILE           validation tiles, scored every epoch\n"
	"  -o, --out FILE           the best model by validation mean IoU\n"
	"  -e, --epochs N           total epochs (a resumed run continues to N)\n"
	"  -b, --batch B            tiles per step (per rank under MPI)\n"
	"  -s, --seed S             seed for initialisation, order, augmentation\n"
	"  -j, --threads T          CPU threads (default 1 per rank)\n"
	"  -C, --checkpoint-dir DIR write DIR/checkpoint.safetensors every epoch\n"
	"  -r, --resume DIR         continue from DIR/checkpoint.safetensors\n"
	"  -i, --init MODEL         start from MODEL's weights and input\n"
	"                           normalisation (fine-tuning); the config's\n"
	"                           model: must match MODEL's architecture\n"
	"  -l, --log FILE           append one JSON object per epoch\n"
	"                           (default DIR/train.jsonl with -C)\n"
	"      --half               write --out with F16 weights\n"
	"      --meta KEY=VALUE     add KEY to the model's metadata (repeat for\n"
	"                           more; give them again when resuming)\n"
	"      --bucket-mb MB       under MPI, average the gradients in buckets\n"
	"                           of MB megabytes while the backward pass runs\n"
	"                           (default 4; 0: one allreduce after it)\n"
	"  -d, --device NAME        cpu (default)\n"
	"  -q, --quiet              no progress on standard error\n"
	"  -h, --help               this help\n"
	"      --version            print the version\n",
};

enum { OPT_HALF = 0x2000, OPT_BUCKET, OPT_META };

/* 1 if --meta may set KEY: not a key that the file format or unet-train
 * writes itself. */
static int
meta_key_free(const char *key)
{
	static const char *const own[] = { "format", "format_version",
	    "unet.config", "classes", "input.mean", "input.std", "pixel_scale",
	    "class_weights", "class_weights.scheme" };

	if (strncmp(key, "training.", 9) == 0 || strncmp(key, "adam.", 5) == 0
	    || strncmp(key, "checkpoint.", 11) == 0)
		return 0;
	for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
		if (strcmp(key, own[i]) == 0)
			return 0;
	return 1;
}

static void
parse_cmdline(int argc, char **argv, struct cmdline *cmd)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "train", required_argument, NULL, 't' },
		{ "val", required_argument, NULL, 'v' },
		{ "out", required_argument, NULL, 'o' },
		{ "epochs", required_argument, NULL, 'e' },
		{ "batch", required_argument, NULL, 'b' },
		{ "seed", required_argument, NULL, 's' },
		{ "threads", required_argument, NULL, 'j' },
		{ "checkpoint-dir", required_argument, NULL, 'C' },
		{ "resume", required_argument, NULL, 'r' },
		{ "init", required_argument, NULL, 'i' },
		{ "log", required_argument, NULL, 'l' },
		{ "device", required_argument, NULL, 'd' },
		{ "half", no_argument, NULL, OPT_HALF },
		{ "bucket-mb", required_argument, NULL, OPT_BUCKET },
		{ "meta", required_argument, NULL, OPT_META },
		{ "quiet", no_argument, NULL, 'q' },
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int c;

	cli_begin(argc, argv, &info);
	memset(cmd, 0, sizeof *cmd);
	cmd->seed = -1;
	cmd->threads = 1;
	cmd->device = "cpu";
	cmd->bucket_mb = 4;
	while ((c = getopt_long(argc, argv, ":hc:t:v:o:e:b:s:j:C:r:i:l:d:q",
	    opts, NULL)) != -1)
		switch (c) {
		case 'c': cmd->config = optarg; break;
		case 't': cmd->train = optarg; break;
		case 'v': cmd->val = optarg; break;
		case 'o': cmd->out = optarg; break;
		case 'e':
			cmd->epochs = xstrtol(optarg, 1, 1000000, "epochs");
			break;
		case 'b':
			cmd->batch = xstrtol(optarg, 1, 4096, "batch");
			break;
		case 's':
			cmd->seed = xstrtol(optarg, 0, 0x7fffffffffffffffL,
			    "seed");
			break;
		case 'j':
			cmd->threads = xstrtol(optarg, 1, 1024, "threads");
			break;
		case 'C': cmd->ckpt_dir = optarg; break;
		case 'r': cmd->resume = optarg; break;
		case 'i': cmd->init = optarg; break;
		case 'l': cmd->log = optarg; break;
		case 'd': cmd->device = optarg; break;
		case OPT_HALF: cmd->half = 1; break;
		case OPT_META: {
			const char *eq = strchr(optarg, '=');
			if (eq == NULL || eq == optarg)
				cli_usage("--meta wants KEY=VALUE, not '%s'",
				    optarg);
			char *key = xmalloc(eq - optarg + 1);
			memcpy(key, optarg, eq - optarg);
			key[eq - optarg] = '\0';
			if (!meta_key_free(key))
				cli_usage("--meta: '%s' is a key of the "
				    "project's own", key);
			kv_set(&cmd->meta, key, "%s", eq + 1);
			free(key);
			break;
		}
		case OPT_BUCKET:
			cmd->bucket_mb = xstrtod(optarg, 0, 1024, "bucket-mb");
			break;
		case 'q': cmd->quiet = 1; break;
		default:
			cli_common(c);
		}
	if (optind < argc)
		cli_usage("unexpected operand '%s'", argv[optind]);
	if (!cmd->config || !cmd->train || !cmd->val || !cmd->out)
		cli_usage("--config, --train, --val and --out are required");
	if (strcmp(cmd->train, "-") == 0 && strcmp(cmd->val, "-") == 0)
		cli_usage("the training and validation tiles cannot both be "
		    "stdin");
	if (cmd->resume && cmd->init)
		cli_usage("--resume and --init cannot be used together (a "
		    "resumed run has its weights)");
	if (cmd->resume && !cmd->ckpt_dir)
		cmd->ckpt_dir = cmd->resume;
}

// --- training state ----------------------------------------------------------

struct trainer {
	struct cmdline cmd;
	struct comm comm;
	struct unet_config cfg;
	struct unet *net;
	struct adam opt;
	struct model_info norm;
	struct tileset train, val;
	float class_w[CLASS_MAX];
	struct rng data_rng;    /* data order; saved in checkpoints */
	int epoch;              /* epochs completed */
	double best_miou;
	int best_epoch;
	char *history;          /* JSON array text of epoch records */
	FILE *log;
	float *x;               /* B,H,W,3 */
	uint8_t *y;             /* B,H,W */
	int tty;
	double train_rate;      /* tiles per second of the last epoch, all
				 * ranks, training steps alone */
};

/*
 * Class weights against the imbalance of the training labels.  Median
 * frequency balancing (Eigen & Fergus 2015): w_c = median(f) / f_c over the
 * classes present, so that the median class has weight 1.  The weights are
 * then clipped to [1/M, M], M = class_weight_max (default 10, so at most
 * 100x between classes; the reference's raw inverse frequencies spanned
 * 772x and made the loss noisy).  inv_sqrt uses sqrt(median / f_c)
 * instead; none gives all 1.  A class absent from the training tiles gets
 * weight M, which only matters if it appears in a batch.
 */
static void
class_weights(struct trainer *t)
{
	uint64_t counts[CLASS_MAX] = { 0 };
	double f[CLASS_MAX], sorted[CLASS_MAX], median, total = 0;
	double wmax = t->cfg.train.class_weight_max;
	int k = t->cfg.model.classes, i, j, np = 0;

	tileset_class_counts(&t->train, k, counts);
	for (i = 0; i < k; i++)
		total += counts[i];
	for (i = 0; i < k; i++) {
		f[i] = total > 0 ? counts[i] / total : 0;
		if (f[i] > 0)
			sorted[np++] = f[i];
	}
	for (i = 1; i < np; i++)        /* insertion sort: k <= 32 */
		for (j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) {
			double s = sorted[j];
			sorted[j] = sorted[j - 1];
			sorted[j - 1] = s;
		}
	median = np == 0 ? 1 : np % 2 ? sorted[np / 2] :
	    (sorted[np / 2 - 1] + sorted[np / 2]) / 2;
	for (i = 0; i < k; i++) {
		double w = 1;
		if (t->cfg.train.class_weights != UNET_CW_NONE) {
			w = f[i] > 0 ? median / f[i] : wmax;
			if (t->cfg.train.class_weights == UNET_CW_INV_SQRT_FREQ)
				w = sqrt(w);
			w = w > wmax ? wmax : w < 1 / wmax ? 1 / wmax : w;
		}
		t->class_w[i] = (float)w;
	}
}

static char *
weights_json(const float *w, int k)
{
	char *s = xmalloc(32 * k + 4);
	size_t len = 0;

	len += sprintf(s, "[");
	for (int i = 0; i < k; i++)
		len += sprintf(s + len, "%s%.9g", i ? ", " : "", w[i]);
	sprintf(s + len, "]");
	return s;
}

static void
ckpt_path(const struct trainer *t, const char *dir, char *buf, size_t n)
{
	(void)t;
	if ((size_t)snprintf(buf, n, "%s/checkpoint.safetensors", dir) >= n)
		die("%s: checkpoint directory name too long", dir);
}

/* Metadata shared by the model and the checkpoint. */
static void
common_meta(const struct trainer *t, struct kv *m)
{
	char *cw = weights_json(t->class_w, t->cfg.model.classes);

	kv_set(m, "class_weights", "%s", cw);
	kv_set(m, "class_weights.scheme", "%s, clipped to [1/%g, %g]",
	    unet_cw_name(t->cfg.train.class_weights),
	    t->cfg.train.class_weight_max, t->cfg.train.class_weight_max);
	kv_set(m, "training.history", "%s", t->history);
	kv_set(m, "training.epochs", "%d", t->epoch);
	kv_set(m, "training.seed", "%llu",
	    (unsigned long long)t->cfg.train.seed);
	kv_set(m, "training.batch", "%d x %d ranks", t->cfg.train.batch,
	    t->comm.size);
	kv_set(m, "training.tiles", "%d train, %d val", t->train.n,
	    t->val.n);
	kv_set(m, "training.best_epoch", "%d", t->best_epoch);
	kv_set(m, "training.best_val_mean_iou", "%.6f", t->best_miou);
	for (int i = 0; i < t->cmd.meta.n; i++)
		kv_set(m, t->cmd.meta.key[i], "%s", t->cmd.meta.val[i]);
	free(cw);
}

static void
save_checkpoint(struct trainer *t)
{
	struct tensor ex[3];
	struct kv m = { 0 };
	size_t np = t->net->nparams;
	float *mv = xmalloc_array(2 * np, sizeof *mv);
	char path[4096];

	mkdir(t->cmd.ckpt_dir, 0777);
	ckpt_path(t, t->cmd.ckpt_dir, path, sizeof path);
	t->net->ops->download(mv, t->opt.m, np * sizeof *mv);
	t->net->ops->download(mv + np, t->opt.v, np * sizeof *mv);
	ex[0] = (struct tensor){ .name = "adam.m", .dtype = DTYPE_F32,
	    .ndim = 1, .shape = { (int64_t)np }, .data = mv };
	ex[1] = (struct tensor){ .name = "adam.v", .dtype = DTYPE_F32,
	    .ndim = 1, .shape = { (int64_t)np }, .data = mv + np };
	ex[2] = (struct tensor){ .name = "rng.data", .dtype = DTYPE_U8,
	    .ndim = 1, .shape = { sizeof t->data_rng }, .data = &t->data_rng };
	common_meta(t, &m);
	kv_set(&m, "checkpoint.epoch", "%d", t->epoch);
	kv_set(&m, "adam.t", "%ld", t->opt.t);
	kv_set(&m, "training.best_val_mean_iou.exact", "%.17g", t->best_miou);
	model_write(path, t->net, 0, &t->norm, ex, 3, &m);
	kv_free(&m);
	free(mv);
}

/* Restore weights, Adam state, RNG, epoch, history and the best score
 * from DIR/checkpoint.safetensors. */
static void
load_checkpoint(struct trainer *t, const char *dir)
{
	struct st_file f;
	const struct tensor *m, *v, *r;
	const char *s;
	char path[4096];
	size_t np;

	ckpt_path(t, dir, path, sizeof path);
	t->net = model_read(path, t->cfg.train.batch, 1,
	    nn_ops_get(t->cmd.device), &f, &t->norm);
	/* the checkpoint holds the architecture; the training settings
	 * (Adam, schedule, augmentation) come from the config */
	char *d = unet_arch_diff(&t->net->arch, &t->cfg.model);
	if (d != NULL)
		die("%s: its model differs from the one in %s (%s)", path,
		    t->cmd.config, d);
	np = t->net->nparams;
	m = st_find(&f, "adam.m");
	v = st_find(&f, "adam.v");
	r = st_find(&f, "rng.data");
	if (!m || !v || !r || m->dtype != DTYPE_F32 ||
	    v->dtype != DTYPE_F32 || tensor_numel(m) != np ||
	    tensor_numel(v) != np || tensor_nbytes(r) != sizeof t->data_rng)
		die("%s: not a checkpoint (optimizer or RNG state missing or "
		    "of the wrong size)", path);
	adam_init(&t->opt, t->net, &t->cfg.train.adam);
	t->net->ops->upload(t->opt.m, m->data, np * sizeof(float));
	t->net->ops->upload(t->opt.v, v->data, np * sizeof(float));
	memcpy(&t->data_rng, r->data, sizeof t->data_rng);
	if (!(s = st_meta(&f, "checkpoint.epoch")))
		die("%s: no 'checkpoint.epoch' in the metadata", path);
	t->epoch = (int)xstrtol(s, 0, 1000000, "checkpoint.epoch");
	if (!(s = st_meta(&f, "adam.t")))
		die("%s: no 'adam.t' in the metadata", path);
	t->opt.t = xstrtol(s, 0, 0x7fffffffffffffffL, "adam.t");
	if (!(s = st_meta(&f, "training.best_val_mean_iou.exact")))
		die("%s: no best score in the metadata", path);
	t->best_miou = xstrtod(s, -1, 2, "best mean IoU");
	if ((s = st_meta(&f, "training.best_epoch")))
		t->best_epoch = (int)xstrtol(s, 0, 1000000, "best epoch");
	if (!(s = st_meta(&f, "class_weights")) ||
	    !parse_float_array(s, t->class_w, t->cfg.model.classes))
		die("%s: metadata 'class_weights' is missing or malformed",
		    path);
	free(t->history);
	t->history = xstrdup((s = st_meta(&f, "training.history")) ? s :
	    "[]");
	st_free(&f);
}

// --- one epoch ---------------------------------------------------------------

/* Fill the batch buffers with tiles PERM[first .. first+n) of the global
 * order, each augmented from its own stream of EPOCH_RNG keyed by its
 * global position, so that the result does not depend on the ranks. */
static void
fill_batch(struct trainer *t, const uint32_t *perm, size_t first, int n,
    const struct rng *epoch_rng)
{
	const struct unet_arch *a = &t->cfg.model;
	size_t px = (size_t)a->input_h * a->input_w;

	#pragma omp parallel for schedule(static)
	for (int j = 0; j < n; j++) {
		struct rng r;
		rng_split(epoch_rng, &r, first + j);
		tile_to_input(t->x + j * px * 3, t->y + j * px,
		    tileset_tile(&t->train, perm[first + j]), a->input_w,
		    a->input_h, t->norm.mean, t->norm.std, &t->cfg.augment,
		    &r);
	}
}

static void
progress(const struct trainer *t, int step, int steps, double loss,
    double t0, int final)
{
	int width = 30, done = steps ? (int)((long)width * step / steps) : 0;
	double dt = now_seconds() - t0;
	double ips = dt > 0 ? (double)step * t->cfg.train.batch *
	    t->comm.size / dt : 0;

	if (t->cmd.quiet || t->comm.rank != 0 || (!t->tty && !final))
		return;
	fprintf(stderr, "%sepoch %d/%d [%.*s%*s] %d/%d loss %.4f %.2f img/s",
	    t->tty ? "\r" : "", t->epoch + 1, t->cfg.train.epochs, done,
	    "==============================", width - done, "", step, steps,
	    loss, ips);
	if (final)
		fputc('\n', stderr);
	fflush(stderr);
}

/* Train one epoch; returns the mean training loss. */
static double
train_epoch(struct trainer *t)
{
	int b = t->cfg.train.batch, nr = t->comm.size, n = t->train.n;
	int steps = n / (b * nr), s;
	uint32_t *perm = xmalloc_array(n, sizeof *perm);
	struct rng epoch_rng;
	double sum = 0, t0 = now_seconds();

	for (int i = 0; i < n; i++)
		perm[i] = i;
	rng_shuffle(&t->data_rng, perm, n);
	rng_split(&t->data_rng, &epoch_rng, (uint64_t)t->epoch);
	for (s = 0; s < steps; s++) {
		size_t first = (size_t)s * b * nr + (size_t)t->comm.rank * b;
		double sums[2];
		float lr;

		fill_batch(t, perm, first, b, &epoch_rng);
		unet_forward_loss(t->net, t->x, t->y, t->class_w, b);
		sums[0] = t->net->sums[0];
		sums[1] = t->net->sums[1];
		comm_allreduce_sum_f64(sums, 2);
		double loss = sums[1] > 0 ? sums[0] / sums[1] : 0;
		if (!isfinite(loss))
			die("the training loss is %g at epoch %d step %d; "
			    "stopped (lower the learning rate?)%s%s", loss,
			    t->epoch + 1, s + 1, t->cmd.ckpt_dir ?
			    "; the last good checkpoint is in " : "",
			    t->cmd.ckpt_dir ? t->cmd.ckpt_dir : "");
		unet_zero_grad(t->net);
		/* each rank's share of the global mean: the average over
		 * ranks then sums the ranks' contributions */
		comm_grads_begin(t->net->grads, t->net->nparams,
		    (size_t)(t->cmd.bucket_mb * (1 << 20) / sizeof(float)));
		unet_backward(t->net, sums[1] > 0 ? sums[1] / nr : 1);
		comm_grads_end();
		lr = unet_train_lr(&t->cfg.train, t->epoch + (double)s / steps);
		adam_step(&t->opt, t->net, lr);
		sum += loss;
		progress(t, s + 1, steps, sum / (s + 1), t0, 0);
	}
	free(perm);
	double dt = now_seconds() - t0;
	t->train_rate = dt > 0 ? (double)steps * b * nr / dt : 0;
	return steps ? sum / steps : 0;
}

struct val_result {
	double loss, acc, miou;
};

/* Score the validation tiles: rank r takes tiles r, r+N, ...; the
 * confusion counts and loss sums are added over the ranks.  The scores are
 * lib/metrics.c's, as seg-eval's, on the argmax of the logits; a mean IoU
 * of nothing scored (NaN) is taken as 0 so that any epoch beats it. */
static void
validate(struct trainer *t, struct val_result *vr)
{
	const struct unet_arch *a = &t->cfg.model;
	int k = a->classes, b = t->cfg.train.batch, i, j, c;
	size_t px = (size_t)a->input_h * a->input_w;
	float *logits = xmalloc_array(b * px * k, sizeof *logits);
	uint8_t *pred = xmalloc_array(b, px);
	double sums[2] = { 0, 0 };
	uint64_t counts[2];
	struct confusion cm;
	int n;

	confusion_init(&cm, k);
	for (i = t->comm.rank; i < t->val.n; ) {
		for (n = 0; n < b && i < t->val.n; n++, i += t->comm.size) {
			tile_to_input(t->x + n * px * 3, t->y + n * px,
			    tileset_tile(&t->val, i), a->input_w, a->input_h,
			    t->norm.mean, t->norm.std, NULL, NULL);
		}
		unet_forward_loss(t->net, t->x, t->y, t->class_w, n);
		sums[0] += t->net->sums[0];
		sums[1] += t->net->sums[1];
		t->net->ops->download(logits, t->net->logits,
		    n * px * k * sizeof *logits);
		for (j = 0; j < n * (int)px; j++) {
			const float *l = logits + (size_t)j * k;
			int best = 0;
			for (c = 1; c < k; c++)
				if (l[c] > l[best])
					best = c;
			pred[j] = (uint8_t)best;
		}
		confusion_add(&cm, t->y, 1, pred, 1, (size_t)n * px, k, 0);
	}
	comm_allreduce_sum_f64(sums, 2);
	comm_allreduce_sum_u64(cm.m, (size_t)k * k);
	counts[0] = cm.pixels;
	counts[1] = cm.unpredicted;
	comm_allreduce_sum_u64(counts, 2);
	cm.pixels = counts[0];
	cm.unpredicted = counts[1];
	vr->loss = sums[1] > 0 ? sums[0] / sums[1] : 0;
	vr->acc = metrics_pixel_accuracy(&cm);
	vr->miou = metrics_mean_iou(&cm);
	if (isnan(vr->acc))
		vr->acc = 0;
	if (isnan(vr->miou))
		vr->miou = 0;
	confusion_free(&cm);
	free(pred);
	free(logits);
}

/* Append one epoch record to the history (and the log). */
static void
record_epoch(struct trainer *t, double train_loss, const struct val_result *vr,
    double lr, double seconds)
{
	char rec[512];
	size_t n = strlen(t->history);

	snprintf(rec, sizeof rec, "{\"epoch\": %d, \"lr\": %.6g, "
	    "\"train_loss\": %.6f, \"val_loss\": %.6f, "
	    "\"val_pixel_accuracy\": %.6f, \"val_mean_iou\": %.6f}",
	    t->epoch, lr, train_loss, vr->loss, vr->acc, vr->miou);
	t->history = xrealloc(t->history, n + strlen(rec) + 4);
	/* "[...]" -> "[..., rec]" */
	snprintf(t->history + n - 1, strlen(rec) + 4, "%s%s]",
	    n > 2 ? ", " : "", rec);
	if (t->log) {
		rec[strlen(rec) - 1] = '\0';
		fprintf(t->log, "%s, \"seconds\": %.3f, "
		    "\"train_tiles_per_s\": %.3f, \"ranks\": %d}\n", rec,
		    seconds, t->train_rate, t->comm.size);
		fflush(t->log);
		if (ferror(t->log))
			die("%s: write error:", t->cmd.log);
	}
}

// --- main --------------------------------------------------------------------

/* Replace T's initial weights and input normalisation by those of the
 * model file PATH, whose architecture must be the config's. */
static void
init_from(struct trainer *t, const char *path, const struct nn_ops *ops)
{
	struct st_file sf;
	struct model_info info;
	struct unet *src = model_read(path, 1, 0, ops, &sf, &info);
	char *d = unet_arch_diff(&src->arch, &t->net->arch);

	if (d != NULL)
		die("%s: its architecture differs from the model: section of "
		    "%s (%s)", path, t->cmd.config, d);
	float *h = xmalloc_array(src->nparams, sizeof *h);
	ops->download(h, src->params, src->nparams * sizeof *h);
	ops->upload(t->net->params, h, src->nparams * sizeof *h);
	free(h);
	t->norm = info;
	unet_free(src);
	st_free(&sf);
}

static void
setup(struct trainer *t)
{
	const struct nn_ops *ops = nn_ops_get(t->cmd.device);
	struct rng init;
	size_t px;

	if (ops == NULL)
		die("unknown device '%s' (this build has: cpu)", t->cmd.device);
	unet_config_load(&t->cfg, t->cmd.config, NULL);
	if (t->cmd.epochs)
		t->cfg.train.epochs = t->cmd.epochs;
	if (t->cmd.batch)
		t->cfg.train.batch = t->cmd.batch;
	if (t->cmd.seed >= 0)
		t->cfg.train.seed = (uint64_t)t->cmd.seed;
	if (t->cfg.model.classes != classes_load(NULL)->n)
		die("%s: the config has %d classes, the class table %d",
		    t->cmd.config, t->cfg.model.classes, classes_load(NULL)->n);

	tileset_load(&t->train, t->cmd.train, t->cfg.model.input_w,
	    t->cfg.model.input_h);
	tileset_load(&t->val, t->cmd.val, t->cfg.model.input_w,
	    t->cfg.model.input_h);
	if (t->train.n < t->cfg.train.batch * t->comm.size)
		die("%s: %d tiles, fewer than one global batch (%d x %d ranks)",
		    t->train.name, t->train.n, t->cfg.train.batch,
		    t->comm.size);

	t->history = xstrdup("[]");
	t->best_miou = -1;
	if (t->cmd.resume) {
		load_checkpoint(t, t->cmd.resume);
	} else {
		class_weights(t);
		tileset_mean_std(&t->train, t->norm.mean, t->norm.std);
		t->net = unet_create(&t->cfg.model, t->cfg.train.batch, 1, ops);
		rng_seed(&init, t->cfg.train.seed ^ 0x9e3779b97f4a7c15ULL);
		unet_init_params(t->net, &init);
		if (t->cmd.init)
			init_from(t, t->cmd.init, ops);
		/* one set of initial weights for every rank */
		float *h = xmalloc_array(t->net->nparams, sizeof *h);
		ops->download(h, t->net->params, t->net->nparams * sizeof *h);
		comm_bcast(h, t->net->nparams * sizeof *h);
		ops->upload(t->net->params, h, t->net->nparams * sizeof *h);
		free(h);
		adam_init(&t->opt, t->net, &t->cfg.train.adam);
		rng_seed(&t->data_rng, t->cfg.train.seed);
	}
	/* the class table's partial labels (a white cell of unknown type)
	 * train by the summed probability of their members */
	const struct class_table *ct = classes_load(NULL);
	uint32_t sets[256] = { 0 };
	for (int k = 0; k < ct->npartial; k++)
		sets[ct->partial[k].index] = ct->partial[k].members;
	unet_set_partial(t->net, sets);
	t->net->grad_ready = comm_grads_ready;  /* buckets start in backward */
	px = (size_t)t->cfg.model.input_h * t->cfg.model.input_w;
	t->x = xmalloc_array((size_t)t->cfg.train.batch * px * 3, sizeof *t->x);
	t->y = xmalloc_array((size_t)t->cfg.train.batch * px, 1);
	t->tty = isatty(2);
	if (t->comm.rank == 0) {
		const char *log = t->cmd.log;
		static char deflt[4096];
		if (log == NULL && t->cmd.ckpt_dir) {
			mkdir(t->cmd.ckpt_dir, 0777);
			snprintf(deflt, sizeof deflt, "%s/train.jsonl",
			    t->cmd.ckpt_dir);
			log = t->cmd.log = deflt;
		}
		if (log && (t->log = fopen(log, "a")) == NULL)
			die("%s:", log);
		if (!t->cmd.quiet)
			fprintf(stderr, "%s: %zu parameters, %d train / %d val "
			    "tiles, batch %d x %d rank%s, %d epochs%s\n", argv0,
			    t->net->nparams, t->train.n, t->val.n,
			    t->cfg.train.batch, t->comm.size, t->comm.size > 1 ?
			    "s" : "", t->cfg.train.epochs, t->cmd.resume ?
			    ", resumed" : "");
	}
}

int
main(int argc, char **argv)
{
	struct trainer t = { 0 };
	struct val_result vr;
	struct kv meta = { 0 };

	parse_cmdline(argc, argv, &t.cmd);
	comm_init(&argc, &argv, &t.comm);
	threads_set(t.cmd.threads);
	setup(&t);
	if (t.epoch >= t.cfg.train.epochs && t.comm.rank == 0 && !t.cmd.quiet)
		warn("the checkpoint has %d epochs already; nothing to do",
		    t.epoch);
	while (t.epoch < t.cfg.train.epochs) {
		double t0 = now_seconds(), loss;
		double lr = unet_train_lr(&t.cfg.train, t.epoch);

		loss = train_epoch(&t);
		validate(&t, &vr);
		if (t.comm.rank == 0 && !t.cmd.quiet) {
			fprintf(stderr, "%sepoch %d/%d: loss %.4f, val loss "
			    "%.4f, val pixel accuracy %.4f, val mean IoU "
			    "%.4f, %.1f s\n", t.tty ? "\r\033[K" : "",
			    t.epoch + 1, t.cfg.train.epochs, loss, vr.loss,
			    vr.acc, vr.miou, now_seconds() - t0);
		}
		t.epoch++;
		if (t.comm.rank == 0)
			record_epoch(&t, loss, &vr, lr, now_seconds() - t0);
		if (vr.miou > t.best_miou) {
			t.best_miou = vr.miou;
			t.best_epoch = t.epoch;
			if (t.comm.rank == 0) {
				common_meta(&t, &meta);
				model_write(t.cmd.out, t.net, t.cmd.half,
				    &t.norm, NULL, 0, &meta);
				kv_free(&meta);
			}
		}
		if (t.cmd.ckpt_dir && t.comm.rank == 0)
			save_checkpoint(&t);
	}
	if (t.log && fclose(t.log) != 0)
		die("%s: write error:", t.cmd.log);
	comm_finalize();
	return 0;
}
