/*
 * util.c - error reporting, checked allocation, number parsing and file
 * helpers.  Modelled on sbase's eprintf/ealloc/estrtonum and Netpbm's
 * pm_error: one message per failure, naming the program and the bad value.
 */
#define _POSIX_C_SOURCE 200809L
#include "util.h"

#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *argv0 = "smearseg";
int die_status = 1;
jmp_buf *die_jump;
char die_message[512];
static void (*die_hook)(void);

void
setprogname(const char *full)
{
	const char *slash;

	if (full == NULL || *full == '\0')
		return;
	slash = strrchr(full, '/');
	argv0 = slash ? slash + 1 : full;
}

void
set_die_hook(void (*hook)(void))
{
	die_hook = hook;
}

void
vwarn(const char *fmt, va_list ap)
{
	int saved = errno;
	size_t n = strlen(fmt);

	fprintf(stderr, "%s: ", argv0);
	vfprintf(stderr, fmt, ap);
	if (n > 0 && fmt[n - 1] == ':')
		fprintf(stderr, " %s", strerror(saved));
	fputc('\n', stderr);
}

void
warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
}

void
die(const char *fmt, ...)
{
	va_list ap;
	void (*hook)(void) = die_hook;

	va_start(ap, fmt);
	if (die_jump != NULL)
		vsnprintf(die_message, sizeof die_message, fmt, ap);
	else
		vwarn(fmt, ap);
	va_end(ap);
	die_hook = NULL;
	if (hook)
		hook();
	if (die_jump != NULL)
		longjmp(*die_jump, 1);
	exit(die_status);
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		die("out of memory allocating %zu bytes", n);
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (p == NULL)
		die("out of memory allocating %zu x %zu bytes", nmemb, size);
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		die("out of memory allocating %zu bytes", n);
	return p;
}

void *
xmalloc_array(size_t nmemb, size_t size)
{
	if (size != 0 && nmemb > SIZE_MAX / size)
		die("allocation of %zu x %zu bytes overflows", nmemb, size);
	return xmalloc(nmemb * size);
}

char *
xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(xmalloc(n), s, n);
}

long
xstrtol(const char *s, long min, long max, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0')
		die("invalid %s '%s': not an integer", what, s);
	if (errno == ERANGE || v < min || v > max)
		die("invalid %s '%s': out of range (expected %ld..%ld)",
		    what, s, min, max);
	return v;
}

double
xstrtod(const char *s, double min, double max, const char *what)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || isnan(v))
		die("invalid %s '%s': not a number", what, s);
	if (errno == ERANGE || v < min || v > max)
		die("invalid %s '%s': out of range (expected %g..%g)",
		    what, s, min, max);
	return v;
}

const char *
display_name(const char *path)
{
	if (path == NULL || strcmp(path, "-") == 0)
		return "<stdin>";
	return path;
}

FILE *
xfopen(const char *path, const char *mode)
{
	struct stat st;
	FILE *f;

	if (path == NULL || strcmp(path, "-") == 0)
		f = mode[0] == 'r' ? stdin : stdout;
	else if ((f = fopen(path, mode)) == NULL)
		die("%s:", path);
	/* fopen() opens a directory for reading, and reads then fail */
	if (mode[0] == 'r' && fstat(fileno(f), &st) == 0 &&
	    S_ISDIR(st.st_mode))
		die("%s: is a directory, expected a file",
		    display_name(path));
	return f;
}

void
xfshut(FILE *f, const char *name)
{
	int err = ferror(f);

	if (fflush(f) != 0 || err)
		die("%s: write error:", name);
	if (f != stdin && f != stdout && f != stderr && fclose(f) != 0)
		die("%s: close failed:", name);
}

char *
read_whole_file(const char *path, size_t *len)
{
	return read_whole_file_max(path, SIZE_MAX / 4, len);
}

char *
read_whole_file_max(const char *path, size_t max, size_t *len)
{
	FILE *f = xfopen(path, "rb");
	size_t cap = 1 << 16, n = 0, got;
	char *buf = xmalloc(cap);

	while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += got;
		if (n > max)
			die("%s: larger than %zu bytes (expected at most that)",
			    display_name(path), max);
		if (cap - n - 1 == 0)
			buf = xrealloc(buf, cap *= 2);
	}
	if (ferror(f))
		die("%s: read error:", display_name(path));
	if (f != stdin)
		fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

FILE *
spool_open(void)
{
	FILE *f = tmpfile();

	if (f == NULL)
		die("cannot create a temporary file:");
	return f;
}

void
spool_commit(FILE *spool, FILE *out, const char *name)
{
	char buf[1 << 16];
	size_t n;

	if (fflush(spool) != 0 || ferror(spool) || fseek(spool, 0, SEEK_SET))
		die("temporary file: write error:");
	while ((n = fread(buf, 1, sizeof buf, spool)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			break;
	if (ferror(spool))
		die("temporary file: read error:");
	fclose(spool);
	xfshut(out, name);
}

void
yaml_put_quoted(FILE *f, const char *s)
{
	putc('"', f);
	for (; *s != '\0'; s++)
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\x%02x", (unsigned char)*s);
		else
			putc(*s, f);
	putc('"', f);
}
