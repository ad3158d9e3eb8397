/*
 * cell-vote - one class per cell in class maps.
 *
 * A semantic segmenter decides each pixel on its own, so one white cell
 * can come out part Neutrophil and part Lymphocyte, or with a ring of
 * Thrombocyte round a white nucleus.  cell-vote reads PGM class maps (or
 * RGB_LABEL tiles, whose label plane is used) and gives every cell one
 * class.  An object is an 8-connected set of pixels whose classes belong
 * to the voting groups, taken together.  Touching cells make one object,
 * so it is split first: eroded by a disc of the split radius, the object
 * falls apart at the necks between cells into cores, one per cell, and
 * each pixel of the object goes to the core that reaches it first by a
 * path inside the object no longer than the split radius and 2 px; what
 * no core reaches (a platelet touching a white cell, an object with no
 * core) falls into cells of its own, its 8-connected pieces.  In each such cell the group with the most pixels wins, and
 * every pixel takes that group's class with the most pixels (ties go to
 * the lower group, then the lower class).
 * The groups are partial labels of the class table (share/classes.yaml):
 * by default every one of them, "White cell" (the five white-cell types)
 * and "Platelet" (Thrombocyte, Platelet clump).  Background and 255 stay
 * as they are, but for specks.
 *
 * Red cells are voted on their own, after: the objects of Infected RBC
 * and Healthy RBC pixels are split the same way, and a cell whose
 * infected pixels are at least the infected share (-i) of it becomes
 * wholly Infected RBC, any other wholly Healthy RBC.
 *
 * Before the vote, specks go to background: a speck is a blob (an
 * 8-connected set of pixels of any class but background and 255) whose
 * pixels are all red cells (Infected RBC, Healthy RBC), smaller than the
 * speck area and clear of the image border.  It is too small to be a red
 * cell (cell-count drops red-cell sets under 250 px from its counts as
 * noise too), and on smears it is most often debris or stain in the
 * plasma.  A piece of red cell cut by the border of the image is kept.
 *
 * Writes PGM class maps, one per input image.
 * The output is spooled, so a bad image anywhere leaves stdout empty.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classes.h"
#include "cli.h"
#include "image.h"
#include "mask.h"
#include "util.h"

#define GROUPS_MAX CLASS_MAX
#define SPLIT_DEFAULT 15.0      /* px at 40x: a white cell is 60-100 across */
#define SPLIT_MAX 1000.0
#define SPECK_DEFAULT 250L      /* px at 40x: cell-count's least red cell */
#define SPECK_MAX 100000000L
/* The infected share that makes a red cell Infected RBC: chosen on the
 * validation split's NIH red cells with the shipped model.  Of the 8
 * parasitised cells (of 28) that a majority calls healthy, 3 show 0.21
 * to 0.40 of their pixels infected, the rest under 0.06; the healthy
 * cells show under 0.1 but for 2 (of 29) that a majority calls infected
 * too.  0.15 is the middle of the gap.  A parasite is a small part of
 * its cell, so a cell need not be mostly infected pixels to be
 * infected. */
#define INFECTED_DEFAULT 0.15

struct cmdline {
	char **files;           /* input files; "-" = stdin */
	int nfiles;
	const char *group[GROUPS_MAX];  /* -g names, in order */
	int ngroup;
	double split;           /* erosion radius that parts touching cells */
	long speck;             /* red-cell blobs under this become background */
	double infected;        /* -i: a red cell's share that makes it infected */
	int quiet;
};

/* The voting groups: group[c] is the group of class c, or -1. */
struct setup {
	int ngroup;
	int ncls;
	int group[CLASS_MAX];
	double split;
	long speck;
	unsigned char red[CLASS_MAX];   /* 1 for the red-cell classes */
	int nred;
	int cls_infected, cls_healthy;  /* their indices, or -1 */
	double infected;
};

static const struct cli_info info = {
	"cell-vote",
	"[-g group]... [-r px] [-s px] [-i share] [-q] [file ...]",
	"Give each cell of class maps (PGM, value = class index; or the\n"
	"label plane of RGB_LABEL tiles) one class.  An object is an\n"
	"8-connected set of pixels of the voting groups' classes, split\n"
	"into cells where an erosion parts it; in each cell the group with\n"
	"most pixels wins, and all its pixels take that group's class with\n"
	"most pixels.  Writes PGM class maps.  See cell-vote(1).\n"
	"\n"
	"  -g, --group NAME     a partial label of the class table whose\n"
	"                       member classes vote together; may be repeated\n"
	"                       (default: every partial label, White cell\n"
	"                       and Platelet)\n"
	"  -r, --split PX       erosion radius that parts touching cells, in\n"
	"                       pixels (default 15, for the 40x scale; 0:\n"
	"                       every object votes whole)\n"
	"  -s, --speck PX       a blob of red-cell pixels alone, smaller than\n"
	"                       PX and clear of the border, becomes background\n"
	"                       first (default 250, for the 40x scale; 0: none)\n"
	"  -i, --infected SHARE each red cell, split like the others, is\n"
	"                       wholly Infected RBC if at least SHARE of its\n"
	"                       red-cell pixels are, else wholly Healthy RBC\n"
	"                       (default 0.15; 0: red cells are not voted)\n"
	"  -q, --quiet          no summary line on standard error\n"
	"  -h, --help           this help\n"
	"      --version        print the version\n",
};

static void
parse_cmdline(int argc, char **argv, struct cmdline *cmd)
{
	static const struct option opts[] = {
		{ "group", required_argument, NULL, 'g' },
		{ "split", required_argument, NULL, 'r' },
		{ "speck", required_argument, NULL, 's' },
		{ "infected", required_argument, NULL, 'i' },
		{ "quiet", no_argument, NULL, 'q' },
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int c;

	cli_begin(argc, argv, &info);
	memset(cmd, 0, sizeof *cmd);
	cmd->split = SPLIT_DEFAULT;
	cmd->speck = SPECK_DEFAULT;
	cmd->infected = INFECTED_DEFAULT;
	while ((c = getopt_long(argc, argv, ":hg:r:s:i:q", opts, NULL)) != -1)
		switch (c) {
		case 'g':
			if (cmd->ngroup == GROUPS_MAX)
				cli_usage("more than %d groups", GROUPS_MAX);
			cmd->group[cmd->ngroup++] = optarg;
			break;
		case 'r':
			cmd->split = xstrtod(optarg, 0, SPLIT_MAX, "split radius");
			break;
		case 's':
			cmd->speck = xstrtol(optarg, 0, SPECK_MAX, "speck area");
			break;
		case 'i':
			cmd->infected = xstrtod(optarg, 0, 1, "infected share");
			break;
		case 'q':
			cmd->quiet = 1;
			break;
		default:
			cli_common(c);
		}
	cli_files(argc, argv, optind, &cmd->files, &cmd->nfiles);
}

/* Add the partial label at index P of table T as the next group of S;
 * NAME is what the user gave, for messages. */
static void
add_group(struct setup *s, const struct class_table *t, int p,
    const char *name)
{
	uint32_t m = classes_members(t, p);
	int c;

	for (c = 0; c < t->n; c++) {
		if (!(m & (UINT32_C(1) << c)))
			continue;
		if (s->group[c] >= 0)
			cli_usage("group '%s': class '%s' is already in "
			    "another group", name, t->c[c].name);
		s->group[c] = s->ngroup;
	}
	s->ngroup++;
}

static void
setup_init(struct setup *s, const struct cmdline *cmd)
{
	const struct class_table *t = classes_load(NULL);
	int k, p, c;

	memset(s, 0, sizeof *s);
	s->ncls = t->n;
	s->split = cmd->split;
	s->speck = cmd->speck;
	s->infected = cmd->infected;
	s->cls_infected = classes_lookup(t, "Infected RBC");
	s->cls_healthy = classes_lookup(t, "Healthy RBC");
	if (s->cls_infected < 0 || s->cls_healthy < 0)
		s->infected = 0;        /* no red cells to vote */
	for (k = 0; k < 2; k++) {
		static const char *const red[2] = { "Infected RBC",
		    "Healthy RBC" };

		if ((c = classes_lookup(t, red[k])) >= 0) {
			s->red[c] = 1;
			s->nred++;
		}
	}
	for (c = 0; c < CLASS_MAX; c++)
		s->group[c] = -1;
	for (k = 0; k < cmd->ngroup; k++) {
		if ((p = classes_partial(t, cmd->group[k])) < 0)
			cli_usage("unknown group '%s' (expected a partial "
			    "label of the class table, such as 'White cell')",
			    cmd->group[k]);
		add_group(s, t, p, cmd->group[k]);
	}
	if (cmd->ngroup == 0)
		for (k = 0; k < t->npartial; k++)
			add_group(s, t, t->partial[k].index,
			    t->partial[k].info.name);
	if (s->ngroup == 0)
		die("the class table has no partial labels to vote in");
}

/* Split the objects of LAB (W x H, 1..N, from mask M) into cells: the
 * cores that an erosion of M by S->split leaves are labelled N+1...; each
 * object pixel takes the label of the core that reaches it first by an
 * 8-connected path inside its object (breadth first) of at most REACH
 * steps, and the pixels that no core reaches are labelled by their
 * 8-connected pieces after those.  Returns the largest label. */
static int
split_cells(int *lab, const unsigned char *m, int n, int w, int h,
    const struct setup *s)
{
	size_t npix = (size_t)w * h, i, head = 0, tail = 0;
	const int reach = (int)ceil(s->split) + 2;
	unsigned char *core;
	int *clab, *cell, *steps;
	size_t *queue;
	int nc, nr, x, y, dx, dy;

	if (s->split <= 0)
		return n;
	core = xmalloc(npix);
	memcpy(core, m, npix);
	mask_erode(core, w, h, s->split);
	clab = xmalloc_array(npix, sizeof *clab);
	nc = mask_label(clab, core, w, h, NULL);
	cell = xcalloc(npix, sizeof *cell);
	steps = xcalloc(npix, sizeof *steps);
	queue = xmalloc_array(npix, sizeof *queue);
	for (i = 0; i < npix; i++)
		if (clab[i]) {
			cell[i] = n + clab[i];
			queue[tail++] = i;
		}
	while (head < tail) {
		i = queue[head++];
		if (steps[i] == reach)
			continue;
		x = (int)(i % w);
		y = (int)(i / w);
		for (dy = -1; dy <= 1; dy++)
			for (dx = -1; dx <= 1; dx++) {
				size_t j;

				if (x + dx < 0 || x + dx >= w || y + dy < 0 ||
				    y + dy >= h)
					continue;
				j = (size_t)(y + dy) * w + (x + dx);
				if (lab[j] == lab[i] && cell[j] == 0) {
					cell[j] = cell[i];
					steps[j] = steps[i] + 1;
					queue[tail++] = j;
				}
			}
	}
	/* the pixels no core reached, by their pieces */
	for (i = 0; i < npix; i++)
		core[i] = lab[i] && cell[i] == 0;
	nr = mask_label(clab, core, w, h, NULL);
	for (i = 0; i < npix; i++)
		if (lab[i])
			lab[i] = cell[i] ? cell[i] : n + nc + clab[i];
	free(queue);
	free(steps);
	free(cell);
	free(clab);
	free(core);
	return n + nc + nr;
}

/* Set the specks of the class map MAP (W x H) to background (0), as S
 * says; returns the pixels changed, and adds the specks to *NSPECK. */
static long
drop_specks(unsigned char *map, int w, int h, const struct setup *s,
    long *nspeck)
{
	size_t npix = (size_t)w * h, i;
	unsigned char *m, *keep;
	struct mask_box *box;
	int *lab, n, l;
	long changed = 0;

	if (s->speck <= 0 || s->nred == 0)
		return 0;
	m = xmalloc(npix);
	for (i = 0; i < npix; i++)
		m[i] = map[i] != 0 && map[i] != CLASS_IGNORE;
	lab = xmalloc_array(npix, sizeof *lab);
	n = mask_label(lab, m, w, h, NULL);
	box = xmalloc_array((size_t)n + 1, sizeof *box);
	mask_boxes(box, n, lab, sizeof *lab, w, h);
	/* keep[l]: blob l has a pixel that is no red cell, or is big enough,
	 * or touches the border */
	keep = xcalloc((size_t)n + 1, 1);
	for (l = 1; l <= n; l++)
		keep[l] = box[l].area >= s->speck || box[l].x0 == 0 ||
		    box[l].y0 == 0 || box[l].x1 == w - 1 || box[l].y1 == h - 1;
	for (i = 0; i < npix; i++)
		if (lab[i] && !s->red[map[i]])
			keep[lab[i]] = 1;
	for (l = 1; l <= n; l++)
		*nspeck += !keep[l];
	for (i = 0; i < npix; i++)
		if (lab[i] && !keep[lab[i]]) {
			map[i] = 0;
			changed++;
		}
	free(keep);
	free(box);
	free(lab);
	free(m);
	return changed;
}

/* Give every pixel of MAP (NPIX) in cell LAB[i] > 0 the class
 * WINNER[LAB[i]]; returns the pixels whose class changed. */
static long
paint_cells(unsigned char *map, const int *lab, size_t npix,
    const unsigned char *winner)
{
	size_t i;
	long changed = 0;

	for (i = 0; i < npix; i++)
		if (lab[i] && map[i] != winner[lab[i]]) {
			map[i] = winner[lab[i]];
			changed++;
		}
	return changed;
}

/* Vote in the class map MAP (W x H) by the groups of S, cell by cell;
 * returns the pixels whose class changed, and adds the objects (before
 * the split) to *NOBJ. */
static long
vote(unsigned char *map, int w, int h, const struct setup *s, long *nobj)
{
	size_t npix = (size_t)w * h, i;
	unsigned char *m = xmalloc(npix);
	int *lab = xmalloc_array(npix, sizeof *lab);
	long *cnt, *gcnt, changed;
	unsigned char *winner;
	int n, l, c, g, best, bestg;

	for (i = 0; i < npix; i++)
		m[i] = map[i] < s->ncls && s->group[map[i]] >= 0;
	n = mask_label(lab, m, w, h, NULL);
	*nobj += n;
	n = split_cells(lab, m, n, w, h, s);
	cnt = xcalloc((size_t)(n + 1) * s->ncls, sizeof *cnt);
	gcnt = xcalloc((size_t)(n + 1) * s->ngroup, sizeof *gcnt);
	winner = xmalloc((size_t)n + 1);
	for (i = 0; i < npix; i++)
		if (lab[i]) {
			cnt[(size_t)lab[i] * s->ncls + map[i]]++;
			gcnt[(size_t)lab[i] * s->ngroup + s->group[map[i]]]++;
		}
	for (l = 1; l <= n; l++) {
		const long *gl = gcnt + (size_t)l * s->ngroup;
		const long *cl = cnt + (size_t)l * s->ncls;

		bestg = 0;
		for (g = 1; g < s->ngroup; g++)
			if (gl[g] > gl[bestg])
				bestg = g;
		best = -1;
		for (c = 0; c < s->ncls; c++)
			if (s->group[c] == bestg && (best < 0 || cl[c] > cl[best]))
				best = c;
		winner[l] = (unsigned char)best;
	}
	changed = paint_cells(map, lab, npix, winner);
	free(winner);
	free(gcnt);
	free(cnt);
	free(lab);
	free(m);
	return changed;
}

/* Give each red cell of the class map MAP (W x H) one class, as S says:
 * the red-cell objects are split into cells like the voting groups', and
 * a cell whose Infected RBC pixels are at least S->infected of its
 * red-cell pixels becomes wholly Infected RBC, any other wholly Healthy
 * RBC.  Returns the pixels whose class changed; adds the cells to
 * *NCELL. */
static long
vote_red(unsigned char *map, int w, int h, const struct setup *s,
    long *ncell)
{
	size_t npix = (size_t)w * h, i;
	unsigned char *m, *winner;
	int *lab, n, l;
	long *inf, *all, changed;

	if (s->infected <= 0)
		return 0;
	m = xmalloc(npix);
	lab = xmalloc_array(npix, sizeof *lab);
	for (i = 0; i < npix; i++)
		m[i] = map[i] == s->cls_infected || map[i] == s->cls_healthy;
	n = mask_label(lab, m, w, h, NULL);
	n = split_cells(lab, m, n, w, h, s);
	inf = xcalloc((size_t)n + 1, sizeof *inf);
	all = xcalloc((size_t)n + 1, sizeof *all);
	winner = xmalloc((size_t)n + 1);
	for (i = 0; i < npix; i++)
		if (lab[i]) {
			all[lab[i]]++;
			inf[lab[i]] += map[i] == s->cls_infected;
		}
	for (l = 1; l <= n; l++) {
		*ncell += all[l] > 0;   /* split_cells leaves labels unused */
		winner[l] = (unsigned char)((double)inf[l] >= s->infected *
		    (double)all[l] ? s->cls_infected : s->cls_healthy);
	}
	changed = paint_cells(map, lab, npix, winner);
	free(winner);
	free(all);
	free(inf);
	free(lab);
	free(m);
	return changed;
}

int
main(int argc, char **argv)
{
	struct cmdline cmd;
	struct setup s;
	struct img_reader r;
	struct img im = { 0 }, out = { 0 };
	FILE *spool;
	long changed = 0, pixels = 0, nobj = 0, nspeck = 0, nred = 0;
	size_t i, npix;
	int k, images = 0;

	parse_cmdline(argc, argv, &cmd);
	setup_init(&s, &cmd);
	spool = spool_open();
	for (k = 0; k < cmd.nfiles; k++) {
		img_open(&r, cmd.files[k]);
		while (img_read(&r, &im, IMG_GRAY | IMG_LABEL | IMG_CLASSMAP)) {
			img_alloc(&out, im.width, im.height, IMG_GRAY);
			npix = (size_t)im.width * im.height;
			for (i = 0; i < npix; i++)
				out.data[i] = im.data[i * im.depth +
				    (im.depth - 1)];
			changed += drop_specks(out.data, im.width, im.height,
			    &s, &nspeck);
			changed += vote(out.data, im.width, im.height, &s,
			    &nobj);
			changed += vote_red(out.data, im.width, im.height, &s,
			    &nred);
			pixels += (long)npix;
			img_write(spool, "<temporary file>", &out);
			img_free(&out);
			images++;
		}
		img_close(&r);
	}
	spool_commit(spool, stdout, "<stdout>");
	if (!cmd.quiet && s.infected > 0)
		warn("%d image%s: %ld objects, %ld red cells, %ld specks, %ld "
		    "of %ld pixels changed class", images, images == 1 ? "" :
		    "s", nobj, nred, nspeck, changed, pixels);
	else if (!cmd.quiet)
		warn("%d image%s: %ld objects, %ld specks, %ld of %ld pixels "
		    "changed class", images, images == 1 ? "" : "s", nobj,
		    nspeck, changed, pixels);
	img_free(&im);
	return 0;
}
