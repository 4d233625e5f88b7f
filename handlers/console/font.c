/* font.c: code point → glyph bitmap over the generated tables. */
#include "font.h"

#include <stddef.h>

static int find(uint32_t cp)
{
    size_t lo = 0, hi = xg_font_nmap;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (xg_font_map[mid].cp == cp)
            return xg_font_map[mid].glyph;
        if (xg_font_map[mid].cp < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

const unsigned char *xg_font_glyph(uint32_t cp)
{
    int g = find(cp);
    if (g < 0)
        g = find(0xFFFD);
    if (g < 0)
        g = find('?');
    if (g < 0 || (unsigned)g >= xg_font_nglyphs)
        g = 0;
    return xg_font_bits + (size_t)g * xg_font_height;
}
