/*
 * fuzz_jsonl - the JSON Lines readers: tile-stats' tile records (the
 * program itself, on one valid tile and the input as its records) and the
 * training log that a resumed unet-train cuts back (history_log_trim), and
 * a training history as a checkpoint's metadata holds it.
 */
#define _GNU_SOURCE             /* memfd_create, in fuzz.h */
#define main tile_stats_main
#include "../../filters/tile-stats.c"
#undef main

#include "fuzz.h"
#include "history.h"

static char dir[] = "/tmp/fuzz_jsonl.XXXXXX";
static char tiles[64], records[64], log_path[64];

static void
run_records(const void *arg)
{
	char *argv[] = { "tile-stats", tiles, NULL };

	optind = 0;
	tile_stats_main(2, argv);
}

static void
run_log(const void *text)
{
	struct epoch_record e = { .epoch = 1 };
	char *h;

	history_log_trim(log_path, 3);
	history_check(text, "input");
	h = history_append(text, &e);
	free(h);
}

static void
put(const char *path, const uint8_t *data, size_t size)
{
	FILE *f = __real_fopen(path, "wb");

	if (f == NULL || fwrite(data, 1, size, f) != size ||
	    __real_fclose(f) != 0)
		abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char cmd[256];

	fuzz_init("fuzz_jsonl");
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(tiles, sizeof tiles, "%s/t.pam", dir);
	snprintf(records, sizeof records, "%s/t.jsonl", dir);
	snprintf(log_path, sizeof log_path, "%s/train.jsonl", dir);
	snprintf(cmd, sizeof cmd, "cp '%s' '%s'", FUZZ_TILE, tiles);
	if (system(cmd) != 0)
		abort();
	if (freopen("/dev/null", "w", stdout) == NULL)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);

	put(records, data, size);
	fuzz_run(run_records, NULL);
	clearerr(stdout);
	put(log_path, data, size);
	fuzz_run(run_log, text);
	__real_free(text);
	return 0;
}
