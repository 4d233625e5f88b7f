/* xml_scan.c: see xml_scan.h. Lexical errors read
 * "Xmlrpc.Parse_error(<what>)", the form of XAPI's answer for a body its
 * XML parser refuses. */
#include "xml_scan.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "utf8.h"

bool xg_xml_fail(xg_xml *x, const char *fmt, ...)
{
    if (!x->failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(x->msg, x->msglen, fmt, ap);
        va_end(ap);
        x->failed = true;
    }
    return false;
}

static bool lex_fail(xg_xml *x, const char *what)
{
    return xg_xml_fail(x, "Xmlrpc.Parse_error(%s)", what);
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool starts(const char *p, const char *end, const char *s, size_t n)
{
    return (size_t)(end - p) >= n && memcmp(p, s, n) == 0;
}

/* ===== encodings ====================================================== */

static bool from_utf16(xg_xml *x, const unsigned char *s, size_t n, bool be)
{
    if (n % 2)
        return lex_fail(x, "truncated UTF-16");
    char *out = xg_arena_alloc(x->a, n / 2 * 3 + 1);   /* a unit makes <= 3 bytes */
    if (!out)
        return xg_xml_fail(x, "request too large");
    size_t o = 0;
    for (size_t i = 0; i < n; i += 2) {
        uint32_t u = be ? (uint32_t)(s[i] << 8 | s[i + 1]) : (uint32_t)(s[i + 1] << 8 | s[i]);
        if (u >= 0xDC00 && u <= 0xDFFF)
            return lex_fail(x, "malformed UTF-16");
        if (u >= 0xD800 && u <= 0xDBFF) {
            if (i + 3 >= n)
                return lex_fail(x, "malformed UTF-16");
            uint32_t lo = be ? (uint32_t)(s[i + 2] << 8 | s[i + 3])
                             : (uint32_t)(s[i + 3] << 8 | s[i + 2]);
            if (lo < 0xDC00 || lo > 0xDFFF)
                return lex_fail(x, "malformed UTF-16");
            u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
            i += 2;
        }
        o += xg_utf8_put(out + o, u);
    }
    x->p = out;
    x->end = out + o;
    return true;
}

static bool from_latin1(xg_xml *x)
{
    size_t n = (size_t)(x->end - x->p);
    char *out = xg_arena_alloc(x->a, 2 * n + 1);
    if (!out)
        return xg_xml_fail(x, "request too large");
    size_t o = 0;
    for (const char *p = x->p; p < x->end; p++)
        o += xg_utf8_put(out + o, (unsigned char)*p);
    x->p = out;
    x->end = out + o;
    return true;
}

/* The encoding="..." of a leading XML declaration; n = 0 when none. */
static const char *declared_encoding(const char *p, const char *end, size_t *n)
{
    *n = 0;
    if (!starts(p, end, "<?xml", 5) || end - p < 6 || !is_space(p[5]))
        return NULL;
    const char *q = memmem(p, (size_t)(end - p), "?>", 2);
    const char *e = q ? memmem(p, (size_t)(q - p), "encoding", 8) : NULL;
    if (!e)
        return NULL;
    for (e += 8; e < q && is_space(*e); e++)
        ;
    if (e >= q || *e++ != '=')
        return NULL;
    while (e < q && is_space(*e))
        e++;
    if (e >= q || (*e != '"' && *e != '\''))
        return NULL;
    const char *close = memchr(e + 1, *e, (size_t)(q - e - 1));
    if (!close)
        return NULL;
    *n = (size_t)(close - e - 1);
    return e + 1;
}

static bool named(const char *s, size_t n, const char *const *names)
{
    for (; *names; names++)
        if (strlen(*names) == n && strncasecmp(s, *names, n) == 0)
            return true;
    return false;
}

bool xg_xml_begin(xg_xml *x, xg_arena *a, const char *body, size_t len,
                  char *msg, size_t msglen)
{
    static const char *const utf8[] = { "UTF-8", "UTF8", "US-ASCII", "ASCII", NULL };
    static const char *const latin1[] = { "ISO-8859-1", "ISO_8859-1", "LATIN1",
                                          "LATIN-1", NULL };
    const unsigned char *u = (const unsigned char *)body;
    memset(x, 0, sizeof(*x));
    x->a = a;
    x->msg = msg;
    x->msglen = msglen;
    x->p = body;
    x->end = body + len;
    if (len >= 2 && ((u[0] == 0xFE && u[1] == 0xFF) || (u[0] == 0xFF && u[1] == 0xFE)))
        return from_utf16(x, u + 2, len - 2, u[0] == 0xFE);
    if (len >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF)
        x->p += 3;
    size_t n;
    const char *enc = declared_encoding(x->p, x->end, &n);
    if (!enc || named(enc, n, utf8))
        return true;
    if (named(enc, n, latin1))
        return from_latin1(x);
    return xg_xml_fail(x, "Xmlrpc.Parse_error(unsupported encoding %.*s)",
                       (int)(n < 40 ? n : 40), enc);
}

/* ===== markup that is skipped ========================================= */

/* The end of the comment, PI or CDATA section at p (after its terminator),
 * NULL with the error set when it has none. */
static const char *skip_construct(xg_xml *x, const char *p)
{
    const char *open, *close;
    if (starts(p, x->end, "<!--", 4))
        open = "<!--", close = "-->";
    else if (starts(p, x->end, "<![CDATA[", 9))
        open = "<![CDATA[", close = "]]>";
    else
        open = "<?", close = "?>";
    const char *from = p + strlen(open);
    const char *e = memmem(from, (size_t)(x->end - from), close, strlen(close));
    if (!e) {
        lex_fail(x, "unterminated comment, CDATA or processing instruction");
        return NULL;
    }
    return e + strlen(close);
}

bool xg_xml_skip_space(xg_xml *x)
{
    for (;;) {
        while (x->p < x->end && is_space(*x->p))
            x->p++;
        if (x->end - x->p < 2 || x->p[0] != '<')
            return true;
        if (x->p[1] == '?' || starts(x->p, x->end, "<!--", 4)) {
            if (!(x->p = skip_construct(x, x->p)))
                return false;
            continue;
        }
        if (x->p[1] == '!' && !starts(x->p, x->end, "<![CDATA[", 9))
            return lex_fail(x, "DTD or markup declaration refused");
        return true;
    }
}

/* ===== character data ================================================= */

/* Where the text at x->p ends: the next start or end tag, or the end. */
static const char *text_end(xg_xml *x)
{
    const char *q = x->p;
    while ((q = memchr(q, '<', (size_t)(x->end - q))) != NULL) {
        if (x->end - q >= 2 && q[1] == '!' && !starts(q, x->end, "<!--", 4) &&
            !starts(q, x->end, "<![CDATA[", 9)) {
            lex_fail(x, "DTD or markup declaration refused");
            return NULL;
        }
        if (x->end - q < 2 || (q[1] != '!' && q[1] != '?'))
            return q;
        if (!(q = skip_construct(x, q)))
            return NULL;
    }
    return x->end;
}

/* Copies characters, normalising line ends; refuses what XML forbids. */
static bool copy_chars(xg_xml *x, const char *s, const char *e, char *out, size_t *o)
{
    while (s < e) {
        const char *r = s;
        while (r < e && (unsigned char)*r >= 0x20 && (unsigned char)*r < 0x80)
            r++;
        memcpy(out + *o, s, (size_t)(r - s));
        *o += (size_t)(r - s);
        if (r >= e)
            break;
        unsigned char c = (unsigned char)*r;
        if (c == '\t' || c == '\n') {
            out[(*o)++] = (char)c;
            s = r + 1;
        } else if (c == '\r') {
            out[(*o)++] = '\n';
            s = r + 1 + (r + 1 < e && r[1] == '\n');
        } else if (c >= 0x80) {
            size_t k = xg_utf8_seq((const unsigned char *)r, (size_t)(e - r));
            if (!k)
                return lex_fail(x, "malformed UTF-8");
            memcpy(out + *o, r, k);
            *o += k;
            s = r + k;
        } else {
            return lex_fail(x, "illegal character");
        }
    }
    return true;
}

static bool xml_char(uint32_t u)
{
    return u == 0x9 || u == 0xA || u == 0xD || (u >= 0x20 && u <= 0xD7FF) ||
           (u >= 0xE000 && u <= 0xFFFD) || (u >= 0x10000 && u <= 0x10FFFF);
}

/* &name; or &#N; or &#xH; at *p; never writes more bytes than it reads. */
static bool reference(xg_xml *x, const char **p, const char *end, char *out, size_t *o)
{
    static const struct { const char *name; char c; } ents[] = {
        { "lt", '<' }, { "gt", '>' }, { "amp", '&' }, { "quot", '"' }, { "apos", '\'' },
    };
    const char *s = *p + 1;
    const char *semi = memchr(s, ';', (size_t)(end - s) < 32 ? (size_t)(end - s) : 32);
    if (!semi || semi == s)
        return lex_fail(x, "malformed reference");
    size_t n = (size_t)(semi - s);
    if (s[0] == '#') {
        bool hex = n > 1 && s[1] == 'x';
        const char *d = s + 1 + hex;
        uint32_t u = 0;
        if (d == semi)
            return lex_fail(x, "malformed character reference");
        for (; d < semi; d++) {
            int v = *d >= '0' && *d <= '9' ? *d - '0'
                  : hex && *d >= 'a' && *d <= 'f' ? *d - 'a' + 10
                  : hex && *d >= 'A' && *d <= 'F' ? *d - 'A' + 10 : -1;
            if (v < 0)
                return lex_fail(x, "malformed character reference");
            u = u * (hex ? 16 : 10) + (uint32_t)v;
            if (u > 0x10FFFF)
                return lex_fail(x, "illegal character reference");
        }
        if (!xml_char(u))
            return lex_fail(x, "illegal character reference");
        *o += xg_utf8_put(out + *o, u);
    } else {
        size_t i = 0;
        while (i < sizeof(ents) / sizeof(ents[0]) &&
               !(strlen(ents[i].name) == n && memcmp(ents[i].name, s, n) == 0))
            i++;
        if (i == sizeof(ents) / sizeof(ents[0]))
            return lex_fail(x, "unknown entity");
        out[(*o)++] = ents[i].c;
    }
    *p = semi + 1;
    return true;
}

static bool decode(xg_xml *x, const char *p, const char *end, char *out, size_t *o)
{
    while (p < end) {
        if (*p == '<') {                  /* text_end left only these three */
            const char *next = skip_construct(x, p);
            if (starts(p, end, "<![CDATA[", 9) && !copy_chars(x, p + 9, next - 3, out, o))
                return false;
            p = next;
        } else if (*p == '&') {
            if (!reference(x, &p, end, out, o))
                return false;
        } else {
            const char *r = p;
            while (r < end && *r != '<' && *r != '&')
                r++;
            if (!copy_chars(x, p, r, out, o))
                return false;
            p = r;
        }
    }
    return true;
}

bool xg_xml_text(xg_xml *x, const char **s, uint32_t *n)
{
    const char *start = x->p, *end = text_end(x);
    if (!end)
        return false;
    x->p = end;
    if (end == start) {
        *s = "";
        *n = 0;
        return true;
    }
    char *out = xg_arena_alloc(x->a, (size_t)(end - start) + 1);
    if (!out)
        return xg_xml_fail(x, "request too large");
    size_t o = 0;
    if (!decode(x, start, end, out, &o))
        return false;
    out[o] = '\0';
    *s = out;
    *n = (uint32_t)o;
    return true;
}

/* ===== tags =========================================================== */

static bool name_char(char c)
{
    return !is_space(c) && c != '/' && c != '>' && c != '<' && c != '=' && c != '"' &&
           c != '\'';
}

bool xg_xml_tag(xg_xml *x, struct xg_xml_tag *t)
{
    const char *p = x->p, *end = x->end;
    memset(t, 0, sizeof(*t));
    t->kind = p >= end ? XG_XML_EOF : XG_XML_DATA;
    if (p >= end || *p != '<' || (end - p >= 2 && (p[1] == '!' || p[1] == '?')))
        return true;
    bool close = end - p >= 2 && p[1] == '/';
    p += close ? 2 : 1;
    t->name = p;
    while (p < end && name_char(*p))
        p++;
    t->name_len = (size_t)(p - t->name);
    if (!t->name_len)
        return lex_fail(x, "malformed tag");
    if (close) {
        while (p < end && is_space(*p))
            p++;
        if (p >= end || *p != '>')
            return lex_fail(x, "malformed end tag");
        t->kind = XG_XML_CLOSE;
        x->p = p + 1;
        return true;
    }
    t->attrs = p;
    for (;;) {                            /* attributes: checked, kept as a span */
        const char *before = p;
        while (p < end && is_space(*p))
            p++;
        bool spaced = p > before;
        if (p >= end)
            return lex_fail(x, "unterminated tag");
        if (*p == '>' || (*p == '/' && end - p >= 2 && p[1] == '>')) {
            t->attrs_len = (size_t)(p - t->attrs);
            t->kind = *p == '>' ? XG_XML_OPEN : XG_XML_EMPTY;
            x->p = p + (*p == '>' ? 1 : 2);
            return true;
        }
        const char *an = p;
        while (p < end && name_char(*p))
            p++;
        if (!spaced || p == an)
            return lex_fail(x, "malformed tag");
        while (p < end && is_space(*p))
            p++;
        if (p >= end || *p++ != '=')
            return lex_fail(x, "malformed attribute");
        while (p < end && is_space(*p))
            p++;
        if (p >= end || (*p != '"' && *p != '\''))
            return lex_fail(x, "malformed attribute");
        const char *q = memchr(p + 1, *p, (size_t)(end - p - 1));
        if (!q || memchr(p + 1, '<', (size_t)(q - p - 1)))
            return lex_fail(x, "malformed attribute");
        p = q + 1;
    }
}

const char *xg_xml_attr(xg_xml *x, const struct xg_xml_tag *t, const char *name)
{
    /* xg_xml_tag checked the span: name = "..." or '...' pairs, spaced */
    const char *p = t->attrs, *end = t->attrs + t->attrs_len;
    size_t want = strlen(name);
    while (p < end) {
        while (p < end && is_space(*p))
            p++;
        const char *an = p;
        while (p < end && name_char(*p))
            p++;
        size_t alen = (size_t)(p - an);
        while (p < end && (is_space(*p) || *p == '='))
            p++;
        if (p >= end)
            break;
        const char *q = memchr(p + 1, *p, (size_t)(end - p - 1));
        if (!q)
            break;
        if (alen == want && memcmp(an, name, want) == 0) {
            char *out = xg_arena_alloc(x->a, (size_t)(q - p));
            if (!out) {
                xg_xml_fail(x, "request too large");
                return NULL;
            }
            size_t o = 0;
            if (!decode(x, p + 1, q, out, &o))
                return NULL;
            out[o] = '\0';
            return out;
        }
        p = q + 1;
    }
    return NULL;
}

bool xg_xml_is(const struct xg_xml_tag *t, const char *name)
{
    return (t->kind == XG_XML_OPEN || t->kind == XG_XML_EMPTY || t->kind == XG_XML_CLOSE) &&
           t->name_len == strlen(name) && memcmp(t->name, name, t->name_len) == 0;
}
