/*
 * threads.h - one knob for the CPU threads of OpenMP and of the BLAS.
 */
#ifndef SMEARSEG_THREADS_H
#define SMEARSEG_THREADS_H

/* Use N threads (N >= 1) for OpenMP loops and BLAS calls. */
void threads_set(int n);

#endif
