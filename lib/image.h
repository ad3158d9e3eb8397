/*
 * image.h - Netpbm image streams through libnetpbm.
 *
 * One struct img holds one image in memory as interleaved 8-bit samples
 * (row-major, DEPTH samples per pixel).  Four kinds exist, as
 * share/doc/design.md defines them:
 *
 *	IMG_GRAY   PGM (or PAM GRAYSCALE), depth 1: photos or class maps
 *	IMG_RGB    PPM (or PAM RGB), depth 3: photos, colour maps
 *	IMG_RGBA   PAM RGB_ALPHA, depth 4: a cell sample (alpha 255 = cell)
 *	IMG_LABEL  PAM RGB_LABEL, depth 4: a tile, plane 3 = class index
 *
 * A stream is several images back to back.  Photo samples with a maxval
 * other than 255 are rescaled to 255 on input; label planes and class maps
 * are taken as they are and must hold class indices (0..n-1) or 255.
 *
 * Metadata (a sample's class and provenance) travels in the PAM header as
 * comment lines "# key: value", which Netpbm tools ignore.
 *
 * Every error is one line naming the file and, in a stream, the image
 * number: "prog: tiles.pam: image 3: truncated (...)".  A JPEG, PNG, BMP,
 * TIFF or GIF file is told by its magic number, and the message names the
 * Netpbm converter that decodes it.
 */
#ifndef SMEARSEG_IMAGE_H
#define SMEARSEG_IMAGE_H

#include <stddef.h>
#include <stdio.h>

enum img_kind {
	IMG_GRAY = 1,
	IMG_RGB = 2,
	IMG_RGBA = 4,
	IMG_LABEL = 8,
};
/* Flag for img_read's ACCEPT: a gray image is a class map (check values). */
#define IMG_CLASSMAP 0x100

struct img {
	int width, height, depth;
	enum img_kind kind;
	unsigned char *data;    /* height * width * depth */
	char *meta;             /* "key: value\n"..., or NULL */
};

struct img_reader {
	FILE *f;
	const char *name;       /* display name for messages */
	int count;              /* images read so far */
	int nclass;             /* classes in the table, for label checks */
};

/* Open PATH ("-" or NULL = stdin) for reading a stream. */
void img_open(struct img_reader *r, const char *path);
/* Read the next image into IM (allocating or reusing its buffer) and
 * return 1, or return 0 at a clean end of the stream after at least one
 * image.  ACCEPT is an OR of the kinds wanted (plus IMG_CLASSMAP); any
 * other kind, an empty stream, a truncated image or a bad label dies. */
int img_read(struct img_reader *r, struct img *im, unsigned accept);
void img_close(struct img_reader *r);

/* Write IM to F (NAME for messages) as PGM, PPM or PAM by its kind. */
void img_write(FILE *f, const char *name, const struct img *im);

/* Allocate a zeroed image of the given kind (meta = NULL). */
void img_alloc(struct img *im, int width, int height, enum img_kind kind);
void img_free(struct img *im);
int img_kind_depth(enum img_kind kind);
const char *img_kind_name(enum img_kind kind);

/* Metadata: value of KEY copied into BUF (size N), or NULL if absent. */
const char *img_meta_get(const struct img *im, const char *key,
    char *buf, size_t n);
/* Set KEY to VALUE (replacing it); VALUE must not contain a newline. */
void img_meta_set(struct img *im, const char *key, const char *value);
/* Copy the metadata of SRC into DST. */
void img_meta_copy(struct img *dst, const struct img *src);

#endif
