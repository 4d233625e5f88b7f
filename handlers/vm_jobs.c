/* vm_jobs.c: the list of long VM operations in flight and the bridge from a
 * driver completion (driver thread, no world lock) back under the lock.
 * Knows nothing of what a job does to the VM: vm_lifecycle.c decides that. */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "../server/hooks.h"
#include "../server/world.h"
#include "vm_jobs.h"

/* Spec strings (platform maps, kernel command lines) are bounded by the
 * request limits; this caps one job's copy of them. */
#define JOB_ARENA_BYTES (4u * 1024 * 1024)

static struct vm_job *jobs;     /* protected by the world lock */

struct vm_job *vm_job_new(enum vm_job_kind kind, xg_call *c, xapi_vm *vm,
                          int op, xg_err *err)
{
    struct vm_job *j = calloc(1, sizeof *j);
    if (!j)
        abort();
    j->arena = xg_arena_new(JOB_ARENA_BYTES);
    if (!j->arena) {
        free(j);
        xg_err_internal(err, "cannot allocate a job arena");
        return NULL;
    }
    j->kind = kind;
    j->c = c;
    j->op = op;
    snprintf(j->vm, sizeof j->vm, "%s", vm->obj.ref.s);
    if (c && c->task)
        snprintf(j->task, sizeof j->task, "%s", xg_hook_task_ref(c));
    j->domid = vm->domid >= 0 ? (uint32_t)vm->domid : 0;
    return j;
}

void vm_job_list(struct vm_job *j)
{
    j->prev = NULL;
    j->next = jobs;
    if (jobs)
        jobs->prev = j;
    jobs = j;
}

void vm_job_unlist(struct vm_job *j)
{
    if (j->prev)
        j->prev->next = j->next;
    else if (jobs == j)
        jobs = j->next;
    if (j->next)
        j->next->prev = j->prev;
    j->prev = j->next = NULL;
}

void vm_job_free(struct vm_job *j)
{
    if (!j)
        return;
    xg_arena_free(j->arena);
    free(j);
}

bool gw_vm_has_inflight(const xapi_vm *vm)
{
    for (struct vm_job *j = jobs; j; j = j->next)
        if (strcmp(j->vm, vm->obj.ref.s) == 0)
            return true;
    return false;
}

void vm_job_cancel(const xapi_vm *vm, const int *ops, size_t n)
{
    for (struct vm_job *j = jobs; j; j = j->next) {
        if (strcmp(j->vm, vm->obj.ref.s) != 0)
            continue;
        for (size_t i = 0; i < n; i++)
            if (j->op == ops[i])
                j->cancelled = true;
    }
}

/* Driver thread, world lock not held. */
static void job_done_cb(void *arg, bool ok, const xg_err *err, uint32_t domid)
{
    xg_world_lock();
    vm_job_complete(arg, ok, err, domid);
    xg_world_unlock();
}

xg_done vm_job_done(struct vm_job *j)
{
    xg_done d = {job_done_cb, j};
    return d;
}
