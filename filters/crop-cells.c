/*
 * crop-cells - turn source images into cell samples at the 40x scale.
 *
 * Reads a Netpbm stream of photos of blood cells and writes one PAM
 * RGB_ALPHA cell sample per cell found: the cell's pixels, alpha 255 on
 * the cell and 0 on a small margin around it, rescaled by the source's
 * factor so that a healthy red cell is about 38 px across.  The class and
 * the provenance travel in the header as "class", "source", "group",
 * "id" and "scale" lines (image.h), so that split-dataset can keep a slide
 * together and a tile can name its samples.
 *
 * Four kinds of source, one mode each:
 *   mask    photo, then its mask (PGM; >= threshold is the cell)
 *   black   one cell on a black background (cell = any channel > threshold;
 *           its edge pixels take the cell's colour alone, not the black's)
 *   box     a whole smear and boxes, from the list; the stained cell in
 *           each box is segmented
 *   centre  a crop centred on one cell, no mask; the cell under the
 *           centre is segmented (segment.h)
 *
 * Every mask ends up binary, one 8-connected component, holes filled.  A
 * photo in which no cell is found, whose cell touches the photo's edge
 * (cut off, or a segmentation that ran away), or whose cell is
 * implausibly small or large for its class, is rejected and counted,
 * never written; a run with no sample at all fails.  Output is spooled,
 * so an error anywhere leaves stdout empty.
 */
#include <ctype.h>
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

enum crop_mode { MODE_MASK, MODE_BLACK, MODE_BOX, MODE_CENTRE };

#define MAX_BOXES 256
#define BOX_PAD 0.5             /* box growth on each side, of its size */
#define BLACK_OPEN 2.0          /* px at 40x: cuts threads to neighbours */
#define RBC_MIN_FILL 0.62       /* least share of its box a red cell fills:
				 * a disc fills 0.79, a ring the segmenter
				 * broke open (a crescent) far less */

/* How each class is segmented, and its plausible size at 40x (the longer
 * side of the cell's box, in px). */
static const struct cell_kind {
	const char *name;
	enum seg_kind kind;
	int min, max;
} cell_kinds[] = {
	{ "Eosinophil", SEG_WBC, 45, 110 },
	{ "Basophil", SEG_WBC, 45, 110 },
	{ "Neutrophil", SEG_WBC, 45, 110 },
	{ "Lymphocyte", SEG_WBC, 35, 110 },
	{ "Monocyte", SEG_WBC, 45, 110 },
	{ "Thrombocyte", SEG_PLATELET, 6, 40 },
	{ "Platelet clump", SEG_CLUMP, 15, 140 },
	{ "Infected RBC", SEG_RBC, 25, 55 },
	{ "Healthy RBC", SEG_RBC, 25, 55 },
};

/* One source image: its provenance and, in box mode, its boxes. */
struct job {
	char *id, *group;
	int cls;                        /* class index */
	int nbox;
	int (*box)[4];                  /* x0 y0 x1 y1, inclusive */
};

struct cmdline {
	const char *input;              /* "-" = stdin */
	enum crop_mode mode;
	const char *list;               /* per-image list, or NULL */
	struct list lines;              /* its lines */
	struct job *jobs;               /* what they say */
	int njobs;
	int cls;                        /* -c, without a list */
	const char *source, *id, *group;
	double scale;
	int margin;
	int threshold;
	int size_check, quiet, verbose;
};

/* The samples made so far (spooled until the input is all read), and the
 * rejects by reason. */
struct spool {
	struct img *v;
	int n, cap;
	int rejected[SEG_NRESULTS];
};

static const struct cli_info info = {
	"crop-cells",
	"-M mode [-c class | -l list] [-S source] [-i id] [-g group] "
	"[-s scale]\n"
	"       [-m margin] [-t threshold] [-nqv] [file]",
	"Turn source images into cell samples: PAM RGB_ALPHA images at the\n"
	"40x scale with the class and the provenance in their headers.\n"
	"\n"
	"  -M, --mode MODE      mask: each photo is followed by its mask (PGM);\n"
	"                       black: one cell on a black background;\n"
	"                       box: a smear and the boxes of its list line;\n"
	"                       centre: a crop centred on one cell, no mask\n"
	"  -c, --class NAME     the class of every image (without -l)\n"
	"  -l, --list FILE      one line per image: ID GROUP CLASS [BOX...],\n"
	"                       BOX = xmin,ymin,xmax,ymax; '_' for a space\n"
	"  -S, --source NAME    the source's name (default unknown)\n"
	"  -i, --id ID          the provenance id (without -l; default the\n"
	"                       file name; image N > 1 gets #N)\n"
	"  -g, --group NAME     the slide or patient group (without -l;\n"
	"                       default the id)\n"
	"  -s, --scale F        resize factor to the 40x scale (default 1)\n"
	"  -m, --margin N       transparent pixels around the cell (default 3)\n"
	"  -t, --threshold N    mask: cell if mask >= N (default 64);\n"
	"                       black: cell if a channel > N (default 10)\n"
	"  -n, --no-size-check  keep cells of any size\n"
	"  -q, --quiet          no summary line\n"
	"  -v, --verbose        name every rejected image\n"
	"  -h, --help           this help\n"
	"      --version        print the version\n",
};

/* The index of the class called NAME, or die: it must be in the table
 * and be a cell class. */
static int
class_index(const char *name, const char *where)
{
	const struct class_table *ct = classes_load(NULL);
	int c = classes_lookup(ct, name);
	size_t k;

	if (c < 0)
		die("%sunknown class '%s'", where, name);
	for (k = 0; k < sizeof cell_kinds / sizeof cell_kinds[0]; k++)
		if (strcmp(cell_kinds[k].name, ct->c[c].name) == 0)
			return c;
	die("%sclass '%s' is not a cell class", where, ct->c[c].name);
}

static const struct cell_kind *
kind_of(int cls)
{
	const struct class_table *ct = classes_load(NULL);
	size_t k;

	for (k = 0; k < sizeof cell_kinds / sizeof cell_kinds[0]; k++)
		if (strcmp(cell_kinds[k].name, ct->c[cls].name) == 0)
			break;
	return &cell_kinds[k];
}

/* Parse BOX "xmin,ymin,xmax,ymax" into B, or die naming WHERE. */
static void
parse_box(const char *s, int b[4], const char *where)
{
	switch (list_box(s, b)) {
	case LIST_BOX_OK:
		break;
	case LIST_BOX_SYNTAX:
		die("%sbad box '%s' (expected xmin,ymin,xmax,ymax)", where, s);
	case LIST_BOX_ORDER:
		die("%sbad box: xmin > xmax or ymin > ymax", where);
	}
}

#define LIST_FORM "ID GROUP CLASS [BOX...]"

/* Read the list file of CMD into CMD->jobs; every problem dies with
 * "FILE:LINE: ...", and a repeated id dies too. */
static void
load_list(struct cmdline *cmd)
{
	const struct list_line *l;
	char where[256];
	int k, b, first, second;
	struct job *j;

	list_read(&cmd->lines, cmd->list, cmd->list, LIST_FORM);
	cmd->njobs = cmd->lines.n;
	cmd->jobs = xcalloc(cmd->njobs, sizeof *cmd->jobs);
	for (k = 0; k < cmd->njobs; k++) {
		l = &cmd->lines.v[k];
		j = &cmd->jobs[k];
		list_where(&cmd->lines, k, where, sizeof where);
		if (l->nword < 3)
			die("%sexpected '" LIST_FORM "'", where);
		j->id = l->word[0];
		j->group = l->word[1];
		j->cls = class_index(l->word[2], where);
		if (l->nword > 3)
			j->box = xmalloc_array(l->nword - 3, sizeof *j->box);
		for (b = 3; b < l->nword; b++) {
			if (cmd->mode != MODE_BOX)
				die("%sboxes are only for --mode box", where);
			if (j->nbox == MAX_BOXES)
				die("%smore than %d boxes", where, MAX_BOXES);
			parse_box(l->word[b], j->box[j->nbox++], where);
		}
		if (cmd->mode == MODE_BOX && j->nbox == 0)
			die("%sno box (--mode box needs at least one)", where);
	}
	if (list_repeated_id(&cmd->lines, &first, &second))
		die("%s: id '%s' is on two lines", cmd->list,
		    cmd->jobs[first].id);
}

/* Check that NAME is usable as a metadata value. */
static void
check_name(const char *name, const char *what)
{
	const char *p;

	if (*name == '\0')
		cli_usage("empty %s", what);
	for (p = name; *p; p++)
		if (isspace((unsigned char)*p))
			cli_usage("%s '%s' has white space", what, name);
}

static void
parse_cmdline(int argc, char **argv, struct cmdline *cmd)
{
	static const struct option opts[] = {
		{ "mode", required_argument, NULL, 'M' },
		{ "class", required_argument, NULL, 'c' },
		{ "list", required_argument, NULL, 'l' },
		{ "source", required_argument, NULL, 'S' },
		{ "id", required_argument, NULL, 'i' },
		{ "group", required_argument, NULL, 'g' },
		{ "scale", required_argument, NULL, 's' },
		{ "margin", required_argument, NULL, 'm' },
		{ "threshold", required_argument, NULL, 't' },
		{ "no-size-check", no_argument, NULL, 'n' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	const char *mode = NULL, *cls = NULL;
	int c;

	cli_begin(argc, argv, &info);
	memset(cmd, 0, sizeof *cmd);
	cmd->source = "unknown";
	cmd->scale = 1;
	cmd->margin = 3;
	cmd->threshold = -1;
	cmd->size_check = 1;
	while ((c = getopt_long(argc, argv, ":hM:c:l:S:i:g:s:m:t:nqv", opts,
	    NULL)) != -1)
		switch (c) {
		case 'M':
			mode = optarg;
			break;
		case 'c':
			cls = optarg;
			break;
		case 'l':
			cmd->list = optarg;
			break;
		case 'S':
			cmd->source = optarg;
			break;
		case 'i':
			cmd->id = optarg;
			break;
		case 'g':
			cmd->group = optarg;
			break;
		case 's':
			cmd->scale = xstrtod(optarg, 0.05, 8, "scale");
			break;
		case 'm':
			cmd->margin = (int)xstrtol(optarg, 0, 32, "margin");
			break;
		case 't':
			cmd->threshold = (int)xstrtol(optarg, 0, 255,
			    "threshold");
			break;
		case 'n':
			cmd->size_check = 0;
			break;
		case 'q':
			cmd->quiet = 1;
			break;
		case 'v':
			cmd->verbose = 1;
			break;
		default:
			cli_common(c);
		}
	cli_max_operands(argc, optind, 1);
	cmd->input = optind < argc ? argv[optind] : "-";

	if (mode == NULL)
		cli_usage("no --mode (mask, black, box or centre)");
	if (strcmp(mode, "mask") == 0)
		cmd->mode = MODE_MASK;
	else if (strcmp(mode, "black") == 0)
		cmd->mode = MODE_BLACK;
	else if (strcmp(mode, "box") == 0)
		cmd->mode = MODE_BOX;
	else if (strcmp(mode, "centre") == 0 || strcmp(mode, "center") == 0)
		cmd->mode = MODE_CENTRE;
	else
		cli_usage("unknown mode '%s' (expected mask, black, box or "
		    "centre)", mode);
	if (cmd->threshold >= 0 && cmd->mode != MODE_MASK &&
	    cmd->mode != MODE_BLACK)
		cli_usage("--threshold is only for the mask and black modes");
	if (cmd->threshold < 0)
		cmd->threshold = cmd->mode == MODE_MASK ? 64 : 10;
	check_name(cmd->source, "source");
	if (cmd->list != NULL) {
		if (cls || cmd->id || cmd->group)
			cli_usage("--class, --id and --group come from the "
			    "list with --list");
		if (strcmp(cmd->list, "-") == 0 &&
		    strcmp(cmd->input, "-") == 0)
			cli_usage("the list and the images cannot both be "
			    "stdin");
		load_list(cmd);
		return;
	}
	if (cmd->mode == MODE_BOX)
		cli_usage("--mode box needs --list (the boxes)");
	if (cls == NULL)
		cli_usage("no --class (or --list)");
	cmd->cls = class_index(cls, "");
	if (cmd->id != NULL)
		check_name(cmd->id, "id");
	if (cmd->group != NULL)
		check_name(cmd->group, "group");
}

/* The job for image N (1-based) of the stream NAME: the Nth list line, or
 * one made from the options. */
static const struct job *
job_for(const struct cmdline *cmd, int n, const char *name)
{
	static struct job j;
	static char id[512];

	if (cmd->list != NULL) {
		if (n > cmd->njobs)
			die("%s: has more images than %s has lines (%d)",
			    name, cmd->list, cmd->njobs);
		return &cmd->jobs[n - 1];
	}
	if (n == 1)
		snprintf(id, sizeof id, "%s", cmd->id ? cmd->id : name);
	else
		snprintf(id, sizeof id, "%s#%d", cmd->id ? cmd->id : name, n);
	j.id = id;
	j.group = (char *)(cmd->group ? cmd->group : id);
	j.cls = cmd->cls;
	return &j;
}

/* MASK gets the pixels of the gray image MK at or above THRESHOLD. */
static void
mask_from_gray(unsigned char *mask, const struct img *mk, int threshold)
{
	size_t npix = (size_t)mk->width * mk->height, i;

	for (i = 0; i < npix; i++)
		mask[i] = mk->data[i] >= threshold;
}

/* MASK gets the pixels of IM with a channel above THRESHOLD, opened with
 * a disk of RADIUS source px to cut threads to pieces of neighbours. */
static void
mask_from_black(unsigned char *mask, const struct img *im, int threshold,
    double radius)
{
	size_t npix = (size_t)im->width * im->height, i;
	const unsigned char *p = im->data;

	for (i = 0; i < npix; i++, p += im->depth)
		mask[i] = p[0] > threshold || p[1] > threshold ||
		    p[2] > threshold;
	mask_open(mask, im->width, im->height, radius);
}

/* Copy the rectangle X0..X1, Y0..Y1 (inclusive, inside IM) of IM into SUB. */
static void
sub_image(struct img *sub, const struct img *im, int x0, int y0, int x1,
    int y1)
{
	int y;

	img_alloc(sub, x1 - x0 + 1, y1 - y0 + 1, im->kind);
	for (y = y0; y <= y1; y++)
		memcpy(sub->data + (size_t)(y - y0) * sub->width * sub->depth,
		    im->data + ((size_t)y * im->width + x0) * im->depth,
		    (size_t)sub->width * sub->depth);
}

/* The longer side of the cell's box B; *FILL gets the share of the box
 * that the cell fills (a disc: 0.79). */
static int
cell_size(const struct mask_box *b, double *fill)
{
	int bw = b->x1 - b->x0 + 1, bh = b->y1 - b->y0 + 1;

	*fill = (double)b->area / ((double)bw * bh);
	return bw > bh ? bw : bh;
}

/* Turn the cell marked by MASK in IM (if R, the segmenter's verdict, is
 * SEG_OK) into a sample of job J with id ID, check its size and add it to
 * SP; or count it as rejected.  PLASMA, if not NULL, is the colour of the
 * photo's plasma, kept as the sample's "plasma" so that compose-tile can
 * bring the sample to the white balance of the tile it is pasted on. */
static void
emit(struct spool *sp, const struct img *im, const unsigned char *mask,
    enum seg_result r, const struct job *j, const char *id,
    const double *plasma, const struct cmdline *cmd)
{
	const struct cell_kind *k = kind_of(j->cls);
	struct mask_box cell;
	struct img out;
	char buf[32];
	double fill;
	int size;

	if (r == SEG_OK)
		r = crop_sample(&out, im, mask, cmd->scale, cmd->margin,
		    cmd->mode == MODE_BLACK ? CROP_OWN_COLOUR : 0, &cell);
	if (r == SEG_OK && cmd->size_check) {
		size = cell_size(&cell, &fill);
		if (size < k->min)
			r = SEG_TOO_SMALL;
		else if (size > k->max)
			r = SEG_TOO_LARGE;
		else if (k->kind == SEG_RBC && fill < RBC_MIN_FILL)
			r = SEG_NOT_ROUND;
		if (r != SEG_OK)
			img_free(&out);
	}
	if (r != SEG_OK) {
		sp->rejected[r]++;
		if (cmd->verbose)
			warn("%s: rejected: %s", id, seg_result_name(r));
		return;
	}
	img_meta_set(&out, "class", classes_load(NULL)->c[j->cls].name);
	img_meta_set(&out, "source", cmd->source);
	img_meta_set(&out, "group", j->group);
	img_meta_set(&out, "id", id);
	snprintf(buf, sizeof buf, "%.4g", cmd->scale);
	img_meta_set(&out, "scale", buf);
	if (plasma != NULL) {
		snprintf(buf, sizeof buf, "%.0f %.0f %.0f", plasma[0],
		    plasma[1], plasma[2]);
		img_meta_set(&out, "plasma", buf);
	}
	if (sp->n == sp->cap) {
		sp->cap = sp->cap ? 2 * sp->cap : 256;
		sp->v = xrealloc(sp->v, sp->cap * sizeof *sp->v);
	}
	sp->v[sp->n++] = out;
}

/* Cut the cells of the boxes of job J out of the smear IM into SP; MASK
 * has room for IM. */
static void
crop_boxes(struct spool *sp, const struct img *im, unsigned char *mask,
    const struct job *j, const double *plasma, const struct cmdline *cmd)
{
	struct img sub;
	char id[600];
	int b, x0, y0, x1, y1, pad;

	for (b = 0; b < j->nbox; b++) {
		const int *bx = j->box[b];
		if (bx[2] >= im->width || bx[3] >= im->height)
			die("%s: box %d (%d,%d,%d,%d) is outside the %dx%d "
			    "image", j->id, b + 1, bx[0], bx[1], bx[2], bx[3],
			    im->width, im->height);
		pad = (int)(BOX_PAD * (bx[2] - bx[0] > bx[3] - bx[1] ?
		    bx[2] - bx[0] : bx[3] - bx[1])) + 2;
		x0 = bx[0] - pad < 0 ? 0 : bx[0] - pad;
		y0 = bx[1] - pad < 0 ? 0 : bx[1] - pad;
		x1 = bx[2] + pad >= im->width ? im->width - 1 : bx[2] + pad;
		y1 = bx[3] + pad >= im->height ? im->height - 1 : bx[3] + pad;
		sub_image(&sub, im, x0, y0, x1, y1);
		snprintf(id, sizeof id, "%s#%d", j->id, b + 1);
		emit(sp, &sub, mask, seg_cell(mask, &sub,
		    kind_of(j->cls)->kind, (bx[0] + bx[2]) / 2.0 - x0,
		    (bx[1] + bx[3]) / 2.0 - y0, cmd->scale), j, id, plasma,
		    cmd);
		img_free(&sub);
	}
}

/* "N samples, M rejected (a reason, b reason)" into BUF. */
static const char *
summary(char *buf, size_t n, const struct spool *sp)
{
	size_t len;
	int r, total = 0, first = 1;

	for (r = 0; r < SEG_NRESULTS; r++)
		total += sp->rejected[r];
	len = snprintf(buf, n, "%d sample%s, %d rejected", sp->n,
	    sp->n == 1 ? "" : "s", total);
	for (r = 0; r < SEG_NRESULTS && total > 0; r++)
		if (sp->rejected[r] > 0 && len < n) {
			len += snprintf(buf + len, n - len, "%s%d %s",
			    first ? " (" : ", ", sp->rejected[r],
			    seg_result_name(r));
			first = 0;
		}
	if (total > 0 && len < n)
		snprintf(buf + len, n - len, ")");
	return buf;
}

int
main(int argc, char **argv)
{
	struct cmdline cmd;
	struct img_reader rd;
	struct img im = { 0 }, mk = { 0 };
	struct spool sp = { 0 };
	const struct job *j;
	unsigned char *mask = NULL;
	double plasma[3];
	char msg[256];
	int n = 0, i;

	parse_cmdline(argc, argv, &cmd);
	img_open(&rd, cmd.input);
	while (img_read(&rd, &im, IMG_RGB)) {
		j = job_for(&cmd, ++n, rd.name);
		mask = xrealloc(mask, (size_t)im.width * im.height);
		if (cmd.mode != MODE_BLACK)     /* cells on black: no plasma */
			seg_background_colour(&im, plasma);
		switch (cmd.mode) {
		case MODE_MASK:
			if (!img_read(&rd, &mk, IMG_GRAY))
				die("%s: the stream ends before its mask",
				    j->id);
			if (mk.width != im.width || mk.height != im.height)
				die("%s: mask is %dx%d, image is %dx%d", j->id,
				    mk.width, mk.height, im.width, im.height);
			mask_from_gray(mask, &mk, cmd.threshold);
			emit(&sp, &im, mask, SEG_OK, j, j->id, plasma, &cmd);
			break;
		case MODE_BLACK:
			mask_from_black(mask, &im, cmd.threshold,
			    BLACK_OPEN / cmd.scale);
			emit(&sp, &im, mask, SEG_OK, j, j->id, NULL, &cmd);
			break;
		case MODE_CENTRE:
			emit(&sp, &im, mask, seg_cell(mask, &im,
			    kind_of(j->cls)->kind, (im.width - 1) / 2.0,
			    (im.height - 1) / 2.0, cmd.scale), j, j->id, plasma,
			    &cmd);
			break;
		case MODE_BOX:
			crop_boxes(&sp, &im, mask, j, plasma, &cmd);
			break;
		}
	}
	img_close(&rd);
	if (cmd.list != NULL && n < cmd.njobs)
		die("%s: has %d lines, the stream only %d images", cmd.list,
		    cmd.njobs, n);
	if (sp.n == 0)
		die("%s", summary(msg, sizeof msg, &sp));
	for (i = 0; i < sp.n; i++) {
		img_write(stdout, "<stdout>", &sp.v[i]);
		img_free(&sp.v[i]);
	}
	xfshut(stdout, "<stdout>");
	if (!cmd.quiet)
		warn("%s", summary(msg, sizeof msg, &sp));
	free(sp.v);
	free(mask);
	img_free(&im);
	img_free(&mk);
	return 0;
}
