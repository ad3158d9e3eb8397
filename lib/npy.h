/*
 * npy.h - NumPy .npy files, so that numpy.load() reads every tensor the
 * project writes and the project reads what numpy.save() writes.
 *
 * Written: format 1.0, little-endian, C order, header padded so that the
 * data starts at a multiple of 64 bytes.  Read: formats 1.0, 2.0 and 3.0
 * with the dtypes '<f4' '<f2' '<f8' '|u1' '<i4' '<i8'.  The layout is in
 * share/doc/tensor-format.md.  Every reader error is one line naming the
 * file and what was expected.
 */
#ifndef SMEARSEG_NPY_H
#define SMEARSEG_NPY_H

#include <stdio.h>

#include "tensor.h"

/* Write T to PATH atomically (see atomic.h); "-" writes standard output. */
void npy_write(const char *path, const struct tensor *t);
/* Write T to F at its current position; NAME is for error messages.
 * Several arrays written one after another make a stream that
 * npy_read_stream() reads back one at a time. */
void npy_write_stream(FILE *f, const char *name, const struct tensor *t);

/* Read the one array in PATH ("-": standard input) into T, which then owns
 * its data (free it with tensor_free()); t->name is NULL.  Dies if the file
 * is not exactly one valid array. */
void npy_read(const char *path, struct tensor *t);
/* Read the next array of a stream.  Returns 1 with T filled in as by
 * npy_read(), or 0 at a clean end of file before the next array.  NAME is
 * for error messages. */
int npy_read_stream(FILE *f, const char *name, struct tensor *t);

#endif
