/*
 * safetensors.c - safetensors reader and writer (see safetensors.h).
 *
 * The JSON header is parsed with libyaml, since JSON is a subset of YAML's
 * flow syntax.  YAML accepts more than JSON, so the header first passes a
 * lexical check (json_for_yaml: JSON strings and escapes, no YAML
 * indicators, no trailing commas), which also rewrites the few characters
 * that libyaml reads differently from JSON; the event walk then demands
 * double-quoted keys and strings, plain decimal integers, and no anchors,
 * aliases or tags.  What is accepted is therefore JSON, and only JSON of
 * the safetensors shape.
 */
#include "safetensors.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "atomic.h"
#include "util.h"

#define ST_MAX_HEADER   (100u << 20)    /* as the reference implementation */
#define ST_MAX_KEY      1000            /* libyaml's simple keys end at 1024 */
#define ST_DTYPE_LIST   "F32, F16, F64, U8, I32 or I64"

// --- UTF-8 and JSON text ----------------------------------------------------

struct strbuf {
	char *s;
	size_t n, cap;
};

static void
sb_add(struct strbuf *b, const char *s, size_t n)
{
	if (b->cap - b->n < n + 1) {
		while (b->cap - b->n < n + 1)
			b->cap = b->cap ? 2 * b->cap : 256;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = '\0';
}

static void
sb_printf(struct strbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
sb_printf(struct strbuf *b, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof tmp)
		die("internal error: JSON fragment too long");
	sb_add(b, tmp, (size_t)n);
}

/* Decode one UTF-8 character of S (LEFT bytes) into *CP; returns its
 * length, or 0 if it is not valid UTF-8 (overlong, surrogate, > U+10FFFF). */
static size_t
utf8_decode(const unsigned char *s, size_t left, uint32_t *cp)
{
	size_t len, i;
	uint32_t c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, c = s[0] & 0x1f, min = 0x80;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, c = s[0] & 0x0f, min = 0x800;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, c = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (left < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* Whether libyaml reads code point CP as itself inside a double-quoted
 * scalar.  It refuses DEL, the C1 controls, U+FFFE and U+FFFF, folds the
 * line breaks U+0085, U+2028 and U+2029 into spaces, and may drop U+FEFF;
 * those have to reach it as \u escapes.  Below U+0020 JSON demands an
 * escape anyway. */
static int
yaml_raw_ok(uint32_t cp)
{
	return cp >= 0x20 && !(cp >= 0x7f && cp <= 0x9f) && cp != 0x2028 &&
	    cp != 0x2029 && cp != 0xfeff && cp != 0xfffe && cp != 0xffff;
}

static int
in_set(unsigned char c, const char *set)
{
	return c != '\0' && strchr(set, c) != NULL;
}

/* Four hex digits at S, or -1. */
static long
hex4(const unsigned char *s)
{
	long v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		if (!in_set(s[i], "0123456789abcdefABCDEF"))
			return -1;
		v = v * 16 + (s[i] <= '9' ? s[i] - '0' :
		    (s[i] | 0x20) - 'a' + 10);
	}
	return v;
}

static void
sb_utf8(struct strbuf *b, uint32_t cp)
{
	char u[4];

	u[0] = (char)(0xf0 | cp >> 18);
	u[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	u[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	u[3] = (char)(0x80 | (cp & 0x3f));
	sb_add(b, u, 4);
}

/* Copy the JSON string whose opening quote is at S[*I] to OUT, leaving *I
 * just past its closing quote.  Checks JSON's rules (escapes, no raw
 * control characters, UTF-8) and rewrites what libyaml would misread:
 * raw characters that fail yaml_raw_ok() become \u escapes, and surrogate
 * pairs (\ud83d\ude00, as Python's json writes) become raw UTF-8. */
static void
json_copy_string(const char *name, const unsigned char *s, size_t n,
    size_t *ip, struct strbuf *out)
{
	size_t i = *ip + 1, len;
	long hi, lo;
	uint32_t cp;

	sb_add(out, "\"", 1);
	while (i < n && s[i] != '"') {
		if (s[i] == '\\') {
			if (i + 1 >= n || !in_set(s[i + 1], "\"\\/bfnrtu"))
				die("%s: invalid JSON header: bad escape at "
				    "byte %zu", name, i);
			if (s[i + 1] != 'u') {
				sb_add(out, (const char *)s + i, 2);
				i += 2;
				continue;
			}
			if (i + 6 > n || (hi = hex4(s + i + 2)) < 0)
				die("%s: invalid JSON header: bad \\u escape "
				    "at byte %zu", name, i);
			if (hi < 0xd800 || hi > 0xdfff) {
				sb_add(out, (const char *)s + i, 6);
				i += 6;
				continue;
			}
			if (hi > 0xdbff || i + 12 > n || s[i + 6] != '\\' ||
			    s[i + 7] != 'u' ||
			    (lo = hex4(s + i + 8)) < 0xdc00 || lo > 0xdfff)
				die("%s: invalid JSON header: unpaired "
				    "surrogate escape at byte %zu", name, i);
			sb_utf8(out, 0x10000 + ((hi - 0xd800) << 10) +
			    (lo - 0xdc00));
			i += 12;
			continue;
		}
		if ((len = utf8_decode(s + i, n - i, &cp)) == 0)
			die("%s: invalid JSON header: bad UTF-8 at byte %zu",
			    name, i);
		if (cp < 0x20)
			die("%s: invalid JSON header: control character in a "
			    "string at byte %zu", name, i);
		if (yaml_raw_ok(cp))
			sb_add(out, (const char *)s + i, len);
		else
			sb_printf(out, "\\u%04x", (unsigned)cp);
		i += len;
	}
	if (i >= n)
		die("%s: invalid JSON header: unterminated string", name);
	sb_add(out, "\"", 1);
	*ip = i + 1;
}

/* Check that the N bytes at S are lexically JSON where YAML is laxer, and
 * return them (in OUT) in the form libyaml reads exactly: strings as by
 * json_copy_string(); between tokens only JSON's characters (no YAML
 * indicators, single quotes or comments) and no comma before a closing
 * bracket. */
static void
json_for_yaml(const char *name, const unsigned char *s, size_t n,
    struct strbuf *out)
{
	size_t i = 0, j;

	while (i < n) {
		if (s[i] == '"') {
			json_copy_string(name, s, n, &i, out);
			continue;
		}
		if (!in_set(s[i], " \t\r\n{}[]:,0123456789+-.eEtruefalsn"))
			die("%s: invalid JSON header: unexpected character at "
			    "byte %zu", name, i);
		if (s[i] == ',') {
			for (j = i + 1; j < n && in_set(s[j], " \t\r\n"); j++)
				;
			if (j < n && (s[j] == '}' || s[j] == ']'))
				die("%s: invalid JSON header: trailing comma "
				    "at byte %zu", name, i);
		}
		sb_add(out, (const char *)s + i, 1);
		i++;
	}
}

// --- header walk ------------------------------------------------------------

struct st_parser {
	yaml_parser_t yp;
	yaml_event_t ev;        /* the current event */
	const char *name;       /* file name for messages */
};

static noreturn void
sp_fail(struct st_parser *sp, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static noreturn void
sp_fail(struct st_parser *sp, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	die("%s: bad safetensors header: %s", sp->name, msg);
}

/* Replace the current event by the next one; dies on a syntax error. */
static void
sp_next(struct st_parser *sp)
{
	yaml_event_delete(&sp->ev);
	if (!yaml_parser_parse(&sp->yp, &sp->ev))
		die("%s: invalid JSON header: %s at byte %zu", sp->name,
		    sp->yp.problem ? sp->yp.problem : "syntax error",
		    sp->yp.error == YAML_READER_ERROR ?
		    sp->yp.problem_offset : sp->yp.problem_mark.index);
	switch (sp->ev.type) {
	case YAML_ALIAS_EVENT:
		sp_fail(sp, "YAML alias (expected JSON)");
	case YAML_SCALAR_EVENT:
		if (sp->ev.data.scalar.anchor || sp->ev.data.scalar.tag)
			sp_fail(sp, "YAML anchor or tag (expected JSON)");
		break;
	case YAML_MAPPING_START_EVENT:
		if (sp->ev.data.mapping_start.anchor ||
		    sp->ev.data.mapping_start.tag ||
		    sp->ev.data.mapping_start.style != YAML_FLOW_MAPPING_STYLE)
			sp_fail(sp, "YAML mapping (expected a JSON object)");
		break;
	case YAML_SEQUENCE_START_EVENT:
		if (sp->ev.data.sequence_start.anchor ||
		    sp->ev.data.sequence_start.tag ||
		    sp->ev.data.sequence_start.style !=
		    YAML_FLOW_SEQUENCE_STYLE)
			sp_fail(sp, "YAML sequence (expected a JSON array)");
		break;
	case YAML_DOCUMENT_START_EVENT:
		if (!sp->ev.data.document_start.implicit)
			sp_fail(sp, "YAML document marker (expected JSON)");
		break;
	case YAML_DOCUMENT_END_EVENT:
		if (!sp->ev.data.document_end.implicit)
			sp_fail(sp, "YAML document marker (expected JSON)");
		break;
	default:
		break;
	}
}

/* Move to the next event, which must be of TYPE; else fail with
 * "expected " and the printf-style description FMT. */
static void
sp_expect(struct st_parser *sp, yaml_event_type_t type, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
sp_expect(struct st_parser *sp, yaml_event_type_t type, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	sp_next(sp);
	if (sp->ev.type != type) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof msg, fmt, ap);
		va_end(ap);
		sp_fail(sp, "expected %s", msg);
	}
}

static int
sp_is_string(const struct st_parser *sp)
{
	return sp->ev.type == YAML_SCALAR_EVENT &&
	    sp->ev.data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
}

/* The current event as a string (a JSON string without NUL characters). */
static char *
sp_string(struct st_parser *sp, const char *what)
{
	const char *v = (const char *)sp->ev.data.scalar.value;

	if (!sp_is_string(sp))
		sp_fail(sp, "%s is not a string", what);
	if (strlen(v) != sp->ev.data.scalar.length)
		sp_fail(sp, "%s contains a NUL character", what);
	return xstrdup(v);
}

/* The current event as a key: a string that libyaml reads in full only up
 * to 1024 characters, so longer keys are refused, as the writer does. */
static char *
sp_key(struct st_parser *sp, const char *what)
{
	char *k = sp_string(sp, what);

	if (strlen(k) > ST_MAX_KEY)
		sp_fail(sp, "%s longer than %d bytes", what, ST_MAX_KEY);
	return k;
}

/* The current event as a JSON integer in [0, max]. */
static uint64_t
sp_uint(struct st_parser *sp, const char *what, uint64_t max)
{
	const char *v, *p;
	uint64_t x = 0;

	if (sp->ev.type == YAML_SEQUENCE_END_EVENT)
		sp_fail(sp, "%s has too few entries", what);
	if (sp->ev.type != YAML_SCALAR_EVENT ||
	    sp->ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		sp_fail(sp, "%s holds something other than integers", what);
	v = (const char *)sp->ev.data.scalar.value;
	if (v[0] == '-' && v[1] >= '0' && v[1] <= '9')
		sp_fail(sp, "%s holds the negative number %s", what, v);
	if (v[0] == '0' && v[1] != '\0')
		sp_fail(sp, "%s holds '%s' (expected a non-negative integer)",
		    what, v);
	for (p = v; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			sp_fail(sp, "%s holds '%s' (expected a non-negative "
			    "integer)", what, v);
		if (x > (max - (uint64_t)(*p - '0')) / 10)
			sp_fail(sp, "%s holds %s, which is too large", what, v);
		x = x * 10 + (uint64_t)(*p - '0');
	}
	if (p == v)
		sp_fail(sp, "%s holds an empty value", what);
	return x;
}

/* Parse {"key": "value", ...} into the file's metadata. */
static void
sp_metadata(struct st_parser *sp, struct st_file *f)
{
	char *key;
	int i;

	sp_expect(sp, YAML_MAPPING_START_EVENT, "__metadata__ to be an object");
	for (;;) {
		sp_next(sp);
		if (sp->ev.type == YAML_MAPPING_END_EVENT)
			break;
		key = sp_key(sp, "a __metadata__ key");
		for (i = 0; i < f->nmeta; i++)
			if (strcmp(f->meta_key[i], key) == 0)
				sp_fail(sp, "__metadata__ key '%s' repeated",
				    key);
		sp_next(sp);
		if (!sp_is_string(sp))
			sp_fail(sp, "__metadata__ value of '%s' is not a "
			    "string", key);
		f->meta_key = xrealloc(f->meta_key,
		    (f->nmeta + 1) * sizeof *f->meta_key);
		f->meta_val = xrealloc(f->meta_val,
		    (f->nmeta + 1) * sizeof *f->meta_val);
		f->meta_key[f->nmeta] = key;
		f->meta_val[f->nmeta++] = sp_string(sp, "a __metadata__ value");
	}
}

/* Parse {"dtype": ..., "shape": [...], "data_offsets": [b, e]} into T and
 * OFF, in any order, each key exactly once. */
static void
sp_tensor(struct st_parser *sp, struct tensor *t, uint64_t off[2])
{
	char what[64 + ST_MAX_KEY];
	int seen_dtype = 0, seen_shape = 0, seen_off = 0, dt;
	char *key, *s;

	sp_expect(sp, YAML_MAPPING_START_EVENT, "tensor '%s' to be an object",
	    t->name);
	for (;;) {
		sp_next(sp);
		if (sp->ev.type == YAML_MAPPING_END_EVENT)
			break;
		key = sp_key(sp, "a tensor key");
		snprintf(what, sizeof what, "tensor '%s' %s", t->name, key);
		if (strcmp(key, "dtype") == 0 && !seen_dtype++) {
			sp_next(sp);
			s = sp_string(sp, what);
			if ((dt = dtype_from_name(s)) < 0)
				die("%s: tensor '%s': unsupported dtype '%s' "
				    "(expected " ST_DTYPE_LIST ")", sp->name,
				    t->name, s);
			t->dtype = dt;
			free(s);
		} else if (strcmp(key, "shape") == 0 && !seen_shape++) {
			sp_expect(sp, YAML_SEQUENCE_START_EVENT,
			    "%s to be an array", what);
			for (t->ndim = 0;;) {
				sp_next(sp);
				if (sp->ev.type == YAML_SEQUENCE_END_EVENT)
					break;
				if (t->ndim == TENSOR_MAX_DIMS)
					sp_fail(sp, "%s has more than %d "
					    "dimensions", what,
					    TENSOR_MAX_DIMS);
				t->shape[t->ndim++] = (int64_t)sp_uint(sp, what,
				    INT64_MAX);
			}
		} else if (strcmp(key, "data_offsets") == 0 && !seen_off++) {
			sp_expect(sp, YAML_SEQUENCE_START_EVENT,
			    "%s to be an array", what);
			sp_next(sp);
			off[0] = sp_uint(sp, what, UINT64_MAX);
			sp_next(sp);
			off[1] = sp_uint(sp, what, UINT64_MAX);
			sp_expect(sp, YAML_SEQUENCE_END_EVENT,
			    "%s to hold two numbers", what);
		} else {
			sp_fail(sp, "tensor '%s' has an unexpected or repeated "
			    "key '%s' (expected dtype, shape, data_offsets)",
			    t->name, key);
		}
		free(key);
	}
	if (!seen_dtype || !seen_shape || !seen_off)
		sp_fail(sp, "tensor '%s' has no %s", t->name, !seen_dtype ?
		    "dtype" : !seen_shape ? "shape" : "data_offsets");
}

/* Walk the whole header into F: tensor names, dtypes and shapes, the
 * metadata, and each tensor's data_offsets into *OFFP (2 per tensor). */
static void
sp_header(struct st_parser *sp, struct st_file *f, uint64_t **offp)
{
	uint64_t *off = NULL;
	struct tensor *t;
	int seen_meta = 0, i;
	char *key;

	sp_expect(sp, YAML_STREAM_START_EVENT, "JSON");
	sp_expect(sp, YAML_DOCUMENT_START_EVENT, "a JSON object");
	sp_expect(sp, YAML_MAPPING_START_EVENT, "a JSON object");
	for (;;) {
		sp_next(sp);
		if (sp->ev.type == YAML_MAPPING_END_EVENT)
			break;
		key = sp_key(sp, "a tensor name");
		if (strcmp(key, "__metadata__") == 0) {
			if (seen_meta++)
				sp_fail(sp, "__metadata__ repeated");
			sp_metadata(sp, f);
			free(key);
			continue;
		}
		if (*key == '\0')
			sp_fail(sp, "empty tensor name");
		for (i = 0; i < f->n; i++)
			if (strcmp(f->t[i].name, key) == 0)
				sp_fail(sp, "tensor '%s' repeated", key);
		f->t = xrealloc(f->t, (f->n + 1) * sizeof *f->t);
		off = xrealloc(off, (f->n + 1) * 2 * sizeof *off);
		t = &f->t[f->n++];
		memset(t, 0, sizeof *t);
		t->name = key;
		sp_tensor(sp, t, &off[2 * (f->n - 1)]);
	}
	sp_expect(sp, YAML_DOCUMENT_END_EVENT, "one JSON object");
	sp_expect(sp, YAML_STREAM_END_EVENT, "one JSON object");
	yaml_event_delete(&sp->ev);
	*offp = off;
}

// --- offsets and data -------------------------------------------------------

struct st_span {
	uint64_t begin, end;
	int index;
};

static int
span_cmp(const void *a, const void *b)
{
	const struct st_span *x = a, *y = b;

	if (x->begin != y->begin)
		return x->begin < y->begin ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return 0;
}

/* Check that every tensor's offsets match its dtype and shape, lie in the
 * buffer of SIZE bytes, and that together they tile it: no overlap, no
 * gap, nothing left over.  As the reference implementation demands. */
static void
st_check_offsets(const char *name, const struct st_file *f,
    const uint64_t *off, size_t size)
{
	struct st_span *sp = xmalloc_array(f->n ? f->n : 1, sizeof *sp);
	const struct tensor *t;
	uint64_t pos = 0, b, e;
	size_t nbytes;
	int i;

	for (i = 0; i < f->n; i++) {
		t = &f->t[i];
		b = off[2 * i];
		e = off[2 * i + 1];
		if (tensor_check_size(t, &nbytes) != 0)
			die("%s: tensor '%s': shape too large", name, t->name);
		if (e < b)
			die("%s: tensor '%s': data_offsets [%" PRIu64 ", %"
			    PRIu64 "] decrease", name, t->name, b, e);
		if (e > size)
			die("%s: tensor '%s': data_offsets [%" PRIu64 ", %"
			    PRIu64 "] out of range (the data buffer has %zu "
			    "bytes)", name, t->name, b, e, size);
		if (e - b != nbytes)
			die("%s: tensor '%s': data_offsets [%" PRIu64 ", %"
			    PRIu64 "] hold %" PRIu64 " bytes (expected %zu for "
			    "%s of its shape)", name, t->name, b, e, e - b,
			    nbytes, dtype_name(t->dtype));
		sp[i].begin = b;
		sp[i].end = e;
		sp[i].index = i;
	}
	qsort(sp, f->n, sizeof *sp, span_cmp);
	for (i = 0; i < f->n; i++) {
		if (sp[i].begin < pos)
			die("%s: tensor '%s' overlaps tensor '%s' (expected "
			    "disjoint data_offsets)", name,
			    f->t[sp[i].index].name, f->t[sp[i - 1].index].name);
		if (sp[i].begin > pos)
			die("%s: %" PRIu64 " unused bytes before tensor '%s' "
			    "(expected tensors to cover the data buffer)", name,
			    sp[i].begin - pos, f->t[sp[i].index].name);
		pos = sp[i].end;
	}
	if (pos != size)
		die("%s: %" PRIu64 " unused bytes after the last tensor "
		    "(expected tensors to cover the data buffer)", name,
		    size - pos);
	free(sp);
}

/* Point each tensor into f->buf, built from the SIZE data bytes at DATA
 * (which lie inside the block RAW).  Data that is naturally aligned for
 * every tensor is moved to the start of RAW (malloc alignment suffices);
 * otherwise each tensor is copied to an aligned place in a new block. */
static void
st_place(struct st_file *f, void *raw, const unsigned char *data,
    size_t size, const uint64_t *off)
{
	unsigned char *buf;
	size_t pos, nbytes;
	int i, aligned = 1;

	for (i = 0; i < f->n; i++)
		if (off[2 * i] % dtype_size(f->t[i].dtype) != 0)
			aligned = 0;
	if (aligned) {
		memmove(raw, data, size);
		f->buf = raw;
		for (i = 0; i < f->n; i++)
			f->t[i].data = (unsigned char *)raw + off[2 * i];
		return;
	}
	for (i = 0, pos = 0; i < f->n; i++)
		pos += (tensor_nbytes(&f->t[i]) + 7) & ~(size_t)7;
	buf = xmalloc(pos);
	for (i = 0, pos = 0; i < f->n; i++) {
		nbytes = tensor_nbytes(&f->t[i]);
		memcpy(buf + pos, data + off[2 * i], nbytes);
		f->t[i].data = buf + pos;
		pos += (nbytes + 7) & ~(size_t)7;
	}
	free(raw);
	f->buf = buf;
}

void
st_parse(const char *name, void *raw, size_t len, struct st_file *f)
{
	const unsigned char *p = raw;
	struct strbuf json = { 0 };
	struct st_parser sp;
	uint64_t hlen, *off = NULL;
	int i;

	memset(f, 0, sizeof *f);
	if (len == 0)
		die("%s: empty file (expected a safetensors file)", name);
	if (len < 8)
		die("%s: not a safetensors file (shorter than the 8-byte "
		    "header length)", name);
	for (hlen = 0, i = 7; i >= 0; i--)
		hlen = hlen << 8 | p[i];
	if (hlen > len - 8)
		die("%s: header length %" PRIu64 " exceeds the file (expected "
		    "at most %zu)", name, hlen, len - 8);
	if (hlen > ST_MAX_HEADER)
		die("%s: header length %" PRIu64 " too large (expected at most "
		    "%u)", name, hlen, ST_MAX_HEADER);
	if (hlen < 2 || p[8] != '{')
		die("%s: not a safetensors file (header does not start with "
		    "'{')", name);

	json_for_yaml(name, p + 8, hlen, &json);
	memset(&sp, 0, sizeof sp);
	sp.name = name;
	if (!yaml_parser_initialize(&sp.yp))
		die("out of memory initialising the JSON parser");
	yaml_parser_set_input_string(&sp.yp, (unsigned char *)json.s, json.n);
	yaml_parser_set_encoding(&sp.yp, YAML_UTF8_ENCODING);
	sp_header(&sp, f, &off);
	yaml_parser_delete(&sp.yp);
	free(json.s);

	st_check_offsets(name, f, off, len - 8 - hlen);
	st_place(f, raw, p + 8 + hlen, len - 8 - hlen, off);
	free(off);
}

void
st_read(const char *path, struct st_file *f)
{
	size_t len;
	char *raw = read_whole_file(path, &len);

	st_parse(display_name(path), raw, len, f);
}

const struct tensor *
st_find(const struct st_file *f, const char *name)
{
	int i;

	for (i = 0; i < f->n; i++)
		if (strcmp(f->t[i].name, name) == 0)
			return &f->t[i];
	return NULL;
}

const char *
st_meta(const struct st_file *f, const char *key)
{
	int i;

	for (i = 0; i < f->nmeta; i++)
		if (strcmp(f->meta_key[i], key) == 0)
			return f->meta_val[i];
	return NULL;
}

void
st_free(struct st_file *f)
{
	int i;

	for (i = 0; i < f->n; i++)
		free(f->t[i].name);
	for (i = 0; i < f->nmeta; i++) {
		free(f->meta_key[i]);
		free(f->meta_val[i]);
	}
	free(f->t);
	free(f->meta_key);
	free(f->meta_val);
	free(f->buf);
	memset(f, 0, sizeof *f);
}

// --- writing ----------------------------------------------------------------

/* Append S as a JSON string.  Besides what JSON requires, characters that
 * libyaml would misread (see yaml_raw_ok) are written as \u escapes, so
 * that any JSON reader, ours included, gets back exactly S.  Dies naming
 * the file and WHAT if S is not UTF-8. */
static void
sb_json_string(struct strbuf *b, const char *name, const char *what,
    const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t left = strlen(s), len;
	uint32_t cp;
	const char *esc;

	sb_add(b, "\"", 1);
	while (left > 0) {
		if ((len = utf8_decode(p, left, &cp)) == 0)
			die("%s: %s is not valid UTF-8", name, what);
		esc = cp == '"' ? "\\\"" : cp == '\\' ? "\\\\" :
		    cp == '\n' ? "\\n" : cp == '\t' ? "\\t" : cp == '\r' ?
		    "\\r" : cp == '\b' ? "\\b" : cp == '\f' ? "\\f" : NULL;
		if (esc != NULL)
			sb_add(b, esc, 2);
		else if (!yaml_raw_ok(cp))
			sb_printf(b, "\\u%04x", (unsigned)cp);
		else
			sb_add(b, (const char *)p, len);
		p += len;
		left -= len;
	}
	sb_add(b, "\"", 1);
}

/* Append a key; it must stay short enough for libyaml to read back. */
static void
sb_json_key(struct strbuf *b, const char *name, const char *what,
    const char *s)
{
	size_t start = b->n;

	sb_json_string(b, name, what, s);
	if (b->n - start > ST_MAX_KEY)
		die("%s: %s is longer than %d bytes", name, what, ST_MAX_KEY);
	sb_add(b, ":", 1);
}

void
st_write(const char *path, const struct tensor *ts, int n,
    char *const *meta_key, char *const *meta_val, int nmeta)
{
	const char *name = strcmp(path, "-") == 0 ? "<stdout>" : path;
	struct strbuf h = { 0 };
	struct atomic_file af;
	unsigned char len[8];
	uint64_t pos = 0;
	size_t nbytes;
	char what[64];
	FILE *f;
	int i, j;

	sb_add(&h, "{", 1);
	if (nmeta > 0) {
		sb_add(&h, "\"__metadata__\":", 15);
		sb_add(&h, "{", 1);
		for (i = 0; i < nmeta; i++) {
			for (j = 0; j < i; j++)
				if (strcmp(meta_key[i], meta_key[j]) == 0)
					die("%s: metadata key '%s' repeated",
					    name, meta_key[i]);
			snprintf(what, sizeof what, "metadata key %d", i);
			sb_json_key(&h, name, what, meta_key[i]);
			snprintf(what, sizeof what, "the value of metadata "
			    "key %d", i);
			sb_json_string(&h, name, what, meta_val[i]);
			sb_add(&h, i + 1 < nmeta ? "," : "}", 1);
		}
		if (n > 0)
			sb_add(&h, ",", 1);
	}
	for (i = 0; i < n; i++) {
		if (ts[i].name == NULL || *ts[i].name == '\0' ||
		    strcmp(ts[i].name, "__metadata__") == 0)
			die("%s: tensor %d needs a name other than '' and "
			    "'__metadata__'", name, i);
		for (j = 0; j < i; j++)
			if (strcmp(ts[i].name, ts[j].name) == 0)
				die("%s: tensor name '%s' repeated", name,
				    ts[i].name);
		if (tensor_check_size(&ts[i], &nbytes) != 0)
			die("%s: tensor '%s' has an invalid shape", name,
			    ts[i].name);
		snprintf(what, sizeof what, "the name of tensor %d", i);
		sb_json_key(&h, name, what, ts[i].name);
		sb_printf(&h, "{\"dtype\":\"%s\",\"shape\":[",
		    dtype_name(ts[i].dtype));
		for (j = 0; j < ts[i].ndim; j++)
			sb_printf(&h, "%s%lld", j ? "," : "",
			    (long long)ts[i].shape[j]);
		sb_printf(&h, "],\"data_offsets\":[%" PRIu64 ",", pos);
		pos += nbytes;
		sb_printf(&h, "%" PRIu64 "]}", pos);
		if (i + 1 < n)
			sb_add(&h, ",", 1);
	}
	sb_add(&h, "}", 1);
	while (h.n % 8 != 0)
		sb_add(&h, " ", 1);
	for (i = 0; i < 8; i++)
		len[i] = (unsigned char)((uint64_t)h.n >> (8 * i));

	f = strcmp(path, "-") == 0 ? stdout : atomic_open(&af, path);
	if (fwrite(len, 1, 8, f) != 8 || fwrite(h.s, 1, h.n, f) != h.n)
		die("%s: write error:", name);
	for (i = 0; i < n; i++) {
		nbytes = tensor_nbytes(&ts[i]);
		if (fwrite(ts[i].data, 1, nbytes, f) != nbytes)
			die("%s: write error:", name);
	}
	if (f == stdout) {
		if (fflush(stdout) != 0)
			die("<stdout>: write error:");
	} else {
		atomic_commit(&af);
	}
	free(h.s);
}
