/* sim_worker.c: the sim's own thread and timer queue (a binary min-heap on
 * the deadline, CLOCK_MONOTONIC condvar). Long operations complete here, so
 * done callbacks never run on the caller's thread (which holds the world
 * lock). Never takes the sim lock itself: the jobs do. */
#include "sim_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../../server/log.h"

static bool job_before(const struct sim_job *a, const struct sim_job *b)
{
    return a->when_ns < b->when_ns || (a->when_ns == b->when_ns && a->seq < b->seq);
}

static void heap_up(struct sim_worker *w, uint32_t i)
{
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (!job_before(w->heap[i], w->heap[p]))
            break;
        struct sim_job *t = w->heap[i];
        w->heap[i] = w->heap[p];
        w->heap[p] = t;
        i = p;
    }
}

static struct sim_job *heap_pop(struct sim_worker *w)
{
    struct sim_job *top = w->heap[0];
    w->heap[0] = w->heap[--w->n];
    uint32_t i = 0;
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < w->n && job_before(w->heap[l], w->heap[m]))
            m = l;
        if (r < w->n && job_before(w->heap[r], w->heap[m]))
            m = r;
        if (m == i)
            break;
        struct sim_job *t = w->heap[i];
        w->heap[i] = w->heap[m];
        w->heap[m] = t;
        i = m;
    }
    return top;
}

static void *worker_main(void *arg)
{
    struct xg_drv *d = arg;
    struct sim_worker *w = &d->worker;
    pthread_mutex_lock(&w->lock);
    while (!w->stop) {
        if (w->n == 0) {
            pthread_cond_wait(&w->cond, &w->lock);
            continue;
        }
        uint64_t now = sim_now_ns();
        if (w->heap[0]->when_ns > now) {
            uint64_t t = w->heap[0]->when_ns;
            struct timespec ts = { (time_t)(t / 1000000000ull), (long)(t % 1000000000ull) };
            pthread_cond_timedwait(&w->cond, &w->lock, &ts);
            continue;
        }
        struct sim_job *j = heap_pop(w);
        pthread_mutex_unlock(&w->lock);
        j->fn(d, j, false);
        free(j);
        pthread_mutex_lock(&w->lock);
    }
    /* Closing: every pending operation still gets its one done call. */
    while (w->n > 0) {
        struct sim_job *j = heap_pop(w);
        pthread_mutex_unlock(&w->lock);
        j->fn(d, j, true);
        free(j);
        pthread_mutex_lock(&w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

bool sim_worker_start(struct sim_worker *w, struct xg_drv *d, xg_err *err)
{
    pthread_condattr_t ca;
    memset(w, 0, sizeof *w);
    pthread_mutex_init(&w->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cond, &ca);
    pthread_condattr_destroy(&ca);
    int rc = pthread_create(&w->thread, NULL, worker_main, d);
    if (rc != 0) {
        XG_ERROR("sim", "cannot start the sim worker thread: %s", strerror(rc));
        return xg_err_internal(err, "sim: cannot start worker thread");
    }
    w->started = true;
    return true;
}

void sim_worker_stop(struct sim_worker *w, struct xg_drv *d)
{
    (void)d;
    if (!w->started)
        return;
    pthread_mutex_lock(&w->lock);
    w->stop = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    free(w->heap);
    w->heap = NULL;
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
    w->started = false;
}

bool sim_worker_post(struct sim_worker *w, struct sim_job *j, uint32_t delay_ms, xg_err *err)
{
    pthread_mutex_lock(&w->lock);
    if (w->stop) {
        pthread_mutex_unlock(&w->lock);
        free(j);
        return xg_err_internal(err, "sim: driver is closing");
    }
    if (w->n == w->cap) {
        uint32_t cap = w->cap ? w->cap * 2 : 64;
        struct sim_job **h = realloc(w->heap, cap * sizeof *h);
        if (!h)
            abort();                /* real OOM aborts (arena.h policy) */
        w->heap = h;
        w->cap = cap;
    }
    j->when_ns = sim_now_ns() + (uint64_t)delay_ms * 1000000ull;
    j->seq = w->seq++;
    w->heap[w->n] = j;
    heap_up(w, w->n++);
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
    return true;
}
