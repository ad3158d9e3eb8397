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
 * and whatever the writer adds; a trained model adds its training record
 * (struct train_record: class weights, history, seed, best epoch; see
 * unet-train(1)).  Parameters are F32, or F16 "at rest" to halve a shipped
 * model; they are read back as F32.  Tensors are named and shaped as
 * PyTorch's (enc0.conv0.weight [Cout,Cin,3,3], dec0.up.weight
 * [Cin,Cout,2,2]), whatever the layout inside the network's buffer.
 *
 * A checkpoint is DIR/checkpoint.safetensors: a model file plus the
 * optimizer's moments (adam.m, adam.v: F32, one per parameter, in the
 * buffer's order), the data-order RNG (rng.data: the bytes of struct rng)
 * and the keys checkpoint.epoch, adam.t and
 * training.best_val_mean_iou.exact: all that a run needs to continue as if
 * it had never stopped.
 */
#ifndef SMEARSEG_MODEL_H
#define SMEARSEG_MODEL_H

#include "classes.h"
#include "rng.h"
#include "nn/adam.h"
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

// --- model files ------------------------------------------------------------

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

/* The architecture of model file F (named FNAME), from its "unet.config"
 * metadata. */
void model_arch(struct unet_arch *arch, const struct st_file *f,
    const char *fname);

/* BUF (net->params, net->grads, an Adam moment: nparams floats of
 * backend memory) as nptab host tensors in the file's layouts, named
 * PREFIX + the parameter's name ("" for the parameters themselves).  Free
 * with model_tensors_free(). */
struct tensor *model_export(const struct unet *net, const float *buf,
    const char *prefix);
void model_tensors_free(const struct unet *net, struct tensor *t);
/* Fill BUF from F's tensors named PREFIX + each parameter's name; dies
 * naming FNAME if one is missing or is not F32 of the expected shape (the
 * parameters themselves, PREFIX "", may also be F16).  F is not
 * changed. */
void model_import(struct unet *net, float *buf, const struct st_file *f,
    const char *fname, const char *prefix);

/* Die naming NAME (the file that gave A) if a network of architecture A
 * for batches of BATCH (TRAIN: with gradients) would need more memory
 * than the limit: the machine's memory, or SMEARSEG_MAX_MEMORY MiB
 * if set.  A model's metadata cannot make a program allocate without
 * bound. */
void model_check_memory(const struct unet_arch *a, int batch, int train,
    const char *name);

/* Parse a JSON array of N numbers (metadata value); 0 on a bad value. */
int parse_float_array(const char *s, float *out, int n);

// --- trained models and checkpoints -----------------------------------------

/* What a training run records besides the weights, in its model files
 * and checkpoints. */
struct train_record {
	float class_w[CLASS_MAX];       /* the loss's class weights */
	enum unet_cw cw_scheme;         /* how they were made ... */
	float cw_max;                   /* ... and clipped */
	char *history;                  /* JSON array text (history.h) */
	int epochs;                     /* completed */
	uint64_t seed;
	int batch, ranks;               /* a step: batch tiles on each rank */
	int ntrain, nval;               /* tiles */
	int best_epoch;                 /* best validation mean IoU ... */
	double best_miou;               /* ... and its value; -1: none yet */
	const struct kv *meta;          /* the user's own keys, or NULL */
};

/* Everything a checkpoint holds. */
struct train_state {
	struct unet *net;
	struct adam opt;
	struct rng data_rng;            /* the data order */
	struct model_info norm;         /* input normalisation */
	struct train_record rec;
};

/* 1 if a user may set metadata KEY: none that a model file or a training
 * record has of its own (format, training.*, adam.*, ...). */
int model_meta_key_free(const char *key);

/* Write S's network with its normalisation and training record to PATH
 * atomically, its weights as F16 if HALF: a trained model. */
void model_save(const char *path, const struct train_state *s, int half);

/* Replace NET's parameters by those of model file PATH and INFO by its
 * input normalisation.  PATH's architecture must be NET's, which comes
 * from CONFIG: else die naming the first key that differs. */
void model_load_weights(struct unet *net, const char *path,
    struct model_info *info, const char *config);

/* Write S to DIR/checkpoint.safetensors atomically, making DIR if need
 * be. */
void checkpoint_save(const char *dir, const struct train_state *s);

/* Read DIR/checkpoint.safetensors into S: a training network for batches
 * of MAX_BATCH on OPS with the checkpoint's weights, Adam (settings AS)
 * with its moments and step count, the data-order RNG, the normalisation,
 * and the record's class weights, history, epochs and best epoch and
 * score; the rest of S->rec describes the new run and is the caller's.
 * The checkpoint's architecture must be ARCH, which comes from CONFIG:
 * else die naming the first key that differs. */
void checkpoint_load(const char *dir, struct train_state *s,
    const struct unet_arch *arch, const char *config, int max_batch,
    const struct nn_ops *ops, const struct adam_settings *as);

#endif
