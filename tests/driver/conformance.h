/* conformance.h: what every driver must do, as cmocka tests over a driver
 * table. A backend-specific file opens the driver (sim here; libxl on a
 * real Xen host) and runs these. */
#ifndef XG_TEST_CONFORMANCE_H
#define XG_TEST_CONFORMANCE_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../handlers/driver/driver.h"

struct conf_env {
    const struct xg_driver *drv;
    struct xg_drv *d;
    xg_arena *a;
    uint32_t delay_ms;              /* expected duration of long operations */
    const char *tmpdir;
};

/* Collects a done callback; waits on it with a timeout. */
struct conf_done {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int calls;
    bool ok;
    xg_err err;
    uint32_t domid;
};
void conf_done_init(struct conf_done *c);
xg_done conf_done_of(struct conf_done *c);
/* Waits up to ms for the callback; returns whether it came. */
bool conf_done_wait(struct conf_done *c, uint32_t ms);

/* A spec for a small guest of type t with the given uuid. */
void conf_spec(struct xg_dom_spec *s, const char *uuid, enum xg_dom_type t, uint64_t mem);
/* Creates and waits; returns the domid. */
uint32_t conf_create(struct conf_env *e, const struct xg_dom_spec *s);

void conf_host_info(void **state);
void conf_dom_list_has_dom0(void **state);
void conf_missing_domid(void **state);
void conf_create_lifecycle(void **state);
void conf_pause_nesting(void **state);
void conf_create_async(void **state);
void conf_not_enough_memory(void **state);
void conf_clean_shutdown(void **state);
void conf_hard_shutdown(void **state);
void conf_reboot_new_domid(void **state);
void conf_suspend_resume(void **state);
void conf_counters_increase(void **state);
void conf_nic_hotplug(void **state);
void conf_host_stats_sane(void **state);
void conf_memory_vcpus(void **state);
void conf_dom0_protected(void **state);

#endif
