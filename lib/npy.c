/*
 * npy.c - NumPy .npy reader and writer (see npy.h and
 * share/doc/tensor-format.md).
 *
 * The header is a Python dict literal.  It is parsed here by hand, by a
 * small recursive-descent parser of exactly the subset numpy writes:
 * quoted strings without escapes, True/False, decimal integers and tuples.
 * Anything else is an error rather than a guess; the writer produces
 * byte for byte what numpy.save() produces for the same array.
 */
#include "npy.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "atomic.h"
#include "util.h"

#define NPY_MAGIC       "\x93NUMPY"
#define NPY_MAGIC_LEN   6
#define NPY_ALIGN       64              /* data offset, as numpy >= 1.14 */
#define NPY_MAX_HEADER  (1 << 20)       /* far above any sane header */
#define NPY_CHUNK       ((size_t)1 << 24)  /* first data read, then doubled */

static const struct {
	const char *descr;
	enum dtype dtype;
} npy_descrs[] = {
	{ "<f4", DTYPE_F32 },
	{ "<f2", DTYPE_F16 },
	{ "<f8", DTYPE_F64 },
	{ "|u1", DTYPE_U8 },
	{ "<i4", DTYPE_I32 },
	{ "<i8", DTYPE_I64 },
};
static_assert(sizeof(npy_descrs) / sizeof(npy_descrs[0]) == DTYPE_COUNT,
    "every dtype needs a .npy descr");

#define NPY_DESCR_LIST "'<f4', '<f2', '<f8', '|u1', '<i4' or '<i8'"

static const char *
npy_descr(enum dtype dt)
{
	size_t i;

	for (i = 0; i < DTYPE_COUNT; i++)
		if (npy_descrs[i].dtype == dt)
			return npy_descrs[i].descr;
	die("no .npy descr for dtype %d", (int)dt);
}

// --- header parser ----------------------------------------------------------

struct npy_hdr {
	const char *p, *end;    /* the unparsed rest of the header */
	const char *name;       /* file name for messages */
};

static noreturn void
hdr_fail(const struct npy_hdr *h, const char *what)
{
	die("%s: bad .npy header: %s", h->name, what);
}

static void
hdr_skip_space(struct npy_hdr *h)
{
	while (h->p < h->end && (*h->p == ' ' || *h->p == '\t' ||
	    *h->p == '\n' || *h->p == '\r'))
		h->p++;
}

/* Skip space and consume C if it is next; returns whether it was. */
static int
hdr_accept(struct npy_hdr *h, char c)
{
	hdr_skip_space(h);
	if (h->p < h->end && *h->p == c) {
		h->p++;
		return 1;
	}
	return 0;
}

static void
hdr_expect(struct npy_hdr *h, char c, const char *what)
{
	if (!hdr_accept(h, c))
		hdr_fail(h, what);
}

/* A quoted string without escapes, copied into BUF of SIZE bytes. */
static void
hdr_string(struct npy_hdr *h, char *buf, size_t size)
{
	const char *start;
	char quote;
	size_t n;

	hdr_skip_space(h);
	if (h->p >= h->end || (*h->p != '\'' && *h->p != '"'))
		hdr_fail(h, "expected a quoted string");
	quote = *h->p++;
	start = h->p;
	while (h->p < h->end && *h->p != quote) {
		if (*h->p == '\\' || (unsigned char)*h->p < 0x20)
			hdr_fail(h, "escapes and control characters in strings "
			    "are not supported");
		h->p++;
	}
	if (h->p >= h->end)
		hdr_fail(h, "unterminated string");
	n = (size_t)(h->p - start);
	if (n >= size)
		hdr_fail(h, "string too long");
	memcpy(buf, start, n);
	buf[n] = '\0';
	h->p++;
}

static int
hdr_bool(struct npy_hdr *h)
{
	hdr_skip_space(h);
	if (h->end - h->p >= 4 && memcmp(h->p, "True", 4) == 0) {
		h->p += 4;
		return 1;
	}
	if (h->end - h->p >= 5 && memcmp(h->p, "False", 5) == 0) {
		h->p += 5;
		return 0;
	}
	hdr_fail(h, "'fortran_order' is not True or False");
}

/* A shape tuple: "()", "(N,)", "(N, M)", "(N, M,)": decimal integers
 * without leading zeros, a one-element tuple needing its comma. */
static void
hdr_shape(struct npy_hdr *h, struct tensor *t)
{
	int64_t v;
	int n = 0, comma = 0;

	hdr_expect(h, '(', "'shape' is not a tuple (expected e.g. (3, 224))");
	while (!hdr_accept(h, ')')) {
		if (n > 0 && !comma)
			hdr_fail(h, "expected ',' or ')' in 'shape'");
		hdr_skip_space(h);
		if (h->p >= h->end || *h->p < '0' || *h->p > '9')
			hdr_fail(h, "'shape' holds something other than "
			    "non-negative integers");
		if (*h->p == '0' && h->p + 1 < h->end &&
		    h->p[1] >= '0' && h->p[1] <= '9')
			hdr_fail(h, "'shape' has a number with a leading zero");
		for (v = 0; h->p < h->end && *h->p >= '0' && *h->p <= '9';
		    h->p++) {
			if (v > (INT64_MAX - 9) / 10)
				hdr_fail(h, "'shape' dimension too large");
			v = v * 10 + (*h->p - '0');
		}
		if (n == TENSOR_MAX_DIMS)
			die("%s: bad .npy header: more than %d dimensions",
			    h->name, TENSOR_MAX_DIMS);
		t->shape[n++] = v;
		comma = hdr_accept(h, ',');
	}
	if (n == 1 && !comma)
		hdr_fail(h, "'shape' (N) is not a tuple (expected (N,))");
	t->ndim = n;
}

/* Parse the dict into T (dtype and shape); dies unless it has exactly the
 * keys 'descr', 'fortran_order' (False) and 'shape'. */
static void
hdr_parse(struct npy_hdr *h, struct tensor *t)
{
	char key[32], descr[32];
	int seen_descr = 0, seen_order = 0, seen_shape = 0;
	size_t i;

	hdr_expect(h, '{', "not a dict (expected '{')");
	while (!hdr_accept(h, '}')) {
		hdr_string(h, key, sizeof key);
		hdr_expect(h, ':', "expected ':' after a key");
		if (strcmp(key, "descr") == 0 && !seen_descr++) {
			hdr_string(h, descr, sizeof descr);
			for (i = 0; i < DTYPE_COUNT; i++)
				if (strcmp(descr, npy_descrs[i].descr) == 0)
					break;
			if (i == DTYPE_COUNT)
				die("%s: unsupported dtype '%s' (expected "
				    NPY_DESCR_LIST ")", h->name, descr);
			t->dtype = npy_descrs[i].dtype;
		} else if (strcmp(key, "fortran_order") == 0 && !seen_order++) {
			if (hdr_bool(h))
				die("%s: Fortran-order array (expected "
				    "'fortran_order': False)", h->name);
		} else if (strcmp(key, "shape") == 0 && !seen_shape++) {
			hdr_shape(h, t);
		} else {
			die("%s: bad .npy header: unexpected or repeated key "
			    "'%s' (expected 'descr', 'fortran_order', 'shape')",
			    h->name, key);
		}
		if (!hdr_accept(h, ',')) {
			hdr_expect(h, '}', "expected ',' or '}' after a value");
			break;
		}
	}
	hdr_skip_space(h);
	if (h->p != h->end)
		hdr_fail(h, "text after the closing '}'");
	if (!seen_descr || !seen_order || !seen_shape)
		die("%s: bad .npy header: missing key '%s'", h->name,
		    !seen_descr ? "descr" : !seen_order ? "fortran_order" :
		    "shape");
}

// --- reading ----------------------------------------------------------------

/* Read exactly N bytes; returns how many were read before end of file. */
static size_t
read_full(FILE *f, const char *name, void *buf, size_t n)
{
	size_t got = fread(buf, 1, n, f);

	if (got < n && ferror(f))
		die("%s: read error:", name);
	return got;
}

int
npy_read_stream(FILE *f, const char *name, struct tensor *t)
{
	unsigned char pre[NPY_MAGIC_LEN + 2 + 4];
	struct npy_hdr h;
	size_t got, hlen, lensize, nbytes, cap, step;
	char *header;

	got = read_full(f, name, pre, NPY_MAGIC_LEN + 2);
	if (got == 0)
		return 0;
	if (memcmp(pre, NPY_MAGIC, got < NPY_MAGIC_LEN ? got : NPY_MAGIC_LEN))
		die("%s: not a .npy file (bad magic: expected \\x93NUMPY)",
		    name);
	if (got < NPY_MAGIC_LEN + 2)
		die("%s: truncated .npy header", name);
	if (pre[6] < 1 || pre[6] > 3 || pre[7] != 0)
		die("%s: unsupported .npy version %u.%u (expected 1.0, 2.0 "
		    "or 3.0)", name, pre[6], pre[7]);
	lensize = pre[6] == 1 ? 2 : 4;
	if (read_full(f, name, pre + 8, lensize) < lensize)
		die("%s: truncated .npy header", name);
	hlen = pre[8] | (size_t)pre[9] << 8;
	if (lensize == 4)
		hlen |= (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
	if (hlen > NPY_MAX_HEADER)
		die("%s: .npy header length %zu too large (expected at most "
		    "%d)", name, hlen, NPY_MAX_HEADER);
	header = xmalloc(hlen);
	got = read_full(f, name, header, hlen);
	if (got < hlen)
		die("%s: truncated .npy header: expected %zu bytes, found %zu",
		    name, hlen, got);

	memset(t, 0, sizeof *t);
	h.p = header;
	h.end = header + hlen;
	h.name = name;
	hdr_parse(&h, t);
	free(header);
	if (tensor_check_size(t, &nbytes) != 0)
		die("%s: shape too large", name);

	/* Grow the buffer as data arrives, so that a corrupt shape in a short
	 * file is reported as truncated instead of exhausting memory. */
	t->data = NULL;
	got = cap = 0;
	do {
		step = cap > NPY_CHUNK ? cap : NPY_CHUNK;
		cap = nbytes - cap > step ? cap + step : nbytes;
		t->data = xrealloc(t->data, cap);
		got += read_full(f, name, (char *)t->data + got, cap - got);
		if (got < cap)
			die("%s: truncated data: expected %zu bytes, found %zu",
			    name, nbytes, got);
	} while (got < nbytes);
	return 1;
}

void
npy_read(const char *path, struct tensor *t)
{
	const char *name = display_name(path);
	FILE *f = xfopen(path, "rb");

	if (!npy_read_stream(f, name, t))
		die("%s: empty file (expected a .npy array)", name);
	if (getc(f) != EOF)
		die("%s: trailing data after the array (expected end of file)",
		    name);
	if (ferror(f))
		die("%s: read error:", name);
	if (f != stdin)
		fclose(f);
}

// --- writing ----------------------------------------------------------------

void
npy_write_stream(FILE *f, const char *name, const struct tensor *t)
{
	char header[NPY_MAGIC_LEN + 2 + 2 + 512];
	size_t nbytes, n, pad;
	int i;

	if (tensor_check_size(t, &nbytes) != 0)
		die("%s: cannot write a tensor with an invalid shape", name);
	n = NPY_MAGIC_LEN + 4;
	n += snprintf(header + n, sizeof header - n,
	    "{'descr': '%s', 'fortran_order': False, 'shape': (",
	    npy_descr(t->dtype));
	for (i = 0; i < t->ndim; i++)
		n += snprintf(header + n, sizeof header - n, "%s%lld",
		    i ? ", " : "", (long long)t->shape[i]);
	n += snprintf(header + n, sizeof header - n, "%s), }",
	    t->ndim == 1 ? "," : "");
	/* numpy's rule: pad with spaces so that the data starts at a
	 * multiple of 64, counting the final '\n'; a whole block if it fits
	 * exactly. */
	pad = NPY_ALIGN - (n + 1) % NPY_ALIGN;
	memset(header + n, ' ', pad);
	n += pad;
	header[n++] = '\n';

	memcpy(header, NPY_MAGIC "\x01\x00", NPY_MAGIC_LEN + 2);
	header[8] = (char)((n - 10) & 0xff);
	header[9] = (char)((n - 10) >> 8);
	if (fwrite(header, 1, n, f) != n ||
	    fwrite(t->data, 1, nbytes, f) != nbytes)
		die("%s: write error:", name);
}

void
npy_write(const char *path, const struct tensor *t)
{
	struct atomic_file af;
	FILE *f;

	if (strcmp(path, "-") == 0) {
		npy_write_stream(stdout, "<stdout>", t);
		if (fflush(stdout) != 0)
			die("<stdout>: write error:");
		return;
	}
	f = atomic_open(&af, path);
	npy_write_stream(f, path, t);
	atomic_commit(&af);
}
