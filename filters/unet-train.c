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
 *
 * The program is the driver: the config, the network, Adam, the class
 * weights, and the model and checkpoint files are lib's (nn/config.h,
 * nn/unet.h, nn/adam.h, classweights.h, model.h); here are the options,
 * the epoch loop with its data order, and the validation.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "classes.h"
#include "classweights.h"
#include "cli.h"
#include "comm.h"
#include "history.h"
#include "metrics.h"
#include "model.h"
#include "nn/adam.h"
#include "nn/backend.h"
#include "paths.h"
#include "rng.h"
#include "tileset.h"
#include "threads.h"
#include "util.h"

struct cmdline {
	const char *config, *train, *val, *out;
	const char *ckpt_dir, *resume, *log, *device;
	const char *init;       /* --init: starting weights */
	int epochs, batch, threads, quiet, half, precision;
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
	"  -j, --threads T          CPU threads per rank (default: the\n"
	"                           processors, shared by the host's ranks)\n"
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
	"  -d, --device NAME        cpu (default), or cuda where built; under\n"
	"                           MPI each rank takes the GPU of its local\n"
	"                           rank\n"
	"      --precision P        GEMM arithmetic: fp32 (default), tf32, bf16\n"
	"                           (the last two for cuda)\n"
	"  -q, --quiet              no progress on standard error\n"
	"  -h, --help               this help\n"
	"      --version            print the version\n",
};

enum { OPT_HALF = 0x2000, OPT_BUCKET, OPT_META, OPT_PREC };

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
		{ "precision", required_argument, NULL, OPT_PREC },
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
	cmd->threads = 0;               /* after comm_init: the processors */
	cmd->device = "cpu";
	cmd->bucket_mb = 4;
	while ((c = getopt_long(argc, argv, ":hc:t:v:o:e:b:s:j:C:r:i:l:d:q",
	    opts, NULL)) != -1)
		switch (c) {
		case 'c': cmd->config = share_resolve(optarg); break;
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
		case OPT_PREC:
			if ((cmd->precision = nn_precision_lookup(optarg)) < 0)
				cli_usage("--precision: '%s' is not fp32, tf32 "
				    "or bf16", optarg);
			break;
		case OPT_META: {
			const char *eq = strchr(optarg, '='), *why;
			if (eq == NULL || eq == optarg)
				cli_usage("--meta wants KEY=VALUE, not '%s'",
				    optarg);
			char *key = xmalloc(eq - optarg + 1);
			memcpy(key, optarg, eq - optarg);
			key[eq - optarg] = '\0';
			if (!model_meta_key_free(key))
				cli_usage("--meta: '%s' is a key of the "
				    "project's own", key);
			/* named unless the key itself is not text */
			if ((why = st_meta_problem(key, eq + 1)) != NULL &&
			    strstr(why, "key is not") != NULL)
				cli_usage("--meta: %s", why);
			if (why != NULL)
				cli_usage("--meta: '%.40s%s': %s", key,
				    strlen(key) > 40 ? "..." : "", why);
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
	/* the output names, before an epoch is spent */
	atomic_check(cmd->out);
	if (cmd->ckpt_dir != NULL && *cmd->ckpt_dir == '\0')
		cli_usage("--checkpoint-dir needs a directory name, not ''");
	if (cmd->log != NULL && *cmd->log == '\0')
		cli_usage("--log needs a file name, not ''");
}

// --- training state ----------------------------------------------------------

struct trainer {
	struct cmdline cmd;
	struct comm comm;
	const struct nn_ops *ops;       /* the backend, opened once */
	struct comm_device dev;         /* its memory, for the allreduce */
	struct unet_config cfg;
	struct train_state s;   /* network, Adam, data order, record: what
				 * a checkpoint holds */
	struct tileset train, val;
	FILE *log;
	float *x;               /* B,H,W,3 */
	uint8_t *y;             /* B,H,W */
	int tty;
	double train_rate;      /* tiles per second of the last epoch, all
				 * ranks, training steps alone */
};

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
		    a->input_h, t->s.norm.mean, t->s.norm.std, &t->cfg.augment,
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
	    t->tty ? "\r" : "", t->s.rec.epochs + 1, t->cfg.train.epochs, done,
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
	struct unet *net = t->s.net;
	int b = t->cfg.train.batch, nr = t->comm.size, n = t->train.n;
	int steps = n / (b * nr), s;
	uint32_t *perm = xmalloc_array(n, sizeof *perm);
	struct rng epoch_rng;
	double sum = 0, t0 = now_seconds();

	for (int i = 0; i < n; i++)
		perm[i] = i;
	rng_shuffle(&t->s.data_rng, perm, n);
	rng_split(&t->s.data_rng, &epoch_rng, (uint64_t)t->s.rec.epochs);
	for (s = 0; s < steps; s++) {
		size_t first = (size_t)s * b * nr + (size_t)t->comm.rank * b;
		double sums[2];
		float lr;

		fill_batch(t, perm, first, b, &epoch_rng);
		unet_forward_loss(net, t->x, t->y, t->s.rec.class_w, b);
		sums[0] = net->sums[0];
		sums[1] = net->sums[1];
		comm_allreduce_sum_f64(sums, 2);
		double loss = sums[1] > 0 ? sums[0] / sums[1] : 0;
		if (!isfinite(loss))
			die("the training loss is %g at epoch %d step %d; "
			    "stopped (lower the learning rate?)%s%s", loss,
			    t->s.rec.epochs + 1, s + 1, t->cmd.ckpt_dir ?
			    "; the last good checkpoint is in " : "",
			    t->cmd.ckpt_dir ? t->cmd.ckpt_dir : "");
		unet_zero_grad(net);
		/* each rank's share of the global mean: the average over
		 * ranks then sums the ranks' contributions */
		comm_grads_begin(net->grads, net->nparams,
		    (size_t)(t->cmd.bucket_mb * (1 << 20) / sizeof(float)),
		    net->ops->host_memory ? NULL : &t->dev);
		unet_backward(net, sums[1] > 0 ? sums[1] / nr : 1);
		comm_grads_end();
		lr = unet_train_lr(&t->cfg.train, t->s.rec.epochs +
		    (double)s / steps);
		adam_step(&t->s.opt, net, lr);
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
	struct unet *net = t->s.net;
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
			    t->s.norm.mean, t->s.norm.std, NULL, NULL);
		}
		unet_forward_loss(net, t->x, t->y, t->s.rec.class_w, n);
		sums[0] += net->sums[0];
		sums[1] += net->sums[1];
		net->ops->download(logits, net->logits,
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

/* Append the epoch just done to the history and the log. */
static void
record_epoch(struct trainer *t, double train_loss, const struct val_result *vr,
    double lr, double seconds)
{
	struct train_record *r = &t->s.rec;
	struct epoch_record e = { .epoch = r->epochs, .lr = lr,
	    .train_loss = train_loss, .val_loss = vr->loss, .val_acc = vr->acc,
	    .val_miou = vr->miou, .seconds = seconds,
	    .tiles_per_s = t->train_rate, .ranks = t->comm.size };
	char *h = history_append(r->history, &e);

	free(r->history);
	r->history = h;
	if (t->log)
		history_log(t->log, t->cmd.log, &e);
}

// --- main --------------------------------------------------------------------

static int job_ranks;           /* ranks of the job, for all_ranks */

/* 1 if OK is 1 on every rank: the device collective is used by all ranks
 * or by none. */
static int
all_ranks(int ok)
{
	double n = ok != 0;

	comm_allreduce_sum_f64(&n, 1);
	return n == job_ranks;
}

static void
setup(struct trainer *t)
{
	const struct nn_ops *ops = t->ops;
	struct rng init;
	size_t px;

	unet_config_load(&t->cfg, t->cmd.config, NULL);
	if (t->cmd.epochs)
		t->cfg.train.epochs = t->cmd.epochs;
	if (t->cmd.batch)
		t->cfg.train.batch = t->cmd.batch;
	if (t->cmd.seed >= 0)
		t->cfg.train.seed = (uint64_t)t->cmd.seed;
	model_check_memory(&t->cfg.model, t->cfg.train.batch, 1,
	    t->cmd.config);
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

	/* the record of this run; a checkpoint brings back what it had
	 * learnt: class weights, history, epochs, best score */
	struct train_record *r = &t->s.rec;
	r->cw_scheme = t->cfg.train.class_weights;
	r->cw_max = t->cfg.train.class_weight_max;
	r->history = xstrdup("[]");
	r->seed = t->cfg.train.seed;
	r->batch = t->cfg.train.batch;
	r->ranks = t->comm.size;
	r->ntrain = t->train.n;
	r->nval = t->val.n;
	r->best_miou = -1;
	r->meta = &t->cmd.meta;
	if (t->cmd.resume) {
		checkpoint_load(t->cmd.resume, &t->s, &t->cfg.model,
		    t->cmd.config, t->cfg.train.batch, ops,
		    &t->cfg.train.adam);
	} else {
		struct unet *net;
		uint64_t counts[CLASS_MAX] = { 0 };
		int k = t->cfg.model.classes;
		tileset_class_counts(&t->train, k, counts);
		class_weights(r->class_w, counts, k, r->cw_scheme, r->cw_max);
		tileset_mean_std(&t->train, t->s.norm.mean, t->s.norm.std);
		net = t->s.net = unet_create(&t->cfg.model, t->cfg.train.batch,
		    1, ops);
		rng_seed(&init, t->cfg.train.seed ^ 0x9e3779b97f4a7c15ULL);
		unet_init_params(net, &init);
		if (t->cmd.init)
			model_load_weights(net, t->cmd.init, &t->s.norm,
			    t->cmd.config);
		/* one set of initial weights for every rank */
		float *h = xmalloc_array(net->nparams, sizeof *h);
		ops->download(h, net->params, net->nparams * sizeof *h);
		comm_bcast(h, net->nparams * sizeof *h);
		ops->upload(net->params, h, net->nparams * sizeof *h);
		free(h);
		adam_init(&t->s.opt, net, &t->cfg.train.adam);
		rng_seed(&t->s.data_rng, t->cfg.train.seed);
	}
	/* the class table's partial labels (a white cell of unknown type)
	 * train by the summed probability of their members */
	const struct class_table *ct = classes_load(NULL);
	uint32_t sets[256] = { 0 };
	for (int k = 0; k < ct->npartial; k++)
		sets[ct->partial[k].index] = ct->partial[k].members;
	unet_set_partial(t->s.net, sets);
	/* the gradient buckets start in the backward pass */
	t->s.net->grad_ready = comm_grads_ready;
	px = (size_t)t->cfg.model.input_h * t->cfg.model.input_w;
	t->x = nn_host_alloc(t->ops, (size_t)t->cfg.train.batch * px * 3 *
	    sizeof *t->x);
	t->y = nn_host_alloc(t->ops, (size_t)t->cfg.train.batch * px);
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
		/* what a run killed with -9 left: temporaries of the files
		 * this run writes, and log records of epochs after its
		 * checkpoint, which this run will log again */
		atomic_remove_stale(t->cmd.out);
		if (t->cmd.ckpt_dir) {
			char ck[4096];
			snprintf(ck, sizeof ck, "%s/checkpoint.safetensors",
			    t->cmd.ckpt_dir);
			atomic_remove_stale(ck);
		}
		/* a resumed run's log ends at its checkpoint's epoch; a new
		 * run in a checkpoint directory starts its default log afresh
		 * (the checkpoint it replaces is another run's) */
		if (log && (t->cmd.resume || log == deflt)) {
			atomic_remove_stale(log);
			history_log_trim(log, r->epochs);
		}
		if (log && (t->log = fopen(log, "a")) == NULL)
			die("%s:", log);
		if (!t->cmd.quiet)
			fprintf(stderr, "%s: %zu parameters, %d train / %d val "
			    "tiles, batch %d x %d rank%s, %d epochs%s\n", argv0,
			    t->s.net->nparams, t->train.n, t->val.n,
			    t->cfg.train.batch, t->comm.size, t->comm.size > 1 ?
			    "s" : "", t->cfg.train.epochs, t->cmd.resume ?
			    ", resumed" : "");
	}
}

int
main(int argc, char **argv)
{
	struct trainer t = { 0 };
	struct train_record *r = &t.s.rec;
	struct val_result vr;

	parse_cmdline(argc, argv, &t.cmd);
	comm_init(&argc, &argv, &t.comm);
	/* the processors shared by the ranks of this host, at least one */
	if (t.cmd.threads == 0) {
		t.cmd.threads = threads_online() / t.comm.local_size;
		if (t.cmd.threads < 1)
			t.cmd.threads = 1;
	}
	/* one device per rank: the local rank's GPU */
	struct nn_backend_opts bo = { .threads = t.cmd.threads,
	    .device = t.comm.local_rank, .precision = t.cmd.precision };
	t.ops = nn_backend_open(t.cmd.device, &bo);
	t.dev = (struct comm_device){ t.ops->download, t.ops->upload, NULL,
	    NULL };
	/* gradients averaged in device memory (NCCL) where the backend can,
	 * else through host memory */
	job_ranks = t.comm.size;
	if (t.comm.size > 1 && t.ops->collective_init != NULL) {
		char why[256];
		if (t.ops->collective_init(t.comm.rank, t.comm.size,
		    t.comm.local_size, comm_bcast, all_ranks, why,
		    sizeof why) == 0) {
			t.dev.allreduce_mean = t.ops->allreduce_mean;
			t.dev.allreduce_wait = t.ops->allreduce_wait;
		} else if (t.comm.rank == 0 && !t.cmd.quiet)
			warn("gradients averaged through host memory: %s", why);
	}
	setup(&t);
	if (r->epochs >= t.cfg.train.epochs && t.comm.rank == 0 &&
	    !t.cmd.quiet)
		warn("the checkpoint has %d epochs already; nothing to do",
		    r->epochs);
	while (r->epochs < t.cfg.train.epochs) {
		double t0 = now_seconds(), loss;
		double lr = unet_train_lr(&t.cfg.train, r->epochs);

		loss = train_epoch(&t);
		validate(&t, &vr);
		if (t.comm.rank == 0 && !t.cmd.quiet) {
			fprintf(stderr, "%sepoch %d/%d: loss %.4f, val loss "
			    "%.4f, val pixel accuracy %.4f, val mean IoU "
			    "%.4f, %.1f s\n", t.tty ? "\r\033[K" : "",
			    r->epochs + 1, t.cfg.train.epochs, loss, vr.loss,
			    vr.acc, vr.miou, now_seconds() - t0);
		}
		r->epochs++;
		if (t.comm.rank == 0)
			record_epoch(&t, loss, &vr, lr, now_seconds() - t0);
		if (vr.miou > r->best_miou) {
			r->best_miou = vr.miou;
			r->best_epoch = r->epochs;
			if (t.comm.rank == 0)
				model_save(t.cmd.out, &t.s, t.cmd.half);
		}
		if (t.cmd.ckpt_dir && t.comm.rank == 0)
			checkpoint_save(t.cmd.ckpt_dir, &t.s);
	}
	if (t.log && fclose(t.log) != 0)
		die("%s: write error:", t.cmd.log);
	nn_host_free(t.ops, t.x);
	nn_host_free(t.ops, t.y);
	nn_backend_close(t.ops);
	comm_finalize();
	return 0;
}
