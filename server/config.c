/* config.c: defaults, the "key = value" config file and single settings by
 * their command-line names. Runs once at start-up, before any thread (and
 * again on SIGHUP into a scratch copy, see main.c).
 *
 * Every setting is one row of xg_settings[]: its name, kind, destination and
 * one line of help. --help, --dump-config (the packaged, commented config
 * file) and the man page are all printed from this table, so a new setting
 * is documented everywhere by adding its row. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "limits.h"
#include "log.h"

#ifndef XG_WWW_DEFAULT_DIR   /* set by CMake from the install prefix */
#define XG_WWW_DEFAULT_DIR "/usr/share/xapi-gateway/www"
#endif

struct xg_config xg_cfg;

enum setting_kind { SET_U32, SET_STR, SET_LISTEN };

struct xg_setting {
    const char *name;      /* command-line name without "--"; config file key */
    enum setting_kind kind;
    size_t offset;         /* into struct xg_config */
    size_t size;           /* SET_STR: buffer size */
    const char *choices;   /* SET_STR: "a|b|c" or NULL for free text */
    const char *arg;       /* placeholder in --help */
    const char *help;
};

#define U32(n, f, a, h)        { n, SET_U32, offsetof(struct xg_config, f), 0, NULL, a, h }
#define STR(n, f, c, a, h)     { n, SET_STR, offsetof(struct xg_config, f), \
                                 sizeof(((struct xg_config *)0)->f), c, a, h }
#define LISTEN(n, f, h)        { n, SET_LISTEN, offsetof(struct xg_config, f), 0, NULL, \
                                 "ADDR:PORT", h }

static const struct xg_setting settings[] = {
    LISTEN("https", https, "HTTPS listener (\"off\" to disable)"),
    LISTEN("http", http, "plain HTTP listener (off unless given; loopback use only)"),
    STR("state-dir", state_dir, NULL, "DIR",
        "database, users, certificate, RRDs and local storage"),
    STR("local-sr", local_sr_dir, NULL, "DIR",
        "directory of the local disk SR made on first start (default: STATE-DIR/sr)"),
    STR("driver", driver, "auto|sim|libxl", "NAME",
        "hypervisor driver: libxl on a Xen dom0, sim (simulated host) elsewhere"),
    U32("sim-vms", sim_vms, "N", "sim driver: number of simulated guests on first start"),
    U32("sim-delay-ms", sim_delay_ms, "MS", "sim driver: duration of long operations"),
    STR("cert", cert_path, NULL, "PEM",
        "TLS certificate (default: self-signed, made in the state dir)"),
    STR("key", key_path, NULL, "PEM", "TLS private key (default: the certificate file)"),
    STR("auth", auth, "file|pam", "MODE",
        "password check: the state dir's users file, or PAM service xapi-gateway"),
    STR("log-level", log_level, "error|warn|info|debug", "LEVEL", "log threshold"),
    U32("io-threads", io_threads, "N", "network threads (0: one per core)"),
    U32("max-body-bytes", max_body_bytes, "N", "largest request body accepted"),
    U32("max-header-bytes", max_header_bytes, "N", "largest request header block"),
    U32("max-connections", max_connections, "N", "open connections at once"),
    U32("header-read-timeout-ms", header_read_timeout_ms, "MS",
        "longest pause while a request header arrives"),
    U32("header-total-timeout-ms", header_total_timeout_ms, "MS",
        "longest time to receive a whole request header"),
    U32("idle-timeout-ms", idle_timeout_ms, "MS", "idle keep-alive connections close after"),
    U32("session-idle-secs", session_idle_secs, "S", "sessions unused this long expire"),
    U32("max-sessions-per-user", max_sessions_per_user, "N",
        "sessions per user; the least recently used is evicted beyond"),
    U32("event-batch-ms", event_batch_ms, "MS", "delay before event.from answers"),
    STR("local-socket", local_socket, NULL, "PATH",
        "Unix socket where local root logs in without a password, as on XAPI's "
        XG_XAPI_LOCAL_SOCKET "; \"auto\": that path on a Xen host, off elsewhere"),
    STR("www", www_dir, NULL, "DIR",
        "static web root served at / (XO Lite); \"off\": the API only"),
    STR("product-brand", product_brand, NULL, "NAME",
        "host software_version.product_brand (clients branch on XCP-ng)"),
    STR("product-version", product_version, NULL, "X.Y.Z", "host product_version"),
    STR("build-number", build_number, NULL, "TEXT", "host software_version.build_number"),
    STR("plugin-dir", plugin_dir, NULL, "DIR", "host.call_plugin: where plugins are installed"),
    U32("plugin-timeout-s", plugin_timeout_s, "S", "host.call_plugin: a plugin running longer is killed"),
    STR("varstore-dir", varstore_dir, NULL, "DIR",
        "guest Secure Boot certificates (PK/KEK/db/dbx.auth), as varstored keeps them"),
    STR("host-power", host_power, "off|on", "MODE",
        "host.reboot/host.shutdown reboot or power off this machine through systemd "
        "(libxl driver; the sim driver always simulates them)"),
};
#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

void xg_config_defaults(void)
{
    xg_config_defaults_in(&xg_cfg);
}

void xg_config_defaults_in(struct xg_config *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->https.addr, sizeof(c->https.addr), "0.0.0.0");
    c->https.port = 443;
    c->https.set = true;
    snprintf(c->state_dir, sizeof(c->state_dir), "/var/lib/xapi-gateway");
    snprintf(c->driver, sizeof(c->driver), "auto");
    c->sim_vms = 0;
    c->sim_delay_ms = 0;
    snprintf(c->auth, sizeof(c->auth), "file");
    snprintf(c->log_level, sizeof(c->log_level), "info");
    c->max_body_bytes = XG_MAX_BODY_BYTES;
    c->max_header_bytes = XG_MAX_HEADER_BYTES;
    c->max_connections = XG_MAX_CONNECTIONS;
    c->header_read_timeout_ms = XG_HEADER_READ_TIMEOUT_MS;
    c->header_total_timeout_ms = XG_HEADER_TOTAL_TIMEOUT_MS;
    c->idle_timeout_ms = XG_IDLE_KEEPALIVE_MS;
    c->session_idle_secs = XG_SESSION_IDLE_SECS;
    c->max_sessions_per_user = XG_MAX_SESSIONS_PER_USER;
    c->event_batch_ms = 0;
    snprintf(c->www_dir, sizeof(c->www_dir), "%s", XG_WWW_DEFAULT_DIR);
    snprintf(c->local_socket, sizeof(c->local_socket), "auto");
    snprintf(c->product_brand, sizeof(c->product_brand), "XCP-ng");
    snprintf(c->product_version, sizeof(c->product_version), "8.3.0");
    snprintf(c->build_number, sizeof(c->build_number), "8.3.0");
    snprintf(c->plugin_dir, sizeof(c->plugin_dir), "/etc/xapi.d/plugins");
    c->plugin_timeout_s = XG_PLUGIN_TIMEOUT_S;
    snprintf(c->varstore_dir, sizeof(c->varstore_dir), "/var/lib/varstored");
    snprintf(c->host_power, sizeof(c->host_power), "off");
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
    /* an IP literal, as the listener binds it (conn.c): anything else
     * would pass --check-config and fail at start */
    char a[sizeof(l->addr)];
    unsigned char bin[sizeof(struct in6_addr)];
    if (alen == 0)
        snprintf(a, sizeof(a), "0.0.0.0");
    else
        snprintf(a, sizeof(a), "%.*s", (int)alen, addr);
    if (inet_pton(AF_INET, a, bin) != 1 && inet_pton(AF_INET6, a, bin) != 1)
        return xg_err_internal(err, "bad listen address '%s' (ADDR:PORT)", v);
    memcpy(l->addr, a, sizeof(a));
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

/* v is one of the '|'-separated words of choices */
static bool is_choice(const char *choices, const char *v)
{
    size_t n = strlen(v);
    for (const char *c = choices; *c;) {
        const char *bar = strchr(c, '|');
        size_t len = bar ? (size_t)(bar - c) : strlen(c);
        if (len == n && strncmp(c, v, n) == 0)
            return true;
        if (!bar)
            break;
        c = bar + 1;
    }
    return false;
}

static bool set_str(const struct xg_setting *s, char *dst, const char *v, xg_err *err)
{
    if (s->choices && !is_choice(s->choices, v))
        return xg_err_internal(err, "--%s must be one of %s", s->name, s->choices);
    if (strlen(v) >= s->size)
        return xg_err_internal(err, "value of %s too long", s->name);
    memcpy(dst, v, strlen(v) + 1);
    return true;
}

bool xg_config_set(const char *key, const char *v, xg_err *err)
{
    return xg_config_set_in(&xg_cfg, key, v, err);
}

bool xg_config_set_in(struct xg_config *cfg, const char *key, const char *v, xg_err *err)
{
    for (size_t i = 0; i < NSETTINGS; i++) {
        const struct xg_setting *s = &settings[i];
        if (strcmp(key, s->name) != 0)
            continue;
        char *dst = (char *)cfg + s->offset;
        switch (s->kind) {
        case SET_U32: return parse_u32((uint32_t *)(void *)dst, key, v, err);
        case SET_LISTEN: return parse_listen((struct xg_listen *)(void *)dst, v, err);
        case SET_STR: return set_str(s, dst, v, err);
        }
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
    return xg_config_load_file_in(&xg_cfg, path, err);
}

bool xg_config_load_file_in(struct xg_config *cfg, const char *path, xg_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return xg_err_internal(err, "cannot open config %s: %s", path, strerror(errno));
    char line[1024];
    unsigned lineno = 0;
    bool ok = true;
    while (ok && fgets(line, sizeof(line), f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            ok = xg_err_internal(err, "%s:%u: line too long", path, lineno);
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
        if (!xg_config_set_in(cfg, k, v, &e))
            ok = xg_err_internal(err, "%s:%u: %s", path, lineno, e.param[0]);
    }
    fclose(f);
    return ok;
}

/* The current value of a setting as the config file would spell it. */
static void format_value(const struct xg_setting *s, char *buf, size_t n)
{
    const char *p = (const char *)&xg_cfg + s->offset;
    switch (s->kind) {
    case SET_U32:
        snprintf(buf, n, "%u", *(const uint32_t *)(const void *)p);
        break;
    case SET_STR:
        snprintf(buf, n, "%s", p);
        break;
    case SET_LISTEN: {
        const struct xg_listen *l = (const void *)p;
        if (!l->set)
            snprintf(buf, n, "off");
        else if (strchr(l->addr, ':'))
            snprintf(buf, n, "[%s]:%u", l->addr, l->port);
        else
            snprintf(buf, n, "%s:%u", l->addr, l->port);
        break;
    }
    }
}

void xg_config_print_options(FILE *out)
{
    for (size_t i = 0; i < NSETTINGS; i++) {
        const struct xg_setting *s = &settings[i];
        char opt[96], def[600];
        snprintf(opt, sizeof(opt), "--%s %s", s->name, s->arg);
        format_value(s, def, sizeof(def));
        fprintf(out, "  %-32s %s", opt, s->help);
        if (s->choices)
            fprintf(out, " (%s)", s->choices);
        fprintf(out, def[0] ? " [default: %s]\n" : "\n", def);
    }
}

void xg_config_dump(FILE *out)
{
    fprintf(out,
            "# xapi-gateway configuration: \"key = value\" lines, '#' starts a comment.\n"
            "# Every key is also a command-line option (--key value), which wins over\n"
            "# this file. The commented values are the defaults. After a change:\n"
            "# `xapi-gateway --config FILE --check-config`, then restart the service\n"
            "# (listeners, state dir and driver) or reload it (certificate, log level).\n");
    for (size_t i = 0; i < NSETTINGS; i++) {
        const struct xg_setting *s = &settings[i];
        char def[600];
        format_value(s, def, sizeof(def));
        fprintf(out, "\n# %s", s->help);
        if (s->choices)
            fprintf(out, " (%s)", s->choices);
        fprintf(out, "\n#%s = %s\n", s->name, def);
    }
}
