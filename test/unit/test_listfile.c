/*
 * test_listfile.c - unit tests of the per-image list reader
 * (lib/listfile.h): lines and words, comments, line numbers, repeated
 * ids and the box syntax.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "listfile.h"
#include "tap.h"
#include "util.h"

/* Write TEXT to a new temporary file; its path goes to PATH. */
static void
write_temp(char *path, size_t n, const char *text)
{
	const char *base = getenv("TMPDIR");
	FILE *f;
	int fd;

	snprintf(path, n, "%s/test_listfile.XXXXXX",
	    base && *base ? base : "/tmp");
	if ((fd = mkstemp(path)) < 0 || (f = fdopen(fd, "w")) == NULL)
		die("%s:", path);
	fputs(text, f);
	if (fclose(f) != 0)
		die("%s:", path);
}

static void
test_read(void)
{
	char path[4200], where[256];
	struct list l;
	int a, b;

	write_temp(path, sizeof path,
	    "# id group\n"
	    "b\tg1  1,2,3,4\r\n"
	    "\n"
	    "   # an indented comment\n"
	    "a g2\n"
	    "c#1 g3 x\n"
	    "d g4");
	list_read(&l, path, "the.list", "ID GROUP");
	tap_ok(l.n == 4, "list_read: 4 lines besides comments and blanks "
	    "(got %d)", l.n);
	tap_ok(l.v[0].line == 2 && l.v[0].nword == 3 &&
	    strcmp(l.v[0].word[0], "b") == 0 &&
	    strcmp(l.v[0].word[1], "g1") == 0 &&
	    strcmp(l.v[0].word[2], "1,2,3,4") == 0,
	    "list_read: tabs, spaces and a CR separate words");
	tap_ok(l.v[1].line == 5 && l.v[2].line == 6 && l.v[2].nword == 3 &&
	    strcmp(l.v[2].word[0], "c#1") == 0,
	    "list_read: line numbers count comments and blank lines");
	tap_ok(l.v[3].line == 7 && l.v[3].nword == 2 &&
	    strcmp(l.v[3].word[1], "g4") == 0,
	    "list_read: a last line without a newline");
	tap_ok(strcmp(list_where(&l, 1, where, sizeof where), "the.list:5: ")
	    == 0, "list_where: 'NAME:LINE: '");
	tap_ok(!list_repeated_id(&l, &a, &b), "list_repeated_id: no repeat");
	list_free(&l);
	unlink(path);

	write_temp(path, sizeof path, "b x\na x\na y\nb z\na w\n");
	list_read(&l, path, "dup", "ID GROUP");
	tap_ok(list_repeated_id(&l, &a, &b) && a == 1 && b == 2,
	    "list_repeated_id: the first two lines of the smallest id");
	list_free(&l);
	unlink(path);
}

static void
test_box(void)
{
	static const char *const bad[] = {
		"1,2,3", "1,2,3,4,", "1,2,3,4x", "+1,2,3,4", "-0,1,2,3",
		" 1,2,3,4", "1,,3,4", "", "1,2,3,1000001",
	};
	int b[4];
	size_t k;

	tap_ok(list_box("0,7,1000000,7", b) == LIST_BOX_OK && b[0] == 0 &&
	    b[1] == 7 && b[2] == 1000000 && b[3] == 7,
	    "list_box: four numbers, a box one pixel high");
	for (k = 0; k < sizeof bad / sizeof bad[0]; k++)
		tap_ok(list_box(bad[k], b) == LIST_BOX_SYNTAX,
		    "list_box: '%s' is not a box", bad[k]);
	tap_ok(list_box("5,1,4,9", b) == LIST_BOX_ORDER &&
	    list_box("1,5,4,4", b) == LIST_BOX_ORDER,
	    "list_box: xmin > xmax or ymin > ymax");
}

int
main(int argc, char **argv)
{
	setprogname(argv[0]);
	test_read();
	test_box();
	return tap_done();
}
