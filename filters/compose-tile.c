/*
 * compose-tile - labelled training tiles from RBC backgrounds and cell
 * samples.
 *
 * Each tile is a square window cut from one of the backgrounds (RGB_LABEL,
 * from make-background) with zero, one or two white-cell, platelet or
 * clump samples pasted on it, each rotated by a random angle, maybe
 * mirrored, and slightly colour-jittered.  The label plane gets the exact
 * class index under each pasted cell (a thresholded mask, never a blend);
 * the image gets a feathered edge.  A sample that knows the plasma colour
 * of its own photo ("plasma" in its header, from crop-cells) is brought to
 * the white balance of its tile: each channel is scaled by the
 * background's plasma (the mean colour of its label-0 pixels) over the
 * sample's, so that a cell from a cream CellaVision photo pasted on a grey
 * smear looks as if it had been photographed there (-u: keep the sample's
 * own colours).  The tiles go to standard output as an
 * RGB_LABEL stream, one JSON Lines record per tile to the --records file.
 *
 * Balance and reproducibility: the class combinations (none, each class
 * alone, each unordered pair) are dealt from a shuffled deck, and so are
 * the backgrounds and the samples of each class, so that every combination
 * and every sample is used about equally often.  The deck is dealt in tile
 * order by one generator; everything random inside a tile comes from that
 * tile's own stream (rng_split), so tiles are rendered in parallel
 * (OpenMP, a chunk at a time) and written in order, and the output is the
 * same bytes for a seed whatever the number of threads.
 */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic.h"
#include "classes.h"
#include "cli.h"
#include "image.h"
#include "mask.h"
#include "paste.h"
#include "rng.h"
#include "samples.h"
#include "util.h"

#define MAX_OBJ 2               /* objects per tile */
#define CHUNK 128               /* tiles rendered between two writes */
#define PLACE_TRIES 64          /* placements tried per object */
#define FEATHER 2.0             /* soft image edge, in pixels */
#define DECK_STREAM UINT64_MAX  /* rng stream of the deck dealer */
#define KIND_MAX 32
#define REC_MAX 4096            /* bytes of one JSON record */
#define NCOMBO_MAX (1 + CLASS_MAX + CLASS_MAX * (CLASS_MAX + 1) / 2)
#define PI 3.14159265358979323846

struct cmdline {
	uint64_t seed;
	long ntiles;
	int size;               /* tile side */
	int min_pixels;         /* fewest visible pixels of an object */
	double cut;             /* chance that an object crosses the border */
	double jitter;          /* s.d. of the per-channel colour gain */
	int own_colour;         /* -u: no white balance to the tile */
	double real_share;      /* share of tiles cut from real smears */
	const char *records;    /* JSON Lines file, or NULL */
	const char *backgrounds;
	const char *objects;
};

static const struct cli_info info = {
	"compose-tile",
	"[-s seed] [-n tiles] [-S size] [-m pixels] [-c cut] [-j jitter] "
	"[-u]\n       [-R share] [-r records] backgrounds objects",
	"Cut square tiles from RGB_LABEL backgrounds and paste 0-2 cell\n"
	"samples (every class but the RBCs) on each; write an RGB_LABEL tile\n"
	"stream on stdout and one JSON record per tile to the records file.\n"
	"\n"
	"  -s, --seed N          random seed (default 1)\n"
	"  -n, --tiles N         number of tiles (default 100)\n"
	"  -S, --size N          tile side in pixels (default 224)\n"
	"  -m, --min-pixels N    fewest visible pixels of a pasted object\n"
	"                        (default 20)\n"
	"  -c, --cut P           chance that an object crosses the tile\n"
	"                        border (default 0.2)\n"
	"  -j, --jitter J        s.d. of the colour gain per channel\n"
	"                        (default 0.04; 0 = none)\n"
	"  -u, --own-colour      keep each sample's colours (no white balance\n"
	"                        to the background's plasma)\n"
	"  -R, --real-share F    share of the tiles cut from backgrounds of\n"
	"                        kind real (label-smear), when the stream has\n"
	"                        both kinds (default 0.2)\n"
	"  -r, --records FILE    write the JSON Lines records to FILE\n"
	"  -h, --help            this help\n"
	"      --version         print the version\n",
};

/* One background window and its planned objects, dealt serially. */
struct plan {
	int bg;                         /* background index */
	int nobj;
	int cls[MAX_OBJ];
	const struct sample *smp[MAX_OBJ];
};

/* What rendering found out about one placed object. */
struct placed {
	int cls;
	const struct sample *smp;
	int x, y, w, h;                 /* bbox of the visible pixels */
	int pixels;
	double angle;                   /* degrees */
	int flip;
};

/* One tile in flight: its image, its record, and scratch space. */
struct slot {
	struct img tile;
	unsigned char *owner;           /* size * size: 0 or object number */
	struct paste_patch patch;
	char rec[REC_MAX];
	int dropped;                    /* objects that found no place */
};

/* A shuffled deck of N cards 0..N-1, reshuffled when it runs out. */
struct deck {
	uint32_t *card;
	uint32_t n, next;
};

struct background {
	struct img im;
	char kind[KIND_MAX];
	char id[256];
	double plasma[3];       /* mean colour of the label-0 pixels */
	int has_plasma;
};

static void
parse_cmdline(int argc, char **argv, struct cmdline *cmd)
{
	static const struct option opts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "tiles", required_argument, NULL, 'n' },
		{ "size", required_argument, NULL, 'S' },
		{ "min-pixels", required_argument, NULL, 'm' },
		{ "cut", required_argument, NULL, 'c' },
		{ "jitter", required_argument, NULL, 'j' },
		{ "own-colour", no_argument, NULL, 'u' },
		{ "real-share", required_argument, NULL, 'R' },
		{ "records", required_argument, NULL, 'r' },
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int c;

	cli_begin(argc, argv, &info);
	cmd->seed = 1;
	cmd->ntiles = 100;
	cmd->size = 224;
	cmd->min_pixels = 20;
	cmd->cut = 0.2;
	cmd->jitter = 0.04;
	cmd->records = NULL;
	cmd->own_colour = 0;
	cmd->real_share = 0.2;
	while ((c = getopt_long(argc, argv, ":hs:n:S:m:c:j:r:uR:", opts, NULL))
	    != -1)
		switch (c) {
		case 's':
			cmd->seed = (uint64_t)xstrtol(optarg, 0, INT64_MAX,
			    "seed");
			break;
		case 'n':
			cmd->ntiles = xstrtol(optarg, 1, 100000000, "tile count");
			break;
		case 'S':
			cmd->size = (int)xstrtol(optarg, 8, 4096, "tile size");
			break;
		case 'm':
			cmd->min_pixels = (int)xstrtol(optarg, 1, 1000000,
			    "minimum pixel count");
			break;
		case 'c':
			cmd->cut = xstrtod(optarg, 0, 1, "cut probability");
			break;
		case 'j':
			cmd->jitter = xstrtod(optarg, 0, 0.5, "colour jitter");
			break;
		case 'r':
			cmd->records = optarg;
			break;
		case 'u':
			cmd->own_colour = 1;
			break;
		case 'R':
			cmd->real_share = xstrtod(optarg, 0, 1, "real share");
			break;
		default:
			cli_common(c);
		}
	if (argc - optind != 2)
		cli_usage("need two operands, backgrounds and objects");
	cmd->backgrounds = argv[optind];
	cmd->objects = argv[optind + 1];
	if (strcmp(cmd->backgrounds, "-") == 0 &&
	    strcmp(cmd->objects, "-") == 0)
		cli_usage("backgrounds and objects cannot both be stdin");
}

static void
deck_init(struct deck *d, uint32_t n)
{
	uint32_t i;

	d->card = xmalloc_array(n, sizeof *d->card);
	for (i = 0; i < n; i++)
		d->card[i] = i;
	d->n = n;
	d->next = n;
}

static uint32_t
deck_draw(struct deck *d, struct rng *r)
{
	if (d->next == d->n) {
		rng_shuffle(r, d->card, d->n);
		d->next = 0;
	}
	return d->card[d->next++];
}

/* The mean colour of BG's plasma (its label-0 pixels), if it has any. */
static void
plasma_of(struct background *bg)
{
	size_t npix = (size_t)bg->im.width * bg->im.height, i, n = 0;
	double sum[3] = { 0, 0, 0 };
	int ch;

	for (i = 0; i < npix; i++) {
		const unsigned char *p = bg->im.data + i * 4;
		if (p[3] == 0) {
			for (ch = 0; ch < 3; ch++)
				sum[ch] += p[ch];
			n++;
		}
	}
	bg->has_plasma = n > 0;
	for (ch = 0; ch < 3; ch++)
		bg->plasma[ch] = n > 0 ? sum[ch] / n : 0;
}

/* The white-balance gain that brings sample S to background BG, per
 * channel, into G (1 where either plasma is unknown). */
static void
balance(float g[3], const struct sample *s, const struct background *bg)
{
	char buf[64];
	double p[3];
	int ch;

	for (ch = 0; ch < 3; ch++)
		g[ch] = 1;
	if (!bg->has_plasma || img_meta_get(&s->im, "plasma", buf,
	    sizeof buf) == NULL || sscanf(buf, "%lf %lf %lf", &p[0], &p[1],
	    &p[2]) != 3)
		return;
	for (ch = 0; ch < 3; ch++) {
		double v = p[ch] > 1 ? bg->plasma[ch] / p[ch] : 1;
		g[ch] = (float)(v < 0.6 ? 0.6 : v > 1.6 ? 1.6 : v);
	}
}

/* Read the backgrounds; each must be an RGB_LABEL image at least SIZE
 * pixels on a side.  Returns the count, *BG the array. */
static int
read_backgrounds(const char *path, int size, struct background **bg)
{
	struct img_reader r;
	struct background *v = NULL;
	int n = 0, cap = 0;

	img_open(&r, path);
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			v = xrealloc(v, cap * sizeof *v);
		}
		memset(&v[n], 0, sizeof v[n]);
		if (!img_read(&r, &v[n].im, IMG_LABEL))
			break;
		if (v[n].im.width < size || v[n].im.height < size)
			die("%s: image %d: background is %dx%d, smaller than "
			    "the %dx%d tile", r.name, r.count, v[n].im.width,
			    v[n].im.height, size, size);
		if (img_meta_get(&v[n].im, "kind", v[n].kind,
		    sizeof v[n].kind) == NULL)
			strcpy(v[n].kind, "unknown");
		if (img_meta_get(&v[n].im, "id", v[n].id, sizeof v[n].id) ==
		    NULL)
			v[n].id[0] = '\0';
		plasma_of(&v[n]);
		n++;
	}
	img_close(&r);
	*bg = v;
	return n;
}

/* S as a JSON string for the record of tile T; WHAT names it. */
static json_t *
rec_string(long t, const char *what, const char *s)
{
	json_t *v = json_string(s);

	if (v == NULL)
		die("tile %ld: %s '%s' is not valid UTF-8", t, what, s);
	return v;
}

/* Set KEY of object O (of the record of tile T) to V, a new reference. */
static void
rec_set(long t, json_t *o, const char *key, json_t *v)
{
	if (o == NULL || json_object_set_new(o, key, v) != 0)
		die("tile %ld: out of memory building the record", t);
}

/* The JSON record of tile T into S->rec, one line.  Reals are dumped with
 * 15 significant digits, so the angle, rounded to 0.1 degree first,
 * prints as "%.1f" writes it. */
static void
make_record(struct slot *s, long t, const struct background *bg, int cx,
    int cy, const struct placed *o, int n, const struct class_table *ct)
{
	json_t *rec = json_object(), *objs = json_array(), *obj;
	char deg[32];
	size_t len;
	int k;

	rec_set(t, rec, "tile", json_integer(t));
	rec_set(t, rec, "background", rec_string(t, "background kind",
	    bg->kind));
	if (bg->id[0] != '\0')
		rec_set(t, rec, "background_id", rec_string(t,
		    "background id", bg->id));
	rec_set(t, rec, "crop", json_pack("[i, i]", cx, cy));
	for (k = 0; k < n; k++) {
		snprintf(deg, sizeof deg, "%.1f", o[k].angle);
		obj = json_pack("{s:o, s:[i, i, i, i], s:i, s:o, s:f, s:b}",
		    "class", rec_string(t, "class", ct->c[o[k].cls].name),
		    "bbox", o[k].x, o[k].y, o[k].w, o[k].h,
		    "pixels", o[k].pixels,
		    "sample", rec_string(t, "sample id", o[k].smp->id),
		    "angle", strtod(deg, NULL), "flip", o[k].flip);
		if (objs == NULL || json_array_append_new(objs, obj) != 0)
			die("tile %ld: out of memory building the record", t);
	}
	rec_set(t, rec, "objects", objs);
	len = json_dumpb(rec, s->rec, REC_MAX - 2, JSON_REAL_PRECISION(15));
	if (len == 0 || len > REC_MAX - 2)
		die("tile %ld: record longer than %d bytes", t, REC_MAX - 2);
	s->rec[len] = '\n';
	s->rec[len + 1] = '\0';
	json_decref(rec);
}

/* Choose where the patch goes: fully inside the tile, or with chance
 * CUT anywhere its centre stays inside; at least MIN_PIXELS visible and
 * no pixel on an earlier object.  Returns 0 if no try succeeded. */
static int
place(struct slot *s, struct rng *r, const struct cmdline *cmd, int *px,
    int *py)
{
	const struct paste_patch *p = &s->patch;
	const int size = cmd->size;
	int i, x0, y0, inside, covered;

	for (i = 0; i < PLACE_TRIES; i++) {
		int border = rng_uniform(r) < cmd->cut;

		if (!border && p->w <= size)
			x0 = (int)rng_below(r, size - p->w + 1);
		else
			x0 = (int)rng_below(r, size) - p->w / 2;
		if (!border && p->h <= size)
			y0 = (int)rng_below(r, size - p->h + 1);
		else
			y0 = (int)rng_below(r, size) - p->h / 2;
		inside = paste_count(p, x0, y0, size, size, s->owner, 1,
		    &covered);
		if (inside >= cmd->min_pixels && covered == 0) {
			*px = x0;
			*py = y0;
			return 1;
		}
	}
	return 0;
}

/* Render tile T of plan PL into slot S, with its own random stream. */
static void
render(struct slot *s, long t, const struct plan *pl,
    const struct background *bgs, const struct rng *base,
    const struct cmdline *cmd, const struct class_table *ct)
{
	const struct background *bg = &bgs[pl->bg];
	const int size = cmd->size;
	struct placed o[MAX_OBJ];
	struct mask_box box[MAX_OBJ + 1];
	struct rng r;
	char meta[64];
	int cx, cy, y, k, n = 0, x0, y0;

	rng_split(base, &r, (uint64_t)t);
	cx = (int)rng_below(&r, bg->im.width - size + 1);
	cy = (int)rng_below(&r, bg->im.height - size + 1);
	for (y = 0; y < size; y++)
		memcpy(s->tile.data + (size_t)y * size * 4,
		    bg->im.data + ((size_t)(cy + y) * bg->im.width + cx) * 4,
		    (size_t)size * 4);
	memset(s->owner, 0, (size_t)size * size);
	for (k = 0; k < pl->nobj; k++) {
		float gain[3], wb[3];
		double angle = rng_uniform(&r) * 2 * PI;
		int flip = (int)rng_below(&r, 2), ch;

		if (cmd->own_colour)
			wb[0] = wb[1] = wb[2] = 1;
		else
			balance(wb, pl->smp[k], bg);
		for (ch = 0; ch < 3; ch++) {
			double g = 1 + cmd->jitter * rng_normal(&r);
			gain[ch] = wb[ch] *
			    (float)(g < 0.8 ? 0.8 : g > 1.2 ? 1.2 : g);
		}
		paste_transform(&s->patch, &pl->smp[k]->im, angle, flip,
		    gain, FEATHER);
		if (s->patch.area < cmd->min_pixels ||
		    !place(s, &r, cmd, &x0, &y0)) {
			s->dropped++;
			continue;
		}
		paste_apply(&s->tile, &s->patch, x0, y0, pl->cls[k],
		    s->owner, (unsigned char)(n + 1));
		o[n].cls = pl->cls[k];
		o[n].smp = pl->smp[k];
		o[n].angle = angle * 180 / PI;
		o[n].flip = flip;
		n++;
	}
	mask_boxes(box, n, s->owner, 1, size, size);
	for (k = 0; k < n; k++) {
		o[k].x = box[k + 1].x0;
		o[k].y = box[k + 1].y0;
		o[k].w = box[k + 1].x1 - box[k + 1].x0 + 1;
		o[k].h = box[k + 1].y1 - box[k + 1].y0 + 1;
		o[k].pixels = (int)box[k + 1].area;
	}
	snprintf(meta, sizeof meta, "%ld", t);
	free(s->tile.meta);
	s->tile.meta = NULL;
	img_meta_set(&s->tile, "tile", meta);
	img_meta_set(&s->tile, "background", bg->kind);
	make_record(s, t, bg, cx, cy, o, n, ct);
}

/* The serial part of the plan: decks of combinations, backgrounds and
 * the samples of each class, all dealt by one generator in tile order. */
struct dealer {
	struct rng rng;
	struct deck bg, real, combo, cls[CLASS_MAX];
	int *bg_index, *real_index;     /* deck card -> background */
	double real_share;              /* chance of the real deck, if both */
	int combo_cls[NCOMBO_MAX][MAX_OBJ];
	int combo_n[NCOMBO_MAX];
	int *members[CLASS_MAX];        /* sample indices of each class */
	const struct sample *v;         /* the samples */
};

/* Fill PL[0..N-1] with the next N tiles' background and objects. */
static void
deal(struct dealer *d, struct plan *pl, long n)
{
	long t;
	int cb, k, c;

	for (t = 0; t < n; t++, pl++) {
		cb = (int)deck_draw(&d->combo, &d->rng);
		if (d->real.n == 0)
			pl->bg = d->bg_index[deck_draw(&d->bg, &d->rng)];
		else if (d->bg.n == 0)
			pl->bg = d->real_index[deck_draw(&d->real, &d->rng)];
		else if (rng_uniform(&d->rng) < d->real_share)
			pl->bg = d->real_index[deck_draw(&d->real, &d->rng)];
		else
			pl->bg = d->bg_index[deck_draw(&d->bg, &d->rng)];
		pl->nobj = d->combo_n[cb];
		for (k = 0; k < pl->nobj; k++) {
			c = d->combo_cls[cb][k];
			pl->cls[k] = c;
			pl->smp[k] = &d->v[d->members[c][deck_draw(&d->cls[c],
			    &d->rng)]];
		}
	}
}

/* Write the N rendered tiles of S in order, and their records to REC. */
static void
write_chunk(struct slot *s, long n, FILE *rec, const char *recname,
    long *dropped)
{
	long t;

	for (t = 0; t < n; t++) {
		img_write(stdout, "<stdout>", &s[t].tile);
		if (rec != NULL && fputs(s[t].rec, rec) == EOF)
			die("%s: write error:", recname);
		*dropped += s[t].dropped;
		s[t].dropped = 0;
	}
}

static long
chunk_len(long t0, long ntiles)
{
	return t0 >= ntiles ? 0 : ntiles - t0 < CHUNK ? ntiles - t0 : CHUNK;
}

int
main(int argc, char **argv)
{
	struct cmdline cmd;
	const struct class_table *ct;
	struct sample_set objs;
	struct background *bgs;
	struct dealer d;
	int nmem[CLASS_MAX], present[CLASS_MAX], npresent = 0, ncombo = 0;
	int nbg, i, j, c, rbc_inf, rbc_ok;
	unsigned char want[CLASS_MAX];
	struct rng base;
	struct plan *plans[2];
	struct slot *slots[2];
	struct atomic_file af;
	FILE *rec = NULL;
	long t0, t, dropped = 0;

	parse_cmdline(argc, argv, &cmd);
	ct = classes_load(NULL);
	rbc_inf = classes_lookup(ct, "Infected RBC");
	rbc_ok = classes_lookup(ct, "Healthy RBC");
	for (c = 0; c < CLASS_MAX; c++)
		want[c] = c > 0 && c < ct->n && c != rbc_inf && c != rbc_ok;

	nbg = read_backgrounds(cmd.backgrounds, cmd.size, &bgs);
	samples_read(&objs, cmd.objects, want);
	samples_warn_rejects(&objs);
	if (objs.n == 0)
		die("%s: no white cell, platelet or clump sample among %d "
		    "images", objs.name, objs.skipped + objs.rejected);

	/* the samples of each class, in stream order */
	memset(&d, 0, sizeof d);
	memset(nmem, 0, sizeof nmem);
	d.v = objs.v;
	for (c = 0; c < CLASS_MAX; c++)
		d.members[c] = xmalloc_array(objs.n, sizeof *d.members[c]);
	for (i = 0; i < objs.n; i++) {
		c = objs.v[i].cls;
		d.members[c][nmem[c]++] = i;
	}
	for (c = 0; c < ct->n; c++)
		if (nmem[c] > 0)
			present[npresent++] = c;

	/* none, each class alone, each unordered pair (a class twice too) */
	d.combo_n[ncombo++] = 0;
	for (i = 0; i < npresent; i++) {
		d.combo_cls[ncombo][0] = present[i];
		d.combo_n[ncombo++] = 1;
	}
	for (i = 0; i < npresent; i++)
		for (j = i; j < npresent; j++) {
			d.combo_cls[ncombo][0] = present[i];
			d.combo_cls[ncombo][1] = present[j];
			d.combo_n[ncombo++] = 2;
		}

	rng_seed(&base, cmd.seed);
	rng_split(&base, &d.rng, DECK_STREAM);
	d.real_share = cmd.real_share;
	d.bg_index = xmalloc_array(nbg, sizeof *d.bg_index);
	d.real_index = xmalloc_array(nbg, sizeof *d.real_index);
	for (i = j = 0; i < nbg; i++)
		if (strcmp(bgs[i].kind, "real") == 0)
			d.real_index[j++] = i;
		else
			d.bg_index[i - j] = i;
	deck_init(&d.bg, nbg - j);
	deck_init(&d.real, j);
	deck_init(&d.combo, ncombo);
	for (i = 0; i < npresent; i++)
		deck_init(&d.cls[present[i]], nmem[present[i]]);

	if (cmd.records != NULL)
		rec = atomic_open(&af, cmd.records);
	for (j = 0; j < 2; j++) {
		plans[j] = xmalloc_array(CHUNK, sizeof *plans[j]);
		slots[j] = xcalloc(CHUNK, sizeof *slots[j]);
		for (i = 0; i < CHUNK; i++) {
			img_alloc(&slots[j][i].tile, cmd.size, cmd.size,
			    IMG_LABEL);
			slots[j][i].owner = xmalloc((size_t)cmd.size *
			    cmd.size);
		}
	}

	/* Chunk k is written by one thread while the others (and then that
	 * one too) render chunk k + 1. */
	deal(&d, plans[0], chunk_len(0, cmd.ntiles));
	#pragma omp parallel for schedule(dynamic, 2)
	for (t = 0; t < chunk_len(0, cmd.ntiles); t++)
		render(&slots[0][t], t, &plans[0][t], bgs, &base, &cmd, ct);
	for (t0 = 0; t0 < cmd.ntiles; t0 += CHUNK) {
		const int cur = (int)(t0 / CHUNK) & 1, nxt = cur ^ 1;
		const long nt = chunk_len(t0, cmd.ntiles);
		const long nn = chunk_len(t0 + CHUNK, cmd.ntiles);

		deal(&d, plans[nxt], nn);
		#pragma omp parallel
		{
			#pragma omp single nowait
			write_chunk(slots[cur], nt, rec, cmd.records, &dropped);
			#pragma omp for schedule(dynamic, 2) nowait
			for (t = 0; t < nn; t++)
				render(&slots[nxt][t], t0 + CHUNK + t,
				    &plans[nxt][t], bgs, &base, &cmd, ct);
		}
	}
	if (dropped > 0)
		warn("%ld of the planned objects found no place with %d "
		    "visible pixels and were left out", dropped,
		    cmd.min_pixels);
	xfshut(stdout, "<stdout>");
	if (rec != NULL)
		atomic_commit(&af);
	return 0;
}
