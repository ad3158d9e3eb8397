/*
 * comm.h - the data-parallel layer of unet-train.
 *
 * Under `mpirun -np N unet-train ...` every rank holds a full replica of
 * the model and trains on its shard of the data; after each backward pass
 * the gradients, kept in one contiguous buffer, are averaged with one
 * MPI_Allreduce, so every replica takes the same Adam step.  Rank 0 alone
 * logs and writes checkpoints.
 *
 * Built without MPI (comm_none.c) the same calls exist and do nothing:
 * rank 0 of 1, so the single-process path is the same code.
 *
 * Failure: a rank that dies through die() (or exits in any other way
 * before comm_finalize) aborts the whole job with MPI_Abort, and its
 * messages carry "rank R", so that no rank hangs in a collective waiting
 * for a partner that is gone.
 */
#ifndef SMEARSEG_COMM_H
#define SMEARSEG_COMM_H

#include <stddef.h>
#include <stdint.h>

struct comm {
	int rank;
	int size;
	int local_rank;         /* rank among the ranks of this host */
	int local_size;         /* ranks on this host */
};

/* Start the layer; names the program "PROG (rank R)" when size > 1. */
void comm_init(int *argc, char ***argv, struct comm *c);
void comm_finalize(void);
/* 1 if the layer was built with MPI. */
int comm_have_mpi(void);

/* BUF[0..n) = mean over ranks of BUF[0..n), in place. */
void comm_allreduce_mean(float *buf, size_t n);
/* In-place sums of doubles and of 64-bit counts (metrics). */
void comm_allreduce_sum_f64(double *buf, size_t n);
void comm_allreduce_sum_u64(uint64_t *buf, size_t n);
/*
 * Bucketed averaging overlapped with the backward pass.  The backward
 * pass fills the gradient buffer from its end towards its start; the
 * buffer is cut, from the end, into buckets of BUCKET floats (fixed
 * boundaries, so the result does not depend on timing), and each bucket's
 * MPI_Iallreduce starts as soon as the backward pass has finished it:
 *
 *	comm_grads_begin(grads, n, bucket, dev);
 *	... backward, calling comm_grads_ready(off) whenever
 *	    grads[off..n) is final ...
 *	comm_grads_end();       (starts the rest, waits, divides by size)
 *
 * comm_grads_ready also tests the requests in flight, which lets an MPI
 * without a progress thread move the messages on between layers.
 * BUCKET 0 is one allreduce at comm_grads_end, as comm_allreduce_mean.
 *
 * Backend memory (DEV not NULL: the gradients are device memory of an
 * asynchronous backend; unet-train passes NULL for the CPU backend, whose
 * path is unchanged).  The contract with the backend (nn/ops.h,
 * Ordering):
 *   - "grads[off..n) is final" means that the ops which write it have been
 *     QUEUED, not that they have run: unet_backward calls
 *     comm_grads_ready right after queuing a layer's backward ops.  A
 *     bucket counts as finished on the backend's stream only once an
 *     operation ordered after those ops has completed: on the host
 *     path, the bucket's download, which the backend orders after every
 *     op queued before it and which returns when the host copy may be
 *     read; with a device collective (below), the collective itself,
 *     queued on the same stream.  (Another agent reading the device
 *     memory would call the backend's sync() first.)
 *   - The host path downloads each bucket into a host staging buffer of
 *     n floats, allreduces the staged copy, and at comm_grads_end divides
 *     the sums by the number of ranks ON THE HOST and uploads the means
 *     in one piece: the mean is taken in one place, after the sum, for
 *     every backend, so the result is the same as the CPU path's up to
 *     the order of the sums.
 *   - comm_grads_end returns when the means are in grads on the backend
 *     (the upload is ordered before any later op), so Adam may follow.
 *
 * Device collective (DEV->allreduce_mean set: NCCL, one GPU per rank).
 * Each finished bucket's allreduce is started right away on the device,
 * after the kernels queued so far (an event on the backend's stream, so
 * no host synchronisation) and beside the kernels of the layers still to
 * come, which write other parts of the buffer; the mean is taken by the
 * collective itself (NCCL's ncclAvg), per bucket, on the device.
 * comm_grads_end calls DEV->allreduce_wait, which orders everything
 * queued after it (Adam, the next step's zeroing) after the last
 * allreduce.  Nothing is staged, downloaded or uploaded.
 */
struct comm_device {
	void (*download)(void *host_dst, const void *src, size_t bytes);
	void (*upload)(void *dst, const void *host_src, size_t bytes);
	void (*allreduce_mean)(float *buf, size_t n);   /* or NULL */
	void (*allreduce_wait)(void);
};

void comm_grads_begin(float *buf, size_t n, size_t bucket,
    const struct comm_device *dev);
void comm_grads_ready(size_t off);
void comm_grads_end(void);

/* Copy BYTES bytes of BUF from rank 0 to every rank. */
void comm_bcast(void *buf, size_t bytes);
void comm_barrier(void);

#endif
