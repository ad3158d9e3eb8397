/*
 * nccl.cu - the gradient allreduce in device memory over NCCL, for
 * data-parallel training with one GPU per rank (see mpi/comm.h for the
 * contract with the MPI layer).
 *
 * The MPI layer sets it up once: rank 0's ncclUniqueId reaches the other
 * ranks through the caller's broadcast (MPI), and every rank joins the
 * communicator.  It refuses, and the MPI layer keeps its host path, when
 * the ranks of one host outnumber its GPUs (ranks that share a GPU:
 * NCCL takes one rank per device).
 *
 * cuda_allreduce_mean enqueues ncclAllReduce with ncclAvg on the backend's
 * stream: it runs after the backward kernels that wrote the bucket and
 * before anything queued later (Adam), with no host synchronisation; the
 * mean is taken by NCCL, per bucket, on the device.
 *
 * Compiled where nccl.h is found (the Makefile defines SMEARSEG_NCCL);
 * without it cuda_collective_init reports that NCCL is not built.
 */
#include <stdio.h>

#include "nn/cuda/common.cuh"

#if SMEARSEG_NCCL
#include <nccl.h>

#define NCCL_CHECK(x) CHECK_GEN(x, ncclResult_t, ncclSuccess, \
	ncclGetErrorString)

static ncclComm_t comm;
static int have_comm;

int
cuda_collective_init(int rank, int size, int local_size,
    void (*bcast)(void *buf, size_t bytes), char *why, size_t whylen)
{
	ncclUniqueId id;
	int ndev = 0;

	CUDA_CHECK(cudaGetDeviceCount(&ndev));
	if (local_size > ndev) {
		snprintf(why, whylen, "%d ranks share %d GPU%s on this host",
		    local_size, ndev, ndev == 1 ? "" : "s");
		return -1;
	}
	if (rank == 0)
		NCCL_CHECK(ncclGetUniqueId(&id));
	bcast(&id, sizeof id);
	NCCL_CHECK(ncclCommInitRank(&comm, size, id, rank));
	have_comm = 1;
	return 0;
}

void
cuda_allreduce_mean(float *buf, size_t n)
{
	NCCL_CHECK(ncclAllReduce(buf, buf, n, ncclFloat, ncclAvg, comm,
	    cuda_stream));
}

void
cuda_collective_free(void)
{
	if (have_comm) {
		NCCL_CHECK(ncclCommDestroy(comm));
		have_comm = 0;
	}
}
#else
int
cuda_collective_init(int rank, int size, int local_size,
    void (*bcast)(void *buf, size_t bytes), char *why, size_t whylen)
{
	snprintf(why, whylen, "built without NCCL");
	return -1;
}

void
cuda_allreduce_mean(float *buf, size_t n)
{
	die("cuda_allreduce_mean without NCCL");
}

void
cuda_collective_free(void)
{
}
#endif
