/*
 * colorize - turn class maps into colour pictures.
 *
 * Reads PGM class maps (or RGB_LABEL tiles, whose label plane is used) and
 * writes one PPM per map, each class in its colour from the class table.
 * With --overlay the colours are blended over the matching input images;
 * with --side-by-side the output is image | prediction | truth side by side, the
 * truth (and the image) taken from an RGB_LABEL tile stream.  --legend
 * reads nothing and draws the class table: each class's colour beside its
 * index and name.
 *
 * The two red-cell classes differ only in red against green, which many
 * readers cannot tell apart, and the table's colours are fixed.  So an
 * overlay hatches infected red cells: on every other diagonal stripe the
 * image shows through unblended.  The legend draws that class's swatch
 * hatched too; plain colour maps keep the table's colours exactly.
 *
 * Output is spooled, so a bad image anywhere in a stream leaves stdout
 * empty.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classes.h"
#include "cli.h"
#include "font.h"
#include "image.h"
#include "util.h"

#define GAP 4                   /* white columns between side-by-side panels */
#define HATCH 4                 /* width of the overlay's hatch stripes, px */
#define HATCHED "Infected RBC"  /* the class hatched in overlays */
#define LEGEND_SCALE 2          /* legend text: font pixels per pixel */
#define LEGEND_PAD 8            /* legend margin and column gap, px */
#define SWATCH_W 40             /* legend swatch, px */

struct cmdline {
	const char *input;      /* class maps; "-" = stdin */
	const char *overlay;    /* images to blend over, or NULL */
	const char *truth;      /* RGB_LABEL tiles for side by side, or NULL */
	double alpha;           /* colour weight in an overlay */
	int legend;             /* draw the legend instead */
};

static const struct cli_info info = {
	"colorize",
	"[-a alpha] [-o images | -t tiles] [file] | --legend",
	"Turn class maps (PGM, value = class index; or the label plane of\n"
	"RGB_LABEL tiles) into PPM colour maps with the class table's colours.\n"
	"\n"
	"  -o, --overlay FILE   blend the colours over the matching images\n"
	"                       (PPM, or RGB_LABEL tiles); background stays\n"
	"  -t, --side-by-side FILE\n"
	"                       image | prediction | truth side by side, from\n"
	"                       an RGB_LABEL tile stream\n"
	"  -a, --alpha A        weight of the colour in a blend (default 0.45)\n"
	"  -L, --legend         draw the class table's colours and names; reads\n"
	"                       no input\n"
	"  -h, --help           this help\n"
	"      --version        print the version\n",
};

static void
parse_cmdline(int argc, char **argv, struct cmdline *cmd)
{
	static const struct option opts[] = {
		{ "overlay", required_argument, NULL, 'o' },
		{ "side-by-side", required_argument, NULL, 't' },
		{ "alpha", required_argument, NULL, 'a' },
		{ "legend", no_argument, NULL, 'L' },
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int c;

	cli_begin(argc, argv, &info);
	cmd->overlay = cmd->truth = NULL;
	cmd->alpha = 0.45;
	cmd->legend = 0;
	while ((c = getopt_long(argc, argv, ":ho:t:a:L", opts, NULL)) != -1)
		switch (c) {
		case 'o':
			cmd->overlay = optarg;
			break;
		case 't':
			cmd->truth = optarg;
			break;
		case 'a':
			cmd->alpha = xstrtod(optarg, 0, 1, "alpha");
			break;
		case 'L':
			cmd->legend = 1;
			break;
		default:
			cli_common(c);
		}
	if (cmd->legend) {
		if (cmd->overlay || cmd->truth || optind < argc)
			cli_usage("--legend takes no images");
		return;
	}
	cli_max_operands(argc, optind, 1);
	if (cmd->overlay && cmd->truth)
		cli_usage("--overlay and --side-by-side exclude each other");
	cmd->input = optind < argc ? argv[optind] : "-";
	if (cmd->overlay && strcmp(cmd->overlay, "-") == 0 &&
	    strcmp(cmd->input, "-") == 0)
		cli_usage("the maps and the images cannot both be stdin");
	if (cmd->truth && strcmp(cmd->truth, "-") == 0 &&
	    strcmp(cmd->input, "-") == 0)
		cli_usage("the maps and the truth cannot both be stdin");
}

/* Whether (X, Y) lies on a hatch stripe that shows the image. */
static int
on_hatch(int x, int y)
{
	return (x + y) / HATCH % 2 == 1;
}

/* Paint the class map MAP (plane PLANE of each pixel) into RGB image OUT
 * at column X0; blend over BASE (depth >= 3) with weight ALPHA if BASE is
 * not NULL, leaving background (class 0) pixels as the image, and the
 * hatch stripes of class HATCH (-1: none) too. */
static void
paint(struct img *out, int x0, const struct img *map, int plane,
    const struct img *base, double alpha, const struct class_table *ct,
    int hatch)
{
	const unsigned char *m = map->data + plane, *b, *col;
	unsigned char *o;
	int x, y, k;

	for (y = 0; y < map->height; y++)
		for (x = 0; x < map->width; x++, m += map->depth) {
			o = out->data + ((size_t)y * out->width + x0 + x) * 3;
			col = classes_colour(ct, *m);
			if (base == NULL) {
				memcpy(o, col, 3);
				continue;
			}
			b = base->data + ((size_t)y * base->width + x) *
			    base->depth;
			for (k = 0; k < 3; k++)
				o[k] = *m == 0 || (*m == hatch &&
				    on_hatch(x, y)) ? b[k] :
				    (unsigned char)(alpha * col[k] +
				    (1 - alpha) * b[k] + 0.5);
		}
}

/* Copy the RGB planes of IMG into OUT at column X0. */
static void
copy_rgb(struct img *out, int x0, const struct img *im)
{
	const unsigned char *s = im->data;
	unsigned char *o;
	int x, y;

	for (y = 0; y < im->height; y++)
		for (x = 0; x < im->width; x++, s += im->depth) {
			o = out->data + ((size_t)y * out->width + x0 + x) * 3;
			memcpy(o, s, 3);
		}
}

/* Read the image that goes with map number N from R, or die naming the
 * first mismatch. */
static void
read_partner(struct img_reader *r, struct img *im, unsigned accept,
    const struct img *map, int n)
{
	if (!img_read(r, im, accept))
		die("%s: has %d images, the maps have more", r->name,
		    r->count);
	if (im->width != map->width || im->height != map->height)
		die("%s: image %d is %dx%d, its class map is %dx%d", r->name,
		    n, im->width, im->height, map->width, map->height);
}

/* "INDEX NAME" of label value I of the table CT into BUF (size N). */
static void
legend_text(char *buf, size_t n, const struct class_table *ct, int i)
{
	const char *name = i == CLASS_IGNORE ? ct->ignore.name : NULL;
	int k;

	if (i < ct->n)
		name = ct->c[i].name;
	for (k = 0; k < ct->npartial; k++)
		if (ct->partial[k].index == i)
			name = ct->partial[k].info.name;
	snprintf(buf, n, "%3d %s", i, name ? name : "?");
}

/* Draw the legend of the class table CT into OUT: one row per class, then
 * the partial labels and the ignore label, each a swatch of its colour
 * (framed, so that black and white show) and "INDEX NAME". */
static void
legend(struct img *out, const struct class_table *ct, int hatch)
{
	static const unsigned char ink[3] = { 0, 0, 0 }, frame[3] = { 96, 96,
	    96 };
	int idx[CLASS_MAX + CLASS_PARTIAL_MAX + 1], n = 0, i, x, y, w = 0;
	int row = FONT_H * LEGEND_SCALE + LEGEND_PAD / 2;
	char text[CLASS_NAME_MAX + 8];
	const unsigned char *col;

	for (i = 0; i < ct->n; i++)
		idx[n++] = i;
	for (i = 0; i < ct->npartial; i++)
		idx[n++] = ct->partial[i].index;
	idx[n++] = CLASS_IGNORE;
	for (i = 0; i < n; i++) {
		legend_text(text, sizeof text, ct, idx[i]);
		if (font_width(text, LEGEND_SCALE) > w)
			w = font_width(text, LEGEND_SCALE);
	}
	img_alloc(out, 3 * LEGEND_PAD + SWATCH_W + w, 2 * LEGEND_PAD + n * row -
	    LEGEND_PAD / 2, IMG_RGB);
	memset(out->data, 255, (size_t)out->width * out->height * 3);
	for (i = 0; i < n; i++) {
		int y0 = LEGEND_PAD + i * row, h = FONT_H * LEGEND_SCALE;
		col = classes_colour(ct, idx[i]);
		for (y = 0; y < h; y++)
			for (x = 0; x < SWATCH_W; x++) {
				unsigned char *o = out->data + ((size_t)(y0 + y) *
				    out->width + LEGEND_PAD + x) * 3;
				if (x == 0 || y == 0 || x == SWATCH_W - 1 ||
				    y == h - 1)
					memcpy(o, frame, 3);
				else if (!(idx[i] == hatch && on_hatch(x, y)))
					memcpy(o, col, 3);
			}
		legend_text(text, sizeof text, ct, idx[i]);
		font_draw(out, 2 * LEGEND_PAD + SWATCH_W, y0, text, ink,
		    LEGEND_SCALE);
	}
}

int
main(int argc, char **argv)
{
	struct cmdline cmd;
	const struct class_table *ct;
	struct img_reader in, part;
	struct img map = { 0 }, other = { 0 }, out = { 0 };
	FILE *spool;
	int plane, panels, w, hatch;

	parse_cmdline(argc, argv, &cmd);
	ct = classes_load(NULL);
	hatch = classes_lookup(ct, HATCHED);
	if (cmd.legend) {
		legend(&out, ct, hatch);
		img_write(stdout, "<stdout>", &out);
		img_free(&out);
		xfshut(stdout, "<stdout>");
		return 0;
	}
	img_open(&in, cmd.input);
	if (cmd.overlay || cmd.truth)
		img_open(&part, cmd.overlay ? cmd.overlay : cmd.truth);
	panels = cmd.truth ? 3 : 1;
	spool = spool_open();
	while (img_read(&in, &map, IMG_GRAY | IMG_LABEL | IMG_CLASSMAP)) {
		plane = map.kind == IMG_LABEL ? 3 : 0;
		if (cmd.overlay)
			read_partner(&part, &other, IMG_RGB | IMG_LABEL, &map,
			    in.count);
		else if (cmd.truth)
			read_partner(&part, &other, IMG_LABEL, &map, in.count);
		w = panels * map.width + (panels - 1) * GAP;
		img_alloc(&out, w, map.height, IMG_RGB);
		memset(out.data, 255, (size_t)w * map.height * 3);
		if (cmd.truth) {
			copy_rgb(&out, 0, &other);
			paint(&out, map.width + GAP, &map, plane, NULL, 0, ct,
			    -1);
			paint(&out, 2 * (map.width + GAP), &other, 3, NULL, 0,
			    ct, -1);
		} else
			paint(&out, 0, &map, plane, cmd.overlay ? &other : NULL,
			    cmd.alpha, ct, hatch);
		img_write(spool, "<stdout>", &out);
		img_free(&out);
	}
	if ((cmd.overlay || cmd.truth) && img_read(&part, &other,
	    IMG_RGB | IMG_LABEL))
		die("%s: has more images than the %d class maps", part.name,
		    in.count);
	spool_commit(spool, stdout, "<stdout>");
	return 0;
}
