/*
 * backend.h - the one place where a backend is opened by name.
 *
 * A program opens its backend once, before it builds a network, and
 * closes it at the end:
 *
 *	struct nn_backend_opts o = { .threads = 2, .device = 0,
 *	    .precision = NN_PREC_FP32 };
 *	const struct nn_ops *ops = nn_backend_open("cpu", &o);
 *	... unet_create(arch, B, train, ops) ...
 *	nn_backend_close(ops);
 *
 * Opening sets the host thread count (OpenMP, every backend uses it for
 * host work), and runs the backend's init: the CUDA backend picks its
 * device, creates its stream and cuBLAS handle and sets the GEMM
 * precision there.  Closing frees what the backend kept between calls
 * (the CPU backend's scratch buffers, the CUDA backend's arena and
 * handles).  The CPU backend is always built; the list of built backends
 * is nn_backend_names().
 */
#ifndef SMEARSEG_NN_BACKEND_H
#define SMEARSEG_NN_BACKEND_H

#include "nn/ops.h"

/* The backend called NAME, opened with O (NULL: 1 thread, device 0,
 * FP32).  Dies naming the built backends if there is none of that name,
 * and with the backend's reason if it cannot run here (a CUDA build on a
 * machine without a GPU). */
const struct nn_ops *nn_backend_open(const char *name,
    const struct nn_backend_opts *o);
/* As nn_backend_open, but returns NULL with the reason in WHY (WHYLEN
 * bytes) where that dies: for tests that skip an absent backend. */
const struct nn_ops *nn_backend_try(const char *name,
    const struct nn_backend_opts *o, char *why, size_t whylen);
void nn_backend_close(const struct nn_ops *ops);

/* BYTES of host memory that OPS's upload and download move fastest
 * (ops.h host_alloc), or malloc's; dies where there is none. */
void *nn_host_alloc(const struct nn_ops *ops, size_t bytes);
void nn_host_free(const struct nn_ops *ops, void *p);

/* The table of the backend called NAME without opening it, or NULL. */
const struct nn_ops *nn_backend_find(const char *name);
/* "cpu" or "cpu, cuda": the backends this build has. */
const char *nn_backend_names(void);

#endif
