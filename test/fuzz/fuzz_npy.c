/*
 * fuzz_npy - the .npy reader, file-level: a stream of arrays read one
 * after another as tensor-info reads them.
 */
#include "fuzz.h"
#include "npy.h"

static void
run(const void *path)
{
	FILE *f = fopen(path, "rb");
	struct tensor t;

	if (f == NULL)
		abort();
	while (npy_read_stream(f, "input", &t))
		tensor_free(&t);
	fclose(f);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_init("fuzz_npy");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_run(run, fuzz_file(data, size));
	return 0;
}
