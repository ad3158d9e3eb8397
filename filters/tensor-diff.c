/*
 * tensor-diff - compare the tensors of two safetensors files.
 *
 * For every tensor of A, the tensor of the same name in B must exist with
 * the same shape; the values are compared as doubles (F32, F16, F64 and
 * the integer types alike).  Prints one line per tensor, "NAME MAXABS
 * MAXREL RELNORM", and exits 0 when every element satisfies
 * |a - b| <= atol + rtol * |b| (with -n: when every tensor has
 * ||a - b|| <= rtol * ||b||, the relative error of the whole tensor, which
 * near-zero elements cannot dominate), 1 when one does not, 2 on bad
 * input.  So
 * a script can tell whether a run on N ranks reproduced one on a single
 * rank, or how far a half-precision model is from its float original.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "safetensors.h"
#include "util.h"

struct cmdline {
	const char *a, *b;
	double rtol, atol;
	int quiet, norm;
};

static const struct cli_info info = {
	"tensor-diff",
	"[-nq] [-r rtol] [-a atol] a.safetensors b.safetensors",
	"Compare the tensors of two safetensors files by name.  Prints\n"
	"NAME MAXABS MAXREL RELNORM per tensor of a; exits 0 if every element\n"
	"has |a - b| <= atol + rtol*|b|, 1 if not, 2 on an error.  Tensors of\n"
	"b missing from a are ignored; a tensor of a missing from b is an\n"
	"error.\n"
	"\n"
	"  -n, --norm       judge each tensor by RELNORM = ||a - b|| / ||b||\n"
	"                   (Euclidean norms) <= rtol instead\n"
	"  -r, --rtol R     relative tolerance (default 1e-5)\n"
	"  -a, --atol A     absolute tolerance (default 1e-7)\n"
	"  -q, --quiet      print only the tensors out of tolerance\n"
	"  -h, --help       this help\n"
	"      --version    print the version\n",
};

static void
parse_cmdline(int argc, char **argv, struct cmdline *cmd)
{
	static const struct option opts[] = {
		{ "rtol", required_argument, NULL, 'r' },
		{ "atol", required_argument, NULL, 'a' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "norm", no_argument, NULL, 'n' },
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int c;

	cli_begin(argc, argv, &info);
	cmd->rtol = 1e-5;
	cmd->atol = 1e-7;
	cmd->quiet = cmd->norm = 0;
	while ((c = getopt_long(argc, argv, ":hr:a:qn", opts, NULL)) != -1)
		switch (c) {
		case 'r':
			cmd->rtol = xstrtod(optarg, 0, 1e30, "rtol");
			break;
		case 'a':
			cmd->atol = xstrtod(optarg, 0, 1e30, "atol");
			break;
		case 'q':
			cmd->quiet = 1;
			break;
		case 'n':
			cmd->norm = 1;
			break;
		default:
			cli_common(c);
		}
	if (argc - optind != 2)
		cli_usage("need two files");
	cmd->a = argv[optind];
	cmd->b = argv[optind + 1];
}

/* Element I of T as a double. */
static double
value(const struct tensor *t, size_t i)
{
	const void *d = t->data;
	float f;

	switch (t->dtype) {
	case DTYPE_F32: return ((const float *)d)[i];
	case DTYPE_F64: return ((const double *)d)[i];
	case DTYPE_F16:
		f16_to_f32(&f, (const uint16_t *)d + i, 1);
		return f;
	case DTYPE_U8: return ((const uint8_t *)d)[i];
	case DTYPE_I32: return ((const int32_t *)d)[i];
	case DTYPE_I64: return (double)((const int64_t *)d)[i];
	default: return NAN;
	}
}

int
main(int argc, char **argv)
{
	struct cmdline cmd;
	struct st_file fa, fb;
	const struct tensor *ta, *tb;
	int i, j, bad = 0;

	parse_cmdline(argc, argv, &cmd);
	die_status = 2;         /* like cmp(1): 1 means "different" */
	st_read(cmd.a, &fa);
	st_read(cmd.b, &fb);
	/* check every shape before printing anything */
	for (i = 0; i < fa.n; i++) {
		ta = &fa.t[i];
		if ((tb = st_find(&fb, ta->name)) == NULL)
			die("%s: no tensor '%s'", cmd.b, ta->name);
		if (tb->ndim != ta->ndim)
			die("%s: tensor '%s' has %d dimensions, %s has %d",
			    cmd.b, ta->name, tb->ndim, cmd.a, ta->ndim);
		for (j = 0; j < ta->ndim; j++)
			if (ta->shape[j] != tb->shape[j])
				die("%s: tensor '%s' differs in shape from %s",
				    cmd.b, ta->name, cmd.a);
	}
	for (i = 0; i < fa.n; i++) {
		double maxabs = 0, maxrel = 0, dd = 0, bb = 0, relnorm;
		int out = 0;
		ta = &fa.t[i];
		tb = st_find(&fb, ta->name);
		for (size_t k = 0, n = tensor_numel(ta); k < n; k++) {
			double a = value(ta, k), b = value(tb, k);
			double d = fabs(a - b), rel = d / (fabs(b) + 1e-30);
			if (!(d <= cmd.atol + cmd.rtol * fabs(b)))
				out = 1;
			dd += d * d;
			bb += b * b;
			if (d > maxabs || isnan(d))
				maxabs = d;
			if (d > cmd.atol && rel > maxrel)
				maxrel = rel;
		}
		relnorm = bb > 0 ? sqrt(dd / bb) : sqrt(dd);
		if (cmd.norm)
			out = !(relnorm <= cmd.rtol);
		bad |= out;
		if (!cmd.quiet || out)
			printf("%s %.3g %.3g %.3g%s\n", ta->name, maxabs, maxrel,
			    relnorm, out ? " OUT OF TOLERANCE" : "");
	}
	xfshut(stdout, "<stdout>");
	st_free(&fa);
	st_free(&fb);
	return bad;
}
