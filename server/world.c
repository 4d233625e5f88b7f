/* world.c: the world lock (world.h). Unlock first runs the store's pending
 * wake-ups, so a writer's changes reach parked event readers before anyone
 * else can take the lock. */
#include "world.h"

#include <pthread.h>
#include <stdatomic.h>

#include "store.h"

static pthread_mutex_t world = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local bool held;

void xg_world_lock(void)
{
    pthread_mutex_lock(&world);
    held = true;
}

void xg_world_unlock(void)
{
    xg_store_run_wakeups();
    held = false;
    pthread_mutex_unlock(&world);
}

bool xg_world_locked_by_me(void)
{
    return held;
}
