/*
 * history.c - epochs as JSON through jansson (history.h).
 *
 * jansson prints a real with "%.*g" at the precision it is given, so a
 * number rounded the way this project has always written it (printf's
 * "%.6f", "%.3f", "%.6g") is first turned into the double nearest that
 * text, then printed at 15 significant digits: the same digits come out,
 * without trailing zeros.  Parsing a history back and printing it again
 * gives the same text, so a resumed run writes the same bytes as one that
 * never stopped.
 */
#include "history.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "atomic.h"
#include "util.h"

#define DUMP_FLAGS (JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))

/* V as printf's FMT rounds it, or null if V is not a number. */
static json_t *
number(const char *fmt, double v)
{
	char s[64];

	if (!isfinite(v))
		return json_null();
	snprintf(s, sizeof s, fmt, v);
	return json_real(strtod(s, NULL));
}

static void
set(json_t *o, const char *key, json_t *v)
{
	if (v == NULL || json_object_set_new(o, key, v) != 0)
		die("out of memory");
}

/* E's history entry, and with LOG its timing too. */
static json_t *
record(const struct epoch_record *e, int log)
{
	json_t *o = json_object();

	if (o == NULL)
		die("out of memory");
	set(o, "epoch", json_integer(e->epoch));
	set(o, "lr", number("%.6g", e->lr));
	set(o, "train_loss", number("%.6f", e->train_loss));
	set(o, "val_loss", number("%.6f", e->val_loss));
	set(o, "val_pixel_accuracy", number("%.6f", e->val_acc));
	set(o, "val_mean_iou", number("%.6f", e->val_miou));
	if (log) {
		set(o, "seconds", number("%.3f", e->seconds));
		set(o, "train_tiles_per_s", number("%.3f", e->tiles_per_s));
		set(o, "ranks", json_integer(e->ranks));
	}
	return o;
}

static char *
dump(const json_t *j)
{
	char *s = json_dumps(j, DUMP_FLAGS);

	if (s == NULL)
		die("out of memory");
	return s;
}

/* HISTORY parsed; dies naming NAME (a file, or NULL) unless it is an
 * array. */
static json_t *
parse(const char *history, const char *name)
{
	json_error_t err;
	json_t *a = json_loads(history, 0, &err);

	if (a == NULL || !json_is_array(a))
		die("%s%smetadata 'training.history' is not a JSON array%s%s",
		    name ? name : "", name ? ": " : "", a ? "" : ": ",
		    a ? "" : err.text);
	return a;
}

char *
history_append(const char *history, const struct epoch_record *e)
{
	json_t *a = parse(history, NULL);
	char *s;

	if (json_array_append_new(a, record(e, 0)) != 0)
		die("out of memory");
	s = dump(a);
	json_decref(a);
	return s;
}

void
history_check(const char *history, const char *name)
{
	json_decref(parse(history, name));
}

void
history_log(FILE *f, const char *name, const struct epoch_record *e)
{
	json_t *o = record(e, 1);
	char *s = dump(o);

	fprintf(f, "%s\n", s);
	fflush(f);
	if (ferror(f))
		die("%s: write error:", name);
	free(s);
	json_decref(o);
}

/* The epoch of log line S (LEN bytes, no newline), or -1 if it is not an
 * object with an integer epoch. */
static long
line_epoch(const char *s, size_t len)
{
	json_t *o = json_loadb(s, len, 0, NULL), *e;
	long v = -1;

	if (o != NULL && json_is_object(o) &&
	    json_is_integer(e = json_object_get(o, "epoch")))
		v = (long)json_integer_value(e);
	json_decref(o);
	return v;
}

void
history_log_trim(const char *path, int epochs)
{
	struct atomic_file af;
	FILE *f = fopen(path, "rb"), *out;
	char *text;
	size_t len, keep, start;

	if (f == NULL) {
		if (errno == ENOENT)
			return;
		die("%s:", path);
	}
	fclose(f);
	text = read_whole_file(path, &len);
	/* drop lines from the end: a line cut short, or the record of an
	 * epoch that the checkpoint does not hold */
	for (keep = len; keep > 0; keep = start) {
		size_t end = keep;
		if (text[end - 1] != '\n') {
			start = end;
			while (start > 0 && text[start - 1] != '\n')
				start--;
			continue;
		}
		end--;
		for (start = end; start > 0 && text[start - 1] != '\n'; start--)
			;
		long e = line_epoch(text + start, end - start);
		if (e >= 0 && e <= epochs)
			break;
	}
	if (keep < len) {
		out = atomic_open(&af, path);
		if (fwrite(text, 1, keep, out) != keep)
			die("%s: write error:", path);
		atomic_commit(&af);
	}
	free(text);
}
