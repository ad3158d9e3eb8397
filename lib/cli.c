/*
 * cli.c - the shared command-line contract (see cli.h).  getopt_long is
 * told to be quiet (opterr = 0) so that every misuse message has the same
 * "PROG: reason" shape followed by the usage line.
 */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

static const struct cli_info *cur;
static char *const *cur_argv;

void
cli_begin(int argc, char **argv, const struct cli_info *info)
{
	cur = info;
	cur_argv = argv;
	setprogname(argc > 0 ? argv[0] : info->name);
	argv0 = info->name;
	opterr = 0;
}

noreturn void
cli_usage(const char *fmt, ...)
{
	va_list ap;

	if (fmt != NULL) {
		va_start(ap, fmt);
		vwarn(fmt, ap);
		va_end(ap);
	}
	fprintf(stderr, "usage: %s %s\n", cur->name, cur->synopsis);
	exit(1);
}

void
cli_common(int opt)
{
	switch (opt) {
	case CLI_OPT_HELP:
		printf("usage: %s %s\n\n%s", cur->name, cur->synopsis, cur->help);
		xfshut(stdout, "<stdout>");
		exit(0);
	case CLI_OPT_VERSION:
		printf("%s (smearseg) %s\n", cur->name, SMEARSEG_VERSION);
		xfshut(stdout, "<stdout>");
		exit(0);
	case ':':
		cli_usage("option '%s' needs an argument", cur_argv[optind - 1]);
	case '?':
	default:
		if (optopt != 0 && optopt < 0x100)
			cli_usage("unknown option '-%c'", optopt);
		cli_usage("unknown option '%s'", cur_argv[optind - 1]);
	}
}

void
cli_max_operands(int argc, int optind_, int max)
{
	if (argc - optind_ > max)
		cli_usage("too many operands (at most %d)", max);
}

void
cli_files(int argc, char **argv, int optind_, char ***files, int *nfiles)
{
	static char *stdin_only[] = { "-", NULL };

	*files = optind_ < argc ? argv + optind_ : stdin_only;
	*nfiles = optind_ < argc ? argc - optind_ : 1;
}
