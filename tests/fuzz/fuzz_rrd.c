/* fuzz_rrd.c: libFuzzer target for RRD loading (handlers/metrics/
 * rrd_xml.c): the files in the state directory and XAPI's dumps are input.
 * Property: what loads dumps (with our internal fields), and that dump
 * loads again and dumps to the same bytes. Then the loaded RRD takes the
 * sampler's next updates (rrd.c), as a VM's file does when it starts. */
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
    /* the sampler's next ticks: a reading per DS (the last one unknown), a
     * missed tick, then a tick far in the future */
    struct rrd_in *in = calloc(back->nds ? back->nds : 1, sizeof *in);
    for (uint32_t d = 0; d + 1 < back->nds; d++)
        in[d].v = (struct rrd_value){.kind = d % 2 ? RRD_V_I64 : RRD_V_F64, .i = 7, .f = 0.5};
    rrd_update(back, back->last_updated + 5, in, false);
    rrd_update(back, back->last_updated + 17.5, in, false);
    rrd_update(back, back->last_updated + 86400.0 * 400, in, false);
    free(in);
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
