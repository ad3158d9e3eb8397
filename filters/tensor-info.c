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

/* List the arrays of a .npy stream held in BUF (LEN bytes). */
static void
info_npy(FILE *out, const char *name, char *buf, size_t len)
{
	struct tensor t;
	FILE *f = fmemopen(buf, len, "rb");

	if (f == NULL)
		die("%s: fmemopen:", name);
	while (npy_read_stream(f, name, &t)) {
		print_tensor(out, name, &t);
		tensor_free(&t);
	}
	fclose(f);
}

/* List the tensors (and with META the metadata) of a safetensors file
 * held in BUF, which this takes over. */
static void
info_safetensors(FILE *out, const char *name, char *buf, size_t len,
    int meta)
{
	struct st_file f;
	int i;

	st_parse(name, buf, len, &f);
	for (i = 0; i < f.n; i++)
		print_tensor(out, f.t[i].name, &f.t[i]);
	for (i = 0; meta && i < f.nmeta; i++) {
		print_escaped(out, f.meta_key[i]);
		fputc('=', out);
		print_escaped(out, f.meta_val[i]);
		fputc('\n', out);
	}
	st_free(&f);
}

static int
has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Tell the format by the magic bytes: "\x93NUMPY" for .npy, an 8-byte
 * length followed by '{' for safetensors.  When neither matches, the file
 * name's suffix picks the reader whose message explains the problem. */
static void
info_file(FILE *out, const char *path, int meta)
{
	const char *name = display_name(path);
	size_t len, m;
	char *buf = read_whole_file(path, &len);

	if (len == 0)
		die("%s: empty file (expected a .npy or safetensors file)",
		    name);
	m = len < 6 ? len : 6;
	if (memcmp(buf, NPY_MAGIC, m) == 0 || (has_suffix(path, ".npy") &&
	    !(len > 8 && buf[8] == '{'))) {
		info_npy(out, name, buf, len);
		free(buf);
	} else if ((len > 8 && buf[8] == '{') ||
	    has_suffix(path, ".safetensors")) {
		info_safetensors(out, name, buf, len, meta);
	} else {
		die("%s: not a .npy or safetensors file (expected the magic "
		    "\\x93NUMPY, or an 8-byte length and '{')", name);
	}
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
