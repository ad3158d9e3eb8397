/*
 * tensor.c - dtype tables, tensor sizes and binary16 conversion.
 *
 * The fp16 conversion is done with integer arithmetic on the bit patterns
 * rather than with _Float16 or F16C, so that it is exact and identical on
 * every compiler and CPU: models store F16 weights and the same file must
 * give the same floats everywhere.
 */
#include "tensor.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "smearseg stores tensors in host order and needs a little-endian host"
#endif

static const struct {
	const char *name;
	size_t size;
} dtype_table[] = {
	[DTYPE_F32] = { "F32", 4 },
	[DTYPE_F16] = { "F16", 2 },
	[DTYPE_F64] = { "F64", 8 },
	[DTYPE_U8]  = { "U8",  1 },
	[DTYPE_I32] = { "I32", 4 },
	[DTYPE_I64] = { "I64", 8 },
};
static_assert(DTYPE_COUNT == 6, "update dtype_table for the new dtype");
static_assert(sizeof(dtype_table) / sizeof(dtype_table[0]) == DTYPE_COUNT,
    "dtype_table and enum dtype differ");

size_t
dtype_size(enum dtype dt)
{
	assert((unsigned)dt < DTYPE_COUNT);
	return dtype_table[dt].size;
}

const char *
dtype_name(enum dtype dt)
{
	assert((unsigned)dt < DTYPE_COUNT);
	return dtype_table[dt].name;
}

int
dtype_from_name(const char *name)
{
	int i;

	for (i = 0; i < DTYPE_COUNT; i++)
		if (strcmp(dtype_table[i].name, name) == 0)
			return i;
	return -1;
}

int
tensor_check_size(const struct tensor *t, size_t *nbytes)
{
	size_t n;
	int i;

	if (t->ndim < 0 || t->ndim > TENSOR_MAX_DIMS ||
	    (unsigned)t->dtype >= DTYPE_COUNT)
		return -1;
	n = dtype_size(t->dtype);
	for (i = 0; i < t->ndim; i++) {
		if (t->shape[i] < 0)
			return -1;
		if (t->shape[i] != 0 && n > SIZE_MAX / (uint64_t)t->shape[i])
			return -1;
		n *= (size_t)t->shape[i];
	}
	*nbytes = n;
	return 0;
}

size_t
tensor_nbytes(const struct tensor *t)
{
	size_t n;

	if (tensor_check_size(t, &n) != 0)
		die("tensor %s: invalid shape or size overflow",
		    t->name ? t->name : "(unnamed)");
	return n;
}

size_t
tensor_numel(const struct tensor *t)
{
	return tensor_nbytes(t) / dtype_size(t->dtype);
}

void
tensor_free(struct tensor *t)
{
	free(t->name);
	free(t->data);
	t->name = NULL;
	t->data = NULL;
}

// --- binary16 ---------------------------------------------------------------

static uint16_t
f32_bits_to_f16(uint32_t x)
{
	uint32_t sign = (x >> 16) & 0x8000;
	uint32_t ax = x & 0x7fffffff;
	uint32_t h, rem, mant, shift, half;

	if (ax >= 0x7f800000) {                 /* inf or NaN */
		if (ax == 0x7f800000)
			return sign | 0x7c00;
		return sign | 0x7e00 | ((ax >> 13) & 0x3ff);
	}
	if (ax >= 0x477ff000)                   /* >= 65520: rounds to inf */
		return sign | 0x7c00;
	if (ax < 0x38800000) {                  /* below 2^-14: subnormal */
		if (ax <= 0x33000000)           /* <= 2^-25: rounds to 0 */
			return sign;
		/* value = mant * 2^(e-150); in units of 2^-24 that is
		 * mant >> (126 - e), rounded to nearest even. */
		mant = (ax & 0x7fffff) | 0x800000;
		shift = 126 - (ax >> 23);
		h = mant >> shift;
		rem = mant & ((1u << shift) - 1);
		half = 1u << (shift - 1);
		if (rem > half || (rem == half && (h & 1)))
			h++;            /* may carry into 0x400: right */
		return sign | h;
	}
	/* Normal: rebias the exponent (127 - 15 = 112) and drop 13 bits. */
	h = (ax - 0x38000000) >> 13;
	rem = ax & 0x1fff;
	if (rem > 0x1000 || (rem == 0x1000 && (h & 1)))
		h++;                            /* a carry bumps the exponent */
	return sign | h;
}

static uint32_t
f16_bits_to_f32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000) << 16;
	int e = (h >> 10) & 0x1f;
	uint32_t m = h & 0x3ff;

	if (e == 0x1f)
		return sign | 0x7f800000 | (m << 13);
	if (e == 0) {
		if (m == 0)
			return sign;
		/* Subnormal m * 2^-24: normalise so that bit 10 is set. */
		e = 1;
		while (!(m & 0x400)) {
			m <<= 1;
			e--;
		}
		m &= 0x3ff;
	}
	return sign | ((uint32_t)(e + 112) << 23) | (m << 13);
}

void
f32_to_f16(uint16_t *dst, const float *src, size_t n)
{
	uint32_t x;
	size_t i;

	for (i = 0; i < n; i++) {
		memcpy(&x, &src[i], sizeof x);
		dst[i] = f32_bits_to_f16(x);
	}
}

void
f16_to_f32(float *dst, const uint16_t *src, size_t n)
{
	uint32_t x;
	size_t i;

	for (i = 0; i < n; i++) {
		x = f16_bits_to_f32(src[i]);
		memcpy(&dst[i], &x, sizeof x);
	}
}
