/*
 * make-background - large RBC-only backgrounds with exact label maps.
 *
 * Reads healthy and infected RBC samples (other classes in the stream are
 * passed over) and writes an RGB_LABEL stream of backgrounds, by default
 * 1000x1000: a plasma of smoothly varying, slightly noisy colour (never
 * the pure white of the reference work) covered to about 25% by RBCs at
 * random positions, rotations and mirrorings.  Cells may overlap a little;
 * a later cell covers an earlier one in the image and in the label alike,
 * so the label under every pixel is the class of the cell drawn on top.
 * The label plane holds 0 (plasma), the Infected RBC or the Healthy RBC
 * index, never anything between.
 *
 * The stain of each background is drawn on its own, independently of the
 * classes in it: a plasma colour near one seen in real smears (BCCD's
 * grey, CellaVision's cream, a pinkish grey) and a red-cell colour as a
 * per-channel ratio to the plasma.  Every red cell is brought to that
 * colour (its own median colour scaled to it, plus a little per-cell
 * variation), so a cell's colour says nothing of its class or of the
 * slide it came from; what tells infected from healthy is the parasite.
 * -u keeps the samples' own colours (the behaviour before this).  -U
 * keeps them for a share of the backgrounds only, each of which draws all
 * its cells from one source that holds both classes, so that there too
 * the colour tells nothing of the class: the cells show the colours and
 * the shading of a real stain (a bluish cell, a grey one) where the drawn
 * stains give every cell one colour.
 *
 * Half the backgrounds carry stain precipitate on their plasma: small
 * purple specks, alone or in loose clusters, labelled plasma, so that a
 * network does not take every dot of stain for a parasite in a cell.
 * Half carry faint ghosts of lysed red cells, also labelled plasma.
 *
 * Kinds: healthy, infected, or mixed, where each mixed background draws its
 * own infected share (uniform in 0.1-0.9 by default) so that a tile's
 * context does not tell whether a given cell is infected.  The default,
 * all, cycles through the three.  Each background has its own random
 * stream, so backgrounds are made in parallel and the output depends only
 * on the seed and the input.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classes.h"
#include "cli.h"
#include "image.h"
#include "paste.h"
#include "rng.h"
#include "samples.h"
#include "util.h"

#define PI 3.14159265358979323846
#define CHUNK 8                 /* backgrounds made between two writes */
#define PLACE_TRIES 50          /* positions tried per cell */
#define MAX_MISSES 2000         /* failed cells before giving up */
#define FEATHER 2.0             /* soft image edge, in pixels */
#define GRID 160                /* spacing of the plasma's colour field */
#define SPECK_STREAM 0x5bec     /* random sub-stream of a background's specks */
#define GHOST_STREAM 0x6057     /* random sub-stream of its ghost cells */
#define TINT_STREAM 0x7147      /* random sub-stream of its cells' own tints */
#define STAIN_STREAM 0xb10e    /* random sub-stream of its stain shift */
#define COVER_STREAM 0xc0fe     /* random sub-stream of its coverage */
#define OWN_STREAM 0x0c01       /* random sub-stream of its own-colour draw */
#define MAX_SOURCES 32          /* sources with both classes, for -U */

/* Plasma colours of the training sources, measured as the mean of the
 * brightest fifth of their photos (segment.h): BCCD, the CellaVision crops
 * of PBC and zxaoyou, and the pinkish grey used before. */
static const double plasma_base[][3] = {
	{ 205, 206, 202 }, { 254, 227, 203 }, { 226, 214, 210 },
};
/* Red cell / plasma per channel in the same photos (median cell colour
 * over plasma: BCCD 0.89 0.76 0.79 and 0.90 0.81 0.87, PBC 0.81 0.73
 * 0.83, zxaoyou 0.80 0.63 0.76): the mean; each background draws its
 * ratio around it, mostly in common (a paler or darker stain) and a
 * little per channel (-r: redder, greyer or bluer cells), so that green
 * mostly stays the darkest channel.  pipelines/eval-real.sh puts each NIH
 * cell on the plasma this ratio gives it. */
static const double rbc_ratio[3] = { 0.85, 0.73, 0.81 };
#define RBC_RATIO_SD 0.04       /* s.d. common to the three channels */
/* Red cell / plasma of smears stained bluer and redder: the median
 * colours of the NIH red cells of the training split, healthy and
 * infected alike, over the pinkish-grey plasma 225 215 212; the bluish
 * ones (blue above red, 177 of its 456 NIH cells) 163 157 179, the
 * others 203 148 148.  -b and -R move a share of the backgrounds' ratios
 * toward them. */
static const double blue_ratio[3] = { 0.72, 0.73, 0.84 };
static const double red_ratio[3] = { 0.90, 0.69, 0.70 };
#define PLASMA_MAX 236          /* brightest plasma channel: never white */
#define SPECK_RMAX 1.8          /* largest radius of a speck, px */

enum kind { KIND_HEALTHY, KIND_INFECTED, KIND_MIXED, KIND_ALL };
static const char *const kind_name[] = { "healthy", "infected", "mixed",
    "all" };

struct cmdline {
	uint64_t seed;
	long count;
	int width, height;
	enum kind kind;
	double cover_lo, cover_hi;  /* share of pixels under red cells */
	double mix_lo, mix_hi;  /* infected share of a mixed background */
	double overlap;         /* largest share of a cell on earlier ones */
	int own_colour;         /* -u: keep each sample's colour */
	double own_share;       /* -U: share of backgrounds in own colours */
	double specks;          /* most stain specks per 10,000 plasma px */
	double ghosts;          /* most ghost cells per red cell */
	double spread;          /* s.d. of each channel's red-cell ratio */
	double cell_spread;     /* s.d. of each cell's own departure */
	double feather;         /* soft edge of the red cells' image, px */
	double blue;            /* share of backgrounds with a bluer stain */
	double red;             /* share of backgrounds with a redder stain */
	double speck_margin;    /* least gap between a speck and a cell, px */
	const char *input;
};

static const struct cli_info info = {
	"make-background",
	"[-s seed] [-n count] [-W width] [-H height] [-k kind]\n"
	"       [-c coverage|lo-hi] [-m lo-hi] [-o overlap] [-d specks]\n"
	"       [-g ghosts] [-r spread] [-e spread] [-f px] [-b share]\n"
	"       [-R share] [-p px] [-u] [-U share] [file]",
	"Make RGB_LABEL backgrounds of RBCs on plasma from a stream of RBC\n"
	"samples (RGB_ALPHA; samples of other classes are passed over).\n"
	"\n"
	"  -s, --seed N          random seed (default 1)\n"
	"  -n, --count N         number of backgrounds (default 3)\n"
	"  -W, --width N         width in pixels (default 1000)\n"
	"  -H, --height N        height in pixels (default 1000)\n"
	"  -k, --kind K          healthy, infected, mixed, or all to cycle\n"
	"                        through the three (default all)\n"
	"  -c, --coverage F      share of pixels covered by RBCs (default\n"
	"                        0.25); LO-HI: each background draws its own\n"
	"                        share in that range, sparse to dense smears\n"
	"  -m, --mix LO-HI       range of the infected share of a mixed\n"
	"                        background (default 0.1-0.9)\n"
	"  -o, --overlap F       largest share of a cell that may lie on\n"
	"                        cells drawn before it (default 0.1)\n"
	"  -d, --specks F        stain precipitate on the plasma: half the\n"
	"                        backgrounds draw up to F specks per 10,000\n"
	"                        pixels, labelled plasma (default 8; 0: none)\n"
	"  -g, --ghosts F        faint ghosts of lysed red cells on the plasma:\n"
	"                        half the backgrounds draw up to F per red\n"
	"                        cell, labelled plasma (default 0.25; 0: none)\n"
	"  -r, --rbc-spread SD   s.d. of each channel of the red cells' colour\n"
	"                        over the plasma, on its own (default 0.025)\n"
	"  -e, --cell-spread SD  each red cell departs from its background's\n"
	"                        stain by a shade and a gain per channel of\n"
	"                        s.d. SD, healthy and infected alike\n"
	"                        (default 0: a gain of s.d. 0.03 alone)\n"
	"  -f, --feather PX      the soft edge of the red cells' image, in\n"
	"                        pixels (default 2); the labels stay where a\n"
	"                        soft edge of 2 puts them\n"
	"  -b, --blue SHARE      that share of the backgrounds draw their red\n"
	"                        cells' stain bluer, from the usual pink\n"
	"                        toward a blue-violet by a uniform amount\n"
	"                        (default 0)\n"
	"  -R, --redder SHARE    that share draw it redder, toward a deep\n"
	"                        pink (default 0; with -b, at most 1 in all)\n"
	"  -p, --speck-margin PX keep every speck PX pixels clear of the red\n"
	"                        cells, so that a dot on a cell's rim is\n"
	"                        always a parasite (default 0)\n"
	"  -U, --own-share SHARE that share of the backgrounds keep their red\n"
	"                        cells' own colours, each drawing them from\n"
	"                        one source that holds both classes\n"
	"                        (default 0)\n"
	"  -u, --own-colour      keep each red cell's own colour instead of\n"
	"                        the background's drawn stain\n"
	"  -h, --help            this help\n"
	"      --version         print the version\n",
};

/* Parse S, a range LO-HI of numbers in [0, MAX] (WHAT names it), into
 * *LO and *HI; a single number N gives N-N where SINGLE allows it. */
static void
parse_range(const char *s, double max, int single, const char *what,
    double *lo, double *hi)
{
	const char *dash = strchr(s, '-');
	char buf[64], name[96];

	if (dash == NULL && single) {
		*lo = *hi = xstrtod(s, 0, max, what);
		return;
	}
	if (dash == NULL || (size_t)(dash - s) >= sizeof buf)
		cli_usage("invalid %s '%s' (expected LO-HI, e.g. %s)", what,
		    s, single ? "0.2-0.5" : "0.1-0.9");
	memcpy(buf, s, dash - s);
	buf[dash - s] = '\0';
	snprintf(name, sizeof name, "%s start", what);
	*lo = xstrtod(buf, 0, max, name);
	snprintf(name, sizeof name, "%s end", what);
	*hi = xstrtod(dash + 1, 0, max, name);
	if (*lo > *hi)
		cli_usage("invalid %s '%s' (start above end)", what, s);
}

static void
parse_cmdline(int argc, char **argv, struct cmdline *cmd)
{
	static const struct option opts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'n' },
		{ "width", required_argument, NULL, 'W' },
		{ "height", required_argument, NULL, 'H' },
		{ "kind", required_argument, NULL, 'k' },
		{ "coverage", required_argument, NULL, 'c' },
		{ "mix", required_argument, NULL, 'm' },
		{ "overlap", required_argument, NULL, 'o' },
		{ "own-colour", no_argument, NULL, 'u' },
		{ "own-share", required_argument, NULL, 'U' },
		{ "specks", required_argument, NULL, 'd' },
		{ "ghosts", required_argument, NULL, 'g' },
		{ "rbc-spread", required_argument, NULL, 'r' },
		{ "cell-spread", required_argument, NULL, 'e' },
		{ "feather", required_argument, NULL, 'f' },
		{ "blue", required_argument, NULL, 'b' },
		{ "redder", required_argument, NULL, 'R' },
		{ "speck-margin", required_argument, NULL, 'p' },
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int c, k;

	cli_begin(argc, argv, &info);
	cmd->seed = 1;
	cmd->count = 3;
	cmd->width = cmd->height = 1000;
	cmd->kind = KIND_ALL;
	cmd->cover_lo = cmd->cover_hi = 0.25;
	cmd->mix_lo = 0.1;
	cmd->mix_hi = 0.9;
	cmd->overlap = 0.1;
	cmd->own_colour = 0;
	cmd->own_share = 0;
	cmd->specks = 8;
	cmd->ghosts = 0.25;
	cmd->spread = 0.025;
	cmd->cell_spread = 0;
	cmd->feather = FEATHER;
	cmd->blue = cmd->red = 0;
	cmd->speck_margin = 0;
	while ((c = getopt_long(argc, argv, ":hs:n:W:H:k:c:m:o:uU:d:g:r:e:f:b:R:p:",
	    opts,
	    NULL)) != -1)
		switch (c) {
		case 's':
			cmd->seed = (uint64_t)xstrtol(optarg, 0, INT64_MAX,
			    "seed");
			break;
		case 'n':
			cmd->count = xstrtol(optarg, 1, 1000000,
			    "background count");
			break;
		case 'W':
			cmd->width = (int)xstrtol(optarg, 16, 16384, "width");
			break;
		case 'H':
			cmd->height = (int)xstrtol(optarg, 16, 16384, "height");
			break;
		case 'k':
			for (k = 0; k <= KIND_ALL; k++)
				if (strcmp(optarg, kind_name[k]) == 0)
					break;
			if (k > KIND_ALL)
				cli_usage("invalid kind '%s' (expected healthy, "
				    "infected, mixed or all)", optarg);
			cmd->kind = (enum kind)k;
			break;
		case 'c':
			parse_range(optarg, 0.9, 1, "coverage", &cmd->cover_lo,
			    &cmd->cover_hi);
			break;
		case 'm':
			parse_range(optarg, 1, 0, "mix range", &cmd->mix_lo,
			    &cmd->mix_hi);
			break;
		case 'o':
			cmd->overlap = xstrtod(optarg, 0, 1, "overlap");
			break;
		case 'u':
			cmd->own_colour = 1;
			break;
		case 'U':
			cmd->own_share = xstrtod(optarg, 0, 1, "own-colour share");
			break;
		case 'd':
			cmd->specks = xstrtod(optarg, 0, 100, "speck density");
			break;
		case 'g':
			cmd->ghosts = xstrtod(optarg, 0, 10, "ghost share");
			break;
		case 'r':
			cmd->spread = xstrtod(optarg, 0, 0.2, "red-cell spread");
			break;
		case 'e':
			cmd->cell_spread = xstrtod(optarg, 0, 0.3,
			    "cell spread");
			break;
		case 'f':
			cmd->feather = xstrtod(optarg, 0, 4, "feather");
			break;
		case 'b':
			cmd->blue = xstrtod(optarg, 0, 1, "blue share");
			break;
		case 'R':
			cmd->red = xstrtod(optarg, 0, 1, "redder share");
			break;
		case 'p':
			cmd->speck_margin = xstrtod(optarg, 0, 20,
			    "speck margin");
			break;
		default:
			cli_common(c);
		}
	if (cmd->blue + cmd->red > 1)
		cli_usage("bluer and redder shares %g and %g: more than 1 "
		    "in all", cmd->blue, cmd->red);
	cli_max_operands(argc, optind, 1);
	cmd->input = optind < argc ? argv[optind] : "-";
}

/* Smooth weight for interpolating the coarse colour field. */
static double
smooth(double t)
{
	return t * t * (3 - 2 * t);
}

/* Fill the image planes of BG with plasma: the colour BASE, a field of
 * low-frequency variation interpolated from a coarse random grid, and
 * fine per-pixel noise.  The label plane is 0. */
static void
make_plasma(struct img *bg, struct rng *r, const double base[3])
{
	const int w = bg->width, h = bg->height;
	const int gw = w / GRID + 2, gh = h / GRID + 2;
	double *grid = xmalloc_array((size_t)gw * gh * 3, sizeof *grid);
	const double *col = base;
	int x, y, ch, i;

	for (i = 0; i < gw * gh * 3; i++)
		grid[i] = 3.5 * rng_normal(r);
	for (y = 0; y < h; y++) {
		double gy = (double)y / GRID, ty;
		int iy = (int)gy;

		ty = smooth(gy - iy);
		for (x = 0; x < w; x++) {
			double gx = (double)x / GRID, tx;
			int ix = (int)gx;
			unsigned char *q = bg->data + ((size_t)y * w + x) * 4;

			tx = smooth(gx - ix);
			for (ch = 0; ch < 3; ch++) {
				const double *g = grid + ch;
				double v = col[ch] +
				    (1 - ty) * ((1 - tx) * g[(iy * gw + ix) * 3] +
				    tx * g[(iy * gw + ix + 1) * 3]) +
				    ty * ((1 - tx) * g[((iy + 1) * gw + ix) * 3] +
				    tx * g[((iy + 1) * gw + ix + 1) * 3]) +
				    1.5 * rng_normal(r);
				q[ch] = v <= 0 ? 0 : v >= 255 ? 255 :
				    (unsigned char)(v + 0.5);
			}
			q[3] = 0;
		}
	}
	free(grid);
}

/* Darken a soft disc of radius RAD at (CX, CY) of BG's plasma towards
 * RATIO times its colour, with opacity A: a speck of stain.  Pixels under
 * a cell (label not 0) keep their colour. */
static void
draw_speck(struct img *bg, double cx, double cy, double rad, double a,
    const double ratio[3])
{
	const int w = bg->width, h = bg->height;
	int x0 = (int)floor(cx - rad - 1), x1 = (int)ceil(cx + rad + 1);
	int y0 = (int)floor(cy - rad - 1), y1 = (int)ceil(cy + rad + 1);
	int x, y, ch;

	for (y = y0 < 0 ? 0 : y0; y <= y1 && y < h; y++)
		for (x = x0 < 0 ? 0 : x0; x <= x1 && x < w; x++) {
			unsigned char *q = bg->data + ((size_t)y * w + x) * 4;
			double d = hypot(x + 0.5 - cx, y + 0.5 - cy);
			double cov = rad + 0.5 - d;

			if (cov <= 0 || q[3] != 0)
				continue;
			if (cov > 1)
				cov = 1;
			for (ch = 0; ch < 3; ch++)
				q[ch] = (unsigned char)(q[ch] * (1 - a * cov *
				    (1 - ratio[ch])) + 0.5);
		}
}

/* A map of BG's pixels within R pixels (across or along: a square) of a
 * cell, that is of a pixel whose label is not plasma.  The caller frees
 * it. */
static unsigned char *
near_cells(const struct img *bg, int r)
{
	const int w = bg->width, h = bg->height;
	unsigned char *row = xmalloc_array((size_t)w * h, 1);
	unsigned char *out = xmalloc_array((size_t)w * h, 1);
	int x, y;

	/* a running count of cell pixels along each row, then each column */
	for (y = 0; y < h; y++) {
		const unsigned char *lab = bg->data + (size_t)y * w * 4 + 3;
		int count = 0;

		for (x = 0; x < r && x < w; x++)
			count += lab[(size_t)x * 4] != 0;
		for (x = 0; x < w; x++) {
			if (x + r < w)
				count += lab[(size_t)(x + r) * 4] != 0;
			if (x - r - 1 >= 0)
				count -= lab[(size_t)(x - r - 1) * 4] != 0;
			row[(size_t)y * w + x] = count > 0;
		}
	}
	for (x = 0; x < w; x++) {
		int count = 0;

		for (y = 0; y < r && y < h; y++)
			count += row[(size_t)y * w + x];
		for (y = 0; y < h; y++) {
			if (y + r < h)
				count += row[(size_t)(y + r) * w + x];
			if (y - r - 1 >= 0)
				count -= row[(size_t)(y - r - 1) * w + x];
			out[(size_t)y * w + x] = count > 0;
		}
	}
	free(row);
	return out;
}

/* Scatter stain precipitate over the plasma of BG (never on its cells):
 * with DENSITY specks per 10,000 pixels, some on their own and most in
 * loose clusters, small purple dots of radius 0.5 to 1.8 px and varied
 * strength.  Real smears carry such specks, and a parasite's chromatin
 * is a dot of the same stain: specks on plasma teach that a dot alone
 * makes no cell.  With MARGIN > 0 a speck whose disc would come within
 * MARGIN pixels (across or along) of a cell's label is left out, so that
 * no dot touches a healthy cell's rim where a parasite on the membrane
 * shows; the random draws are the same either way.  Returns the number
 * of specks drawn. */
static long
draw_specks(struct img *bg, struct rng *r, double density, double margin)
{
	const double area = (double)bg->width * bg->height;
	const long n = (long)(density * area / 10000 + 0.5);
	double ratio[3], common = 0.08 * rng_normal(r);
	static const double dye[3] = { 0.80, 0.52, 0.78 };
	unsigned char *near = NULL;
	long i = 0, drawn = 0;
	int ch;

	if (margin > 0)
		near = near_cells(bg, (int)ceil(margin + SPECK_RMAX + 0.5));

	for (ch = 0; ch < 3; ch++) {
		double q = dye[ch] + common + 0.05 * rng_normal(r);
		ratio[ch] = q < 0.25 ? 0.25 : q > 0.95 ? 0.95 : q;
	}
	while (i < n) {
		/* a speck alone (40 %) or a cluster of 4 to 30 */
		const int alone = rng_uniform(r) < 0.4;
		int k = alone ? 1 : 4 + (int)rng_below(r, 27);
		double cx = rng_uniform(r) * bg->width;
		double cy = rng_uniform(r) * bg->height;
		double spread = alone ? 0 : 3 + 15 * rng_uniform(r);

		for (; k > 0 && i < n; k--, i++) {
			double u = rng_uniform(r);
			double x = cx + spread * rng_normal(r);
			double y = cy + spread * rng_normal(r);
			double a = 0.35 + 0.65 * rng_uniform(r);
			int px = (int)floor(x), py = (int)floor(y);

			if (near != NULL && px >= 0 && py >= 0 &&
			    px < bg->width && py < bg->height &&
			    near[(size_t)py * bg->width + px])
				continue;
			draw_speck(bg, x, y, 0.5 + (SPECK_RMAX - 0.5) * u * u,
			    a, ratio);
			drawn++;
		}
	}
	free(near);
	return drawn;
}

/* Blend patch P faintly (opacity OP) into the plasma of BG at (X0, Y0):
 * a ghost, the pale outline of a lysed red cell.  Pixels of cells (label
 * not 0) and the label plane stay as they are. */
static void
draw_ghost(struct img *bg, const struct paste_patch *p, int x0, int y0,
    double op)
{
	int x, y, ch;

	for (y = 0; y < p->h; y++)
		for (x = 0; x < p->w; x++) {
			const int bx = x0 + x, by = y0 + y;
			const size_t i = (size_t)y * p->w + x;
			unsigned char *q;
			double a;

			if (bx < 0 || by < 0 || bx >= bg->width ||
			    by >= bg->height || p->alpha[i] == 0)
				continue;
			q = bg->data + ((size_t)by * bg->width + bx) * 4;
			if (q[3] != 0)
				continue;
			a = op * p->alpha[i] / 255.0;
			for (ch = 0; ch < 3; ch++)
				q[ch] = (unsigned char)(q[ch] + a *
				    (p->rgb[i * 3 + ch] - q[ch]) + 0.5);
		}
}

struct pool {
	int cls;
	const struct sample **s;
	float (*median)[3];     /* each sample's median cell colour */
	uint32_t *deck;
	uint32_t n, next;
};

/* The index of the next sample of POOL, dealt from a deck shuffled with
 * R. */
static uint32_t
pool_draw(struct pool *p, struct rng *r)
{
	if (p->next == p->n) {
		rng_shuffle(r, p->deck, p->n);
		p->next = 0;
	}
	return p->deck[p->next++];
}

/* Draw N ghosts of lysed red cells onto the plasma of BG with R: samples
 * of HEALTHY, rotated and mirrored at random, brought to the red-cell
 * colour RBC (NULL: their own), blended faintly (opacity 0.1 to 0.4)
 * where no cell lies, and labelled plasma.  PATCH is working space. */
static void
draw_ghosts(struct img *bg, struct rng *r, const struct pool *healthy,
    const double rbc[3], long n, struct paste_patch *patch)
{
	long j;

	for (j = 0; j < n; j++) {
		uint32_t si = (uint32_t)rng_below(r, healthy->n);
		float gain[3];
		int ch;

		for (ch = 0; ch < 3; ch++)
			gain[ch] = (float)(rbc == NULL ? 1 :
			    rbc[ch] / healthy->median[si][ch]);
		paste_transform(patch, &healthy->s[si]->im,
		    rng_uniform(r) * 2 * PI, (int)rng_below(r, 2), gain,
		    FEATHER);
		draw_ghost(bg, patch, (int)rng_below(r, bg->width) -
		    patch->w / 2, (int)rng_below(r, bg->height) - patch->h / 2,
		    0.1 + 0.3 * rng_uniform(r));
	}
}

/* Draw a background's stain from R: the plasma colour PLASMA and the red
 * cells' colour RBC. */
static void
draw_stain(struct rng *r, double spread, double plasma[3], double rbc[3])
{
	const double *b = plasma_base[rng_below(r, sizeof plasma_base /
	    sizeof plasma_base[0])];
	double shade = 6 * rng_normal(r), common = RBC_RATIO_SD *
	    rng_normal(r);
	int ch;

	for (ch = 0; ch < 3; ch++) {
		double v = b[ch] + shade + 5 * rng_normal(r), q;
		plasma[ch] = v < 150 ? 150 : v > PLASMA_MAX ? PLASMA_MAX : v;
		q = rbc_ratio[ch] + common + spread * rng_normal(r);
		rbc[ch] = plasma[ch] * (q < 0.5 ? 0.5 : q > 0.98 ? 0.98 : q);
	}
}

/* Move the red-cell colour RBC over PLASMA by T (0 to 1) of the way
 * from the usual ratio toward the ratio TO, keeping the background's own
 * departure from the usual ratio. */
static void
stain_toward(const double plasma[3], double rbc[3], const double to[3],
    double t)
{
	int ch;

	for (ch = 0; ch < 3; ch++) {
		double q = rbc[ch] / plasma[ch] + t * (to[ch] - rbc_ratio[ch]);
		rbc[ch] = plasma[ch] * (q < 0.5 ? 0.5 : q > 0.98 ? 0.98 : q);
	}
}

/* The median colour of the cell pixels (alpha >= 128) of sample IM. */
static void
median_colour(const struct img *im, float med[3])
{
	size_t npix = (size_t)im->width * im->height, i, n = 0, acc;
	long hist[3][256];
	int ch, v;

	memset(hist, 0, sizeof hist);
	for (i = 0; i < npix; i++) {
		const unsigned char *p = im->data + i * 4;
		if (p[3] >= 128) {
			for (ch = 0; ch < 3; ch++)
				hist[ch][p[ch]]++;
			n++;
		}
	}
	for (ch = 0; ch < 3; ch++) {
		for (v = 0, acc = 0; v < 255; v++) {
			acc += hist[ch][v];
			if (2 * acc >= n)
				break;
		}
		med[ch] = v < 1 ? 1 : (float)v;
	}
}

/* Make background number B of kind K into BG, with its own random stream
 * split from BASE.  POOL[0] holds the healthy, POOL[1] the infected
 * samples; OWN_POOLS the same for each of the NOWN sources that hold
 * both, for -U; the decks are private copies.  Sets *WANT to the coverage
 * drawn for it, *OWN to whether its cells keep their own colours, and
 * returns the coverage reached. */
static double
make_one(struct img *bg, long b, enum kind k, const struct rng *base,
    const struct cmdline *cmd, const struct pool pool_in[2],
    const struct pool (*own_pools)[2], int nown, int *ncells,
    long *nspecks, long *nghosts, double *ratio, double stain[6],
    double *want, int *own)
{
	struct rng r, rt, rb;
	struct pool pool[2];
	struct paste_patch patch;
	double plasma[3], rbc[3];
	long covered = 0, target;
	int misses = 0, i, cells = 0;

	rng_split(base, &r, (uint64_t)b);
	/* -c LO-HI: from a stream of its own, so that a single coverage
	 * gives the backgrounds it always gave */
	*want = cmd->cover_lo;
	if (cmd->cover_hi > cmd->cover_lo) {
		struct rng rc;

		rng_split(&r, &rc, COVER_STREAM);
		*want += (cmd->cover_hi - cmd->cover_lo) * rng_uniform(&rc);
	}
	/* -U: likewise, so that the backgrounds in a drawn stain are those
	 * that -U 0 gives */
	*own = cmd->own_colour;
	if (cmd->own_share > 0) {
		struct rng ro;

		rng_split(&r, &ro, OWN_STREAM);
		if (rng_uniform(&ro) < cmd->own_share) {
			*own = 1;
			pool_in = own_pools[rng_below(&ro, (uint32_t)nown)];
		}
	}
	target = (long)(*want * bg->width * bg->height);
	memset(&patch, 0, sizeof patch);
	*nspecks = *nghosts = 0;
	for (i = 0; i < 2; i++) {
		pool[i] = pool_in[i];
		pool[i].deck = xmalloc_array(pool[i].n ? pool[i].n : 1,
		    sizeof *pool[i].deck);
		memcpy(pool[i].deck, pool_in[i].deck,
		    pool[i].n * sizeof *pool[i].deck);
		pool[i].next = pool[i].n;
	}
	*ratio = k == KIND_HEALTHY ? 0 : k == KIND_INFECTED ? 1 :
	    cmd->mix_lo + (cmd->mix_hi - cmd->mix_lo) * rng_uniform(&r);
	draw_stain(&r, cmd->spread, plasma, rbc);
	/* -b, -R: from a stream of its own, so that the cells and their
	 * places are those of the background in its usual stain */
	rng_split(&r, &rb, STAIN_STREAM);
	if (cmd->blue > 0 || cmd->red > 0) {
		double u = rng_uniform(&rb);

		if (u < cmd->blue)
			stain_toward(plasma, rbc, blue_ratio, rng_uniform(&rb));
		else if (u < cmd->blue + cmd->red)
			stain_toward(plasma, rbc, red_ratio, rng_uniform(&rb));
	}
	memcpy(stain, plasma, sizeof plasma);
	memcpy(stain + 3, rbc, sizeof rbc);
	make_plasma(bg, &r, plasma);
	/* -e: the cells' own tints come from a stream of their own, so the
	 * cells and their places are those of a background without them */
	rng_split(&r, &rt, TINT_STREAM);
	while (covered < target && misses < MAX_MISSES) {
		struct pool *pl = &pool[rng_uniform(&r) < *ratio];
		uint32_t si = pool_draw(pl, &r);
		const struct sample *s = pl->s[si];
		float gain[3];
		double shade = 1;
		int ch, t, x0 = 0, y0 = 0, inside = 0, cov = 0;

		/* -e: the cell's own shade and tint, drawn for every cell
		 * whatever its class, so that a cell's colour over the plasma
		 * tells nothing of the class */
		if (cmd->cell_spread > 0)
			shade += cmd->cell_spread * rng_normal(&rt);
		for (ch = 0; ch < 3; ch++) {
			double g = 1 + 0.03 * rng_normal(&r);
			if (cmd->cell_spread > 0)
				g *= shade * (1 + cmd->cell_spread *
				    rng_normal(&rt));
			if (!*own)
				g *= rbc[ch] / pl->median[si][ch];
			gain[ch] = (float)(g < 0.4 ? 0.4 : g > 2.5 ? 2.5 : g);
		}
		paste_transform_edge(&patch, &s->im, rng_uniform(&r) * 2 * PI,
		    (int)rng_below(&r, 2), gain, cmd->feather, FEATHER);
		for (t = 0; t < PLACE_TRIES && patch.area > 0; t++) {
			x0 = (int)rng_below(&r, bg->width) - patch.w / 2;
			y0 = (int)rng_below(&r, bg->height) - patch.h / 2;
			inside = paste_count(&patch, x0, y0, bg->width,
			    bg->height, bg->data + 3, 4, &cov);
			if (inside > 0 && cov <= cmd->overlap * patch.area)
				break;
		}
		if (patch.area == 0 || t == PLACE_TRIES) {
			misses++;
			continue;
		}
		paste_apply(bg, &patch, x0, y0, pl->cls, NULL, 0);
		covered += inside - cov;
		cells++;
	}
	/* then the ghosts of lysed red cells, from a stream of their own */
	if (cmd->ghosts > 0) {
		struct rng rg;

		rng_split(&r, &rg, GHOST_STREAM);
		*nghosts = rng_uniform(&rg) < 0.5 ? 0 : (long)(cmd->ghosts *
		    cells * rng_uniform(&rg) + 0.5);
		draw_ghosts(bg, &rg, &pool[0], *own ? NULL : rbc,
		    *nghosts, &patch);
	}
	/* the specks come last, on the plasma the cells left, from their
	 * own stream: the cells are those of a background without them */
	if (cmd->specks > 0) {
		struct rng rs;

		rng_split(&r, &rs, SPECK_STREAM);
		*nspecks = rng_uniform(&rs) < 0.5 ? 0 : draw_specks(bg, &rs,
		    cmd->specks * rng_uniform(&rs), cmd->speck_margin);
	}
	for (i = 0; i < 2; i++)
		free(pool[i].deck);
	paste_free(&patch);
	*ncells = cells;
	return (double)covered / ((double)bg->width * bg->height);
}

/* The red cells of POOL (healthy, infected) split by their "source",
 * for the sources that hold both classes, in the order of their first
 * sample: an array of *N pairs of pools, each with arrays of its own that
 * point at POOL's samples.  A source is known by the first 63 bytes of
 * its name. */
static struct pool (*
source_pools(const struct sample_set *set, const struct pool pool[2],
    int *n))[2]
{
	struct pool (*sp)[2] = xcalloc(MAX_SOURCES, sizeof *sp);
	char name[MAX_SOURCES][64], buf[64];
	uint32_t j;
	int i, c, k, ns = 0, nboth = 0;

	for (c = 0; c < 2; c++)
		for (j = 0; j < pool[c].n; j++) {
			const struct img *im = &pool[c].s[j]->im;
			const char *src = img_meta_get(im, "source", buf,
			    sizeof buf);

			if (src == NULL)
				src = "";
			for (k = 0; k < ns && strcmp(name[k], src) != 0; k++)
				;
			if (k == ns) {
				if (ns == MAX_SOURCES)
					die("%s: more than %d sources of red "
					    "cells", set->name, MAX_SOURCES);
				snprintf(name[ns++], sizeof name[0], "%s", src);
			}
			if (sp[k][c].s == NULL) {
				sp[k][c] = pool[c];
				sp[k][c].n = 0;
				sp[k][c].s = xmalloc_array(pool[c].n,
				    sizeof *sp[k][c].s);
				sp[k][c].median = xmalloc_array(pool[c].n,
				    sizeof *sp[k][c].median);
				sp[k][c].deck = xmalloc_array(pool[c].n,
				    sizeof *sp[k][c].deck);
			}
			sp[k][c].s[sp[k][c].n] = pool[c].s[j];
			memcpy(sp[k][c].median[sp[k][c].n], pool[c].median[j],
			    sizeof pool[c].median[j]);
			sp[k][c].deck[sp[k][c].n] = sp[k][c].n;
			sp[k][c].n++;
		}
	for (i = 0; i < ns; i++)
		if (sp[i][0].n > 0 && sp[i][1].n > 0)
			memmove(sp[nboth++], sp[i], sizeof sp[i]);
	*n = nboth;
	return sp;
}

int
main(int argc, char **argv)
{
	struct cmdline cmd;
	const struct class_table *ct;
	struct sample_set set;
	struct pool pool[2], (*own_pools)[2] = NULL;
	unsigned char want[CLASS_MAX];
	struct img *bgs;
	double *reached, *ratio, *drawn, (*stain)[6];
	int *ncells, *own, cls[2], i, nown = 0;
	long *nspecks, *nghosts;
	long b0, b, shortfall = 0;
	struct rng base;
	char buf[64];

	parse_cmdline(argc, argv, &cmd);
	ct = classes_load(NULL);
	cls[0] = classes_lookup(ct, "Healthy RBC");
	cls[1] = classes_lookup(ct, "Infected RBC");
	if (cls[0] < 0 || cls[1] < 0)
		die("the class table has no 'Healthy RBC' or no 'Infected "
		    "RBC' class");
	memset(want, 0, sizeof want);
	want[cls[0]] = want[cls[1]] = 1;
	samples_read(&set, cmd.input, want);
	samples_warn_rejects(&set);
	for (i = 0; i < 2; i++) {
		int j;

		pool[i].cls = cls[i];
		pool[i].n = 0;
		pool[i].next = 0;
		pool[i].s = xmalloc_array(set.n ? set.n : 1, sizeof *pool[i].s);
		pool[i].median = xmalloc_array(set.n ? set.n : 1,
		    sizeof *pool[i].median);
		pool[i].deck = xmalloc_array(set.n ? set.n : 1,
		    sizeof *pool[i].deck);
		for (j = 0; j < set.n; j++)
			if (set.v[j].cls == cls[i]) {
				pool[i].deck[pool[i].n] = pool[i].n;
				median_colour(&set.v[j].im,
				    pool[i].median[pool[i].n]);
				pool[i].s[pool[i].n++] = &set.v[j];
			}
	}
	if (cmd.own_share > 0) {
		own_pools = source_pools(&set, pool, &nown);
		if (nown == 0)
			die("%s: no source holds both Healthy RBC and Infected "
			    "RBC samples, needed for -U", set.name);
	}
	if (pool[0].n == 0 && cmd.kind != KIND_INFECTED)
		die("%s: no Healthy RBC sample, needed for %s backgrounds",
		    set.name, kind_name[cmd.kind]);
	if (pool[1].n == 0 && cmd.kind != KIND_HEALTHY)
		die("%s: no Infected RBC sample, needed for %s backgrounds",
		    set.name, kind_name[cmd.kind]);
	if (pool[0].n == 0 && cmd.kind == KIND_INFECTED)
		pool[0] = pool[1];      /* never drawn: ratio is 1 */
	if (pool[1].n == 0)
		pool[1] = pool[0];      /* never drawn: ratio is 0 */

	rng_seed(&base, cmd.seed);
	bgs = xcalloc(CHUNK, sizeof *bgs);
	reached = xmalloc_array(CHUNK, sizeof *reached);
	ratio = xmalloc_array(CHUNK, sizeof *ratio);
	drawn = xmalloc_array(CHUNK, sizeof *drawn);
	ncells = xmalloc_array(CHUNK, sizeof *ncells);
	nspecks = xmalloc_array(CHUNK, sizeof *nspecks);
	nghosts = xmalloc_array(CHUNK, sizeof *nghosts);
	stain = xmalloc_array(CHUNK, sizeof *stain);
	own = xmalloc_array(CHUNK, sizeof *own);
	for (i = 0; i < CHUNK; i++)
		img_alloc(&bgs[i], cmd.width, cmd.height, IMG_LABEL);
	for (b0 = 0; b0 < cmd.count; b0 += CHUNK) {
		long nb = cmd.count - b0 < CHUNK ? cmd.count - b0 : CHUNK;

		#pragma omp parallel for schedule(dynamic, 1)
		for (b = 0; b < nb; b++) {
			enum kind k = cmd.kind == KIND_ALL ?
			    (enum kind)((b0 + b) % 3) : cmd.kind;
			reached[b] = make_one(&bgs[b], b0 + b, k, &base, &cmd,
			    pool, (const struct pool (*)[2])own_pools, nown,
			    &ncells[b], &nspecks[b], &nghosts[b], &ratio[b],
			    stain[b], &drawn[b], &own[b]);
		}
		for (b = 0; b < nb; b++) {
			struct img *im = &bgs[b];
			enum kind k = cmd.kind == KIND_ALL ?
			    (enum kind)((b0 + b) % 3) : cmd.kind;

			free(im->meta);
			im->meta = NULL;
			img_meta_set(im, "kind", kind_name[k]);
			snprintf(buf, sizeof buf, "bg-s%llu-%ld",
			    (unsigned long long)cmd.seed, b0 + b);
			img_meta_set(im, "id", buf);
			snprintf(buf, sizeof buf, "%.3f", ratio[b]);
			img_meta_set(im, "infected_share", buf);
			snprintf(buf, sizeof buf, "%d", ncells[b]);
			img_meta_set(im, "cells", buf);
			snprintf(buf, sizeof buf, "%ld", nspecks[b]);
			img_meta_set(im, "specks", buf);
			snprintf(buf, sizeof buf, "%ld", nghosts[b]);
			img_meta_set(im, "ghosts", buf);
			snprintf(buf, sizeof buf, "%.3f", reached[b]);
			img_meta_set(im, "coverage", buf);
			snprintf(buf, sizeof buf, "%.0f %.0f %.0f", stain[b][0],
			    stain[b][1], stain[b][2]);
			img_meta_set(im, "plasma", buf);
			if (!own[b]) {
				snprintf(buf, sizeof buf, "%.0f %.0f %.0f",
				    stain[b][3], stain[b][4], stain[b][5]);
				img_meta_set(im, "rbc_colour", buf);
			}
			if (reached[b] < drawn[b] * 0.95)
				shortfall++;
			img_write(stdout, "<stdout>", im);
		}
	}
	if (shortfall > 0)
		warn("%ld background%s reached less than 95%% of the "
		    "coverage drawn (cells too large or overlap too strict)",
		    shortfall, shortfall == 1 ? "" : "s");
	xfshut(stdout, "<stdout>");
	return 0;
}
