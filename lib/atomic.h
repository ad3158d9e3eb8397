/*
 * atomic.h - write a file so that it appears complete or not at all.
 *
 * atomic_open() creates a temporary ".NAME.tmpXXXXXX" beside PATH (the same
 * directory, hence the same file system, so that rename() is atomic);
 * atomic_commit() flushes it to disk and renames it over PATH.  A crash
 * before the rename leaves PATH as it was; die() removes every temporary
 * still open, through the util.h die hook that this module installs.
 *
 *	struct atomic_file af;
 *	FILE *f = atomic_open(&af, "model.safetensors");
 *	fwrite(..., f);
 *	atomic_commit(&af);
 *
 * The caller owns the struct, which must stay in place until
 * atomic_commit() or atomic_abort() (the module keeps a list of them).
 */
#ifndef SMEARSEG_ATOMIC_H
#define SMEARSEG_ATOMIC_H

#include <stdio.h>

struct atomic_file {
	FILE *f;
	char *path;             /* final name */
	char *tmp;              /* temporary name, in the same directory */
	struct atomic_file *next;
};

/* Create the temporary for PATH (mode 0666 less the umask, as fopen would
 * give) and return it open for writing.  Dies on failure, and if PATH is
 * a device, FIFO, socket or directory: a rename would replace it by a
 * regular file.  A symbolic link is followed: its target is replaced and
 * the link stays. */
FILE *atomic_open(struct atomic_file *af, const char *path);
/* Die as atomic_open() would on PATH's name and kind, creating nothing:
 * for a program to check its output names before its work. */
void atomic_check(const char *path);
/* Check for write errors, flush, fsync, close, rename into place and fsync
 * the directory; dies naming PATH on any failure, removing the temporary. */
void atomic_commit(struct atomic_file *af);
/* Close and remove the temporary; PATH is left as it was. */
void atomic_abort(struct atomic_file *af);

/* Remove the temporaries ".NAME.tmpXXXXXX" of PATH that a writer killed
 * before its commit left behind (kill -9, a power cut: no die hook ran).
 * For a program that owns PATH, such as a training run its checkpoint;
 * never while another process may be writing PATH. */
void atomic_remove_stale(const char *path);

#endif
