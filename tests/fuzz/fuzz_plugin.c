/* fuzz_plugin.c: libFuzzer target for what a host plugin prints
 * (handlers/plugin_response.c, host.call_plugin's reading of its stdout: an
 * XML-RPC methodResponse over the strict XML reader). A plugin's output
 * often carries what it read from a guest or a file, so it is input like
 * any other.
 * Properties: a result or fault text is NUL-terminated at its length; a
 * result read, written back as XenAPIPlugin writes one (our XML writer's
 * string), reads back as the same text, and so does a fault with its code
 * (texts the writer carries unchanged). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "out.h"
#include "plugin_response.h"
#include "rpc_roundtrip.h"

static void fail(const char *what, const char *doc)
{
    fprintf(stderr, "%s\n%s\n", what, doc);
    abort();
}

/* The answer written back, as a plugin would print it, and read again. */
static void round_trip(xg_arena *a, enum gw_plugin_answer k, const struct gw_plugin_reply *r)
{
    xg_out out;
    xg_writer w;
    xg_out_init(&out);
    xg_writer_init_xml(&w, &out);
    xg_out_puts(&out, "<?xml version='1.0'?>\n<methodResponse>\n");
    if (k == GW_PLUGIN_OK) {
        xg_out_puts(&out, "<params>\n<param>\n");
        w.ops->string(&w, r->text, r->len);
        xg_out_puts(&out, "\n</param>\n</params>\n");
    } else {
        xg_out_puts(&out, "<fault>\n");
        w.ops->begin_struct(&w);
        w.ops->member(&w, "faultCode", 9);
        w.ops->int32(&w, r->fault_code);
        w.ops->member(&w, "faultString", 11);
        w.ops->string(&w, r->text, r->len);
        w.ops->end_struct(&w);
        xg_out_puts(&out, "\n</fault>\n");
    }
    xg_out_puts(&out, "</methodResponse>\n");
    size_t len;
    char *doc = xg_out_strdup(&out, &len);
    xg_out_reset(&out);
    struct gw_plugin_reply back;
    if (gw_plugin_read_reply(a, doc, len, &back) != k)
        fail("the answer written back reads as another kind", doc);
    if (back.len != r->len || memcmp(back.text, r->text, r->len) != 0 ||
        (k == GW_PLUGIN_FAULT && back.fault_code != r->fault_code))
        fail("the answer written back reads as another text or code", doc);
    free(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static xg_arena *a;
    if (!a)
        a = xg_arena_new(64u << 20);
    xg_arena_reset(a);
    struct gw_plugin_reply r;
    enum gw_plugin_answer k = gw_plugin_read_reply(a, (const char *)data, size, &r);
    if (k == GW_PLUGIN_OK || k == GW_PLUGIN_FAULT) {
        if (!r.text || r.text[r.len] != '\0')
            __builtin_trap();
        if (fuzz_carried(r.text, r.len, true))
            round_trip(a, k, &r);
    }
    return 0;
}
