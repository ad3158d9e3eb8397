/*
 * test_paste.c - unit tests of pasting a cell sample onto a labelled
 * canvas (lib/paste.h): the label covers the pixels that look more cell
 * than background, and no more.
 */
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "paste.h"
#include "tap.h"
#include "util.h"

#define CELL  40        /* the sample's grey */
#define PLASMA 220      /* the canvas's grey */

/* A W x W RGB_ALPHA sample: a disc of radius R (alpha 255) in grey CELL,
 * transparent elsewhere. */
static void
disc_sample(struct img *s, int w, double r)
{
	int x, y;

	img_alloc(s, w, w, IMG_RGBA);
	for (y = 0; y < w; y++)
		for (x = 0; x < w; x++) {
			unsigned char *q = s->data + ((size_t)y * w + x) * 4;
			double dx = x + 0.5 - w / 2.0, dy = y + 0.5 - w / 2.0;
			int in = dx * dx + dy * dy <= r * r;

			q[0] = q[1] = q[2] = CELL;
			q[3] = in ? 255 : 0;
		}
}

/* A W x W RGB_LABEL canvas of grey PLASMA, label 0. */
static void
plain_canvas(struct img *c, int w)
{
	size_t i;

	img_alloc(c, w, w, IMG_LABEL);
	for (i = 0; i < (size_t)w * w; i++) {
		memset(c->data + i * 4, PLASMA, 3);
		c->data[i * 4 + 3] = 0;
	}
}

static void
test_label_where_the_cell_shows(double feather)
{
	struct img s = { 0 }, c = { 0 };
	struct paste_patch p = { 0 };
	const float gain[3] = { 1, 1, 1 };
	int half = 0, wrong = 0, labelled = 0, footprint = 0, i;
	unsigned char owner[64 * 64] = { 0 };

	disc_sample(&s, 40, 15);
	plain_canvas(&c, 64);
	paste_transform(&p, &s, 0, 0, gain, feather);
	paste_apply(&c, &p, 10, 10, 9, owner, 1);
	for (i = 0; i < 64 * 64; i++) {
		int v = c.data[i * 4], lab = c.data[i * 4 + 3];
		int cellish = PLASMA - v >= (PLASMA - CELL) / 2;

		labelled += lab == 9;
		footprint += v != PLASMA;
		half += cellish;
		/* labelled exactly where the grey is at least halfway from
		 * the plasma to the cell (one grey level of rounding) */
		if ((lab == 9) != cellish &&
		    abs((PLASMA - v) - (PLASMA - CELL) / 2) > 1)
			wrong++;
		if ((lab == 9) != (owner[i] == 1))
			wrong++;
	}
	tap_ok(labelled > 0 && wrong == 0,
	    "feather %g: the label and owner cover the %d pixels at least half "
	    "cell (%d labelled, %d off)", feather, half, labelled, wrong);
	if (feather > 0)
		tap_ok(footprint > labelled,
		    "feather %g: the image is blended beyond the label "
		    "(%d pixels touched, %d labelled)", feather, footprint,
		    labelled);
	else
		tap_ok(footprint == labelled,
		    "feather 0: a hard edge, image and label alike (%d, %d)",
		    footprint, labelled);
	paste_free(&p);
	img_free(&s);
	img_free(&c);
}

/* paste_transform_edge: a narrower image edge makes the rim darker (more
 * cell) and leaves the label where the label's feather puts it; equal
 * feathers are paste_transform. */
static void
test_image_edge_apart_from_label(void)
{
	struct img s = { 0 }, c2 = { 0 }, c1 = { 0 }, ce = { 0 };
	struct paste_patch p = { 0 };
	const float gain[3] = { 1, 1, 1 };
	int i, same_label = 1, darker = 0, lighter = 0;

	disc_sample(&s, 40, 15);
	plain_canvas(&c2, 64);
	plain_canvas(&c1, 64);
	plain_canvas(&ce, 64);
	paste_transform(&p, &s, 0.3, 0, gain, 2);
	paste_apply(&c2, &p, 10, 10, 9, NULL, 0);
	paste_transform_edge(&p, &s, 0.3, 0, gain, 1, 2);
	paste_apply(&c1, &p, 10, 10, 9, NULL, 0);
	paste_transform_edge(&p, &s, 0.3, 0, gain, 2, 2);
	paste_apply(&ce, &p, 10, 10, 9, NULL, 0);
	for (i = 0; i < 64 * 64; i++) {
		if (c1.data[i * 4 + 3] != c2.data[i * 4 + 3])
			same_label = 0;
		darker += c1.data[i * 4] < c2.data[i * 4];
		lighter += c1.data[i * 4] > c2.data[i * 4];
	}
	tap_ok(same_label && darker > 40 && lighter == 0,
	    "image edge 1, label edge 2: the same label, %d rim pixels more "
	    "cell, %d less", darker, lighter);
	tap_ok(memcmp(ce.data, c2.data, (size_t)64 * 64 * 4) == 0,
	    "paste_transform_edge with equal feathers is paste_transform");
	paste_free(&p);
	img_free(&s);
	img_free(&c2);
	img_free(&c1);
	img_free(&ce);
}

int
main(void)
{
	setprogname("test_paste");
	test_label_where_the_cell_shows(2);
	test_label_where_the_cell_shows(0);
	test_image_edge_apart_from_label();
	return tap_done();
}
