/*
 * cell-count - count the cells in class maps: objects per class,
 * parasitemia and the white-cell differential.
 *
 * Reads PGM class maps (or RGB_LABEL tiles, whose label plane is used)
 * from the files named, or standard input.  A cell is a set of pixels of
 * one class connected to each other (8-connectivity); sets smaller than a
 * per-class minimum area are noise and are dropped.  White cells,
 * platelets and platelet clumps count one per set.  Red cells touch each
 * other in a smear, and a semantic map merges touching cells of one class
 * into one set, so a red-cell set counts as round(area / A) cells, where A
 * is the typical area of one red cell: the median area of the image's
 * red-cell sets that look like single cells (round, filled, clear of the
 * border), or a fixed value.  How many sets were split that way is printed
 * beside the counts, so that a user can judge the estimate.  Parasitemia is
 * infected over all counted red cells; the differential is each white-cell
 * type over all white cells.
 *
 * Prints YAML, one entry per image and a total, or with --tsv one line per
 * image.  The output is spooled, so a bad image anywhere in the input
 * leaves stdout empty.
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

#define PI 3.14159265358979323846
#define AREA_MAX 100000000L     /* limit of --min-area and --rbc-area */
#define RBC_AREA_DEFAULT 1100   /* one red cell at 40x, about 38 px across */
#define RBC_SINGLES_MIN 3       /* single-looking red cells for a median */
#define SINGLE_AXIS_MAX 1.4     /* major over minor axis of a single cell */
#define SINGLE_FILL_MIN 0.85    /* area over that of its moment ellipse */
#define MIN_AREA_OTHER 50       /* classes of a table with more classes */

/* What a class counts towards. */
enum role {
	ROLE_OBJECT,            /* one per component: platelets, clumps */
	ROLE_WBC,               /* one per component, in the differential */
	ROLE_INFECTED,          /* red cells, split by area; parasitemia */
	ROLE_HEALTHY,
};

/* The classes that cell-count needs by name, with their default minimum
 * areas in pixels at the 40x scale: about a quarter of the smallest cell
 * of the kind (a white cell is 60-100 px across, a red cell 38), so that a
 * cell cut by the image border still counts.  Platelets are 14-26 px
 * across, but the synthetic tiles hold some of 5 px (20 px in area), and
 * those are kept. */
static const struct class_rule {
	const char *name;
	enum role role;
	long min_area;
} rules[] = {
	{ "Eosinophil", ROLE_WBC, 700 },
	{ "Basophil", ROLE_WBC, 700 },
	{ "Neutrophil", ROLE_WBC, 700 },
	{ "Lymphocyte", ROLE_WBC, 700 },
	{ "Monocyte", ROLE_WBC, 700 },
	{ "Thrombocyte", ROLE_OBJECT, 15 },
	{ "Platelet clump", ROLE_OBJECT, 100 },
	{ "Infected RBC", ROLE_INFECTED, 250 },
	{ "Healthy RBC", ROLE_HEALTHY, 250 },
};

struct cmdline {
	char **files;           /* input files; "-" = stdin */
	int nfiles;
	int tsv;
	long min_area[CLASS_MAX];       /* from --min-area; 0 = the default */
	long rbc_area;          /* --rbc-area; 0 = estimate per image */
};

/* The class table and what the options and rules make of it. */
struct setup {
	const struct class_table *ct;
	enum role role[CLASS_MAX];
	long min_area[CLASS_MAX];
	int wbc[CLASS_MAX];     /* the white-cell classes, in table order */
	int nwbc;
	int infected, healthy;
	long rbc_area;          /* fixed single-cell area, or 0 */
};

/* The counts of one image, or of all of them. */
struct tally {
	long cells[CLASS_MAX];  /* counted cells (objects) per class */
	long rbc_components;    /* red-cell components kept, both classes */
	long rbc_clusters;      /* of them, counted as more than one cell */
	long rbc_singles;       /* of them, looking like single cells */
	long dropped;           /* components below their minimum area */
	double rbc_area;        /* single-cell area used (one image) */
	const char *rbc_area_from;      /* "median", "default" or "option" */
};

/* A red-cell component, kept until the image's single-cell area is known. */
struct blob {
	long area;
	int cls;
};

struct blobs {
	struct blob *b;
	size_t n, cap;
	double *single;         /* areas of the single-looking components */
	size_t nsingle;
};

static const struct cli_info info = {
	"cell-count",
	"[--tsv] [-m class=px] [-r px] [file ...]",
	"Count cells in class maps (PGM, value = class index; or the label\n"
	"plane of RGB_LABEL tiles): objects per class, parasitemia and the\n"
	"white-cell differential, per image and in total.\n"
	"\n"
	"A cell is an 8-connected set of pixels of one class; sets smaller\n"
	"than the class's minimum area are dropped as noise.  A red-cell set\n"
	"counts as round(area / A) cells, A being the median area of the\n"
	"image's red-cell sets that look like single cells (1100 px when\n"
	"there are fewer than 3 of them).  See cell-count(1).\n"
	"\n"
	"  -m, --min-area CLASS=PX  drop components of CLASS (a name or an\n"
	"                       index) smaller than PX pixels; may be repeated\n"
	"                       (defaults: white cells 700, Thrombocyte 15,\n"
	"                       Platelet clump 100, red cells 250)\n"
	"  -r, --rbc-area PX    take PX as the area of one red cell instead of\n"
	"                       estimating it per image\n"
	"      --tsv            one tab-separated line per image, under a header\n"
	"  -h, --help           this help\n"
	"      --version        print the version\n",
};

/* Parse one --min-area argument "CLASS=PX" into MIN_AREA. */
static void
parse_min_area(const char *arg, long *min_area)
{
	const struct class_table *ct = classes_load(NULL);
	const char *eq = strchr(arg, '=');
	char name[CLASS_NAME_MAX];
	size_t len;
	long idx;
	int c;

	if (eq == NULL || eq == arg)
		die("invalid min-area '%s': expected CLASS=PX", arg);
	len = eq - arg;
	if (len >= sizeof name)
		die("invalid min-area '%s': unknown class", arg);
	memcpy(name, arg, len);
	name[len] = '\0';
	if (strspn(name, "0123456789") == len) {
		idx = strtol(name, NULL, 10);
		if (idx >= ct->n)
			die("invalid min-area '%s': no class %s (expected "
			    "1..%d)", arg, name, ct->n - 1);
		c = (int)idx;
	} else if ((c = classes_lookup(ct, name)) < 0)
		die("invalid min-area '%s': unknown class '%s'", arg, name);
	if (c == 0)
		die("invalid min-area '%s': %s is not counted", arg,
		    ct->c[0].name);
	min_area[c] = xstrtol(eq + 1, 1, AREA_MAX, "minimum area");
}

static void
parse_cmdline(int argc, char **argv, struct cmdline *cmd)
{
	static const struct option opts[] = {
		{ "min-area", required_argument, NULL, 'm' },
		{ "rbc-area", required_argument, NULL, 'r' },
		{ "tsv", no_argument, NULL, 'T' },
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int c;

	cli_begin(argc, argv, &info);
	memset(cmd, 0, sizeof *cmd);
	while ((c = getopt_long(argc, argv, ":hm:r:", opts, NULL)) != -1)
		switch (c) {
		case 'm':
			parse_min_area(optarg, cmd->min_area);
			break;
		case 'r':
			cmd->rbc_area = xstrtol(optarg, 1, AREA_MAX,
			    "red-cell area");
			break;
		case 'T':
			cmd->tsv = 1;
			break;
		default:
			cli_common(c);
		}
	cli_files(argc, argv, optind, &cmd->files, &cmd->nfiles);
}

/* Fill S from the class table and the command line; die if the table
 * lacks a class that the counts need. */
static void
setup_init(struct setup *s, const struct cmdline *cmd)
{
	size_t k;
	int c;

	memset(s, 0, sizeof *s);
	s->ct = classes_load(NULL);
	for (c = 1; c < s->ct->n; c++)
		s->min_area[c] = MIN_AREA_OTHER;
	for (k = 0; k < sizeof rules / sizeof rules[0]; k++) {
		if ((c = classes_lookup(s->ct, rules[k].name)) < 0)
			die("the class table has no class '%s'", rules[k].name);
		s->role[c] = rules[k].role;
		s->min_area[c] = rules[k].min_area;
		if (rules[k].role == ROLE_INFECTED)
			s->infected = c;
		else if (rules[k].role == ROLE_HEALTHY)
			s->healthy = c;
	}
	for (c = 1; c < s->ct->n; c++) {
		if (cmd->min_area[c] > 0)
			s->min_area[c] = cmd->min_area[c];
		if (s->role[c] == ROLE_WBC)
			s->wbc[s->nwbc++] = c;
	}
	s->rbc_area = cmd->rbc_area;
}

/*
 * Whether component L of LAB (W pixels wide, bounding box B) looks like
 * one cell: with its holes filled (a pale centre taken as background), the
 * axis ratio of its second moments is at most SINGLE_AXIS_MAX and its area
 * is at least SINGLE_FILL_MIN of that of the ellipse with the same
 * moments.  A disc or an oval passes; two cells side by side are too
 * elongated, three or more in a heap too lobed.
 */
static int
looks_single(const int *lab, int w, int l, const struct mask_box *b)
{
	int cw = b->x1 - b->x0 + 3, ch = b->y1 - b->y0 + 3, x, y;
	unsigned char *m = xcalloc((size_t)cw * ch, 1);
	double n = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
	double vxx, vyy, vxy, det, half, root;

	/* the component with a 1-pixel margin, so that the outside is one */
	for (y = b->y0; y <= b->y1; y++)
		for (x = b->x0; x <= b->x1; x++)
			m[(size_t)(y - b->y0 + 1) * cw + x - b->x0 + 1] =
			    lab[(size_t)y * w + x] == l;
	mask_fill_holes(m, cw, ch);
	for (y = 0; y < ch; y++)
		for (x = 0; x < cw; x++)
			if (m[(size_t)y * cw + x]) {
				n++;
				sx += x;
				sy += y;
				sxx += (double)x * x;
				syy += (double)y * y;
				sxy += (double)x * y;
			}
	free(m);
	/* moments of the pixels as unit squares: 1/12 more per axis */
	vxx = sxx / n - (sx / n) * (sx / n) + 1.0 / 12;
	vyy = syy / n - (sy / n) * (sy / n) + 1.0 / 12;
	vxy = sxy / n - (sx / n) * (sy / n);
	det = vxx * vyy - vxy * vxy;
	half = (vxx + vyy) / 2;
	root = sqrt(fmax(half * half - det, 0));
	if (det <= 0 || half - root <= 0)
		return 0;
	return sqrt((half + root) / (half - root)) <= SINGLE_AXIS_MAX &&
	    n / (4 * PI * sqrt(det)) >= SINGLE_FILL_MIN;
}

/*
 * Count the components of class C in the class map (or tile) IM into T;
 * MASK and LAB are scratch buffers of one element per pixel.  Red-cell
 * components are not counted here but added to BL, with the areas of the
 * single-looking ones, for rbc_count() to split.
 */
static void
count_class(struct tally *t, struct blobs *bl, const struct setup *s, int c,
    const struct img *im, unsigned char *mask, int *lab)
{
	const unsigned char *v = im->data + (im->kind == IMG_LABEL ? 3 : 0);
	int w = im->width, h = im->height, n, l, rbc;
	size_t i, npix = (size_t)w * h;
	struct mask_box *box = NULL;
	long *area;

	for (i = 0; i < npix; i++)
		mask[i] = v[i * im->depth] == c;
	n = mask_label(lab, mask, w, h, &area);
	rbc = s->role[c] == ROLE_INFECTED || s->role[c] == ROLE_HEALTHY;
	if (rbc) {
		box = xmalloc_array((size_t)n + 1, sizeof *box);
		mask_boxes(box, n, lab, sizeof *lab, w, h);
	}
	for (l = 1; l <= n; l++) {
		if (area[l] < s->min_area[c]) {
			t->dropped++;
			continue;
		}
		if (!rbc) {
			t->cells[c]++;
			continue;
		}
		if (bl->n == bl->cap) {
			bl->cap = bl->cap ? 2 * bl->cap : 64;
			bl->b = xrealloc(bl->b, bl->cap * sizeof *bl->b);
			bl->single = xrealloc(bl->single,
			    bl->cap * sizeof *bl->single);
		}
		bl->b[bl->n++] = (struct blob){ area[l], c };
		if (box[l].x0 > 0 && box[l].y0 > 0 && box[l].x1 < w - 1 &&
		    box[l].y1 < h - 1 && looks_single(lab, w, l, &box[l]))
			bl->single[bl->nsingle++] = area[l];
	}
	free(box);
	free(area);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Choose the single-cell area for the red-cell components in BL, then
 * count each as round(area / that), at least 1, into T. */
static void
rbc_count(struct tally *t, struct blobs *bl, const struct setup *s)
{
	size_t k, m = bl->nsingle;
	long cells;

	t->rbc_singles = (long)m;
	if (s->rbc_area > 0) {
		t->rbc_area = s->rbc_area;
		t->rbc_area_from = "option";
	} else if (m >= RBC_SINGLES_MIN) {
		qsort(bl->single, m, sizeof *bl->single, cmp_double);
		t->rbc_area = m % 2 ? bl->single[m / 2] :
		    (bl->single[m / 2 - 1] + bl->single[m / 2]) / 2;
		t->rbc_area_from = "median";
	} else {
		t->rbc_area = RBC_AREA_DEFAULT;
		t->rbc_area_from = "default";
	}
	for (k = 0; k < bl->n; k++) {
		cells = lround(bl->b[k].area / t->rbc_area);
		if (cells < 1)
			cells = 1;
		if (cells > 1)
			t->rbc_clusters++;
		t->cells[bl->b[k].cls] += cells;
		t->rbc_components++;
	}
}

/* Count the cells of the class map (or RGB_LABEL tile) IM into T. */
static void
count_image(struct tally *t, const struct img *im, const struct setup *s)
{
	const unsigned char *v = im->data + (im->kind == IMG_LABEL ? 3 : 0);
	size_t i, npix = (size_t)im->width * im->height;
	unsigned char *mask = xmalloc(npix);
	int *lab = xmalloc_array(npix, sizeof *lab);
	struct blobs bl = { 0 };
	int present[CLASS_MAX] = { 0 }, c;

	memset(t, 0, sizeof *t);
	for (i = 0; i < npix; i++)
		if (v[i * im->depth] < CLASS_MAX)
			present[v[i * im->depth]] = 1;
	for (c = 1; c < s->ct->n; c++)
		if (present[c])
			count_class(t, &bl, s, c, im, mask, lab);
	rbc_count(t, &bl, s);
	free(bl.b);
	free(bl.single);
	free(lab);
	free(mask);
}

static void
tally_add(struct tally *sum, const struct tally *t)
{
	int c;

	for (c = 0; c < CLASS_MAX; c++)
		sum->cells[c] += t->cells[c];
	sum->rbc_components += t->rbc_components;
	sum->rbc_clusters += t->rbc_clusters;
	sum->dropped += t->dropped;
}

static long
wbc_total(const struct tally *t, const struct setup *s)
{
	long n = 0;
	int k;

	for (k = 0; k < s->nwbc; k++)
		n += t->cells[s->wbc[k]];
	return n;
}

static long
rbc_total(const struct tally *t, const struct setup *s)
{
	return t->cells[s->infected] + t->cells[s->healthy];
}

/* A percentage with two decimals, or "null" when DEN is 0. */
static void
print_percent(FILE *f, long num, long den)
{
	if (den == 0)
		fputs("null", f);
	else
		fprintf(f, "%.2f", 100.0 * num / den);
}

/* The keys that an image and the total share, each line after IND. */
static void
print_yaml_counts(FILE *f, const char *ind, const struct tally *t,
    const struct setup *s)
{
	long nwbc = wbc_total(t, s), nrbc = rbc_total(t, s);
	int c, k;

	fprintf(f, "%scounts:\n", ind);
	for (c = 1; c < s->ct->n; c++)
		fprintf(f, "%s  %s: %ld\n", ind, s->ct->c[c].name,
		    t->cells[c]);
	fprintf(f, "%swbc: %ld\n%srbc: %ld\n%sparasitemia: ", ind, nwbc, ind,
	    nrbc, ind);
	print_percent(f, t->cells[s->infected], nrbc);
	fprintf(f, "\n%sdifferential:\n", ind);
	for (k = 0; k < s->nwbc; k++) {
		fprintf(f, "%s  %s: ", ind, s->ct->c[s->wbc[k]].name);
		print_percent(f, t->cells[s->wbc[k]], nwbc);
		putc('\n', f);
	}
	fprintf(f, "%srbc_components: %ld\n%srbc_clusters: %ld\n", ind,
	    t->rbc_components, ind, t->rbc_clusters);
}

static void
print_yaml_image(FILE *f, const char *file, int n, const struct tally *t,
    const struct setup *s)
{
	fputs("  - file: ", f);
	yaml_put_quoted(f, file);
	fprintf(f, "\n    image: %d\n", n);
	print_yaml_counts(f, "    ", t, s);
	fprintf(f, "    rbc_area: %.0f\n    rbc_area_from: %s\n"
	    "    rbc_singles: %ld\n    dropped: %ld\n", t->rbc_area,
	    t->rbc_area_from, t->rbc_singles, t->dropped);
}

static void
print_yaml_total(FILE *f, int images, const struct tally *t,
    const struct setup *s)
{
	fprintf(f, "total:\n  images: %d\n", images);
	print_yaml_counts(f, "  ", t, s);
	fprintf(f, "  dropped: %ld\n", t->dropped);
}

static void
print_tsv_header(FILE *f, const struct setup *s)
{
	int c, k;

	fputs("file\timage", f);
	for (c = 1; c < s->ct->n; c++)
		fprintf(f, "\t%s", s->ct->c[c].name);
	fputs("\twbc\trbc\tparasitemia", f);
	for (k = 0; k < s->nwbc; k++)
		fprintf(f, "\t%s%%", s->ct->c[s->wbc[k]].name);
	fputs("\trbc_components\trbc_clusters\trbc_area\trbc_area_from"
	    "\trbc_singles\tdropped\n", f);
}

static void
print_tsv_image(FILE *f, const char *file, int n, const struct tally *t,
    const struct setup *s)
{
	long nwbc = wbc_total(t, s), nrbc = rbc_total(t, s);
	int c, k;

	fprintf(f, "%s\t%d", file, n);
	for (c = 1; c < s->ct->n; c++)
		fprintf(f, "\t%ld", t->cells[c]);
	fprintf(f, "\t%ld\t%ld\t", nwbc, nrbc);
	print_percent(f, t->cells[s->infected], nrbc);
	for (k = 0; k < s->nwbc; k++) {
		putc('\t', f);
		print_percent(f, t->cells[s->wbc[k]], nwbc);
	}
	fprintf(f, "\t%ld\t%ld\t%.0f\t%s\t%ld\t%ld\n", t->rbc_components,
	    t->rbc_clusters, t->rbc_area, t->rbc_area_from, t->rbc_singles,
	    t->dropped);
}

int
main(int argc, char **argv)
{
	struct cmdline cmd;
	struct setup s;
	struct img_reader r;
	struct img im = { 0 };
	struct tally t, total = { 0 };
	FILE *spool;
	int k, images = 0;

	parse_cmdline(argc, argv, &cmd);
	setup_init(&s, &cmd);
	spool = spool_open();
	if (cmd.tsv)
		print_tsv_header(spool, &s);
	else
		fputs("images:\n", spool);
	for (k = 0; k < cmd.nfiles; k++) {
		img_open(&r, cmd.files[k]);
		while (img_read(&r, &im, IMG_GRAY | IMG_LABEL | IMG_CLASSMAP)) {
			count_image(&t, &im, &s);
			tally_add(&total, &t);
			images++;
			if (cmd.tsv)
				print_tsv_image(spool, r.name, r.count, &t,
				    &s);
			else
				print_yaml_image(spool, r.name, r.count, &t,
				    &s);
		}
		img_close(&r);
	}
	if (!cmd.tsv)
		print_yaml_total(spool, images, &total, &s);
	img_free(&im);
	spool_commit(spool, stdout, "<stdout>");
	return 0;
}
