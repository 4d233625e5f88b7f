/* rrd.c: the RRD engine, a port of xapi-rrd's update and consolidation
 * rules (spec metrics.md §1.2–§1.4) with the newer GAUGE/ABSOLUTE semantics
 * (CA-404597: gauges are not time-weighted) and NaN instead of a spike for
 * the first DERIVE sample and counter resets. */
#include "rrd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* (rows, pdp_per_row) of rrdd_shared.ml's timescales. */
static const uint32_t TS_ROWS[4] = {120, 120, 168, 366};
static const uint32_t TS_PDP[4] = {1, 12, 720, 17280};

const char *rrd_cf_name(enum rrd_cf cf)
{
    switch (cf) {
    case RRD_AVERAGE: return "AVERAGE";
    case RRD_MIN: return "MIN";
    case RRD_MAX: return "MAX";
    case RRD_LAST: return "LAST";
    }
    return "AVERAGE";
}

bool rrd_cf_parse(const char *s, enum rrd_cf *out)
{
    /* Case-sensitive, as in XAPI. */
    static const enum rrd_cf all[] = {RRD_AVERAGE, RRD_MIN, RRD_MAX, RRD_LAST};
    for (size_t i = 0; i < 4; i++)
        if (strcmp(s, rrd_cf_name(all[i])) == 0) {
            *out = all[i];
            return true;
        }
    return false;
}

const char *rrd_type_name(enum rrd_ds_type t)
{
    switch (t) {
    case RRD_GAUGE: return "GAUGE";
    case RRD_ABSOLUTE: return "ABSOLUTE";
    case RRD_DERIVE: return "DERIVE";
    }
    return "GAUGE";
}

size_t rrd_fmt(char buf[40], double v)
{
    int n;
    if (isnan(v)) {
        memcpy(buf, "NaN", 4);      /* the common case in young archives */
        return 3;
    } else if (isinf(v))
        n = snprintf(buf, 40, v > 0 ? "Infinity" : "-Infinity");
    else if (v == 0.0) {
        memcpy(buf, "0.0", 4);
        return 3;
    } else
        n = snprintf(buf, 40, "%0.15g", v);
    return (size_t)n;
}

/* CA-329043: the accumulator starts inside [min,max]. */
static double cf_init(enum rrd_cf cf, const struct rrd_ds *ds)
{
    double d;
    switch (cf) {
    case RRD_MIN: d = INFINITY; break;
    case RRD_MAX: d = -INFINITY; break;
    case RRD_LAST: d = NAN; break;
    default: d = 0.0; break;
    }
    return fmin(ds->max, fmax(ds->min, d));
}

struct rrd *rrd_create_rras(const struct rrd_rra *rras, uint32_t n, double t)
{
    if (n == 0 || n > RRD_MAX_RRA)
        return NULL;
    struct rrd *r = calloc(1, sizeof(*r));
    if (!r)
        abort();
    r->last_updated = t;
    r->nrra = n;
    for (uint32_t i = 0; i < n; i++) {
        r->rra[i] = rras[i];
        if (r->rra[i].rows == 0 || r->rra[i].pdp == 0) {
            free(r);
            return NULL;
        }
        r->rra[i].head = r->rra[i].rows - 1;
        r->rra[i].off = r->slots;
        r->slots += r->rra[i].rows;
    }
    return r;
}

struct rrd *rrd_create(enum rrd_layout layout, double t)
{
    struct rrd_rra rras[RRD_MAX_RRA];
    uint32_t n = 0;
    for (int ts = 0; ts < 4; ts++) {
        bool minmax = layout == RRD_LAYOUT_HOST && ts > 0;
        /* Host: coarse archives use xff 1.0 (any known PDP makes a CDP);
         * the 5 s host archive and all VM archives use 0.5. */
        double xff = minmax ? 1.0 : 0.5;
        enum rrd_cf cfs[3] = {RRD_AVERAGE, RRD_MIN, RRD_MAX};
        for (int c = 0; c < (minmax ? 3 : 1); c++)
            rras[n++] = (struct rrd_rra){.cf = cfs[c], .rows = TS_ROWS[ts],
                                         .pdp = TS_PDP[ts], .xff = xff};
    }
    return rrd_create_rras(rras, n, t);
}

void rrd_free(struct rrd *r)
{
    if (!r)
        return;
    for (uint32_t i = 0; i < r->nds; i++)
        free(r->ds[i].ring);
    free(r->ds);
    free(r);
}

int rrd_find_ds(const struct rrd *r, const char *name)
{
    for (uint32_t i = 0; i < r->nds; i++)
        if (strcmp(r->ds[i].name, name) == 0)
            return (int)i;
    return -1;
}

int rrd_add_ds(struct rrd *r, const struct rrd_ds_def *def, double t)
{
    int idx = rrd_find_ds(r, def->name);
    if (idx >= 0)
        return idx;
    if (r->nds >= RRD_MAX_DS || strlen(def->name) >= RRD_NAME_MAX)
        return -1;
    if (r->nds == r->cap) {
        uint32_t cap = r->cap ? r->cap * 2 : 16;
        struct rrd_ds *p = realloc(r->ds, cap * sizeof(*p));
        if (!p)
            abort();
        r->ds = p;
        r->cap = cap;
    }
    struct rrd_ds *ds = &r->ds[r->nds];
    memset(ds, 0, sizeof(*ds));
    snprintf(ds->name, sizeof(ds->name), "%s", def->name);
    ds->type = def->type;
    ds->min = def->min;
    ds->max = def->max;
    ds->mrhb = RRD_MRHB;
    ds->last.kind = RRD_V_UNKNOWN;
    /* Rates are computed from the RRD's previous update, like its peers. */
    ds->last_updated = r->last_updated;
    ds->ring = malloc(sizeof(float) * r->slots);
    if (!ds->ring)
        abort();
    for (uint32_t s = 0; s < r->slots; s++)
        ds->ring[s] = NAN;
    /* The current coarse row already missed the PDPs before t (rrd_add_ds). */
    int64_t npdps = (int64_t)(t > 0 ? t : 0) / RRD_STEP;
    for (uint32_t a = 0; a < r->nrra; a++) {
        ds->cdp[a].value = cf_init(r->rra[a].cf, ds);
        ds->cdp[a].unknown = (uint32_t)(npdps % r->rra[a].pdp);
    }
    return (int)r->nds++;
}

bool rrd_remove_ds(struct rrd *r, const char *name)
{
    int idx = rrd_find_ds(r, name);
    if (idx < 0)
        return false;
    free(r->ds[idx].ring);
    memmove(&r->ds[idx], &r->ds[idx + 1], (r->nds - (uint32_t)idx - 1) * sizeof(r->ds[0]));
    r->nds--;
    return true;
}

void rrd_push(struct rrd *r, uint32_t a, uint32_t d, double v)
{
    struct rrd_rra *ra = &r->rra[a];
    const struct rrd_ds *ds = &r->ds[d];
    if (v < ds->min || v > ds->max)
        v = NAN;
    r->ds[d].ring[ra->off + (ra->head + 1) % ra->rows] = (float)v;
}

static void advance(struct rrd_rra *ra)
{
    ra->head = (ra->head + 1) % ra->rows;
}

/* do_cfs of rrd.ml: fold `offset` copies of each PDP into the CDP prep. */
static void do_cfs(struct rrd *r, uint32_t a, uint32_t offset, const double *pdps)
{
    struct rrd_rra *ra = &r->rra[a];
    for (uint32_t d = 0; d < r->nds; d++) {
        struct rrd_cdp *c = &r->ds[d].cdp[a];
        double p = pdps[d];
        if (isnan(p)) {
            /* Renormalise the average over the PDPs still expected. Unlike
             * rrd.ml, count the unknowns even when none are left to expect
             * (pdp_per_row 1): otherwise a NaN PDP would be stored as the
             * accumulator's initial 0. MIN/MAX are not rescaled. */
            int64_t olddiv = (int64_t)ra->pdp - c->unknown;
            int64_t newdiv = olddiv - offset;
            if (newdiv > 0 && ra->cf == RRD_AVERAGE)
                c->value = c->value * (double)olddiv / (double)newdiv;
            c->unknown += offset;
            if (c->unknown > ra->pdp)
                c->unknown = ra->pdp;
            continue;
        }
        switch (ra->cf) {
        case RRD_AVERAGE: c->value += p * offset / ra->pdp; break;
        case RRD_MIN: c->value = fmin(c->value, p); break;
        case RRD_MAX: c->value = fmax(c->value, p); break;
        case RRD_LAST: c->value = p; break;
        }
    }
}

/* rra_update of rrd.ml. */
static void rra_update(struct rrd *r, int64_t proc_pdp_st, int64_t elapsed, const double *pdps)
{
    for (uint32_t a = 0; a < r->nrra; a++) {
        struct rrd_rra *ra = &r->rra[a];
        int64_t start_off = ra->pdp - (proc_pdp_st / RRD_STEP) % ra->pdp;
        int64_t steps = elapsed < start_off ? 0 : (elapsed - start_off) / ra->pdp + 1;
        do_cfs(r, a, (uint32_t)(elapsed < start_off ? elapsed : start_off), pdps);
        if (steps == 0)
            continue;
        /* The first row uses what was accumulated; further rows are the PDP
         * itself (a CDP of identical PDPs is that PDP whatever the CF). */
        uint32_t limit = (uint32_t)(ra->xff * ra->pdp);
        for (uint32_t d = 0; d < r->nds; d++) {
            struct rrd_cdp *c = &r->ds[d].cdp[a];
            /* A row with no known PDP at all is NaN even with xff 1.0. */
            bool ok = c->unknown <= limit && c->unknown < ra->pdp;
            rrd_push(r, a, d, ok ? c->value : NAN);
        }
        advance(ra);
        int64_t extra = steps - 1 < ra->rows ? steps - 1 : ra->rows;
        for (int64_t k = 0; k < extra; k++) {
            for (uint32_t d = 0; d < r->nds; d++)
                rrd_push(r, a, d, pdps[d]);
            advance(ra);
        }
        for (uint32_t d = 0; d < r->nds; d++) {
            r->ds[d].cdp[a].unknown = 0;
            r->ds[d].cdp[a].value = cf_init(ra->cf, &r->ds[d]);
        }
        do_cfs(r, a, (uint32_t)((elapsed - start_off) % ra->pdp), pdps);
    }
}

static double as_double(const struct rrd_value *v)
{
    switch (v->kind) {
    case RRD_V_I64: return (double)v->i;
    case RRD_V_F64: return v->f;
    default: return NAN;
    }
}

/* The per-DS "rate" of step 3 (NaN when unknown). */
static double process(struct rrd_ds *ds, const struct rrd_value *v, double interval, bool new_rrd)
{
    double rate;
    double raw = as_double(v);
    if (interval > ds->mrhb) {
        rate = NAN;
    } else if (ds->type == RRD_GAUGE) {
        rate = raw;
    } else if (ds->type == RRD_ABSOLUTE) {
        rate = interval > 0 ? raw / interval : NAN;
    } else if (new_rrd || ds->last.kind == RRD_V_UNKNOWN || v->kind == RRD_V_UNKNOWN) {
        rate = NAN;                 /* no previous reading: NaN, never a spike */
    } else if (ds->last.kind == RRD_V_I64 && v->kind == RRD_V_I64) {
        /* Counter went backwards (reset, device re-created): unknown. */
        rate = v->i < ds->last.i ? NAN : (double)(v->i - ds->last.i);
    } else {
        double d = raw - as_double(&ds->last);
        rate = d < 0 ? NAN : d;
    }
    ds->last = *v;
    return rate;
}

static double finish_pdp(const struct rrd_ds *ds, double raw, bool inverse)
{
    if (inverse)
        raw = 1.0 - raw;
    if (ds->type == RRD_DERIVE && !isnan(raw) && isfinite(ds->max)) {
        /* CA-411679: counters sampled a little late overshoot; cap within 5%.
         * The same tolerance below min (bounded sources only) keeps an idle
         * pCPU (idle rate just above 1, inverse) at 0 rather than NaN. */
        if (raw > ds->max && raw <= ds->max * 1.05)
            raw = ds->max;
        else if (raw < ds->min && isfinite(ds->min)
                 && raw >= ds->min - (ds->max - ds->min) * 0.05)
            raw = ds->min;
    }
    if (raw < ds->min || raw > ds->max)
        return NAN;
    return raw;
}

void rrd_update(struct rrd *r, double t, const struct rrd_in *in, bool new_rrd)
{
    if (r->nds == 0) {
        r->last_updated = t;
        return;
    }
    double interval = t - r->last_updated;
    if (interval < 0)
        interval = 5;               /* the clock went backwards */
    int64_t proc = (int64_t)floor(r->last_updated / RRD_STEP) * RRD_STEP;
    int64_t occu = (int64_t)floor(t / RRD_STEP) * RRD_STEP;
    double age = t - (double)occu;
    int64_t elapsed = occu > proc ? (occu - proc) / RRD_STEP : 0;
    double pre = elapsed > 0 ? interval - age : interval;
    double post = elapsed > 0 ? age : 0.0;
    r->last_updated = t;

    double rates_s[64], ivs_s[64], pdps_s[64];
    double *rates = rates_s, *ivs = ivs_s, *pdps = pdps_s;
    if (r->nds > 64) {
        rates = malloc(sizeof(double) * r->nds * 3);
        if (!rates)
            abort();
        ivs = rates + r->nds;
        pdps = ivs + r->nds;
    }
    for (uint32_t d = 0; d < r->nds; d++) {
        struct rrd_ds *ds = &r->ds[d];
        double iv = t - ds->last_updated;
        if (iv < 0)
            iv = 5;
        ivs[d] = iv;
        double rate = process(ds, &in[d].v, iv, new_rrd);
        ds->last_updated = t;
        rates[d] = rate;
        if (isnan(rate))
            ds->unknown_sec = pre;
        else if (ds->type == RRD_DERIVE)
            ds->value += pre * rate / iv;
        else
            ds->value = rate;
    }
    if (elapsed > 0) {
        for (uint32_t d = 0; d < r->nds; d++) {
            struct rrd_ds *ds = &r->ds[d];
            double raw;
            if (ivs[d] > ds->mrhb)
                raw = NAN;
            else if (ds->type == RRD_DERIVE)
                raw = ds->value / ((double)(occu - proc) - ds->unknown_sec);
            else
                raw = isnan(rates[d]) ? NAN : ds->value;
            pdps[d] = finish_pdp(ds, raw, in[d].inverse);
        }
        rra_update(r, proc, elapsed, pdps);
        for (uint32_t d = 0; d < r->nds; d++) {
            struct rrd_ds *ds = &r->ds[d];
            if (isnan(rates[d])) {
                ds->value = 0.0;
                ds->unknown_sec = post;
            } else {
                ds->value = ds->type == RRD_DERIVE ? post * rates[d] / ivs[d] : rates[d];
                ds->unknown_sec = 0.0;
            }
        }
    }
    if (rates != rates_s)
        free(rates);
}

double rrd_latest(const struct rrd *r, uint32_t d)
{
    if (d >= r->nds)
        return NAN;
    for (uint32_t a = 0; a < r->nrra; a++)
        if (r->rra[a].cf == RRD_AVERAGE && r->rra[a].pdp == 1)
            return rrd_peek(r, a, d, 0);
    return NAN;
}

struct rrd *rrd_copy(const struct rrd *r)
{
    struct rrd *c = malloc(sizeof(*c));
    if (!c)
        abort();
    *c = *r;
    c->cap = r->nds ? r->nds : 1;
    c->ds = malloc(sizeof(*c->ds) * c->cap);
    if (!c->ds)
        abort();
    for (uint32_t d = 0; d < r->nds; d++) {
        c->ds[d] = r->ds[d];
        c->ds[d].ring = malloc(sizeof(float) * r->slots);
        if (!c->ds[d].ring)
            abort();
        memcpy(c->ds[d].ring, r->ds[d].ring, sizeof(float) * r->slots);
    }
    return c;
}
