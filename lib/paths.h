/*
 * paths.h - where the shared data (class table, configs, blocks, models)
 * lives at run time.
 *
 * In order: $SMEARSEG_SHARE; DIR/../share/smearseg and DIR/../share next to
 * the running executable (an installed tree and the source tree); the
 * compiled-in PREFIX/share/smearseg.  So bin/colorize in a checkout and
 * /usr/local/bin/colorize both find their table without configuration.
 */
#ifndef SMEARSEG_PATHS_H
#define SMEARSEG_PATHS_H

/* The directory of the running executable (static storage), or NULL if
 * it cannot be told. */
const char *exe_dir(void);
/* The share directory (static storage); dies if none holds classes.yaml. */
const char *share_dir(void);
/* share_dir() + "/" + REL, malloc'ed. */
char *share_path(const char *rel);
/* PATH itself, unless it is a bare file name (no '/') that does not exist
 * here but does in the share directory: then that one.  So "-c unet.yaml"
 * finds the shipped config from any directory.  Never dies. */
const char *share_resolve(const char *path);

#endif
