/* metrics_http.c: GET /rrd_updates, /host_rrd(s), /vm_rrd(s) and /metrics
 * (spec xapi-wire.md §9, metrics.md §2). Authenticated by the route
 * framework; runs on HTTP workers (http_routes.h), holding only the
 * registry's read lock while formatting, never the world lock. */
#include "metrics.h"
#include "metrics_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../server/http_routes.h"
#include "../../server/log.h"

/* CORS and cache-control headers come from the connection (conn.c) on
 * every answer: written here too they were sent twice, and browsers refuse
 * a doubled Access-Control-Allow-Origin (XO Lite's charts). */
#define MAX_VM_PARAMS 1024

static void out_sink(void *ctx, const char *p, size_t n)
{
    xg_out_append(ctx, p, n);
}

static void plain(struct xg_http_response *rs, int status, const char *msg)
{
    rs->status = status;
    rs->content_type = "text/plain";
    xg_out_puts(&rs->body, msg);
    xg_out_puts(&rs->body, "\n");
}

/* q-value of `type` in an Accept header (exact, type/\*, or \*\/\*). */
static double accept_q(const char *accept, const char *type)
{
    double best = 0;
    int best_spec = -1;
    const char *slash = strchr(type, '/');
    size_t major = slash ? (size_t)(slash - type) : strlen(type);
    for (const char *p = accept; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ',')
            e++;
        const char *semi = memchr(p, ';', (size_t)(e - p));
        const char *te = semi ? semi : e;
        while (te > p && te[-1] == ' ')
            te--;
        size_t tl = (size_t)(te - p);
        double q = 1;
        if (semi) {
            const char *qq = strstr(semi, "q=");
            if (qq && qq < e)
                q = strtod(qq + 2, NULL);
        }
        int spec = -1;
        if (tl == strlen(type) && !strncasecmp(p, type, tl))
            spec = 2;
        else if (tl == major + 2 && !strncasecmp(p, type, major) && !strncmp(p + major, "/*", 2))
            spec = 1;
        else if (tl == 3 && !strncmp(p, "*/*", 3))
            spec = 0;
        if (spec > best_spec) {
            best_spec = spec;
            best = q;
        }
        p = e;
    }
    return best;
}

/* XAPI ≥ 23.17: an Accept header preferring application/json (ties, as with
 * \*\/\*, go to JSON) decides; without one, the presence of `json` does. */
static bool want_json(const struct xg_http_request *rq)
{
    if (rq->accept && rq->accept[0]) {
        double j = accept_q(rq->accept, "application/json");
        double x = accept_q(rq->accept, "text/xml");
        if (j > 0 || x > 0)
            return j >= x;
    }
    char b[8];
    return xg_query_get(rq->query, "json", b, sizeof(b));
}

static bool parse_i64(const char *s, int64_t *out)
{
    char *e;
    long long v = strtoll(s, &e, 10);
    if (e == s || *e)
        return false;
    *out = v;
    return true;
}

static void rrd_updates(const struct xg_http_request *rq, struct xg_http_response *rs)
{
    char b[64];
    struct xport_req x = {0};
    if (!xg_query_get(rq->query, "start", b, sizeof(b)) || !parse_i64(b, &x.start))
        return plain(rs, 400, "start parameter missing or not an integer");
    if (xg_query_get(rq->query, "interval", b, sizeof(b)) && !parse_i64(b, &x.interval))
        x.interval = 0;
    /* Unrecognised cf = all CFs (XAPI); LAST selects nothing and fails. */
    if (xg_query_get(rq->query, "cf", b, sizeof(b)) && rrd_cf_parse(b, &x.cf))
        x.have_cf = true;
    bool host = xg_query_get(rq->query, "host", b, sizeof(b)) && !strcmp(b, "true");
    x.json = want_json(rq);

    struct mreg *g = metrics_reg();
    pthread_rwlock_rdlock(&g->lock);
    /* the host and each live VM at most once */
    struct xport_src *src = calloc((size_t)g->nvm + 1, sizeof(*src));
    if (!src)
        abort();
    uint32_t n = 0;
    if (x.start < 0 && g->host.rrd)
        x.start += (int64_t)floor(g->host.rrd->last_updated);
    if (host && g->host.rrd)
        src[n++] = (struct xport_src){"host", g->host.uuid, g->host.rrd};
    size_t pos = 0;
    char u[64];
    bool some = false;
    for (uint32_t k = 0; k < MAX_VM_PARAMS && xg_query_next(rq->query, "vm_uuid", &pos, u, sizeof(u)); k++) {
        some = true;
        const struct mentry *e = mreg_find(g, u);
        bool dup = false;
        for (uint32_t i = 0; e && i < n; i++)
            dup |= src[i].rrd == e->rrd;
        if (e && !e->halted && !dup)
            src[n++] = (struct xport_src){"vm", e->uuid, e->rrd};
    }
    for (uint32_t i = 0; !some && i < g->nvm; i++)
        if (!g->vm[i]->halted)
            src[n++] = (struct xport_src){"vm", g->vm[i]->uuid, g->vm[i]->rrd};
    struct msink s;
    ms_init(&s, out_sink, &rs->body);
    xg_err err = XG_ERR_INIT;
    bool ok = xport_write(&s, src, n, &x, &err);
    ms_flush(&s);
    pthread_rwlock_unlock(&g->lock);
    free(src);
    if (!ok) {
        xg_out_reset(&rs->body);
        return plain(rs, 400, err.param[0]);    /* XAPI's reason, e.g. No_RRA_Available */
    }
    rs->status = 200;
    rs->content_type = x.json ? "application/json" : "text/xml";
}

static void dump(struct xg_http_response *rs, const struct rrd *r, bool json)
{
    struct msink s;
    ms_init(&s, out_sink, &rs->body);
    if (json)
        rrd_dump_json(&s, r);
    else
        rrd_dump_xml(&s, r, false);
    ms_flush(&s);
    rs->status = 200;
    rs->content_type = json ? "application/json" : "text/xml";
    rs->close = true;                  /* XAPI answers these as HTTP/1.0, close */
}

/* Full dumps are XML unless `json` is given: XAPI applies the Accept rule
 * only to /rrd_updates. */
static bool dump_json(const struct xg_http_request *rq)
{
    char v[16];
    return xg_query_get(rq->query, "json", v, sizeof(v));
}

static void host_rrd(const struct xg_http_request *rq, struct xg_http_response *rs)
{
    struct mreg *g = metrics_reg();
    pthread_rwlock_rdlock(&g->lock);
    if (g->host.rrd)
        dump(rs, g->host.rrd, dump_json(rq));
    else
        plain(rs, 404, "no host RRD yet");
    pthread_rwlock_unlock(&g->lock);
}

static void vm_rrd(const struct xg_http_request *rq, struct xg_http_response *rs)
{
    char u[64];
    if (!xg_query_get(rq->query, "uuid", u, sizeof(u)) || !u[0])
        return plain(rs, 400, "uuid parameter missing");
    bool json = dump_json(rq);
    struct mreg *g = metrics_reg();
    pthread_rwlock_rdlock(&g->lock);
    const struct mentry *e = mreg_find(g, u);
    bool served = e && !e->halted;
    if (served)
        dump(rs, e->rrd, json);
    pthread_rwlock_unlock(&g->lock);
    if (served)
        return;
    /* Halted VM: serve its archive (XAPI's "unarchive"). */
    xg_err err = XG_ERR_INIT;
    struct rrd *r = NULL;
    if (metrics_rrd_dir() && !rrd_file_load(metrics_rrd_dir(), u, &r, &err))
        XG_WARN("metrics", "archive of %s: %s", u, err.param[0]);
    if (!r)
        return plain(rs, 404, "no RRD for this VM");
    dump(rs, r, json);
    rrd_free(r);
}

static void metrics_get(const struct xg_http_request *rq, struct xg_http_response *rs)
{
    bool om = rq->accept && strstr(rq->accept, "application/openmetrics-text");
    struct mreg *g = metrics_reg();
    struct msink s;
    ms_init(&s, out_sink, &rs->body);
    pthread_rwlock_rdlock(&g->lock);
    om_write(&s, g, g->host.uuid, om);
    ms_flush(&s);
    pthread_rwlock_unlock(&g->lock);
    rs->status = 200;
    rs->content_type = om ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                          : "text/plain; version=0.0.4; charset=utf-8";
}

void metrics_http_register(void)
{
    xg_http_register_get("/rrd_updates", rrd_updates);
    xg_http_register_get("/host_rrd", host_rrd);
    xg_http_register_get("/host_rrds", host_rrd);   /* legacy alias (XC < 8460) */
    xg_http_register_get("/vm_rrd", vm_rrd);
    xg_http_register_get("/vm_rrds", vm_rrd);
    xg_http_register_get("/metrics", metrics_get);
}
