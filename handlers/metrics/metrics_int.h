/* metrics_int.h: what the files of handlers/metrics/ share: an output sink,
 * the registry of live RRDs, and the entry points of each file. */
#ifndef XG_METRICS_INT_H
#define XG_METRICS_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../server/arena.h"
#include "../../server/xg_err.h"
#include "../driver/driver.h"
#include "rrd.h"

/* ---- msink.c: buffered byte sink (xg_out, memory, …) -------------------- */
struct msink {
    void (*flush)(void *ctx, const char *p, size_t n);
    void *ctx;
    size_t n;
    char buf[8192];
};
void ms_init(struct msink *s, void (*flush)(void *, const char *, size_t), void *ctx);
void ms_put(struct msink *s, const char *p, size_t n);
void ms_puts(struct msink *s, const char *str);
void ms_printf(struct msink *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ms_num(struct msink *s, double v);          /* rrd_fmt */
void ms_xml_text(struct msink *s, const char *str); /* escapes <>&"' */
void ms_json_str(struct msink *s, const char *str); /* quoted, escaped */
void ms_flush(struct msink *s);

/* Growable memory buffer as a sink target. Bounded: beyond max, `over` is
 * set and further bytes are dropped. */
struct mbuf { char *p; size_t len, cap, max; bool over; };
void mbuf_sink(void *ctx, const char *p, size_t n);
void mbuf_free(struct mbuf *b);

/* ---- mreg.c: registry of RRDs (no fixed limit: it grows) ---------------- */

struct mentry {
    char uuid[XG_UUID_STR];
    char name[128];
    bool halted;                     /* xg_metrics_vm_halted: drop at next tick */
    uint32_t domid;
    uint32_t missing;                /* consecutive ticks without its domain */
    double saved_at;                 /* wall time of the last write to disk */
    struct rrd *rrd;
};

struct mreg {
    /* Readers (HTTP) take it shared; the sampler and vm_halted exclusive. */
    pthread_rwlock_t lock;
    struct mentry host;              /* host.rrd NULL until the first tick */
    char hostname[256];
    struct mentry **vm;
    uint32_t nvm, cap;
    uint32_t *slot;                  /* open addressing: index+1, 0 empty */
    uint32_t nslot;
};

void mreg_init(struct mreg *g);
void mreg_destroy(struct mreg *g);
struct mentry *mreg_find(const struct mreg *g, const char *uuid);
/* Takes ownership of e; grows as needed. */
void mreg_add(struct mreg *g, struct mentry *e);
void mreg_remove(struct mreg *g, struct mentry *e);   /* frees e and its RRD */

/* ---- rrd_xml.c: full dumps and loading ----------------------------------- */
/* XAPI's dump (metrics.md §2.2); internal adds <last_updated> per DS. */
void rrd_dump_xml(struct msink *s, const struct rrd *r, bool internal);
void rrd_dump_json(struct msink *s, const struct rrd *r);
/* Parses a dump (ours or XAPI's) with the §1.6 load rules. */
struct rrd *rrd_load_xml(const char *buf, size_t len, xg_err *err);
/* <dir>/<uuid>.gz, written atomically (tmp, fsync, rename, fsync dir). */
bool rrd_file_save(const char *dir, const char *uuid, const struct rrd *r, xg_err *err);
/* Batch of writes without per-file fsync; off = one syncfs of dir. */
void rrd_file_bulk(const char *dir, bool on);
bool rrd_file_write(const char *dir, const char *uuid, const char *xml, size_t len, xg_err *err);
/* The archive of uuid into *out; true with *out NULL when there is none,
 * false (err set) when it cannot be read or parsed. */
bool rrd_file_load(const char *dir, const char *uuid, struct rrd **out, xg_err *err);
/* Decompressed file content; *found false (and true returned) when there
 * is no archive. */
bool rrd_file_read(const char *dir, const char *uuid, struct mbuf *out, bool *found,
                   xg_err *err);

/* ---- rrd_updates.c: /rrd_updates ----------------------------------------- */
struct xport_src {
    const char *owner;               /* "host" | "vm" */
    const char *uuid;
    const struct rrd *rrd;
};
struct xport_req {
    int64_t start;                   /* absolute; caller resolves negatives */
    int64_t interval;
    bool have_cf;
    enum rrd_cf cf;
    bool json;
};
/* False (err set) when no archive matches the cf. */
bool xport_write(struct msink *s, const struct xport_src *src, uint32_t n,
                 const struct xport_req *rq, xg_err *err);

/* ---- openmetrics.c: /metrics --------------------------------------------- */
/* Caller holds the registry read lock. openmetrics: OpenMetrics 1.0 text
 * (# UNIT, # EOF), else Prometheus 0.0.4 text. */
void om_write(struct msink *s, const struct mreg *g, const char *host_uuid, bool openmetrics);

/* ---- sampler.c ----------------------------------------------------------- */
struct sampler_cost { uint64_t read_ns, update_ns; uint32_t ndoms; };
/* One tick at wall time now: reads the driver (no lock), updates RRDs (write
 * lock), publishes (hook). Loads VM RRDs from state_dir (may be NULL). */
void sampler_tick(struct mreg *g, const struct xg_driver *drv, struct xg_drv *d,
                  const char *rrd_dir, double now, xg_arena *a, struct sampler_cost *cost);

/* ---- metrics_http.c ------------------------------------------------------ */
void metrics_http_register(void);

/* ---- metrics.c: module state ------------------------------------------- */
struct mreg *metrics_reg(void);
const char *metrics_rrd_dir(void);

#endif
