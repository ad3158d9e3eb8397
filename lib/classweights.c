/*
 * classweights.c - median-frequency class weights (classweights.h).
 */
#include "classweights.h"

#include <math.h>

#include "classes.h"

void
class_weights(float *w, const uint64_t *counts, int k, enum unet_cw scheme,
    double wmax)
{
	double f[CLASS_MAX], sorted[CLASS_MAX], median, total = 0;
	int i, j, np = 0;

	for (i = 0; i < k; i++)
		total += counts[i];
	for (i = 0; i < k; i++) {
		f[i] = total > 0 ? counts[i] / total : 0;
		if (f[i] > 0)
			sorted[np++] = f[i];
	}
	for (i = 1; i < np; i++)        /* insertion sort: k is small */
		for (j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) {
			double s = sorted[j];
			sorted[j] = sorted[j - 1];
			sorted[j - 1] = s;
		}
	median = np == 0 ? 1 : np % 2 ? sorted[np / 2] :
	    (sorted[np / 2 - 1] + sorted[np / 2]) / 2;
	for (i = 0; i < k; i++) {
		double v = 1;
		if (scheme != UNET_CW_NONE) {
			v = f[i] > 0 ? median / f[i] : wmax;
			if (scheme == UNET_CW_INV_SQRT_FREQ)
				v = sqrt(v);
			v = v > wmax ? wmax : v < 1 / wmax ? 1 / wmax : v;
		}
		w[i] = (float)v;
	}
}
