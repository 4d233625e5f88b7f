/* sim_ops.c: the sim's long operations (create, shutdown, reboot, suspend).
 * Each checks and starts under d->lock on the caller's thread, then a job
 * finishes it on the worker after cfg->sim_delay_ms and calls done exactly
 * once, with no sim lock held. A job re-finds its domain by (domid, gen):
 * whatever happened meanwhile (destroy, hard shutdown) wins. */
#include "sim_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../../server/log.h"

#define MiB (1024ull * 1024ull)
#define SIM_MAX_VCPUS 128u           /* Xen's HVM limit; PV allows more, we don't */
#define SIM_IMAGE_MAGIC "XGSIM-SUSPEND 1\n"
#define SIM_IMAGE_MAX 4096

enum { OP_CLEAN = 0, OP_HARD = 1 };

void sim_job_finish(struct sim_job *j, bool ok, const xg_err *e, uint32_t domid)
{
    if (j->done.fn)
        j->done.fn(j->done.arg, ok, ok ? NULL : e, domid);
}

static void finish_closing(struct sim_job *j)
{
    xg_err e = XG_ERR_INIT;
    xg_err_internal(&e, "sim: driver closed before the operation completed");
    sim_job_finish(j, false, &e, j->domid);
}

struct sim_job *sim_job_new(sim_job_fn fn, const struct sim_dom *s, const xg_done *done)
{
    struct sim_job *j = calloc(1, sizeof *j);
    if (!j)
        abort();
    j->fn = fn;
    j->domid = s->domid;
    j->gen = s->gen;
    j->done = *done;
    return j;
}

/* The domain the job was started for, or NULL (with e set) if it is gone. */
struct sim_dom *sim_job_dom(struct xg_drv *d, struct sim_job *j, const char *op, xg_err *e)
{
    struct sim_dom *s = sim_dom_get(d, j->domid);
    if (!s || s->gen != j->gen) {
        XG_INFO("sim", "%s of domain %" PRIu32 ": domain vanished meanwhile", op, j->domid);
        xg_err_internal(e, "%s: domain %" PRIu32 " was destroyed during the operation",
                        op, j->domid);
        return NULL;
    }
    return s;
}

/* Checks shared by shutdown, reboot and suspend. */
static struct sim_dom *stoppable(struct xg_drv *d, uint32_t domid, const char *op,
                                 bool clean, xg_err *err)
{
    struct sim_dom *s = sim_dom_find(d, domid, err);
    if (!s)
        return NULL;
    if (domid == 0) {
        xg_err_internal(err, "%s: not permitted on domain 0", op);
        return NULL;
    }
    if (!clean)
        return s;
    if (s->building) {
        xg_err_internal(err, "%s: domain %" PRIu32 " is still being built", op, domid);
        return NULL;
    }
    if (s->busy) {
        xg_err_internal(err, "%s: domain %" PRIu32 " already has an operation in progress",
                        op, domid);
        return NULL;
    }
    if (s->state == XG_DOM_SHUTDOWN) {
        xg_err_internal(err, "%s: domain %" PRIu32 " has already shut down", op, domid);
        return NULL;
    }
    return s;
}

/* ===== create ===== */

struct image {
    char uuid[XG_UUID_STR];
    int type;
    uint64_t mem_max, target;
    uint32_t vcpus_max, vcpus_online;
};

/* Reads a suspend image written by suspend_fire; the file is untrusted
 * input (it may have been replaced), so every field is checked. */
static bool read_image(const char *path, struct image *im, xg_err *err)
{
    char buf[SIM_IMAGE_MAX + 1];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        XG_WARN("sim", "restore: cannot open %s: %s", path, strerror(errno));
        return xg_err_internal(err, "restore: cannot open suspend image");
    }
    ssize_t n = read(fd, buf, SIM_IMAGE_MAX);
    close(fd);
    if (n <= 0)
        return xg_err_internal(err, "restore: empty suspend image");
    buf[n] = '\0';
    memset(im, 0, sizeof *im);
    if (strncmp(buf, SIM_IMAGE_MAGIC, strlen(SIM_IMAGE_MAGIC)) != 0 ||
        sscanf(buf + strlen(SIM_IMAGE_MAGIC),
               "uuid=%36s type=%d mem_max=%" SCNu64 " target=%" SCNu64
               " vcpus_max=%" SCNu32 " vcpus_online=%" SCNu32,
               im->uuid, &im->type, &im->mem_max, &im->target,
               &im->vcpus_max, &im->vcpus_online) != 6 ||
        im->type < XG_DOM_PV || im->type > XG_DOM_HVM || im->target > im->mem_max ||
        im->vcpus_max == 0 || im->vcpus_max > SIM_MAX_VCPUS ||
        im->vcpus_online == 0 || im->vcpus_online > im->vcpus_max)
        return xg_err_internal(err, "restore: corrupt suspend image");
    return true;
}

static void create_fire(struct xg_drv *d, struct sim_job *j, bool closing)
{
    if (closing)
        return finish_closing(j);
    xg_err e = XG_ERR_INIT;
    pthread_mutex_lock(&d->lock);
    struct sim_dom *s = sim_job_dom(d, j, "create", &e);
    if (s) {
        s->building = false;
        if (!j->arg)                 /* not start_paused: drop the builder's pause */
            s->pause_count--;
        if (s->pause_count == 0 && s->state == XG_DOM_PAUSED) {
            s->state = XG_DOM_RUNNING;
            sim_dom_set_running(s, true, sim_now_ns());
        }
    }
    pthread_mutex_unlock(&d->lock);
    sim_job_finish(j, s != NULL, &e, j->domid);
}

bool sim_dom_create(struct xg_drv *d, const struct xg_dom_spec *spec,
                    const xg_done *done, xg_err *err)
{
    enum xg_dom_type type = spec->type;
    uint64_t max = spec->mem_static_max;
    uint64_t target = spec->mem_target ? spec->mem_target : spec->mem_dynamic_max;
    uint32_t vmax = spec->vcpus_max, von = spec->vcpus_at_startup;
    struct image im;

    if (spec->restore_path && spec->restore_path[0]) {
        if (!read_image(spec->restore_path, &im, err))
            return false;
        if (strcmp(im.uuid, spec->uuid) != 0)
            return xg_err_internal(err, "restore: image belongs to another VM");
        type = (enum xg_dom_type)im.type;
        max = im.mem_max;
        target = im.target;
        vmax = im.vcpus_max;
        von = im.vcpus_online;
    }
    if (type != XG_DOM_PV && type != XG_DOM_PVH && type != XG_DOM_HVM)
        return xg_err_internal(err, "create: bad domain type %d", (int)type);
    if (strlen(spec->uuid) != XG_UUID_STR - 1)
        return xg_err_internal(err, "create: bad uuid");
    if (target < 16 * MiB || target > max)
        return xg_err_internal(err, "create: memory target %" PRIu64 " not in [16 MiB, %" PRIu64 "]",
                               target, max);
    if (vmax == 0 || vmax > SIM_MAX_VCPUS || von == 0 || von > vmax)
        return xg_err_internal(err, "create: bad vcpus %" PRIu32 "/%" PRIu32, von, vmax);
    /* libxl needs something to boot a PV guest with. */
    if (type == XG_DOM_PV && !(spec->restore_path && spec->restore_path[0]) &&
        !(spec->kernel && spec->kernel[0]) && !(spec->bootloader && spec->bootloader[0]))
        return xg_err_internal(err, "create: PV domain without kernel or bootloader");

    pthread_mutex_lock(&d->lock);
    struct sim_dom *s = sim_dom_add(d, spec->uuid, spec->name ? spec->name : spec->uuid,
                                    type, max, target, vmax, von, err);
    struct sim_job *j = NULL;
    if (s && !sim_disks_build(s, spec->disks, spec->ndisks, err)) {
        sim_dom_remove(d, s);
        s = NULL;
    }
    if (s) {
        s->building = true;
        sim_dom_apply_fixture(d, s);
        sim_dom_set_nics(s, spec->nics, spec->nnics);
        j = sim_job_new(create_fire, s, done);
        j->arg = spec->start_paused;
    }
    pthread_mutex_unlock(&d->lock);
    if (!s)
        return false;
    XG_DEBUG("sim", "building domain %" PRIu32 " (%s)", j->domid, spec->uuid);
    if (!sim_worker_post(&d->worker, j, d->cfg.sim_delay_ms, err)) {
        pthread_mutex_lock(&d->lock);
        struct sim_dom *g = sim_dom_get(d, s->domid);
        if (g)
            sim_dom_remove(d, g);
        pthread_mutex_unlock(&d->lock);
        return false;
    }
    return true;
}

/* ===== shutdown ===== */

static void shutdown_fire(struct xg_drv *d, struct sim_job *j, bool closing)
{
    if (closing)
        return finish_closing(j);
    xg_err e = XG_ERR_INIT;
    bool ok = true;
    if (j->arg == OP_CLEAN) {
        pthread_mutex_lock(&d->lock);
        struct sim_dom *s = sim_job_dom(d, j, "clean shutdown", &e);
        ok = s != NULL;
        if (s && s->pause_count > 0) {
            /* A paused guest never sees the request; xl would time out. */
            s->busy = false;
            ok = false;
            xg_err_internal(&e, "domain %" PRIu32 " did not shut down: it is paused", j->domid);
        } else if (s) {
            sim_dom_remove(d, s);    /* the toolstack reaps it, as xl does */
        }
        pthread_mutex_unlock(&d->lock);
    }
    sim_job_finish(j, ok, &e, j->domid);
}

static bool no_pv_control(const struct sim_dom *s, const char *op, xg_err *err)
{
    /* libxl_domain_shutdown/reboot return ERROR_NOPARAVIRT for an HVM guest
     * without PV drivers; xl then needs -F (ACPI). The handler raises
     * VM_MISSING_PV_DRIVERS after checking control/feature-poweroff. */
    XG_INFO("sim", "%s of domain %" PRIu32 ": no PV drivers (ERROR_NOPARAVIRT)", op, s->domid);
    return xg_err_internal(err, "%s: domain %" PRIu32 " has no PV drivers", op, s->domid);
}

bool sim_dom_shutdown(struct xg_drv *d, uint32_t domid, enum xg_stop_how how,
                      const xg_done *done, xg_err *err)
{
    bool clean = how == XG_STOP_CLEAN;
    struct sim_job *j = NULL;
    pthread_mutex_lock(&d->lock);
    struct sim_dom *s = stoppable(d, domid, "shutdown", clean, err);
    if (s && clean && !s->pv_drivers)
        s = (no_pv_control(s, "clean shutdown", err), NULL);
    if (s) {
        j = sim_job_new(shutdown_fire, s, done);
        j->arg = clean ? OP_CLEAN : OP_HARD;
        if (clean)
            s->busy = true;
        else
            sim_dom_remove(d, s);    /* hard: destroy now, report on the worker */
    }
    pthread_mutex_unlock(&d->lock);
    if (!j)
        return false;
    return sim_worker_post(&d->worker, j, clean ? d->cfg.sim_delay_ms : 0, err);
}

/* ===== reboot ===== */

static void reboot_fire(struct xg_drv *d, struct sim_job *j, bool closing)
{
    if (closing)
        return finish_closing(j);
    xg_err e = XG_ERR_INIT;
    uint32_t newid = j->domid;
    pthread_mutex_lock(&d->lock);
    struct sim_dom *s = sim_job_dom(d, j, "reboot", &e);
    bool ok = s != NULL;
    if (s && j->arg == OP_CLEAN && s->pause_count > 0) {
        s->busy = false;
        ok = false;
        xg_err_internal(&e, "domain %" PRIu32 " did not reboot: it is paused", j->domid);
    } else if (s) {
        /* Xen has no reboot: the toolstack destroys the domain and builds a
         * new one of the same shape, which gets a new domid. */
        struct sim_dom old = *s;
        sim_dom_remove(d, s);
        struct sim_dom *n = sim_dom_add(d, old.uuid, old.name, old.type, old.mem_max,
                                        old.mem_target, old.vcpus_max, old.vcpus_online, &e);
        ok = n != NULL;
        if (n) {
            n->pv_drivers = old.pv_drivers;
            n->hostile = old.hostile;
            n->nics = old.nics;
            memcpy(n->distro, old.distro, sizeof n->distro);
            n->pause_count = 0;
            n->state = XG_DOM_RUNNING;
            sim_dom_set_running(n, true, sim_now_ns());
            newid = n->domid;
        }
    }
    pthread_mutex_unlock(&d->lock);
    sim_job_finish(j, ok, &e, newid);
}

bool sim_dom_reboot(struct xg_drv *d, uint32_t domid, enum xg_stop_how how,
                    const xg_done *done, xg_err *err)
{
    bool clean = how == XG_STOP_CLEAN;
    struct sim_job *j = NULL;
    pthread_mutex_lock(&d->lock);
    struct sim_dom *s = stoppable(d, domid, "reboot", clean, err);
    if (s && clean && !s->pv_drivers)
        s = (no_pv_control(s, "clean reboot", err), NULL);
    if (s) {
        j = sim_job_new(reboot_fire, s, done);
        j->arg = clean ? OP_CLEAN : OP_HARD;
        s->busy = true;
    }
    pthread_mutex_unlock(&d->lock);
    if (!j)
        return false;
    return sim_worker_post(&d->worker, j, d->cfg.sim_delay_ms, err);
}

/* ===== suspend ===== */

static bool write_image(const char *path, const struct sim_dom *s, xg_err *err)
{
    char buf[SIM_IMAGE_MAX];
    int n = snprintf(buf, sizeof buf,
                     SIM_IMAGE_MAGIC "uuid=%s type=%d mem_max=%" PRIu64 " target=%" PRIu64
                     " vcpus_max=%" PRIu32 " vcpus_online=%" PRIu32 "\n",
                     s->uuid, (int)s->type, s->mem_max, s->mem_target,
                     s->vcpus_max, s->vcpus_online);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        XG_WARN("sim", "suspend: cannot create %s: %s", path, strerror(errno));
        return xg_err_internal(err, "suspend: cannot create the image file");
    }
    bool ok = write(fd, buf, (size_t)n) == n && fsync(fd) == 0;
    if (close(fd) != 0)
        ok = false;
    if (!ok) {
        XG_WARN("sim", "suspend: writing %s failed: %s", path, strerror(errno));
        unlink(path);
        return xg_err_internal(err, "suspend: cannot write the image file");
    }
    return true;
}

static void suspend_fire(struct xg_drv *d, struct sim_job *j, bool closing)
{
    if (closing)
        return finish_closing(j);
    xg_err e = XG_ERR_INIT;
    pthread_mutex_lock(&d->lock);
    struct sim_dom *s = sim_job_dom(d, j, "suspend", &e);
    struct sim_dom copy;
    if (s)
        copy = *s;
    pthread_mutex_unlock(&d->lock);
    /* File I/O without the lock; the domain is re-checked afterwards. */
    bool ok = s && write_image(j->path, &copy, &e);
    if (ok) {
        pthread_mutex_lock(&d->lock);
        s = sim_job_dom(d, j, "suspend", &e);
        if (s)
            sim_dom_remove(d, s);
        else
            unlink(j->path);
        pthread_mutex_unlock(&d->lock);
        ok = s != NULL;
    } else if (s) {
        /* Like libxl: a failed suspend leaves the guest running. */
        pthread_mutex_lock(&d->lock);
        s = sim_dom_get(d, j->domid);
        if (s && s->gen == j->gen)
            s->busy = false;
        pthread_mutex_unlock(&d->lock);
    }
    sim_job_finish(j, ok, &e, j->domid);
}

bool sim_dom_suspend(struct xg_drv *d, uint32_t domid, const char *path,
                     const xg_done *done, xg_err *err)
{
    if (!path || !path[0] || strlen(path) >= sizeof ((struct sim_job *)0)->path)
        return xg_err_internal(err, "suspend: bad image path");
    struct sim_job *j = NULL;
    pthread_mutex_lock(&d->lock);
    struct sim_dom *s = stoppable(d, domid, "suspend", true, err);
    if (s) {
        j = sim_job_new(suspend_fire, s, done);
        snprintf(j->path, sizeof j->path, "%s", path);
        s->busy = true;
    }
    pthread_mutex_unlock(&d->lock);
    if (!j)
        return false;
    return sim_worker_post(&d->worker, j, d->cfg.sim_delay_ms, err);
}
