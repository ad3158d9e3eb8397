/*
 * safetensors.h - the safetensors format, used for models and checkpoints.
 *
 * A file is an 8-byte little-endian header length N, N bytes of JSON
 *
 *	{"__metadata__": {"key": "value", ...},
 *	 "name": {"dtype": "F32", "shape": [3, 224], "data_offsets": [0, 2688]},
 *	 ...}
 *
 * padded with spaces to a multiple of 8, then the tensors' bytes, with
 * offsets relative to the end of the header.  The reader checks everything
 * (see share/doc/tensor-format.md); the writer escapes JSON strings so that
 * any UTF-8 text, JSON text included, survives as a metadata value.
 */
#ifndef SMEARSEG_SAFETENSORS_H
#define SMEARSEG_SAFETENSORS_H

#include <stddef.h>
#include <stdio.h>

#include "tensor.h"

struct st_file {
	int n;                  /* tensors, in header order */
	struct tensor *t;       /* names owned; data points into buf */
	int nmeta;              /* __metadata__ entries, in header order */
	char **meta_key;
	char **meta_val;
	void *buf;              /* the tensors' bytes, each naturally aligned */
};

/* Read and validate PATH ("-": standard input).  Dies with one line naming
 * the file and the problem.  Free the result with st_free(). */
void st_read(const char *path, struct st_file *f);
/* The same from the stream IN (named NAME), read no further than its
 * header says: a huge or endless input fails early. */
void st_fread(FILE *in, const char *name, struct st_file *f);
/* The same from LEN bytes at BUF, a malloc'd block that f takes over (or
 * frees); NAME is for messages.  For callers that already hold the file. */
void st_parse(const char *name, void *buf, size_t len, struct st_file *f);
/* The tensor called NAME, or NULL. */
const struct tensor *st_find(const struct st_file *f, const char *name);
/* The metadata value of KEY, or NULL. */
const char *st_meta(const struct st_file *f, const char *key);
void st_free(struct st_file *f);

/* NULL if KEY and VAL can be written as a metadata pair, else why not
 * (not UTF-8, an empty or too long key): for programs that take keys from
 * their users to check them before any work. */
const char *st_meta_problem(const char *key, const char *val);

/* Write the N tensors TS, in this order, and NMETA metadata pairs to PATH,
 * atomically ("-": standard output).  Names, keys and values must be valid
 * UTF-8; tensor names must be unique and non-empty.  Tensor data is packed
 * without padding, so putting wider dtypes first keeps every tensor
 * naturally aligned in the file (the reader realigns data if needed). */
void st_write(const char *path, const struct tensor *ts, int n,
    char *const *meta_key, char *const *meta_val, int nmeta);

#endif
