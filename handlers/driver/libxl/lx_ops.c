/* lx_ops.c: domain operations over libxl. Short ones are direct libxl
 * calls; long ones start an ao (libxl_asyncop_how → lx_ao_callback) or wait
 * for the guest's shutdown event, and finish on the event thread. xl's
 * sequences (STYLE.md §4): create → unpause unless paused; a reboot is
 * retrieve config → destroy → create; suspend to a file then destroy. */
#include "lx_internal.h"
#include "lx_config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxl_utils.h>

#include "../../../server/log.h"

static bool guest_domid(uint32_t domid, const char *what, xg_err *err)
{
    if (domid == 0)
        return xg_err_internal(err, "%s: not permitted on domain 0", what);
    if (domid >= LX_DOMID_LIMIT)
        return xg_err_internal(err, "domain not found: %" PRIu32, domid);
    return true;
}

/* ===== short operations ===== */

bool lx_dom_destroy(struct xg_drv *d, uint32_t domid, xg_err *err)
{
    if (!guest_domid(domid, "destroy", err))
        return false;
    int rc = libxl_domain_destroy(d->ctx, domid, NULL);
    return rc ? lx_err(err, rc, "destroy", domid) : true;
}

bool lx_dom_pause(struct xg_drv *d, uint32_t domid, xg_err *err)
{
    if (!guest_domid(domid, "pause", err))
        return false;
    int rc = libxl_domain_pause(d->ctx, domid, NULL);
    return rc ? lx_err(err, rc, "pause", domid) : true;
}

bool lx_dom_unpause(struct xg_drv *d, uint32_t domid, xg_err *err)
{
    if (!guest_domid(domid, "unpause", err))
        return false;
    int rc = libxl_domain_unpause(d->ctx, domid, NULL);
    return rc ? lx_err(err, rc, "unpause", domid) : true;
}

bool lx_set_memory_target(struct xg_drv *d, uint32_t domid, uint64_t bytes, xg_err *err)
{
    if (domid >= LX_DOMID_LIMIT)
        return xg_err_internal(err, "domain not found: %" PRIu32, domid);
    if (bytes / 1024 > INT64_MAX)
        return xg_err_internal(err, "memory target too large");
    /* absolute, and enforce: also lower the maximum reservation as xl mem-set */
    int rc = libxl_set_memory_target(d->ctx, domid, (int64_t)(bytes / 1024), 0, 1);
    return rc ? lx_err(err, rc, "set memory target", domid) : true;
}

bool lx_set_vcpus_online(struct xg_drv *d, uint32_t domid, uint32_t n, xg_err *err)
{
    bool ok = false;
    libxl_bitmap map;
    libxl_dominfo info;
    libxl_bitmap_init(&map);
    libxl_dominfo_init(&info);
    if (domid >= LX_DOMID_LIMIT) {
        xg_err_internal(err, "domain not found: %" PRIu32, domid);
        goto out;
    }
    int rc = libxl_domain_info(d->ctx, &info, domid);
    if (rc) {
        lx_err(err, rc, "domain info", domid);
        goto out;
    }
    uint32_t max = info.vcpu_max_id + 1;
    if (n == 0 || n > max) {
        xg_err_internal(err, "domain %" PRIu32 ": %" PRIu32 " vcpus requested, max is %" PRIu32,
                        domid, n, max);
        goto out;
    }
    if (libxl_cpu_bitmap_alloc(d->ctx, &map, (int)max)) {
        xg_err_internal(err, "set vcpus: cannot allocate bitmap");
        goto out;
    }
    for (uint32_t i = 0; i < n; i++)
        libxl_bitmap_set(&map, (int)i);
    rc = libxl_set_vcpuonline(d->ctx, domid, &map, NULL);
    if (rc) {
        lx_err(err, rc, "set vcpus online", domid);
        goto out;
    }
    ok = true;
out:
    libxl_dominfo_dispose(&info);
    libxl_bitmap_dispose(&map);
    return ok;
}

/* ===== create ===== */

/* Starts the build of op->config (create or restore). */
static bool start_build(struct xg_drv *d, struct lx_op *op, xg_err *err)
{
    int rc;
    op->domid = INVALID_DOMID;
    if (op->fd >= 0) {
        libxl_domain_restore_params params;
        libxl_domain_restore_params_init(&params);
        params.checkpointed_stream = LIBXL_CHECKPOINTED_STREAM_NONE;
        params.stream_version = 2;      /* what libxl_domain_suspend writes */
        rc = libxl_domain_create_restore(d->ctx, &op->config, &op->domid, op->fd, -1,
                                         &params, &op->how, NULL);
        libxl_domain_restore_params_dispose(&params);
    } else {
        rc = libxl_domain_create_new(d->ctx, &op->config, &op->domid, &op->how, NULL);
    }
    return rc ? lx_err(err, rc, "create", op->domid) : true;
}

/* xl's freemem check, without ballooning dom0: HOST_NOT_ENOUGH_FREE_MEMORY. */
static bool enough_memory(struct xg_drv *d, libxl_domain_config *c, xg_err *err)
{
    uint64_t need_kb = 0, free_kb = 0;
    int rc = libxl_domain_need_memory(d->ctx, c, INVALID_DOMID, &need_kb);
    if (rc)
        return lx_err(err, rc, "need memory", INVALID_DOMID);
    rc = libxl_get_free_memory(d->ctx, &free_kb);
    if (rc)
        return lx_err(err, rc, "free memory", INVALID_DOMID);
    if (need_kb <= free_kb)
        return true;
    return xg_drv_err_no_memory(err, need_kb * 1024, free_kb * 1024);
}

bool lx_dom_create(struct xg_drv *d, const struct xg_dom_spec *spec,
                   const xg_done *done, xg_err *err)
{
    struct lx_op *op = lx_op_new(d, LX_OP_CREATE, INVALID_DOMID, done);
    op->start_paused = spec->start_paused;
    if (!lx_config_from_spec(spec, &op->config, err))
        goto fail;
    if (op->config.b_info.type == LIBXL_DOMAIN_TYPE_HVM)
        lx_console_vnc_setup(d, spec->uuid, &op->config.b_info);
    if (!enough_memory(d, &op->config, err))
        goto fail;
    if (spec->restore_path && spec->restore_path[0]) {
        op->fd = open(spec->restore_path, O_RDONLY | O_CLOEXEC);
        if (op->fd < 0) {
            XG_WARN("libxl", "restore: cannot open %s: %s", spec->restore_path, strerror(errno));
            xg_err_internal(err, "restore: cannot open suspend image");
            goto fail;
        }
    }
    if (!start_build(d, op, err))
        goto fail;
    return true;
fail:
    lx_op_free(op);
    return false;
}

/* ===== shutdown / reboot ===== */

static bool park(struct xg_drv *d, struct lx_op *op, xg_err *err)
{
    bool ok;
    pthread_mutex_lock(&d->lock);
    ok = d->waiting[op->domid] == NULL;
    if (ok)
        d->waiting[op->domid] = op;
    pthread_mutex_unlock(&d->lock);
    if (!ok)
        xg_err_internal(err, "domain %" PRIu32 " already has an operation in progress",
                        op->domid);
    return ok;
}

static struct lx_op *unpark(struct xg_drv *d, uint32_t domid)
{
    pthread_mutex_lock(&d->lock);
    struct lx_op *op = d->waiting[domid];
    d->waiting[domid] = NULL;
    pthread_mutex_unlock(&d->lock);
    return op;
}

bool lx_dom_shutdown(struct xg_drv *d, uint32_t domid, enum xg_stop_how how,
                     const xg_done *done, xg_err *err)
{
    if (!guest_domid(domid, "shutdown", err))
        return false;
    if (how == XG_STOP_HARD) {
        struct lx_op *op = lx_op_new(d, LX_OP_HARD_SHUTDOWN, domid, done);
        int rc = libxl_domain_destroy(d->ctx, domid, &op->how);
        if (rc) {
            lx_op_free(op);
            return lx_err(err, rc, "destroy", domid);
        }
        return true;
    }
    /* Clean: ask the guest (xenstore control/shutdown), then wait for its
     * shutdown event. No ACPI fallback: a guest without PV drivers is the
     * handler's VM_MISSING_PV_DRIVERS, not something to paper over. */
    lx_watch(d, domid);
    struct lx_op *op = lx_op_new(d, LX_OP_SHUTDOWN, domid, done);
    if (!park(d, op, err)) {
        lx_op_free(op);
        return false;
    }
    int rc = libxl_domain_shutdown(d->ctx, domid, NULL);
    if (rc) {
        lx_op_free(unpark(d, domid));
        return lx_err(err, rc, "clean shutdown", domid);
    }
    return true;
}

bool lx_dom_reboot(struct xg_drv *d, uint32_t domid, enum xg_stop_how how,
                   const xg_done *done, xg_err *err)
{
    if (!guest_domid(domid, "reboot", err))
        return false;
    struct lx_op *op = lx_op_new(d, LX_OP_REBOOT, domid, done);
    if (how == XG_STOP_HARD) {
        /* destroy + build take seconds: do them on the event thread. */
        struct lx_work *w = calloc(1, sizeof *w);
        if (!w)
            abort();
        w->kind = LX_W_HARD_REBOOT;
        w->op = op;
        lx_queue(d, w);
        return true;
    }
    lx_watch(d, domid);
    if (!park(d, op, err)) {
        lx_op_free(op);
        return false;
    }
    int rc = libxl_domain_reboot(d->ctx, domid, NULL);
    if (rc) {
        lx_op_free(unpark(d, domid));
        return lx_err(err, rc, "clean reboot", domid);
    }
    return true;
}

/* Event thread: destroy the old domain and build it again from the config
 * libxl kept for it; the op then completes like a create. */
static void rebuild(struct xg_drv *d, struct lx_op *op)
{
    xg_err e = XG_ERR_INIT;
    uint32_t old = op->domid;
    int rc = libxl_retrieve_domain_configuration(d->ctx, old, &op->config, NULL);
    if (rc) {
        lx_err(&e, rc, "reboot: retrieve configuration", old);
        return lx_op_finish(op, false, &e, old);
    }
    rc = libxl_domain_destroy(d->ctx, old, NULL);
    if (rc) {
        lx_err(&e, rc, "reboot: destroy", old);
        return lx_op_finish(op, false, &e, old);
    }
    op->kind = LX_OP_CREATE;
    if (!start_build(d, op, &e))
        lx_op_finish(op, false, &e, old);
}

void lx_ops_hard_reboot(struct xg_drv *d, struct lx_op *op)
{
    rebuild(d, op);
}

void lx_ops_on_event(struct xg_drv *d, uint32_t domid, int reason)
{
    struct lx_op *op = unpark(d, domid);
    if (!op)
        return;
    xg_err e = XG_ERR_INIT;
    if (op->kind == LX_OP_REBOOT && reason == LIBXL_SHUTDOWN_REASON_REBOOT) {
        rebuild(d, op);
        return;
    }
    if (op->kind == LX_OP_SHUTDOWN && (reason == LIBXL_SHUTDOWN_REASON_POWEROFF ||
                                       reason < 0)) {
        int rc = reason < 0 ? 0 : libxl_domain_destroy(d->ctx, domid, NULL);
        if (rc) {
            lx_err(&e, rc, "destroy after shutdown", domid);
            return lx_op_finish(op, false, &e, domid);
        }
        return lx_op_finish(op, true, NULL, domid);
    }
    /* The guest did something else (crashed, or died) instead. */
    xg_err_internal(&e, "domain %" PRIu32 " stopped with reason %d instead", domid, reason);
    lx_op_finish(op, false, &e, domid);
}

/* ===== suspend ===== */

bool lx_dom_suspend(struct xg_drv *d, uint32_t domid, const char *path,
                    const xg_done *done, xg_err *err)
{
    if (!guest_domid(domid, "suspend", err))
        return false;
    if (!path || !path[0])
        return xg_err_internal(err, "suspend: bad image path");
    struct lx_op *op = lx_op_new(d, LX_OP_SUSPEND, domid, done);
    op->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (op->fd < 0) {
        XG_WARN("libxl", "suspend: cannot create %s: %s", path, strerror(errno));
        lx_op_free(op);
        return xg_err_internal(err, "suspend: cannot create the image file");
    }
    int rc = libxl_domain_suspend(d->ctx, domid, op->fd, 0, &op->how);
    if (rc) {
        lx_op_free(op);
        return lx_err(err, rc, "suspend", domid);
    }
    return true;
}

/* ===== completions (event thread) ===== */

void lx_ops_on_ao_done(struct xg_drv *d, struct lx_op *op)
{
    xg_err e = XG_ERR_INIT;
    uint32_t domid = op->domid;
    if (op->rc) {
        lx_err(&e, op->rc, op->kind == LX_OP_CREATE ? "create" :
                           op->kind == LX_OP_SUSPEND ? "suspend" :
                           op->kind == LX_OP_NIC ? "nic hot-plug" : "destroy", domid);
        /* A half-built domain is not left behind (xl does the same). */
        if (op->kind == LX_OP_CREATE && domid != (uint32_t)INVALID_DOMID && domid != 0)
            libxl_domain_destroy(d->ctx, domid, NULL);
        return lx_op_finish(op, false, &e, domid);
    }
    switch (op->kind) {
    case LX_OP_CREATE:
        if (!op->start_paused) {
            int rc = libxl_domain_unpause(d->ctx, domid, NULL);
            if (rc) {
                lx_err(&e, rc, "unpause after create", domid);
                libxl_domain_destroy(d->ctx, domid, NULL);
                return lx_op_finish(op, false, &e, domid);
            }
        }
        lx_watch(d, domid);
        return lx_op_finish(op, true, NULL, domid);
    case LX_OP_SUSPEND: {
        /* The image is complete and the domain is shut down (suspend):
         * flush and destroy it, as xl save does. */
        bool ok = fsync(op->fd) == 0;
        if (!ok) {
            XG_WARN("libxl", "suspend image fsync: %s", strerror(errno));
            xg_err_internal(&e, "suspend: cannot write the image file");
            libxl_domain_resume(d->ctx, domid, 1, NULL);
            return lx_op_finish(op, false, &e, domid);
        }
        int rc = libxl_domain_destroy(d->ctx, domid, NULL);
        if (rc) {
            lx_err(&e, rc, "destroy after suspend", domid);
            return lx_op_finish(op, false, &e, domid);
        }
        return lx_op_finish(op, true, NULL, domid);
    }
    default:
        return lx_op_finish(op, true, NULL, domid);
    }
}
