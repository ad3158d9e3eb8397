/*
 * fuzz_safetensors - the safetensors reader, file-level: st_parse() on the
 * bytes in memory and st_read() on them as a stream.
 */
#include "fuzz.h"
#include "safetensors.h"

struct input {
	const uint8_t *data;
	size_t size;
};

static void
run(const void *arg)
{
	const struct input *in = arg;
	struct st_file f;
	void *buf = malloc(in->size ? in->size : 1);

	memcpy(buf, in->data, in->size);
	st_parse("input", buf, in->size, &f);
	for (int i = 0; i < f.n; i++)
		if (tensor_nbytes(&f.t[i]) > 0)
			(void)((volatile unsigned char *)f.t[i].data)[0];
	st_free(&f);
	st_read(fuzz_file(in->data, in->size), &f);
	st_free(&f);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_init("fuzz_safetensors");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };

	fuzz_run(run, &in);
	return 0;
}
