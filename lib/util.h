/*
 * util.h - the error family, checked allocation, checked numbers and
 * checked files shared by every smearseg program.
 *
 * Every message goes to standard error as "prog: message".  A format that
 * ends in ':' gets ": strerror(errno)" appended, as sbase's eprintf does.
 * die() exits with status 1; nothing in the library ever exits with 0 on
 * failure or prints a diagnostic on standard output.
 */
#ifndef SMEARSEG_UTIL_H
#define SMEARSEG_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdnoreturn.h>

#define SMEARSEG_VERSION "0.1.0"

extern const char *argv0;               /* program name for messages */
extern int die_status;                  /* die()'s exit status, 1 */

void setprogname(const char *argv0_full);
noreturn void die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vwarn(const char *fmt, va_list ap);

/* For the fuzz harnesses: when die_jump is set, die() keeps its message
 * in die_message, runs the hook and jumps there instead of exiting.
 * Memory and files the failing code held are not released. */
extern jmp_buf *die_jump;
extern char die_message[512];

/* Called by die() before it exits, e.g. to remove a temporary file.  At
 * most one hook; NULL clears it. */
void set_die_hook(void (*hook)(void));

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
void *xmalloc_array(size_t nmemb, size_t size);   /* overflow-checked */
char *xstrdup(const char *s);

/* Parse a whole string as a number in [min, max]; on failure die with
 * "invalid WHAT 'S': reason (expected MIN..MAX)". */
long xstrtol(const char *s, long min, long max, const char *what);
double xstrtod(const char *s, double min, double max, const char *what);

/* Open PATH; "-" or NULL means stdin (mode "r...") or stdout (mode "w...").
 * Dies with "PATH:" + strerror on failure, and with "PATH: is a
 * directory" when a directory is opened for reading. */
FILE *xfopen(const char *path, const char *mode);
/* The display name of PATH for messages: "<stdin>" for "-" or NULL. */
const char *display_name(const char *path);
/* Flush and close an output stream, dying if anything failed (full disk,
 * closed pipe).  Call it on stdout at the end of main. */
void xfshut(FILE *f, const char *name);

/* Read a whole file into memory (NUL-terminated); *len gets the size. */
/* Write S to F as a YAML double-quoted string (quote and backslash
 * escaped, control characters as \xNN). */
void yaml_put_quoted(FILE *f, const char *s);

char *read_whole_file(const char *path, size_t *len);
/* The same, dying once more than MAX bytes have been read (a config
 * named /dev/zero, a huge file given by mistake). */
char *read_whole_file_max(const char *path, size_t max, size_t *len);

/* Monotonic clock in seconds, for progress and benchmarks. */
double now_seconds(void);

/*
 * Output spooling: a filter that may still fail after it has produced some
 * output (a bad image late in a stream) writes to a spool instead of
 * stdout, and copies it out only when all input has been read and checked.
 * So a failing run writes nothing.  The spool is an unlinked temporary
 * file: memory stays bounded however long the stream.
 */
FILE *spool_open(void);
/* Copy the spool to OUT (NAME for messages), close it, and xfshut OUT. */
void spool_commit(FILE *spool, FILE *out, const char *name);

#endif
