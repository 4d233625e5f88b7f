/* lx_events.c: the driver's event thread. It runs libxl's event loop
 * (libxl_osevent_beforepoll / poll / afterpoll, plus a self-pipe to wake
 * it), receives domain shutdown/death events and ao completions, and is the
 * only thread that calls done->fn and ev->dom_changed. libxl may run our
 * callbacks on any thread inside any libxl call (even the caller's, which
 * holds the world lock), so callbacks only queue work here. */
#include "lx_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "../../../server/log.h"

void lx_queue(struct xg_drv *d, struct lx_work *w)
{
    w->next = NULL;
    pthread_mutex_lock(&d->lock);
    if (d->tail)
        d->tail->next = w;
    else
        d->head = w;
    d->tail = w;
    pthread_mutex_unlock(&d->lock);
    char c = 1;
    while (write(d->wake[1], &c, 1) < 0 && errno == EINTR)
        ;
}

static struct lx_work *work_new(enum lx_work_kind k)
{
    struct lx_work *w = calloc(1, sizeof *w);
    if (!w)
        abort();
    w->kind = k;
    return w;
}

void lx_ao_callback(libxl_ctx *ctx, int rc, void *for_callback)
{
    struct lx_op *op = for_callback;
    op->rc = rc;
    struct lx_work *w = work_new(LX_W_AO_DONE);
    w->op = op;
    lx_queue(op->d, w);
}

struct lx_op *lx_op_new(struct xg_drv *d, enum lx_op_kind kind, uint32_t domid,
                        const xg_done *done)
{
    struct lx_op *op = calloc(1, sizeof *op);
    if (!op)
        abort();
    op->d = d;
    op->kind = kind;
    op->domid = domid;
    op->done = *done;
    op->fd = -1;
    libxl_domain_config_init(&op->config);
    libxl_device_nic_init(&op->nic);
    op->how.callback = lx_ao_callback;
    op->how.u.for_callback = op;
    return op;
}

void lx_op_free(struct lx_op *op)
{
    if (op->fd >= 0)
        close(op->fd);
    libxl_domain_config_dispose(&op->config);
    libxl_device_nic_dispose(&op->nic);
    free(op);
}

void lx_op_finish(struct lx_op *op, bool ok, const xg_err *err, uint32_t domid)
{
    if (op->done.fn)
        op->done.fn(op->done.arg, ok, ok ? NULL : err, domid);
    lx_op_free(op);
}

/* libxl event callback: may run on any thread; only queues. */
static void on_event(void *user, libxl_event *ev)
{
    struct xg_drv *d = user;
    struct lx_work *w = NULL;
    if (ev->type == LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN) {
        w = work_new(LX_W_EVENT);
        w->shutdown_reason = ev->u.domain_shutdown.shutdown_reason;
    } else if (ev->type == LIBXL_EVENT_TYPE_DOMAIN_DEATH) {
        w = work_new(LX_W_EVENT);
        w->shutdown_reason = -1;
    }
    if (w) {
        w->domid = ev->domid;
        lx_queue(d, w);
    }
    libxl_event_free(d->ctx, ev);
}

static void on_disaster(void *user, libxl_event_type type, const char *msg, int errnoval)
{
    /* libxl lost events (e.g. xenstore watch failure): reconciliation by
     * the handlers' periodic dom_list covers the gap. */
    XG_ERROR("libxl", "event disaster (type %d): %s: %s", (int)type, msg ? msg : "",
             errnoval > 0 ? strerror(errnoval) : "");
}

static const libxl_event_hooks hooks = {
    .event_occurs_mask = LIBXL_EVENTMASK_ALL,
    .event_occurs = on_event,
    .disaster = on_disaster,
};

void lx_watch(struct xg_drv *d, uint32_t domid)
{
    if (domid == 0 || domid >= LX_DOMID_LIMIT)
        return;
    pthread_mutex_lock(&d->lock);
    bool have = d->watch[domid] != NULL;
    pthread_mutex_unlock(&d->lock);
    if (have)
        return;
    libxl_evgen_domain_death *g = NULL;
    int rc = libxl_evenable_domain_death(d->ctx, domid, 0, &g);
    if (rc) {
        XG_WARN("libxl", "cannot watch domain %" PRIu32 ": rc=%d", domid, rc);
        return;
    }
    pthread_mutex_lock(&d->lock);
    libxl_evgen_domain_death *old = d->watch[domid];
    d->watch[domid] = old ? old : g;
    pthread_mutex_unlock(&d->lock);
    if (old)                        /* raced with another thread */
        libxl_evdisable_domain_death(d->ctx, g);
}

static void unwatch(struct xg_drv *d, uint32_t domid)
{
    pthread_mutex_lock(&d->lock);
    libxl_evgen_domain_death *g = d->watch[domid];
    d->watch[domid] = NULL;
    pthread_mutex_unlock(&d->lock);
    if (g)
        libxl_evdisable_domain_death(d->ctx, g);
}

static void run_work(struct xg_drv *d, struct lx_work *w)
{
    switch (w->kind) {
    case LX_W_AO_DONE:
        lx_ops_on_ao_done(d, w->op);
        break;
    case LX_W_HARD_REBOOT:
        lx_ops_hard_reboot(d, w->op);
        break;
    case LX_W_EVENT:
        if (w->domid >= LX_DOMID_LIMIT)
            break;
        /* A suspend shows up as a shutdown; xl and libvirt ignore it, the
         * suspend op reports the outcome. */
        if (w->shutdown_reason == LIBXL_SHUTDOWN_REASON_SUSPEND)
            break;
        if (w->shutdown_reason < 0)
            unwatch(d, w->domid);
        lx_ops_on_event(d, w->domid, w->shutdown_reason);
        if (d->ev.dom_changed)
            d->ev.dom_changed(d->ev.arg, w->domid);
        break;
    }
}

static void fail_pending(struct xg_drv *d, struct lx_work *w)
{
    xg_err e = XG_ERR_INIT;
    xg_err_internal(&e, "libxl driver closed before the operation completed");
    if (w->op)
        lx_op_finish(w->op, false, &e, w->op->domid);
}

static void *event_main(void *arg)
{
    struct xg_drv *d = arg;
    int cap = 16;
    struct pollfd *fds = calloc((size_t)cap + 1, sizeof *fds);
    if (!fds)
        abort();
    for (;;) {
        pthread_mutex_lock(&d->lock);
        struct lx_work *w = d->head;
        d->head = d->tail = NULL;
        bool stop = d->stop;
        pthread_mutex_unlock(&d->lock);
        while (w) {
            struct lx_work *next = w->next;
            if (stop)
                fail_pending(d, w);
            else
                run_work(d, w);
            free(w);
            w = next;
        }
        if (stop)
            break;

        struct timeval now;
        gettimeofday(&now, NULL);
        int nfds = cap, timeout = -1;
        int rc = libxl_osevent_beforepoll(d->ctx, &nfds, fds + 1, &timeout, now);
        if (rc == ERROR_BUFFERFULL) {
            cap = nfds * 2;
            struct pollfd *n = realloc(fds, ((size_t)cap + 1) * sizeof *fds);
            if (!n)
                abort();
            fds = n;
            continue;
        }
        if (rc) {
            XG_ERROR("libxl", "osevent_beforepoll failed: rc=%d", rc);
            nfds = 0;
            timeout = 1000;
        }
        fds[0] = (struct pollfd){ .fd = d->wake[0], .events = POLLIN };
        if (poll(fds, (nfds_t)nfds + 1, timeout) < 0 && errno != EINTR)
            XG_ERROR("libxl", "poll: %s", strerror(errno));
        if (fds[0].revents & POLLIN) {
            char buf[64];
            while (read(d->wake[0], buf, sizeof buf) > 0)
                ;
        }
        gettimeofday(&now, NULL);
        libxl_osevent_afterpoll(d->ctx, nfds, fds + 1, now);
    }
    free(fds);
    return NULL;
}

bool lx_events_start(struct xg_drv *d, xg_err *err)
{
    if (pipe2(d->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        XG_ERROR("libxl", "pipe2: %s", strerror(errno));
        return xg_err_internal(err, "libxl driver: cannot create wake pipe");
    }
    libxl_event_register_callbacks(d->ctx, &hooks, d);
    int rc = pthread_create(&d->thread, NULL, event_main, d);
    if (rc) {
        XG_ERROR("libxl", "pthread_create: %s", strerror(rc));
        return xg_err_internal(err, "libxl driver: cannot start event thread");
    }
    d->thread_started = true;
    return true;
}

void lx_events_stop(struct xg_drv *d)
{
    if (d->thread_started) {
        pthread_mutex_lock(&d->lock);
        d->stop = true;
        pthread_mutex_unlock(&d->lock);
        char c = 1;
        while (write(d->wake[1], &c, 1) < 0 && errno == EINTR)
            ;
        pthread_join(d->thread, NULL);
        d->thread_started = false;
    }
    for (uint32_t i = 0; i < LX_DOMID_LIMIT; i++) {
        if (d->waiting && d->waiting[i]) {
            xg_err e = XG_ERR_INIT;
            xg_err_internal(&e, "libxl driver closed before the guest shut down");
            lx_op_finish(d->waiting[i], false, &e, i);
            d->waiting[i] = NULL;
        }
        if (d->watch && d->watch[i])
            libxl_evdisable_domain_death(d->ctx, d->watch[i]);
    }
    if (d->wake[0] > 0)
        close(d->wake[0]);
    if (d->wake[1] > 0)
        close(d->wake[1]);
}
