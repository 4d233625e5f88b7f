/* sim_nic.c: virtual NICs of simulated domains. A domain remembers which
 * vif devids it has (from the spec at build, then hot-plug); stats and guest
 * data report only those. Hot-plug takes sim_delay_ms, like the hotplug
 * scripts it stands for, and is refused where netback would refuse it. */
#include "sim_internal.h"

#include <inttypes.h>

void sim_dom_set_nics(struct sim_dom *s, const struct xg_nic_spec *nics, uint32_t n)
{
    s->nics = 0;
    for (uint32_t i = 0; i < n; i++)
        if (nics[i].devid <= SIM_MAX_NIC_DEVID)
            s->nics |= 1u << nics[i].devid;
}

static struct sim_dom *pluggable(struct xg_drv *d, uint32_t domid, uint32_t devid,
                                 const char *op, xg_err *err)
{
    struct sim_dom *s = sim_dom_find(d, domid, err);
    if (!s)
        return NULL;
    if (domid == 0) {
        xg_err_internal(err, "%s: domain 0 has no hot-pluggable vifs", op);
        return NULL;
    }
    if (s->building || s->state == XG_DOM_SHUTDOWN || s->state == XG_DOM_DYING) {
        xg_err_internal(err, "%s: domain %" PRIu32 " is not running", op, domid);
        return NULL;
    }
    if (devid > SIM_MAX_NIC_DEVID) {
        xg_err_internal(err, "%s: devid %" PRIu32 " out of range", op, devid);
        return NULL;
    }
    return s;
}

static void nic_fire(struct xg_drv *d, struct sim_job *j, bool closing)
{
    xg_err e = XG_ERR_INIT;
    if (closing) {
        xg_err_internal(&e, "sim: driver closed before the hot-plug completed");
        return sim_job_finish(j, false, &e, j->domid);
    }
    pthread_mutex_lock(&d->lock);
    struct sim_dom *s = sim_job_dom(d, j, "vif hot-plug", &e);
    uint32_t bit = 1u << (uint32_t)(j->arg & 0xff);
    if (s) {
        if (j->arg & 0x100)
            s->nics |= bit;
        else
            s->nics &= ~bit;
    }
    pthread_mutex_unlock(&d->lock);
    sim_job_finish(j, s != NULL, &e, j->domid);
}

bool sim_nic_add(struct xg_drv *d, uint32_t domid, const struct xg_nic_spec *nic,
                 const xg_done *done, xg_err *err)
{
    struct sim_job *j = NULL;
    pthread_mutex_lock(&d->lock);
    struct sim_dom *s = pluggable(d, domid, nic->devid, "nic_add", err);
    if (s && (s->nics & (1u << nic->devid))) {
        xg_err_internal(err, "nic_add: vif %" PRIu32 ".%" PRIu32 " exists", domid, nic->devid);
        s = NULL;
    } else if (s && !nic->bridge[0]) {
        xg_err_internal(err, "nic_add: no bridge");
        s = NULL;
    }
    if (s) {
        j = sim_job_new(nic_fire, s, done);
        j->arg = 0x100 | (int)nic->devid;
    }
    pthread_mutex_unlock(&d->lock);
    if (!j)
        return false;
    return sim_worker_post(&d->worker, j, d->cfg.sim_delay_ms, err);
}

bool sim_nic_remove(struct xg_drv *d, uint32_t domid, uint32_t devid, bool force,
                    const xg_done *done, xg_err *err)
{
    struct sim_job *j = NULL;
    pthread_mutex_lock(&d->lock);
    struct sim_dom *s = pluggable(d, domid, devid, "nic_remove", err);
    if (s && !(s->nics & (1u << devid))) {
        xg_err_internal(err, "nic_remove: no vif %" PRIu32 ".%" PRIu32, domid, devid);
        s = NULL;
    }
    if (s) {
        j = sim_job_new(nic_fire, s, done);
        j->arg = (int)devid;
    }
    pthread_mutex_unlock(&d->lock);
    if (!j)
        return false;
    /* a forced removal does not wait for the guest */
    return sim_worker_post(&d->worker, j, force ? 0 : d->cfg.sim_delay_ms, err);
}
