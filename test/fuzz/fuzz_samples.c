/*
 * fuzz_samples - cell samples: a PAM RGB_ALPHA stream with the metadata
 * of each sample (class, id, group, source) as split-dataset and
 * make-background read it.
 */
#include "fuzz.h"
#include "samples.h"

static void
run(const void *path)
{
	struct sample_set set = { 0 };

	samples_read(&set, path, NULL);
	samples_free(&set);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_init("fuzz_samples");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_run(run, fuzz_file(data, size));
	return 0;
}
