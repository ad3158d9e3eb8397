/*
 * colorize - turn class maps into colour pictures.
 *
 * Reads PGM class maps (or RGB_LABEL tiles, whose label plane is used) and
 * writes one PPM per map, each class in its colour from the class table.
 * With --overlay the colours are blended over the matching input images;
 * with --side-by-side the output is image | prediction | truth side by side, the
 * truth (and the image) taken from an RGB_LABEL tile stream.
 *
 * Output is spooled, so a bad image anywhere in a stream leaves stdout
 * empty.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classes.h"
#include "cli.h"
#include "image.h"
#include "util.h"

#define GAP 4                   /* white columns between side-by-side panels */

struct cmdline {
	const char *input;      /* class maps; "-" = stdin */
	const char *overlay;    /* images to blend over, or NULL */
	const char *truth;      /* RGB_LABEL tiles for side by side, or NULL */
	double alpha;           /* colour weight in an overlay */
};

static const struct cli_info info = {
	"colorize",
	"[-a alpha] [-o images | -t tiles] [file]",
	"Turn class maps (PGM, value = class index; or the label plane of\n"
	"RGB_LABEL tiles) into PPM colour maps with the class table's colours.\n"
	"\n"
	"  -o, --overlay FILE   blend the colours over the matching images\n"
	"                       (PPM, or RGB_LABEL tiles); background stays\n"
	"  -t, --side-by-side FILE\n"
	"                       image | prediction | truth side by side, from\n"
	"                       an RGB_LABEL tile stream\n"
	"  -a, --alpha A        weight of the colour in a blend (default 0.45)\n"
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
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int c;

	cli_begin(argc, argv, &info);
	cmd->overlay = cmd->truth = NULL;
	cmd->alpha = 0.45;
	while ((c = getopt_long(argc, argv, ":ho:t:a:", opts, NULL)) != -1)
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
		default:
			cli_common(c);
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

/* Paint the class map MAP (plane PLANE of each pixel) into RGB image OUT
 * at column X0; blend over BASE (depth >= 3) with weight ALPHA if BASE is
 * not NULL, leaving background (class 0) pixels as the image. */
static void
paint(struct img *out, int x0, const struct img *map, int plane,
    const struct img *base, double alpha, const struct class_table *ct)
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
				o[k] = *m == 0 ? b[k] :
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

int
main(int argc, char **argv)
{
	struct cmdline cmd;
	const struct class_table *ct;
	struct img_reader in, part;
	struct img map = { 0 }, other = { 0 }, out = { 0 };
	FILE *spool;
	int plane, panels, w;

	parse_cmdline(argc, argv, &cmd);
	ct = classes_load(NULL);
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
			paint(&out, map.width + GAP, &map, plane, NULL, 0, ct);
			paint(&out, 2 * (map.width + GAP), &other, 3, NULL, 0,
			    ct);
		} else
			paint(&out, 0, &map, plane, cmd.overlay ? &other : NULL,
			    cmd.alpha, ct);
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
