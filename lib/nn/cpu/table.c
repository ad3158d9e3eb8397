/*
 * table.c - the CPU backend's op table, its lifetime and memory functions.
 *
 * Filled with designated initializers (ggml's backend interfaces do the
 * same), so a missing entry is a NULL that the op tests catch, and the
 * order of struct nn_ops can change without silent mix-ups.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "nn/cpu/cpu.h"

static void *
cpu_alloc(size_t bytes)
{
	/* 64-byte alignment for the GEMM kernels' vector loads. */
	void *p;

	if (bytes == 0)
		bytes = 1;
	if (posix_memalign(&p, 64, bytes) != 0)
		die("out of memory (%zu bytes)", bytes);
	memset(p, 0, bytes);
	return p;
}

static void
cpu_free(void *p)
{
	free(p);
}

static void
cpu_zero(void *p, size_t bytes)
{
	memset(p, 0, bytes);
}

/* The CPU has one precision; host threads are set by nn/backend.c. */
static int
cpu_init(const struct nn_backend_opts *o, char *why, size_t whylen)
{
	if (o->precision != NN_PREC_FP32)
		die("the cpu device computes in fp32 only, not %s",
		    nn_precision_name(o->precision));
	return 0;
}

/* Every op has returned when it returns: nothing to wait for. */
static void
cpu_sync(void)
{
}

static const char *
cpu_describe(void)
{
	static char s[64];

	snprintf(s, sizeof s, "cpu (%d thread%s)", cpu_threads(),
	    cpu_threads() > 1 ? "s" : "");
	return s;
}

static void
cpu_copy(void *dst, const void *src, size_t bytes)
{
	if (dst != src)
		memcpy(dst, src, bytes);
}

const struct nn_ops nn_ops_cpu = {
	.name = "cpu",
	.host_memory = 1,
	.init = cpu_init,
	.shutdown = cpu_scratch_free,
	.sync = cpu_sync,
	.describe = cpu_describe,
	.alloc = cpu_alloc,
	.free = cpu_free,
	.zero = cpu_zero,
	.upload = cpu_copy,
	.download = cpu_copy,
	.conv3x3_forward = cpu_conv3x3_forward,
	.conv3x3_infer = cpu_conv3x3_infer,
	.conv3x3_backward = cpu_conv3x3_backward,
	.conv1x1_forward = cpu_conv1x1_forward,
	.conv1x1_backward = cpu_conv1x1_backward,
	.convt2x2_forward = cpu_convt2x2_forward,
	.convt2x2_backward = cpu_convt2x2_backward,
	.maxpool2x2_forward = cpu_maxpool2x2_forward,
	.maxpool2x2_backward = cpu_maxpool2x2_backward,
	.act_forward = cpu_act_forward,
	.act_backward = cpu_act_backward,
	.groupnorm_forward = cpu_groupnorm_forward,
	.groupnorm_backward = cpu_groupnorm_backward,
	.xent_forward = cpu_xent_forward,
	.xent_backward = cpu_xent_backward,
	.softmax_forward = cpu_softmax_forward,
	.adam_update = cpu_adam_update,
	.add = cpu_add,
};
