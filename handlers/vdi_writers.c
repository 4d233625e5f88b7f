/* vdi_writers.c: one HTTP import writes a VDI's image at a time. Two would
 * each start a qemu-nbd on the image and the second fails on its lock;
 * XO's putResource makes that happen on its own: its empty probe PUT
 * (Content-Length 1 PiB) is still being read when its real upload of the
 * same VDI arrives. So a second import waits, bounded, for the first. Never
 * called with the world lock held (the wait would stall everybody). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../server/limits.h"
#include "storage.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
/* the VDIs being written; one import holds one HTTP worker, so no more */
static char writing[XG_HTTP_WORKERS_MAX][XG_REF_LEN];

static int slot_of(const char *ref)
{
    for (int i = 0; i < XG_HTTP_WORKERS_MAX; i++)
        if (strcmp(writing[i], ref) == 0)
            return i;
    return -1;
}

bool gw_vdi_writer_claim(const char *ref, int timeout_s)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_s;
    pthread_mutex_lock(&mu);
    int free_slot = -1;
    while (slot_of(ref) >= 0 || (free_slot = slot_of("")) < 0)
        if (pthread_cond_timedwait(&cv, &mu, &until) == ETIMEDOUT)
            break;
    bool ok = slot_of(ref) < 0 && (free_slot = slot_of("")) >= 0;
    if (ok)
        snprintf(writing[free_slot], XG_REF_LEN, "%s", ref);
    pthread_mutex_unlock(&mu);
    return ok;
}

void gw_vdi_writer_release(const char *ref)
{
    pthread_mutex_lock(&mu);
    int i = slot_of(ref);
    if (i >= 0)
        writing[i][0] = 0;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}
