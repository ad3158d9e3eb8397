/*
 * tensor-info - list the tensors in .npy and safetensors files.
 *
 * Prints one line per tensor, "NAME DTYPE SHAPE" (SHAPE as 3x224x224, or
 * "scalar"), so that a model, a checkpoint or a probability map can be
 * inspected without Python.  The format is told by the magic bytes; a .npy
 * file may hold several arrays one after another, and the name of a .npy
 * array is its file name.  With -m the safetensors __metadata__ follows,
 * one "KEY=VALUE" line each.  Every file is read in full and checked as
 * the library readers check it; output is spooled, so an error in any file
 * leaves stdout empty.
 */
#define _GNU_SOURCE             /* fopencookie */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "npy.h"
#include "safetensors.h"
#include "util.h"

#define NPY_MAGIC "\x93NUMPY"

struct cmdline {
	int meta;               /* -m: print safetensors metadata */
	char **files;           /* operands; none means "-" */
	int nfiles;
};

static const struct cli_info info = {
	"tensor-info",
	"[-m] [file ...]",
	"List the tensors in .npy and safetensors files, one line each:\n"
	"NAME DTYPE SHAPE, e.g. \"enc.0.weight F32 32x3x3x3\".\n"
	"\n"
	"  -m, --metadata       also print the safetensors __metadata__,\n"
	"                       one KEY=VALUE line each\n"
	"  -h, --help           this help\n"
	"      --version        print the version\n",
};

static void
parse_cmdline(int argc, char **argv, struct cmdline *cmd)
{
	static const struct option opts[] = {
		{ "metadata", no_argument, NULL, 'm' },
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int c;

	cli_begin(argc, argv, &info);
	cmd->meta = 0;
	while ((c = getopt_long(argc, argv, ":hm", opts, NULL)) != -1)
		switch (c) {
		case 'm':
			cmd->meta = 1;
			break;
		default:
			cli_common(c);
		}
	cli_files(argc, argv, optind, &cmd->files, &cmd->nfiles);
}

static void
print_tensor(FILE *out, const char *name, const struct tensor *t)
{
	int i;

	fprintf(out, "%s %s ", name, dtype_name(t->dtype));
	if (t->ndim == 0)
		fputs("scalar", out);
	for (i = 0; i < t->ndim; i++)
		fprintf(out, "%s%lld", i ? "x" : "", (long long)t->shape[i]);
	fputc('\n', out);
}

/* Print S with control characters escaped (\n, \t, \r, \xHH), so that
 * each metadata entry stays on one line. */
static void
print_escaped(FILE *out, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\n')
			fputs("\\n", out);
		else if (c == '\t')
			fputs("\\t", out);
		else if (c == '\r')
			fputs("\\r", out);
		else if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
}

/* List the arrays of the .npy stream F. */
static void
info_npy(FILE *out, const char *name, FILE *f)
{
	struct tensor t;

	while (npy_read_stream(f, name, &t)) {
		print_tensor(out, name, &t);
		tensor_free(&t);
	}
}

/* List the tensors (and with META the metadata) of the safetensors
 * stream F. */
static void
info_safetensors(FILE *out, const char *name, FILE *f, int meta)
{
	struct st_file st;
	int i;

	st_fread(f, name, &st);
	for (i = 0; i < st.n; i++)
		print_tensor(out, st.t[i].name, &st.t[i]);
	for (i = 0; meta && i < st.nmeta; i++) {
		print_escaped(out, st.meta_key[i]);
		fputc('=', out);
		print_escaped(out, st.meta_val[i]);
		fputc('\n', out);
	}
	st_free(&st);
}

static int
has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

// --- a stream whose first bytes have been looked at -------------------------

/* The bytes read to tell the format, given back before the rest of the
 * file, so that each reader sees the whole stream and reads no more of it
 * than its format says (a pipe cannot be rewound). */
struct peek {
	unsigned char head[9];
	size_t n, pos;
	FILE *rest;
};

static ssize_t
peek_read(void *cookie, char *buf, size_t size)
{
	struct peek *p = cookie;
	size_t k = p->n - p->pos < size ? p->n - p->pos : size;

	memcpy(buf, p->head + p->pos, k);
	p->pos += k;
	if (k < size)
		k += fread(buf + k, 1, size - k, p->rest);
	if (k == 0 && ferror(p->rest))
		return -1;
	return (ssize_t)k;
}

/* Tell the format by the magic bytes: "\x93NUMPY" for .npy, an 8-byte
 * length followed by '{' for safetensors.  When neither matches, the file
 * name's suffix picks the reader whose message explains the problem. */
static void
info_file(FILE *out, const char *path, int meta)
{
	static const cookie_io_functions_t io = { .read = peek_read };
	const char *name = display_name(path);
	struct peek p = { .rest = xfopen(path, "rb") };
	size_t m;
	FILE *f;

	p.n = fread(p.head, 1, sizeof p.head, p.rest);
	if (p.n < sizeof p.head && ferror(p.rest))
		die("%s: read error:", name);
	if (p.n == 0)
		die("%s: empty file (expected a .npy or safetensors file)",
		    name);
	if ((f = fopencookie(&p, "rb", io)) == NULL)
		die("%s: fopencookie:", name);
	m = p.n < 6 ? p.n : 6;
	if (memcmp(p.head, NPY_MAGIC, m) == 0 || (has_suffix(path, ".npy") &&
	    !(p.n > 8 && p.head[8] == '{')))
		info_npy(out, name, f);
	else if ((p.n > 8 && p.head[8] == '{') ||
	    has_suffix(path, ".safetensors"))
		info_safetensors(out, name, f, meta);
	else
		die("%s: not a .npy or safetensors file (expected the magic "
		    "\\x93NUMPY, or an 8-byte length and '{')", name);
	if (ferror(f) || ferror(p.rest))
		die("%s: read error:", name);
	fclose(f);
	if (p.rest != stdin)
		fclose(p.rest);
}

int
main(int argc, char **argv)
{
	struct cmdline cmd;
	char *text = NULL;
	size_t size = 0;
	FILE *out;
	int i;

	parse_cmdline(argc, argv, &cmd);
	out = open_memstream(&text, &size);
	if (out == NULL)
		die("open_memstream:");
	for (i = 0; i < cmd.nfiles; i++)
		info_file(out, cmd.files[i], cmd.meta);
	if (fclose(out) != 0)
		die("out of memory spooling the output");
	if (fwrite(text, 1, size, stdout) != size)
		die("<stdout>: write error:");
	free(text);
	xfshut(stdout, "<stdout>");
	return 0;
}
