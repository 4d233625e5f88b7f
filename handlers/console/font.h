/* font.h: the console font, compiled in from a Debian PSF font at build
 * time (font_gen.py; psf-unifont's Unifont-APL8x16): 8-pixel-wide glyphs,
 * one byte per pixel row, most significant bit leftmost. */
#ifndef XG_CONSOLE_FONT_H
#define XG_CONSOLE_FONT_H

#include <stdint.h>

#define XG_FONT_WIDTH 8

struct xg_font_map { uint32_t cp; uint16_t glyph; };

extern const unsigned xg_font_height, xg_font_nglyphs, xg_font_nmap;
extern const unsigned char xg_font_bits[];           /* nglyphs * height */
extern const struct xg_font_map xg_font_map[];        /* sorted by cp */

/* The bitmap (xg_font_height bytes) of code point cp: U+FFFD or '?' when
 * the font has no glyph for it. */
const unsigned char *xg_font_glyph(uint32_t cp);

#endif
