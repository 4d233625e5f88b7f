/* perfmon.c: XAPI's performance alarms, as its perfmon daemon
 * (python3/bin/perfmon) raises them. A host or VM is watched when its
 * other_config:perfmon holds
 *   <config><variable><name value="memory_free_kib"/>
 *           <alarm_trigger_level value="1048576"/></variable>…</config>
 * Each variable whose value stays on the wrong side of its level
 * (alarm_trigger_sense: "high" = above, the default, "low" = below) for
 * alarm_trigger_period seconds (60) posts an ALARM message (priority
 * alarm_priority, 3 by default) about the object, with perfmon's body
 *   value: <value %f>\nconfig:\n<the variable, pretty-printed>
 * which XO Lite and XO parse; then that variable is silent for
 * alarm_auto_inhibit_period seconds (3600). This is how XAPI tells "host
 * memory low": memory_free_kib with sense low.
 *
 * Variables with a value here: host memory_free_kib (KiB, sense low by
 * default) and VM cpu_usage (average of its vCPUs), both from the samples
 * the metrics tick publishes. Others (and rrd_regex, which would run a
 * client's regular expression) are ignored, as perfmon ignores a variable
 * it has no default for. Evaluated at every metrics tick (5 s) instead of
 * perfmon's 60 s reads of /rrd_updates: the same rule on finer samples.
 *
 * The config is a client's string: read by the strict XML reader in a
 * bounded arena, at most MAX_CONFIG bytes, MAX_VARS variables per object and
 * MAX_VALUE bytes per value;
 * anything malformed watches nothing. World lock held throughout. */
#include "perfmon.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../server/arena.h"
#include "../server/log.h"
#include "../server/xml_scan.h"
#include "gw.h"
#include "gw_util.h"
#include "messages.h"
#include "metrics/metrics.h"

#define MAX_CONFIG 16384
#define MAX_VARS GW_PERFMON_MAX_VARS
#define MAX_WATCHED 4096           /* variable states kept at once */
#define BODY_MAX 4096
/* Periods beyond ~31 million years: "never" (and a double that large
 * would not convert to int64_t). */
#define MAX_PERIOD_S 1e15
#define MAX_VALUE 255                   /* bytes of one child's value= */


/* State of one watched variable, kept while its object and config stay. */
struct watch {
    char uuid[40], name[64];
    uint64_t config_hash;          /* a changed config starts the variable afresh */
    double bad_for_s;              /* time spent on the wrong side so far */
    int64_t last_alarm;            /* wall seconds, 0: never */
    bool seen;                     /* in this tick's configs */
};

static struct watch *watches;
static uint32_t nwatches;
static struct timespec last_tick;

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static bool num(const char *s, double *out)
{
    char *end;
    if (!s)
        return false;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v))
        return false;
    *out = v;
    return true;
}

/* A period in seconds (perfmon's int(float(...))), -1 if not one. */
static int64_t seconds(const char *s)
{
    double d;
    if (!num(s, &d) || d < 0)
        return -1;
    return d > MAX_PERIOD_S ? (int64_t)MAX_PERIOD_S : (int64_t)d;
}

/* Appends one child element to pretty, escaping the value as XML (a value
 * is at most MAX_VALUE bytes, so it is never cut: the ALARM body reads
 * back as the same variable; only the whole element may be cut at the
 * body's bound, without its closing tag). */
static void pretty_child(struct gw_perfmon_var *v, size_t *used, const char *tag, size_t tag_len,
                         const char *value)
{
    char esc[MAX_VALUE * 6 + 1];
    size_t o = 0;
    for (const char *p = value; *p; p++) {
        /* line ends and tabs as references: XML reads a raw CR as LF */
        const char *r = *p == '&' ? "&amp;" : *p == '<' ? "&lt;" : *p == '>' ? "&gt;"
                      : *p == '"' ? "&quot;" : *p == '\r' ? "&#13;" : *p == '\n' ? "&#10;"
                      : *p == '\t' ? "&#9;" : NULL;
        if (r) {
            memcpy(esc + o, r, strlen(r));
            o += strlen(r);
        } else {
            esc[o++] = *p;
        }
    }
    esc[o] = '\0';
    if (*used < sizeof v->pretty)
        *used += (size_t)snprintf(v->pretty + *used, sizeof v->pretty - *used,
                                  "\t<%.*s value=\"%s\"/>\n", (int)tag_len, tag, esc);
}

/* Reads one <variable>…</variable> (the open tag already read). */
static bool read_variable(xg_xml *x, struct gw_perfmon_var *v, bool host)
{
    memset(v, 0, sizeof *v);
    const char *level = NULL, *sense = NULL, *period = NULL, *inhibit = NULL, *prio = NULL;
    size_t used = (size_t)snprintf(v->pretty, sizeof v->pretty, "<variable>\n");
    for (;;) {
        struct xg_xml_tag t;
        if (!xg_xml_skip_space(x) || !xg_xml_tag(x, &t))
            return false;
        if (xg_xml_is(&t, "variable") && t.kind == XG_XML_CLOSE)
            break;
        if (t.kind != XG_XML_EMPTY)
            return false;       /* perfmon's children are all <tag value="…"/> */
        const char *val = xg_xml_attr(x, &t, "value");
        if (!val || strlen(val) > MAX_VALUE)
            return false;
        if (xg_xml_is(&t, "name")) {
            if (strlen(val) >= sizeof v->name)
                return false;    /* no data source has such a name */
            memcpy(v->name, val, strlen(val) + 1);
        }
        else if (xg_xml_is(&t, "alarm_trigger_level"))
            level = val;
        else if (xg_xml_is(&t, "alarm_trigger_sense"))
            sense = val;
        else if (xg_xml_is(&t, "alarm_trigger_period"))
            period = val;
        else if (xg_xml_is(&t, "alarm_auto_inhibit_period"))
            inhibit = val;
        else if (xg_xml_is(&t, "alarm_priority"))
            prio = val;
        pretty_child(v, &used, t.name, t.name_len, val);
    }
    if (used < sizeof v->pretty)
        snprintf(v->pretty + used, sizeof v->pretty - used, "</variable>\n");
    double d;
    if (!v->name[0] || !num(level, &v->level))
        return false;            /* no default level: perfmon refuses the variable */
    v->low = sense ? strcmp(sense, "low") == 0
                   : host && strcmp(v->name, "memory_free_kib") == 0;
    v->period_s = period ? seconds(period) : 60;
    v->inhibit_s = inhibit ? seconds(inhibit) : 3600;
    v->priority = prio ? (num(prio, &d) && d >= 1 && d <= 5 ? (int64_t)d : -1) : 3;
    return v->period_s >= 0 && v->inhibit_s >= 0 && v->priority > 0;
}

uint32_t gw_perfmon_read_config(xg_arena *a, const char *text, bool host,
                                struct gw_perfmon_var vars[GW_PERFMON_MAX_VARS])
{
    size_t len = strlen(text);
    if (len > MAX_CONFIG)
        return 0;
    char msg[128];
    xg_xml x;
    struct xg_xml_tag t;
    if (!xg_xml_begin(&x, a, text, len, msg, sizeof msg) || !xg_xml_skip_space(&x) ||
        !xg_xml_tag(&x, &t) || !xg_xml_is(&t, "config") || t.kind != XG_XML_OPEN)
        return 0;
    uint32_t n = 0;
    for (;;) {
        if (!xg_xml_skip_space(&x) || !xg_xml_tag(&x, &t))
            return 0;
        if (xg_xml_is(&t, "config") && t.kind == XG_XML_CLOSE)
            return n;
        if (!xg_xml_is(&t, "variable") || t.kind != XG_XML_OPEN || n >= MAX_VARS)
            return 0;
        /* a variable perfmon cannot configure ends the reading (perfmon's
         * parse stops at its exception): those before it are watched */
        if (!read_variable(&x, &vars[n], host))
            return x.failed ? 0 : n;
        n++;
    }
}

static void watch_reset(struct watch *w, const char *uuid, const char *name, uint64_t h)
{
    memset(w, 0, sizeof *w);
    snprintf(w->uuid, sizeof w->uuid, "%.39s", uuid);
    snprintf(w->name, sizeof w->name, "%.63s", name);
    w->config_hash = h;
}

static struct watch *watch_of(const char *uuid, const struct gw_perfmon_var *v, uint64_t h)
{
    for (uint32_t i = 0; i < nwatches; i++)
        if (strcmp(watches[i].uuid, uuid) == 0 && strcmp(watches[i].name, v->name) == 0) {
            if (watches[i].config_hash != h)
                watch_reset(&watches[i], uuid, v->name, h);
            return &watches[i];
        }
    if (nwatches >= MAX_WATCHED)
        return NULL;
    if (!watches && !(watches = calloc(MAX_WATCHED, sizeof *watches)))
        return NULL;
    struct watch *w = &watches[nwatches++];
    watch_reset(w, uuid, v->name, h);
    return w;
}

/* perfmon's Variable.update: the counter runs down while the value is
 * bad; at zero an alarm goes, unless one went within the inhibit period. */
static void update(struct watch *w, const struct gw_perfmon_var *v, double value, double step_s,
                   int cls, const char *uuid)
{
    w->seen = true;
    bool bad = v->low ? value < v->level : value > v->level;
    if (!bad) {
        w->bad_for_s = 0;
        return;
    }
    w->bad_for_s += step_s;
    if (w->bad_for_s < (double)v->period_s)
        return;
    w->bad_for_s = 0;
    int64_t now = gw_now();
    if (w->last_alarm && now - w->last_alarm < v->inhibit_s)
        return;
    w->last_alarm = now;
    char body[BODY_MAX];
    snprintf(body, sizeof body, "value: %f\nconfig:\n%s", value, v->pretty);
    XG_INFO("perfmon", "ALARM %s %s: %s = %f", cls == XAPI_CLS_HOST ? "host" : "VM", uuid,
            v->name, value);
    gw_message_post("ALARM", v->priority, cls, uuid, body);
}

/* The value of variable name of the object, false when it has none. */
typedef bool (*value_fn)(const void *ctx, const char *name, double *out);

static void watch_object(xg_arena *a, const xg_map *other_config, bool host, int cls,
                         const char *uuid, value_fn value_of, const void *ctx, double step_s)
{
    const char *cfg = gw_smap_get(other_config, "perfmon");
    if (!cfg)
        return;
    struct gw_perfmon_var vars[MAX_VARS];
    uint32_t n = gw_perfmon_read_config(a, cfg, host, vars);
    uint64_t h = hash(cfg);
    for (uint32_t i = 0; i < n; i++) {
        double value;
        if (!value_of(ctx, vars[i].name, &value) || isnan(value))
            continue;
        struct watch *w = watch_of(uuid, &vars[i], h);
        if (w)
            update(w, &vars[i], value, step_s, cls, uuid);
    }
}

static bool host_value(const void *ctx, const char *name, double *out)
{
    const struct xg_metrics_host_sample *h = ctx;
    if (strcmp(name, "memory_free_kib") != 0)
        return false;
    *out = (double)h->memory_free_bytes / 1024.0;
    return true;
}

static bool vm_value(const void *ctx, const char *name, double *out)
{
    const struct xg_metrics_vm_sample *s = ctx;
    if (strcmp(name, "cpu_usage") != 0 || s->nvcpus == 0)
        return false;
    double sum = 0;
    uint32_t k = 0;
    for (uint32_t i = 0; i < s->nvcpus; i++)
        if (!isnan(s->vcpus_utilisation[i])) {
            sum += s->vcpus_utilisation[i];
            k++;
        }
    *out = k ? sum / k : NAN;
    return k > 0;
}

void gw_perfmon_tick(const struct xg_metrics_host_sample *hs,
                     const struct xg_metrics_vm_sample *vms, uint32_t n)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double step_s = last_tick.tv_sec ? (double)(now.tv_sec - last_tick.tv_sec) +
                                           (double)(now.tv_nsec - last_tick.tv_nsec) / 1e9
                                     : 0;
    last_tick = now;
    for (uint32_t i = 0; i < nwatches; i++)
        watches[i].seen = false;
    xg_arena *a = xg_arena_new(256 * 1024);
    if (!a)
        return;
    xapi_host *host = gw_host();
    if (host) {
        watch_object(a, &host->other_config, true, XAPI_CLS_HOST, host->uuid, host_value, hs,
                     step_s);
    }
    for (uint32_t i = 0; i < n; i++) {
        xapi_vm *vm = gw_vm_by_domid(vms[i].domid);
        if (vm && strcmp(vm->uuid, vms[i].vm_uuid) == 0 && !vm->is_control_domain)
            watch_object(a, &vm->other_config, false, XAPI_CLS_VM, vm->uuid, vm_value, &vms[i],
                         step_s);
    }
    xg_arena_free(a);
    /* forget variables whose object or config went away */
    uint32_t k = 0;
    for (uint32_t i = 0; i < nwatches; i++)
        if (watches[i].seen)
            watches[k++] = watches[i];
    nwatches = k;
}
