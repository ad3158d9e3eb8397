/*
 * fuzz_model - model loading, structure-aware (st_mutator.h): a model
 * file is read as unet-infer reads it (format, architecture, class table,
 * normalisation, F32 or F16 parameters), and the network built from it is
 * run on one window.
 */
#include "fuzz.h"
#include "model.h"
#include "nn/backend.h"
#include "st_mutator.h"
#include "yamldoc.h"

static void
run(const void *path)
{
	struct st_file f;
	struct model_info info;
	struct unet *net;
	float *x, *p;
	size_t px;

	net = model_read(path, 1, 0, nn_backend_find("cpu"), &f, &info);
	st_free(&f);
	px = (size_t)net->arch.input_h * net->arch.input_w;
	x = xcalloc(px * 3, sizeof *x);
	p = xmalloc_array(px * net->arch.classes, sizeof *p);
	unet_forward(net, x, 1);
	unet_probs(net, p);
	free(x);
	free(p);
	unet_free(net);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_init("fuzz_model");
	/* a network of at most 64 MiB: a model may claim any size */
	setenv("SMEARSEG_MAX_MEMORY", "64", 1);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!fuzz_run(run, fuzz_file(data, size)))
		yamldoc_release_all();
	return 0;
}
