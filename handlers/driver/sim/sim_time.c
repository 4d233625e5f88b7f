/* sim_time.c: clocks and the utilisation curve behind every sim counter.
 * Counters are functions of (seed, running time), never stored, so they are
 * deterministic, cost nothing per domain, and can only grow. */
#include "sim_internal.h"
#include "sim_fixture.h"

#include <math.h>
#include <time.h>

uint64_t sim_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t sim_dom_run_ns(const struct sim_dom *s, uint64_t now)
{
    uint64_t end = s->stopped_since ? s->stopped_since : now;
    uint64_t alive = end > s->start_ns ? end - s->start_ns : 0;
    return s->prior_run_ns + (alive > s->stopped_ns ? alive - s->stopped_ns : 0);
}

/* Utilisation u(t) = b + a·sin(2πt/p + φ) with a = 0.8·b, so u > 0 and the
 * integral below is strictly increasing; b, p, φ come from the seed. */
double sim_work(uint64_t seed, double t)
{
    uint64_t h = sim_mix64(seed);
    double b = 0.03 + (double)(h % 1000) / 1000.0 * 0.5;      /* mean 3%..53% */
    double a = 0.8 * b;
    double p = 60.0 + (double)((h >> 10) % 540);               /* 1..10 minutes */
    double phi = (double)((h >> 20) % 6283) / 1000.0;
    double w = 2.0 * M_PI / p;
    return b * t + a / w * (cos(phi) - cos(w * t + phi));
}
