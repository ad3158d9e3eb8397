/*
 * comm_none.c - the data-parallel layer without MPI: one rank of one, and
 * every collective is the identity.  See comm.h.
 */
#include "comm.h"

void
comm_init(int *argc, char ***argv, struct comm *c)
{
	(void)argc, (void)argv;
	c->rank = c->local_rank = 0;
	c->size = c->local_size = 1;
}

void comm_finalize(void) {}
int comm_have_mpi(void) { return 0; }
void comm_allreduce_mean(float *buf, size_t n) { (void)buf, (void)n; }
void comm_allreduce_sum_f64(double *buf, size_t n) { (void)buf, (void)n; }
void comm_allreduce_sum_u64(uint64_t *buf, size_t n) { (void)buf, (void)n; }
void comm_grads_begin(float *buf, size_t n, size_t bucket,
    const struct comm_device *dev)
{
	(void)buf, (void)n, (void)bucket, (void)dev;
}
void comm_grads_ready(size_t off) { (void)off; }
void comm_grads_end(void) {}
void comm_bcast(void *buf, size_t bytes) { (void)buf, (void)bytes; }
void comm_barrier(void) {}
