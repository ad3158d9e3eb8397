/*
 * label-smear - real smear photos with boxes as labelled backgrounds.
 *
 * Reads a Netpbm stream of smear photos (PPM) and a list with one line
 * per photo: its id, its group and its boxes of red cells, white cells
 * and platelets, as BCCD gives them.  Writes one RGB_LABEL image per
 * photo, brought to the 40x scale (a healthy red cell about 38 px
 * across), that compose-tile takes as a background just as it takes
 * make-background's: real plasma, real touching and overlapping red
 * cells, real optics.
 *
 * The label is decided at the 40x scale, on the rescaled photo:
 *   Healthy RBC  the pixels darker in green than the photo's own plasma
 *                by the level at the valley of the histogram between
 *                plasma and cells, after the uneven lighting is taken
 *                out; opened, closed, pale centres filled; pieces too
 *                small for a red cell are ignored (noise specks dropped);
 *   White cell   (a partial label: one of the five types, which the box
 *                does not tell) the purple blobs inside a WBC box: the
 *                nucleus, never the paler cytoplasm around it;
 *   Platelet     (a partial label: thrombocyte or clump) the purple
 *                blobs inside a platelet box grown as below;
 *   ignore       the rest of every WBC and platelet box grown by 15% of
 *                its longer side (at least 3 px), and every purple blob
 *                (a nucleus or a platelet, boxed or not) grown by 5 px:
 *                the boxes are too rough for pixel labels, so these
 *                pixels carry no label at all rather than a wrong one;
 *                optionally a band along the edges of the red cells;
 *   background   the rest (plasma).
 * RBC boxes are not needed for the label; they measure it: a box counts
 * as covered when the red-cell label holds at least half of its pixels.
 *
 * A result smaller than the minimum size on a side is padded by mirroring
 * picture and label alike, so that compose-tile can cut its tiles from
 * it.  Output is spooled: a bad list line, box or image anywhere leaves
 * stdout empty.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classes.h"
#include "cli.h"
#include "crop.h"
#include "image.h"
#include "listfile.h"
#include "mask.h"
#include "segment.h"
#include "util.h"

enum box_kind { BOX_RBC, BOX_WBC, BOX_PLATELET, BOX_NKINDS };
static const char *const box_kind_name[BOX_NKINDS] = { "rbc", "wbc",
    "platelet" };

/* Sizes in px at the 40x scale, areas in px^2. */
#define MAX_BOXES 1024
#define BOX_GROW 0.15           /* ignore box growth, of its longer side */
#define BOX_GROW_MIN 3.0        /* ... and at least this */
#define FG_OPEN 1.5             /* cuts specks and threads off the cells */
#define FG_CLOSE 2.0            /* closes the rims of pale centres */
#define HOLE_MAX 500            /* largest hole filled (a pale centre) */
#define SPECK_MIN 10            /* smaller dark pieces are noise */
#define CELL_MIN 250            /* smaller ones are no red cell: ignore */
#define EDGE_MIN 60             /* ... unless the photo's edge cuts them */
#define FG_PEAK_LO (-15)        /* where the plasma's mode is looked for */
#define FG_PEAK_HI 20
#define PLASMA_MIN 0.05         /* least plasma share for a flat field */
#define FG_SIGMA_MIN 2.0        /* bounds of the plasma's spread */
#define FG_SIGMA_MAX 12.0
#define STAIN_WEAK 40           /* purple levels of a nucleus or platelet */
#define STAIN_STRONG 60
#define STAIN_DARK 30           /* ... and its least darkness */
#define STAIN_OPEN 1.0          /* a blob's core is this thick (2r + 1) */
#define STAIN_MIN 3             /* core px of a blob ignored */
#define STAIN_GROW 5.0          /* ignore around a purple blob */
#define WHOLE_INSIDE 0.9        /* a whole white cell's share in its box */
#define WHOLE_FILL 0.3          /* ... and its least share of the box */
#define COVERED 0.5             /* RBC box share that counts as covered */

struct box {
	enum box_kind kind;
	int b[4];                       /* x0 y0 x1 y1, inclusive */
};

/* One list line: a photo's provenance and boxes. */
struct job {
	char *id, *group;
	int line;                       /* in the list file */
	int nbox;
	struct box *box;
};

struct cmdline {
	const char *input;              /* "-" = stdin */
	const char *list;
	struct list lines;              /* the list's lines */
	struct job *jobs;               /* what they say */
	int njobs;
	const char *source;
	double scale;
	int min;                        /* pad to at least this on a side */
	int band;                       /* ignore band at red-cell edges */
	int level;                      /* red-cell darkness, or -1: auto */
	int no_partial;                 /* boxes ignored, no partial labels */
	int whole;                      /* White cell: the whole cell */
	int quiet;
};

/* The label values written. */
struct labels {
	int rbc;                        /* Healthy RBC */
	int wbc, platelet;              /* partial labels, or -1: ignore */
};

/* Pixel counts of one photo at the 40x scale, before padding, and of the
 * whole run. */
struct tally {
	long rbc, plasma, ignore, partial;
	int rbc_boxes, rbc_scored, rbc_covered;
	int regions;
	int wbc_whole, wbc_nucleus;     /* WBC boxes labelled each way */
};

static const struct cli_info info = {
	"label-smear",
	"-l list [-s scale] [-m min] [-b band] [-t level]\n"
	"       [-S source] [-P | -W] [-q] [file]",
	"Turn real smear photos with boxes of red cells, white cells and\n"
	"platelets into RGB_LABEL backgrounds at the 40x scale: red cells\n"
	"Healthy RBC, plasma background, the nuclei in white-cell boxes the\n"
	"partial label White cell, the platelets in platelet boxes the\n"
	"partial label Platelet, the rest of those boxes ignore (255).\n"
	"\n"
	"  -l, --list FILE      one line per photo: ID GROUP [BOX...], BOX =\n"
	"                       KIND:xmin,ymin,xmax,ymax (pixels from 0),\n"
	"                       KIND = rbc, wbc or platelet\n"
	"  -s, --scale F        resize factor to the 40x scale (default 1)\n"
	"  -m, --min N          pad a smaller result to N px on a side by\n"
	"                       mirroring (default 224; 0: never)\n"
	"  -b, --band N         ignore N px on each side of a red cell's edge\n"
	"                       (default 0)\n"
	"  -t, --level N        red cell: N or more darker than the plasma in\n"
	"                       green (default: from each photo's histogram)\n"
	"  -S, --source NAME    the source's name (default unknown)\n"
	"  -P, --no-partial     no partial labels: the boxes ignore alone\n"
	"  -W, --whole-cell     White cell on the whole white cell (its\n"
	"                       cytoplasm too), segmented from the nucleus;\n"
	"                       the nucleus alone where that fails\n"
	"  -q, --quiet          no summary line\n"
	"  -h, --help           this help\n"
	"      --version        print the version\n",
};

/* Parse BOX "KIND:xmin,ymin,xmax,ymax" into B, or die naming WHERE. */
static void
parse_box(const char *s, struct box *b, const char *where)
{
	const char *colon = strchr(s, ':');
	int k;

	for (k = 0; k < BOX_NKINDS; k++)
		if (colon != NULL &&
		    strlen(box_kind_name[k]) == (size_t)(colon - s) &&
		    strncmp(s, box_kind_name[k], colon - s) == 0)
			break;
	if (colon == NULL)
		die("%sbad box '%s' (expected KIND:xmin,ymin,xmax,ymax)",
		    where, s);
	if (k == BOX_NKINDS)
		die("%sunknown kind '%.*s' in box '%s' (expected rbc, wbc or "
		    "platelet)", where, (int)(colon - s), s, s);
	b->kind = (enum box_kind)k;
	switch (list_box(colon + 1, b->b)) {
	case LIST_BOX_OK:
		break;
	case LIST_BOX_SYNTAX:
		die("%sbad box '%s' (expected KIND:xmin,ymin,xmax,ymax)",
		    where, s);
	case LIST_BOX_ORDER:
		die("%sbad box '%s': xmin > xmax or ymin > ymax", where, s);
	}
}

/* Check that NAME is usable as a metadata value. */
static void
check_name(const char *name, const char *what, const char *where)
{
	const char *p;

	for (p = name; *p; p++)
		if (isspace((unsigned char)*p) || *p == ':')
			die("%s%s '%s' has white space or a colon", where, what,
			    name);
}

#define LIST_FORM "ID GROUP [BOX...]"

/* Read the list of CMD into CMD->jobs; every problem dies with
 * "FILE:LINE: ...", and a repeated id dies too. */
static void
load_list(struct cmdline *cmd)
{
	const char *name = display_name(cmd->list);
	const struct list_line *l;
	char where[256];
	int k, b, first, second;
	struct job *j;

	list_read(&cmd->lines, cmd->list, name, LIST_FORM);
	cmd->njobs = cmd->lines.n;
	cmd->jobs = xcalloc(cmd->njobs, sizeof *cmd->jobs);
	for (k = 0; k < cmd->njobs; k++) {
		l = &cmd->lines.v[k];
		j = &cmd->jobs[k];
		list_where(&cmd->lines, k, where, sizeof where);
		check_name(l->word[0], "id", where);
		j->id = l->word[0];
		j->line = l->line;
		if (l->nword < 2)
			die("%sexpected '" LIST_FORM "'", where);
		check_name(l->word[1], "group", where);
		j->group = l->word[1];
		if (l->nword > 2)
			j->box = xmalloc_array(l->nword - 2, sizeof *j->box);
		for (b = 2; b < l->nword; b++) {
			if (j->nbox == MAX_BOXES)
				die("%smore than %d boxes", where, MAX_BOXES);
			parse_box(l->word[b], &j->box[j->nbox++], where);
		}
	}
	if (list_repeated_id(&cmd->lines, &first, &second))
		die("%s:%d: id '%s' is also on line %d", name,
		    cmd->jobs[second].line, cmd->jobs[second].id,
		    cmd->jobs[first].line);
}

static void
parse_cmdline(int argc, char **argv, struct cmdline *cmd)
{
	static const struct option opts[] = {
		{ "list", required_argument, NULL, 'l' },
		{ "scale", required_argument, NULL, 's' },
		{ "min", required_argument, NULL, 'm' },
		{ "band", required_argument, NULL, 'b' },
		{ "level", required_argument, NULL, 't' },
		{ "source", required_argument, NULL, 'S' },
		{ "no-partial", no_argument, NULL, 'P' },
		{ "whole-cell", no_argument, NULL, 'W' },
		{ "quiet", no_argument, NULL, 'q' },
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int c;

	cli_begin(argc, argv, &info);
	memset(cmd, 0, sizeof *cmd);
	cmd->source = "unknown";
	cmd->scale = 1;
	cmd->min = 224;
	cmd->level = -1;
	while ((c = getopt_long(argc, argv, ":hl:s:m:b:t:S:PWq", opts, NULL)) !=
	    -1)
		switch (c) {
		case 'l':
			cmd->list = optarg;
			break;
		case 's':
			cmd->scale = xstrtod(optarg, 0.05, 8, "scale");
			break;
		case 'm':
			cmd->min = (int)xstrtol(optarg, 0, 16384, "minimum size");
			break;
		case 't':
			cmd->level = (int)xstrtol(optarg, 1, 255, "level");
			break;
		case 'b':
			cmd->band = (int)xstrtol(optarg, 0, 8, "band");
			break;
		case 'S':
			cmd->source = optarg;
			break;
		case 'P':
			cmd->no_partial = 1;
			break;
		case 'W':
			cmd->whole = 1;
			break;
		case 'q':
			cmd->quiet = 1;
			break;
		default:
			cli_common(c);
		}
	cli_max_operands(argc, optind, 1);
	cmd->input = optind < argc ? argv[optind] : "-";
	if (cmd->list == NULL)
		cli_usage("no --list (the ids, groups and boxes)");
	if (cmd->whole && cmd->no_partial)
		cli_usage("--whole-cell labels white cells, --no-partial "
		    "labels none: give one of them");
	if (strcmp(cmd->list, "-") == 0 && strcmp(cmd->input, "-") == 0)
		cli_usage("the list and the photos cannot both be stdin");
	if (*cmd->source == '\0' || strpbrk(cmd->source, " \t\n:") != NULL)
		cli_usage("invalid source '%s' (empty, or white space or a "
		    "colon in it)", cmd->source);
	load_list(cmd);
}

/* Die unless every box of job J lies inside the W x H photo. */
static void
check_boxes(const struct job *j, int w, int h, const struct cmdline *cmd)
{
	int k;

	for (k = 0; k < j->nbox; k++) {
		const int *b = j->box[k].b;

		if (b[2] >= w || b[3] >= h)
			die("%s:%d: box %d (%s:%d,%d,%d,%d) is outside the "
			    "%dx%d photo '%s'", display_name(cmd->list),
			    j->line, k + 1, box_kind_name[j->box[k].kind],
			    b[0], b[1], b[2], b[3], w, h, j->id);
	}
}

/* The photo IM at the 40x scale into SC (RGBA, alpha 255 everywhere):
 * crop_sample on a mask that holds the whole photo, so the colours are
 * area averages when shrinking, and output pixel (u, v) covers the
 * photo's [u/s, (u+1)/s) x [v/s, (v+1)/s). */
static void
rescale(struct img *sc, const struct img *im, double scale, const char *id)
{
	size_t npix = (size_t)im->width * im->height;
	unsigned char *all = xmalloc(npix);

	memset(all, 1, npix);
	if (crop_sample(sc, im, all, scale, 0, 0, NULL) != SEG_OK)
		die("%s: the %dx%d photo vanishes at scale %g", id, im->width,
		    im->height, scale);
	free(all);
}

/* M (W x H) gets 1 inside box B of the photo grown by G px at the 40x
 * scale S; the pixel (u, v) is in when its centre is. */
static void
mark_box(unsigned char *m, int w, int h, const int b[4], double s, double g)
{
	double x0 = b[0] * s - g, x1 = (b[2] + 1) * s + g;
	double y0 = b[1] * s - g, y1 = (b[3] + 1) * s + g;
	int u, v;

	for (v = 0; v < h; v++)
		if (v + 0.5 > y0 && v + 0.5 < y1)
			for (u = 0; u < w; u++)
				if (u + 0.5 > x0 && u + 0.5 < x1)
					m[(size_t)v * w + u] = 1;
}

/* Drop the 8-connected components of M smaller than MINAREA px, or with
 * KEEP_SMALL only those; return how many stay. */
static int
sieve(unsigned char *m, int w, int h, long minarea, int keep_small)
{
	size_t npix = (size_t)w * h, i;
	int *lab = xmalloc_array(npix, sizeof *lab);
	long *area;
	int n, l, kept = 0;

	n = mask_label(lab, m, w, h, &area);
	for (i = 0; i < npix; i++)
		if (lab[i])
			m[i] = (area[lab[i]] >= minarea) != keep_small;
	for (l = 1; l <= n; l++)
		kept += (area[l] >= minarea) != keep_small;
	free(area);
	free(lab);
	return kept;
}

/* The measures of the 40x photo SC relative to its plasma colour (the
 * mean of its brightest fifth): DARKG, how much darker a pixel is in the
 * green channel (haemoglobin and the stains absorb green), and PURPLE,
 * how much more blue than green it is (nuclei and platelets are purple,
 * red cells are not). */
static void
measure(short *darkg, short *purple, const struct img *sc)
{
	size_t npix = (size_t)sc->width * sc->height, i;
	const unsigned char *p;
	double bg[3];

	seg_background_colour(sc, bg);
	for (i = 0, p = sc->data; i < npix; i++, p += sc->depth) {
		darkg[i] = (short)lround(bg[1] - p[1]);
		purple[i] = (short)lround((p[2] - p[1]) - (bg[2] - bg[1]));
	}
}

/* The red-cell level of DARKG (NPIX values): the valley of its histogram
 * between plasma and cells; *PLASMA gets the plasma's mode.  The
 * histogram is smoothed over 5 levels (cameras leave some levels empty).
 * The plasma is its highest point from -15 to 20, not the highest
 * overall: in a photo of many pale cells the cells' mode is the higher.
 * SIGMA is the RMS distance from it of the pixels up to 30 brighter
 * (plasma, never cells), and the level is the lowest point from peak + 3
 * to peak + 4 sigma, or to the cells' mode (the highest point beyond
 * peak + 2 sigma) if that comes first.  Otsu's level would lie in the
 * broad mode of the cells and miss the pale ones. */
static int
fg_level(const short *darkg, size_t npix, int *plasma)
{
	enum { OFF = 256, N = 512 };
	long hist[N] = { 0 };
	double sm[N] = { 0 }, s2 = 0, sigma;
	long n = 0;
	size_t i;
	int k, d, peak = OFF + FG_PEAK_LO, top, lo, hi, v;

	for (i = 0; i < npix; i++)
		hist[darkg[i] + OFF]++;
	for (k = 2; k < N - 2; k++)
		for (d = -2; d <= 2; d++)
			sm[k] += hist[k + d] / 5.0;
	for (k = OFF + FG_PEAK_LO; k <= OFF + FG_PEAK_HI; k++)
		if (sm[k] > sm[peak])
			peak = k;
	for (k = peak - 30; k < peak; k++) {
		s2 += (double)hist[k] * (k - peak) * (k - peak);
		n += hist[k];
	}
	sigma = n > 0 ? sqrt(s2 / n) : 0;
	sigma = sigma < FG_SIGMA_MIN ? FG_SIGMA_MIN :
	    sigma > FG_SIGMA_MAX ? FG_SIGMA_MAX : sigma;
	lo = peak + 3;
	top = peak + (int)lround(2 * sigma);
	for (k = top; k < N - 2; k++)
		if (sm[k] > sm[top])
			top = k;
	hi = peak + (int)lround(4 * sigma);
	if (hi > top)
		hi = top;
	for (v = lo, k = lo; k <= hi; k++)
		if (sm[k] < sm[v])
			v = k;
	*plasma = peak - OFF;
	return v - OFF;
}

/* Solve the N x N system A x = B (A row-major; both destroyed) by
 * Gaussian elimination with partial pivoting into X; returns 0 if A is
 * singular. */
static int
solve(double *a, double *b, double *x, int n)
{
	int i, j, k, piv;
	double t;

	for (k = 0; k < n; k++) {
		for (piv = k, i = k + 1; i < n; i++)
			if (fabs(a[i * n + k]) > fabs(a[piv * n + k]))
				piv = i;
		if (fabs(a[piv * n + k]) < 1e-12)
			return 0;
		for (j = 0; j < n; j++) {
			t = a[k * n + j];
			a[k * n + j] = a[piv * n + j];
			a[piv * n + j] = t;
		}
		t = b[k];
		b[k] = b[piv];
		b[piv] = t;
		for (i = k + 1; i < n; i++) {
			t = a[i * n + k] / a[k * n + k];
			for (j = k; j < n; j++)
				a[i * n + j] -= t * a[k * n + j];
			b[i] -= t * b[k];
		}
	}
	for (k = n - 1; k >= 0; k--) {
		for (t = b[k], j = k + 1; j < n; j++)
			t -= a[k * n + j] * x[j];
		x[k] = t / a[k * n + k];
	}
	return 1;
}

/* The quadratic basis 1, u, v, u^2, uv, v^2 at pixel (X, Y) of a W x H
 * image, with u and v running from -1 to 1. */
static void
basis(double *q, int x, int y, int w, int h)
{
	double u = w > 1 ? 2.0 * x / (w - 1) - 1 : 0;
	double v = h > 1 ? 2.0 * y / (h - 1) - 1 : 0;

	q[0] = 1;
	q[1] = u;
	q[2] = v;
	q[3] = u * u;
	q[4] = u * v;
	q[5] = v * v;
}

/* Take the uneven lighting (vignetting) out of DARKG: fit a quadratic
 * surface in x and y, by least squares, to DARKG over the pixels that
 * are plainly plasma (PLASMA marks them), and subtract it, so that the
 * plasma is near 0 everywhere and not only on average.  Left alone if
 * the plasma is under PLASMA_MIN of the photo or the fit fails. */
static void
flatten(short *darkg, const unsigned char *plasma, int w, int h)
{
	double a[36] = { 0 }, b[6] = { 0 }, c[6], q[6], f;
	size_t npix = (size_t)w * h, i;
	long n = 0;
	int x, y, j, k;

	for (i = 0; i < npix; i++)
		n += plasma[i];
	if (n < PLASMA_MIN * npix)
		return;
	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++) {
			i = (size_t)y * w + x;
			if (!plasma[i])
				continue;
			basis(q, x, y, w, h);
			for (j = 0; j < 6; j++) {
				for (k = 0; k < 6; k++)
					a[j * 6 + k] += q[j] * q[k];
				b[j] += q[j] * darkg[i];
			}
		}
	if (!solve(a, b, c, 6))
		return;
	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++) {
			i = (size_t)y * w + x;
			basis(q, x, y, w, h);
			for (f = 0, j = 0; j < 6; j++)
				f += c[j] * q[j];
			darkg[i] = (short)lround(fmax(-255, fmin(255,
			    darkg[i] - f)));
		}
}

/* Sort the pieces of the red-cell mask FG (W x H) by size: under
 * SPECK_MIN px they are noise and go; under CELL_MIN they are too small
 * for a red cell (debris, a pale platelet, a fragment) and move to the
 * ignore mask DOUBT, unless they touch the photo's edge with at least
 * EDGE_MIN px: then they are taken for a red cell that the edge cuts. */
static void
sort_pieces(unsigned char *fg, unsigned char *doubt, int w, int h)
{
	size_t npix = (size_t)w * h, i;
	int *lab = xmalloc_array(npix, sizeof *lab);
	long *area;
	unsigned char *edge;
	int n, x, y, l;

	n = mask_label(lab, fg, w, h, &area);
	edge = xcalloc(n + 1, 1);
	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++)
			if (x == 0 || y == 0 || x == w - 1 || y == h - 1)
				edge[lab[(size_t)y * w + x]] = 1;
	for (i = 0; i < npix; i++) {
		if ((l = lab[i]) == 0 || area[l] >= CELL_MIN ||
		    (edge[l] && area[l] >= EDGE_MIN))
			continue;
		fg[i] = 0;
		if (area[l] >= SPECK_MIN)
			doubt[i] = 1;
	}
	free(edge);
	free(area);
	free(lab);
}

/* FG gets the red cells of the measures DARKG (W x H): the pixels at
 * LEVEL or darker, opened, closed, with their pale centres (holes up to
 * HOLE_MAX) filled, sorted by size into FG and DOUBT (sort_pieces). */
static void
red_cells(unsigned char *fg, unsigned char *doubt, const short *darkg,
    int level, int w, int h)
{
	size_t npix = (size_t)w * h, i;
	unsigned char *holes = xmalloc(npix);

	for (i = 0; i < npix; i++)
		fg[i] = darkg[i] >= level;
	mask_open(fg, w, h, FG_OPEN);
	mask_close(fg, w, h, FG_CLOSE);
	memcpy(holes, fg, npix);
	mask_fill_holes(holes, w, h);
	for (i = 0; i < npix; i++)
		holes[i] = holes[i] && !fg[i];
	sieve(holes, w, h, HOLE_MAX + 1, 1);
	for (i = 0; i < npix; i++)
		fg[i] |= holes[i];
	sort_pieces(fg, doubt, w, h);
	free(holes);
}

/* BLOB gets the purple blobs of the measures (W x H): the weakly purple
 * regions that hold STAIN_MIN pixels of a strongly purple core at least
 * 3 px thick.  The hysteresis and the opening pass over most of the thin
 * purple fringes that the optics give red cells. */
static void
purple_blobs(unsigned char *blob, const short *darkg, const short *purple,
    int w, int h)
{
	size_t npix = (size_t)w * h, i;
	unsigned char *core = xmalloc(npix);
	int *lab = xmalloc_array(npix, sizeof *lab);
	long *hits;
	int n;

	for (i = 0; i < npix; i++) {
		blob[i] = purple[i] >= STAIN_WEAK && darkg[i] >= STAIN_DARK;
		core[i] = purple[i] >= STAIN_STRONG && darkg[i] >= STAIN_DARK;
	}
	mask_open(core, w, h, STAIN_OPEN);
	n = mask_label(lab, blob, w, h, NULL);
	hits = xcalloc(n + 1, sizeof *hits);
	for (i = 0; i < npix; i++)
		hits[lab[i]] += core[i];
	for (i = 0; i < npix; i++)
		blob[i] = lab[i] && hits[lab[i]] >= STAIN_MIN;
	free(hits);
	free(lab);
	free(core);
}

/* The red cells of the 40x photo SC into FG, its purple blobs into BLOB,
 * and those grown by STAIN_GROW and the doubtful pieces into IGN; FIXED > 0
 * is the darkness level to use.  Returns the level. */
static int
segment(unsigned char *fg, unsigned char *ign, unsigned char *blob,
    const struct img *sc, int fixed)
{
	const int w = sc->width, h = sc->height;
	size_t npix = (size_t)w * h, i;
	short *darkg = xmalloc_array(npix, sizeof *darkg);
	short *purple = xmalloc_array(npix, sizeof *purple);
	unsigned char *plain = xmalloc(npix);
	int level, plasma;

	/* a first level on the raw measure finds the plain plasma (nearer
	 * its mode than halfway to the level) to fit the lighting to */
	measure(darkg, purple, sc);
	level = fg_level(darkg, npix, &plasma);
	for (i = 0; i < npix; i++)
		plain[i] = darkg[i] > plasma - 30 &&
		    darkg[i] < plasma + (level - plasma) / 2;
	flatten(darkg, plain, w, h);
	level = fixed > 0 ? fixed : fg_level(darkg, npix, &plasma);
	purple_blobs(blob, darkg, purple, w, h);
	memcpy(ign, blob, npix);
	mask_dilate(ign, w, h, STAIN_GROW);
	red_cells(fg, ign, darkg, level, w, h);
	free(plain);
	free(purple);
	free(darkg);
	return level;
}

/* PART gets V on the white cell of box B (at the 40x scale S) of the 40x
 * photo SC, segmented by seg_cell from the nucleus near the box's centre,
 * if that cell lies in the box grown by G (WHOLE_INSIDE of it at least)
 * and fills at least WHOLE_FILL of the box; BOX (W x H scratch) gets the
 * grown box.  Returns whether it did; a cell that leaks into its
 * neighbours or misses its box leaves PART to the nucleus alone. */
static int
whole_cell(unsigned char *part, unsigned char *box, const struct img *sc,
    const int b[4], double s, double g, int v)
{
	const int w = sc->width, h = sc->height;
	size_t npix = (size_t)w * h, i;
	unsigned char *m = xcalloc(npix, 1);
	double cx = (b[0] + b[2] + 1) * s / 2, cy = (b[1] + b[3] + 1) * s / 2;
	double boxarea = (b[2] - b[0] + 1) * s * (b[3] - b[1] + 1) * s;
	long area = 0, inside = 0;
	int ok = 0;

	memset(box, 0, npix);
	mark_box(box, w, h, b, s, g);
	if (seg_cell(m, sc, SEG_WBC, cx, cy, 1.0) == SEG_OK) {
		for (i = 0; i < npix; i++)
			if (m[i]) {
				area++;
				inside += box[i];
			}
		ok = area > 0 && inside >= WHOLE_INSIDE * area &&
		    inside >= WHOLE_FILL * boxarea;
	}
	if (ok)
		for (i = 0; i < npix; i++)
			if (m[i] && box[i])
				part[i] = (unsigned char)v;
	free(m);
	return ok;
}

/* The label plane of the 40x photo SC of job J (LAB, W x H), counted into
 * T; returns the darkness level. */
static int
make_label(unsigned char *lab, const struct img *sc, const struct job *j,
    const struct cmdline *cmd, const struct labels *lv, struct tally *t)
{
	const int w = sc->width, h = sc->height, rbc = lv->rbc;
	size_t npix = (size_t)w * h, i;
	unsigned char *fg = xmalloc(npix), *ign = xmalloc(npix);
	unsigned char *blob = xmalloc(npix), *part = xcalloc(npix, 1);
	unsigned char *in, *out, *box = xmalloc(npix);
	int k, level;

	memset(t, 0, sizeof *t);
	level = segment(fg, ign, blob, sc, cmd->level);
	for (k = 0; k < j->nbox; k++) {
		const int *b = j->box[k].b;
		double side = b[2] - b[0] > b[3] - b[1] ?
		    b[2] - b[0] + 1 : b[3] - b[1] + 1;
		double grow = fmax(BOX_GROW * side * cmd->scale, BOX_GROW_MIN);
		int v = j->box[k].kind == BOX_WBC ? lv->wbc :
		    j->box[k].kind == BOX_PLATELET ? lv->platelet : -1;

		if (j->box[k].kind == BOX_RBC)
			continue;
		mark_box(ign, w, h, b, cmd->scale, grow);
		if (v < 0)
			continue;
		/* a nucleus lies inside its box; a platelet's box is often
		 * a little off, so it is grown as for the ignore */
		if (j->box[k].kind == BOX_WBC && cmd->whole) {
			if (whole_cell(part, box, sc, b, cmd->scale, grow, v)) {
				t->wbc_whole++;
				continue;
			}
			t->wbc_nucleus++;
		}
		memset(box, 0, npix);
		mark_box(box, w, h, b, cmd->scale,
		    j->box[k].kind == BOX_WBC ? 0 : grow);
		for (i = 0; i < npix; i++)
			if (box[i] && blob[i])
				part[i] = (unsigned char)v;
	}
	if (cmd->band > 0) {
		in = xmalloc(npix);
		out = xmalloc(npix);
		memcpy(in, fg, npix);
		memcpy(out, fg, npix);
		mask_erode(in, w, h, cmd->band);
		mask_dilate(out, w, h, cmd->band);
		for (i = 0; i < npix; i++)
			if (out[i] && !in[i])
				ign[i] = 1;
		free(in);
		free(out);
	}
	for (i = 0; i < npix; i++) {
		lab[i] = part[i] ? part[i] : ign[i] ? CLASS_IGNORE :
		    fg[i] ? rbc : 0;
		t->partial += part[i] != 0;
		t->ignore += lab[i] == CLASS_IGNORE;
		t->rbc += lab[i] == rbc;
		fg[i] = lab[i] == rbc;
	}
	t->plasma = (long)npix - t->ignore - t->rbc - t->partial;
	t->regions = sieve(fg, w, h, 1, 0);

	/* How well the RBC boxes are covered; a box more than half ignored
	 * (under a white cell's box) is not scored. */
	for (k = 0; k < j->nbox; k++) {
		long n = 0, nign = 0, nrbc = 0;

		if (j->box[k].kind != BOX_RBC)
			continue;
		t->rbc_boxes++;
		memset(box, 0, npix);
		mark_box(box, w, h, j->box[k].b, cmd->scale, 0);
		for (i = 0; i < npix; i++)
			if (box[i]) {
				n++;
				nign += lab[i] == CLASS_IGNORE || part[i];
				nrbc += lab[i] == rbc;
			}
		if (n == 0 || 2 * nign > n)
			continue;
		t->rbc_scored++;
		t->rbc_covered += nrbc >= COVERED * (n - nign);
	}
	free(box);
	free(part);
	free(blob);
	free(fg);
	free(ign);
	return level;
}

/* Where X falls in 0..N-1 when the line is mirrored about its ends. */
static int
reflect(int x, int n)
{
	x %= 2 * n;
	return x < n ? x : 2 * n - 1 - x;
}

/* OUT (RGB_LABEL, at least MIN on a side) from the 40x photo SC and its
 * label LAB, the margin beyond the right and bottom edges mirrored. */
static void
compose(struct img *out, const struct img *sc, const unsigned char *lab,
    int min)
{
	const int w = sc->width, h = sc->height;
	int u, v, x, y;

	img_alloc(out, w > min ? w : min, h > min ? h : min, IMG_LABEL);
	for (v = 0; v < out->height; v++)
		for (u = 0; u < out->width; u++) {
			unsigned char *q = out->data +
			    ((size_t)v * out->width + u) * 4;
			x = reflect(u, w);
			y = reflect(v, h);
			memcpy(q, sc->data + ((size_t)y * w + x) * sc->depth, 3);
			q[3] = lab[(size_t)y * w + x];
		}
}

static void
meta_int(struct img *im, const char *key, long v)
{
	char buf[32];

	snprintf(buf, sizeof buf, "%ld", v);
	img_meta_set(im, key, buf);
}

static void
meta_share(struct img *im, const char *key, long n, long total)
{
	char buf[32];

	snprintf(buf, sizeof buf, "%.3f", total > 0 ? (double)n / total : 0);
	img_meta_set(im, key, buf);
}

/* The provenance and counts of job J into OUT's header. */
static void
describe(struct img *out, const struct job *j, const struct cmdline *cmd,
    const struct img *sc, const struct tally *t, int level)
{
	long npix = (long)sc->width * sc->height;
	char buf[64];
	int k, n[BOX_NKINDS] = { 0 };

	for (k = 0; k < j->nbox; k++)
		n[j->box[k].kind]++;
	img_meta_set(out, "kind", "real");
	img_meta_set(out, "id", j->id);
	img_meta_set(out, "group", j->group);
	img_meta_set(out, "source", cmd->source);
	snprintf(buf, sizeof buf, "%.4g", cmd->scale);
	img_meta_set(out, "scale", buf);
	snprintf(buf, sizeof buf, "%dx%d", sc->width, sc->height);
	img_meta_set(out, "unpadded", buf);
	meta_int(out, "rbc_boxes", n[BOX_RBC]);
	meta_int(out, "wbc_boxes", n[BOX_WBC]);
	meta_int(out, "platelet_boxes", n[BOX_PLATELET]);
	meta_int(out, "rbc_covered", t->rbc_covered);
	meta_int(out, "rbc_scored", t->rbc_scored);
	meta_int(out, "rbc_regions", t->regions);
	meta_share(out, "coverage", t->rbc, npix);
	meta_share(out, "ignored", t->ignore, npix);
	meta_share(out, "partial", t->partial, npix);
	meta_int(out, "level", level);
	if (cmd->whole) {
		meta_int(out, "wbc_whole", t->wbc_whole);
		meta_int(out, "wbc_nucleus", t->wbc_nucleus);
	}
}

static void
tally_add(struct tally *sum, const struct tally *t)
{
	sum->rbc += t->rbc;
	sum->plasma += t->plasma;
	sum->ignore += t->ignore;
	sum->partial += t->partial;
	sum->rbc_boxes += t->rbc_boxes;
	sum->rbc_scored += t->rbc_scored;
	sum->rbc_covered += t->rbc_covered;
	sum->regions += t->regions;
	sum->wbc_whole += t->wbc_whole;
	sum->wbc_nucleus += t->wbc_nucleus;
}

int
main(int argc, char **argv)
{
	struct cmdline cmd;
	struct img_reader rd;
	struct img im = { 0 }, sc = { 0 }, out = { 0 };
	struct tally t, sum = { 0 };
	const struct job *j;
	unsigned char *lab;
	FILE *spool;
	const struct class_table *ct;
	struct labels lv;
	int n = 0, level;
	long total;

	parse_cmdline(argc, argv, &cmd);
	ct = classes_load(NULL);
	if ((lv.rbc = classes_lookup(ct, "Healthy RBC")) < 0)
		die("the class table has no 'Healthy RBC' class");
	/* without its partial label, a box is ignored as with -P */
	lv.wbc = cmd.no_partial ? -1 : classes_partial(ct, "White cell");
	lv.platelet = cmd.no_partial ? -1 : classes_partial(ct, "Platelet");
	spool = spool_open();
	img_open(&rd, cmd.input);
	while (img_read(&rd, &im, IMG_RGB)) {
		if (++n > cmd.njobs)
			die("%s: has more photos than %s has lines (%d)",
			    rd.name, display_name(cmd.list), cmd.njobs);
		j = &cmd.jobs[n - 1];
		check_boxes(j, im.width, im.height, &cmd);
		rescale(&sc, &im, cmd.scale, j->id);
		lab = xmalloc_array((size_t)sc.width, sc.height);
		level = make_label(lab, &sc, j, &cmd, &lv, &t);
		compose(&out, &sc, lab, cmd.min);
		describe(&out, j, &cmd, &sc, &t, level);
		img_write(spool, "<temporary file>", &out);
		tally_add(&sum, &t);
		img_free(&out);
		img_free(&sc);
		free(lab);
	}
	img_close(&rd);
	if (n < cmd.njobs)
		die("%s: has %d lines, the stream only %d photo%s",
		    display_name(cmd.list), cmd.njobs, n, n == 1 ? "" : "s");
	spool_commit(spool, stdout, "<stdout>");
	total = sum.rbc + sum.plasma + sum.ignore + sum.partial;
	if (!cmd.quiet)
		warn("%d photo%s: red cell %.1f%%, plasma %.1f%%, partial "
		    "%.1f%%, ignore %.1f%% (before padding); %d of %d scored "
		    "RBC boxes covered", n, n == 1 ? "" : "s",
		    100.0 * sum.rbc / total, 100.0 * sum.plasma / total,
		    100.0 * sum.partial / total, 100.0 * sum.ignore / total,
		    sum.rbc_covered, sum.rbc_scored);
	if (!cmd.quiet && cmd.whole)
		warn("white cells: %d whole, %d by the nucleus alone (the "
		    "whole cell leaked or missed its box)", sum.wbc_whole,
		    sum.wbc_nucleus);
	img_free(&im);
	return 0;
}
