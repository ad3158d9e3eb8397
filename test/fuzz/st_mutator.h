/*
 * st_mutator.h - a structure-aware mutator for safetensors inputs: the
 * JSON header is parsed and one thing in it changed (a metadata value, a
 * tensor's dtype, shape or offsets, a key dropped or added), the data
 * bytes kept, and the length field rewritten; an input that is not a
 * safetensors file gets libFuzzer's own byte mutations.  So a valid model
 * or checkpoint stays loadable often enough that its loader's later
 * checks (architecture, class table, normalisation, Adam state, history)
 * are reached, and the network built from it is run.
 */
#ifndef SMEARSEG_ST_MUTATOR_H
#define SMEARSEG_ST_MUTATOR_H

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

static const char *const st_dtypes[] = { "F32", "F16", "F64", "U8", "I32",
    "I64", "BF16", "" };

/* The I-th key of object O. */
static const char *
st_nth_key(json_t *o, size_t i)
{
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v)
		if (i-- == 0)
			return k;
	return NULL;
}

/* Change one thing in header H (R: random bits). */
static void
st_mutate_header(json_t *h, unsigned r)
{
	json_t *meta = json_object_get(h, "__metadata__");
	size_t n = json_object_size(h);
	const char *k = n ? st_nth_key(h, (r >> 4) % n) : NULL;
	json_t *t = k ? json_object_get(h, k) : NULL, *a;
	char buf[4096];
	size_t len;

	switch (r % 8) {
	case 0:
	case 1:         /* a metadata value, byte-mutated */
		if (!json_is_object(meta) || json_object_size(meta) == 0)
			break;
		k = st_nth_key(meta, (r >> 4) % json_object_size(meta));
		a = json_object_get(meta, k);
		if (!json_is_string(a))
			break;
		len = json_string_length(a);
		if (len > sizeof buf)
			len = sizeof buf;
		memcpy(buf, json_string_value(a), len);
		len = LLVMFuzzerMutate((uint8_t *)buf, len, sizeof buf);
		json_object_set_new(meta, k, json_stringn_nocheck(buf, len));
		break;
	case 2:         /* a dtype */
		if (json_is_object(t) && strcmp(k, "__metadata__") != 0)
			json_object_set_new(t, "dtype", json_string(
			    st_dtypes[(r >> 12) % 8]));
		break;
	case 3:         /* a dimension */
		if (json_is_object(t) && json_is_array(a = json_object_get(t,
		    "shape")) && json_array_size(a) > 0)
			json_array_set_new(a, (r >> 12) % json_array_size(a),
			    json_integer((json_int_t)((r >> 16) % 5 == 0 ?
			    (r >> 20) : (r >> 20) % 70)));
		break;
	case 4:         /* an offset */
		if (json_is_object(t) && json_is_array(a = json_object_get(t,
		    "data_offsets")) && json_array_size(a) == 2)
			json_array_set_new(a, (r >> 12) & 1, json_integer(
			    (json_int_t)(r >> 13) % 200000));
		break;
	case 5:         /* a key dropped */
		if (k != NULL)
			json_object_del(h, k);
		break;
	case 6:         /* a metadata key dropped */
		if (json_is_object(meta) && json_object_size(meta) > 0)
			json_object_del(meta, st_nth_key(meta, (r >> 4) %
			    json_object_size(meta)));
		break;
	case 7:         /* a dimension added or removed */
		if (json_is_object(t) && json_is_array(a = json_object_get(t,
		    "shape"))) {
			if ((r >> 12) & 1 && json_array_size(a) > 0)
				json_array_remove(a, json_array_size(a) - 1);
			else
				json_array_append_new(a, json_integer(1));
		}
		break;
	}
}

size_t
LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
    unsigned int seed)
{
	uint64_t hlen = 0;
	json_t *h;
	char *hs;
	size_t hn, dlen, out;
	int i;

	srand(seed);
	if (size >= 10 && rand() % 8 != 0) {
		for (i = 7; i >= 0; i--)
			hlen = hlen << 8 | data[i];
		if (hlen <= size - 8 && (h = json_loadb((const char *)data + 8,
		    hlen, 0, NULL)) != NULL && json_is_object(h)) {
			st_mutate_header(h, (unsigned)rand() ^
			    (unsigned)rand() << 15);
			hs = json_dumps(h, JSON_COMPACT | JSON_PRESERVE_ORDER);
			json_decref(h);
			if (hs == NULL)
				return size;
			hn = strlen(hs);
			dlen = size - 8 - hlen;
			if (8 + hn + dlen <= max_size) {
				memmove(data + 8 + hn, data + 8 + hlen, dlen);
				memcpy(data + 8, hs, hn);
				for (i = 0; i < 8; i++)
					data[i] = (uint8_t)((uint64_t)hn >>
					    (8 * i));
				out = 8 + hn + dlen;
				free(hs);
				return out;
			}
			free(hs);
		}
	}
	return LLVMFuzzerMutate(data, size, max_size);
}

#endif
