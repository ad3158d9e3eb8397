/*
 * config.h - the U-Net's architecture and its training settings, read from
 * a YAML file.
 *
 * A config has three optional mappings, and one struct each:
 *
 *	model:    struct unet_arch   the network; what a model file stores
 *	train:    struct unet_train  epochs, batch, schedule, optimizer,
 *	                             class weights, seed
 *	augment:  struct augment     train-time augmentation (tileset.h)
 *
 * A missing key keeps its default (the reference architecture and a sane
 * training recipe, unet_config_default()).  Unknown keys, wrong types and
 * out-of-range values are errors "PROG: FILE:LINE: ..." naming the key.
 * share/unet.yaml documents every key.  The architecture alone travels
 * with a model: unet_arch_yaml() writes it as a model: section, which
 * unet_arch_load() reads back, and unet_arch_diff() says whether two
 * architectures are the same network.
 */
#ifndef SMEARSEG_NN_CONFIG_H
#define SMEARSEG_NN_CONFIG_H

#include <stdint.h>

#include "tileset.h"
#include "nn/adam.h"

#define UNET_MAX_LEVELS 6

enum unet_act { UNET_ACT_RELU, UNET_ACT_LEAKY_RELU };
enum unet_norm { UNET_NORM_NONE, UNET_NORM_GROUP };
enum unet_sched { UNET_SCHED_CONSTANT, UNET_SCHED_COSINE, UNET_SCHED_STEP };
enum unet_cw { UNET_CW_NONE, UNET_CW_MEDIAN_FREQ, UNET_CW_INV_SQRT_FREQ };

/* The network (model:). */
struct unet_arch {
	int input_h, input_w;           /* input_size: tiles are square */
	int in_channels;                /* 3 */
	int classes;                    /* 10 */
	int nlevels;                    /* length of widths */
	int widths[UNET_MAX_LEVELS];    /* encoder widths, e.g. 32 64 128 256 */
	int bottleneck;                 /* 512 */
	int convs;                      /* 3x3 convs per level (2) */
	enum unet_act act;
	float alpha;                    /* leaky ReLU slope (0.1) */
	enum unet_norm norm;
	int groups;                     /* GroupNorm groups per layer */
};

/* How to train it (train:). */
struct unet_train {
	int epochs, batch;
	float lr, min_lr;
	enum unet_sched schedule;
	float warmup_epochs;
	int step_every;                 /* epochs between step decays */
	float step_gamma;
	struct adam_settings adam;      /* weight_decay (conv weights only),
					 * beta1, beta2, adam_eps */
	enum unet_cw class_weights;
	float class_weight_max;         /* clip weights to [1/max, max] */
	uint64_t seed;
};

struct unet_config {
	struct unet_arch model;
	struct unet_train train;
	struct augment augment;
};

/* The reference architecture and the default training recipe. */
void unet_config_default(struct unet_config *c);
/* Defaults, then the keys of PATH (TEXT if not NULL, PATH naming it). */
void unet_config_load(struct unet_config *c, const char *path,
    const char *text);
/* The architecture of a document with a model: section alone (a model
 * file's, PATH naming it, TEXT its YAML), checked as in a config. */
void unet_arch_load(struct unet_arch *a, const char *path, const char *text);
/* A as a model: section that unet_arch_load() reads back to the same
 * struct ("model:\n  widths: [...]\n  ..."), malloc'd. */
char *unet_arch_yaml(const struct unet_arch *a);
/* NULL if A and B are the same network, else the first key that differs
 * with both values, "bottleneck: 16 against 8" (malloc'd). */
char *unet_arch_diff(const struct unet_arch *a, const struct unet_arch *b);
/* Learning rate at fractional epoch E (0-based) under T's schedule. */
float unet_train_lr(const struct unet_train *t, double e);
/* Enum names, for logs and model metadata. */
const char *unet_act_name(enum unet_act a);
const char *unet_norm_name(enum unet_norm n);
const char *unet_sched_name(enum unet_sched s);
const char *unet_cw_name(enum unet_cw w);

#endif
