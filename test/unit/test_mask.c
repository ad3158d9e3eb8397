/*
 * test_mask.c - unit tests of the mask primitives (lib/mask.h) on small
 * hand-made masks and label images whose answers can be read off the
 * pictures below ('#' = 1, '.' = 0, digits = labels).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mask.h"
#include "tap.h"
#include "util.h"

/* A W x H mask from PIC, one string per row: '#' is 1, anything else 0. */
static unsigned char *
mask_of(const char *const *pic, int w, int h)
{
	unsigned char *m = xmalloc_array((size_t)w, h);
	int x, y;

	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++)
			m[(size_t)y * w + x] = pic[y][x] == '#';
	return m;
}

/* Whether the W x H mask M is the picture PIC. */
static int
mask_is(const unsigned char *m, const char *const *pic, int w, int h)
{
	int x, y;

	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++)
			if (m[(size_t)y * w + x] != (pic[y][x] == '#'))
				return 0;
	return 1;
}

static int
box_is(const struct mask_box *b, int x0, int y0, int x1, int y1, long area)
{
	return b->x0 == x0 && b->y0 == y0 && b->x1 == x1 && b->y1 == y1 &&
	    b->area == area;
}

// --- components ---------------------------------------------------------------

static void
test_label(void)
{
	/* three components: a diagonal chain is one (8-connected), the
	 * pixel at (6, 0) is another, the block at the bottom the third */
	static const char *const pic[] = {
		"#.....#",
		".#.....",
		"..#....",
		".......",
		"....##.",
		"....##.",
	};
	const int w = 7, h = 6;
	unsigned char *m = mask_of(pic, w, h);
	int *lab = xmalloc_array((size_t)w * h, sizeof *lab);
	long *area;
	int n;

	n = mask_label(lab, m, w, h, &area);
	tap_ok(n == 3, "mask_label: 3 components (got %d)", n);
	tap_ok(lab[0] == 1 && lab[1 * w + 1] == 1 && lab[2 * w + 2] == 1,
	    "mask_label: a diagonal chain is one 8-connected component");
	tap_ok(lab[6] == 2 && lab[4 * w + 4] == 3 && lab[5 * w + 5] == 3 &&
	    lab[3 * w + 3] == 0, "mask_label: labels in scan order, 0 outside");
	tap_ok(area[1] == 3 && area[2] == 1 && area[3] == 4,
	    "mask_label: areas 3, 1, 4");
	free(area);

	tap_ok(mask_keep_largest(m, w, h) == 4, "mask_keep_largest: area 4");
	tap_ok(mask_is(m, (const char *const[]){
		".......",
		".......",
		".......",
		".......",
		"....##.",
		"....##.",
	}, w, h), "mask_keep_largest: only the block is left");

	memset(m, 0, (size_t)w * h);
	tap_ok(mask_label(lab, m, w, h, NULL) == 0 &&
	    mask_keep_largest(m, w, h) == 0, "an empty mask: no component");
	free(lab);
	free(m);
}

static void
test_fill_holes(void)
{
	/* the insides of both rings are holes (the outside does not get
	 * into the left one through the diagonal gap at its corner); the
	 * gap at the left of the lower shape joins its inside to the
	 * border, so that is no hole */
	static const char *const pic[] = {
		".....#####",
		"###..#...#",
		"#.#..#...#",
		"##...#####",
		"..........",
		"###.......",
		"..#.......",
		"###.......",
	};
	const int w = 10, h = 8;
	unsigned char *m = mask_of(pic, w, h);

	mask_fill_holes(m, w, h);
	tap_ok(mask_is(m, (const char *const[]){
		".....#####",
		"###..#####",
		"###..#####",
		"##...#####",
		"..........",
		"###.......",
		"..#.......",
		"###.......",
	}, w, h), "mask_fill_holes: holes filled, bays left alone");
	free(m);
}

// --- boxes --------------------------------------------------------------------

static void
test_boxes(void)
{
	/* labels 1 and 2 interleave; 3 is absent; 7 is out of range */
	static const int lab[] = {
		0, 1, 1, 0, 0, 0,
		0, 0, 2, 2, 2, 0,
		1, 0, 0, 0, 2, 0,
		0, 0, 7, 0, 0, 1,
	};
	const int w = 6, h = 4;
	unsigned char lab8[sizeof lab / sizeof lab[0]];
	struct mask_box box[4], box8[4], b;
	size_t i;

	box[0] = (struct mask_box){ 42, 42, 42, 42, 42 };
	mask_boxes(box, 3, lab, sizeof *lab, w, h);
	tap_ok(box_is(&box[1], 0, 0, 5, 3, 4),
	    "mask_boxes: label 1 spans the image, 4 pixels");
	tap_ok(box_is(&box[2], 2, 1, 4, 2, 4),
	    "mask_boxes: label 2 at (2,1)-(4,2), 4 pixels");
	tap_ok(box_is(&box[3], w, h, -1, -1, 0),
	    "mask_boxes: an absent label gets the empty box and area 0");
	tap_ok(box_is(&box[0], 42, 42, 42, 42, 42),
	    "mask_boxes: BOX[0] is left alone");

	for (i = 0; i < sizeof lab / sizeof lab[0]; i++)
		lab8[i] = (unsigned char)lab[i];
	mask_boxes(box8, 3, lab8, 1, w, h);
	tap_ok(memcmp(&box8[1], &box[1], 3 * sizeof *box) == 0,
	    "mask_boxes: byte labels give the same boxes as int labels");

	for (i = 0; i < sizeof lab / sizeof lab[0]; i++)
		lab8[i] = lab[i] == 2;
	tap_ok(mask_bbox(&b, lab8, w, h) && box_is(&b, 2, 1, 4, 2, 4),
	    "mask_bbox: the box and area of a mask");
	memset(lab8, 0, sizeof lab8);
	tap_ok(!mask_bbox(&b, lab8, w, h) && box_is(&b, w, h, -1, -1, 0),
	    "mask_bbox: an empty mask returns 0 and the empty box");
}

// --- distances and morphology ----------------------------------------------

static void
test_edt(void)
{
	static const char *const pic[] = {
		".....",
		".....",
		"..#..",
		".....",
	};
	const int w = 5, h = 4;
	unsigned char *m = mask_of(pic, w, h);
	double d[5 * 4];
	int x, y, ok = 1;

	mask_edt(d, m, w, h, 1);
	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++)
			ok &= d[y * w + x] == (x - 2) * (x - 2) +
			    (y - 2) * (y - 2);
	tap_ok(ok, "mask_edt: squared Euclidean distances to one pixel");
	memset(m, 0, (size_t)w * h);
	mask_edt(d, m, w, h, 1);
	tap_ok(d[0] >= MASK_FAR && d[w * h - 1] >= MASK_FAR,
	    "mask_edt: MASK_FAR where there is no feature pixel");
	free(m);
}

static void
test_morphology(void)
{
	static const char *const dot[] = {
		".......",
		".......",
		".......",
		"...#...",
		".......",
		".......",
		".......",
	};
	/* a disk of radius 2: the pixels at distance^2 <= 4 */
	static const char *const disk[] = {
		".......",
		"...#...",
		"..###..",
		".#####.",
		"..###..",
		"...#...",
		".......",
	};
	static const char *const blob[] = {
		"###....",
		"###....",
		"###....",
		".......",
		"..#####",
		"..#####",
		"....#..",
	};
	const int w = 7, h = 7;
	unsigned char *m = mask_of(dot, w, h);

	mask_dilate(m, w, h, 2);
	tap_ok(mask_is(m, disk, w, h), "mask_dilate: a pixel grows to a disk");
	mask_erode(m, w, h, 2);
	tap_ok(mask_is(m, dot, w, h), "mask_erode: the disk shrinks back");
	free(m);

	/* a disk of radius 1 is a cross: the square at the corner keeps
	 * the pixels on the image border (the outside of the image does
	 * not count as background), the bar keeps one pixel, the one above
	 * its spur */
	m = mask_of(blob, w, h);
	mask_erode(m, w, h, 1);
	tap_ok(mask_is(m, (const char *const[]){
		"##.....",
		"##.....",
		".......",
		".......",
		".......",
		"....#..",
		".......",
	}, w, h), "mask_erode: the image border is not background");
	free(m);

	m = mask_of(blob, w, h);
	mask_open(m, w, h, 1);
	tap_ok(mask_is(m, (const char *const[]){
		"###....",
		"###....",
		"##.....",
		".......",
		"....#..",
		"...###.",
		"....#..",
	}, w, h), "mask_open: rounds the corners a disk cannot reach");
	free(m);
}

int
main(int argc, char **argv)
{
	setprogname(argv[0]);
	test_label();
	test_fill_holes();
	test_boxes();
	test_edt();
	test_morphology();
	return tap_done();
}
