/* store_events.c: what changed, and who waits for it (store_int.h). Every
 * write bumps one global generation; objects of event classes sit on a
 * change list ordered by gen_modified (an object moves to the tail on every
 * write), deletions go to a bounded ring, so "what changed since token T"
 * costs O(changes), never a scan of all objects. Parked readers (event.from,
 * event.next) are woken inside the writer's world unlock when a class they
 * watch was hit. */
#include <string.h>

#include "limits.h"
#include "store_int.h"

struct deletion {
    const xg_class_desc *cls;
    xg_ref ref;
    uint64_t gen_created, gen_deleted;
};

static struct {
    uint64_t gen;
    xg_obj *chg_head, *chg_tail;
    struct deletion *hist;        /* ring */
    uint32_t hist_cap, hist_n, hist_first;
    uint64_t hist_start;
    uint8_t *hit;                 /* per class: written since the last wakeups */
    bool any_hit;
    xg_waiter *waiters;
} S;

/* Kept across shutdown/init: tests set it before the store starts. */
static uint32_t hist_limit;

void xg_events_init(void)
{
    S.hit = xg_store_xcalloc(xg_nclasses, 1);
    if (!hist_limit)
        hist_limit = XG_EVENT_HISTORY_DELS;
}

void xg_events_shutdown(void)
{
    free(S.hist);
    free(S.hit);
    memset(&S, 0, sizeof(S));
}

void xg_store_set_history_limit(uint32_t n)
{
    hist_limit = n ? n : 1;
}

static void mark_hit(const xg_obj *o)
{
    S.hit[o->cls->index] = 1;
    S.any_hit = true;
}

/* ---- change list and deletion history ------------------------------------- */

static void chg_unlink(xg_obj *o)
{
    if (o->chg_prev)
        o->chg_prev->chg_next = o->chg_next;
    else if (S.chg_head == o)
        S.chg_head = o->chg_next;
    if (o->chg_next)
        o->chg_next->chg_prev = o->chg_prev;
    else if (S.chg_tail == o)
        S.chg_tail = o->chg_prev;
    o->chg_prev = o->chg_next = NULL;
}

static void chg_append(xg_obj *o)
{
    o->chg_prev = S.chg_tail;
    o->chg_next = NULL;
    if (S.chg_tail)
        S.chg_tail->chg_next = o;
    else
        S.chg_head = o;
    S.chg_tail = o;
}

static void history_add(xg_obj *o, uint64_t gen_deleted)
{
    if (S.hist_n == hist_limit) {            /* forget the oldest deletion */
        S.hist_start = S.hist[S.hist_first].gen_deleted;
        S.hist_first = (S.hist_first + 1) % S.hist_cap;
        S.hist_n--;
    }
    if (S.hist_n == S.hist_cap) {            /* grow the ring, unrolled */
        uint32_t nc = S.hist_cap ? S.hist_cap * 2 : 256;
        if (nc > hist_limit)
            nc = hist_limit;
        struct deletion *h = xg_store_xcalloc(nc, sizeof(*h));
        for (uint32_t i = 0; i < S.hist_n; i++)
            h[i] = S.hist[(S.hist_first + i) % S.hist_cap];
        free(S.hist);
        S.hist = h;
        S.hist_cap = nc;
        S.hist_first = 0;
    }
    struct deletion *d = &S.hist[(S.hist_first + S.hist_n) % S.hist_cap];
    d->cls = o->cls;
    d->ref = o->ref;
    d->gen_created = o->gen_created;
    d->gen_deleted = gen_deleted;
    S.hist_n++;
}

void xg_events_added(xg_obj *o)
{
    o->gen_created = o->gen_modified = ++S.gen;
    if (o->cls->flags & XG_C_EVENTS)
        chg_append(o);
    mark_hit(o);
}

void xg_events_modified(xg_obj *o)
{
    o->gen_modified = ++S.gen;
    if (o->cls->flags & XG_C_EVENTS) {
        chg_unlink(o);
        chg_append(o);
    }
    mark_hit(o);
}

void xg_events_removed(xg_obj *o)
{
    uint64_t g = ++S.gen;
    if (o->cls->flags & XG_C_EVENTS) {
        chg_unlink(o);
        history_add(o, g);
    }
    mark_hit(o);
}

/* ---- event.from's query ------------------------------------------------------ */

uint64_t xg_store_generation(void)
{
    return S.gen;
}

uint64_t xg_store_history_start(void)
{
    return S.hist_start;
}

bool xg_store_changes(uint64_t since, const uint8_t *class_mask,
                      bool (*fn)(const xg_change *ch, void *arg), void *arg,
                      xg_err *err)
{
    if (since < S.hist_start)
        return xg_err_set(err, "EVENTS_LOST", 0);
    /* live objects changed after since: a suffix of the change list */
    xg_obj *o = S.chg_tail;
    while (o && o->gen_modified > since)
        o = o->chg_prev;
    o = o ? o->chg_next : S.chg_head;
    /* deletions after since: a suffix of the ring (sorted by gen) */
    uint32_t lo = 0, hi = S.hist_n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (S.hist[(S.hist_first + mid) % S.hist_cap].gen_deleted <= since)
            lo = mid + 1;
        else
            hi = mid;
    }
    uint32_t d = lo;
    while (o || d < S.hist_n) {
        const struct deletion *del = d < S.hist_n ?
            &S.hist[(S.hist_first + d) % S.hist_cap] : NULL;
        xg_change ch;
        if (o && (!del || o->gen_modified < del->gen_deleted)) {
            xg_obj *cur = o;
            o = o->chg_next;
            if (!class_mask[cur->cls->index])
                continue;
            ch.op = cur->gen_created > since ? XG_CHG_ADD : XG_CHG_MOD;
            ch.cls = cur->cls;
            ch.ref = cur->ref.s;
            ch.obj = cur;
            ch.gen = cur->gen_modified;
        } else {
            d++;
            if (del->gen_created > since || !class_mask[del->cls->index])
                continue;             /* born and gone inside the window */
            ch.op = XG_CHG_DEL;
            ch.cls = del->cls;
            ch.ref = del->ref.s;
            ch.obj = NULL;
            ch.gen = del->gen_deleted;
        }
        if (!fn(&ch, arg))
            break;
    }
    return true;
}

/* ---- waiters ---------------------------------------------------------------- */

void xg_store_park(xg_waiter *w)
{
    if (w->parked)
        return;
    w->prev = NULL;
    w->next = S.waiters;
    if (S.waiters)
        S.waiters->prev = w;
    S.waiters = w;
    w->parked = true;
}

void xg_store_unpark(xg_waiter *w)
{
    if (!w->parked)
        return;
    if (w->prev)
        w->prev->next = w->next;
    else
        S.waiters = w->next;
    if (w->next)
        w->next->prev = w->prev;
    w->prev = w->next = NULL;
    w->parked = false;
}

void xg_store_run_wakeups(void)
{
    /* A wake() may write (and so hit again) or re-park: a few rounds, then
     * the rest waits for the next unlock. */
    for (int round = 0; round < 4 && S.any_hit; round++) {
        S.any_hit = false;
        xg_waiter *wake_list = NULL;
        for (xg_waiter *w = S.waiters, *nx; w; w = nx) {
            nx = w->next;
            bool hit = false;
            for (uint32_t c = 0; c < xg_nclasses && !hit; c++)
                hit = S.hit[c] && w->class_mask[c];
            if (!hit)
                continue;
            xg_store_unpark(w);
            w->next = wake_list;         /* reuse the link while unparked */
            wake_list = w;
        }
        memset(S.hit, 0, xg_nclasses);
        while (wake_list) {
            xg_waiter *w = wake_list;
            wake_list = w->next;
            w->next = NULL;
            w->wake(w);
        }
    }
}
