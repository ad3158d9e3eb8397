/*
 * table.c - the CUDA backend's op table (see cuda.h), filled with
 * designated initializers as the CPU one.  There is no conv3x3_infer:
 * inference uses the training conv, whose GEMMs are cuBLAS's.
 */
#include "nn/cuda/cuda.h"

const struct nn_ops nn_ops_cuda = {
	.name = "cuda",
	.host_memory = 0,
	.init = cuda_init,
	.shutdown = cuda_shutdown,
	.sync = cuda_sync,
	.describe = cuda_describe,
	.collective_init = cuda_collective_init,
	.allreduce_mean = cuda_allreduce_mean,
	.allreduce_wait = cuda_allreduce_wait,
	.alloc = cuda_alloc,
	.free = cuda_free,
	.zero = cuda_zero,
	.upload = cuda_upload,
	.download = cuda_download,
	.host_alloc = cuda_host_alloc,
	.host_free = cuda_host_free,
	.conv3x3_forward = cuda_conv3x3_forward,
	.conv3x3_infer = NULL,
	.conv3x3_backward = cuda_conv3x3_backward,
	.conv1x1_forward = cuda_conv1x1_forward,
	.conv1x1_backward = cuda_conv1x1_backward,
	.convt2x2_forward = cuda_convt2x2_forward,
	.convt2x2_backward = cuda_convt2x2_backward,
	.maxpool2x2_forward = cuda_maxpool2x2_forward,
	.maxpool2x2_backward = cuda_maxpool2x2_backward,
	.act_forward = cuda_act_forward,
	.act_backward = cuda_act_backward,
	.groupnorm_forward = cuda_groupnorm_forward,
	.groupnorm_backward = cuda_groupnorm_backward,
	.xent_forward = cuda_xent_forward,
	.xent_backward = cuda_xent_backward,
	.softmax_forward = cuda_softmax_forward,
	.adam_update = cuda_adam_update,
	.add = cuda_add,
};
