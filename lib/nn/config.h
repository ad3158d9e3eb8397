/*
 * config.h - the U-Net's architecture and training settings, read from a
 * YAML file.
 *
 * A config has three optional mappings, model:, train: and augment:; a
 * missing key keeps its default (the reference architecture and a sane
 * training recipe, unet_config_default()).  Unknown keys, wrong types and
 * out-of-range values are errors "PROG: FILE:LINE: ..." naming the key.
 * share/unet.yaml documents every key.
 */
#ifndef SMEARSEG_NN_CONFIG_H
#define SMEARSEG_NN_CONFIG_H

#include <stdint.h>

#include "nn/adam.h"

#define UNET_MAX_LEVELS 6

enum unet_act { UNET_ACT_RELU, UNET_ACT_LEAKY_RELU };
enum unet_norm { UNET_NORM_NONE, UNET_NORM_GROUP };
enum unet_sched { UNET_SCHED_CONSTANT, UNET_SCHED_COSINE, UNET_SCHED_STEP };
enum unet_cw { UNET_CW_NONE, UNET_CW_MEDIAN_FREQ, UNET_CW_INV_SQRT_FREQ };

struct unet_config {
	// model:
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

	// train:
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

	// augment:
	int flip, rot90;
	float color_jitter;             /* brightness/contrast, +- fraction */
	float stain_jitter;             /* per-channel gain, +- fraction */
	float scale_jitter;             /* zoom, +- fraction */
	float hue_jitter;               /* hue rotation, +- degrees */
	float hue_any;                  /* share of tiles with any hue */
	float saturation_jitter;        /* saturation, +- fraction */
	float gamma_jitter;             /* gamma, +- fraction */
	float blur;                     /* Gaussian blur sigma up to, px */
	float noise;                    /* noise s.d. up to, levels of 255 */
};

/* The reference architecture and the default training recipe. */
void unet_config_default(struct unet_config *c);
/* Defaults, then the keys of PATH (TEXT if not NULL, PATH naming it). */
void unet_config_load(struct unet_config *c, const char *path,
    const char *text);
/* Learning rate at fractional epoch E (0-based) under c's schedule. */
float unet_config_lr(const struct unet_config *c, double e);
/* Enum names, for logs and model metadata. */
const char *unet_act_name(enum unet_act a);
const char *unet_norm_name(enum unet_norm n);
const char *unet_sched_name(enum unet_sched s);
const char *unet_cw_name(enum unet_cw w);

#endif
