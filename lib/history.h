/*
 * history.h - a training run's epochs as JSON, written through jansson:
 * the history array that models and checkpoints keep in their metadata
 * (training.history) and the JSON Lines log, one object per epoch.
 *
 *	history  [{"epoch": 1, "lr": 0.01, "train_loss": 1.938764,
 *	           "val_loss": 1.413161, "val_pixel_accuracy": 0.462811,
 *	           "val_mean_iou": 0.081488}, ...]
 *	log      the same object plus "seconds", "train_tiles_per_s" and
 *	         "ranks", one a line
 *
 * Losses and scores are rounded to 6 decimals, times and rates to 3, the
 * learning rate to 6 significant digits; each is written as the shortest
 * text of that rounded value (0.5, not 0.500000).  A value that is not a
 * number (a diverged loss) is written as null.
 */
#ifndef SMEARSEG_HISTORY_H
#define SMEARSEG_HISTORY_H

#include <stdio.h>

/* One epoch of training. */
struct epoch_record {
	int epoch;              /* 1-based */
	double lr;              /* at the epoch's start */
	double train_loss, val_loss;
	double val_acc, val_miou;       /* validation accuracy, mean IoU */
	double seconds;         /* the whole epoch (log only) */
	double tiles_per_s;     /* training steps, all ranks (log only) */
	int ranks;              /* (log only) */
};

/* The history HISTORY (JSON text of an array, checked by history_check()
 * where it comes from a file) with E appended, malloc'd. */
char *history_append(const char *history, const struct epoch_record *e);
/* Die naming the file NAME unless HISTORY, its training.history, is the
 * JSON text of an array. */
void history_check(const char *history, const char *name);
/* Append E to the log F (named NAME) as one line, and flush it; dies on a
 * write error. */
void history_log(FILE *f, const char *name, const struct epoch_record *e);

/* Make the log PATH (if it exists) end with the record of epoch EPOCHS,
 * the last one a checkpoint holds: the records after it, of epochs a run
 * killed after its log line and before its checkpoint, and a line cut
 * short, are removed, so that a resumed run does not log an epoch twice.
 * The file is rewritten atomically. */
void history_log_trim(const char *path, int epochs);

#endif
