/*
 * fuzz_yaml - the YAML configs: a whole config (model:, train:, augment:)
 * and a model's architecture (its unet.config), and the architecture
 * written back and read again.
 */
#include "fuzz.h"
#include "nn/config.h"
#include "yamldoc.h"

static void
run(const void *text)
{
	struct unet_config c;
	struct unet_arch a, b;
	char *y, *d;

	unet_config_load(&c, "input", text);
	unet_arch_load(&a, "input", text);
	y = unet_arch_yaml(&a);
	unet_arch_load(&b, "written", y);
	if ((d = unet_arch_diff(&a, &b)) != NULL) {
		fprintf(stderr, "architecture changed on a round trip: %s\n", d);
		abort();
	}
	free(y);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_init("fuzz_yaml");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);

	if (!fuzz_run(run, text))
		yamldoc_release_all();
	__real_free(text);
	return 0;
}
