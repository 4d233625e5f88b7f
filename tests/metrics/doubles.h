/* doubles.h: test doubles for what handlers/metrics needs from the rest of
 * the gateway (log, the lead's hooks) and a fake driver. */
#ifndef XG_TEST_METRICS_DOUBLES_H
#define XG_TEST_METRICS_DOUBLES_H

#include "../../handlers/metrics/metrics.h"
#include "../../handlers/metrics/metrics_int.h"

/* Identity returned by the hook double. */
extern struct xg_metrics_identity test_identity;
/* Last values given to the publish double. */
extern struct xg_metrics_host_sample test_pub_host;
extern uint32_t test_pub_nvms;
extern double test_pub_util0;        /* vcpus_utilisation[0] of the first VM */
extern uint64_t test_pub_mem0;

/* Fake host: ndoms domains (domid 0 = dom0, then 1..), counters advancing by
 * fixed rates per fake second (fake_clock). */
struct fake_host {
    uint32_t ndoms, npcpus, nvcpus, nvifs, nvbds;
    double clock;                    /* seconds since 0 */
    bool paused1;                    /* domid 1 paused */
};
extern struct fake_host fake;
extern const struct xg_driver fake_driver;
/* Fills test_identity for fake.ndoms domains, arena-allocated. */
void fake_identity(xg_arena *a);
/* uuid of domain i */
void fake_uuid(uint32_t i, char out[XG_UUID_STR]);

#endif
