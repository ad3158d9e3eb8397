/*
 * fuzz_netpbm - the Netpbm stream handling of lib/image.c: every image of
 * a stream read (PBM, PGM, PPM, PAM of any tuple type the programs take),
 * its metadata looked up, and written back.
 */
#include "fuzz.h"
#include "image.h"

static void
run(const void *path)
{
	struct img_reader r;
	struct img im = { 0 };
	FILE *out = fopen("/dev/null", "wb");
	int n = 0;

	if (out == NULL)
		abort();
	img_open(&r, path);
	while (n++ < 16 && img_read(&r, &im, IMG_GRAY | IMG_RGB | IMG_RGBA |
	    IMG_LABEL)) {
		char v[64];
		(void)img_meta_get(&im, "class", v, sizeof v);
		img_write(out, "/dev/null", &im);
		img_free(&im);
	}
	img_close(&r);
	fclose(out);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_init("fuzz_netpbm");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_run(run, fuzz_file(data, size));
	return 0;
}
