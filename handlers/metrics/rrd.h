/* rrd.h: XAPI's round-robin database (xapi-rrd's rrd.ml), without I/O or
 * locking. See spec metrics.md §1.
 *
 * Layout: each data source (DS) owns one float block holding its ring for
 * every archive (RRA) plus its consolidation state, so adding or removing a
 * DS at run time (a VM gains a VIF) touches one array slot and never moves
 * the data of the others. Rings store float like XAPI's Bigarray, so exported
 * numbers carry the same float32 artefacts. */
#ifndef XG_RRD_H
#define XG_RRD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RRD_STEP 5                  /* seconds per primary data point */
#define RRD_MRHB 300.0              /* XAPI's minimal heartbeat for every DS */
#define RRD_MAX_RRA 16
#define RRD_MAX_DS 512              /* per RRD; a VM with many VIFs/VBDs stays far below */
#define RRD_NAME_MAX 64

enum rrd_ds_type { RRD_GAUGE, RRD_ABSOLUTE, RRD_DERIVE };
enum rrd_cf { RRD_AVERAGE, RRD_MIN, RRD_MAX, RRD_LAST };
enum rrd_vkind { RRD_V_UNKNOWN, RRD_V_I64, RRD_V_F64 };

struct rrd_value {
    enum rrd_vkind kind;
    int64_t i;
    double f;
};

struct rrd_cdp {
    double value;
    uint32_t unknown;               /* unknown PDPs in the current row */
};

struct rrd_ds {
    char name[RRD_NAME_MAX];
    enum rrd_ds_type type;
    double min, max, mrhb;
    struct rrd_value last;          /* raw reading of the previous update */
    double value;                   /* PDP accumulator */
    double unknown_sec;
    double last_updated;
    struct rrd_cdp cdp[RRD_MAX_RRA];
    float *ring;                    /* all archives' rows, rra->off apart */
};

struct rrd_rra {
    enum rrd_cf cf;
    uint32_t rows, pdp;
    double xff;
    uint32_t head;                  /* slot of the newest row */
    uint32_t off;                   /* first slot of this archive in ds->ring */
};

struct rrd {
    double last_updated;
    uint32_t nrra, nds, cap;
    uint32_t slots;                 /* sum of rows over archives */
    struct rrd_rra rra[RRD_MAX_RRA];
    struct rrd_ds *ds;
};

/* What to record for one DS in one update. */
struct rrd_in {
    struct rrd_value v;
    bool inverse;                   /* transform 1 - x (idle time → usage) */
};

struct rrd_ds_def {
    const char *name;
    enum rrd_ds_type type;
    double min, max;
};

/* The archive layouts of metrics.md §1.3. */
enum rrd_layout { RRD_LAYOUT_HOST, RRD_LAYOUT_VM };

/* A fresh RRD with no DS, last update t. */
struct rrd *rrd_create(enum rrd_layout layout, double t);
/* An RRD with the given archives (used by the loader). rows[i] > 0. */
struct rrd *rrd_create_rras(const struct rrd_rra *rras, uint32_t n, double t);
void rrd_free(struct rrd *r);

/* Appends a DS (no-op if the name exists); its rings start full of NaN.
 * Returns its index, or -1 when full or the name is too long. */
int rrd_add_ds(struct rrd *r, const struct rrd_ds_def *def, double t);
bool rrd_remove_ds(struct rrd *r, const char *name);
int rrd_find_ds(const struct rrd *r, const char *name);

/* One update at wall time t. in[] is parallel to r->ds (r->nds entries);
 * a DS not measured this time gets RRD_V_UNKNOWN so it turns NaN instead of
 * repeating. new_rrd: the counters restarted (first sample, domain reboot),
 * so DERIVE sources record NaN rather than a spike. */
void rrd_update(struct rrd *r, double t, const struct rrd_in *in, bool new_rrd);

/* i-th newest row (0 = newest) of archive a for DS d. */
static inline double rrd_peek(const struct rrd *r, uint32_t a, uint32_t d, uint32_t i)
{
    const struct rrd_rra *ra = &r->rra[a];
    if (i >= ra->rows)
        return __builtin_nan("");
    uint32_t slot = (ra->head + ra->rows - i) % ra->rows;
    return r->ds[d].ring[ra->off + slot];
}
/* Pushes v as the newest row (out of [min,max] → NaN, like Fring). */
void rrd_push(struct rrd *r, uint32_t a, uint32_t d, double v);

/* Newest AVERAGE value of the finest archive, NaN if none. */
double rrd_latest(const struct rrd *r, uint32_t d);

/* Deep copy (HTTP readers can format outside the lock). */
struct rrd *rrd_copy(const struct rrd *r);

/* XAPI's Utils.f_to_s: %0.15g, "NaN", "Infinity", "-Infinity", zero "0.0". */
size_t rrd_fmt(char buf[40], double v);
const char *rrd_cf_name(enum rrd_cf cf);
const char *rrd_type_name(enum rrd_ds_type t);
bool rrd_cf_parse(const char *s, enum rrd_cf *out);

#endif
