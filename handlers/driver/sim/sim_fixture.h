/* sim_fixture.h: the deterministic description of the sim host's guests.
 *
 * Shared by the sim driver (which creates domains for the running and paused
 * guests at open) and the handlers (which create the VM records of all of
 * them, halted ones included: in XAPI a halted VM is not a domain). Both
 * sides call sim_fixture_guest() with the same (i, seed) and therefore agree
 * on uuid, name and shape without talking to each other. Pure function: no
 * state, no allocation, safe from any thread. */
#ifndef XG_SIM_FIXTURE_H
#define XG_SIM_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "../driver.h"

enum sim_fixture_power { SIM_FIX_HALTED, SIM_FIX_RUNNING, SIM_FIX_PAUSED };

struct sim_fixture_guest {
    char uuid[XG_UUID_STR];
    char name[64];
    char distro[32];                 /* "debian", "windows", … (for guest data) */
    enum xg_dom_type type;
    enum sim_fixture_power power;    /* the state it is in at open */
    uint64_t mem_static_max, mem_dynamic_max, mem_dynamic_min, mem_target;  /* bytes */
    uint32_t vcpus_max, vcpus_at_startup;
    bool pv_drivers;                 /* guest agent and PV control present */
    bool hostile;                    /* writes hostile guest data (one guest) */
};

/* Describes guest i (0-based) of a sim host built from seed. Returns false
 * only if i is beyond SIM_FIXTURE_MAX. */
#define SIM_FIXTURE_MAX 30000u
/* Which guest writes hostile xenstore data: the same for every seed so tests
 * can find it; it is always running with PV drivers. */
#define SIM_FIXTURE_HOSTILE_INDEX 3u
bool sim_fixture_guest(uint32_t i, uint64_t seed, struct sim_fixture_guest *out);
/* Every fixture guest has one NIC, eth0 (VIF device "0"), on the host's
 * physical network; running ones were booted with it. */
#define SIM_FIX_NIC_DEVID 0u

/* The small deterministic PRNG (splitmix64) both sides use. */
uint64_t sim_mix64(uint64_t x);

#endif
