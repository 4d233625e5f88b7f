/* sim_disk.c: block devices of simulated domains. The images are real
 * files made by the handlers; the simulation checks what Xen's toolstack
 * would (the domain exists, the vdev is free or present, the image can be
 * opened, CD media change only on a CD drive) and remembers the devices.
 * Hot-plug, unplug and media changes take sim_delay_ms, as libxl's calls
 * wait for hotplug scripts and the guest (callers are on a worker). */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../../server/log.h"
#include "sim_internal.h"

static struct sim_disk *find_disk(struct sim_dom *s, const char *vdev)
{
    for (uint32_t i = 0; i < s->ndisks; i++)
        if (strcmp(s->disks[i].vdev, vdev) == 0)
            return &s->disks[i];
    return NULL;
}

static bool add_one(struct sim_dom *s, const struct xg_disk *disk, xg_err *err)
{
    if (!disk->vdev || !disk->vdev[0] || strlen(disk->vdev) >= sizeof s->disks[0].vdev)
        return xg_err_internal(err, "bad vdev");
    if (find_disk(s, disk->vdev))
        return xg_err_internal(err, "device %s already exists in domain %" PRIu32,
                               disk->vdev, s->domid);
    if (s->ndisks >= SIM_MAX_DISKS)
        return xg_err_internal(err, "too many disks in domain %" PRIu32, s->domid);
    if (disk->format != XG_DISK_EMPTY &&
        (!disk->path || access(disk->path, disk->readwrite ? R_OK | W_OK : R_OK) != 0))
        return xg_err_internal(err, "cannot open disk image %s",
                               disk->path ? disk->path : "(none)");
    struct sim_disk *sd = &s->disks[s->ndisks++];
    snprintf(sd->vdev, sizeof sd->vdev, "%s", disk->vdev);
    sd->cdrom = disk->cdrom;
    sd->loaded = disk->format != XG_DISK_EMPTY;
    return true;
}

bool sim_disks_build(struct sim_dom *s, const struct xg_disk *disks, uint32_t n,
                     xg_err *err)
{
    s->ndisks = 0;
    for (uint32_t i = 0; i < n; i++)
        if (!add_one(s, &disks[i], err))
            return false;
    return true;
}

static void take_time(const struct xg_drv *d)
{
    uint32_t ms = d->cfg.sim_delay_ms;
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (ms && nanosleep(&ts, &ts) != 0)
        ;
}

static struct sim_dom *guest(struct xg_drv *d, uint32_t domid, xg_err *err)
{
    struct sim_dom *s = sim_dom_find(d, domid, err);
    if (s && domid == 0) {
        xg_err_internal(err, "not permitted on domain 0");
        return NULL;
    }
    return s;
}

bool sim_dom_disk_add(struct xg_drv *d, uint32_t domid, const struct xg_disk *disk,
                      xg_err *err)
{
    take_time(d);
    pthread_mutex_lock(&d->lock);
    struct sim_dom *s = guest(d, domid, err);
    bool ok = s && add_one(s, disk, err);
    pthread_mutex_unlock(&d->lock);
    return ok;
}

bool sim_dom_disk_remove(struct xg_drv *d, uint32_t domid, const char *vdev,
                         bool force, xg_err *err)
{
    if (!force)
        take_time(d);
    pthread_mutex_lock(&d->lock);
    bool ok = false;
    struct sim_dom *s = guest(d, domid, err);
    struct sim_disk *sd = s ? find_disk(s, vdev) : NULL;
    if (s && !sd)
        xg_err_internal(err, "no device %s in domain %" PRIu32, vdev, domid);
    if (sd) {
        *sd = s->disks[--s->ndisks];
        ok = true;
    }
    pthread_mutex_unlock(&d->lock);
    return ok;
}

bool sim_dom_cdrom_change(struct xg_drv *d, uint32_t domid, const struct xg_disk *disk,
                          xg_err *err)
{
    take_time(d);
    pthread_mutex_lock(&d->lock);
    bool ok = false;
    struct sim_dom *s = guest(d, domid, err);
    struct sim_disk *sd = s ? find_disk(s, disk->vdev) : NULL;
    if (s && (!sd || !sd->cdrom))
        xg_err_internal(err, "no CD drive %s in domain %" PRIu32, disk->vdev, domid);
    else if (sd && disk->format != XG_DISK_EMPTY &&
             (!disk->path || access(disk->path, R_OK) != 0))
        xg_err_internal(err, "cannot open %s", disk->path ? disk->path : "(none)");
    else if (sd) {
        sd->loaded = disk->format != XG_DISK_EMPTY;
        ok = true;
    }
    pthread_mutex_unlock(&d->lock);
    return ok;
}
