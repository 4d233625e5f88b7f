/* sim_handover.c: the simulated hypervisor outliving its agent. A real Xen
 * host keeps its domains when the toolstack restarts (host.restart_agent)
 * and loses them when it reboots; the sim's domains live in the gateway
 * process, so across a restart in place they are written to
 * <state_dir>/sim-handover by the old image and read back by the next open.
 * A simulated reboot leaves only a marker: the next open starts a freshly
 * booted host (no guest running, not even the fixtures).
 *
 * The file is ours (written just before, in a 0700 state dir), yet it is
 * read as untrusted: every number is range-checked and a bad line ends the
 * handover (the host then starts as after a reboot). */
#include "sim_handover.h"
#include "sim_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../../server/log.h"

#define HANDOVER_FILE "sim-handover"
#define MAGIC "xg-sim-handover 1"

static void path_of(const struct xg_drv *d, char *out, size_t n)
{
    snprintf(out, n, "%s/" HANDOVER_FILE, d->state_dir);
}

static void hex(FILE *f, const char *s)
{
    if (!*s)
        fputc('-', f);
    for (; *s; s++)
        fprintf(f, "%02x", (unsigned char)*s);
}

static bool unhex(const char *h, char *out, size_t cap)
{
    size_t n = 0;
    if (strcmp(h, "-") == 0) {
        out[0] = '\0';
        return true;
    }
    for (; h[0] && h[1]; h += 2) {
        unsigned v;
        if (n + 1 >= cap || sscanf(h, "%2x", &v) != 1 || v == 0)
            return false;
        out[n++] = (char)v;
    }
    out[n] = '\0';
    return h[0] == '\0';
}

void sim_restarting(struct xg_drv *d, bool host_reboot)
{
    char path[300];
    path_of(d, path, sizeof path);
    FILE *f = fopen(path, "w");
    if (!f) {
        XG_WARN("sim", "cannot write %s: the domains end with this process", path);
        return;
    }
    pthread_mutex_lock(&d->lock);
    fprintf(f, "%s %s %" PRId64 " %" PRIu32 " %" PRIu64 "\n", MAGIC,
            host_reboot ? "reboot" : "agent", d->boot_wall, d->next_domid, d->next_gen);
    uint64_t now = sim_now_ns();
    for (uint32_t i = 1; !host_reboot && i < SIM_DOMID_LIMIT; i++) {
        const struct sim_dom *s = d->doms[i];
        if (!s || s->building || s->busy)
            continue;     /* an operation in flight does not survive: as a crash */
        fprintf(f, "dom %" PRIu32 " %s %d %d %d %" PRIu32 " %d %d %" PRIu64 " %" PRIu64
                " %" PRIu64 " %" PRIu64 " %" PRIu32 " %" PRIu32 " %" PRIu64 " %" PRId64
                " %" PRIu64 " %" PRIu32 " ",
                s->domid, s->uuid, (int)s->type, (int)s->state, (int)s->reason, s->pause_count,
                s->pv_drivers, s->hostile, s->mem_max, s->mem_target, s->mem_current,
                s->mem_reserved, s->vcpus_max, s->vcpus_online, s->seed, s->start_time,
                sim_dom_run_ns(s, now), s->nics);
        hex(f, s->distro);
        fputc(' ', f);
        hex(f, s->name);
        fprintf(f, " %" PRIu32, s->ndisks);
        for (uint32_t k = 0; k < s->ndisks; k++) {
            fputc(' ', f);
            hex(f, s->disks[k].vdev);
            fprintf(f, " %d %d", s->disks[k].cdrom, s->disks[k].loaded);
        }
        fputc('\n', f);
    }
    pthread_mutex_unlock(&d->lock);
    if (fclose(f) != 0)
        XG_WARN("sim", "cannot write %s", path);
}

/* One "dom" line (after the keyword) into a new domain; false if malformed. */
static bool read_dom(struct xg_drv *d, char *line, uint64_t now)
{
    struct sim_dom *s = calloc(1, sizeof *s);
    if (!s)
        abort();
    int type, state, reason, pv, hostile, n = 0;
    uint64_t run_ns;
    char uuid[64], distro[80], name[300];
    if (sscanf(line, "%" SCNu32 " %63s %d %d %d %" SCNu32 " %d %d %" SCNu64 " %" SCNu64
               " %" SCNu64 " %" SCNu64 " %" SCNu32 " %" SCNu32 " %" SCNu64 " %" SCNd64
               " %" SCNu64 " %" SCNu32 " %79s %299s %" SCNu32 "%n",
               &s->domid, uuid, &type, &state, &reason, &s->pause_count, &pv, &hostile,
               &s->mem_max, &s->mem_target, &s->mem_current, &s->mem_reserved, &s->vcpus_max,
               &s->vcpus_online, &s->seed, &s->start_time, &run_ns, &s->nics, distro, name,
               &s->ndisks, &n) != 21 ||
        s->domid == 0 || s->domid >= SIM_DOMID_LIMIT || d->doms[s->domid] ||
        strlen(uuid) != XG_UUID_STR - 1 || type < 0 || type > XG_DOM_HVM ||
        state < 0 || state > XG_DOM_DYING || reason < 0 || reason > XG_SHUTDOWN_NONE ||
        s->ndisks > SIM_MAX_DISKS || s->mem_reserved > d->total_bytes - d->used_bytes ||
        !unhex(distro, s->distro, sizeof s->distro) || !unhex(name, s->name, sizeof s->name))
        goto bad;
    char *p = line + n;
    for (uint32_t k = 0; k < s->ndisks; k++) {
        char vdev[64];
        int cd, loaded, m = 0;
        if (sscanf(p, " %63s %d %d%n", vdev, &cd, &loaded, &m) != 3 ||
            !unhex(vdev, s->disks[k].vdev, sizeof s->disks[k].vdev))
            goto bad;
        s->disks[k].cdrom = cd != 0;
        s->disks[k].loaded = loaded != 0;
        p += m;
    }
    memcpy(s->uuid, uuid, XG_UUID_STR);
    s->type = (enum xg_dom_type)type;
    s->state = (enum xg_dom_state)state;
    s->reason = (enum xg_shutdown_reason)reason;
    s->pv_drivers = pv != 0;
    s->hostile = hostile != 0;
    s->gen = ++d->next_gen;
    /* counters continue from the running time reached so far */
    s->prior_run_ns = run_ns;
    s->start_ns = now;
    s->stopped_since = state == XG_DOM_RUNNING ? 0 : now;
    d->doms[s->domid] = s;
    d->ndoms++;
    d->used_bytes += s->mem_reserved;
    return true;
bad:
    free(s);
    return false;
}

enum sim_boot sim_handover_take(struct xg_drv *d, uint64_t now)
{
    char path[300];
    path_of(d, path, sizeof path);
    FILE *f = fopen(path, "r");
    if (!f)
        return SIM_BOOT_FIRST;
    unlink(path);          /* taken once, whatever happens */
    enum sim_boot boot = SIM_BOOT_REBOOTED;
    char line[2048], kind[16];
    int64_t boot_wall;
    uint32_t next_domid;
    uint64_t next_gen;
    if (!fgets(line, sizeof line, f) || strncmp(line, MAGIC " ", sizeof(MAGIC)) != 0 ||
        sscanf(line + sizeof(MAGIC), "%15s %" SCNd64 " %" SCNu32 " %" SCNu64, kind, &boot_wall,
               &next_domid, &next_gen) != 4 || next_domid == 0 || next_domid >= SIM_DOMID_LIMIT) {
        XG_WARN("sim", "%s is not a handover: starting as after a reboot", path);
        fclose(f);
        return boot;
    }
    if (strcmp(kind, "agent") == 0) {
        boot = SIM_BOOT_AGENT_RESTART;
        d->boot_wall = boot_wall;
        d->next_domid = next_domid;
        d->next_gen = next_gen;
        uint32_t n = 0;
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "dom ", 4) != 0 || !read_dom(d, line + 4, now)) {
                XG_WARN("sim", "%s: bad line, the remaining domains are lost", path);
                break;
            }
            n++;
        }
        XG_INFO("sim", "%" PRIu32 " domains handed over by the previous agent", n);
    } else {
        XG_INFO("sim", "the simulated host rebooted: no guest runs");
    }
    fclose(f);
    return boot;
}
