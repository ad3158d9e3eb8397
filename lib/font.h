/*
 * font.h - a small bitmap font for labels drawn into images (colorize's
 * legend): 7 x 12 pixel cells, printable ASCII.
 *
 * libnetpbm draws no text.  The glyphs are those of Netpbm's built-in
 * "fixed" font, as `pbmtext -builtin fixed -nomargins` draws them, kept
 * here as a table so that a program needs neither pbmtext nor a font file
 * at run time.
 */
#ifndef SMEARSEG_FONT_H
#define SMEARSEG_FONT_H

#include "image.h"

#define FONT_W 7
#define FONT_H 12

/* The width in pixels of S drawn at integer magnification SCALE. */
int font_width(const char *s, int scale);
/* Draw S into the RGB image IM with its top left corner at (X, Y), in
 * colour RGB, each font pixel a SCALE x SCALE block; clipped to IM.
 * Characters outside printable ASCII are drawn as '?'. */
void font_draw(struct img *im, int x, int y, const char *s,
    const unsigned char rgb[3], int scale);

#endif
