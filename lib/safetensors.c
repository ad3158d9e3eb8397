/*
 * safetensors.c - safetensors reader and writer (see safetensors.h).
 *
 * The JSON header is read and written with jansson.  The parser refuses
 * duplicate keys (the format forbids them; jansson would otherwise keep
 * the last), and the walk then demands the safetensors shape: an object
 * of tensors, each exactly {dtype, shape, data_offsets} with
 * non-negative integers, and an optional __metadata__ object of strings.
 */
#include "safetensors.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "atomic.h"
#include "util.h"

#define ST_MAX_HEADER   (100u << 20)    /* as the reference implementation */
#define ST_MAX_KEY      1000            /* see st_key() */
#define ST_DTYPE_LIST   "F32, F16, F64, U8, I32 or I64"

// --- header walk ------------------------------------------------------------

static noreturn void
st_fail(const char *name, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static noreturn void
st_fail(const char *name, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	die("%s: bad safetensors header: %s", name, msg);
}

/* Parse the N bytes of JSON at S.  A syntax error dies with jansson's
 * message and position (the bytes read up to and including the offending
 * token); a repeated key dies naming the key, which is the JSON string
 * token that ends just before that position. */
static json_t *
st_load_json(const char *name, const char *s, size_t n)
{
	json_error_t e;
	json_t *h, *k;
	size_t end, i, bs;

	h = json_loadb(s, n, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &e);
	if (h != NULL)
		return h;
	if (json_error_code(&e) != json_error_duplicate_key || e.position < 2 ||
	    (size_t)e.position > n || s[e.position - 1] != '"')
		die("%s: invalid JSON header: %s at byte %d", name, e.text,
		    e.position);
	/* the opening quote: the first one back not escaped by an odd run
	 * of backslashes */
	end = (size_t)e.position - 1;
	for (i = end; i > 0;) {
		if (s[--i] != '"')
			continue;
		for (bs = 0; bs < i && s[i - 1 - bs] == '\\'; bs++)
			;
		if (bs % 2 == 0)
			break;
	}
	k = json_loadb(s + i, end - i + 1, JSON_DECODE_ANY, NULL);
	if (k == NULL || !json_is_string(k))
		die("%s: invalid JSON header: %s at byte %d", name, e.text,
		    e.position);
	st_fail(name, "key '%s' repeated at byte %d", json_string_value(k),
	    e.position);
}

/* V as a string without NUL characters; WHAT and KEY name it. */
static const char *
st_string(const char *name, json_t *v, const char *what,
    const char *key)
{
	if (!json_is_string(v))
		st_fail(name, "%s '%s' is not a string", what, key);
	if (strlen(json_string_value(v)) != json_string_length(v))
		st_fail(name, "%s '%s' contains a NUL character", what, key);
	return json_string_value(v);
}

/* X as an integer >= 0; TNAME and FIELD name the array that holds it. */
static uint64_t
st_uint(const char *name, json_t *x, const char *tname,
    const char *field)
{
	if (!json_is_integer(x))
		st_fail(name, "tensor '%s' %s holds something other than "
		    "integers", tname, field);
	if (json_integer_value(x) < 0)
		st_fail(name, "tensor '%s' %s holds the negative number %"
		    JSON_INTEGER_FORMAT, tname, field, json_integer_value(x));
	return (uint64_t)json_integer_value(x);
}

/* Read {"key": "value", ...} into the file's metadata. */
static void
st_metadata(const char *name, json_t *m, struct st_file *f)
{
	const char *key;
	json_t *v;

	if (!json_is_object(m))
		st_fail(name, "expected __metadata__ to be an object");
	f->meta_key = xmalloc_array(json_object_size(m) + 1,
	    sizeof *f->meta_key);
	f->meta_val = xmalloc_array(json_object_size(m) + 1,
	    sizeof *f->meta_val);
	json_object_foreach(m, key, v) {
		if (!json_is_string(v))
			st_fail(name, "__metadata__ value of '%s' is not a "
			    "string", key);
		f->meta_key[f->nmeta] = xstrdup(key);
		f->meta_val[f->nmeta++] = xstrdup(st_string(name, v,
		    "the __metadata__ value of", key));
	}
}

/* Read {"dtype": ..., "shape": [...], "data_offsets": [b, e]}, keys in
 * any order, into T and OFF. */
static void
st_tensor(const char *name, json_t *o, struct tensor *t,
    uint64_t off[2])
{
	const char *key, *s;
	json_t *v, *x;
	size_t i;
	int dt;

	if (!json_is_object(o))
		st_fail(name, "expected tensor '%s' to be an object", t->name);
	json_object_foreach(o, key, v)
		if (strcmp(key, "dtype") != 0 && strcmp(key, "shape") != 0 &&
		    strcmp(key, "data_offsets") != 0)
			st_fail(name, "tensor '%s' has an unexpected key '%s' "
			    "(expected dtype, shape, data_offsets)", t->name,
			    key);
	if ((v = json_object_get(o, "dtype")) == NULL)
		st_fail(name, "tensor '%s' has no dtype", t->name);
	s = st_string(name, v, "the dtype of tensor", t->name);
	if ((dt = dtype_from_name(s)) < 0)
		die("%s: tensor '%s': unsupported dtype '%s' (expected "
		    ST_DTYPE_LIST ")", name, t->name, s);
	t->dtype = dt;

	if ((v = json_object_get(o, "shape")) == NULL)
		st_fail(name, "tensor '%s' has no shape", t->name);
	if (!json_is_array(v))
		st_fail(name, "expected tensor '%s' shape to be an array",
		    t->name);
	if (json_array_size(v) > TENSOR_MAX_DIMS)
		st_fail(name, "tensor '%s' shape has more than %d dimensions",
		    t->name, TENSOR_MAX_DIMS);
	t->ndim = (int)json_array_size(v);
	json_array_foreach(v, i, x)
		t->shape[i] = (int64_t)st_uint(name, x, t->name, "shape");

	if ((v = json_object_get(o, "data_offsets")) == NULL)
		st_fail(name, "tensor '%s' has no data_offsets", t->name);
	if (!json_is_array(v) || json_array_size(v) != 2)
		st_fail(name, "expected tensor '%s' data_offsets to be an "
		    "array of two numbers", t->name);
	off[0] = st_uint(name, json_array_get(v, 0), t->name, "data_offsets");
	off[1] = st_uint(name, json_array_get(v, 1), t->name, "data_offsets");
}

/* Walk the header H into F: tensor names, dtypes and shapes, in header
 * order, the metadata, and each tensor's data_offsets into *OFFP (2 per
 * tensor). */
static void
st_header(const char *name, json_t *h, struct st_file *f,
    uint64_t **offp)
{
	size_t n = json_object_size(h) + 1;
	uint64_t *off = xmalloc_array(n, 2 * sizeof *off);
	struct tensor *t;
	const char *key;
	json_t *v;

	f->t = xcalloc(n, sizeof *f->t);
	json_object_foreach(h, key, v) {
		if (strcmp(key, "__metadata__") == 0) {
			st_metadata(name, v, f);
			continue;
		}
		if (*key == '\0')
			st_fail(name, "empty tensor name");
		t = &f->t[f->n];
		t->name = xstrdup(key);
		st_tensor(name, v, t, &off[2 * f->n]);
		f->n++;
	}
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
	json_t *h;
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

	h = st_load_json(name, (const char *)p + 8, hlen);
	st_header(name, h, f, &off);
	json_decref(h);

	st_check_offsets(name, f, off, len - 8 - hlen);
	st_place(f, raw, p + 8 + hlen, len - 8 - hlen, off);
	free(off);
}

/* Read up to N bytes from IN into BUF; dies on a read error. */
static size_t
st_fill(FILE *in, const char *name, unsigned char *buf, size_t n)
{
	size_t got = fread(buf, 1, n, in);

	if (got < n && ferror(in))
		die("%s: read error:", name);
	return got;
}

/* The bytes that the tensors of the header (HLEN bytes of JSON at P)
 * hold; dies as st_parse() would on a bad header. */
static size_t
st_data_size(const char *name, const unsigned char *p, size_t hlen)
{
	struct st_file tmp = { 0 };
	uint64_t *off = NULL;
	size_t sum = 0, nbytes;
	json_t *h;

	h = st_load_json(name, (const char *)p, hlen);
	st_header(name, h, &tmp, &off);
	json_decref(h);
	for (int i = 0; i < tmp.n; i++) {
		if (tensor_check_size(&tmp.t[i], &nbytes) != 0 ||
		    nbytes > SIZE_MAX / 2 - sum)
			die("%s: tensor '%s': shape too large", name,
			    tmp.t[i].name);
		sum += nbytes;
	}
	free(off);
	st_free(&tmp);
	return sum;
}

/*
 * The stream is read as far as its header says and no further: 8 bytes,
 * then a header of at most ST_MAX_HEADER, then the bytes its tensors hold
 * (plus ST_SLACK, so that a file with a few bytes too many still gets
 * st_parse()'s exact message).  An endless or huge input (/dev/zero, a
 * stray disk image) fails once that much is read, not when memory runs
 * out.
 */
#define ST_SLACK        (1u << 20)

void
st_fread(FILE *in, const char *name, struct st_file *f)
{
	unsigned char *raw = xmalloc(8);
	size_t got, hlen, want, cap, len, step;
	uint64_t h64;
	int i;

	memset(f, 0, sizeof *f);
	len = st_fill(in, name, raw, 8);
	if (len < 8) {
		st_parse(name, raw, len, f);    /* dies: empty, too short */
		return;
	}
	for (h64 = 0, i = 7; i >= 0; i--)
		h64 = h64 << 8 | raw[i];
	/* at most ST_MAX_HEADER + 1 bytes: enough to tell "beyond the file"
	 * from "too large" */
	hlen = h64 > ST_MAX_HEADER ? ST_MAX_HEADER + 1 : (size_t)h64;
	raw = xrealloc(raw, 8 + hlen);
	got = st_fill(in, name, raw + 8, hlen);
	len += got;
	if (got < hlen)
		die("%s: header length %" PRIu64 " exceeds the file (expected "
		    "at most %zu)", name, h64, got);
	if (h64 > ST_MAX_HEADER)
		die("%s: header length %" PRIu64 " too large (expected at most "
		    "%u)", name, h64, ST_MAX_HEADER);
	if (hlen < 2 || raw[8] != '{') {
		st_parse(name, raw, len, f);    /* dies: not a header */
		return;
	}
	want = st_data_size(name, raw + 8, hlen) + ST_SLACK;

	/* the data, in growing steps, and one byte more to see the end */
	for (cap = len;; ) {
		step = cap < (64u << 20) ? cap : (64u << 20);
		if (cap - 8 - hlen + step > want + 1)
			step = want + 1 - (cap - 8 - hlen);
		if (step == 0)
			break;
		cap += step;
		raw = xrealloc(raw, cap);
		got = st_fill(in, name, raw + len, cap - len);
		len += got;
		if (len < cap)
			break;
	}
	if (len - 8 - hlen > want)
		die("%s: more than %zu bytes after the header (its tensors "
		    "hold %zu)", name, want, want - ST_SLACK);
	st_parse(name, raw, len, f);
}

void
st_read(const char *path, struct st_file *f)
{
	FILE *in = xfopen(path, "rb");

	st_fread(in, display_name(path), f);
	if (in != stdin)
		fclose(in);
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

/* S as a JSON string; dies naming the file and WHAT if S is not UTF-8. */
static json_t *
st_json_string(const char *name, const char *what, const char *s)
{
	json_t *v = json_string(s);

	if (v == NULL)
		die("%s: %s is not valid UTF-8", name, what);
	return v;
}

/* Set KEY of object O to V (a new reference).  Keys stay at most
 * ST_MAX_KEY bytes once written as JSON, so that readers of earlier
 * releases, which parsed the header with libyaml (keys of up to 1024
 * characters), read every file written now. */
static void
st_key(const char *name, const char *what, json_t *o, const char *key,
    json_t *v)
{
	json_t *k = st_json_string(name, what, key);
	size_t len = json_dumpb(k, NULL, 0, JSON_ENCODE_ANY);

	json_decref(k);
	if (len > ST_MAX_KEY)
		die("%s: %s is longer than %d bytes", name, what, ST_MAX_KEY);
	if (json_object_set_new(o, key, v) != 0)
		die("out of memory building a JSON header");
}

const char *
st_meta_problem(const char *key, const char *val)
{
	static char why[96];
	json_t *k = json_string(key), *v = json_string(val);
	size_t len = k ? json_dumpb(k, NULL, 0, JSON_ENCODE_ANY) : 0;

	json_decref(k);
	json_decref(v);
	if (k == NULL)
		return "the key is not valid UTF-8";
	if (v == NULL)
		return "the value is not valid UTF-8";
	if (*key == '\0')
		return "the key is empty";
	if (len > ST_MAX_KEY) {
		snprintf(why, sizeof why, "the key is %zu bytes long as JSON, "
		    "more than %d", len, ST_MAX_KEY);
		return why;
	}
	return NULL;
}

/* An array of N integers. */
static json_t *
st_json_ints(const int64_t *x, int n)
{
	json_t *a = json_array();
	int i;

	for (i = 0; a != NULL && i < n; i++)
		if (json_array_append_new(a, json_integer(x[i])) != 0)
			a = NULL;
	if (a == NULL)
		die("out of memory building a JSON header");
	return a;
}

void
st_write(const char *path, const struct tensor *ts, int n,
    char *const *meta_key, char *const *meta_val, int nmeta)
{
	const char *name = strcmp(path, "-") == 0 ? "<stdout>" : path;
	json_t *h = json_object(), *meta, *t;
	struct atomic_file af;
	unsigned char len[8];
	int64_t off[2] = { 0, 0 };
	size_t nbytes, hn, hlen;
	char what[64], *hs;
	FILE *f;
	int i;

	if (h == NULL)
		die("out of memory building a JSON header");
	if (nmeta > 0) {
		meta = json_object();
		st_key(name, "__metadata__", h, "__metadata__", meta);
		for (i = 0; i < nmeta; i++) {
			if (json_object_get(meta, meta_key[i]) != NULL)
				die("%s: metadata key '%s' repeated", name,
				    meta_key[i]);
			/* a key that is UTF-8 is named, shortened */
			if ((t = json_string(meta_key[i])) != NULL)
				snprintf(what, sizeof what, "metadata key "
				    "'%.32s%s'", meta_key[i],
				    strlen(meta_key[i]) > 32 ? "..." : "");
			else
				snprintf(what, sizeof what, "metadata key %d",
				    i);
			json_decref(t);
			char vwhat[96];
			snprintf(vwhat, sizeof vwhat, "the value of %s", what);
			t = st_json_string(name, vwhat, meta_val[i]);
			st_key(name, what, meta, meta_key[i], t);
		}
	}
	for (i = 0; i < n; i++) {
		if (ts[i].name == NULL || *ts[i].name == '\0' ||
		    strcmp(ts[i].name, "__metadata__") == 0)
			die("%s: tensor %d needs a name other than '' and "
			    "'__metadata__'", name, i);
		if (json_object_get(h, ts[i].name) != NULL)
			die("%s: tensor name '%s' repeated", name, ts[i].name);
		if (tensor_check_size(&ts[i], &nbytes) != 0)
			die("%s: tensor '%s' has an invalid shape", name,
			    ts[i].name);
		off[0] = off[1];
		off[1] += (int64_t)nbytes;
		t = json_pack("{s:s, s:o, s:o}", "dtype",
		    dtype_name(ts[i].dtype), "shape",
		    st_json_ints(ts[i].shape, ts[i].ndim), "data_offsets",
		    st_json_ints(off, 2));
		if (t == NULL)
			die("out of memory building a JSON header");
		snprintf(what, sizeof what, "the name of tensor %d", i);
		st_key(name, what, h, ts[i].name, t);
	}

	/* compact, padded with spaces to a multiple of 8 */
	if ((hn = json_dumpb(h, NULL, 0, JSON_COMPACT)) == 0)
		die("out of memory writing a JSON header");
	hlen = (hn + 7) & ~(size_t)7;
	hs = xmalloc(hlen);
	if (json_dumpb(h, hs, hn, JSON_COMPACT) != hn)
		die("internal error: the JSON header changed size");
	memset(hs + hn, ' ', hlen - hn);
	json_decref(h);
	for (i = 0; i < 8; i++)
		len[i] = (unsigned char)((uint64_t)hlen >> (8 * i));

	f = strcmp(path, "-") == 0 ? stdout : atomic_open(&af, path);
	if (fwrite(len, 1, 8, f) != 8 || fwrite(hs, 1, hlen, f) != hlen)
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
	free(hs);
}
