/*
 * threads.h - one knob for the CPU threads of the engine.
 */
#ifndef SMEARSEG_THREADS_H
#define SMEARSEG_THREADS_H

/* Use N threads (N >= 1) for the OpenMP loops and the GEMMs. */
void threads_set(int n);
/* The processors online, at least 1: the default thread count. */
int threads_online(void);

#endif
