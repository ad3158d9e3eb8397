/*
 * tile-stats - per-class pixel shares and object counts of tile streams.
 *
 * Each operand is an RGB_LABEL tile stream, one split of a dataset; its
 * name without directory and ".pam" names the split in the output.  The
 * pixel share of each class comes from the label planes; the object
 * counts (pasted white cells, platelets and clumps) come from the JSON
 * Lines records beside the stream (the same name ending in ".jsonl"),
 * when they exist.  The result is a table, or YAML with --yaml, on
 * standard output: the quick look at class balance that the reference
 * work never printed.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classes.h"
#include "cli.h"
#include "image.h"
#include "util.h"

#define NAME_MAX_ 64

struct cmdline {
	int yaml;
	int nfiles;
	char **files;
};

struct split {
	char name[NAME_MAX_];
	long tiles;
	uint64_t pixels[256];   /* by label value */
	uint64_t total;
	long objects[CLASS_MAX];
	long records;           /* record lines, -1 if no records file */
};

static const struct cli_info info = {
	"tile-stats",
	"[-y] tiles ...",
	"Print the pixel share of each class and the number of pasted\n"
	"objects of each class in RGB_LABEL tile streams, one column per\n"
	"stream (split).  Object counts come from the JSON Lines records\n"
	"beside each stream (NAME.jsonl for NAME.pam), when they exist.\n"
	"\n"
	"  -y, --yaml            print YAML instead of a table\n"
	"  -h, --help            this help\n"
	"      --version         print the version\n",
};

static void
parse_cmdline(int argc, char **argv, struct cmdline *cmd)
{
	static const struct option opts[] = {
		{ "yaml", no_argument, NULL, 'y' },
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int c;

	cli_begin(argc, argv, &info);
	cmd->yaml = 0;
	while ((c = getopt_long(argc, argv, ":hy", opts, NULL)) != -1)
		switch (c) {
		case 'y':
			cmd->yaml = 1;
			break;
		default:
			cli_common(c);
		}
	if (optind == argc)
		cli_usage("no tile stream named");
	cmd->nfiles = argc - optind;
	cmd->files = argv + optind;
}

/* The split name of PATH: its base name without ".pam". */
static void
split_name(const char *path, char *buf, size_t n)
{
	const char *b = strrchr(path, '/');
	size_t len;

	b = b ? b + 1 : path;
	if (strcmp(path, "-") == 0)
		b = "stdin";
	snprintf(buf, n, "%s", b);
	len = strlen(buf);
	if (len > 4 && strcmp(buf + len - 4, ".pam") == 0)
		buf[len - 4] = '\0';
}

/* Count the objects of each class in the records file beside PATH: JSON
 * Lines, each record an object whose "objects" array holds objects with a
 * "class" name (compose-tile(1)); other keys, their order and spacing do
 * not matter. */
static void
read_records(struct split *sp, const char *path,
    const struct class_table *t)
{
	size_t len = strlen(path), cap = 0, i;
	char *rpath, *line = NULL;
	const char *name;
	json_t *rec, *objs, *o;
	json_error_t e;
	FILE *f;
	int c;

	sp->records = -1;
	if (len < 5 || strcmp(path + len - 4, ".pam") != 0)
		return;
	rpath = xmalloc(len + 3);
	memcpy(rpath, path, len - 4);
	strcpy(rpath + len - 4, ".jsonl");
	f = fopen(rpath, "r");
	if (f == NULL) {
		free(rpath);
		return;
	}
	sp->records = 0;
	while (getline(&line, &cap, f) != -1) {
		sp->records++;
		if ((rec = json_loads(line, JSON_REJECT_DUPLICATES, &e)) == NULL)
			die("%s: line %ld: %s", rpath, sp->records, e.text);
		objs = json_object_get(rec, "objects");
		if (!json_is_array(objs))
			die("%s: line %ld: expected an object with an "
			    "'objects' array", rpath, sp->records);
		json_array_foreach(objs, i, o) {
			name = json_string_value(json_object_get(o, "class"));
			if (name == NULL)
				die("%s: line %ld: object %zu has no 'class' "
				    "string", rpath, sp->records, i + 1);
			c = classes_lookup(t, name);
			if (c < 0)
				die("%s: line %ld: unknown class '%s'", rpath,
				    sp->records, name);
			sp->objects[c]++;
		}
		json_decref(rec);
	}
	if (ferror(f))
		die("%s:", rpath);
	fclose(f);
	free(line);
	if (sp->records != sp->tiles)
		warn("%s: %ld records for %ld tiles", rpath, sp->records,
		    sp->tiles);
	free(rpath);
}

static void
read_split(struct split *sp, const char *path, const struct class_table *t)
{
	struct img_reader r;
	struct img im;
	size_t i, n;

	memset(sp, 0, sizeof *sp);
	memset(&im, 0, sizeof im);
	split_name(path, sp->name, sizeof sp->name);
	img_open(&r, path);
	while (img_read(&r, &im, IMG_LABEL)) {
		n = (size_t)im.width * im.height;
		for (i = 0; i < n; i++)
			sp->pixels[im.data[i * 4 + 3]]++;
		sp->total += n;
		sp->tiles++;
	}
	img_close(&r);
	img_free(&im);
	read_records(sp, path, t);
}

static void
print_table(const struct split *sp, int ns, const struct class_table *t)
{
	int s, c;

	printf("%-16s", "");
	for (s = 0; s < ns; s++)
		printf(" %17.17s", sp[s].name);
	printf("\n%-16s", "class");
	for (s = 0; s < ns; s++)
		printf(" %8s %8s", "pixel%", "objects");
	putchar('\n');
	/* the classes, then the partial labels and ignore where present */
	for (c = 0; c <= t->n + t->npartial; c++) {
		int v = c < t->n ? c : c < t->n + t->npartial ?
		    t->partial[c - t->n].index : CLASS_IGNORE;
		const char *name = c < t->n ? t->c[v].name :
		    c < t->n + t->npartial ? t->partial[c - t->n].info.name :
		    "ignore";

		if (c >= t->n) {
			uint64_t any = 0;
			for (s = 0; s < ns; s++)
				any += sp[s].pixels[v];
			if (any == 0)
				continue;
		}
		printf("%-16.16s", name);
		for (s = 0; s < ns; s++) {
			printf(" %8.3f", sp[s].total ? 100.0 *
			    sp[s].pixels[v] / sp[s].total : 0.0);
			if (sp[s].records < 0 || c >= t->n)
				printf(" %8s", "-");
			else
				printf(" %8ld", sp[s].objects[v]);
		}
		putchar('\n');
	}
	printf("%-16s", "tiles");
	for (s = 0; s < ns; s++)
		printf(" %17ld", sp[s].tiles);
	putchar('\n');
}

static void
print_yaml(const struct split *sp, int ns, const struct class_table *t)
{
	int s, c;

	printf("splits:\n");
	for (s = 0; s < ns; s++) {
		printf("  \"%s\":\n    tiles: %ld\n    pixels: %llu\n"
		    "    classes:\n", sp[s].name, sp[s].tiles,
		    (unsigned long long)sp[s].total);
		for (c = 0; c < t->n; c++) {
			printf("      \"%s\": {pixel_share: %.6f", t->c[c].name,
			    sp[s].total ? (double)sp[s].pixels[c] /
			    sp[s].total : 0.0);
			if (sp[s].records >= 0)
				printf(", objects: %ld", sp[s].objects[c]);
			printf("}\n");
		}
		for (c = 0; c < t->npartial; c++) {
			uint64_t n = sp[s].pixels[t->partial[c].index];
			if (n > 0)
				printf("      \"%s\": {pixel_share: %.6f, "
				    "partial: true}\n", t->partial[c].info.name,
				    (double)n / sp[s].total);
		}
		if (sp[s].pixels[CLASS_IGNORE] > 0)
			printf("      ignore: {pixel_share: %.6f}\n",
			    (double)sp[s].pixels[CLASS_IGNORE] / sp[s].total);
	}
}

int
main(int argc, char **argv)
{
	struct cmdline cmd;
	const struct class_table *t;
	struct split *sp;
	int s;

	parse_cmdline(argc, argv, &cmd);
	t = classes_load(NULL);
	sp = xcalloc(cmd.nfiles, sizeof *sp);
	for (s = 0; s < cmd.nfiles; s++)
		read_split(&sp[s], cmd.files[s], t);
	if (cmd.yaml)
		print_yaml(sp, cmd.nfiles, t);
	else
		print_table(sp, cmd.nfiles, t);
	xfshut(stdout, "<stdout>");
	return 0;
}
