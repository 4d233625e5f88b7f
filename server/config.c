/* config.c: defaults, the "key = value" config file and single settings by
 * their command-line names. Runs once at start-up, before any thread. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "limits.h"
#include "log.h"

struct xg_config xg_cfg;

void xg_config_defaults(void)
{
    memset(&xg_cfg, 0, sizeof(xg_cfg));
    snprintf(xg_cfg.https.addr, sizeof(xg_cfg.https.addr), "0.0.0.0");
    xg_cfg.https.port = 443;
    xg_cfg.https.set = true;
    snprintf(xg_cfg.state_dir, sizeof(xg_cfg.state_dir), "/var/lib/xapi-gateway");
    snprintf(xg_cfg.driver, sizeof(xg_cfg.driver), "auto");
    xg_cfg.sim_vms = 0;
    xg_cfg.sim_delay_ms = 0;
    snprintf(xg_cfg.auth, sizeof(xg_cfg.auth), "file");
    snprintf(xg_cfg.log_level, sizeof(xg_cfg.log_level), "info");
    xg_cfg.max_body_bytes = XG_MAX_BODY_BYTES;
    xg_cfg.max_header_bytes = XG_MAX_HEADER_BYTES;
    xg_cfg.max_connections = XG_MAX_CONNECTIONS;
    xg_cfg.header_read_timeout_ms = XG_HEADER_READ_TIMEOUT_MS;
    xg_cfg.header_total_timeout_ms = XG_HEADER_TOTAL_TIMEOUT_MS;
    xg_cfg.idle_timeout_ms = XG_IDLE_KEEPALIVE_MS;
    xg_cfg.session_idle_secs = XG_SESSION_IDLE_SECS;
    xg_cfg.max_sessions_per_user = XG_MAX_SESSIONS_PER_USER;
    xg_cfg.event_batch_ms = 0;
}

/* "ADDR:PORT", "[v6]:PORT", ":PORT", "PORT", or "off" for http. */
static bool parse_listen(struct xg_listen *l, const char *v, xg_err *err)
{
    if (strcmp(v, "off") == 0 || strcmp(v, "none") == 0) {
        l->set = false;
        return true;
    }
    const char *colon = strrchr(v, ':');
    const char *port = colon ? colon + 1 : v;
    size_t alen = colon ? (size_t)(colon - v) : 0;
    const char *addr = v;
    if (alen >= 2 && v[0] == '[' && v[alen - 1] == ']') {
        addr++;
        alen -= 2;
    }
    char *end;
    errno = 0;
    unsigned long p = strtoul(port, &end, 10);
    if (errno || *end || end == port || p > 65535 || alen >= sizeof(l->addr))
        return xg_err_internal(err, "bad listen address '%s' (ADDR:PORT)", v);
    if (alen == 0)
        snprintf(l->addr, sizeof(l->addr), "0.0.0.0");
    else
        snprintf(l->addr, sizeof(l->addr), "%.*s", (int)alen, addr);
    l->port = (uint16_t)p;
    l->set = true;
    return true;
}

static bool parse_u32(uint32_t *out, const char *key, const char *v, xg_err *err)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || *end || end == v || n > UINT32_MAX || v[0] == '-')
        return xg_err_internal(err, "bad number for %s: '%s'", key, v);
    *out = (uint32_t)n;
    return true;
}

static bool copy(char *dst, size_t n, const char *key, const char *v, xg_err *err)
{
    if (strlen(v) >= n)
        return xg_err_internal(err, "value of %s too long", key);
    memcpy(dst, v, strlen(v) + 1);
    return true;
}

bool xg_config_set(const char *key, const char *v, xg_err *err)
{
    struct { const char *name; uint32_t *p; } nums[] = {
        { "sim-vms", &xg_cfg.sim_vms },
        { "sim-delay-ms", &xg_cfg.sim_delay_ms },
        { "io-threads", &xg_cfg.io_threads },
        { "max-body-bytes", &xg_cfg.max_body_bytes },
        { "max-header-bytes", &xg_cfg.max_header_bytes },
        { "max-connections", &xg_cfg.max_connections },
        { "header-read-timeout-ms", &xg_cfg.header_read_timeout_ms },
        { "header-total-timeout-ms", &xg_cfg.header_total_timeout_ms },
        { "idle-timeout-ms", &xg_cfg.idle_timeout_ms },
        { "session-idle-secs", &xg_cfg.session_idle_secs },
        { "max-sessions-per-user", &xg_cfg.max_sessions_per_user },
        { "event-batch-ms", &xg_cfg.event_batch_ms },
    };
    for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
        if (strcmp(key, nums[i].name) == 0)
            return parse_u32(nums[i].p, key, v, err);
    if (strcmp(key, "https") == 0)
        return parse_listen(&xg_cfg.https, v, err);
    if (strcmp(key, "http") == 0)
        return parse_listen(&xg_cfg.http, v, err);
    if (strcmp(key, "state-dir") == 0)
        return copy(xg_cfg.state_dir, sizeof(xg_cfg.state_dir), key, v, err);
    if (strcmp(key, "cert") == 0)
        return copy(xg_cfg.cert_path, sizeof(xg_cfg.cert_path), key, v, err);
    if (strcmp(key, "key") == 0)
        return copy(xg_cfg.key_path, sizeof(xg_cfg.key_path), key, v, err);
    if (strcmp(key, "driver") == 0) {
        if (strcmp(v, "auto") && strcmp(v, "sim") && strcmp(v, "libxl"))
            return xg_err_internal(err, "--driver must be auto, sim or libxl");
        return copy(xg_cfg.driver, sizeof(xg_cfg.driver), key, v, err);
    }
    if (strcmp(key, "auth") == 0) {
        if (strcmp(v, "file") && strcmp(v, "pam"))
            return xg_err_internal(err, "--auth must be file or pam");
        return copy(xg_cfg.auth, sizeof(xg_cfg.auth), key, v, err);
    }
    if (strcmp(key, "log-level") == 0) {
        enum xg_log_level l;
        if (!xg_log_parse_level(v, &l))
            return xg_err_internal(err, "--log-level must be error, warn, info or debug");
        return copy(xg_cfg.log_level, sizeof(xg_cfg.log_level), key, v, err);
    }
    return xg_err_internal(err, "unknown setting '%s'", key);
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' ||
                 s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

bool xg_config_load_file(const char *path, xg_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return xg_err_internal(err, "cannot open config %s: %s", path, strerror(errno));
    char line[1024];
    unsigned lineno = 0;
    bool ok = true;
    while (ok && fgets(line, sizeof(line), f)) {
        lineno++;
        /* A longer line would be read as two: the tail of a comment or of a
         * value must not become a setting of its own. */
        if (!strchr(line, '\n') && !feof(f)) {
            ok = xg_err_internal(err, "%s:%u: line longer than %zu bytes", path, lineno,
                                 sizeof(line) - 2);
            break;
        }
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *s = trim(line);
        if (!*s)
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            ok = xg_err_internal(err, "%s:%u: expected key = value", path, lineno);
            break;
        }
        *eq = '\0';
        char *k = trim(s), *v = trim(eq + 1);
        if (k[0] == '-' && k[1] == '-')
            k += 2;
        xg_err e = XG_ERR_INIT;
        if (!xg_config_set(k, v, &e))
            ok = xg_err_internal(err, "%s:%u: %s", path, lineno, e.param[0]);
    }
    fclose(f);
    return ok;
}
