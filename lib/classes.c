/*
 * classes.c - read the class table (classes.h) from YAML:
 *
 *	classes:
 *	  - {index: 0, name: background, colour: "#000000"}
 *	  ...
 *	ignore: {index: 255, name: ignore, colour: "#ffffff"}
 *	partial:
 *	  - {index: 254, name: White cell, colour: "#c0c0c0",
 *	     members: [Eosinophil, Basophil, ...]}
 *
 * Indices must be 0..n-1 in order, names unique, colours #rrggbb; partial
 * labels take unique indices from n to 254 and name two or more classes.
 * Models carry the classes as JSON (jansson), written and compared here.
 */
#include "classes.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paths.h"
#include "util.h"
#include "yamldoc.h"

/* One class, or with WANT_INDEX < 0 a partial label (any index from
 * -WANT_INDEX to 254, and a members list, which the caller reads);
 * returns the index. */
static long
parse_class(struct yamldoc *y, yaml_node_t *m, struct class_info *ci,
    long want_index)
{
	static const char *const keys[] = { "index", "name", "colour", NULL };
	static const char *const pkeys[] = { "index", "name", "colour",
	    "members", NULL };
	yaml_node_t *n;
	const char *s;
	unsigned r, g, b;
	char tail;
	long idx;

	yamldoc_check_keys(y, m, want_index < 0 ? pkeys : keys);
	if ((n = yamldoc_get(y, m, "index")) == NULL)
		yamldoc_die(y, m, "class without 'index'");
	if (want_index < 0)
		idx = yamldoc_long(y, n, "index", -want_index, CLASS_IGNORE - 1);
	else
		idx = yamldoc_long(y, n, "index", 0, 255);
	if (want_index >= 0 && idx != want_index)
		yamldoc_die(y, n, "index: expected %ld, got %ld", want_index,
		    idx);
	if ((n = yamldoc_get(y, m, "name")) == NULL)
		yamldoc_die(y, m, "class %ld without 'name'", idx);
	s = yamldoc_scalar(y, n, "a class name");
	if (*s == '\0' || strlen(s) >= CLASS_NAME_MAX ||
	    strpbrk(s, "\"\\\n\t") != NULL)
		yamldoc_die(y, n, "name: '%s' is empty, too long or has "
		    "quotes, backslashes or control characters", s);
	strcpy(ci->name, s);
	if ((n = yamldoc_get(y, m, "colour")) == NULL)
		yamldoc_die(y, m, "class %ld without 'colour'", idx);
	s = yamldoc_scalar(y, n, "a colour");
	if (strlen(s) != 7 ||
	    sscanf(s, "#%2x%2x%2x%c", &r, &g, &b, &tail) != 3)
		yamldoc_die(y, n, "colour: '%s' is not #rrggbb", s);
	ci->rgb[0] = r, ci->rgb[1] = g, ci->rgb[2] = b;
	return idx;
}

static void
parse_partial(struct yamldoc *y, yaml_node_t *m, struct class_table *t)
{
	struct class_partial *pl = &t->partial[t->npartial];
	yaml_node_t *list, *n;
	yaml_node_item_t *it;
	int k;

	if (t->npartial == CLASS_PARTIAL_MAX)
		yamldoc_die(y, m, "more than %d partial labels",
		    CLASS_PARTIAL_MAX);
	pl->index = (int)parse_class(y, m, &pl->info, -(long)t->n);
	for (k = 0; k < t->npartial; k++)
		if (t->partial[k].index == pl->index)
			yamldoc_die(y, m, "duplicate partial label index %d",
			    pl->index);
	if (classes_lookup(t, pl->info.name) >= 0 ||
	    classes_partial(t, pl->info.name) >= 0)
		yamldoc_die(y, m, "duplicate class name '%s'", pl->info.name);
	list = yamldoc_get(y, m, "members");
	if (list == NULL || list->type != YAML_SEQUENCE_NODE)
		yamldoc_die(y, list ? list : m, "partial label '%s' needs a "
		    "'members' list of class names", pl->info.name);
	pl->members = 0;
	for (it = list->data.sequence.items.start;
	    it < list->data.sequence.items.top; it++) {
		n = yamldoc_node(y, *it);
		const char *name = yamldoc_scalar(y, n, "a class name");
		if ((k = classes_lookup(t, name)) < 0)
			yamldoc_die(y, n, "members: no class '%s'", name);
		if (pl->members >> k & 1)
			yamldoc_die(y, n, "members: '%s' twice", name);
		pl->members |= 1u << k;
	}
	if ((pl->members & (pl->members - 1)) == 0)
		yamldoc_die(y, list, "partial label '%s' needs two or more "
		    "members", pl->info.name);
	t->npartial++;
}

static void
load_into(struct class_table *t, const char *path)
{
	static const char *const top[] = { "classes", "ignore", "partial",
	    NULL };
	struct yamldoc y;
	yaml_node_t *root, *list, *n;
	yaml_node_item_t *it;
	int i;

	yamldoc_load(&y, path, NULL);
	root = yamldoc_root(&y);
	yamldoc_check_keys(&y, root, top);
	list = yamldoc_get(&y, root, "classes");
	if (list == NULL || list->type != YAML_SEQUENCE_NODE)
		yamldoc_die(&y, list ? list : root, "expected a 'classes' list");
	memset(t, 0, sizeof *t);
	for (it = list->data.sequence.items.start;
	    it < list->data.sequence.items.top; it++) {
		n = yamldoc_node(&y, *it);
		if (t->n == CLASS_MAX)
			yamldoc_die(&y, n, "more than %d classes", CLASS_MAX);
		parse_class(&y, n, &t->c[t->n], t->n);
		if (classes_lookup(t, t->c[t->n].name) >= 0)
			yamldoc_die(&y, n, "duplicate class name '%s'",
			    t->c[t->n].name);
		t->n++;
	}
	if (t->n < 2)
		yamldoc_die(&y, list, "need at least 2 classes");
	if ((n = yamldoc_get(&y, root, "ignore")) != NULL)
		parse_class(&y, n, &t->ignore, CLASS_IGNORE);
	else {
		strcpy(t->ignore.name, "ignore");
		for (i = 0; i < 3; i++)
			t->ignore.rgb[i] = 255;
	}
	if ((list = yamldoc_get(&y, root, "partial")) != NULL) {
		if (list->type != YAML_SEQUENCE_NODE)
			yamldoc_die(&y, list, "expected a 'partial' list");
		for (it = list->data.sequence.items.start;
		    it < list->data.sequence.items.top; it++)
			parse_partial(&y, yamldoc_node(&y, *it), t);
	}
	yamldoc_free(&y);
}

const struct class_table *
classes_load(const char *path)
{
	static struct class_table deflt;
	static int have_default;
	struct class_table *t;
	char *p;

	if (path == NULL) {
		if (!have_default) {
			p = share_path("classes.yaml");
			load_into(&deflt, p);
			free(p);
			have_default = 1;
		}
		return &deflt;
	}
	t = xmalloc(sizeof *t);
	load_into(t, path);
	return t;
}

static int
same_name(const char *a, const char *b)
{
	int ca, cb;

	for (;; a++, b++) {
		ca = (*a == '_' || *a == '-') ? ' ' : tolower((unsigned char)*a);
		cb = (*b == '_' || *b == '-') ? ' ' : tolower((unsigned char)*b);
		if (ca != cb)
			return 0;
		if (ca == '\0')
			return 1;
	}
}

int
classes_lookup(const struct class_table *t, const char *name)
{
	int i;

	for (i = 0; i < t->n; i++)
		if (same_name(t->c[i].name, name))
			return i;
	return -1;
}

int
classes_partial(const struct class_table *t, const char *name)
{
	for (int k = 0; k < t->npartial; k++)
		if (same_name(t->partial[k].info.name, name))
			return t->partial[k].index;
	return -1;
}

uint32_t
classes_members(const struct class_table *t, int i)
{
	if (i >= 0 && i < t->n)
		return 1u << i;
	for (int k = 0; k < t->npartial; k++)
		if (t->partial[k].index == i)
			return t->partial[k].members;
	return 0;
}

const unsigned char *
classes_colour(const struct class_table *t, int i)
{
	if (i == CLASS_IGNORE)
		return t->ignore.rgb;
	for (int k = 0; k < t->npartial; k++)
		if (t->partial[k].index == i)
			return t->partial[k].info.rgb;
	if (i < 0 || i >= t->n)
		return NULL;
	return t->c[i].rgb;
}

char *
classes_to_json(const struct class_table *t)
{
	json_t *a = json_array();
	char colour[8], *s;
	int i;

	for (i = 0; a != NULL && i < t->n; i++) {
		snprintf(colour, sizeof colour, "#%02x%02x%02x",
		    t->c[i].rgb[0], t->c[i].rgb[1], t->c[i].rgb[2]);
		if (json_array_append_new(a, json_pack("{s:i, s:s, s:s}",
		    "index", i, "name", t->c[i].name, "colour", colour)) != 0)
			die("class %d: cannot write its name '%s' as JSON",
			    i, t->c[i].name);
	}
	if (a == NULL || (s = json_dumps(a, JSON_COMPACT)) == NULL)
		die("out of memory writing the class table as JSON");
	json_decref(a);
	return s;
}

int
classes_json_differs(const struct class_table *t, const char *text,
    char *why, size_t n)
{
	json_t *a = json_loads(text, JSON_REJECT_DUPLICATES, NULL), *o;
	const char *name, *colour;
	char want[8];
	json_int_t idx;
	size_t i;

	if (!json_is_array(a)) {
		snprintf(why, n, "not a JSON array");
		goto differs;
	}
	if (json_array_size(a) != (size_t)t->n) {
		snprintf(why, n, "%zu classes against %d", json_array_size(a),
		    t->n);
		goto differs;
	}
	json_array_foreach(a, i, o) {
		snprintf(want, sizeof want, "#%02x%02x%02x", t->c[i].rgb[0],
		    t->c[i].rgb[1], t->c[i].rgb[2]);
		if (json_unpack(o, "{s:I, s:s, s:s !}", "index", &idx, "name",
		    &name, "colour", &colour) != 0) {
			snprintf(why, n, "entry %zu is not {index, name, "
			    "colour}", i);
			goto differs;
		}
		if (idx != (json_int_t)i || strcmp(name, t->c[i].name) != 0 ||
		    strcmp(colour, want) != 0) {
			snprintf(why, n, "class %zu: '%s' %s against '%s' %s",
			    i, name, colour, t->c[i].name, want);
			goto differs;
		}
	}
	json_decref(a);
	return 0;
differs:
	json_decref(a);
	return 1;
}
