/*
 * cli.h - the command-line contract shared by every smearseg program.
 *
 *   -h, --help     usage and a description on stdout, exit 0
 *   --version      "PROG (smearseg) VERSION" on stdout, exit 0
 *   misuse         "PROG: reason" and then the usage line on stderr, exit 1
 *   no file or -   standard input
 *
 * A program declares its usage and help text once, lists its own long
 * options followed by CLI_COMMON_OPTIONS, and passes every option that
 * getopt_long returns and it does not know itself to cli_common().  The
 * short-option string must begin with ':' so that a missing argument is told
 * apart from an unknown option.
 *
 *	static const struct cli_info info = {
 *		"colorize", "[-o] [--side-by-side TRUTH] [file]",
 *		"Turn PGM class maps into PPM colour maps.\n..." };
 *	cli_begin(argc, argv, &info);
 *	while ((c = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1)
 *		switch (c) { case 'o': ...; break; default: cli_common(c); }
 */
#ifndef SMEARSEG_CLI_H
#define SMEARSEG_CLI_H

#include <getopt.h>
#include <stdnoreturn.h>

struct cli_info {
	const char *name;       /* program name */
	const char *synopsis;   /* options and operands, after the name */
	const char *help;       /* description and option list for --help */
};

enum { CLI_OPT_VERSION = 0x1000, CLI_OPT_HELP = 'h' };

#define CLI_COMMON_OPTIONS \
	{ "help", no_argument, NULL, CLI_OPT_HELP }, \
	{ "version", no_argument, NULL, CLI_OPT_VERSION }

void cli_begin(int argc, char **argv, const struct cli_info *info);
/* Handle -h, --help, --version, and getopt's '?' / ':' (misuse). */
void cli_common(int opt);
/* "PROG: reason" (if fmt is not NULL), then the usage line; exit 1. */
noreturn void cli_usage(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
/* At most MAX operands may remain after the options; else usage. */
void cli_max_operands(int argc, int optind_, int max);
/* The file operands after the options, or "-" (standard input) alone
 * when there are none: *FILES and *NFILES. */
void cli_files(int argc, char **argv, int optind_, char ***files,
    int *nfiles);

#endif
