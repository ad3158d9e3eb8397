/*
 * comm_mpi.c - the data-parallel layer on MPI (see comm.h).
 *
 * Every MPI call goes through MPI_CHECK, which turns a failure into one
 * message naming the call, the place and MPI's own error string, and then
 * aborts the job: the communicator's handler is MPI_ERRORS_RETURN so that
 * the check sees the codes.  Buffers larger than INT_MAX elements are sent
 * in chunks, since MPI counts are ints.
 */
#include "comm.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include <mpi.h>

#include "util.h"

static int mpi_rank, mpi_size, finalized = 1;
static char progname_buf[128];

/* Report a failed call and abort every rank. */
static void
mpi_fail(int err, const char *call, const char *file, int line)
{
	char msg[MPI_MAX_ERROR_STRING];
	int len = 0;

	MPI_Error_string(err, msg, &len);
	warn("%s:%d: %s failed: %s", file, line, call, msg);
	finalized = 1;
	MPI_Abort(MPI_COMM_WORLD, 1);
	exit(1);
}

#define MPI_CHECK(x) do { \
	int mpi_check_err_ = (x); \
	if (mpi_check_err_ != MPI_SUCCESS) \
		mpi_fail(mpi_check_err_, #x, __FILE__, __LINE__); \
} while (0)

/* exit() before comm_finalize (die(), or a stray exit) takes the whole job
 * down instead of leaving the other ranks waiting in a collective.  A
 * single process just finalizes, so its error stays one line. */
static void
abort_unfinished(void)
{
	if (finalized)
		return;
	finalized = 1;
	fflush(stderr);
	if (mpi_size > 1)
		MPI_Abort(MPI_COMM_WORLD, 1);
	else
		MPI_Finalize();         /* alone: nobody to wake, no banner */
}

void
comm_init(int *argc, char ***argv, struct comm *c)
{
	int inited = 0;

	MPI_Initialized(&inited);
	if (!inited)
		MPI_CHECK(MPI_Init(argc, argv));
	finalized = 0;
	atexit(abort_unfinished);
	MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
	MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &mpi_rank));
	MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &mpi_size));
	if (mpi_size > 1) {
		snprintf(progname_buf, sizeof progname_buf, "%s (rank %d)",
		    argv0, mpi_rank);
		argv0 = progname_buf;
	}
	c->rank = mpi_rank;
	c->size = mpi_size;
	/* the ranks sharing this host's memory (and GPUs) */
	MPI_Comm node;
	MPI_CHECK(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED,
	    mpi_rank, MPI_INFO_NULL, &node));
	MPI_CHECK(MPI_Comm_rank(node, &c->local_rank));
	MPI_CHECK(MPI_Comm_size(node, &c->local_size));
	MPI_CHECK(MPI_Comm_free(&node));
}

void
comm_finalize(void)
{
	if (finalized)
		return;
	finalized = 1;
	MPI_Finalize();
}

int
comm_have_mpi(void)
{
	return 1;
}

/* The sums over ranks in BUF[0..n) to means. */
static void
divide_by_size(float *buf, size_t n)
{
	float scale = 1.0f / mpi_size;

	for (size_t i = 0; i < n; i++)
		buf[i] *= scale;
}

void
comm_allreduce_mean(float *buf, size_t n)
{
	size_t off, k;

	if (mpi_size == 1)
		return;
	for (off = 0; off < n; off += k) {
		k = n - off > INT_MAX ? INT_MAX : n - off;
		MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, buf + off, (int)k,
		    MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD));
	}
	divide_by_size(buf, n);
}

/* The step in flight: buckets [lo_k, hi_k) numbered from the end of
 * grads, the first 'started' of them started, with one request each.
 * With backend memory (dev), buf is the host staging copy of dbuf. */
static struct {
	float *buf;
	size_t n, bucket, nb, started;
	MPI_Request *req;
	size_t cap;
	const struct comm_device *dev;
	float *dbuf;                    /* the gradients in backend memory */
	float *stage;                   /* host staging, stage_cap floats */
	size_t stage_cap;
} gs;

static void
bucket_start(size_t k)
{
	size_t hi = gs.n - k * gs.bucket;
	size_t lo = hi > gs.bucket ? hi - gs.bucket : 0;

	// a device collective is queued after the ops that wrote the bucket
	if (gs.dev != NULL && gs.dev->allreduce_mean != NULL) {
		gs.dev->allreduce_mean(gs.dbuf + lo, hi - lo);
		gs.req[k] = MPI_REQUEST_NULL;
		return;
	}
	// the download is ordered after the ops that wrote the bucket
	if (gs.dev != NULL)
		gs.dev->download(gs.buf + lo, gs.dbuf + lo,
		    (hi - lo) * sizeof(float));
	MPI_CHECK(MPI_Iallreduce(MPI_IN_PLACE, gs.buf + lo, (int)(hi - lo),
	    MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &gs.req[k]));
}

void
comm_grads_begin(float *buf, size_t n, size_t bucket,
    const struct comm_device *dev)
{
	gs.buf = buf;
	gs.n = n;
	gs.started = 0;
	gs.nb = 0;
	gs.dev = mpi_size > 1 ? dev : NULL;
	gs.dbuf = buf;
	if (gs.dev != NULL && gs.dev->allreduce_mean == NULL) {
		if (n > gs.stage_cap) {
			free(gs.stage);
			gs.stage = xmalloc_array(n, sizeof(float));
			gs.stage_cap = n;
		}
		gs.buf = gs.stage;
	}
	if (mpi_size == 1 || bucket == 0 || n == 0)
		return;                 /* all in comm_grads_end */
	if (bucket > INT_MAX)
		bucket = INT_MAX;
	gs.bucket = bucket;
	gs.nb = (n + bucket - 1) / bucket;
	if (gs.nb > gs.cap) {
		gs.req = xrealloc(gs.req, gs.nb * sizeof *gs.req);
		gs.cap = gs.nb;
	}
}

void
comm_grads_ready(size_t off)
{
	int flag;

	if (gs.nb == 0)
		return;
	// bucket k starts at n - (k + 1) * bucket (or 0 for the last one)
	while (gs.started < gs.nb &&
	    (gs.started + 1 == gs.nb ? off == 0 :
	    off <= gs.n - (gs.started + 1) * gs.bucket))
		bucket_start(gs.started++);
	if (gs.started > 0)
		MPI_CHECK(MPI_Testall((int)gs.started, gs.req, &flag,
		    MPI_STATUSES_IGNORE));
}

void
comm_grads_end(void)
{
	if (mpi_size == 1)
		return;
	if (gs.dev != NULL && gs.dev->allreduce_mean != NULL) {
		if (gs.nb == 0)
			gs.dev->allreduce_mean(gs.dbuf, gs.n);
		while (gs.started < gs.nb)
			bucket_start(gs.started++);
		gs.nb = 0;
		gs.dev->allreduce_wait();
		return;
	}
	if (gs.nb == 0) {
		if (gs.dev != NULL)
			gs.dev->download(gs.buf, gs.dbuf, gs.n * sizeof(float));
		comm_allreduce_mean(gs.buf, gs.n);
	} else {
		while (gs.started < gs.nb)
			bucket_start(gs.started++);
		MPI_CHECK(MPI_Waitall((int)gs.nb, gs.req,
		    MPI_STATUSES_IGNORE));
		divide_by_size(gs.buf, gs.n);
		gs.nb = 0;
	}
	if (gs.dev != NULL)
		gs.dev->upload(gs.dbuf, gs.buf, gs.n * sizeof(float));
}

void
comm_allreduce_sum_f64(double *buf, size_t n)
{
	if (mpi_size > 1)
		MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_DOUBLE,
		    MPI_SUM, MPI_COMM_WORLD));
}

void
comm_allreduce_sum_u64(uint64_t *buf, size_t n)
{
	if (mpi_size > 1)
		MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_UINT64_T,
		    MPI_SUM, MPI_COMM_WORLD));
}

void
comm_bcast(void *buf, size_t bytes)
{
	size_t off, k;

	if (mpi_size == 1)
		return;
	for (off = 0; off < bytes; off += k) {
		k = bytes - off > INT_MAX ? INT_MAX : bytes - off;
		MPI_CHECK(MPI_Bcast((char *)buf + off, (int)k, MPI_BYTE, 0,
		    MPI_COMM_WORLD));
	}
}

void
comm_barrier(void)
{
	if (mpi_size > 1)
		MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
}
