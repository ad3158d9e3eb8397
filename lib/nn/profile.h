/*
 * profile.h - time each op of a backend, for SMEARSEG_PROFILE=1.
 *
 * nn_backend_try wraps the backend it opens when the environment has
 * SMEARSEG_PROFILE set (not empty), and nn_backend_close prints the report
 * on standard error:
 *
 *	profile: cuda 0: NVIDIA H200 (...), tf32: 1.234 s in 40 kinds of op
 *	profile:  31.2%   385.100 ms     120 calls  conv3x3 backward 224x224 64->32  ...
 */
#ifndef SMEARSEG_NN_PROFILE_H
#define SMEARSEG_NN_PROFILE_H

#include <stdio.h>

#include "nn/ops.h"

/* A copy of OPS whose ops are timed; OPS itself if another backend is
 * timed already (one backend per program is). */
const struct nn_ops *nn_profile_wrap(const struct nn_ops *ops);
/* Forget the times so far (after a benchmark's warm-up steps); nothing
 * where the backend is not profiled. */
void nn_profile_reset(void);
/* The time of each op and shape so far, largest first. */
void nn_profile_report(FILE *f);

#endif
