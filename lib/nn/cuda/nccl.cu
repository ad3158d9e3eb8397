/*
 * nccl.cu - the gradient allreduce in device memory over NCCL, for
 * data-parallel training with one GPU per rank (see mpi/comm.h for the
 * contract with the MPI layer).
 *
 * The MPI layer sets it up once: rank 0's ncclUniqueId reaches the other
 * ranks through the caller's broadcast (MPI), and every rank joins the
 * communicator.  It refuses, on every rank alike, and the MPI layer keeps
 * its host path, when on some host the ranks outnumber the GPUs (ranks
 * that share a GPU: NCCL takes one rank per device).
 *
 * cuda_allreduce_mean records an event on the backend's stream after the
 * backward kernels that wrote the bucket, and enqueues ncclAllReduce with
 * ncclAvg on a second stream that waits for that event: the allreduce
 * runs while the stream computes the next layers' gradients (which write
 * other parts of the buffer), with no host synchronisation; the mean is
 * taken by NCCL, per bucket, on the device.  cuda_allreduce_wait makes
 * the backend's stream wait for the last allreduce (they run in order on
 * their stream), before Adam reads the gradients.
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
static cudaStream_t comm_stream;
static cudaEvent_t ready, done;

int
cuda_collective_init(int rank, int size, int local_size,
    void (*bcast)(void *buf, size_t bytes), int (*all_ok)(int ok),
    char *why, size_t whylen)
{
	ncclUniqueId id;
	int ndev = 0;

	CUDA_CHECK(cudaGetDeviceCount(&ndev));
	// every rank takes the same way, or the broadcast below would hang
	if (!all_ok(local_size <= ndev)) {
		snprintf(why, whylen, "ranks share a GPU (here %d ranks, %d "
		    "GPU%s)", local_size, ndev, ndev == 1 ? "" : "s");
		return -1;
	}
	if (rank == 0)
		NCCL_CHECK(ncclGetUniqueId(&id));
	bcast(&id, sizeof id);
	NCCL_CHECK(ncclCommInitRank(&comm, size, id, rank));
	CUDA_CHECK(cudaStreamCreateWithFlags(&comm_stream,
	    cudaStreamNonBlocking));
	CUDA_CHECK(cudaEventCreateWithFlags(&ready, cudaEventDisableTiming));
	CUDA_CHECK(cudaEventCreateWithFlags(&done, cudaEventDisableTiming));
	have_comm = 1;
	return 0;
}

void
cuda_allreduce_mean(float *buf, size_t n)
{
	CUDA_CHECK(cudaEventRecord(ready, cuda_stream));
	CUDA_CHECK(cudaStreamWaitEvent(comm_stream, ready, 0));
	NCCL_CHECK(ncclAllReduce(buf, buf, n, ncclFloat, ncclAvg, comm,
	    comm_stream));
	CUDA_CHECK(cudaEventRecord(done, comm_stream));
}

void
cuda_allreduce_wait(void)
{
	CUDA_CHECK(cudaStreamWaitEvent(cuda_stream, done, 0));
}

void
cuda_collective_free(void)
{
	if (have_comm) {
		CUDA_CHECK(cudaStreamSynchronize(comm_stream));
		NCCL_CHECK(ncclCommDestroy(comm));
		CUDA_CHECK(cudaEventDestroy(ready));
		CUDA_CHECK(cudaEventDestroy(done));
		CUDA_CHECK(cudaStreamDestroy(comm_stream));
		have_comm = 0;
	}
}
#else
int
cuda_collective_init(int rank, int size, int local_size,
    void (*bcast)(void *buf, size_t bytes), int (*all_ok)(int ok),
    char *why, size_t whylen)
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
cuda_allreduce_wait(void)
{
}

void
cuda_collective_free(void)
{
}
#endif
