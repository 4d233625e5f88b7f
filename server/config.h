/* config.h: the gateway's configuration, from defaults, --config FILE and the
 * command line (config.c). Read-only after start-up. */
#ifndef XG_CONFIG_H
#define XG_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

struct xg_listen { char addr[64]; uint16_t port; bool set; };

struct xg_config {
    struct xg_listen https;          /* default 0.0.0.0:443 */
    struct xg_listen http;           /* plain, off unless given */
    char state_dir[512];             /* database, users, certificate, RRDs */
    char local_sr_dir[400];          /* first start's local SR; "" = state_dir/sr */
    char driver[16];                 /* auto | sim | libxl */
    uint32_t sim_vms;
    uint32_t sim_delay_ms;           /* sim: duration of long operations */
    char cert_path[512], key_path[512];   /* empty: self-signed in state_dir */
    char auth[8];                    /* file | pam */
    char log_level[8];
    uint32_t io_threads;             /* 0 = one per core */
    /* limits (defaults from limits.h) */
    uint32_t max_body_bytes, max_header_bytes, max_connections;
    uint32_t header_read_timeout_ms, header_total_timeout_ms, idle_timeout_ms;
    uint32_t session_idle_secs, max_sessions_per_user;
    uint32_t event_batch_ms;         /* delay before event.from answers (0) */
    char www_dir[512];               /* static web root at "/" ("off": none) */
    char local_socket[108];          /* Unix socket path, "auto" or "off" */
    char product_brand[64];          /* host identity (handlers/identity.c) */
    char product_version[32];
    char build_number[64];
    char plugin_dir[512];            /* host.call_plugin executables */
    uint32_t plugin_timeout_s;
    char varstore_dir[512];          /* guest Secure Boot certificates (.auth) */
    char host_power[8];              /* host.reboot/shutdown on libxl: off | on */
};

extern struct xg_config xg_cfg;      /* the process's configuration */

/* config.c (added by the transport owner) ------------------------------ */
#include <stdio.h>

#include "xg_err.h"
/* Fills xg_cfg with the defaults (limits.h). */
void xg_config_defaults(void);
/* One setting by its command-line name without "--" ("https", "state-dir",
 * "sim-vms", "max-connections", …); the config file uses the same names. */
bool xg_config_set(const char *key, const char *value, xg_err *err);
/* "key = value" lines; '#' starts a comment. */
bool xg_config_load_file(const char *path, xg_err *err);
/* The same on another configuration (SIGHUP reload parses into a scratch copy
 * so the live one never changes under other threads). */
void xg_config_defaults_in(struct xg_config *cfg);
bool xg_config_set_in(struct xg_config *cfg, const char *key, const char *value, xg_err *err);
bool xg_config_load_file_in(struct xg_config *cfg, const char *path, xg_err *err);
/* "  --name ARG   help [default: current value]" for every setting (--help). */
void xg_config_print_options(FILE *out);
/* The whole settings table as a commented config file with the current
 * values (--dump-config: the packaged /etc/xapi-gateway/xapi-gateway.conf). */
void xg_config_dump(FILE *out);

#endif
