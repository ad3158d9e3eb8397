/*
 * pointwise.c - the memory-bound ops: max-pool, leaky ReLU, group
 * normalisation, Adam and y += x.
 *
 * Each is a loop over NHWC data parallelised with OpenMP over its
 * outermost independent index.  Reductions (group statistics, gamma/beta
 * gradients) are summed in double in a fixed order, so results do not
 * depend on the thread count.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "nn/cpu/cpu.h"

// --- 2x2 max-pool, stride 2 -------------------------------------------------

CPU_VECTOR_SELECT void
cpu_maxpool2x2_forward(float *out, const float *inp, int B, int H, int W,
    int C)
{
	int Ho = H / 2, Wo = W / 2;

	#pragma omp parallel for schedule(static) \
	    if ((size_t)B * H * W * C >= CPU_PAR_MIN)
	for (int r = 0; r < B * Ho; r++) {
		int b = r / Ho, y = r % Ho;
		for (int x = 0; x < Wo; x++) {
			const float *p00 = inp + (((size_t)b * H + 2 * y) * W +
			    2 * x) * C;
			const float *p01 = p00 + C, *p10 = p00 + (size_t)W * C;
			const float *p11 = p10 + C;
			float *o = out + ((size_t)r * Wo + x) * C;
			for (int c = 0; c < C; c++) {
				float m = p00[c];
				m = p01[c] > m ? p01[c] : m;
				m = p10[c] > m ? p10[c] : m;
				m = p11[c] > m ? p11[c] : m;
				o[c] = m;
			}
		}
	}
}

void
cpu_maxpool2x2_backward(float *dinp, const float *dout, const float *inp,
    const float *out, int B, int H, int W, int C)
{
	int Ho = H / 2, Wo = W / 2;

	#pragma omp parallel for schedule(static) \
	    if ((size_t)B * H * W * C >= CPU_PAR_MIN)
	for (int r = 0; r < B * Ho; r++) {
		int b = r / Ho, y = r % Ho;
		for (int x = 0; x < Wo; x++) {
			size_t i00 = (((size_t)b * H + 2 * y) * W + 2 * x) * C;
			size_t idx[4] = { i00, i00 + C, i00 + (size_t)W * C,
			    i00 + (size_t)W * C + C };
			const float *o = out + ((size_t)r * Wo + x) * C;
			const float *d = dout + ((size_t)r * Wo + x) * C;
			for (int c = 0; c < C; c++) {
				int hit = 0;    /* the first maximum gets it */
				for (int k = 0; k < 4; k++) {
					size_t j = idx[k] + c;
					int win = !hit && inp[j] == o[c];
					dinp[j] = win ? d[c] : 0;
					hit |= win;
				}
			}
		}
	}
}

// --- leaky ReLU -------------------------------------------------------------

/* Vector selects (CPU_VECTOR_SELECT): the scalar branchy loops cost a
 * sixth of a training step. */
CPU_VECTOR_SELECT void
cpu_act_forward(float *out, const float *inp, size_t n, float alpha)
{
	#pragma omp parallel for simd schedule(static) \
	    if (parallel: n >= CPU_PAR_MIN)
	for (size_t i = 0; i < n; i++)
		out[i] = inp[i] > 0 ? inp[i] : alpha * inp[i];
}

CPU_VECTOR_SELECT void
cpu_act_backward(float *dinp, const float *dout, const float *out, size_t n,
    float alpha)
{
	#pragma omp parallel for simd schedule(static) \
	    if (parallel: n >= CPU_PAR_MIN)
	for (size_t i = 0; i < n; i++)
		dinp[i] = out[i] > 0 ? dout[i] : alpha * dout[i];
}

void
cpu_add(float *y, const float *x, size_t n)
{
	#pragma omp parallel for simd schedule(static) \
	    if (parallel: n >= CPU_PAR_MIN)
	for (size_t i = 0; i < n; i++)
		y[i] += x[i];
}

// --- group normalisation ----------------------------------------------------

/*
 * Per sample b and group g (channels g*C/G .. (g+1)*C/G - 1), over all HW
 * pixels: xhat = (x - mean) * rstd with the biased variance, as PyTorch's
 * GroupNorm; out = xhat * gamma[c] + beta[c].  Per image (one thread
 * each), the statistics take two passes summing each channel in double
 * over the pixels (NHWC: the inner loop runs over contiguous channels,
 * with the group's mean spread into a per-channel vector so that no loop
 * divides), and the output one pass of out = x * a[c] + s[c], the
 * normalisation and the affine map folded into one scale and shift.
 */
void
cpu_groupnorm_forward(float *out, float *mean, float *rstd,
    const float *inp, const float *gamma, const float *beta,
    int B, int HW, int C, int G, float eps)
{
	int cg = C / G;
	double cnt = (double)HW * cg;

	#pragma omp parallel for schedule(static) \
	    if ((size_t)B * HW * C >= CPU_PAR_MIN)
	for (int b = 0; b < B; b++) {
		const float *x = inp + (size_t)b * HW * C;
		float *o = out + (size_t)b * HW * C;
		double *s = xcalloc(C, sizeof(double));
		float *mc = xmalloc_array(C, sizeof(float));
		float *a = xmalloc_array(C, sizeof(float));
		float *sh = xmalloc_array(C, sizeof(float));
		for (size_t p = 0; p < (size_t)HW; p++)
			for (int c = 0; c < C; c++)
				s[c] += x[p * C + c];
		for (int g = 0; g < G; g++) {
			double mu = 0;
			for (int c = g * cg; c < (g + 1) * cg; c++)
				mu += s[c];
			mean[b * G + g] = (float)(mu / cnt);
			for (int c = g * cg; c < (g + 1) * cg; c++)
				mc[c] = mean[b * G + g];
		}
		memset(s, 0, C * sizeof(double));
		for (size_t p = 0; p < (size_t)HW; p++)
			for (int c = 0; c < C; c++) {
				float d = x[p * C + c] - mc[c];
				s[c] += (double)d * d;
			}
		for (int g = 0; g < G; g++) {
			double var = 0;
			for (int c = g * cg; c < (g + 1) * cg; c++)
				var += s[c];
			rstd[b * G + g] = (float)(1 / sqrt(var / cnt + eps));
			for (int c = g * cg; c < (g + 1) * cg; c++) {
				a[c] = rstd[b * G + g] * gamma[c];
				sh[c] = beta[c] - mc[c] * a[c];
			}
		}
		for (size_t p = 0; p < (size_t)HW; p++)
			for (int c = 0; c < C; c++)
				o[p * C + c] = x[p * C + c] * a[c] + sh[c];
		free(s);
		free(mc);
		free(a);
		free(sh);
	}
}

/*
 * With dxhat = dout * gamma and n = HW * C/G elements per group:
 *   dinp = rstd * (dxhat - mean_g(dxhat) - xhat * mean_g(dxhat * xhat))
 *   dgamma[c] += sum dout * xhat,  dbeta[c] += sum dout.
 * One pass sums dout and dout * x per channel in double, whence sum dout
 * * xhat = rstd * (sum dout * x - mean * sum dout); a second writes dinp
 * = dout * k1[c] + x * k2[c] + k3[c], the formula above expanded into
 * per-channel coefficients.
 */
void
cpu_groupnorm_backward(float *dinp, float *dgamma, float *dbeta,
    const float *dout, const float *inp, const float *mean,
    const float *rstd, const float *gamma, int B, int HW, int C, int G)
{
	int cg = C / G;
	double cnt = (double)HW * cg;
	double *dg = xcalloc((size_t)B * C, sizeof(double));
	double *dbt = xcalloc((size_t)B * C, sizeof(double));

	#pragma omp parallel for schedule(static) \
	    if ((size_t)B * HW * C >= CPU_PAR_MIN)
	for (int b = 0; b < B; b++) {
		const float *x = inp + (size_t)b * HW * C;
		const float *dy = dout + (size_t)b * HW * C;
		float *dx = dinp + (size_t)b * HW * C;
		double *sx = xcalloc(C, sizeof(double));
		double *a = dg + (size_t)b * C, *bb = dbt + (size_t)b * C;
		float *k = xmalloc_array((size_t)3 * C, sizeof(float));
		for (size_t p = 0; p < (size_t)HW; p++)
			for (int c = 0; c < C; c++) {
				double d = dy[p * C + c];
				sx[c] += d * x[p * C + c];
				bb[c] += d;
			}
		for (int g = 0; g < G; g++) {
			double mu = mean[b * G + g], rs = rstd[b * G + g];
			double s1 = 0, s2 = 0;
			for (int c = g * cg; c < (g + 1) * cg; c++) {
				a[c] = rs * (sx[c] - mu * bb[c]);
				s1 += bb[c] * gamma[c];
				s2 += a[c] * gamma[c];
			}
			s1 /= cnt, s2 /= cnt;
			for (int c = g * cg; c < (g + 1) * cg; c++) {
				k[c] = (float)(rs * gamma[c]);
				k[C + c] = (float)(-rs * rs * s2);
				k[2 * C + c] = (float)(rs * (mu * rs * s2 - s1));
			}
		}
		for (size_t p = 0; p < (size_t)HW; p++)
			for (int c = 0; c < C; c++)
				dx[p * C + c] = dy[p * C + c] * k[c] +
				    x[p * C + c] * k[C + c] + k[2 * C + c];
		free(sx);
		free(k);
	}
	for (int c = 0; c < C; c++) {
		double sa = 0, sb = 0;
		for (int b = 0; b < B; b++) {
			sa += dg[(size_t)b * C + c];
			sb += dbt[(size_t)b * C + c];
		}
		dgamma[c] += (float)sa;
		dbeta[c] += (float)sb;
	}
	free(dg);
	free(dbt);
}

// --- Adam -------------------------------------------------------------------

/*
 * AdamW as PyTorch computes it: decay first, then the moment updates, then
 * p -= (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps), with bcK = 1 -
 * betaK^t.  Written in that order so that the golden test against
 * PyTorch matches to float rounding.
 */
void
cpu_adam_update(float *p, float *m, float *v, const float *g, size_t n,
    float lr, float beta1, float beta2, float eps, float wd, long t)
{
	double bc1 = 1 - pow(beta1, (double)t), bc2 = 1 - pow(beta2, (double)t);
	float step = (float)(lr / bc1), sbc2 = (float)sqrt(bc2);

	#pragma omp parallel for schedule(static) \
	    if (n >= CPU_PAR_MIN)
	for (size_t i = 0; i < n; i++) {
		float pi = p[i] * (1 - lr * wd);
		m[i] = beta1 * m[i] + (1 - beta1) * g[i];
		v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
		p[i] = pi - step * m[i] / (sqrtf(v[i]) / sbc2 + eps);
	}
}
