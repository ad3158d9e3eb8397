/*
 * seg-eval - score predicted class maps against the truth.
 *
 * TRUTH is an RGB_LABEL tile stream or a stream of PGM class maps, PRED a
 * stream of PGM class maps with the same count and sizes.  Truth pixels
 * labelled 255 (ignore) are not scored.  Prints YAML: pixel accuracy, mean
 * IoU over the classes present in the truth, IoU and Dice per class, the
 * confusion matrix (rows = truth, columns = prediction); or, with --tsv,
 * a table.  With --binary every class but background counts as one class,
 * "cell", which scores a model against masks that mark cells without
 * their types.  Nothing is printed unless both streams read cleanly.
 */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classes.h"
#include "cli.h"
#include "image.h"
#include "metrics.h"
#include "util.h"

struct cmdline {
	const char *truth, *pred;
	int tsv;
	int binary;             /* score cell (any class but 0) vs background */
};

struct scores {
	struct confusion cm;
	int nclass;             /* classes in the table */
	int images;
	int binary;             /* classes 1.. count as one "cell" class */
	const char *names[CLASS_MAX];
};

static const struct cli_info info = {
	"seg-eval",
	"[--tsv] [--binary] truth pred",
	"Score predicted class maps against the truth.\n"
	"\n"
	"truth is an RGB_LABEL tile stream or PGM class maps; pred is PGM class\n"
	"maps of the same count and sizes.  Either may be - for stdin.  Truth\n"
	"pixels labelled 255 are ignored.  Prints YAML with pixel_accuracy,\n"
	"mean_iou (over classes present in the truth), iou and dice per class\n"
	"(null where a class is in neither map), confusion (rows = truth,\n"
	"columns = prediction), images and pixels.\n"
	"\n"
	"  --tsv          print a tab-separated table instead\n"
	"  --binary       score cell against background: every class but 0\n"
	"                 counts as \"cell\", in the truth and the prediction\n"
	"  -h, --help     this help\n"
	"      --version  print the version\n",
};

static void
parse_cmdline(int argc, char **argv, struct cmdline *cmd)
{
	static const struct option opts[] = {
		{ "tsv", no_argument, NULL, 'T' },
		{ "binary", no_argument, NULL, 'B' },
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int c;

	cli_begin(argc, argv, &info);
	cmd->tsv = cmd->binary = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1)
		switch (c) {
		case 'T':
			cmd->tsv = 1;
			break;
		case 'B':
			cmd->binary = 1;
			break;
		default:
			cli_common(c);
		}
	if (argc - optind != 2)
		cli_usage("need a truth and a prediction file");
	cmd->truth = argv[optind];
	cmd->pred = argv[optind + 1];
	if (strcmp(cmd->truth, "-") == 0 && strcmp(cmd->pred, "-") == 0)
		cli_usage("truth and prediction cannot both be stdin");
}

/* Add one pair of maps to the scores. */
static void
accumulate(struct scores *s, const struct img *t, const struct img *p)
{
	confusion_add(&s->cm, t->data + (t->kind == IMG_LABEL ? 3 : 0),
	    t->depth, p->data, 1, (size_t)t->width * t->height, s->nclass,
	    s->binary);
	s->images++;
}

static void
read_all(const struct cmdline *cmd, struct scores *s)
{
	struct img_reader rt, rp;
	struct img t = { 0 }, p = { 0 };
	int more_t, more_p;

	img_open(&rt, cmd->truth);
	img_open(&rp, cmd->pred);
	for (;;) {
		more_t = img_read(&rt, &t, IMG_LABEL | IMG_GRAY | IMG_CLASSMAP);
		more_p = img_read(&rp, &p, IMG_GRAY | IMG_CLASSMAP);
		if (!more_t && !more_p)
			break;
		if (more_t != more_p)
			die("%s: has %d images, %s has %s", more_t ? rp.name :
			    rt.name, more_t ? rp.count : rt.count,
			    more_t ? rt.name : rp.name, "more");
		if (t.width != p.width || t.height != p.height)
			die("%s: image %d is %dx%d, the truth is %dx%d",
			    rp.name, rp.count, p.width, p.height, t.width,
			    t.height);
		accumulate(s, &t, &p);
	}
	img_free(&t);
	img_free(&p);
	img_close(&rt);
	img_close(&rp);
}

static void
print_num(double v)
{
	if (isnan(v))
		fputs("null", stdout);
	else
		printf("%.6f", v);
}

static void
print_yaml(const struct scores *s)
{
	const struct confusion *cm = &s->cm;
	int c, k;

	printf("images: %d\npixels: %" PRIu64 "\n", s->images, cm->pixels);
	fputs("pixel_accuracy: ", stdout);
	print_num(metrics_pixel_accuracy(cm));
	fputs("\nmean_iou: ", stdout);
	print_num(metrics_mean_iou(cm));
	putchar('\n');
	if (cm->unpredicted)
		printf("unpredicted: %" PRIu64 "\n", cm->unpredicted);
	fputs("iou:\n", stdout);
	for (c = 0; c < cm->n; c++) {
		printf("  %s: ", s->names[c]);
		print_num(metrics_iou(cm, c));
		putchar('\n');
	}
	fputs("dice:\n", stdout);
	for (c = 0; c < cm->n; c++) {
		printf("  %s: ", s->names[c]);
		print_num(metrics_dice(cm, c));
		putchar('\n');
	}
	fputs("confusion:\n  classes: [", stdout);
	for (c = 0; c < cm->n; c++)
		printf("%s%s", c ? ", " : "", s->names[c]);
	fputs("]\n  rows:\n", stdout);
	for (c = 0; c < cm->n; c++) {
		fputs("    - [", stdout);
		for (k = 0; k < cm->n; k++)
			printf("%s%" PRIu64, k ? ", " : "",
			    cm->m[(size_t)c * cm->n + k]);
		fputs("]\n", stdout);
	}
}

static void
print_tsv(const struct scores *s)
{
	const struct confusion *cm = &s->cm;
	uint64_t tp, row, col;
	int c;

	fputs("class\tiou\tdice\ttruth_pixels\tpred_pixels\n", stdout);
	for (c = 0; c < cm->n; c++) {
		confusion_sums(cm, c, &tp, &row, &col);
		printf("%s\t", s->names[c]);
		print_num(metrics_iou(cm, c));
		putchar('\t');
		print_num(metrics_dice(cm, c));
		printf("\t%" PRIu64 "\t%" PRIu64 "\n", row, col);
	}
	fputs("pixel_accuracy\t", stdout);
	print_num(metrics_pixel_accuracy(cm));
	fputs("\t\t\t\nmean_iou\t", stdout);
	print_num(metrics_mean_iou(cm));
	fputs("\t\t\t\n", stdout);
}

int
main(int argc, char **argv)
{
	struct cmdline cmd;
	const struct class_table *ct;
	struct scores s = { 0 };

	parse_cmdline(argc, argv, &cmd);
	ct = classes_load(NULL);
	s.binary = cmd.binary;
	confusion_init(&s.cm, cmd.binary ? 2 : ct->n);
	s.nclass = ct->n;
	for (int c = 0; c < s.cm.n; c++)
		s.names[c] = cmd.binary ? (c ? "cell" : "background") :
		    ct->c[c].name;
	read_all(&cmd, &s);
	if (cmd.tsv)
		print_tsv(&s);
	else
		print_yaml(&s);
	xfshut(stdout, "<stdout>");
	confusion_free(&s.cm);
	return 0;
}
