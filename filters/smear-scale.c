/*
 * smear-scale - the factor that brings smear photos to a model's pixel
 * scale, from the size of their red cells.
 *
 * Reads PPM images (or RGB_LABEL tiles, whose picture planes are used)
 * and, for each, measures the typical red-cell diameter in pixels
 * (lib/rbcsize.h: a granulometry of the cells darker than the plasma).
 * The model's metadata says how large a red cell is at its scale
 * (pixel_scale: "... a healthy red cell is about 38 px across"), and the
 * scale is that diameter over the measured one.  --scale and
 * --rbc-diameter set the scale instead; the measure then only checks it.
 *
 * Prints YAML, one entry per image, or with --tsv one line per image.  A
 * scale that looks wrong (too few red cells to measure, a factor outside
 * 0.1..4, widely varying sizes, or an option that disagrees with the
 * measure by more than a quarter) gets a warning, in the output and on
 * standard error.  The output is spooled, so a bad image anywhere in the
 * input leaves stdout empty.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "image.h"
#include "paths.h"
#include "rbcsize.h"
#include "safetensors.h"
#include "util.h"

#define SCALE_MIN 0.1           /* plausible scales: a camera at 10x ... */
#define SCALE_MAX 4.0           /* ... to a model image shrunk 4 times */
#define SPREAD_MAX 0.6          /* a wider spread is no single cell size */
#define AGREE_MAX 0.25          /* an option may differ this much */

struct cmdline {
	char **files;           /* input files; "-" = stdin */
	int nfiles;
	const char *model;
	double scale;           /* --scale, or 0 */
	double diameter;        /* --rbc-diameter, or 0 */
	int tsv, quiet;
};

/* What is known of one image. */
struct result {
	int width, height;
	struct rbc_size rbc;
	double scale;
	const char *from;       /* "estimate", "scale", "rbc-diameter", "none" */
	char warning[256];      /* empty: none */
};

static const struct cli_info info = {
	"smear-scale",
	"[-m model] [-s scale | -r px] [-q] [--tsv] [file ...]",
	"Measure the red cells of smear photos (PPM, or RGB_LABEL tiles) and\n"
	"print the factor that brings each photo to the model's pixel scale,\n"
	"with a warning when it looks wrong.\n"
	"\n"
	"  -m, --model FILE     the model whose pixel_scale is the target\n"
	"                       (default: the shipped models/default.safetensors)\n"
	"  -s, --scale F        take F as the scale; only check it\n"
	"  -r, --rbc-diameter PX\n"
	"                       the red cells are PX pixels across: the scale is\n"
	"                       the model's diameter over PX; only check it\n"
	"  -q, --quiet          warnings in the output only, not on stderr\n"
	"      --tsv            one tab-separated line per image, under a header\n"
	"  -h, --help           this help\n"
	"      --version        print the version\n",
};

enum { OPT_TSV = 0x2000 };

static void
parse_cmdline(int argc, char **argv, struct cmdline *cmd)
{
	static const struct option opts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "scale", required_argument, NULL, 's' },
		{ "rbc-diameter", required_argument, NULL, 'r' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "tsv", no_argument, NULL, OPT_TSV },
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int c;

	cli_begin(argc, argv, &info);
	memset(cmd, 0, sizeof *cmd);
	while ((c = getopt_long(argc, argv, ":hm:s:r:q", opts, NULL)) != -1)
		switch (c) {
		case 'm':
			cmd->model = optarg;
			break;
		case 's':
			cmd->scale = xstrtod(optarg, 0.001, 1000, "scale");
			break;
		case 'r':
			cmd->diameter = xstrtod(optarg, 1, 100000,
			    "red-cell diameter");
			break;
		case 'q':
			cmd->quiet = 1;
			break;
		case OPT_TSV:
			cmd->tsv = 1;
			break;
		default:
			cli_common(c);
		}
	if (cmd->scale > 0 && cmd->diameter > 0)
		cli_usage("--scale and --rbc-diameter exclude each other");
	cli_files(argc, argv, optind, &cmd->files, &cmd->nfiles);
	if (cmd->model == NULL)
		cmd->model = share_path("models/default.safetensors");
}

/* The red-cell diameter at the scale of the model in PATH, from its
 * pixel_scale metadata ("... about 38 px across"). */
static double
model_diameter(const char *path)
{
	struct st_file f;
	const char *ps, *a;
	double d = 0;
	char *end;

	st_read(path, &f);
	ps = st_meta(&f, "pixel_scale");
	if (ps == NULL)
		die("%s: the model's metadata has no pixel_scale", path);
	if ((a = strstr(ps, "about ")) != NULL) {
		d = strtod(a + 6, &end);
		if (end == a + 6 || strncmp(end, " px", 3) != 0)
			d = 0;
	}
	if (!(d >= 1 && d <= 10000))
		die("%s: pixel_scale '%s' gives no red-cell diameter "
		    "(\"about N px\")", path, ps);
	st_free(&f);
	return d;
}

/* Decide the scale of one measured image into R, and say what is wrong
 * with it, if anything. */
static void
decide(struct result *r, const struct cmdline *cmd, double target)
{
	double d = r->rbc.diameter, at;

	r->warning[0] = '\0';
	if (cmd->scale > 0 || cmd->diameter > 0) {
		r->scale = cmd->scale > 0 ? cmd->scale : target / cmd->diameter;
		r->from = cmd->scale > 0 ? "scale" : "rbc-diameter";
		at = d * r->scale;
		if (d > 0 && fabs(at / target - 1) > AGREE_MAX)
			snprintf(r->warning, sizeof r->warning, "at scale "
			    "%.3g the red cells measure %.0f px across, the "
			    "model expects about %.0f: check the scale",
			    r->scale, at, target);
		return;
	}
	if (d <= 0) {
		r->scale = 1;
		r->from = "none";
		snprintf(r->warning, sizeof r->warning, "too few red cells to "
		    "measure (%d found): taking scale 1, the model's own; "
		    "give --scale or --rbc-diameter", r->rbc.cells);
		return;
	}
	r->scale = target / d;
	r->from = "estimate";
	if (r->scale < SCALE_MIN || r->scale > SCALE_MAX)
		snprintf(r->warning, sizeof r->warning, "scale %.3g is "
		    "implausible (red cells %.0f px across): give --scale or "
		    "--rbc-diameter", r->scale, d);
	else if (r->rbc.spread > SPREAD_MAX)
		snprintf(r->warning, sizeof r->warning, "red-cell sizes vary "
		    "widely (spread %.2f): scale %.3g is uncertain",
		    r->rbc.spread, r->scale);
}

static void
print_yaml(FILE *f, const char *file, int n, const struct result *r)
{
	fputs("  - file: ", f);
	yaml_put_quoted(f, file);
	fprintf(f, "\n    image: %d\n    width: %d\n    height: %d\n"
	    "    rbc_diameter: %.1f\n    rbc_cells: %d\n    rbc_spread: %.2f\n"
	    "    scale: %.4f\n    scale_from: %s\n", n, r->width, r->height,
	    r->rbc.diameter, r->rbc.cells, r->rbc.spread, r->scale, r->from);
	if (r->warning[0] != '\0') {
		fputs("    warning: ", f);
		yaml_put_quoted(f, r->warning);
		putc('\n', f);
	}
}

static void
print_tsv(FILE *f, const char *file, int n, const struct result *r,
    double target)
{
	const char *s;

	for (s = file; *s != '\0'; s++)
		putc(*s == '\t' || *s == '\n' ? ' ' : *s, f);
	fprintf(f, "\t%d\t%d\t%d\t%.1f\t%d\t%.2f\t%.4f\t%s\t%.4g\t%s\n",
	    n, r->width, r->height, r->rbc.diameter, r->rbc.cells,
	    r->rbc.spread, r->scale, r->from, target,
	    r->warning[0] ? r->warning : "-");
}

int
main(int argc, char **argv)
{
	struct cmdline cmd;
	struct img_reader rd;
	struct img im = { 0 };
	struct result r;
	FILE *spool;
	double target;
	int k;

	parse_cmdline(argc, argv, &cmd);
	target = model_diameter(cmd.model);
	spool = spool_open();
	if (cmd.tsv)
		fputs("file\timage\twidth\theight\trbc_diameter\trbc_cells\t"
		    "rbc_spread\tscale\tscale_from\tmodel_diameter\twarning\n",
		    spool);
	else
		fprintf(spool, "model_diameter: %.4g\nimages:\n", target);
	for (k = 0; k < cmd.nfiles; k++) {
		img_open(&rd, cmd.files[k]);
		while (img_read(&rd, &im, IMG_RGB | IMG_LABEL)) {
			r.width = im.width;
			r.height = im.height;
			rbc_measure(&im, &r.rbc);
			decide(&r, &cmd, target);
			if (r.warning[0] != '\0' && !cmd.quiet)
				warn("%s: image %d: %s", rd.name, rd.count,
				    r.warning);
			if (cmd.tsv)
				print_tsv(spool, rd.name, rd.count, &r, target);
			else
				print_yaml(spool, rd.name, rd.count, &r);
		}
		img_close(&rd);
	}
	img_free(&im);
	spool_commit(spool, stdout, "<stdout>");
	return 0;
}
