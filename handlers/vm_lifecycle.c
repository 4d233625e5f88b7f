/* vm_lifecycle.c: VM power operations (start, shutdown, reboot, pause,
 * suspend, resume, power_state_reset) and what happens when a guest stops on
 * its own (actions_after_*).
 *
 * Long operations never block: the handler checks, registers the operation
 * in current_operations, asks the driver and defers the call; the driver
 * completes on its own thread, vm_jobs.c takes the world lock and calls
 * vm_job_complete() here, which updates the VM and finishes the call (or the
 * task, for Async.*). Only driver.h calls: the same code runs on sim and
 * libxl. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../server/log.h"
#include "tasks.h"
#include "messages.h"
#include "net.h"
#include "vm_internal.h"
#include "vm_jobs.h"
#include "vm_spec.h"

#define AREA "vm"

/* ---- state transitions -------------------------------------------------- */

/* Each power transition leaves the message XAPI posts for it (XO Lite's
 * alarms and XO's logs read them). */
static void set_power(xapi_vm *vm, int ps)
{
    int was = vm->power_state;
    if (was == ps)
        return;
    gw_set_enum(vm, GW_VMF(POWER_STATE), ps);
    if (ps == XAPI_VM_POWER_STATE_RUNNING && was == XAPI_VM_POWER_STATE_HALTED)
        gw_message_vm(vm, GW_MSG_VM_STARTED);
    else if (ps == XAPI_VM_POWER_STATE_RUNNING && was == XAPI_VM_POWER_STATE_SUSPENDED)
        gw_message_vm(vm, GW_MSG_VM_RESUMED);
    else if (ps == XAPI_VM_POWER_STATE_HALTED)
        gw_message_vm(vm, GW_MSG_VM_SHUTDOWN);
    else if (ps == XAPI_VM_POWER_STATE_SUSPENDED)
        gw_message_vm(vm, GW_MSG_VM_SUSPENDED);
}

/* The VM has no domain any more: Halted (or Suspended), off this host. */
static void vm_now_off(xapi_vm *vm, int ps)
{
    gw_vm_bind_domid(vm, -1);
    set_power(vm, ps);
    gw_set_ref(vm, GW_VMF(RESIDENT_ON), XG_REF_NULL);
    gw_set_ref(vm, GW_VMF(SCHEDULED_TO_BE_RESIDENT_ON), XG_REF_NULL);
    gw_vm_runtime_stopped(vm);
}

static void vm_now_running(xapi_vm *vm, uint32_t domid, bool paused)
{
    gw_vm_bind_domid(vm, domid);
    set_power(vm, paused ? XAPI_VM_POWER_STATE_PAUSED
                         : XAPI_VM_POWER_STATE_RUNNING);
    xapi_host *h = gw_host();
    gw_set_ref(vm, GW_VMF(RESIDENT_ON), h ? h->obj.ref.s : XG_REF_NULL);
    gw_set_ref(vm, GW_VMF(SCHEDULED_TO_BE_RESIDENT_ON), XG_REF_NULL);
    gw_vm_metrics_booted(vm, gw_vm_dom_type(vm));
    gw_vif_set_attached_all(vm, true);          /* booted with every VIF */
    xg_err scratch = XG_ERR_INIT;
    if (!gw_vm_attach_runtime_objects(vm, &scratch))
        XG_WARN(AREA, "VM %s: runtime objects: %s", vm->uuid, scratch.code);
    gw_vm_refresh_guest_metrics(vm);
}

/* Destroys what is left of a domain after a failed or partial operation;
 * a domain that is already gone is fine. */
static void destroy_leftover(uint32_t domid)
{
    struct xg_dom_info di;
    xg_err e = XG_ERR_INIT;
    if (domid == 0 || !gw_drv->dom_info(gw_d, domid, &di, &e))
        return;
    xg_err_clear(&e);
    if (!gw_drv->dom_destroy(gw_d, domid, &e))
        XG_WARN(AREA, "domain %u: destroy after stop: %s", domid, e.code);
}

static bool domain_exists(uint32_t domid)
{
    struct xg_dom_info di;
    xg_err e = XG_ERR_INIT;
    return gw_drv->dom_info(gw_d, domid, &di, &e) &&
           di.state != XG_DOM_DYING;
}

static void remove_image(const char *path)
{
    if (path[0] && unlink(path) != 0 && errno != ENOENT)
        XG_WARN(AREA, "cannot remove suspend image %s: %s", path,
                strerror(errno));
}

/* ---- starting jobs ------------------------------------------------------- */

/* task.cancel of a running start or clean stop: the driver operation goes
 * on (Xen cannot take back a guest's shutdown request), but its outcome is
 * discarded and the task ends cancelled; a domain built meanwhile is
 * destroyed, and a guest that does stop is picked up by reconciliation. */
static void job_cancel(void *arg)
{
    struct vm_job *j = arg;
    j->cancelled = true;
}

static bool job_cancellable(const struct vm_job *j)
{
    switch (j->kind) {
    case JOB_START:
    case JOB_SHUTDOWN_FALLBACK:
        return true;
    case JOB_SHUTDOWN:
    case JOB_REBOOT:
        return j->how == XG_STOP_CLEAN;
    default:
        return false;
    }
}

/* Lists the job and hands it to the driver. On failure the job is freed
 * and the operation ended; on success the call is deferred. */
static bool job_run(struct vm_job *j, xapi_vm *vm, xg_err *err)
{
    xg_done done = vm_job_done(j);
    bool ok = false;
    vm_job_list(j);
    switch (j->kind) {
    case JOB_START:
        ok = gw_drv->dom_create(gw_d, &j->spec, &done, err);
        break;
    case JOB_SHUTDOWN:
    case JOB_SHUTDOWN_FALLBACK:
        ok = gw_drv->dom_shutdown(gw_d, j->domid, j->how, &done, err);
        break;
    case JOB_REBOOT:
        ok = gw_drv->dom_reboot(gw_d, j->domid, j->how, &done, err);
        break;
    case JOB_SUSPEND:
    case JOB_CHECKPOINT:
        ok = gw_drv->dom_suspend(gw_d, j->domid, j->path, &done, err);
        break;
    }
    if (!ok) {
        vm_job_unlist(j);
        gw_vm_op_end(vm, j->op);
        vm_job_free(j);
        return false;
    }
    if (j->c) {
        xg_call_defer(j->c);
        if (job_cancellable(j))
            gw_task_set_canceller(j->c, job_cancel, j);
    }
    return true;
}

static struct vm_job *job_begin(enum vm_job_kind kind, xg_call *c,
                                xapi_vm *vm, int op, xg_err *err)
{
    if (!gw_vm_op_begin(c, vm, op, err))
        return NULL;
    struct vm_job *j = vm_job_new(kind, c, vm, op, err);
    if (!j)
        gw_vm_op_end(vm, op);
    return j;
}

static bool start_common(xg_call *c, xapi_vm *vm, int op, bool start_paused,
                         bool resume, xg_err *err)
{
    if (!gw_vm_check_op(vm, op, err))
        return false;
    if (!gw_vm_assert_bootable(vm, c ? c->arena : NULL, err))
        return false;
    struct vm_job *j = job_begin(JOB_START, c, vm, op, err);
    if (!j)
        return false;
    j->start_paused = start_paused;
    j->resume = resume;
    if (!gw_vm_build_spec(vm, j->arena, start_paused, &j->spec, err) ||
        (resume && !gw_vm_suspend_path(vm, j->path, sizeof j->path, err))) {
        gw_vm_op_end(vm, op);
        vm_job_free(j);
        return false;
    }
    if (resume)
        j->spec.restore_path = j->path;
    gw_set_ref(vm, GW_VMF(SCHEDULED_TO_BE_RESIDENT_ON), gw_host()->obj.ref.s);
    return job_run(j, vm, err);
}

/* This gateway is one host: any other host ref cannot run the VM. */
static bool this_host(const xapi_host *host, xg_err *err)
{
    if (host != gw_host())
        return xapi_err_host_offline(err, host->obj.ref.s);
    return true;
}

/* ---- completion ---------------------------------------------------------- */

static void finish(struct vm_job *j, bool ok, const xg_err *err)
{
    if (ok && xg_err_is_set(&j->after)) {
        ok = false;
        err = &j->after;
    }
    xg_ref r;
    snprintf(r.s, sizeof r.s, "%s", j->result);
    if (j->c)
        xg_call_finish(j->c, ok, err, ok && j->result[0] ? &r : NULL);
}

static void complete_cancelled(struct vm_job *j, xapi_vm *vm, bool ok,
                               uint32_t domid)
{
    /* A reboot that finished after a hard_shutdown overtook it left a new
     * domain nobody wants. */
    if (ok && j->kind == JOB_REBOOT && vm &&
        (vm->domid < 0 || (uint32_t)vm->domid != domid))
        destroy_leftover(domid);
    /* A start cancelled by task.cancel built a domain nobody wants. */
    if (ok && j->kind == JOB_START && vm && vm->domid < 0)
        destroy_leftover(domid);
    xg_err e = XG_ERR_INIT;
    xapi_err_task_cancelled(&e, j->task[0] ? j->task : XG_REF_NULL);
    finish(j, false, &e);
}

void vm_job_complete(struct vm_job *j, bool ok, const xg_err *derr,
                     uint32_t domid)
{
    xg_err err = XG_ERR_INIT;
    xapi_vm *vm = xg_store_get(&xapi_class_vm, j->vm);
    vm_job_unlist(j);
    if (!ok) {
        if (derr && xg_err_is_set(derr))
            err = *derr;
        else
            xg_err_internal(&err, "domain operation failed");
    }

    if (!vm) {
        /* Only power_state_reset + destroy can remove a VM meanwhile. */
        if (ok && j->kind == JOB_START)
            destroy_leftover(domid);
        xg_err_clear(&err);
        xapi_err_handle_invalid(&err, "VM", j->vm);
        finish(j, false, &err);
        vm_job_free(j);
        return;
    }
    if (j->cancelled) {
        gw_vm_op_end(vm, j->op);
        complete_cancelled(j, vm, ok, domid);
        vm_job_free(j);
        return;
    }

    switch (j->kind) {
    case JOB_START:
        if (ok) {
            vm_now_running(vm, domid, j->start_paused);
            if (j->resume)
                remove_image(j->path);
        } else {
            gw_set_ref(vm, GW_VMF(SCHEDULED_TO_BE_RESIDENT_ON), XG_REF_NULL);
            /* a domain event while it was being built may have bound
             * the domid of the domain that failed */
            if (vm->power_state != XAPI_VM_POWER_STATE_RUNNING &&
                vm->power_state != XAPI_VM_POWER_STATE_PAUSED)
                gw_vm_bind_domid(vm, -1);
            if (!j->c)
                XG_WARN(AREA, "VM %s: restart failed: %s", vm->uuid, err.code);
        }
        break;
    case JOB_SHUTDOWN_FALLBACK:
        if (!ok && domain_exists(j->domid)) {
            /* VM.shutdown: the clean attempt failed, force it. The
             * operation stays in current_operations meanwhile. */
            XG_INFO(AREA, "VM %s: clean shutdown failed (%s), forcing",
                    vm->uuid, err.code);
            xg_err e2 = XG_ERR_INIT;
            xg_done done = vm_job_done(j);
            j->kind = JOB_SHUTDOWN;
            j->how = XG_STOP_HARD;
            vm_job_list(j);
            if (gw_drv->dom_shutdown(gw_d, j->domid, XG_STOP_HARD, &done, &e2))
                return;             /* completes again later */
            vm_job_unlist(j);
            err = e2;
            break;
        }
        /* fall through */
    case JOB_SHUTDOWN:
        if (!ok && !domain_exists(j->domid)) {
            /* The domain went away anyway (e.g. the guest halted while we
             * forced it): the VM is off, which is what was asked. */
            ok = true;
            xg_err_clear(&err);
        }
        if (ok) {
            destroy_leftover(j->domid);
            vm_now_off(vm, XAPI_VM_POWER_STATE_HALTED);
        }
        break;
    case JOB_REBOOT:
        if (ok)
            vm_now_running(vm, domid, false);
        else if (!domain_exists(j->domid))
            vm_now_off(vm, XAPI_VM_POWER_STATE_HALTED);
        break;
    case JOB_SUSPEND:
        if (ok) {
            destroy_leftover(j->domid);
            vm_now_off(vm, XAPI_VM_POWER_STATE_SUSPENDED);
        } else {
            remove_image(j->path);
        }
        break;
    case JOB_CHECKPOINT:
        if (!ok) {
            /* like libxl, a failed suspend leaves the guest running */
            remove_image(j->path);
            xg_err_clear(&err);
            xapi_err_vm_checkpoint_suspend_failed(&err, vm->obj.ref.s);
            break;
        }
        destroy_leftover(j->domid);
        vm_now_off(vm, XAPI_VM_POWER_STATE_SUSPENDED);
        gw_vm_op_end(vm, j->op);
        /* the call stays deferred: disks, memory image, resume */
        gw_vm_checkpoint_suspended(j->c, vm, j->name, j->keep_memory, &j->ignore);
        vm_job_free(j);
        return;
    }
    /* Recomputes allowed_operations for the new power state too. */
    gw_vm_op_end(vm, j->op);
    finish(j, ok, &err);
    vm_job_free(j);
}

/* ---- handlers ------------------------------------------------------------ */

/* force: XAPI uses it to skip the CPU-compatibility check against
 * last_boot_CPU_flags; this gateway makes no such check, so it changes
 * nothing. */
bool handle_vm_start(xg_call *c, xapi_vm *vm, bool start_paused, bool force,
                     xg_err *err)
{
    (void)force;
    return start_common(c, vm, XAPI_VM_OPERATIONS_START, start_paused, false,
                        err);
}

bool handle_vm_start_on(xg_call *c, xapi_vm *vm, xapi_host *host,
                        bool start_paused, bool force, xg_err *err)
{
    (void)force;
    if (!gw_vm_check_op(vm, XAPI_VM_OPERATIONS_START_ON, err))
        return false;
    if (!this_host(host, err))
        return false;
    return start_common(c, vm, XAPI_VM_OPERATIONS_START_ON, start_paused,
                        false, err);
}

bool gw_vm_checkpoint_resume(xg_call *c, xapi_vm *vm, const char *result,
                             const xg_err *after)
{
    xg_err err = XG_ERR_INIT;
    int op = XAPI_VM_OPERATIONS_RESUME;
    struct vm_job *j = NULL;
    if (gw_vm_check_op(vm, op, &err))
        j = job_begin(JOB_START, c, vm, op, &err);
    if (j && !gw_vm_assert_bootable(vm, j->arena, &err)) {
        gw_vm_op_end(vm, op);
        vm_job_free(j);
        j = NULL;
    }
    if (j) {
        j->resume = true;
        snprintf(j->result, sizeof j->result, "%s", result ? result : "");
        if (after)
            j->after = *after;
        if (!gw_vm_build_spec(vm, j->arena, false, &j->spec, &err) ||
            !gw_vm_suspend_path(vm, j->path, sizeof j->path, &err)) {
            gw_vm_op_end(vm, op);
            vm_job_free(j);
            j = NULL;
        }
    }
    if (j) {
        j->spec.restore_path = j->path;
        gw_set_ref(vm, GW_VMF(SCHEDULED_TO_BE_RESIDENT_ON), gw_host()->obj.ref.s);
        if (job_run(j, vm, &err))
            return true;
    }
    XG_WARN(AREA, "VM %s: resume after checkpoint: %s", vm->uuid, err.code);
    xg_err_clear(&err);
    xapi_err_vm_checkpoint_resume_failed(&err, vm->obj.ref.s);
    if (c)
        xg_call_finish(c, false, &err, NULL);
    return false;
}

bool handle_vm_resume(xg_call *c, xapi_vm *vm, bool start_paused, bool force,
                      xg_err *err)
{
    (void)force;
    return start_common(c, vm, XAPI_VM_OPERATIONS_RESUME, start_paused, true,
                        err);
}

bool handle_vm_resume_on(xg_call *c, xapi_vm *vm, xapi_host *host,
                         bool start_paused, bool force, xg_err *err)
{
    (void)force;
    if (!gw_vm_check_op(vm, XAPI_VM_OPERATIONS_RESUME_ON, err))
        return false;
    if (!this_host(host, err))
        return false;
    return start_common(c, vm, XAPI_VM_OPERATIONS_RESUME_ON, start_paused,
                        true, err);
}

static bool stop_common(xg_call *c, xapi_vm *vm, int op,
                        enum vm_job_kind kind, enum xg_stop_how how,
                        xg_err *err)
{
    struct vm_job *j = job_begin(kind, c, vm, op, err);
    if (!j)
        return false;
    j->how = how;
    return job_run(j, vm, err);
}

bool handle_vm_clean_shutdown(xg_call *c, xapi_vm *vm, xg_err *err)
{
    return stop_common(c, vm, XAPI_VM_OPERATIONS_CLEAN_SHUTDOWN, JOB_SHUTDOWN,
                       XG_STOP_CLEAN, err);
}

bool handle_vm_clean_reboot(xg_call *c, xapi_vm *vm, xg_err *err)
{
    return stop_common(c, vm, XAPI_VM_OPERATIONS_CLEAN_REBOOT, JOB_REBOOT,
                       XG_STOP_CLEAN, err);
}

/* The operations a hard stop overtakes (message_forwarding.ml cancels
 * their tasks before acting). */
static void cancel_softer(xapi_vm *vm, bool for_reboot)
{
    const int ops[] = {
        XAPI_VM_OPERATIONS_CLEAN_SHUTDOWN, XAPI_VM_OPERATIONS_CLEAN_REBOOT,
        XAPI_VM_OPERATIONS_POOL_MIGRATE, XAPI_VM_OPERATIONS_CALL_PLUGIN,
        XAPI_VM_OPERATIONS_SUSPEND, XAPI_VM_OPERATIONS_SHUTDOWN,
        XAPI_VM_OPERATIONS_HARD_REBOOT,
    };
    size_t n = sizeof ops / sizeof ops[0];
    vm_job_cancel(vm, ops, for_reboot ? n - 1 : n);
}

/* Suspended: no domain, only the image to throw away. */
static bool halt_suspended(xapi_vm *vm, xg_err *err)
{
    char path[600];
    if (!gw_vm_suspend_path(vm, path, sizeof path, err))
        return false;
    remove_image(path);
    vm_now_off(vm, XAPI_VM_POWER_STATE_HALTED);
    gw_vm_update_allowed_operations(vm);
    return true;
}

bool handle_vm_hard_shutdown(xg_call *c, xapi_vm *vm, xg_err *err)
{
    if (!gw_vm_check_op(vm, XAPI_VM_OPERATIONS_HARD_SHUTDOWN, err))
        return false;
    if (vm->power_state == XAPI_VM_POWER_STATE_SUSPENDED)
        return halt_suspended(vm, err);
    cancel_softer(vm, false);
    return stop_common(c, vm, XAPI_VM_OPERATIONS_HARD_SHUTDOWN, JOB_SHUTDOWN,
                       XG_STOP_HARD, err);
}

bool handle_vm_hard_reboot(xg_call *c, xapi_vm *vm, xg_err *err)
{
    if (!gw_vm_check_op(vm, XAPI_VM_OPERATIONS_HARD_REBOOT, err))
        return false;
    cancel_softer(vm, true);
    return stop_common(c, vm, XAPI_VM_OPERATIONS_HARD_REBOOT, JOB_REBOOT,
                       XG_STOP_HARD, err);
}

/* VM.shutdown: clean when the guest can, otherwise (paused, suspended,
 * HVM without the feature, or a failed clean attempt) hard. */
bool handle_vm_shutdown(xg_call *c, xapi_vm *vm, xg_err *err)
{
    if (!gw_vm_check_op(vm, XAPI_VM_OPERATIONS_SHUTDOWN, err))
        return false;
    if (vm->power_state == XAPI_VM_POWER_STATE_SUSPENDED)
        return halt_suspended(vm, err);
    xg_err probe = XG_ERR_INIT;
    bool clean = vm->power_state == XAPI_VM_POWER_STATE_RUNNING &&
                 gw_vm_check_op(vm, XAPI_VM_OPERATIONS_CLEAN_SHUTDOWN, &probe);
    return stop_common(c, vm, XAPI_VM_OPERATIONS_SHUTDOWN,
                       clean ? JOB_SHUTDOWN_FALLBACK : JOB_SHUTDOWN,
                       clean ? XG_STOP_CLEAN : XG_STOP_HARD, err);
}

static bool suspend_dir(xg_err *err)
{
    char dir[600];
    int n = snprintf(dir, sizeof dir, "%s/suspend", gw_state_dir());
    if (n < 0 || (size_t)n >= sizeof dir)
        return xg_err_internal(err, "state directory path too long");
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        XG_ERROR(AREA, "mkdir %s: %s", dir, strerror(errno));
        return xg_err_internal(err, "cannot create the suspend directory");
    }
    return true;
}

bool handle_vm_suspend(xg_call *c, xapi_vm *vm, xg_err *err)
{
    if (!gw_vm_check_op(vm, XAPI_VM_OPERATIONS_SUSPEND, err) || !suspend_dir(err))
        return false;
    struct vm_job *j = job_begin(JOB_SUSPEND, c, vm,
                                 XAPI_VM_OPERATIONS_SUSPEND, err);
    if (!j)
        return false;
    if (!gw_vm_suspend_path(vm, j->path, sizeof j->path, err)) {
        gw_vm_op_end(vm, j->op);
        vm_job_free(j);
        return false;
    }
    return job_run(j, vm, err);
}

/* Xapi_vm_checkpoint: the guest is suspended (its memory saved, its
 * disks quiet: no writes can land between the memory image and the disk
 * snapshots, so they are consistent with each other on every driver),
 * then vm_snapshot.c snapshots the disks and keeps the memory image, then
 * the guest resumes; the call's result is the checkpoint. XO falls back
 * to VM.snapshot on VM_BAD_POWER_STATE (a VM that is not running). */
static bool suspend_for_snapshot(xg_call *c, xapi_vm *vm, int op, const char *name,
                                 bool keep_memory, const xg_set *ignore, xg_err *err)
{
    if (!suspend_dir(err))
        return false;
    struct vm_job *j = job_begin(JOB_CHECKPOINT, c, vm, op, err);
    if (!j)
        return false;
    j->keep_memory = keep_memory;
    j->name = xg_arena_strdup(j->arena, name);
    bool ok = j->name != NULL;
    if (ok && ignore && ignore->n) {
        j->ignore.items = xg_arena_alloc(j->arena, ignore->n * sizeof(xg_ref));
        ok = j->ignore.items != NULL;
        if (ok) {
            memcpy(j->ignore.items, ignore->items, ignore->n * sizeof(xg_ref));
            j->ignore.n = j->ignore.cap = ignore->n;
        }
    }
    if (!ok)
        xg_err_internal(err, "out of memory");
    if (!ok || !gw_vm_suspend_path(vm, j->path, sizeof j->path, err)) {
        gw_vm_op_end(vm, j->op);
        vm_job_free(j);
        return false;
    }
    return job_run(j, vm, err);
}

bool handle_vm_checkpoint(xg_call *c, xapi_vm *vm, const char *new_name,
                          xg_ref *result_out, xg_err *err)
{
    (void)result_out;           /* given when the call finishes */
    if (vm->power_state != XAPI_VM_POWER_STATE_RUNNING && !vm->is_a_template &&
        !vm->is_a_snapshot)
        return gw_vm_bad_power_state(vm, "running", err);
    if (!gw_vm_check_op(vm, XAPI_VM_OPERATIONS_CHECKPOINT, err))
        return false;
    return suspend_for_snapshot(c, vm, XAPI_VM_OPERATIONS_CHECKPOINT, new_name, true,
                                NULL, err);
}

bool gw_vm_snapshot_suspended(xg_call *c, xapi_vm *vm, const char *name,
                              const xg_set *ignore, xg_err *err)
{
    return suspend_for_snapshot(c, vm, XAPI_VM_OPERATIONS_SNAPSHOT, name, false,
                                ignore, err);
}

/* Pause and unpause are immediate in Xen: no job. */
bool handle_vm_pause(xg_call *c, xapi_vm *vm, xg_err *err)
{
    (void)c;
    if (!gw_vm_check_op(vm, XAPI_VM_OPERATIONS_PAUSE, err))
        return false;
    if (!gw_drv->dom_pause(gw_d, (uint32_t)vm->domid, err))
        return false;
    set_power(vm, XAPI_VM_POWER_STATE_PAUSED);
    gw_vm_update_allowed_operations(vm);
    return true;
}

bool handle_vm_unpause(xg_call *c, xapi_vm *vm, xg_err *err)
{
    (void)c;
    if (!gw_vm_check_op(vm, XAPI_VM_OPERATIONS_UNPAUSE, err))
        return false;
    if (!gw_drv->dom_unpause(gw_d, (uint32_t)vm->domid, err))
        return false;
    set_power(vm, XAPI_VM_POWER_STATE_RUNNING);
    gw_vm_update_allowed_operations(vm);
    return true;
}

/* Xapi_vm.power_state_reset: forget the VM's state in the database only,
 * refusing when a live domain would be lost track of. */
bool handle_vm_power_state_reset(xg_call *c, xapi_vm *vm, xg_err *err)
{
    (void)c;
    if (vm->is_control_domain)
        return xapi_err_cannot_reset_control_domain(err, vm->obj.ref.s);
    if (vm->domid >= 0 && domain_exists((uint32_t)vm->domid)) {
        char actual[32];
        gw_lower(gw_enum_name(GW_VMF(POWER_STATE), vm->power_state), actual,
                 sizeof actual);
        return xapi_err_vm_bad_power_state(err, vm->obj.ref.s, "halted",
                                           actual);
    }
    if (vm->power_state == XAPI_VM_POWER_STATE_SUSPENDED) {
        char path[600];
        if (gw_vm_suspend_path(vm, path, sizeof path, err))
            remove_image(path);
        xg_err_clear(err);
    }
    vm_now_off(vm, XAPI_VM_POWER_STATE_HALTED);
    /* current_operations are kept (force_state_reset_keep_current_operations)
     * only by XAPI's internal callers; the API call clears them. */
    xg_map empty = {0};
    xg_store_set(vm, GW_VMF(CURRENT_OPERATIONS), &empty);
    gw_vm_update_allowed_operations(vm);
    return true;
}

/* ---- guests stopping on their own ---------------------------------------- */

enum after { AFTER_DESTROY, AFTER_RESTART, AFTER_PRESERVE, AFTER_NOTHING };

static enum after action_for(const xapi_vm *vm, enum xg_shutdown_reason r)
{
    switch (r) {
    case XG_SHUTDOWN_POWEROFF:
        return vm->actions_after_shutdown == XAPI_ON_NORMAL_EXIT_RESTART
                   ? AFTER_RESTART : AFTER_DESTROY;
    case XG_SHUTDOWN_REBOOT:
        return vm->actions_after_reboot == XAPI_ON_NORMAL_EXIT_RESTART
                   ? AFTER_RESTART : AFTER_DESTROY;
    case XG_SHUTDOWN_CRASH:
    case XG_SHUTDOWN_WATCHDOG:
        switch (vm->actions_after_crash) {
        case XAPI_ON_CRASH_BEHAVIOUR_PRESERVE:
            return AFTER_PRESERVE;
        /* No core dumps: the driver has no dump operation, so the
         * coredump_* variants do the rest of what they say. */
        case XAPI_ON_CRASH_BEHAVIOUR_RESTART:
        case XAPI_ON_CRASH_BEHAVIOUR_COREDUMP_AND_RESTART:
        case XAPI_ON_CRASH_BEHAVIOUR_RENAME_RESTART:
            return AFTER_RESTART;
        default:
            return AFTER_DESTROY;
        }
    case XG_SHUTDOWN_NONE:
        /* The domain vanished behind our back (xl destroy): XAPI shows
         * the VM Halted and restarts nothing. */
        return AFTER_DESTROY;
    default:
        /* SUSPEND is only ever ours (dom_suspend); SOFT_RESET keeps the
         * domain (soft_reboot). */
        return AFTER_NOTHING;
    }
}

static void restart(xapi_vm *vm)
{
    xg_err err = XG_ERR_INIT;
    struct vm_job *j = NULL;
    xg_arena *scratch = xg_arena_new(64 * 1024);
    if (!scratch || !gw_vm_assert_bootable(vm, scratch, &err))
        goto out;
    j = job_begin(JOB_START, NULL, vm, XAPI_VM_OPERATIONS_START, &err);
    if (!j)
        goto out;
    if (!gw_vm_build_spec(vm, j->arena, false, &j->spec, &err)) {
        gw_vm_op_end(vm, j->op);
        vm_job_free(j);
        goto out;
    }
    (void)job_run(j, vm, &err);
out:
    if (xg_err_is_set(&err))
        XG_WARN(AREA, "VM %s: restart refused: %s", vm->uuid, err.code);
    xg_arena_free(scratch);
}

void gw_vm_domain_stopped(xapi_vm *vm, enum xg_shutdown_reason reason)
{
    /* An operation of ours caused it; its completion sets the state. */
    if (gw_vm_has_inflight(vm) || vm->domid < 0 || vm->is_control_domain)
        return;
    uint32_t domid = (uint32_t)vm->domid;
    enum after a = action_for(vm, reason);
    XG_INFO(AREA, "VM %s: domain %u stopped (reason %d), action %d",
            vm->uuid, domid, (int)reason, (int)a);
    if (reason == XG_SHUTDOWN_CRASH || reason == XG_SHUTDOWN_WATCHDOG)
        gw_message_vm(vm, GW_MSG_VM_CRASHED);
    switch (a) {
    case AFTER_NOTHING:
        return;
    case AFTER_PRESERVE:
        /* The crashed domain stays for inspection; XAPI shows it Paused. */
        set_power(vm, XAPI_VM_POWER_STATE_PAUSED);
        break;
    case AFTER_DESTROY:
    case AFTER_RESTART:
        destroy_leftover(domid);
        vm_now_off(vm, XAPI_VM_POWER_STATE_HALTED);
        gw_vm_update_allowed_operations(vm);
        if (a == AFTER_RESTART)
            restart(vm);
        break;
    }
    gw_vm_update_allowed_operations(vm);
}
