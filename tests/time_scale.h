/* time_scale.h: time bounds in C tests are hang guards, never latency assertions (issue 22).
 * Every bound goes through xg_scaled_ms() so that $XG_TIME_SCALE (default 1; the sanitizer
 * stage and CI raise it) stretches them all on a loaded or instrumented machine. How fast
 * something is belongs in tools/bench. Same rule as tests/e2e/gateway.py scaled(). */
#ifndef XG_TEST_TIME_SCALE_H
#define XG_TEST_TIME_SCALE_H

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

static inline double xg_time_scale(void)
{
    const char *s = getenv("XG_TIME_SCALE");
    double v = s && *s ? strtod(s, NULL) : 1.0;
    return v >= 1.0 ? v : 1.0;
}

static inline uint32_t xg_scaled_ms(uint32_t ms)
{
    double v = ms * xg_time_scale();
    return v < 4e9 ? (uint32_t)v : 4000000000u;
}

/* CLOCK_MONOTONIC in nanoseconds, to measure the elapsed time a check compares against */
static inline uint64_t xg_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif
