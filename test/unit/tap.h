/*
 * tap.h - a minimal TAP producer for the C unit tests.
 *
 * Each test binary prints "ok N - name" or "not ok N - name" per check and
 * a plan line at the end; test/run-tests counts them.  A binary exits 1 if
 * any check failed.  Header-only so that every test is one file.
 */
#ifndef SMEARSEG_TAP_H
#define SMEARSEG_TAP_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int tap_n, tap_failed;

__attribute__((format(printf, 2, 3), unused))
static int
tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!cond)
		tap_failed++;
	return cond;
}

__attribute__((unused)) static void
tap_skip(const char *why)
{
	printf("ok %d # skip %s\n", ++tap_n, why);
}

/* |got - want| <= atol + rtol*|want| */
__attribute__((unused)) static int
tap_close(double got, double want, double atol, double rtol)
{
	return fabs(got - want) <= atol + rtol * fabs(want);
}

__attribute__((unused)) static int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
