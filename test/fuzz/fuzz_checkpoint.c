/*
 * fuzz_checkpoint - checkpoint loading, structure-aware (st_mutator.h):
 * DIR/checkpoint.safetensors is read as unet-train --resume reads it
 * (weights, Adam moments and step, RNG state, record, history) against the
 * tiny test architecture, and one training step is run from it.
 */
#include "fuzz.h"

#include <sys/stat.h>

#include "model.h"
#include "nn/backend.h"
#include "nn/config.h"
#include "st_mutator.h"
#include "yamldoc.h"

static char dir[] = "/tmp/fuzz_checkpoint.XXXXXX";
static char path[64];
static struct unet_config cfg;

static void
run(const void *arg)
{
	struct train_state s = { 0 };
	size_t px = (size_t)cfg.model.input_h * cfg.model.input_w;
	float *x = xcalloc(px * 3, sizeof *x);
	uint8_t *y = xcalloc(px, 1);

	s.rec.history = xstrdup("[]");
	checkpoint_load(dir, &s, &cfg.model, "tiny.yaml", 1, nn_backend_find("cpu"),
	    &cfg.train.adam);
	unet_forward_loss(s.net, x, y, s.rec.class_w, 1);
	unet_zero_grad(s.net);
	unet_backward(s.net, unet_loss_wsum(s.net));
	adam_step(&s.opt, s.net, 1e-3f);
	free(x);
	free(y);
	free(s.rec.history);
	adam_free(&s.opt, s.net);
	unet_free(s.net);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_init("fuzz_checkpoint");
	setenv("SMEARSEG_MAX_MEMORY", "64", 1);
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof path, "%s/checkpoint.safetensors", dir);
	unet_config_load(&cfg, FUZZ_SHARE "/unet-tiny.yaml", NULL);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	if (!fuzz_run(run, NULL))
		yamldoc_release_all();
	return 0;
}
