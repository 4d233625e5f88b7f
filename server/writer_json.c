/* writer_json.c: values in XAPI's JSON-RPC encoding (spec/xapi-wire.md
 * §2.3): RFC 8259 strings, int64 as bare numbers, floats keeping ".0",
 * NaN/Infinity as XAPI writes them. Bit d of w->first = nothing written yet
 * in the container at depth d; bit 63 = a member name was just written, so
 * the next value takes no comma. Never allocates. */
#include "writer.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "utf8.h"

#define LIT(o, s) xg_out_append((o), s, sizeof(s) - 1)
#define KEYBIT ((uint64_t)1 << 63)

static void sep(xg_writer *w)
{
    if (w->first & KEYBIT) {
        w->first &= ~KEYBIT;
        return;
    }
    if (w->depth == 0)
        return;
    uint64_t bit = (uint64_t)1 << w->depth;
    if (w->first & bit)
        w->first &= ~bit;
    else
        xg_out_putc(w->out, ',');
}

static void put_string(xg_out *o, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    const unsigned char *run = p;
    xg_out_putc(o, '"');
    while (p < end) {
        unsigned char c = *p;
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            p++;
            continue;
        }
        if (c >= 0x80) {
            size_t k = xg_utf8_seq(p, (size_t)(end - p));
            if (k) {
                p += k;
                continue;
            }
            xg_out_append(o, run, (size_t)(p - run));
            LIT(o, XG_UTF8_REPLACEMENT);
            p++;
            run = p;
            continue;
        }
        xg_out_append(o, run, (size_t)(p - run));
        switch (c) {
        case '"': LIT(o, "\\\""); break;
        case '\\': LIT(o, "\\\\"); break;
        case '\n': LIT(o, "\\n"); break;
        case '\r': LIT(o, "\\r"); break;
        case '\t': LIT(o, "\\t"); break;
        case '\b': LIT(o, "\\b"); break;
        case '\f': LIT(o, "\\f"); break;
        default: {
            char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
            xg_out_append(o, u, 6);
        }
        }
        p++;
        run = p;
    }
    xg_out_append(o, run, (size_t)(p - run));
    xg_out_putc(o, '"');
}

static void open_container(xg_writer *w, char ch)
{
    sep(w);
    xg_out_putc(w->out, ch);
    if (w->depth < 62)
        w->depth++;
    w->first |= (uint64_t)1 << w->depth;
}

static void close_container(xg_writer *w, char ch)
{
    xg_out_putc(w->out, ch);
    w->first &= ~((uint64_t)1 << w->depth);
    if (w->depth > 0)
        w->depth--;
}

static void j_begin_struct(xg_writer *w) { open_container(w, '{'); }
static void j_end_struct(xg_writer *w) { close_container(w, '}'); }
static void j_begin_array(xg_writer *w) { open_container(w, '['); }
static void j_end_array(xg_writer *w) { close_container(w, ']'); }

static void j_member(xg_writer *w, const char *name, size_t len)
{
    sep(w);
    put_string(w->out, name, len);
    xg_out_putc(w->out, ':');
    w->first |= KEYBIT;
}

static void j_string(xg_writer *w, const char *s, size_t len)
{
    sep(w);
    put_string(w->out, s, len);
}

static void j_int64(xg_writer *w, int64_t v)
{
    char buf[24];
    sep(w);
    int n = snprintf(buf, sizeof(buf), "%" PRId64, v);
    xg_out_append(w->out, buf, (size_t)n);
}

static void j_int32(xg_writer *w, int32_t v)
{
    j_int64(w, v);
}

static void j_dbl(xg_writer *w, double v)
{
    char buf[40];
    sep(w);
    size_t n = xg_fmt_double(buf, v);
    if (strcmp(buf, "nan") == 0) {
        LIT(w->out, "NaN");
        return;
    }
    if (strcmp(buf, "inf") == 0) {
        LIT(w->out, "Infinity");
        return;
    }
    if (strcmp(buf, "-inf") == 0) {
        LIT(w->out, "-Infinity");
        return;
    }
    xg_out_append(w->out, buf, n);
    if (!strpbrk(buf, ".e"))
        LIT(w->out, ".0");                  /* Yojson keeps floats floats */
}

static void j_boolean(xg_writer *w, bool v)
{
    sep(w);
    if (v)
        LIT(w->out, "true");
    else
        LIT(w->out, "false");
}

static void j_datetime(xg_writer *w, int64_t secs)
{
    char buf[32];
    sep(w);
    size_t n = xg_fmt_datetime(buf, secs);
    xg_out_putc(w->out, '"');
    xg_out_append(w->out, buf, n);
    xg_out_putc(w->out, '"');
}

const struct xg_writer_ops xg_writer_json_ops = {
    .begin_struct = j_begin_struct, .member = j_member,
    .end_struct = j_end_struct, .begin_array = j_begin_array,
    .end_array = j_end_array, .string = j_string, .int64 = j_int64,
    .int32 = j_int32, .dbl = j_dbl, .boolean = j_boolean,
    .datetime = j_datetime,
};

void xg_writer_init_json(xg_writer *w, xg_out *out)
{
    w->ops = &xg_writer_json_ops;
    w->out = out;
    w->depth = 0;
    w->first = 0;
}
