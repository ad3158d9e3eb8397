/*
 * model.h - model and checkpoint files: a U-Net's parameters plus the
 * metadata that makes the file usable alone.
 *
 * Both are safetensors (share/doc/tensor-format.md).  Every file carries
 * in __metadata__:
 *
 *	format          "smearseg-unet"
 *	format_version  "1"
 *	unet.config     the architecture, a config's model: section (YAML)
 *	classes         the class table (JSON array of {index,name,colour})
 *	input.mean      per-channel mean of the training pictures, 0..255
 *	input.std       per-channel standard deviation (JSON arrays of 3)
 *	pixel_scale     the scale the model was trained at
 *
 * and whatever the writer adds (training history, class weights, the
 * dataset); unet-train(1) lists those.  Parameters are F32, or F16 "at
 * rest" to halve a shipped model; they are read back as F32.  A checkpoint
 * is a model file plus optimizer and RNG tensors.
 */
#ifndef SMEARSEG_MODEL_H
#define SMEARSEG_MODEL_H

#include "nn/unet.h"
#include "safetensors.h"
#include "tensor.h"

#define MODEL_FORMAT "smearseg-unet"
#define MODEL_FORMAT_VERSION "1"
#define MODEL_PIXEL_SCALE "40x: a healthy red cell is about 38 px across"

/* A growing list of metadata pairs (keys and values owned). */
struct kv {
	int n, cap;
	char **key, **val;
};

void kv_set(struct kv *m, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void kv_free(struct kv *m);

struct model_info {
	float mean[3], std[3];  /* input normalisation, 0..255 scale */
};

/* Write NET's parameters (as F16 if HALF), then the NEXTRA tensors EXTRA,
 * with the standard metadata of INFO plus META, to PATH atomically. */
void model_write(const char *path, const struct unet *net, int half,
    const struct model_info *info, const struct tensor *extra, int nextra,
    const struct kv *meta);

/* Read PATH, check its format and class table, and build a network for
 * batches of MAX_BATCH (TRAIN: with gradients) on OPS holding its
 * parameters.  F stays open for the caller's extra tensors and metadata
 * (st_free it).  Dies with one line naming the file on any problem. */
struct unet *model_read(const char *path, int max_batch, int train,
    const struct nn_ops *ops, struct st_file *f, struct model_info *info);

/* Parse a JSON array of N numbers (metadata value); 0 on a bad value. */
int parse_float_array(const char *s, float *out, int n);

#endif
