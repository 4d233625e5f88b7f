/* timer.c: the process's one timer thread: a binary min-heap of one-shot
 * timers under a mutex. Callbacks run on this thread without any lock held
 * by us; they must be short (take the world lock, do a little, return). */
#include "timer.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct xg_timer {
    uint64_t due;
    xg_timer_fn fn;
    void *arg;
    uint32_t pos;          /* index in the heap while queued */
    bool queued, running, fired, cancelled;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;       /* queue changed */
static pthread_cond_t done_cv = PTHREAD_COND_INITIALIZER;  /* a callback ended */
static xg_timer **heap;
static uint32_t nheap, capheap;
static pthread_t thr, running_thr;
static bool started, stopping;

uint64_t xg_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int64_t xg_wall_secs(void)
{
    return (int64_t)time(NULL);
}

static void heap_swap(uint32_t a, uint32_t b)
{
    xg_timer *t = heap[a];
    heap[a] = heap[b];
    heap[b] = t;
    heap[a]->pos = a;
    heap[b]->pos = b;
}

static void sift_up(uint32_t i)
{
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (heap[p]->due <= heap[i]->due)
            break;
        heap_swap(i, p);
        i = p;
    }
}

static void sift_down(uint32_t i)
{
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < nheap && heap[l]->due < heap[m]->due)
            m = l;
        if (r < nheap && heap[r]->due < heap[m]->due)
            m = r;
        if (m == i)
            return;
        heap_swap(i, m);
        i = m;
    }
}

static void heap_remove(xg_timer *t)
{
    uint32_t i = t->pos;
    nheap--;
    if (i != nheap) {
        heap[i] = heap[nheap];
        heap[i]->pos = i;
        sift_down(i);
        sift_up(i);
    }
    t->queued = false;
}

static void *timer_main(void *unused)
{
    pthread_mutex_lock(&mu);
    while (!stopping) {
        if (nheap == 0) {
            pthread_cond_wait(&cv, &mu);
            continue;
        }
        uint64_t now = xg_now_ms();
        xg_timer *t = heap[0];
        if (t->due > now) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            uint64_t wait = t->due - now;
            ts.tv_sec += (time_t)(wait / 1000);
            ts.tv_nsec += (long)(wait % 1000) * 1000000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&cv, &mu, &ts);
            continue;
        }
        heap_remove(t);
        t->running = true;
        running_thr = pthread_self();
        pthread_mutex_unlock(&mu);
        t->fn(t->arg);
        pthread_mutex_lock(&mu);
        t->running = false;
        t->fired = true;
        if (t->cancelled)            /* cancelled from its own callback */
            free(t);
        pthread_cond_broadcast(&done_cv);
    }
    pthread_mutex_unlock(&mu);
    return NULL;
}

bool xg_timer_start(void)
{
    pthread_mutex_lock(&mu);
    if (started) {
        pthread_mutex_unlock(&mu);
        return true;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_destroy(&cv);
    pthread_cond_init(&cv, &ca);
    pthread_condattr_destroy(&ca);
    stopping = false;
    bool ok = pthread_create(&thr, NULL, timer_main, NULL) == 0;
    started = ok;
    pthread_mutex_unlock(&mu);
    return ok;
}

void xg_timer_stop(void)
{
    pthread_mutex_lock(&mu);
    if (!started) {
        pthread_mutex_unlock(&mu);
        return;
    }
    stopping = true;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    pthread_join(thr, NULL);
    started = false;
}

xg_timer *xg_timer_add(uint64_t delay_ms, xg_timer_fn fn, void *arg)
{
    xg_timer *t = calloc(1, sizeof(*t));
    if (!t)
        abort();
    t->fn = fn;
    t->arg = arg;
    pthread_mutex_lock(&mu);
    t->due = xg_now_ms() + delay_ms;
    if (nheap == capheap) {
        capheap = capheap ? capheap * 2 : 64;
        heap = realloc(heap, capheap * sizeof(*heap));
        if (!heap)
            abort();
    }
    t->pos = nheap;
    heap[nheap++] = t;
    t->queued = true;
    sift_up(t->pos);
    if (heap[0] == t)
        pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
    return t;
}

bool xg_timer_try_cancel(xg_timer *t)
{
    bool done = false;
    pthread_mutex_lock(&mu);
    if (t->queued) {
        heap_remove(t);
        free(t);
        done = true;
    }
    pthread_mutex_unlock(&mu);
    return done;
}

void xg_timer_cancel(xg_timer *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&mu);
    if (t->queued) {
        heap_remove(t);
        free(t);
    } else if (t->running) {
        if (pthread_equal(running_thr, pthread_self())) {
            t->cancelled = true;     /* freed by the loop after fn returns */
        } else {
            while (t->running)
                pthread_cond_wait(&done_cv, &mu);
            free(t);
        }
    } else {
        free(t);                     /* fired already */
    }
    pthread_mutex_unlock(&mu);
}
