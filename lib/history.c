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

#include <jansson.h>
#include <math.h>
#include <stdlib.h>

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
