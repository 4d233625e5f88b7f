/* fuzz_decode: libFuzzer target for the typed decoding of every value a
 * client sends (server/decode.c: strings, int64 and float text, booleans,
 * enums by name, datetimes, refs, sets, maps, records), which the envelope
 * targets (fuzz_xmlrpc, fuzz_jsonrpc) stop short of. The input: a line
 * "Class.field" naming the field whose type is decoded (a line that names
 * none picks one by its hash, so every mutation still decodes something),
 * then an XML-RPC <value> (xmlrpc_in.c's reader).
 * Property: what decodes, written back with our writer as XAPI answers it
 * (writer_xml.c), reads and decodes again, and writes the same value
 * (doubles to the writer's 16 digits): decode -> write is a fixed point. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "desc.h"
#include "marshal.h"
#include "out.h"
#include "rpc_in.h"
#include "rpc_roundtrip.h"
#include "writer.h"

/* The field's type decoded from v and written back as a <value>; NULL when
 * it does not decode. */
static char *decode_write(xg_arena *a, const xg_type *t, const xg_value *v, size_t *len)
{
    size_t sz = xg_type_storage_size(t);
    void *tmp = xg_arena_alloc(a, sz ? sz : 8);
    xg_err err = XG_ERR_INIT;
    bool ok = tmp && xg_decode_in(a, t, v, tmp, &err);
    xg_err_clear(&err);
    if (!ok)
        return NULL;
    xg_out out;
    xg_writer w;
    xg_out_init(&out);
    xg_writer_init_xml(&w, &out);
    xg_write_value(&w, t, tmp);
    char *doc = xg_out_strdup(&out, len);
    xg_out_reset(&out);
    return doc;
}

static const xg_field_desc *field_of(const char *line, size_t n, const xg_class_desc **cls)
{
    char name[128];
    snprintf(name, sizeof name, "%.*s", (int)(n < 127 ? n : 127), line);
    char *dot = strchr(name, '.');
    if (dot) {
        *dot = 0;
        *cls = xg_class_by_name(name);
        for (uint32_t i = 0; *cls && i < (*cls)->nfields; i++)
            if (strcmp((*cls)->fields[i].name, dot + 1) == 0)
                return &(*cls)->fields[i];
    }
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)line[i]) * 1099511628211ull;
    *cls = xg_classes[h % xg_nclasses];
    return &(*cls)->fields[(h >> 32) % (*cls)->nfields];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *nl = memchr(data, '\n', size);
    if (!nl)
        return 0;
    static xg_arena *a;
    if (!a)
        a = xg_arena_new(16u << 20);
    xg_arena_reset(a);
    const xg_class_desc *cls;
    const xg_field_desc *f = field_of((const char *)data, (size_t)(nl - (const char *)data), &cls);
    xg_value v, v1, v2;
    char msg[200];
    size_t at = (size_t)(nl - (const char *)data) + 1;
    if (!xg_xmlrpc_parse_value(a, (const char *)data + at, size - at, &v, msg, sizeof msg))
        return 0;
    size_t len1, len2;
    char *one = decode_write(a, f->type, &v, &len1);
    if (!one)
        return 0;
    if (!xg_xmlrpc_parse_value(a, one, len1, &v1, msg, sizeof msg)) {
        fprintf(stderr, "%s.%s written does not parse: %s\n%s\n", cls->name, f->name, msg, one);
        abort();
    }
    char *two = decode_write(a, f->type, &v1, &len2);
    if (!two) {
        fprintf(stderr, "%s.%s written does not decode again:\n%s\n", cls->name, f->name, one);
        abort();
    }
    if (!xg_xmlrpc_parse_value(a, two, len2, &v2, msg, sizeof msg))
        abort();
    fuzz_value_compare(&v1, &v2, true, true, two);
    free(one);
    free(two);
    return 0;
}
