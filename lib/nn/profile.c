/*
 * profile.c - where a backend's time goes (profile.h).
 *
 * nn_profile_wrap returns a copy of a backend's op table whose compute
 * and transfer ops wait for the backend (sync), read the clock, run the
 * real op, wait again and add the time to the op's line, one line per op
 * and shape (a 3x3 conv at 224x224 with 35 -> 32 channels is not the one
 * at 14x14).  Waiting before and after every op takes away what
 * overlaps between ops and leaves a GPU idle between them: on an H200 a
 * profiled step of the reference network took 1.7 to 2.1 times as long
 * as an unprofiled one, and the first ops after an idle spell looked
 * slowest.  The bulk of the shares is what the profile is for.
 * nn_profile_report prints the lines by time, largest first.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nn/profile.h"

#define MAXLINES 256

static struct line {
	char what[64];
	double seconds, flop;
	long calls;
} lines[MAXLINES];
static int nlines;
static const struct nn_ops *real;
static struct nn_ops wrapped;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static double t0;

static void
begin(void)
{
	real->sync();
	t0 = now();
}

/* Ends the op begun last: its time goes to the line WHAT (printf). */
static void
end(double flop, const char *fmt, ...)
{
	char what[64];
	va_list ap;
	double dt;
	int i;

	real->sync();
	dt = now() - t0;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	for (i = 0; i < nlines && strcmp(lines[i].what, what) != 0; i++)
		;
	if (i == nlines) {
		if (nlines == MAXLINES)
			i = MAXLINES - 1, snprintf(what, sizeof what, "other");
		else
			nlines++;
		snprintf(lines[i].what, sizeof lines[i].what, "%s", what);
	}
	lines[i].seconds += dt;
	lines[i].flop += flop;
	lines[i].calls++;
}

/* One 3x3 conv FN, forward or for inference (KIND). */
static void
timed_conv3x3(nn_conv3x3_fn *fn, const char *kind, float *out,
    const float *inp, const float *inp2, const float *w, const float *bias,
    int B, int H, int W, int Cin, int Cin2, int Cout, float alpha)
{
	begin();
	fn(out, inp, inp2, w, bias, B, H, W, Cin, Cin2, Cout, alpha);
	end(18.0 * B * H * W * (Cin + Cin2) * Cout, "conv3x3 %s %dx%d %d->%d",
	    kind, H, W, Cin + Cin2, Cout);
}

static void
p_conv3x3_forward(float *out, const float *inp, const float *inp2,
    const float *w, const float *bias, int B, int H, int W, int Cin,
    int Cin2, int Cout, float alpha)
{
	timed_conv3x3(real->conv3x3_forward, "forward", out, inp, inp2, w,
	    bias, B, H, W, Cin, Cin2, Cout, alpha);
}

static void
p_conv3x3_infer(float *out, const float *inp, const float *inp2,
    const float *w, const float *bias, int B, int H, int W, int Cin,
    int Cin2, int Cout, float alpha)
{
	timed_conv3x3(real->conv3x3_infer, "infer", out, inp, inp2, w, bias,
	    B, H, W, Cin, Cin2, Cout, alpha);
}

static void
p_conv3x3_backward(float *dinp, float *dinp2, float *dw, float *dbias,
    const float *dout, const float *inp, const float *inp2, const float *w,
    int B, int H, int W, int Cin, int Cin2, int Cout)
{
	begin();
	real->conv3x3_backward(dinp, dinp2, dw, dbias, dout, inp, inp2, w, B,
	    H, W, Cin, Cin2, Cout);
	end(18.0 * B * H * W * (Cin + Cin2) * Cout *
	    (dinp != NULL || dinp2 != NULL ? 2 : 1), "conv3x3 backward %dx%d "
	    "%d->%d", H, W, Cin + Cin2, Cout);
}

static void
p_conv1x1_forward(float *out, const float *inp, const float *w,
    const float *bias, int N, int Cin, int Cout)
{
	begin();
	real->conv1x1_forward(out, inp, w, bias, N, Cin, Cout);
	end(2.0 * N * Cin * Cout, "conv1x1 forward %d->%d", Cin, Cout);
}

static void
p_conv1x1_backward(float *dinp, float *dw, float *dbias, const float *dout,
    const float *inp, const float *w, int N, int Cin, int Cout)
{
	begin();
	real->conv1x1_backward(dinp, dw, dbias, dout, inp, w, N, Cin, Cout);
	end(2.0 * N * Cin * Cout * (dinp != NULL ? 2 : 1),
	    "conv1x1 backward %d->%d", Cin, Cout);
}

static void
p_convt2x2_forward(float *out, const float *inp, const float *w,
    const float *bias, int B, int H, int W, int Cin, int Cout)
{
	begin();
	real->convt2x2_forward(out, inp, w, bias, B, H, W, Cin, Cout);
	end(8.0 * B * H * W * Cin * Cout, "convt2x2 forward %dx%d %d->%d",
	    H, W, Cin, Cout);
}

static void
p_convt2x2_backward(float *dinp, float *dw, float *dbias, const float *dout,
    const float *inp, const float *w, int B, int H, int W, int Cin, int Cout)
{
	begin();
	real->convt2x2_backward(dinp, dw, dbias, dout, inp, w, B, H, W, Cin,
	    Cout);
	end(8.0 * B * H * W * Cin * Cout * (dinp != NULL ? 2 : 1),
	    "convt2x2 backward %dx%d %d->%d", H, W, Cin, Cout);
}

static void
p_maxpool2x2_forward(float *out, const float *inp, int B, int H, int W,
    int C)
{
	begin();
	real->maxpool2x2_forward(out, inp, B, H, W, C);
	end(0, "maxpool forward %dx%d %d", H, W, C);
}

static void
p_maxpool2x2_backward(float *dinp, const float *dout, const float *inp,
    const float *out, int B, int H, int W, int C)
{
	begin();
	real->maxpool2x2_backward(dinp, dout, inp, out, B, H, W, C);
	end(0, "maxpool backward %dx%d %d", H, W, C);
}

static void
p_act_forward(float *out, const float *inp, size_t n, float alpha)
{
	begin();
	real->act_forward(out, inp, n, alpha);
	end(0, "activation forward");
}

static void
p_act_backward(float *dinp, const float *dout, const float *out, size_t n,
    float alpha)
{
	begin();
	real->act_backward(dinp, dout, out, n, alpha);
	end(0, "activation backward");
}

static void
p_groupnorm_forward(float *out, float *mean, float *rstd, const float *inp,
    const float *gamma, const float *beta, int B, int HW, int C, int G,
    float eps)
{
	begin();
	real->groupnorm_forward(out, mean, rstd, inp, gamma, beta, B, HW, C,
	    G, eps);
	end(0, "groupnorm forward %d px %d", HW, C);
}

static void
p_groupnorm_backward(float *dinp, float *dgamma, float *dbeta,
    const float *dout, const float *inp, const float *mean,
    const float *rstd, const float *gamma, int B, int HW, int C, int G)
{
	begin();
	real->groupnorm_backward(dinp, dgamma, dbeta, dout, inp, mean, rstd,
	    gamma, B, HW, C, G);
	end(0, "groupnorm backward %d px %d", HW, C);
}

static void
p_xent_forward(float *probs, double *sums, const float *logits,
    const uint8_t *labels, const float *class_w, const uint32_t *sets,
    int N, int K)
{
	begin();
	real->xent_forward(probs, sums, logits, labels, class_w, sets, N, K);
	end(0, "loss forward");
}

static void
p_xent_backward(float *dlogits, const float *probs, const uint8_t *labels,
    const float *class_w, const uint32_t *sets, float scale, int N, int K)
{
	begin();
	real->xent_backward(dlogits, probs, labels, class_w, sets, scale, N,
	    K);
	end(0, "loss backward");
}

static void
p_softmax_forward(float *probs, const float *logits, int N, int K)
{
	begin();
	real->softmax_forward(probs, logits, N, K);
	end(0, "softmax");
}

static void
p_adam_update(float *p, float *m, float *v, const float *g, size_t n,
    float lr, float beta1, float beta2, float eps, float wd, long t)
{
	begin();
	real->adam_update(p, m, v, g, n, lr, beta1, beta2, eps, wd, t);
	end(0, "adam");
}

static void
p_add(float *y, const float *x, size_t n)
{
	begin();
	real->add(y, x, n);
	end(0, "add");
}

static void
p_zero(void *p, size_t bytes)
{
	begin();
	real->zero(p, bytes);
	end(0, "zero");
}

static void
p_upload(void *dst, const void *src, size_t bytes)
{
	begin();
	real->upload(dst, src, bytes);
	end(0, "upload");
}

static void
p_download(void *dst, const void *src, size_t bytes)
{
	begin();
	real->download(dst, src, bytes);
	end(0, "download");
}

static void
p_allreduce_mean(float *buf, size_t n)
{
	begin();
	real->allreduce_mean(buf, n);
	end(0, "allreduce");
}

const struct nn_ops *
nn_profile_wrap(const struct nn_ops *ops)
{
	if (real != NULL && real != ops)        /* a second backend: as is */
		return ops;
	real = ops;
	wrapped = *ops;
#define W(op) if (ops->op != NULL) wrapped.op = p_##op
	W(conv3x3_forward);
	W(conv3x3_infer);
	W(conv3x3_backward);
	W(conv1x1_forward);
	W(conv1x1_backward);
	W(convt2x2_forward);
	W(convt2x2_backward);
	W(maxpool2x2_forward);
	W(maxpool2x2_backward);
	W(act_forward);
	W(act_backward);
	W(groupnorm_forward);
	W(groupnorm_backward);
	W(xent_forward);
	W(xent_backward);
	W(softmax_forward);
	W(adam_update);
	W(add);
	W(zero);
	W(upload);
	W(download);
	W(allreduce_mean);
#undef W
	return &wrapped;
}

void
nn_profile_reset(void)
{
	nlines = 0;
}

static int
by_time(const void *a, const void *b)
{
	double x = ((const struct line *)a)->seconds;
	double y = ((const struct line *)b)->seconds;

	return (x < y) - (x > y);
}

void
nn_profile_report(FILE *f)
{
	double total = 0;

	qsort(lines, nlines, sizeof lines[0], by_time);
	for (int i = 0; i < nlines; i++)
		total += lines[i].seconds;
	fprintf(f, "profile: %s: %.3f s in %d kinds of op\n",
	    real != NULL ? real->describe() : "?", total, nlines);
	for (int i = 0; i < nlines; i++) {
		fprintf(f, "profile: %5.1f%% %9.3f ms %7ld calls  %s",
		    total > 0 ? 100 * lines[i].seconds / total : 0,
		    1e3 * lines[i].seconds, lines[i].calls, lines[i].what);
		if (lines[i].flop > 0 && lines[i].seconds > 0)
			fprintf(f, "  %.1f GFLOP/s",
			    lines[i].flop / lines[i].seconds / 1e9);
		fputc('\n', f);
	}
}
