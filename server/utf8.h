/* utf8.h: strict UTF-8 sequence check shared by both writers (rejects
 * overlong forms, surrogates and code points past U+10FFFF, so
 * guest-controlled bytes never reach a client as bad UTF-8), and the
 * encoder of one code point. */
#ifndef XG_UTF8_H
#define XG_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Length (2..4) of the valid multi-byte sequence at p, or 0 if invalid.
 * p[0] must be >= 0x80. */
static inline size_t xg_utf8_seq(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    if (c >= 0xC2 && c <= 0xDF) {
        return (n >= 2 && (p[1] & 0xC0) == 0x80) ? 2 : 0;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        if (n < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
            return 0;
        if (c == 0xE0 && p[1] < 0xA0)
            return 0;                       /* overlong */
        if (c == 0xED && p[1] >= 0xA0)
            return 0;                       /* surrogate */
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (n < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 ||
            (p[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && p[1] < 0x90)
            return 0;                       /* overlong */
        if (c == 0xF4 && p[1] >= 0x90)
            return 0;                       /* > U+10FFFF */
        return 4;
    }
    return 0;
}

#define XG_UTF8_REPLACEMENT "\xEF\xBF\xBD"

/* Writes code point u (< 0x110000) to o as UTF-8; returns its 1..4 bytes. */
static inline size_t xg_utf8_put(char *o, uint32_t u)
{
    if (u < 0x80) {
        o[0] = (char)u;
        return 1;
    }
    if (u < 0x800) {
        o[0] = (char)(0xC0 | u >> 6);
        o[1] = (char)(0x80 | (u & 0x3F));
        return 2;
    }
    if (u < 0x10000) {
        o[0] = (char)(0xE0 | u >> 12);
        o[1] = (char)(0x80 | (u >> 6 & 0x3F));
        o[2] = (char)(0x80 | (u & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | u >> 18);
    o[1] = (char)(0x80 | (u >> 12 & 0x3F));
    o[2] = (char)(0x80 | (u >> 6 & 0x3F));
    o[3] = (char)(0x80 | (u & 0x3F));
    return 4;
}

#endif
