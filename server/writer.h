/* writer.h: one streaming value writer, two encodings (XML-RPC and JSON).
 *
 * The generic record writer (record_writer.c) walks the generated descriptors
 * and calls these ops; writer_xml.c and writer_json.c encode exactly as XAPI
 * emits (spec/xapi-wire.md §2.1, §2.3): untyped <value> strings, int64 as
 * decimal text in XML and bare numbers in JSON, %.16g doubles, datetimes as
 * YYYYMMDDTHH:MM:SSZ, compact output. Output goes to an xg_out; nothing here
 * allocates per value. Strings are sanitised on output (invalid UTF-8 and
 * XML-illegal control bytes never reach a client: they may come from guests). */
#ifndef XG_WRITER_H
#define XG_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "desc.h"
#include "out.h"

typedef struct xg_writer xg_writer;

struct xg_writer_ops {
    void (*begin_struct)(xg_writer *w);
    void (*member)(xg_writer *w, const char *name, size_t len);  /* then one value */
    void (*end_struct)(xg_writer *w);
    void (*begin_array)(xg_writer *w);
    void (*end_array)(xg_writer *w);
    void (*string)(xg_writer *w, const char *s, size_t len);
    void (*int64)(xg_writer *w, int64_t v);
    void (*int32)(xg_writer *w, int32_t v);     /* only event.from valid_ref_counts */
    void (*dbl)(xg_writer *w, double v);
    void (*boolean)(xg_writer *w, bool v);
    void (*datetime)(xg_writer *w, int64_t secs);
};

#define XG_WRITER_MAX_DEPTH 64

struct xg_writer {
    const struct xg_writer_ops *ops;
    xg_out *out;
    uint32_t depth;
    uint64_t first;    /* JSON: bit d set = no element written yet at depth d */
};

extern const struct xg_writer_ops xg_writer_xml_ops, xg_writer_json_ops;
void xg_writer_init_xml(xg_writer *w, xg_out *out);
void xg_writer_init_json(xg_writer *w, xg_out *out);

/* Generic walkers over descriptors (record_writer.c). `p` points at the C
 * storage of a value of type t (see desc.h). Records write every field that
 * is not XG_F_INTERNAL, in IDL order. */
void xg_write_value(xg_writer *w, const xg_type *t, const void *p);
void xg_write_record(xg_writer *w, const xg_class_desc *cls, const void *rec);
static inline void xg_write_cstr(xg_writer *w, const char *s);

/* Formatting helpers shared by both encodings and by metrics/RRD output. */
size_t xg_fmt_datetime(char buf[32], int64_t secs);   /* 20250319T04:16:24Z */
size_t xg_fmt_double(char buf[40], double v);          /* %.16g, nan, inf */

#include <string.h>
static inline void xg_write_cstr(xg_writer *w, const char *s)
{
    w->ops->string(w, s, strlen(s));
}

#endif
