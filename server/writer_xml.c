/* writer_xml.c: values in XAPI's XML-RPC encoding (spec/xapi-wire.md §2.1):
 * untyped <value> strings, ints as decimal text, compact (no whitespace).
 * Struct members are closed by the value that follows <name>, so the writer
 * remembers per depth whether it is inside a struct (bit d of w->first).
 * Never allocates. */
#include "writer.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "utf8.h"

#define LIT(o, s) xg_out_append((o), s, sizeof(s) - 1)

static void value_end(xg_writer *w)
{
    if (w->depth > 0 && (w->first >> w->depth) & 1)
        LIT(w->out, "</member>");
}

/* Escapes & < > " only (like XAPI), drops control bytes other than tab, LF
 * and CR (XML 1.0 cannot carry them) and replaces invalid UTF-8 by U+FFFD. */
static void put_text(xg_out *o, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    const unsigned char *run = p;
    while (p < end) {
        unsigned char c = *p;
        if (c >= 0x20 && c < 0x80 && c != '&' && c != '<' && c != '>' && c != '"') {
            p++;
            continue;
        }
        if (c >= 0x80) {
            size_t k = xg_utf8_seq(p, (size_t)(end - p));
            if (k) {
                /* U+FFFE and U+FFFF are not XML characters either */
                if (!(k == 3 && p[0] == 0xEF && p[1] == 0xBF && p[2] >= 0xBE)) {
                    p += k;
                    continue;
                }
            }
            xg_out_append(o, run, (size_t)(p - run));
            LIT(o, XG_UTF8_REPLACEMENT);
            p += k ? k : 1;
            run = p;
            continue;
        }
        xg_out_append(o, run, (size_t)(p - run));
        switch (c) {
        case '&': LIT(o, "&amp;"); break;
        case '<': LIT(o, "&lt;"); break;
        case '>': LIT(o, "&gt;"); break;
        case '"': LIT(o, "&quot;"); break;
        case '\t': case '\n': case '\r': xg_out_putc(o, (char)c); break;
        default: break;                      /* other control bytes: dropped */
        }
        p++;
        run = p;
    }
    xg_out_append(o, run, (size_t)(p - run));
}

static void x_begin_struct(xg_writer *w)
{
    LIT(w->out, "<value><struct>");
    if (w->depth < 62)
        w->depth++;
    w->first |= (uint64_t)1 << w->depth;
}

static void x_member(xg_writer *w, const char *name, size_t len)
{
    LIT(w->out, "<member><name>");
    put_text(w->out, name, len);
    LIT(w->out, "</name>");
}

static void x_end_struct(xg_writer *w)
{
    LIT(w->out, "</struct></value>");
    w->first &= ~((uint64_t)1 << w->depth);
    if (w->depth > 0)
        w->depth--;
    value_end(w);
}

static void x_begin_array(xg_writer *w)
{
    LIT(w->out, "<value><array><data>");
    if (w->depth < 62)
        w->depth++;
    w->first &= ~((uint64_t)1 << w->depth);
}

static void x_end_array(xg_writer *w)
{
    LIT(w->out, "</data></array></value>");
    if (w->depth > 0)
        w->depth--;
    value_end(w);
}

static void x_string(xg_writer *w, const char *s, size_t len)
{
    LIT(w->out, "<value>");
    put_text(w->out, s, len);
    LIT(w->out, "</value>");
    value_end(w);
}

static void x_int64(xg_writer *w, int64_t v)
{
    char buf[40];
    int n = snprintf(buf, sizeof(buf), "<value>%" PRId64 "</value>", v);
    xg_out_append(w->out, buf, (size_t)n);
    value_end(w);
}

static void x_int32(xg_writer *w, int32_t v)
{
    char buf[40];
    int n = snprintf(buf, sizeof(buf), "<value><i4>%" PRId32 "</i4></value>", v);
    xg_out_append(w->out, buf, (size_t)n);
    value_end(w);
}

static void x_dbl(xg_writer *w, double v)
{
    char buf[40];
    size_t n = xg_fmt_double(buf, v);
    LIT(w->out, "<value><double>");
    xg_out_append(w->out, buf, n);
    LIT(w->out, "</double></value>");
    value_end(w);
}

static void x_boolean(xg_writer *w, bool v)
{
    if (v)
        LIT(w->out, "<value><boolean>1</boolean></value>");
    else
        LIT(w->out, "<value><boolean>0</boolean></value>");
    value_end(w);
}

static void x_datetime(xg_writer *w, int64_t secs)
{
    char buf[32];
    size_t n = xg_fmt_datetime(buf, secs);
    LIT(w->out, "<value><dateTime.iso8601>");
    xg_out_append(w->out, buf, n);
    LIT(w->out, "</dateTime.iso8601></value>");
    value_end(w);
}

const struct xg_writer_ops xg_writer_xml_ops = {
    .begin_struct = x_begin_struct, .member = x_member,
    .end_struct = x_end_struct, .begin_array = x_begin_array,
    .end_array = x_end_array, .string = x_string, .int64 = x_int64,
    .int32 = x_int32, .dbl = x_dbl, .boolean = x_boolean,
    .datetime = x_datetime,
};

void xg_writer_init_xml(xg_writer *w, xg_out *out)
{
    w->ops = &xg_writer_xml_ops;
    w->out = out;
    w->depth = 0;
    w->first = 0;
}
