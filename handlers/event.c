/* event.c: XAPI's event API over the store's generations
 * (spec/xapi-wire.md §5): event.from with coalesced add/mod/del per object,
 * tokens "%020llu,%020llu" (generation, message generation), blocking until
 * a change or the float timeout, valid_ref_counts for every class; event.inject;
 * the legacy register/unregister/next/get_current_id with EVENTS_LOST.
 *
 * A call with nothing to report parks an xg_waiter (no CPU while parked); a
 * writer touching a watched class wakes it inside its world unlock, and a
 * timer ends it at its timeout. Answers are written by a producer, so a full
 * dump of 10,000 VMs streams instead of sitting in one buffer. */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../server/limits.h"
#include "../server/log.h"
#include "../server/timer.h"
#include "../server/world.h"
#include "events.h"
#include "gw.h"

#define PRODUCE_SLICE_BYTES (256 * 1024)
#define LEGACY_WAIT_MS (24ULL * 3600 * 1000)

struct evcall {
    xg_call *c;
    xapi_session *session;
    uint8_t *mask;              /* xg_nclasses entries */
    xg_ref *refs;               /* "class/ref" subscriptions (NULL: none) */
    uint32_t nrefs;
    uint64_t since;             /* token's generation */
    uint64_t resume;            /* producer: changes after this */
    bool legacy;                /* event.next: array answer */
    bool begun;                 /* producer wrote the opening */
    uint32_t sent;              /* events written so far */
    xg_waiter waiter;
    struct ticket *ticket;      /* armed timeout, NULL when none */
    struct evcall *prev, *next; /* parked list */
};

static struct evcall *parked;

/* The timeout's handle and argument live on the heap, apart from the call
 * (whose arena goes when the answer is sent): finishing early disarms the
 * ticket without waiting for a timer callback that may be blocked on the
 * world lock we hold. */
struct ticket {
    struct evcall *e;           /* NULL once the call was answered */
    xg_timer *t;
};

static void unlink_parked(struct evcall *e)
{
    if (e->prev) e->prev->next = e->next; else if (parked == e) parked = e->next;
    if (e->next) e->next->prev = e->prev;
    e->prev = e->next = NULL;
}

/* ---- subscriptions ------------------------------------------------------ */

static bool parse_classes(xg_call *c, const xg_set *classes, struct evcall *e, xg_err *err)
{
    e->mask = xg_arena_alloc(c->arena, xg_nclasses ? xg_nclasses : 1);
    e->refs = xg_arena_alloc(c->arena, sizeof(xg_ref) * (classes->n ? classes->n : 1));
    if (!e->mask || !e->refs)
        return xg_err_internal(err, "out of request memory");
    char **names = classes->items;
    for (uint32_t i = 0; i < classes->n; i++) {
        const char *s = names[i];
        if (strcmp(s, "*") == 0) {
            for (uint32_t k = 0; k < xg_nclasses; k++)
                if (xg_classes[k]->flags & XG_C_EVENTS)
                    e->mask[k] = 1;
            continue;
        }
        const char *slash = strchr(s, '/');
        char cls_name[64];
        size_t n = slash ? (size_t)(slash - s) : strlen(s);
        if (n == 0 || n >= sizeof(cls_name))
            return xapi_err_event_subscription_parse_failure(err, s);
        memcpy(cls_name, s, n);
        cls_name[n] = '\0';
        const xg_class_desc *cls = xg_class_by_lower(cls_name);
        if (!cls || !(cls->flags & XG_C_EVENTS))
            continue;               /* XAPI: classes without events never match */
        e->mask[cls->index] = 1;
        if (slash) {
            snprintf(e->refs[e->nrefs].s, XG_REF_LEN, "%s", slash + 1);
            e->nrefs++;
        }
    }
    return true;
}

static bool ref_wanted(const struct evcall *e, const xg_change *ch)
{
    if (!e->nrefs)
        return true;
    for (uint32_t i = 0; i < e->nrefs; i++)
        if (strcmp(e->refs[i].s, ch->ref) == 0)
            return true;
    /* a class subscribed without /ref in the same call matches everything;
     * we only track refs when any were given, which XAPI also treats as an
     * object filter for that class */
    return false;
}

/* ---- tokens ------------------------------------------------------------- */

static bool parse_token(const char *token, uint64_t *gen, xg_err *err)
{
    if (token[0] == '\0') {
        *gen = 0;
        return true;
    }
    char *end;
    errno = 0;
    unsigned long long a = strtoull(token, &end, 10);
    if (end == token || *end != ',' || errno)
        return xapi_err_event_from_token_parse_failure(err, token);
    const char *b = end + 1;
    strtoull(b, &end, 10);
    if (end == b || *end != '\0' || errno)
        return xapi_err_event_from_token_parse_failure(err, token);
    *gen = a;
    return true;
}

static void write_token(xg_writer *w, uint64_t gen)
{
    char buf[48];
    int n = snprintf(buf, sizeof(buf), "%020" PRIu64 ",%020" PRIu64, gen, (uint64_t)0);
    w->ops->string(w, buf, (size_t)n);
}

/* ---- the answer -------------------------------------------------------- */

struct emit {
    struct evcall *e;
    xg_writer *w;
    size_t start_bytes;
    uint64_t last_gen;
    uint32_t count;
    bool count_only;
};

static void write_event(xg_writer *w, const xg_change *ch, enum xg_change_op op, bool legacy)
{
    static const char *const opname[] = { "add", "mod", "del" };
    char id[24];
    int n = snprintf(id, sizeof(id), "%" PRIu64, ch->gen);
    w->ops->begin_struct(w);
    w->ops->member(w, "id", 2);
    w->ops->string(w, id, (size_t)n);
    w->ops->member(w, "timestamp", 9);
    if (legacy) {
        char ts[32];
        int m = snprintf(ts, sizeof(ts), "%" PRId64 ".", (int64_t)xg_wall_secs());
        w->ops->string(w, ts, (size_t)m);
    } else {
        w->ops->string(w, "0.0", 3);
    }
    w->ops->member(w, "class", 5);
    xg_write_cstr(w, ch->cls->lower);
    w->ops->member(w, "operation", 9);
    xg_write_cstr(w, opname[op]);
    w->ops->member(w, "ref", 3);
    xg_write_cstr(w, ch->ref);
    if (op != XG_CHG_DEL && ch->obj) {
        w->ops->member(w, "snapshot", 8);
        xg_write_record(w, ch->cls, ch->obj);
    }
    w->ops->end_struct(w);
}

static bool emit_change(const xg_change *ch, void *arg)
{
    struct emit *em = arg;
    if (!ref_wanted(em->e, ch))
        return true;
    if (em->count_only) {
        em->count++;
        return false;               /* one is enough to know */
    }
    /* add/mod relative to the token the client gave, even when resuming */
    enum xg_change_op op = ch->op;
    if (op != XG_CHG_DEL && ch->obj)
        op = ((xg_obj *)ch->obj)->gen_created > em->e->since ? XG_CHG_ADD : XG_CHG_MOD;
    write_event(em->w, ch, op, em->e->legacy);
    em->last_gen = ch->gen;
    em->count++;
    return em->w->out->total - em->start_bytes < PRODUCE_SLICE_BYTES;
}

static bool has_changes(struct evcall *e, xg_err *err)
{
    if (e->since == 0) {
        /* "from the beginning": every current object is an add, and lost
         * deletion history does not matter */
        for (uint32_t k = 0; k < xg_nclasses; k++)
            if (e->mask[k] && xg_store_count(xg_classes[k]) > 0)
                return true;
        return false;
    }
    struct emit em = { .e = e, .count_only = true };
    if (!xg_store_changes(e->since, e->mask, emit_change, &em, err))
        return false;
    return em.count > 0;
}

static void write_ref_counts(xg_writer *w)
{
    w->ops->begin_struct(w);
    for (uint32_t k = 0; k < xg_nclasses; k++) {
        const xg_class_desc *cls = xg_classes[k];
        if (!(cls->flags & XG_C_EVENTS) && strcmp(cls->name, "session") != 0)
            continue;
        w->ops->member(w, cls->lower, strlen(cls->lower));
        w->ops->int32(w, (int32_t)xg_store_count(cls));
    }
    w->ops->end_struct(w);
}

/* Producer for both event.from (struct) and event.next (array). */
static bool produce_events(xg_call *c, xg_writer *w, void *state)
{
    struct evcall *e = state;
    if (!e->begun) {
        e->begun = true;
        e->resume = e->since;
        if (!e->legacy) {
            w->ops->begin_struct(w);
            w->ops->member(w, "events", 6);
        }
        w->ops->begin_array(w);
    }
    struct emit em = { .e = e, .w = w, .start_bytes = w->out->total, .last_gen = e->resume };
    xg_err err = XG_ERR_INIT;
    /* History loss while streaming can only shorten the answer; the client's
     * next call with our token reports EVENTS_LOST where XAPI would. */
    xg_store_changes(e->resume, e->mask, emit_change, &em, &err);
    e->sent += em.count;
    if (w->out->total - em.start_bytes >= PRODUCE_SLICE_BYTES && em.last_gen > e->resume) {
        e->resume = em.last_gen;
        return false;               /* more to come when the socket drains */
    }
    w->ops->end_array(w);
    if (!e->legacy) {
        w->ops->member(w, "valid_ref_counts", 16);
        write_ref_counts(w);
        w->ops->member(w, "token", 5);
        /* an empty batch (timeout) gives the caller's token back, as XAPI */
        write_token(w, e->sent == 0 && e->since > 0 ? e->since : xg_store_generation());
        w->ops->end_struct(w);
    } else if (e->session) {
        gw_legacy_set_cursor(e->session, xg_store_generation());
    }
    (void)c;
    return true;
}

static void answer(struct evcall *e)
{
    xg_call_stream(e->c, produce_events, e);
}

static void finish_parked(struct evcall *e, const xg_err *err)
{
    struct ticket *tk = e->ticket;
    if (tk) {
        e->ticket = NULL;
        tk->e = NULL;
        if (xg_timer_try_cancel(tk->t))
            free(tk);               /* else on_timeout frees it */
    }
    if (e->waiter.parked)
        xg_store_unpark(&e->waiter);
    unlink_parked(e);
    if (err) {
        xg_call_finish(e->c, false, err, NULL);
    } else {
        answer(e);
        xg_call_finish(e->c, true, NULL, NULL);
    }
}

static void on_wake(xg_waiter *w)
{
    struct evcall *e = (struct evcall *)((char *)w - offsetof(struct evcall, waiter));
    xg_err err = XG_ERR_INIT;
    bool any = has_changes(e, &err);
    if (xg_err_is_set(&err))
        finish_parked(e, &err);
    else if (any)
        finish_parked(e, NULL);
    /* else: stays parked (a change in the class but not for our refs) */
}

static void on_timeout(void *arg)
{
    struct ticket *tk = arg;
    xg_world_lock();
    struct evcall *e = tk->e;
    if (e) {                        /* not already answered */
        e->ticket = NULL;
        tk->e = NULL;
        finish_parked(e, NULL);     /* an empty batch with the same token */
    }
    xg_world_unlock();
    xg_timer_cancel(tk->t);         /* from its own callback: freed after */
    free(tk);
}

static void park(struct evcall *e, uint64_t timeout_ms)
{
    e->waiter.class_mask = e->mask;
    e->waiter.wake = on_wake;
    xg_store_park(&e->waiter);
    e->next = parked;
    if (parked)
        parked->prev = e;
    parked = e;
    struct ticket *tk = calloc(1, sizeof(*tk));
    if (!tk)
        abort();
    tk->e = e;
    e->ticket = tk;
    /* the world lock is held, so on_timeout cannot run before tk->t is set */
    tk->t = xg_timer_add(timeout_ms, on_timeout, tk);
    xg_call_defer(e->c);
    /* tests wait for this line instead of sleeping until a waiter is parked */
    XG_DEBUG("event", "call parked (timeout %" PRIu64 " ms)", timeout_ms);
}

void gw_events_session_gone(xapi_session *s)
{
    struct evcall *e = parked, *next;
    for (; e; e = next) {
        next = e->next;
        if (e->session == s) {
            xg_err err = XG_ERR_INIT;
            xapi_err_session_invalid(&err, s->obj.ref.s);
            finish_parked(e, &err);
        }
    }
    gw_legacy_forget(s);
}

/* ---- event.from -------------------------------------------------------- */

bool handle_event_from(xg_call *c, const xg_set *classes, const char *token,
                       double timeout, xg_set *result_out, xg_err *err)
{
    (void)result_out;               /* the answer is streamed (produce_events) */
    struct evcall *e = xg_arena_alloc(c->arena, sizeof(*e));
    if (!e)
        return xg_err_internal(err, "out of request memory");
    e->c = c;
    e->session = c->session;
    if (!parse_classes(c, classes, e, err) || !parse_token(token, &e->since, err))
        return false;
    if (e->since > xg_store_generation())
        e->since = xg_store_generation();   /* a token from the future: from now */
    bool any = has_changes(e, err);
    if (xg_err_is_set(err))
        return false;
    if (any) {
        answer(e);
        return true;
    }
    /* non-finite or negative timeouts mean 24 h, as in XAPI */
    double t = (isfinite(timeout) && timeout >= 0) ? timeout : 86400.0;
    if (t > 86400.0)
        t = 86400.0;
    park(e, (uint64_t)(t * 1000.0));
    return true;
}

/* ---- event.inject / get_current_id ------------------------------------- */

bool handle_event_inject(xg_call *c, const char *class_name, const char *ref,
                         char **result_out, xg_err *err)
{
    const xg_class_desc *cls = xg_class_by_lower(class_name);
    void *obj = cls ? xg_store_get(cls, ref) : NULL;
    if (!obj)
        return xapi_err_handle_invalid(err, class_name, ref);
    xg_store_touch(obj);
    uint64_t gen = xg_store_generation();
    *result_out = xg_arena_printf(c->arena, "%020" PRIu64 ",%020" PRIu64,
                                  gen ? gen - 1 : 0, (uint64_t)0);
    return *result_out ? true : xg_err_internal(err, "out of request memory");
}

bool handle_event_get_current_id(xg_call *c, int64_t *result_out, xg_err *err)
{
    (void)c; (void)err;
    *result_out = (int64_t)xg_store_generation();
    return true;
}

/* ---- legacy register / unregister / next ------------------------------- */

/* Per-session subscription: a class mask and the generation read so far.
 * Kept in a small table keyed by session pointer (bounded by sessions). */
struct legacy {
    xapi_session *s;
    uint8_t *mask;
    uint64_t cursor;
    struct legacy *next;
};
static struct legacy *legacies;

static struct legacy *legacy_find(xapi_session *s, bool create)
{
    for (struct legacy *l = legacies; l; l = l->next)
        if (l->s == s)
            return l;
    if (!create)
        return NULL;
    struct legacy *l = calloc(1, sizeof(*l));
    if (!l || !(l->mask = calloc(xg_nclasses ? xg_nclasses : 1, 1)))
        abort();
    l->s = s;
    l->cursor = xg_store_generation();
    l->next = legacies;
    legacies = l;
    return l;
}

void gw_legacy_set_cursor(xapi_session *s, uint64_t gen)
{
    struct legacy *l = legacy_find(s, false);
    if (l)
        l->cursor = gen;
}

void gw_legacy_forget(xapi_session *s)
{
    for (struct legacy **p = &legacies; *p; p = &(*p)->next) {
        if ((*p)->s == s) {
            struct legacy *l = *p;
            *p = l->next;
            free(l->mask);
            free(l);
            return;
        }
    }
}

static bool legacy_update(xg_call *c, const xg_set *classes, bool add, xg_err *err)
{
    struct evcall tmp = {0};
    if (!parse_classes(c, classes, &tmp, err))
        return false;
    struct legacy *l = legacy_find(c->session, add);
    if (!l)
        return true;
    for (uint32_t k = 0; k < xg_nclasses; k++)
        if (tmp.mask[k])
            l->mask[k] = add ? 1 : 0;
    return true;
}

bool handle_event_register(xg_call *c, const xg_set *classes, xg_err *err)
{
    return legacy_update(c, classes, true, err);
}

bool handle_event_unregister(xg_call *c, const xg_set *classes, xg_err *err)
{
    return legacy_update(c, classes, false, err);
}

bool handle_event_next(xg_call *c, xg_set *result_out, xg_err *err)
{
    (void)result_out;               /* streamed as well */
    struct legacy *l = legacy_find(c->session, false);
    if (!l)
        return xapi_err_session_not_registered(err, c->session_ref);
    if (l->cursor < xg_store_history_start())
        return xapi_err_events_lost(err);
    struct evcall *e = xg_arena_alloc(c->arena, sizeof(*e));
    if (!e)
        return xg_err_internal(err, "out of request memory");
    e->c = c;
    e->session = c->session;
    e->legacy = true;
    e->since = l->cursor;
    e->mask = xg_arena_alloc(c->arena, xg_nclasses ? xg_nclasses : 1);
    if (!e->mask)
        return xg_err_internal(err, "out of request memory");
    memcpy(e->mask, l->mask, xg_nclasses);
    bool any = has_changes(e, err);
    if (xg_err_is_set(err))
        return false;
    if (any) {
        answer(e);
        return true;
    }
    park(e, LEGACY_WAIT_MS);
    return true;
}
