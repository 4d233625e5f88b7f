/* ocaml_num.h: XAPI's number readers, Int64.of_string and float_of_string
 * of the OCaml runtime, with their exact acceptance (private to server/).
 * XAPI reads every XML-RPC <i4>/<int>/<i8> and every int64 parameter sent
 * as a string with the first, <double> and float strings with the second;
 * the XML-RPC reader and the wire decoder both answer what XAPI answers.
 * Inputs are (pointer, length): an embedded NUL is an error, as in OCaml. */
#ifndef XG_OCAML_NUM_H
#define XG_OCAML_NUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

static inline int xg_ocaml_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 10;
    return -1;
}

/* [+-]? then 0x/0o/0b (any 64-bit pattern, so 0xFFFFFFFFFFFFFFFF is -1) or
 * 0u (unsigned decimal) or plain decimal (int64 range); a digit first, then
 * digits and '_'. No whitespace anywhere. */
static inline bool xg_ocaml_int64_of_string(const char *s, size_t n, int64_t *out)
{
    const char *p = s, *end = s + n;
    bool neg = false, is_signed = true;
    unsigned base = 10;
    if (p < end && (*p == '-' || *p == '+'))
        neg = *p++ == '-';
    if (end - p >= 2 && p[0] == '0') {
        switch (p[1]) {
        case 'x': case 'X': base = 16; is_signed = false; p += 2; break;
        case 'o': case 'O': base = 8; is_signed = false; p += 2; break;
        case 'b': case 'B': base = 2; is_signed = false; p += 2; break;
        case 'u': case 'U': is_signed = false; p += 2; break;
        default: break;
        }
    }
    if (p >= end)
        return false;
    int d = xg_ocaml_digit(*p);
    if (d < 0 || (unsigned)d >= base)
        return false;
    uint64_t res = (uint64_t)d, threshold = UINT64_MAX / base;
    for (p++; p < end; p++) {
        if (*p == '_')
            continue;
        d = xg_ocaml_digit(*p);
        if (d < 0 || (unsigned)d >= base)
            return false;
        if (res > threshold)
            return false;
        res = res * base + (uint64_t)d;
        if (res < (uint64_t)d)
            return false;
    }
    if (is_signed && res > (neg ? (uint64_t)1 << 63 : ((uint64_t)1 << 63) - 1))
        return false;
    *out = (int64_t)(neg ? 0 - res : res);
    return true;
}

/* '_' ignored anywhere, then the whole rest must be one strtod number
 * (decimal, hex float, inf, nan; leading whitespace is strtod's). */
static inline bool xg_ocaml_float_of_string(const char *s, size_t n, double *out)
{
    char small[64];
    char *buf = n < sizeof(small) ? small : malloc(n + 1);
    if (!buf)
        return false;
    size_t j = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] != '_')
            buf[j++] = s[i];
    buf[j] = '\0';
    char *e = buf;
    double v = j ? strtod(buf, &e) : 0;
    bool ok = j && e == buf + j;
    if (buf != small)
        free(buf);
    if (ok)
        *out = v;
    return ok;
}

#endif
