/* rrd_xml.c: XAPI's full RRD dump (rrdtool-dump-like XML and its JSON twin,
 * spec metrics.md §2.2), the loader for such dumps (§1.6 rules), and the
 * gzipped files <dir>/<uuid>.gz that XAPI's tools read and write. */
#include "metrics_int.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define MAX_FILE_BYTES (256u << 20)     /* decompressed dump; a host RRD is ~2 MB */
#define MAX_ROWS 100000u

/* ---------------------------------------------------------------- writers */

/* Hot: a host's and every running VM's archives are dumped at shutdown,
 * millions of values, so no printf for the tags. */
static void tag_num(struct msink *s, const char *tag, double v)
{
    size_t tl = strlen(tag);
    ms_put(s, "<", 1);
    ms_put(s, tag, tl);
    ms_put(s, ">", 1);
    ms_num(s, v);
    ms_put(s, "</", 2);
    ms_put(s, tag, tl);
    ms_put(s, ">", 1);
}

static void fmt_last(char buf[40], const struct rrd_value *v)
{
    if (v->kind == RRD_V_I64)
        snprintf(buf, 40, "%lld", (long long)v->i);
    else if (v->kind == RRD_V_F64)
        rrd_fmt(buf, v->f);
    else
        snprintf(buf, 40, "0.0");
}

void rrd_dump_xml(struct msink *s, const struct rrd *r, bool internal)
{
    char b[40];
    /* lastupdate must be an integer: XenCenter parses it as one (CA-407322). */
    ms_printf(s, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rrd><version>0003</version>"
                 "<step>%d</step><lastupdate>%lld</lastupdate>",
              RRD_STEP, (long long)floor(r->last_updated));
    for (uint32_t d = 0; d < r->nds; d++) {
        const struct rrd_ds *ds = &r->ds[d];
        ms_puts(s, "<ds><name>");
        ms_xml_text(s, ds->name);
        ms_printf(s, "</name><type>%s</type>", rrd_type_name(ds->type));
        tag_num(s, "minimal_heartbeat", ds->mrhb);
        tag_num(s, "min", ds->min);
        tag_num(s, "max", ds->max);
        fmt_last(b, &ds->last);
        ms_printf(s, "<last_ds>%s</last_ds>", b);
        tag_num(s, "value", ds->value);
        ms_printf(s, "<unknown_sec>%lld</unknown_sec>", (long long)ds->unknown_sec);
        if (internal)
            tag_num(s, "last_updated", ds->last_updated);
        ms_puts(s, "</ds>");
    }
    for (uint32_t a = 0; a < r->nrra; a++) {
        const struct rrd_rra *ra = &r->rra[a];
        ms_printf(s, "<rra><cf>%s</cf><pdp_per_row>%u</pdp_per_row><params>",
                  rrd_cf_name(ra->cf), ra->pdp);
        tag_num(s, "xff", ra->xff);
        ms_puts(s, "</params><cdp_prep>");
        for (uint32_t d = 0; d < r->nds; d++) {
            ms_puts(s, "<ds><primary_value>0.0</primary_value>"
                       "<secondary_value>0.0</secondary_value>");
            tag_num(s, "value", r->ds[d].cdp[a].value);
            ms_printf(s, "<unknown_datapoints>%u</unknown_datapoints></ds>",
                      r->ds[d].cdp[a].unknown);
        }
        ms_puts(s, "</cdp_prep><database>");
        /* rrdtool order: oldest row first. */
        for (uint32_t row = 0; row < ra->rows && r->nds; row++) {
            ms_puts(s, "<row>");
            for (uint32_t d = 0; d < r->nds; d++)
                tag_num(s, "v", rrd_peek(r, a, d, ra->rows - row - 1));
            ms_puts(s, "</row>");
        }
        ms_puts(s, "</database></rra>");
    }
    ms_puts(s, "</rrd>");
}

static void jnum(struct msink *s, double v)
{
    ms_put(s, "\"", 1);
    ms_num(s, v);
    ms_put(s, "\"", 1);
}

void rrd_dump_json(struct msink *s, const struct rrd *r)
{
    char b[40];
    /* Every scalar a string, as xapi's Rrd.Json does. */
    ms_printf(s, "{\"version\":\"0003\",\"step\":\"%d\",\"lastupdate\":", RRD_STEP);
    jnum(s, r->last_updated);
    ms_puts(s, ",\"ds\":[");
    for (uint32_t d = 0; d < r->nds; d++) {
        const struct rrd_ds *ds = &r->ds[d];
        ms_puts(s, d ? ",{\"name\":" : "{\"name\":");
        ms_json_str(s, ds->name);
        ms_printf(s, ",\"type\":\"%s\",\"minimal_heartbeat\":", rrd_type_name(ds->type));
        jnum(s, ds->mrhb);
        ms_puts(s, ",\"min\":");
        jnum(s, ds->min);
        ms_puts(s, ",\"max\":");
        jnum(s, ds->max);
        fmt_last(b, &ds->last);
        ms_printf(s, ",\"last_ds\":\"%s\",\"value\":", b);
        jnum(s, ds->value);
        ms_puts(s, ",\"unknown_sec\":");
        jnum(s, ds->unknown_sec);
        ms_puts(s, ",\"last_updated\":");
        jnum(s, ds->last_updated);
        ms_puts(s, "}");
    }
    ms_puts(s, "],\"rra\":[");
    for (uint32_t a = 0; a < r->nrra; a++) {
        const struct rrd_rra *ra = &r->rra[a];
        ms_printf(s, "%s{\"cf\":\"%s\",\"pdp_per_row\":\"%u\",\"params\":{\"xff\":",
                  a ? "," : "", rrd_cf_name(ra->cf), ra->pdp);
        jnum(s, ra->xff);
        ms_puts(s, "},\"cdp_prep\":{\"ds\":[");
        for (uint32_t d = 0; d < r->nds; d++) {
            ms_puts(s, d ? ",{" : "{");
            ms_puts(s, "\"primary_value\":\"0.0\",\"secondary_value\":\"0.0\",\"value\":");
            jnum(s, r->ds[d].cdp[a].value);
            ms_printf(s, ",\"unknown_datapoints\":\"%u\"}", r->ds[d].cdp[a].unknown);
        }
        ms_puts(s, "]},\"database\":[");
        for (uint32_t row = 0; row < ra->rows && r->nds; row++) {
            ms_puts(s, row ? ",[" : "[");
            for (uint32_t d = 0; d < r->nds; d++) {
                if (d)
                    ms_put(s, ",", 1);
                jnum(s, rrd_peek(r, a, d, ra->rows - row - 1));
            }
            ms_puts(s, "]");
        }
        ms_puts(s, "]}");
    }
    ms_puts(s, "]}");
}

/* ---------------------------------------------------------------- reader */

/* A pull tokenizer for the small element-only XML dialect of RRD dumps:
 * no attributes that matter, no mixed content. */
enum tok { T_START, T_END, T_TEXT, T_EOF, T_BAD };

struct xr {
    const char *p, *end;
    char name[64];
    char text[128];
    bool pending_end;                /* after <x/> */
};

/* At '&' of t[0..n): appends the character an entity stands for (the five
 * XML ones, which ms_xml_text writes, and numeric references as UTF-8) to
 * out[*k], returning the bytes consumed; anything else is a literal '&'. */
static size_t xr_entity(const char *t, size_t n, char *out, size_t *k, size_t cap)
{
    static const struct { const char *name; char ch; } named[] = {
        {"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}, {"&apos;", '\''},
    };
    for (size_t e = 0; e < sizeof(named) / sizeof(named[0]); e++) {
        size_t len = strlen(named[e].name);
        if (n >= len && memcmp(t, named[e].name, len) == 0) {
            out[(*k)++] = named[e].ch;
            return len;
        }
    }
    const char *semi = n > 3 && t[1] == '#' ? memchr(t, ';', n < 12 ? n : 12) : NULL;
    if (semi) {
        bool hex = t[2] == 'x' || t[2] == 'X';
        char *end;
        unsigned long c = strtoul(t + (hex ? 3 : 2), &end, hex ? 16 : 10);
        if (end == semi && end > t + (hex ? 3 : 2) && c >= 0x20 && c <= 0x10FFFF &&
            !(c >= 0xD800 && c <= 0xDFFF) && *k + 5 < cap) {
            if (c < 0x80) {
                out[(*k)++] = (char)c;
            } else if (c < 0x800) {
                out[(*k)++] = (char)(0xC0 | (c >> 6));
                out[(*k)++] = (char)(0x80 | (c & 0x3F));
            } else if (c < 0x10000) {
                out[(*k)++] = (char)(0xE0 | (c >> 12));
                out[(*k)++] = (char)(0x80 | ((c >> 6) & 0x3F));
                out[(*k)++] = (char)(0x80 | (c & 0x3F));
            } else {
                out[(*k)++] = (char)(0xF0 | (c >> 18));
                out[(*k)++] = (char)(0x80 | ((c >> 12) & 0x3F));
                out[(*k)++] = (char)(0x80 | ((c >> 6) & 0x3F));
                out[(*k)++] = (char)(0x80 | (c & 0x3F));
            }
            return (size_t)(semi - t) + 1;
        }
    }
    out[(*k)++] = '&';
    return 1;
}

static enum tok xr_next(struct xr *x)
{
    if (x->pending_end) {
        x->pending_end = false;
        return T_END;
    }
    for (;;) {
        const char *q = x->p;
        while (q < x->end && *q != '<')
            q++;
        if (q > x->p) {
            const char *t = x->p;
            size_t n = (size_t)(q - t);
            x->p = q;
            size_t k = 0;
            bool blank = true;
            for (size_t i = 0; i < n && k + 1 < sizeof(x->text); i++) {
                if (t[i] != ' ' && t[i] != '\n' && t[i] != '\r' && t[i] != '\t')
                    blank = false;
                if (t[i] == '&')
                    i += xr_entity(t + i, n - i, x->text, &k, sizeof(x->text)) - 1;
                else
                    x->text[k++] = t[i];
            }
            x->text[k] = '\0';
            if (!blank)
                return T_TEXT;
            continue;
        }
        if (x->p >= x->end)
            return T_EOF;
        /* x->p at '<' */
        if (x->end - x->p >= 2 && (x->p[1] == '?' || x->p[1] == '!')) {
            const char *c = memchr(x->p, '>', (size_t)(x->end - x->p));
            if (!c)
                return T_BAD;
            x->p = c + 1;
            continue;
        }
        const char *c = memchr(x->p, '>', (size_t)(x->end - x->p));
        if (!c)
            return T_BAD;
        bool end = x->p[1] == '/';
        const char *n0 = x->p + (end ? 2 : 1);
        const char *n1 = n0;
        while (n1 < c && *n1 != ' ' && *n1 != '/' && *n1 != '\t' && *n1 != '\n')
            n1++;
        size_t nl = (size_t)(n1 - n0);
        if (nl == 0 || nl >= sizeof(x->name))
            return T_BAD;
        memcpy(x->name, n0, nl);
        x->name[nl] = '\0';
        x->pending_end = !end && c[-1] == '/';
        x->p = c + 1;
        return end ? T_END : T_START;
    }
}

/* After a START: the element's text ("" if empty), consuming its END. */
static bool xr_text(struct xr *x, char *buf, size_t len)
{
    buf[0] = '\0';
    enum tok t = xr_next(x);
    if (t == T_TEXT) {
        snprintf(buf, len, "%s", x->text);
        t = xr_next(x);
    }
    return t == T_END;
}

/* After a START: skips to its matching END. */
static bool xr_skip(struct xr *x)
{
    for (int depth = 1; depth > 0;) {
        enum tok t = xr_next(x);
        if (t == T_START)
            depth++;
        else if (t == T_END)
            depth--;
        else if (t == T_EOF || t == T_BAD)
            return false;
    }
    return true;
}

static double num(const char *s)
{
    char *e;
    double v = strtod(s, &e);
    return e == s ? NAN : v;
}

/* A time the RRD code can turn into whole seconds and PDP numbers (int64):
 * from 1970 to year ~5000; a file or dump with another is refused. */
#define MAX_TIME 1e11

static bool time_ok(double t)
{
    return t >= 0 && t <= MAX_TIME;
}

struct lds {
    struct rrd_ds_def def;
    char name[RRD_NAME_MAX];
    double mrhb, value, unknown_sec, last_updated;
    bool has_last_updated, dup;
};

struct lrra {
    struct rrd_rra rra;
    struct rrd_cdp *cdp;             /* [nds] */
    uint32_t ncdp;
    float *rows;                     /* [nrows][nds] */
    uint32_t nrows, caprows;
};

struct load {
    struct lds *ds;
    uint32_t nds;
    struct lrra rra[RRD_MAX_RRA];
    uint32_t nrra;
    double lastupdate;
};

static void load_free(struct load *L)
{
    free(L->ds);
    for (uint32_t a = 0; a < L->nrra; a++) {
        free(L->rra[a].cdp);
        free(L->rra[a].rows);
    }
}

static bool parse_ds(struct xr *x, struct load *L, xg_err *err)
{
    if (L->nds >= RRD_MAX_DS)
        return xg_err_internal(err, "rrd: too many data sources");
    struct lds *d = &L->ds[L->nds];
    memset(d, 0, sizeof(*d));
    d->mrhb = RRD_MRHB;
    d->def.min = -INFINITY;
    d->def.max = INFINITY;
    char v[128];
    for (;;) {
        enum tok t = xr_next(x);
        if (t == T_END)
            break;
        if (t != T_START)
            return xg_err_internal(err, "rrd: bad <ds>");
        char el[64];
        snprintf(el, sizeof(el), "%s", x->name);
        if (!xr_text(x, v, sizeof(v)))
            return xg_err_internal(err, "rrd: bad <%s>", el);
        if (!strcmp(el, "name")) {
            size_t n = strlen(v);
            if (n >= sizeof(d->name))
                return xg_err_internal(err, "rrd: DS name too long");
            /* our dumps drop control bytes: such a name could not reload */
            for (size_t i = 0; i < n; i++)
                if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
                    return xg_err_internal(err, "rrd: control byte in a DS name");
            memcpy(d->name, v, n + 1);
        }
        else if (!strcmp(el, "type")) {
            if (!strcmp(v, "GAUGE")) d->def.type = RRD_GAUGE;
            else if (!strcmp(v, "ABSOLUTE")) d->def.type = RRD_ABSOLUTE;
            else if (!strcmp(v, "DERIVE")) d->def.type = RRD_DERIVE;
            else return xg_err_internal(err, "rrd: bad DS type %s", v);
        } else if (!strcmp(el, "minimal_heartbeat")) d->mrhb = num(v);
        else if (!strcmp(el, "min")) d->def.min = num(v);
        else if (!strcmp(el, "max")) d->def.max = num(v);
        else if (!strcmp(el, "value")) d->value = num(v);
        else if (!strcmp(el, "unknown_sec")) d->unknown_sec = num(v);
        else if (!strcmp(el, "last_updated")) {
            d->last_updated = num(v);
            d->has_last_updated = true;
            if (!time_ok(d->last_updated))
                return xg_err_internal(err, "rrd: bad <last_updated> %s", v);
        }
        /* last_ds is ignored on purpose: the first DERIVE sample after a
         * reload must be NaN, not a spike. */
    }
    if (!d->name[0])
        return xg_err_internal(err, "rrd: <ds> without a name");
    /* CA-408126: old negative data becomes NaN. */
    if (isnan(d->def.min) || d->def.min < 0)
        d->def.min = 0;
    if (isnan(d->def.max))
        d->def.max = INFINITY;
    if (isnan(d->mrhb))
        d->mrhb = RRD_MRHB;
    d->def.name = d->name;
    /* Duplicates: keep the last one, as XAPI's loader does. */
    for (uint32_t i = 0; i < L->nds; i++)
        if (!L->ds[i].dup && !strcmp(L->ds[i].name, d->name))
            L->ds[i].dup = true;
    L->nds++;
    return true;
}

static bool parse_rra(struct xr *x, struct load *L, xg_err *err)
{
    if (L->nrra >= RRD_MAX_RRA)
        return xg_err_internal(err, "rrd: too many archives");
    struct lrra *R = &L->rra[L->nrra++];
    memset(R, 0, sizeof(*R));
    R->rra.xff = 0.5;
    R->cdp = calloc(L->nds ? L->nds : 1, sizeof(*R->cdp));
    if (!R->cdp)
        abort();
    char v[128];
    for (;;) {
        enum tok t = xr_next(x);
        if (t == T_END)
            break;
        if (t != T_START)
            return xg_err_internal(err, "rrd: bad <rra>");
        if (!strcmp(x->name, "cf")) {
            if (!xr_text(x, v, sizeof(v)) || !rrd_cf_parse(v, &R->rra.cf))
                return xg_err_internal(err, "rrd: bad <cf>");
        } else if (!strcmp(x->name, "pdp_per_row")) {
            if (!xr_text(x, v, sizeof(v)))
                return xg_err_internal(err, "rrd: bad <pdp_per_row>");
            long p = strtol(v, NULL, 10);
            if (p <= 0 || p > 1000000)
                return xg_err_internal(err, "rrd: bad pdp_per_row %s", v);
            R->rra.pdp = (uint32_t)p;
        } else if (!strcmp(x->name, "params")) {
            for (;;) {
                t = xr_next(x);
                if (t == T_END)
                    break;
                if (t != T_START)
                    return xg_err_internal(err, "rrd: bad <params>");
                bool is_xff = !strcmp(x->name, "xff");
                if (!xr_text(x, v, sizeof(v)))
                    return xg_err_internal(err, "rrd: bad <params>");
                if (is_xff)
                    R->rra.xff = num(v);
            }
        } else if (!strcmp(x->name, "cdp_prep")) {
            for (;;) {
                t = xr_next(x);
                if (t == T_END)
                    break;
                if (t != T_START || strcmp(x->name, "ds"))
                    return xg_err_internal(err, "rrd: bad <cdp_prep>");
                struct rrd_cdp c = {0};
                for (;;) {
                    t = xr_next(x);
                    if (t == T_END)
                        break;
                    if (t != T_START)
                        return xg_err_internal(err, "rrd: bad <cdp_prep><ds>");
                    char el[64];
                    snprintf(el, sizeof(el), "%s", x->name);
                    if (!xr_text(x, v, sizeof(v)))
                        return xg_err_internal(err, "rrd: bad <%s>", el);
                    if (!strcmp(el, "value"))
                        c.value = num(v);
                    else if (!strcmp(el, "unknown_datapoints"))
                        c.unknown = (uint32_t)strtoul(v, NULL, 10);
                }
                if (R->ncdp < L->nds)
                    R->cdp[R->ncdp] = c;
                R->ncdp++;
            }
        } else if (!strcmp(x->name, "database")) {
            for (;;) {
                t = xr_next(x);
                if (t == T_END)
                    break;
                if (t != T_START || strcmp(x->name, "row"))
                    return xg_err_internal(err, "rrd: bad <database>");
                if (R->nrows >= MAX_ROWS)
                    return xg_err_internal(err, "rrd: too many rows");
                if (R->nrows == R->caprows) {
                    R->caprows = R->caprows ? R->caprows * 2 : 128;
                    R->rows = realloc(R->rows, sizeof(float) * R->caprows * (L->nds ? L->nds : 1));
                    if (!R->rows)
                        abort();
                }
                float *row = R->rows + (size_t)R->nrows * L->nds;
                uint32_t col = 0;
                for (;;) {
                    t = xr_next(x);
                    if (t == T_END)
                        break;
                    if (t != T_START || !xr_text(x, v, sizeof(v)))
                        return xg_err_internal(err, "rrd: bad <row>");
                    if (col < L->nds)
                        row[col] = (float)num(v);
                    col++;
                }
                if (col != L->nds)
                    return xg_err_internal(err, "rrd: row has %u values, %u DSs", col, L->nds);
                R->nrows++;
            }
        } else if (!xr_skip(x)) {
            return xg_err_internal(err, "rrd: bad <rra>");
        }
    }
    if (R->rra.pdp == 0 || R->nrows == 0)
        return xg_err_internal(err, "rrd: archive without pdp_per_row or rows");
    /* a share of a row (rrdtool's rule); NaN or beyond was undefined
     * behaviour when rrd_update turned it into a count of PDPs */
    if (!(R->rra.xff >= 0 && R->rra.xff <= 1))
        return xg_err_internal(err, "rrd: bad xff");
    if (R->ncdp != L->nds)
        return xg_err_internal(err, "rrd: cdp_prep has %u entries, %u DSs", R->ncdp, L->nds);
    for (uint32_t d = 0; d < L->nds; d++)
        if (R->cdp[d].unknown > R->rra.pdp)
            return xg_err_internal(err, "rrd: %u unknown datapoints in a row of %u",
                                   R->cdp[d].unknown, R->rra.pdp);
    R->rra.rows = R->nrows;
    return true;
}

static struct rrd *build(struct load *L, xg_err *err)
{
    struct rrd_rra rras[RRD_MAX_RRA];
    for (uint32_t a = 0; a < L->nrra; a++)
        rras[a] = L->rra[a].rra;
    struct rrd *r = rrd_create_rras(rras, L->nrra, L->lastupdate);
    if (!r) {
        xg_err_internal(err, "rrd: no archives");
        return NULL;
    }
    for (uint32_t i = 0; i < L->nds; i++) {
        const struct lds *d = &L->ds[i];
        if (d->dup)
            continue;
        /* seconds of the current step not yet known: within one step's
         * length (an infinite one was undefined behaviour when dumped again,
         * found by fuzz_rrd) */
        if (!isnan(d->unknown_sec) && !(d->unknown_sec >= 0 && d->unknown_sec <= RRD_STEP)) {
            rrd_free(r);
            xg_err_internal(err, "rrd: bad <unknown_sec> of DS %s", d->name);
            return NULL;
        }
        int k = rrd_add_ds(r, &d->def, L->lastupdate);
        if (k < 0) {
            rrd_free(r);
            xg_err_internal(err, "rrd: cannot add DS %s", d->name);
            return NULL;
        }
        struct rrd_ds *ds = &r->ds[k];
        ds->mrhb = d->mrhb;
        ds->value = isnan(d->value) ? 0 : d->value;
        ds->unknown_sec = isnan(d->unknown_sec) ? 0 : d->unknown_sec;
        ds->last_updated = d->has_last_updated ? d->last_updated : L->lastupdate;
        for (uint32_t a = 0; a < L->nrra; a++) {
            ds->cdp[a] = L->rra[a].cdp[i];
            const struct rrd_rra *ra = &r->rra[a];
            for (uint32_t row = 0; row < ra->rows; row++) {
                double v = L->rra[a].rows[(size_t)row * L->nds + i];
                if (v < ds->min || v > ds->max)
                    v = NAN;            /* Fring range rule */
                ds->ring[ra->off + row] = (float)v;
            }
        }
    }
    return r;
}

struct rrd *rrd_load_xml(const char *buf, size_t len, xg_err *err)
{
    struct xr x = {.p = buf, .end = buf + len};
    struct load L = {0};
    L.ds = calloc(RRD_MAX_DS, sizeof(*L.ds));
    if (!L.ds)
        abort();
    struct rrd *r = NULL;
    bool have_lu = false;
    char v[128];
    if (xr_next(&x) != T_START || strcmp(x.name, "rrd")) {
        xg_err_internal(err, "rrd: not an <rrd> document");
        goto out;
    }
    for (;;) {
        enum tok t = xr_next(&x);
        if (t == T_END)
            break;
        if (t != T_START) {
            xg_err_internal(err, "rrd: truncated document");
            goto out;
        }
        if (!strcmp(x.name, "ds")) {
            if (L.nrra) {
                xg_err_internal(err, "rrd: <ds> after <rra>");
                goto out;
            }
            if (!parse_ds(&x, &L, err))
                goto out;
        } else if (!strcmp(x.name, "rra")) {
            if (!parse_rra(&x, &L, err))
                goto out;
        } else if (!strcmp(x.name, "lastupdate")) {
            if (!xr_text(&x, v, sizeof(v)))
                goto bad;
            L.lastupdate = num(v);
            if (!time_ok(L.lastupdate)) {
                xg_err_internal(err, "rrd: bad <lastupdate> %s", v);
                goto out;
            }
            have_lu = true;
        } else if (!strcmp(x.name, "step")) {
            if (!xr_text(&x, v, sizeof(v)))
                goto bad;
            if (strtol(v, NULL, 10) != RRD_STEP) {
                xg_err_internal(err, "rrd: step %s unsupported", v);
                goto out;
            }
        } else if (!xr_skip(&x)) {
            goto bad;
        }
    }
    if (!have_lu) {
        xg_err_internal(err, "rrd: no <lastupdate>");
        goto out;
    }
    r = build(&L, err);
    goto out;
bad:
    xg_err_internal(err, "rrd: malformed document");
out:
    load_free(&L);
    return r;
}

/* ---------------------------------------------------------------- files */

static void path_of(char *buf, size_t len, const char *dir, const char *uuid, const char *suffix)
{
    snprintf(buf, len, "%s/%s%s", dir, uuid, suffix);
}

static bool uuid_ok(const char *u)
{
    /* The uuid becomes a file name: no separators, no dots. */
    size_t n = strlen(u);
    if (n == 0 || n >= XG_UUID_STR)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((u[i] >= '0' && u[i] <= '9') || (u[i] >= 'a' && u[i] <= 'f')
              || (u[i] >= 'A' && u[i] <= 'F') || u[i] == '-'))
            return false;
    return true;
}

/* Bulk mode (shutdown saves thousands of RRDs): no fsync per file; one
 * syncfs when the batch ends, so shutdown takes seconds, not minutes. */
static bool bulk;

void rrd_file_bulk(const char *dir, bool on)
{
    if (bulk && !on) {
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            syncfs(dfd);
            close(dfd);
        }
    }
    bulk = on;
}

bool rrd_file_write(const char *dir, const char *uuid, const char *xml, size_t len, xg_err *err)
{
    if (!uuid_ok(uuid))
        return xg_err_internal(err, "rrd: bad uuid for a file name");
    char path[4096], tmp[4096];
    path_of(path, sizeof(path), dir, uuid, ".gz");
    snprintf(tmp, sizeof(tmp), "%s/.%s.gz.%ld.tmp", dir, uuid, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return xg_err_internal(err, "rrd: open %s: %s", tmp, strerror(errno));
    int fd2 = dup(fd);
    gzFile gz = fd2 >= 0 ? gzdopen(fd2, "wb1") : NULL;
    bool ok = gz != NULL;
    if (!gz && fd2 >= 0)
        close(fd2);
    for (size_t off = 0; ok && off < len;) {
        unsigned n = len - off > (1u << 30) ? (1u << 30) : (unsigned)(len - off);
        int w = gzwrite(gz, xml + off, n);
        if (w <= 0)
            ok = false;
        else
            off += (size_t)w;
    }
    if (gz && gzclose(gz) != Z_OK)
        ok = false;
    if (ok && !bulk && fsync(fd) != 0)
        ok = false;
    close(fd);
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return xg_err_internal(err, "rrd: writing %s failed: %s", path, strerror(e));
    }
    int dfd = bulk ? -1 : open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);                    /* make the rename itself durable */
        close(dfd);
    }
    /* XAPI removes a stale uncompressed copy. */
    path_of(tmp, sizeof(tmp), dir, uuid, "");
    unlink(tmp);
    return true;
}

bool rrd_file_save(const char *dir, const char *uuid, const struct rrd *r, xg_err *err)
{
    struct mbuf b = {0};
    struct msink s;
    ms_init(&s, mbuf_sink, &b);
    rrd_dump_xml(&s, r, true);
    ms_flush(&s);
    bool ok = rrd_file_write(dir, uuid, b.p, b.len, err);
    mbuf_free(&b);
    return ok;
}

bool rrd_file_read(const char *dir, const char *uuid, struct mbuf *out, bool *found,
                   xg_err *err)
{
    *found = false;
    if (!uuid_ok(uuid))
        return true;                    /* no such archive can exist */
    char path[4096];
    path_of(path, sizeof(path), dir, uuid, ".gz");
    gzFile gz = gzopen(path, "rb");
    if (!gz)
        return errno == ENOENT ? true
                               : xg_err_internal(err, "rrd: open %s: %s", path, strerror(errno));
    *found = true;
    out->max = MAX_FILE_BYTES;
    char buf[65536];
    int n;
    while ((n = gzread(gz, buf, sizeof(buf))) > 0)
        mbuf_sink(out, buf, (size_t)n);
    int zerr = Z_OK;
    if (n < 0)
        gzerror(gz, &zerr);
    gzclose(gz);
    if (n < 0 || out->over)
        return xg_err_internal(err, "rrd: %s unreadable or too large (zlib %d)", path, zerr);
    return true;
}

bool rrd_file_load(const char *dir, const char *uuid, struct rrd **out, xg_err *err)
{
    struct mbuf b = {0};
    bool found = false;
    *out = NULL;
    bool ok = rrd_file_read(dir, uuid, &b, &found, err);
    if (ok && found) {
        *out = rrd_load_xml(b.p ? b.p : "", b.len, err);
        ok = *out != NULL;
    }
    mbuf_free(&b);
    return ok;
}
