/* rrd_updates.c: the /rrd_updates export (Rrd_updates.create_multi; spec
 * xapi-wire.md §9.2, metrics.md §2.1): archive choice, legend, newest-first
 * rows, XML and JSON.
 *
 * JSON decision: valid JSON with BARE numbers for meta and values, and the
 * strings "NaN"/"Infinity"/"-Infinity" for non-finite values. Xen Orchestra
 * compares meta.step with the number it asked for and turns "NaN" into null
 * (xen-orchestra.md §6.2); JSON.parse and JSON5 both accept this form. */
#include "metrics_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define START_BOUND (INT64_C(1) << 53)

struct pick {
    uint32_t rra[RRD_MAX_RRA];       /* chosen archive indexes, in RRA order */
    uint32_t n;
};

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static bool cf_ok(const struct rrd_rra *ra, const struct xport_req *rq)
{
    return !rq->have_cf || ra->cf == rq->cf;
}

/* find_best_rras: the first archive (fine to coarse) with pdp >= interval/5
 * that still covers start; else the coarsest. Returns its (rows, pdp). */
static bool best_shape(const struct rrd *r, const struct xport_req *rq,
                       uint32_t *rows, uint32_t *pdp)
{
    int64_t pdp_interval = rq->interval / RRD_STEP;
    int64_t last_pdp = floor_div((int64_t)floor(r->last_updated), RRD_STEP) * RRD_STEP;
    int last_ok = -1;
    for (uint32_t a = 0; a < r->nrra; a++) {
        const struct rrd_rra *ra = &r->rra[a];
        if (!cf_ok(ra, rq))
            continue;
        last_ok = (int)a;
        int64_t oldest = last_pdp - (int64_t)RRD_STEP * ra->rows * ra->pdp;
        if ((int64_t)ra->pdp >= pdp_interval && rq->start > oldest) {
            *rows = ra->rows;
            *pdp = ra->pdp;
            return true;
        }
    }
    if (last_ok < 0)
        return false;
    *rows = r->rra[last_ok].rows;
    *pdp = r->rra[last_ok].pdp;
    return true;
}

static void pick_shape(const struct rrd *r, const struct xport_req *rq,
                       uint32_t rows, uint32_t pdp, struct pick *p)
{
    p->n = 0;
    for (uint32_t a = 0; a < r->nrra; a++)
        if (cf_ok(&r->rra[a], rq) && r->rra[a].rows == rows && r->rra[a].pdp == pdp)
            p->rra[p->n++] = a;
}

static void put_num(struct msink *s, double v, bool json)
{
    if (json && !isfinite(v)) {
        ms_put(s, "\"", 1);
        ms_num(s, v);
        ms_put(s, "\"", 1);
    } else {
        ms_num(s, v);
    }
}

bool xport_write(struct msink *s, const struct xport_src *src, uint32_t n,
                 const struct xport_req *rq, xg_err *err)
{
    /* The first RRD decides the timescale; the others follow it. RRDs without
     * an archive of that shape and cf (a VM without MIN/MAX when cf=MAX)
     * contribute no columns rather than failing the whole request. */
    uint32_t rows = 0, pdp = 0;
    uint32_t first = 0;
    while (first < n && !best_shape(src[first].rrd, rq, &rows, &pdp))
        first++;
    if (first == n && n > 0)
        return xg_err_internal(err, "No_RRA_Available");    /* rrdd's exception */
    struct pick *picks = calloc(n ? n : 1, sizeof(*picks));
    if (!picks)
        abort();
    uint32_t columns = 0;
    for (uint32_t i = 0; i < n; i++) {
        pick_shape(src[i].rrd, rq, rows, pdp, &picks[i]);
        columns += picks[i].n * src[i].rrd->nds;
    }
    int64_t step = (int64_t)RRD_STEP * (pdp ? pdp : 1);
    double lu = n ? src[first].rrd->last_updated : 0;
    int64_t end = floor_div((int64_t)floor(lu), step) * step;
    /* start is the client's: past +-2^53 s (285 million years) it changes
     * nothing but would overflow the arithmetic (XAPI's Int64 wraps) */
    int64_t start = rq->start > START_BOUND ? START_BOUND
                  : rq->start < -START_BOUND ? -START_BOUND : rq->start;
    int64_t meta_start = floor_div(start, step) * step + step;
    uint32_t nrows = 0;
    for (int64_t t = end; nrows < rows && t >= start; t -= step)
        nrows++;

    bool json = rq->json;
    if (json)
        ms_printf(s, "{\"meta\":{\"start\":%lld,\"step\":%lld,\"end\":%lld,\"rows\":%u,"
                     "\"columns\":%u,\"legend\":[",
                  (long long)meta_start, (long long)step, (long long)end, nrows, columns);
    else
        ms_printf(s, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><xport><meta><start>%lld</start>"
                     "<step>%lld</step><end>%lld</end><rows>%u</rows><columns>%u</columns><legend>",
                  (long long)meta_start, (long long)step, (long long)end, nrows, columns);
    bool firstcol = true;
    for (uint32_t i = 0; i < n; i++) {
        const struct rrd *r = src[i].rrd;
        for (uint32_t k = 0; k < picks[i].n; k++) {
            const char *cf = rrd_cf_name(r->rra[picks[i].rra[k]].cf);
            for (uint32_t d = 0; d < r->nds; d++) {
                char e[256];
                snprintf(e, sizeof(e), "%s:%s:%s:%s", cf, src[i].owner, src[i].uuid,
                         r->ds[d].name);
                if (json) {
                    if (!firstcol)
                        ms_put(s, ",", 1);
                    ms_json_str(s, e);
                } else {
                    ms_puts(s, "<entry>");
                    ms_xml_text(s, e);
                    ms_puts(s, "</entry>");
                }
                firstcol = false;
            }
        }
    }
    ms_puts(s, json ? "]},\"data\":[" : "</legend></meta><data>");
    for (uint32_t row = 0; row < nrows; row++) {
        int64_t t = end - (int64_t)row * step;
        if (json)
            ms_printf(s, "%s{\"t\":%lld,\"values\":[", row ? "," : "", (long long)t);
        else
            ms_printf(s, "<row><t>%lld</t>", (long long)t);
        firstcol = true;
        for (uint32_t i = 0; i < n; i++) {
            const struct rrd *r = src[i].rrd;
            /* Each RRD is indexed from its own newest row, so one updated at
             * another time (just loaded, just created) still lines up. */
            int64_t rend = floor_div((int64_t)floor(r->last_updated), step) * step;
            int64_t idx = floor_div(rend - t, step);
            for (uint32_t k = 0; k < picks[i].n; k++) {
                for (uint32_t d = 0; d < r->nds; d++) {
                    double v = (idx < 0 || idx >= rows) ? NAN
                               : rrd_peek(r, picks[i].rra[k], d, (uint32_t)idx);
                    if (json) {
                        if (!firstcol)
                            ms_put(s, ",", 1);
                        put_num(s, v, true);
                    } else {
                        ms_puts(s, "<v>");
                        put_num(s, v, false);
                        ms_puts(s, "</v>");
                    }
                    firstcol = false;
                }
            }
        }
        ms_puts(s, json ? "]}" : "</row>");
    }
    ms_puts(s, json ? "]}" : "</data></xport>");
    free(picks);
    return true;
}
