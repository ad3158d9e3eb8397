/*
 * ops.c - the names of the ops and of the GEMM precisions, for the tests'
 * filters, options and messages.  Backends are opened in nn/backend.c.
 */
#include <assert.h>
#include <string.h>

#include "nn/ops.h"

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

static const char *const prec_names[] = {
	[NN_PREC_FP32] = "fp32",
	[NN_PREC_TF32] = "tf32",
	[NN_PREC_BF16] = "bf16",
};
static_assert(sizeof(prec_names) / sizeof(prec_names[0]) == NN_PREC_COUNT,
    "prec_names and enum nn_precision disagree");

const char *
nn_precision_name(enum nn_precision p)
{
	return (unsigned)p < NN_PREC_COUNT ? prec_names[p] : "?";
}

int
nn_precision_lookup(const char *name)
{
	for (int i = 0; i < NN_PREC_COUNT; i++)
		if (strcmp(prec_names[i], name) == 0)
			return i;
	return -1;
}
