/*
 * ops.c - op names and the one place where a backend is chosen.
 *
 * The model never names a backend's functions; it asks nn_ops_get() for a
 * table once and calls through it.  A CUDA build adds one line here.
 */
#include <assert.h>
#include <string.h>

#include "nn/ops.h"
#include "nn/cpu/cpu.h"

static const char *const op_names[] = {
	[NN_OP_CONV3X3] = "conv3x3",
	[NN_OP_CONV1X1] = "conv1x1",
	[NN_OP_CONVT2X2] = "convt2x2",
	[NN_OP_MAXPOOL2X2] = "maxpool2x2",
	[NN_OP_CONCAT] = "concat",
	[NN_OP_ACT] = "act",
	[NN_OP_GROUPNORM] = "groupnorm",
	[NN_OP_XENT] = "xent",
	[NN_OP_ADAM] = "adam",
};
static_assert(NN_OP_COUNT == 9, "op_names needs a line for every op");
static_assert(sizeof(op_names) / sizeof(op_names[0]) == NN_OP_COUNT,
    "op_names and enum nn_op disagree");

const char *
nn_op_name(enum nn_op op)
{
	return (unsigned)op < NN_OP_COUNT ? op_names[op] : "?";
}

int
nn_op_lookup(const char *name)
{
	for (int i = 0; i < NN_OP_COUNT; i++)
		if (strcmp(op_names[i], name) == 0)
			return i;
	return -1;
}

const struct nn_ops *
nn_ops_get(const char *name)
{
	if (name == NULL || strcmp(name, "cpu") == 0)
		return &nn_ops_cpu;
	return NULL;
}
