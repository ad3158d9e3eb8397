/*
 * tensor.h - the in-memory tensor shared by the file formats (.npy,
 * safetensors) and the network engine.
 *
 * A tensor is a dtype, a shape of at most TENSOR_MAX_DIMS dimensions and a
 * flat buffer in C order (last index fastest), little-endian, exactly as
 * it lies in both file formats, so that reading and writing never
 * reorders bytes.  The dtype names are the safetensors ones ("F32", ...).
 */
#ifndef SMEARSEG_TENSOR_H
#define SMEARSEG_TENSOR_H

#include <stddef.h>
#include <stdint.h>

enum dtype {
	DTYPE_F32,
	DTYPE_F16,
	DTYPE_F64,
	DTYPE_U8,
	DTYPE_I32,
	DTYPE_I64,
	DTYPE_COUNT
};

#define TENSOR_MAX_DIMS 8

struct tensor {
	char *name;             /* NULL for .npy, which has no names */
	enum dtype dtype;
	int ndim;               /* 0 (a scalar) .. TENSOR_MAX_DIMS */
	int64_t shape[TENSOR_MAX_DIMS];
	void *data;             /* tensor_nbytes() bytes, C order, LE */
};

size_t dtype_size(enum dtype dt);
/* The safetensors name ("F32", "F16", "F64", "U8", "I32", "I64"). */
const char *dtype_name(enum dtype dt);
/* The dtype called NAME, or -1 if there is none. */
int dtype_from_name(const char *name);

/* Number of elements (1 for a scalar) and of data bytes.  Both die if a
 * dimension is negative or the product overflows; readers call
 * tensor_check_size() first to report such a shape against their file. */
size_t tensor_numel(const struct tensor *t);
size_t tensor_nbytes(const struct tensor *t);
/* 0 with the byte count in *nbytes, or -1 if ndim is out of range, a
 * dimension is negative or the byte count overflows. */
int tensor_check_size(const struct tensor *t, size_t *nbytes);

/* Free the name and the data of a tensor that owns them (npy_read's
 * result); never call it on a tensor of a struct st_file. */
void tensor_free(struct tensor *t);

/* IEEE 754 binary16 <-> binary32, round to nearest even; infinities, NaNs
 * (quiet, sign and top payload bits kept) and subnormals are exact. */
void f32_to_f16(uint16_t *dst, const float *src, size_t n);
void f16_to_f32(float *dst, const uint16_t *src, size_t n);

#endif
