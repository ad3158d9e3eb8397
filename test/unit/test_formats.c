/*
 * test_formats.c - unit tests of the tensor and file-format layer:
 * .npy and safetensors round trips, binary16 conversion, the RNG and
 * atomic file replacement.
 *
 * With "--write-npy DIR" it instead writes fixtures for test/tensors.bats,
 * which loads them with numpy to check that numpy reads what we write:
 *   f32.npy   float32 (2, 3, 4), element i = i * 0.25 - 3
 *   u8.npy    uint8 (5, 7), element i = i * 37 mod 256
 *   f16.npy   float16 (6,) = 0, 1, -2.5, 65504, 2^-24, 0.333251953125
 *   i64.npy   int64 () = -1234567890123
 *   st.safetensors  "w" F32 (2, 2) = 1..4 and "b" U8 (3,) = 7, 8, 9,
 *             metadata {"classes": "[\"a\", \"b\"]", "note": "µm\n"}
 */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "atomic.h"
#include "npy.h"
#include "rng.h"
#include "safetensors.h"
#include "tap.h"
#include "tensor.h"
#include "util.h"

static char tmpdir[4096];

static const char *
tmp_path(const char *name)
{
	static char buf[4200];

	snprintf(buf, sizeof buf, "%s/%s", tmpdir, name);
	return buf;
}

/* A tensor with the given dtype and shape, filled with random bytes. */
static struct tensor
random_tensor(struct rng *r, const char *name, enum dtype dt, int ndim,
    const int64_t *shape)
{
	struct tensor t = { 0 };
	unsigned char *p;
	size_t i, n;

	t.name = name ? xstrdup(name) : NULL;
	t.dtype = dt;
	t.ndim = ndim;
	if (ndim > 0)
		memcpy(t.shape, shape, ndim * sizeof *shape);
	n = tensor_nbytes(&t);
	p = t.data = xmalloc(n);
	for (i = 0; i < n; i++)
		p[i] = (unsigned char)rng_u64(r);
	return t;
}

static int
same_tensor(const struct tensor *a, const struct tensor *b)
{
	return a->dtype == b->dtype && a->ndim == b->ndim &&
	    memcmp(a->shape, b->shape, a->ndim * sizeof a->shape[0]) == 0 &&
	    memcmp(a->data, b->data, tensor_nbytes(a)) == 0;
}

// --- .npy -------------------------------------------------------------------

static void
test_npy(void)
{
	static const int64_t shapes[][4] = { { 0 }, { 5 }, { 2, 3, 1, 4 },
	    { 0, 3 } };
	static const int ndims[] = { 0, 1, 4, 2 };
	unsigned char pre[10];
	struct tensor t, u, v;
	struct rng r;
	size_t hlen;
	FILE *f;
	int dt, s;

	rng_seed(&r, 1);
	for (dt = 0; dt < DTYPE_COUNT; dt++)
		for (s = 0; s < 4; s++) {
			t = random_tensor(&r, NULL, dt, ndims[s], shapes[s]);
			npy_write(tmp_path("a.npy"), &t);
			npy_read(tmp_path("a.npy"), &u);
			tap_ok(same_tensor(&t, &u) && u.name == NULL,
			    "npy round trip %s, %d-d", dtype_name(dt),
			    ndims[s]);
			tensor_free(&t);
			tensor_free(&u);
		}

	/* numpy >= 1.14 layout: data at a multiple of 64, header ends '\n' */
	f = fopen(tmp_path("a.npy"), "rb");
	if (f == NULL || fread(pre, 1, 10, f) != 10)
		die("%s:", tmp_path("a.npy"));
	hlen = pre[8] | (size_t)pre[9] << 8;
	fseek(f, (long)(10 + hlen - 1), SEEK_SET);
	tap_ok(memcmp(pre, "\x93NUMPY\x01\x00", 8) == 0 &&
	    (10 + hlen) % 64 == 0 && getc(f) == '\n',
	    "npy header is version 1.0, 64-aligned, ends in a newline");
	fclose(f);

	/* a stream of arrays */
	t = random_tensor(&r, NULL, DTYPE_F32, 1, (int64_t[]){ 3 });
	u = random_tensor(&r, NULL, DTYPE_U8, 2, (int64_t[]){ 2, 2 });
	f = fopen(tmp_path("s.npy"), "w+b");
	if (f == NULL)
		die("%s:", tmp_path("s.npy"));
	npy_write_stream(f, "s.npy", &t);
	npy_write_stream(f, "s.npy", &u);
	rewind(f);
	tap_ok(npy_read_stream(f, "s.npy", &v) == 1 && same_tensor(&t, &v),
	    "npy stream: first array");
	tensor_free(&v);
	tap_ok(npy_read_stream(f, "s.npy", &v) == 1 && same_tensor(&u, &v),
	    "npy stream: second array");
	tensor_free(&v);
	tap_ok(npy_read_stream(f, "s.npy", &v) == 0, "npy stream: clean end");
	fclose(f);
	tensor_free(&t);
	tensor_free(&u);
}

// --- safetensors ------------------------------------------------------------

static int
all_aligned(const struct st_file *f)
{
	int i;

	for (i = 0; i < f->n; i++)
		if ((uintptr_t)f->t[i].data % dtype_size(f->t[i].dtype))
			return 0;
	return 1;
}

/* Write N tensors and some metadata, read them back, compare. */
static void
st_round_trip(const char *what, struct tensor *ts, int n)
{
	static char *keys[] = { "classes", "tricky", "empty" };
	static char *vals[] = {
		"[{\"index\": 0, \"name\": \"background\"}]",
		"quote \" backslash \\ newline \n tab \t ctl \x01 del \x7f "
		    "é µm 😀 nel \xc2\x85 ls \xe2\x80\xa8 "
		    "bom \xef\xbb\xbf end",
		"",
	};
	struct st_file f;
	int i, ok;

	st_write(tmp_path("m.safetensors"), ts, n, keys, vals, 3);
	st_read(tmp_path("m.safetensors"), &f);
	ok = f.n == n;
	for (i = 0; ok && i < n; i++)
		ok = strcmp(f.t[i].name, ts[i].name) == 0 &&
		    st_find(&f, ts[i].name) == &f.t[i] &&
		    same_tensor(&ts[i], &f.t[i]);
	tap_ok(ok, "safetensors %s: tensors, names and order", what);
	ok = f.nmeta == 3;
	for (i = 0; ok && i < 3; i++)
		ok = strcmp(f.meta_key[i], keys[i]) == 0 &&
		    st_meta(&f, keys[i]) != NULL &&
		    strcmp(st_meta(&f, keys[i]), vals[i]) == 0;
	tap_ok(ok, "safetensors %s: metadata values survive exactly", what);
	tap_ok(st_find(&f, "nope") == NULL && st_meta(&f, "nope") == NULL,
	    "safetensors %s: missing names give NULL", what);
	tap_ok(all_aligned(&f), "safetensors %s: data naturally aligned", what);
	st_free(&f);
}

static void
test_safetensors(void)
{
	struct tensor ts[6];
	struct st_file f;
	struct rng r;
	FILE *fp;
	int i;
	/* What other writers produce: compact, or spaced; padded. */
	static const char compact[] =
	    "{\"__metadata__\":{\"format\":\"pt\",\"s\":\"\\ud83d\\ude00\","
	    "\"r\":\"\x7f\xe2\x80\xa8\xc2\x80\"},\"a\":{\"dtype\":\"F32\","
	    "\"shape\":[2],\"data_offsets\":[0,8]}}      ";
	static const char spaced[] =
	    "{ \"a\" : { \"data_offsets\" : [ 0 , 8 ] , \"shape\" : [ 2 ] ,\n"
	    "  \"dtype\" : \"F32\" } , \"s\\u00e9\\/\" : {\"dtype\": \"U8\", "
	    "\"shape\": [], \"data_offsets\": [8, 9]} }";
	static const float two[2] = { 1.5f, -2.0f };
	const char *hdrs[] = { compact, spaced };
	unsigned char len[8];
	size_t hl;

	rng_seed(&r, 2);
	/* misaligned on disk: U8 (3 bytes) before F64 */
	ts[0] = random_tensor(&r, "enc.0.weight", DTYPE_F32, 4,
	    (int64_t[]){ 2, 3, 3, 3 });
	ts[1] = random_tensor(&r, "odd", DTYPE_U8, 1, (int64_t[]){ 3 });
	ts[2] = random_tensor(&r, "d", DTYPE_F64, 1, (int64_t[]){ 2 });
	ts[3] = random_tensor(&r, "step", DTYPE_I64, 0, NULL);
	ts[4] = random_tensor(&r, "h", DTYPE_F16, 2, (int64_t[]){ 2, 2 });
	ts[5] = random_tensor(&r, "empty", DTYPE_I32, 2, (int64_t[]){ 0, 2 });
	st_round_trip("misaligned layout", ts, 6);
	/* aligned on disk: widest first */
	st_round_trip("aligned layout", (struct tensor[]){ ts[2], ts[3],
	    ts[0], ts[5], ts[4], ts[1] }, 6);
	st_round_trip("no tensors", ts, 0);
	for (i = 0; i < 6; i++)
		tensor_free(&ts[i]);

	for (i = 0; i < 2; i++) {
		hl = strlen(hdrs[i]);
		for (int b = 0; b < 8; b++)
			len[b] = (unsigned char)(hl >> (8 * b));
		fp = fopen(tmp_path("o.safetensors"), "wb");
		if (fp == NULL)
			die("%s:", tmp_path("o.safetensors"));
		fwrite(len, 1, 8, fp);
		fwrite(hdrs[i], 1, hl, fp);
		fwrite(two, 1, sizeof two, fp);
		if (i == 1)
			fputc(200, fp);
		xfshut(fp, "o.safetensors");
		st_read(tmp_path("o.safetensors"), &f);
		tap_ok(f.n == 1 + i && strcmp(f.t[0].name, "a") == 0 &&
		    f.t[0].dtype == DTYPE_F32 && f.t[0].ndim == 1 &&
		    f.t[0].shape[0] == 2 &&
		    memcmp(f.t[0].data, two, sizeof two) == 0,
		    "safetensors from another writer (%s header)",
		    i ? "spaced" : "compact");
		if (i == 0)
			tap_ok(f.nmeta == 3 && strcmp(st_meta(&f, "format"),
			    "pt") == 0 && strcmp(st_meta(&f, "s"),
			    "\xf0\x9f\x98\x80") == 0 && strcmp(st_meta(&f, "r"),
			    "\x7f\xe2\x80\xa8\xc2\x80") == 0,
			    "safetensors: foreign metadata, surrogate pair "
			    "escape, raw DEL, U+2028 and C1");
		else
			tap_ok(st_find(&f, "s\xc3\xa9/") != NULL &&
			    st_find(&f, "s\xc3\xa9/")->ndim == 0 &&
			    *(unsigned char *)st_find(&f, "s\xc3\xa9/")->data ==
			    200, "safetensors: JSON escapes in a name, 0-d U8");
		st_free(&f);
	}
}

// --- binary16 ---------------------------------------------------------------

static float
bits_f32(uint32_t x)
{
	float f;

	memcpy(&f, &x, sizeof f);
	return f;
}

static uint16_t
to_f16(float x)
{
	uint16_t h;

	f32_to_f16(&h, &x, 1);
	return h;
}

static float
from_f16(uint16_t h)
{
	float x;

	f16_to_f32(&x, &h, 1);
	return x;
}

static void
test_f16(void)
{
	static const struct { float f; uint16_t h; } known[] = {
		{ 0.0f, 0x0000 }, { -0.0f, 0x8000 }, { 1.0f, 0x3c00 },
		{ -2.5f, 0xc100 }, { 65504.0f, 0x7bff }, { 0x1p-14f, 0x0400 },
		{ 0x1p-24f, 0x0001 }, { 0x1.ff8p-15f, 0x03ff },
		{ 0.333251953125f, 0x3555 }, { INFINITY, 0x7c00 },
		{ -INFINITY, 0xfc00 },
	};
	uint32_t h, bad = 0, badround = 0;
	float m;
	size_t i;

	for (i = 0; i < sizeof known / sizeof known[0]; i++)
		tap_ok(to_f16(known[i].f) == known[i].h &&
		    (memcmp(&(float){ from_f16(known[i].h) }, &known[i].f,
		    sizeof(float)) == 0),
		    "f16 exact both ways: %a <-> 0x%04x", known[i].f,
		    known[i].h);

	for (h = 0; h < 0x10000; h++) {
		float x = from_f16((uint16_t)h);
		uint16_t back = to_f16(x);

		if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0) {
			/* NaN: quiet bit set, sign and payload kept */
			if (!isnan(x) || back != (h | 0x200))
				bad++;
		} else if (back != h) {
			bad++;
		}
	}
	tap_ok(bad == 0, "f16 -> f32 -> f16 is the identity on all 65536 "
	    "values (NaNs stay NaN with their sign)");

	/* Between consecutive positive halves h and h+1: the midpoint goes
	 * to the even one, anything above to h+1, below to h. */
	for (h = 0; h < 0x7bff; h++) {
		m = (from_f16((uint16_t)h) + from_f16((uint16_t)(h + 1))) / 2;
		if (to_f16(m) != (h & 1 ? h + 1 : h) ||
		    to_f16(nextafterf(m, INFINITY)) != h + 1 ||
		    to_f16(nextafterf(m, 0)) != h ||
		    to_f16(-m) != (0x8000 | (h & 1 ? h + 1 : h)))
			badround++;
	}
	tap_ok(badround == 0, "f16 rounding to nearest even at every "
	    "midpoint, subnormals included");
	tap_ok(to_f16(65519.99f) == 0x7bff && to_f16(65520.0f) == 0x7c00 &&
	    to_f16(1e10f) == 0x7c00 && to_f16(-1e10f) == 0xfc00,
	    "f16 overflow rounds to infinity from 65520 up");
	tap_ok(to_f16(0x1p-25f) == 0 && to_f16(0x1.000002p-25f) == 1 &&
	    to_f16(0x1.8p-24f) == 2 && to_f16(0x1.4p-23f) == 2 &&
	    to_f16(1e-10f) == 0 && to_f16(-1e-10f) == 0x8000,
	    "f16 underflow and subnormal ties");
	tap_ok(isnan(from_f16(to_f16(NAN))) && (to_f16(NAN) & 0x7c00) ==
	    0x7c00 && (to_f16(bits_f32(0x7f800001)) & 0x3ff) != 0,
	    "f16 NaN stays NaN, even with a payload only in the low bits");
}

// --- rng --------------------------------------------------------------------

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void
test_rng(void)
{
	struct rng a, b, saved, c1, c2, c3;
	uint32_t perm[1000], counts[3] = { 0 };
	double sum = 0, sum2 = 0, u, umin = 1, umax = 0;
	int i, same, moved, ok;

	/* known answers from an independent implementation */
	rng_seed(&a, 0);
	tap_ok(rng_u64(&a) == 0x99ec5f36cb75f2b4ULL &&
	    rng_u64(&a) == 0xbf6e1f784956452aULL &&
	    rng_u64(&a) == 0x1a5f849d4933e6e0ULL,
	    "rng: xoshiro256** known answers for seed 0");

	rng_seed(&a, 42);
	rng_seed(&b, 42);
	for (i = 0, same = 1; i < 1000; i++)
		same &= rng_u64(&a) == rng_u64(&b);
	tap_ok(same, "rng: same seed, same sequence");
	rng_seed(&b, 43);
	tap_ok(rng_u64(&a) != rng_u64(&b), "rng: different seeds differ");

	saved = a;
	for (i = 0; i < 100; i++)
		perm[i] = (uint32_t)rng_u64(&a) ^ rng_below(&a, 17) ^
		    (uint32_t)(rng_normal(&a) * 1000);
	a = saved;
	for (i = 0, same = 1; i < 100; i++)
		same &= perm[i] == ((uint32_t)rng_u64(&a) ^ rng_below(&a, 17) ^
		    (uint32_t)(rng_normal(&a) * 1000));
	tap_ok(same, "rng: a restored state continues identically");

	rng_seed(&a, 7);
	for (i = 0, ok = 1; i < 100000; i++) {
		ok &= rng_below(&a, 1) == 0 && rng_below(&a, 7) < 7 &&
		    rng_below(&a, 1000) < 1000;
		ok &= rng_below(&a, UINT32_MAX) < UINT32_MAX;
		counts[rng_below(&a, 3)]++;
	}
	tap_ok(ok, "rng_below stays below n");
	tap_ok(counts[0] > 32000 && counts[1] > 32000 && counts[2] > 32000,
	    "rng_below(3) is roughly uniform (%u %u %u)", counts[0],
	    counts[1], counts[2]);

	for (i = 0; i < 100000; i++) {
		u = rng_uniform(&a);
		umin = u < umin ? u : umin;
		umax = u > umax ? u : umax;
	}
	tap_ok(umin >= 0 && umax < 1 && umin < 1e-3 && umax > 1 - 1e-3,
	    "rng_uniform in [0, 1)");
	rng_seed(&a, 8);
	for (i = 0; i < 100000; i++) {
		u = rng_normal(&a);
		sum += u;
		sum2 += u * u;
	}
	tap_ok(tap_close(sum / 1e5, 0, 0.02, 0) &&
	    tap_close(sum2 / 1e5, 1, 0.02, 0),
	    "rng_normal has mean 0 and variance 1 (%.4f %.4f)", sum / 1e5,
	    sum2 / 1e5);

	for (i = 0; i < 1000; i++)
		perm[i] = (uint32_t)i;
	rng_shuffle(&a, perm, 1000);
	for (i = 0, moved = 0; i < 1000; i++)
		moved += perm[i] != (uint32_t)i;
	qsort(perm, 1000, sizeof perm[0], cmp_u32);
	for (i = 0, ok = 1; i < 1000; i++)
		ok &= perm[i] == (uint32_t)i;
	tap_ok(ok && moved > 900, "rng_shuffle gives a permutation");

	rng_seed(&a, 9);
	saved = a;
	rng_split(&a, &c1, 3);
	rng_split(&a, &c2, 4);
	rng_split(&a, &c3, 3);
	tap_ok(memcmp(&a, &saved, sizeof a) == 0 &&
	    memcmp(&c1, &c3, sizeof c1) == 0 && rng_u64(&c1) != rng_u64(&c2) &&
	    rng_u64(&c3) != rng_u64(&a),
	    "rng_split: deterministic, per-stream, parent untouched");
}

// --- atomic files -----------------------------------------------------------

/* The names in DIR other than . and .., joined by spaces, in BUF. */
static const char *
dir_listing(const char *dir, char *buf, size_t size)
{
	struct dirent *e;
	DIR *d = opendir(dir);

	if (d == NULL)
		die("%s:", dir);
	buf[0] = '\0';
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (buf[0] != '\0')
			strncat(buf, " ", size - strlen(buf) - 1);
		strncat(buf, e->d_name, size - strlen(buf) - 1);
	}
	closedir(d);
	return buf;
}

static void
test_atomic(void)
{
	char dir[4200], path[4300], list[512], got[16] = { 0 };
	struct atomic_file af;
	struct stat st;
	mode_t mask;
	pid_t pid;
	int status;
	FILE *f;

	snprintf(dir, sizeof dir, "%s/atomic", tmpdir);
	if (mkdir(dir, 0777) != 0)
		die("%s:", dir);
	snprintf(path, sizeof path, "%s/out.bin", dir);

	f = atomic_open(&af, path);
	fputs("new", f);
	tap_ok(stat(path, &st) != 0, "atomic: nothing at the path before "
	    "commit");
	atomic_commit(&af);
	mask = umask(0);
	umask(mask);
	f = fopen(path, "rb");
	tap_ok(f != NULL && fread(got, 1, sizeof got, f) == 3 &&
	    strcmp(got, "new") == 0 &&
	    strcmp(dir_listing(dir, list, sizeof list), "out.bin") == 0,
	    "atomic_commit leaves exactly the file (%s)", list);
	if (f != NULL)
		fclose(f);
	tap_ok(stat(path, &st) == 0 && (st.st_mode & 0777) == (0666 & ~mask),
	    "atomic_commit gives the file the usual permissions");

	f = atomic_open(&af, path);
	fputs("half-written", f);
	atomic_abort(&af);
	f = fopen(path, "rb");
	memset(got, 0, sizeof got);
	tap_ok(f != NULL && fread(got, 1, sizeof got, f) == 3 &&
	    strcmp(got, "new") == 0 &&
	    strcmp(dir_listing(dir, list, sizeof list), "out.bin") == 0,
	    "atomic_abort leaves the old file alone and no temporary");
	if (f != NULL)
		fclose(f);

	unlink(path);
	f = atomic_open(&af, path);
	atomic_abort(&af);
	tap_ok(strcmp(dir_listing(dir, list, sizeof list), "") == 0,
	    "atomic_abort of a new file leaves nothing");

	/* die() half-way through two writes removes both temporaries */
	fflush(stdout);
	if ((pid = fork()) < 0)
		die("fork:");
	if (pid == 0) {
		struct atomic_file af2;

		freopen("/dev/null", "w", stderr);
		fputs("x", atomic_open(&af, path));
		fputs("y", atomic_open(&af2, path));
		die("stopping on purpose");
	}
	waitpid(pid, &status, 0);
	tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 1 &&
	    strcmp(dir_listing(dir, list, sizeof list), "") == 0,
	    "die() removes every open temporary (%s)", list);
	rmdir(dir);
}

// --- fixtures for numpy -----------------------------------------------------

static void
write_fixtures(const char *dir)
{
	static const float f16src[6] = { 0.0f, 1.0f, -2.5f, 65504.0f,
	    0x1p-24f, 0.333251953125f };
	static const float w[4] = { 1, 2, 3, 4 };
	static const unsigned char bytes[3] = { 7, 8, 9 };
	static char *keys[] = { "classes", "note" };
	static char *vals[] = { "[\"a\", \"b\"]", "µm\n" };
	char path[4200];
	float f32[24];
	unsigned char u8[35];
	uint16_t f16[6];
	int64_t i64 = -1234567890123LL;
	struct tensor t = { 0 };
	struct tensor st[2] = {
		{ "w", DTYPE_F32, 2, { 2, 2 }, (void *)w },
		{ "b", DTYPE_U8, 1, { 3 }, (void *)bytes },
	};
	int i;

	for (i = 0; i < 24; i++)
		f32[i] = i * 0.25f - 3;
	for (i = 0; i < 35; i++)
		u8[i] = (unsigned char)(i * 37);
	f32_to_f16(f16, f16src, 6);

	t = (struct tensor){ NULL, DTYPE_F32, 3, { 2, 3, 4 }, f32 };
	snprintf(path, sizeof path, "%s/f32.npy", dir);
	npy_write(path, &t);
	t = (struct tensor){ NULL, DTYPE_U8, 2, { 5, 7 }, u8 };
	snprintf(path, sizeof path, "%s/u8.npy", dir);
	npy_write(path, &t);
	t = (struct tensor){ NULL, DTYPE_F16, 1, { 6 }, f16 };
	snprintf(path, sizeof path, "%s/f16.npy", dir);
	npy_write(path, &t);
	t = (struct tensor){ NULL, DTYPE_I64, 0, { 0 }, &i64 };
	snprintf(path, sizeof path, "%s/i64.npy", dir);
	npy_write(path, &t);
	snprintf(path, sizeof path, "%s/st.safetensors", dir);
	st_write(path, st, 2, keys, vals, 2);
}

int
main(int argc, char **argv)
{
	const char *base = getenv("TMPDIR");

	setprogname(argv[0]);
	if (argc == 3 && strcmp(argv[1], "--write-npy") == 0) {
		write_fixtures(argv[2]);
		return 0;
	}
	if (argc != 1)
		die("usage: test_formats [--write-npy DIR]");

	snprintf(tmpdir, sizeof tmpdir, "%s/test_formats.XXXXXX",
	    base && *base ? base : "/tmp");
	if (mkdtemp(tmpdir) == NULL)
		die("%s:", tmpdir);
	test_npy();
	test_safetensors();
	test_f16();
	test_rng();
	test_atomic();
	unlink(tmp_path("a.npy"));
	unlink(tmp_path("s.npy"));
	unlink(tmp_path("m.safetensors"));
	unlink(tmp_path("o.safetensors"));
	rmdir(tmpdir);
	return tap_done();
}
