/* fuzz_perfmon.c: libFuzzer target for perfmon configs (handlers/
 * perfmon.c), other_config:perfmon of a host or VM: a client's string,
 * read at every metrics tick. The first input byte says whose (odd: the
 * host's), the rest is the config.
 * Properties: at most GW_PERFMON_MAX_VARS variables, each with a name,
 * a finite level, periods in [0, 1e15] s, a priority in 1..5; the
 * <variable> element written into the ALARM body (which XO Lite and XO
 * parse back), wrapped in <config>, reads as the same variable. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perfmon.h"

static struct gw_perfmon_var vars[GW_PERFMON_MAX_VARS], again[GW_PERFMON_MAX_VARS];

static void check(xg_arena *a, const struct gw_perfmon_var *v, bool host)
{
    if (!v->name[0] || !memchr(v->name, 0, sizeof v->name) || !isfinite(v->level) ||
        v->period_s < 0 || v->period_s > 1000000000000000 || v->inhibit_s < 0 ||
        v->inhibit_s > 1000000000000000 || v->priority < 1 || v->priority > 5 ||
        !memchr(v->pretty, 0, sizeof v->pretty) || strncmp(v->pretty, "<variable>\n", 11) != 0)
        __builtin_trap();
    size_t n = strlen(v->pretty);
    if (n < 12 || strcmp(v->pretty + n - 12, "</variable>\n") != 0)
        return;                               /* cut at the body's bound */
    char *doc = malloc(n + 32);
    snprintf(doc, n + 32, "<config>%s</config>", v->pretty);
    uint32_t n2 = gw_perfmon_read_config(a, doc, host, again);
    if (n2 != 1 || strcmp(again[0].name, v->name) != 0 || again[0].level != v->level ||
        again[0].low != v->low || again[0].period_s != v->period_s ||
        again[0].inhibit_s != v->inhibit_s || again[0].priority != v->priority) {
        fprintf(stderr, "the ALARM body's config reads otherwise (%u variables):\n%s\n", n2, doc);
        if (n2 == 1)
            fprintf(stderr, "name [%s] -> [%s], level %g -> %g, low %d -> %d, period %lld -> %lld, "
                    "inhibit %lld -> %lld, priority %lld -> %lld\n", v->name, again[0].name,
                    v->level, again[0].level, v->low, again[0].low, (long long)v->period_s,
                    (long long)again[0].period_s, (long long)v->inhibit_s,
                    (long long)again[0].inhibit_s, (long long)v->priority,
                    (long long)again[0].priority);
        abort();
    }
    free(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size || size > 20000)
        return 0;
    static xg_arena *a;
    if (!a)
        a = xg_arena_new(256 * 1024);          /* perfmon's per-tick arena */
    xg_arena_reset(a);
    bool host = data[0] & 1;
    char *text = malloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = 0;                        /* other_config values are C strings */
    uint32_t n = gw_perfmon_read_config(a, text, host, vars);
    if (n > GW_PERFMON_MAX_VARS)
        __builtin_trap();
    for (uint32_t i = 0; i < n; i++)
        check(a, &vars[i], host);
    free(text);
    return 0;
}
