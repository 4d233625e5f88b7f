/* bg.c: see bg.h. One detached thread per job; the count is bounded so
 * that a client cannot pile up copies. */
#include "bg.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../server/world.h"
#include "xapi_errors.h"

struct bg_job {
    void (*work)(void *arg);
    void (*done)(void *arg);
    void *arg;
};

static int running;     /* world lock */

static void *job_main(void *p)
{
    struct bg_job j = *(struct bg_job *)p;
    free(p);
    j.work(j.arg);
    xg_world_lock();
    running--;
    j.done(j.arg);
    xg_world_unlock();
    return NULL;
}

bool gw_bg_start(void (*work)(void *arg), void (*done)(void *arg), void *arg,
                 xg_err *err)
{
    if (running >= GW_BG_MAX_JOBS)
        return xapi_err_too_many_pending_tasks(err);
    struct bg_job *j = malloc(sizeof *j);
    if (!j)
        return xg_err_internal(err, "out of memory");
    j->work = work;
    j->done = done;
    j->arg = arg;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    int rc = pthread_create(&t, &at, job_main, j);
    pthread_attr_destroy(&at);
    if (rc != 0) {
        free(j);
        return xg_err_internal(err, "cannot start a worker: %s", strerror(rc));
    }
    running++;
    return true;
}
