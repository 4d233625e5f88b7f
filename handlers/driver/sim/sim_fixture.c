/* sim_fixture.c: deterministic guest i of the sim host; pure, no state. */
#include "sim_fixture.h"

#include <stdio.h>
#include <string.h>

#define MiB (1024ull * 1024ull)

uint64_t sim_mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

struct os_kind {
    const char *prefix, *distro;
    enum xg_dom_type type;
};

/* Believable mixes: Linux as PV/PVH/HVM, Windows and BSD as HVM. */
static const struct os_kind kinds[] = {
    { "debian", "debian", XG_DOM_PV },
    { "ubuntu", "ubuntu", XG_DOM_PVH },
    { "rocky", "rhel", XG_DOM_HVM },
    { "win2022", "windows", XG_DOM_HVM },
    { "alpine", "alpine", XG_DOM_PVH },
    { "freebsd", "freebsd", XG_DOM_HVM },
    { "centos7", "centos", XG_DOM_PV },
    { "win10", "windows", XG_DOM_HVM },
};
static const char *const roles[] = {
    "web", "db", "cache", "build", "mail", "dns", "ci", "proxy", "app", "backup",
};
static const uint64_t mem_mib[] = { 512, 1024, 2048, 2048, 4096, 4096, 8192, 16384 };
static const uint32_t vcpus[] = { 1, 1, 2, 2, 2, 4, 4, 8 };

bool sim_fixture_guest(uint32_t i, uint64_t seed, struct sim_fixture_guest *out)
{
    if (i >= SIM_FIXTURE_MAX)
        return false;
    memset(out, 0, sizeof *out);
    uint64_t h = sim_mix64(seed ^ sim_mix64(i + 1));
    uint64_t h2 = sim_mix64(h);

    /* Version-4 style uuid from the hash; unique per (seed, i) with
     * overwhelming probability and never the all-zero dom0 uuid. */
    snprintf(out->uuid, sizeof out->uuid, "%08x-%04x-4%03x-%04x-%012llx",
             (uint32_t)(h >> 32), (uint32_t)(h >> 16) & 0xffff,
             (uint32_t)h & 0xfff,
             (uint32_t)(0x8000 | ((h2 >> 48) & 0x3fff)),
             (unsigned long long)(h2 & 0xffffffffffffull));

    const struct os_kind *k = &kinds[h % (sizeof kinds / sizeof kinds[0])];
    snprintf(out->name, sizeof out->name, "%s-%s-%05u", k->prefix,
             roles[(h >> 8) % (sizeof roles / sizeof roles[0])], i);
    snprintf(out->distro, sizeof out->distro, "%s", k->distro);
    out->type = k->type;

    /* Keep big guests rare so that 10,000 guests stay plausible. */
    uint64_t m = mem_mib[(h >> 16) % 8] * MiB;
    if ((h >> 24) % 16 != 0 && m > 4096 * MiB)
        m = 2048 * MiB;
    out->mem_static_max = m;
    out->mem_dynamic_max = m;
    out->mem_dynamic_min = (h >> 28) % 4 == 0 ? m / 2 : m;
    out->mem_target = out->mem_dynamic_max;
    out->vcpus_max = vcpus[(h >> 32) % 8];
    out->vcpus_at_startup = out->vcpus_max;

    /* About 1/2 running, 1/10 paused, the rest halted. */
    uint32_t p = (uint32_t)((h2 >> 8) % 10);
    out->power = p < 5 ? SIM_FIX_RUNNING : p == 5 ? SIM_FIX_PAUSED : SIM_FIX_HALTED;

    /* PV and PVH kernels always have PV control; most HVM guests have
     * drivers, some (fresh installs) do not. */
    out->pv_drivers = k->type != XG_DOM_HVM || (h2 >> 16) % 4 != 0;

    if (i == SIM_FIXTURE_HOSTILE_INDEX) {
        out->hostile = true;
        out->power = SIM_FIX_RUNNING;
        out->pv_drivers = true;
    }
    return true;
}
