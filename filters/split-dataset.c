/*
 * split-dataset - divide a cell-sample stream into train, val and test.
 *
 * Samples are split by group (the slide or patient in their "group"
 * metadata, or the sample alone when it has none), so that cells of one
 * slide never reach two splits, and no sample is in two splits.  The
 * groups are put in an order given by a hash of the seed and the group
 * name, which makes the split depend on the seed and the set of samples
 * but not on their order in the stream.  Then, first, each class's first
 * group in that order goes to train, so that every class can be learned;
 * then every other group goes to the split that is furthest below its
 * target for the classes in the group (targets: the ratios times each
 * class's sample count).  A class with too few groups leaves val or test
 * without it, and a warning says so.
 *
 * The three splits are written as PREFIX.train.pam, PREFIX.val.pam and
 * PREFIX.test.pam, each through a temporary file renamed into place, with
 * the samples in input order and "split: NAME" added to their metadata.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic.h"
#include "classes.h"
#include "cli.h"
#include "image.h"
#include "rng.h"
#include "samples.h"
#include "util.h"

#define NSPLIT 3
static const char *const split_name[NSPLIT] = { "train", "val", "test" };

struct cmdline {
	uint64_t seed;
	double ratio[NSPLIT];   /* normalised to sum 1 */
	const char *prefix;
	int verbose;
	const char *input;
};

struct group {
	const char *name;
	uint64_t key;           /* order: hash of seed and name */
	int count[CLASS_MAX];   /* samples per class */
	int split;              /* -1 until assigned */
	int rank;               /* position in name order */
};

static const struct cli_info info = {
	"split-dataset",
	"[-v] [-s seed] [-r train/val/test] -o prefix [file]",
	"Split a cell-sample stream (RGB_ALPHA) into train, val and test\n"
	"streams, keeping each slide or patient group in one split; write\n"
	"PREFIX.train.pam, PREFIX.val.pam and PREFIX.test.pam.\n"
	"\n"
	"  -o, --output PREFIX   where to write the three streams\n"
	"  -s, --seed N          random seed (default 1)\n"
	"  -r, --ratio A/B/C     train/val/test proportions (default 80/10/10)\n"
	"  -v, --verbose         print the samples and groups per split and\n"
	"                        class on stderr\n"
	"  -h, --help            this help\n"
	"      --version         print the version\n",
};

static void
parse_ratio(const char *s, double ratio[NSPLIT])
{
	char buf[64], *tok, *save = NULL;
	double sum = 0;
	int i = 0;

	if (strlen(s) >= sizeof buf)
		cli_usage("invalid ratio '%s' (expected A/B/C)", s);
	strcpy(buf, s);
	for (tok = strtok_r(buf, "/", &save); tok != NULL;
	    tok = strtok_r(NULL, "/", &save)) {
		if (i == NSPLIT)
			cli_usage("invalid ratio '%s' (expected three parts, "
			    "A/B/C)", s);
		ratio[i] = xstrtod(tok, 0, 1e9, "ratio part");
		sum += ratio[i++];
	}
	if (i != NSPLIT)
		cli_usage("invalid ratio '%s' (expected three parts, A/B/C)",
		    s);
	if (ratio[0] <= 0)
		cli_usage("invalid ratio '%s' (train must get a share)", s);
	for (i = 0; i < NSPLIT; i++)
		ratio[i] /= sum;
}

static void
parse_cmdline(int argc, char **argv, struct cmdline *cmd)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "seed", required_argument, NULL, 's' },
		{ "ratio", required_argument, NULL, 'r' },
		{ "verbose", no_argument, NULL, 'v' },
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int c;

	cli_begin(argc, argv, &info);
	cmd->seed = 1;
	cmd->prefix = NULL;
	cmd->verbose = 0;
	parse_ratio("80/10/10", cmd->ratio);
	while ((c = getopt_long(argc, argv, ":ho:s:r:v", opts, NULL)) != -1)
		switch (c) {
		case 'o':
			cmd->prefix = optarg;
			break;
		case 's':
			cmd->seed = (uint64_t)xstrtol(optarg, 0, INT64_MAX,
			    "seed");
			break;
		case 'r':
			parse_ratio(optarg, cmd->ratio);
			break;
		case 'v':
			cmd->verbose = 1;
			break;
		default:
			cli_common(c);
		}
	cli_max_operands(argc, optind, 1);
	if (cmd->prefix == NULL || cmd->prefix[0] == '\0')
		cli_usage("an output prefix (-o) is needed");
	cmd->input = optind < argc ? argv[optind] : "-";
}

/* 64-bit FNV-1a of S, then mixed with SEED through the project RNG. */
static uint64_t
group_key(const char *s, uint64_t seed)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	struct rng r;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	rng_seed(&r, h ^ (seed * 0x9e3779b97f4a7c15ULL));
	return rng_u64(&r);
}

static const struct sample_set *sort_set;

static int
cmp_sample_group(const void *a, const void *b)
{
	const int *x = a, *y = b;

	return strcmp(sort_set->v[*x].group, sort_set->v[*y].group);
}

static int
cmp_group_key(const void *a, const void *b)
{
	const struct group *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Gather the groups of SET, in key order; GROUP_OF[i] gets sample i's. */
static int
make_groups(const struct sample_set *set, uint64_t seed, struct group **out,
    int *group_of)
{
	int *idx = xmalloc_array(set->n, sizeof *idx);
	struct group *g = xcalloc(set->n, sizeof *g);
	int i, j, ng = 0;

	for (i = 0; i < set->n; i++)
		idx[i] = i;
	sort_set = set;
	qsort(idx, set->n, sizeof *idx, cmp_sample_group);
	for (i = 0; i < set->n; i++) {
		const struct sample *s = &set->v[idx[i]];

		if (ng == 0 || strcmp(g[ng - 1].name, s->group) != 0) {
			g[ng].name = s->group;
			g[ng].key = group_key(s->group, seed);
			g[ng].split = -1;
			g[ng].rank = ng;
			ng++;
		}
		g[ng - 1].count[s->cls]++;
		group_of[idx[i]] = ng - 1;
	}
	qsort(g, ng, sizeof *g, cmp_group_key);
	for (j = 0; j < ng; j++)
		idx[g[j].rank] = j;
	for (i = 0; i < set->n; i++)
		group_of[i] = idx[group_of[i]];
	free(idx);
	*out = g;
	return ng;
}

/* Assign every group to a split: first each class's first group to train,
 * then each group to the split with the largest shortfall against its
 * targets, weighted by the group's class counts. */
static void
assign(struct group *g, int ng, const double ratio[NSPLIT], int ncls,
    int have[NSPLIT][CLASS_MAX])
{
	int total[CLASS_MAX] = { 0 };
	int i, c, k, s, best;

	for (i = 0; i < ng; i++)
		for (c = 0; c < ncls; c++)
			total[c] += g[i].count[c];
	memset(have, 0, sizeof(int) * NSPLIT * CLASS_MAX);
	for (c = 0; c < ncls; c++) {
		if (total[c] == 0 || have[0][c] > 0)
			continue;
		for (i = 0; i < ng && g[i].count[c] == 0; i++)
			;
		if (g[i].split < 0) {
			g[i].split = 0;
			for (k = 0; k < ncls; k++)
				have[0][k] += g[i].count[k];
		}
	}
	for (i = 0; i < ng; i++) {
		double score[NSPLIT] = { 0 };

		if (g[i].split >= 0)
			continue;
		for (s = 0; s < NSPLIT; s++)
			for (c = 0; c < ncls; c++)
				if (g[i].count[c] > 0)
					score[s] += g[i].count[c] *
					    (ratio[s] * total[c] - have[s][c]) /
					    total[c];
		best = 0;
		for (s = 1; s < NSPLIT; s++)
			if (ratio[s] > 0 && score[s] > score[best])
				best = s;
		g[i].split = best;
		for (c = 0; c < ncls; c++)
			have[best][c] += g[i].count[c];
	}
}

/* Warn once per class that a split with a share got none of it. */
static void
warn_missing(const struct class_table *t, const double ratio[NSPLIT],
    int have[NSPLIT][CLASS_MAX])
{
	char miss[64];
	int c, s, ng;

	for (c = 0; c < t->n; c++) {
		if (have[0][c] == 0)
			continue;
		miss[0] = '\0';
		ng = 0;
		for (s = 1; s < NSPLIT; s++)
			if (ratio[s] > 0 && have[s][c] == 0)
				snprintf(miss + strlen(miss), sizeof miss -
				    strlen(miss), "%s%s", ng++ ? " and " : "",
				    split_name[s]);
		if (ng > 0)
			warn("class %s has too few groups: %s get%s none of "
			    "it", t->c[c].name, miss, ng > 1 ? "" : "s");
	}
}

static void
report(const struct class_table *t, const struct group *g, int ng,
    int have[NSPLIT][CLASS_MAX])
{
	int c, s, i, groups[NSPLIT][CLASS_MAX];

	memset(groups, 0, sizeof groups);
	for (i = 0; i < ng; i++)
		for (c = 0; c < t->n; c++)
			if (g[i].count[c] > 0)
				groups[g[i].split][c]++;
	fprintf(stderr, "%-16s", "class");
	for (s = 0; s < NSPLIT; s++)
		fprintf(stderr, " %7s %6s", split_name[s], "groups");
	fputc('\n', stderr);
	for (c = 0; c < t->n; c++) {
		if (have[0][c] + have[1][c] + have[2][c] == 0)
			continue;
		fprintf(stderr, "%-16s", t->c[c].name);
		for (s = 0; s < NSPLIT; s++)
			fprintf(stderr, " %7d %6d", have[s][c], groups[s][c]);
		fputc('\n', stderr);
	}
}

int
main(int argc, char **argv)
{
	struct cmdline cmd;
	const struct class_table *t;
	struct sample_set set;
	struct group *g;
	struct atomic_file af[NSPLIT];
	int have[NSPLIT][CLASS_MAX], *group_of, ng, i, s, n[NSPLIT] = { 0 };
	char *path;
	size_t plen;

	parse_cmdline(argc, argv, &cmd);
	t = classes_load(NULL);
	samples_read(&set, cmd.input, NULL);
	samples_warn_rejects(&set);
	if (set.n == 0)
		die("%s: no usable sample", set.name);
	group_of = xmalloc_array(set.n, sizeof *group_of);
	ng = make_groups(&set, cmd.seed, &g, group_of);
	assign(g, ng, cmd.ratio, t->n, have);
	warn_missing(t, cmd.ratio, have);
	if (cmd.verbose)
		report(t, g, ng, have);

	plen = strlen(cmd.prefix) + 16;
	path = xmalloc(plen);
	for (s = 0; s < NSPLIT; s++) {
		FILE *f;

		snprintf(path, plen, "%s.%s.pam", cmd.prefix, split_name[s]);
		f = atomic_open(&af[s], path);
		for (i = 0; i < set.n; i++) {
			if (g[group_of[i]].split != s)
				continue;
			img_meta_set(&set.v[i].im, "split", split_name[s]);
			img_write(f, path, &set.v[i].im);
			n[s]++;
		}
	}
	for (s = 0; s < NSPLIT; s++) {
		if (n[s] == 0 && cmd.ratio[s] > 0)
			warn("split %s is empty (%d groups in all)",
			    split_name[s], ng);
		atomic_commit(&af[s]);
	}
	free(path);
	return 0;
}
