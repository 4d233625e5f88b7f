/* sim_scale.c: opens a sim host with N guests and reports the open time,
 * domain count and peak RSS (goal: open < 1 s; the figure is a report, not a
 * test verdict on a shared machine). Fails if the open fails, lists no domain
 * or exceeds a hang guard scaled by $XG_TIME_SCALE. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "../../handlers/driver/driver.h"
#include "../time_scale.h"

int main(int argc, char **argv)
{
    uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 10000;
    struct xg_drv_config cfg = { .state_dir = "/tmp", .sim_vms = n,
                                 .sim_delay_ms = 100, .sim_seed = 1 };
    struct xg_drv *d;
    xg_err err = XG_ERR_INIT;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (!xg_driver_sim.open(&d, &cfg, NULL, &err)) {
        fprintf(stderr, "open failed: %s %s\n", err.code, err.param[0]);
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    xg_arena *a = xg_arena_new(64 * 1024 * 1024);
    struct xg_dom_info *v;
    uint32_t nd = 0;
    if (!xg_driver_sim.dom_list(d, a, &v, &nd, &err))
        return 1;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("sim_vms=%u domains=%u open_ms=%.1f maxrss_kib=%ld\n", n, nd, ms, ru.ru_maxrss);
    xg_arena_free(a);
    xg_driver_sim.close(d);
    return nd > 0 && ms < xg_scaled_ms(30000) ? 0 : 1;
}
