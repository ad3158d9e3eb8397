/*
 * image.c - Netpbm stream I/O on libnetpbm (image.h).
 *
 * libnetpbm reports errors through pm_error(), which prints and exits.  We
 * catch them instead (pm_setjmpbuf + a user message function) so that every
 * failure becomes one line that names the file and the image, through
 * die(), with the same exit status and cleanup as every other error.
 */
#include "image.h"

#include <limits.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pam.h>

#include "classes.h"
#include "util.h"

/* libnetpbm's PAM_STRUCT_SIZE(comment_p), without its member access
 * through a null pointer (undefined behaviour, which UBSan reports) */
#define IMG_PAM_SIZE (offsetof(struct pam, comment_p) + \
	sizeof(((struct pam *)0)->comment_p))

#define IMG_MAX_BYTES ((size_t)1 << 31)
#define IMG_GROW_MIN ((size_t)1 << 20)  /* first buffer of a read, bytes */

static char pm_msg[512];
static int pm_ready;

static void
capture_msg(const char *msg)
{
	size_t n;

	snprintf(pm_msg, sizeof pm_msg, "%s", msg);
	n = strlen(pm_msg);
	while (n > 0 && pm_msg[n - 1] == '\n')
		pm_msg[--n] = '\0';
}

static void
quiet_msg(const char *msg)
{
	(void)msg;
}

static void
pm_setup(void)
{
	if (pm_ready)
		return;
	pm_init(argv0, 0);
	pm_setusererrormsgfn(capture_msg);
	pm_setusermessagefn(quiet_msg);
	pm_ready = 1;
}

int
img_kind_depth(enum img_kind kind)
{
	switch (kind) {
	case IMG_GRAY:
		return 1;
	case IMG_RGB:
		return 3;
	case IMG_RGBA:
	case IMG_LABEL:
		return 4;
	}
	return 0;
}

const char *
img_kind_name(enum img_kind kind)
{
	switch (kind) {
	case IMG_GRAY:
		return "GRAYSCALE";
	case IMG_RGB:
		return "RGB";
	case IMG_RGBA:
		return "RGB_ALPHA";
	case IMG_LABEL:
		return "RGB_LABEL";
	}
	return "?";
}

static const char *
accept_names(unsigned accept, char *buf, size_t n)
{
	static const enum img_kind all[] = { IMG_GRAY, IMG_RGB, IMG_RGBA,
	    IMG_LABEL };
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < sizeof all / sizeof all[0]; i++)
		if (accept & all[i])
			len += snprintf(buf + len, n - len, "%s%s",
			    len ? " or " : "", img_kind_name(all[i]));
	return buf;
}

void
img_alloc(struct img *im, int width, int height, enum img_kind kind)
{
	int depth = img_kind_depth(kind);

	if (width <= 0 || height <= 0 ||
	    (size_t)width * height * depth > IMG_MAX_BYTES)
		die("image size %dx%d is out of range", width, height);
	im->width = width;
	im->height = height;
	im->depth = depth;
	im->kind = kind;
	im->data = xcalloc((size_t)width * height, depth);
	im->meta = NULL;
}

void
img_free(struct img *im)
{
	free(im->data);
	free(im->meta);
	im->data = NULL;
	im->meta = NULL;
}

void
img_open(struct img_reader *r, const char *path)
{
	pm_setup();
	r->f = xfopen(path, "rb");
	r->name = display_name(path);
	r->count = 0;
	r->nclass = 0;
}

void
img_close(struct img_reader *r)
{
	if (r->f != stdin)
		fclose(r->f);
	r->f = NULL;
}

/* The kind of an image from its header, or 0 if it is none of ours. */
static enum img_kind
header_kind(const struct pam *p)
{
	if (p->format == PGM_FORMAT || p->format == RPGM_FORMAT)
		return IMG_GRAY;
	if (p->format == PPM_FORMAT || p->format == RPPM_FORMAT)
		return IMG_RGB;
	if (p->format != PAM_FORMAT)
		return 0;
	if (p->depth == 1 && strcmp(p->tuple_type, "GRAYSCALE") == 0)
		return IMG_GRAY;
	if (p->depth == 3 && strcmp(p->tuple_type, "RGB") == 0)
		return IMG_RGB;
	if (p->depth == 4 && strcmp(p->tuple_type, "RGB_ALPHA") == 0)
		return IMG_RGBA;
	if (p->depth == 4 && strcmp(p->tuple_type, "RGB_LABEL") == 0)
		return IMG_LABEL;
	return 0;
}

/* Image formats that are not Netpbm, by their first bytes, with the
 * converter that turns each into Netpbm. */
static const struct foreign {
	const char *magic;
	size_t len;
	const char *name, *decoder;
} foreign[] = {
	{ "\xff\xd8\xff", 3, "JPEG", "jpegtopnm" },
	{ "\x89PNG", 4, "PNG", "pngtopam" },
	{ "BM", 2, "BMP", "bmptopnm" },
	{ "II*\0", 4, "TIFF", "tifftopnm" },
	{ "MM\0*", 4, "TIFF", "tifftopnm" },
	{ "GIF8", 4, "GIF", "giftopnm" },
};

/* Look at the first bytes of the next image in R.  A Netpbm image begins
 * with 'P': then put the byte back and return.  Anything else is not
 * Netpbm, and the magic numbers of the common photo formats get their own
 * message, which names the converter. */
static void
check_magic(struct img_reader *r)
{
	unsigned char b[4];
	char where[PATH_MAX + 32];
	size_t n = 0, i;
	int c;

	if ((c = getc(r->f)) == 'P' || c == EOF) {
		if (c != EOF)
			ungetc(c, r->f);
		return;
	}
	b[n++] = (unsigned char)c;
	while (n < sizeof b && (c = getc(r->f)) != EOF)
		b[n++] = (unsigned char)c;
	if (r->count == 0)
		snprintf(where, sizeof where, "%s", r->name);
	else
		snprintf(where, sizeof where, "%s: image %d", r->name,
		    r->count + 1);
	for (i = 0; i < sizeof foreign / sizeof foreign[0]; i++)
		if (n >= foreign[i].len &&
		    memcmp(b, foreign[i].magic, foreign[i].len) == 0)
			die("%s: looks like a %s file: decode it with %s, or "
			    "use smear-segment", where, foreign[i].name,
			    foreign[i].decoder);
	die("%s: image %d: unreadable or truncated (bad magic number "
	    "0x%02x%02x, not a Netpbm image)", r->name, r->count + 1, b[0],
	    n > 1 ? b[1] : 0);
}

/* "PGM", "PPM", "PBM" or "PAM TUPLTYPE depth N", for messages. */
static const char *
header_name(const struct pam *p, char *buf, size_t n)
{
	if (p->format == PAM_FORMAT)
		snprintf(buf, n, "PAM %s depth %u", p->tuple_type[0] ?
		    p->tuple_type : "(no TUPLTYPE)", p->depth);
	else
		snprintf(buf, n, "%s", PNM_FORMAT_TYPE(p->format) == PPM_TYPE ?
		    "PPM" : PNM_FORMAT_TYPE(p->format) == PGM_TYPE ? "PGM" :
		    "PBM");
	return buf;
}

/* Turn libnetpbm's comment text (the header's comment lines without
 * their '#', joined by newlines) into our "key: value\n" lines.  A hand-
 * written "# key: value" keeps its space after the '#': drop it. */
static char *
meta_from_comment(const char *c)
{
	size_t n;
	char *m, *o;

	if (c == NULL || *c == '\0')
		return NULL;
	n = strlen(c);
	m = o = xmalloc(n + 2);
	while (*c != '\0') {
		if (*c == ' ')
			c++;
		while (*c != '\0' && *c != '\n')
			*o++ = *c++;
		*o++ = '\n';
		if (*c == '\n')
			c++;
	}
	*o = '\0';
	return m;
}

static void
check_labels(struct img_reader *r, const struct img *im, int plane)
{
	const unsigned char *p = im->data + plane;
	size_t i, npix = (size_t)im->width * im->height;

	const struct class_table *ct = classes_load(NULL);

	if (r->nclass == 0)
		r->nclass = ct->n;
	for (i = 0; i < npix; i++, p += im->depth)
		if (*p >= r->nclass && *p != 255 &&
		    classes_members(ct, *p) == 0)
			die("%s: image %d: label value %d at (%zu,%zu) is not a "
			    "class (0..%d), a partial label or 255", r->name,
			    r->count, *p, i % im->width, i / im->width,
			    r->nclass - 1);
}

int
img_read(struct img_reader *r, struct img *im, unsigned accept)
{
	static jmp_buf jb;
	jmp_buf *saved;
	struct pam p;
	const char *comment = NULL;
	/* volatile: freed on the error path, after longjmp */
	tuple *volatile row = NULL;
	enum img_kind kind;
	unsigned char *d;
	char want[96], got[320];
	int eof, x, y, c, label_plane;
	size_t need, rowbytes, have;

	pm_setjmpbufsave(&jb, &saved);
	if (setjmp(jb) != 0) {
		pm_setjmpbuf(saved);
		if (row != NULL)
			pnm_freepamrow(row);
		if (r->count == 0 && feof(r->f) && pm_msg[0] == '\0')
			die("%s: empty stream, expected a Netpbm image", r->name);
		die("%s: image %d: unreadable or truncated (%s)", r->name,
		    r->count, pm_msg[0] ? pm_msg : "read error");
	}
	pm_msg[0] = '\0';
	pnm_nextimage(r->f, &eof);
	if (eof) {
		pm_setjmpbuf(saved);
		if (r->count == 0)
			die("%s: empty stream, expected a Netpbm image", r->name);
		return 0;
	}
	check_magic(r);
	memset(&p, 0, sizeof p);
	p.comment_p = &comment;
	r->count++;
	pnm_readpaminit(r->f, &p, IMG_PAM_SIZE);
	kind = header_kind(&p);
	if (kind == 0 || !(accept & kind))
		die("%s: image %d: expected %s, got %s", r->name, r->count,
		    accept_names(accept, want, sizeof want),
		    header_name(&p, got, sizeof got));
	if (p.width > INT_MAX / 4 || p.height > INT_MAX / 4 ||
	    (size_t)p.width * p.height * p.depth > IMG_MAX_BYTES)
		die("%s: image %d: size %dx%d is too large", r->name,
		    r->count, p.width, p.height);
	label_plane = kind == IMG_LABEL ? 3 :
	    (kind == IMG_GRAY && (accept & IMG_CLASSMAP)) ? 0 : -1;
	if (kind == IMG_LABEL && p.maxval != 255)
		die("%s: image %d: RGB_LABEL maxval must be 255, not %lu",
		    r->name, r->count, p.maxval);

	/* The buffer grows with the rows read, so that a header that
	 * claims a huge image costs memory only as its rows arrive: a
	 * truncated one fails after its first rows, not after a huge
	 * allocation.  Until the image is whole, IM says 0 x 0 (what the
	 * buffer surely holds). */
	need = (size_t)p.width * p.height * p.depth;
	rowbytes = (size_t)p.width * p.depth;
	have = im->data == NULL ? 0 :
	    (size_t)im->width * im->height * im->depth;
	im->width = im->height = 0;
	im->depth = p.depth;
	im->kind = kind;
	free(im->meta);
	im->meta = meta_from_comment(comment);
	free((void *)comment);

	row = pnm_allocpamrow(&p);
	for (y = 0; y < p.height; y++) {
		if ((size_t)(y + 1) * rowbytes > have) {
			size_t want = 2 * have > IMG_GROW_MIN ? 2 * have :
			    IMG_GROW_MIN;

			if (want < (size_t)(y + 1) * rowbytes)
				want = (size_t)(y + 1) * rowbytes;
			if (want > need)
				want = need;
			im->data = xrealloc(im->data, want);
			have = want;
		}
		d = im->data + (size_t)y * rowbytes;
		pnm_readpamrow(&p, row);
		for (x = 0; x < p.width; x++)
			for (c = 0; c < (int)p.depth; c++) {
				sample v = row[x][c];
				if (p.maxval != 255 && c != label_plane)
					v = (v * 255 + p.maxval / 2) / p.maxval;
				if (v > 255) {
					pnm_freepamrow(row);
					die("%s: image %d: sample %lu at (%d,%d) "
					    "exceeds 255", r->name, r->count,
					    v, x, y);
				}
				*d++ = (unsigned char)v;
			}
	}
	pnm_freepamrow(row);
	pm_setjmpbuf(saved);
	im->width = p.width;
	im->height = p.height;
	if (label_plane >= 0)
		check_labels(r, im, label_plane);
	return 1;
}

static void
write_rows(const struct pam *p, const struct img *im)
{
	const unsigned char *d = im->data;
	tuple *row = pnm_allocpamrow(p);
	int x, y, c;

	for (y = 0; y < im->height; y++) {
		for (x = 0; x < im->width; x++)
			for (c = 0; c < im->depth; c++)
				row[x][c] = *d++;
		pnm_writepamrow(p, row);
	}
	pnm_freepamrow(row);
}

void
img_write(FILE *f, const char *name, const struct img *im)
{
	static jmp_buf jb;
	jmp_buf *saved;
	struct pam p;
	const char *comment;

	pm_setup();
	memset(&p, 0, sizeof p);
	p.size = sizeof p;
	p.len = IMG_PAM_SIZE;
	p.file = f;
	p.width = im->width;
	p.height = im->height;
	p.depth = im->depth;
	p.maxval = 255;
	p.bytes_per_sample = 1;
	p.plainformat = 0;
	comment = im->meta;
	p.comment_p = im->meta ? &comment : NULL;
	switch (im->kind) {
	case IMG_GRAY:
		p.format = RPGM_FORMAT;
		strcpy(p.tuple_type, PAM_PGM_TUPLETYPE);
		break;
	case IMG_RGB:
		p.format = RPPM_FORMAT;
		strcpy(p.tuple_type, PAM_PPM_TUPLETYPE);
		break;
	case IMG_RGBA:
	case IMG_LABEL:
		p.format = PAM_FORMAT;
		strcpy(p.tuple_type, img_kind_name(im->kind));
		break;
	}
	pm_setjmpbufsave(&jb, &saved);
	if (setjmp(jb) != 0) {
		pm_setjmpbuf(saved);
		die("%s: write error (%s)", name,
		    pm_msg[0] ? pm_msg : "libnetpbm");
	}
	pnm_writepaminit(&p);
	write_rows(&p, im);
	pm_setjmpbuf(saved);
	if (ferror(f))
		die("%s: write error:", name);
}

const char *
img_meta_get(const struct img *im, const char *key, char *buf, size_t n)
{
	const char *line, *v, *end;
	size_t klen = strlen(key), vlen;

	for (line = im->meta; line != NULL && *line != '\0';
	    line = end + (*end == '\n')) {
		end = strchr(line, '\n');
		if (end == NULL)
			end = line + strlen(line);
		if ((size_t)(end - line) > klen && strncmp(line, key, klen) == 0
		    && line[klen] == ':') {
			v = line + klen + 1;
			while (*v == ' ')
				v++;
			vlen = end - v;
			if (vlen >= n)
				vlen = n - 1;
			memcpy(buf, v, vlen);
			buf[vlen] = '\0';
			return buf;
		}
	}
	return NULL;
}

void
img_meta_set(struct img *im, const char *key, const char *value)
{
	size_t klen = strlen(key), old = 0, add;
	char *line, *end, *m;

	if (strchr(value, '\n') || strchr(key, '\n') || strchr(key, ':'))
		die("metadata key '%s' or its value has a newline or colon",
		    key);
	/* drop an existing line for KEY */
	for (line = im->meta; line != NULL && *line != '\0'; line = end) {
		end = strchr(line, '\n');
		end = end ? end + 1 : line + strlen(line);
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			memmove(line, end, strlen(end) + 1);
			end = line;
		}
	}
	if (im->meta)
		old = strlen(im->meta);
	add = klen + strlen(value) + 3;
	m = xrealloc(im->meta, old + add + 1);
	snprintf(m + old, add + 1, "%s: %s\n", key, value);
	im->meta = m;
}

void
img_meta_copy(struct img *dst, const struct img *src)
{
	free(dst->meta);
	dst->meta = src->meta ? xstrdup(src->meta) : NULL;
}
