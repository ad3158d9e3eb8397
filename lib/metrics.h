/*
 * metrics.h - the confusion matrix of a segmentation and its scores: the
 * one definition that seg-eval, unet-train's validation and the
 * evaluation scripts (through seg-eval) use.
 *
 * A pixel is scored when its truth is a class (0..n-1): truth labelled
 * ignore (255) or with a partial label is not.  A scored pixel whose
 * prediction is no class (255, a partial label) is "unpredicted": it
 * counts in the pixels and as wrong, but in no row of the matrix.
 *
 *	pixel accuracy  correct / scored pixels
 *	IoU of class c  TP / (TP + FP + FN), from row c (truth) and column c
 *	                (prediction); NaN when c is in neither
 *	Dice            2 TP / (2 TP + FP + FN); NaN likewise
 *	mean IoU        the mean IoU over the classes present in the truth
 *	                (row > 0): a class predicted but absent from the
 *	                truth scores 0 and does not enter the mean
 * Each is NaN when nothing is scored.
 */
#ifndef SMEARSEG_METRICS_H
#define SMEARSEG_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct confusion {
	int n;                  /* classes */
	uint64_t *m;            /* n x n: [truth][pred] */
	uint64_t pixels;        /* scored pixels */
	uint64_t unpredicted;   /* ... of them predicted as no class */
};

void confusion_init(struct confusion *c, int n);
void confusion_free(struct confusion *c);
/* Add NPIX pixels: the truth at TRUTH[i * TSTRIDE], the prediction at
 * PRED[i * PSTRIDE].  With BINARY (n = 2), every class but 0 counts as
 * class 1.  NCLASS is the number of classes in the table (values from it
 * up are not classes). */
void confusion_add(struct confusion *c, const uint8_t *truth, size_t tstride,
    const uint8_t *pred, size_t pstride, size_t npix, int nclass, int binary);

/* Row sum (truth pixels), column sum (predicted pixels) and TP of C. */
void confusion_sums(const struct confusion *c, int k, uint64_t *tp,
    uint64_t *row, uint64_t *col);
double metrics_iou(const struct confusion *c, int k);
double metrics_dice(const struct confusion *c, int k);
double metrics_pixel_accuracy(const struct confusion *c);
double metrics_mean_iou(const struct confusion *c);

#endif
