/* fuzz_rrd.c: libFuzzer target for RRD loading (handlers/metrics/
 * rrd_xml.c): the files in the state directory and XAPI's dumps are input.
 * Property: what loads dumps (with our internal fields), and that dump
 * loads again and dumps to the same bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/metrics_int.h"

static void dump(const struct rrd *r, struct mbuf *b)
{
    struct msink s;
    ms_init(&s, mbuf_sink, b);
    rrd_dump_xml(&s, r, true);
    ms_flush(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    xg_err err = XG_ERR_INIT;
    struct rrd *r = rrd_load_xml((const char *)data, size, &err);
    xg_err_clear(&err);
    if (!r)
        return 0;
    struct mbuf one = {0}, two = {0};
    dump(r, &one);
    rrd_free(r);
    struct rrd *back = rrd_load_xml(one.p, one.len, &err);
    if (!back) {
        fprintf(stderr, "our own dump does not load: %s\n%.*s\n",
                err.param[0], (int)one.len, one.p);
        abort();
    }
    dump(back, &two);
    rrd_free(back);
    if (one.len != two.len || memcmp(one.p, two.p, one.len)) {
        fprintf(stderr, "dump -> load -> dump changed:\n%.*s\n----\n%.*s\n",
                (int)one.len, one.p, (int)two.len, two.p);
        abort();
    }
    mbuf_free(&one);
    mbuf_free(&two);
    return 0;
}
