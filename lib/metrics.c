/*
 * metrics.c - confusion matrix and scores (metrics.h).
 */
#include "metrics.h"

#include <math.h>
#include <stdlib.h>

#include "util.h"

void
confusion_init(struct confusion *c, int n)
{
	c->n = n;
	c->m = xcalloc((size_t)n * n, sizeof *c->m);
	c->pixels = c->unpredicted = 0;
}

void
confusion_free(struct confusion *c)
{
	free(c->m);
	c->m = NULL;
}

void
confusion_add(struct confusion *c, const uint8_t *truth, size_t tstride,
    const uint8_t *pred, size_t pstride, size_t npix, int nclass, int binary)
{
	for (size_t i = 0; i < npix; i++) {
		int t = truth[i * tstride], p = pred[i * pstride];
		if (t >= nclass)        /* ignore, or a partial label */
			continue;
		c->pixels++;
		if (p >= nclass) {      /* no class predicted */
			c->unpredicted++;
			continue;
		}
		if (binary)
			t = t != 0, p = p != 0;
		c->m[(size_t)t * c->n + p]++;
	}
}

void
confusion_sums(const struct confusion *c, int k, uint64_t *tp, uint64_t *row,
    uint64_t *col)
{
	*tp = c->m[(size_t)k * c->n + k];
	*row = *col = 0;
	for (int j = 0; j < c->n; j++) {
		*row += c->m[(size_t)k * c->n + j];
		*col += c->m[(size_t)j * c->n + k];
	}
}

double
metrics_iou(const struct confusion *c, int k)
{
	uint64_t tp, row, col;

	confusion_sums(c, k, &tp, &row, &col);
	return row + col - tp ? (double)tp / (row + col - tp) : NAN;
}

double
metrics_dice(const struct confusion *c, int k)
{
	uint64_t tp, row, col;

	confusion_sums(c, k, &tp, &row, &col);
	return row + col ? 2.0 * tp / (row + col) : NAN;
}

double
metrics_pixel_accuracy(const struct confusion *c)
{
	uint64_t correct = 0;

	for (int k = 0; k < c->n; k++)
		correct += c->m[(size_t)k * c->n + k];
	return c->pixels ? (double)correct / c->pixels : NAN;
}

double
metrics_mean_iou(const struct confusion *c)
{
	double sum = 0;
	int present = 0;

	for (int k = 0; k < c->n; k++) {
		uint64_t tp, row, col;
		confusion_sums(c, k, &tp, &row, &col);
		if (row > 0) {
			sum += metrics_iou(c, k);
			present++;
		}
	}
	return present ? sum / present : NAN;
}
