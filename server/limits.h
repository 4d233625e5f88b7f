/* limits.h: every bound the gateway enforces, in one place.
 * Values follow XAPI where it has one (spec/perf-and-hardening.md §0);
 * the rest are ours. All are overridable from the config file / command line
 * through struct xg_limits (config.c); these are the defaults. */
#ifndef XG_LIMITS_H
#define XG_LIMITS_H

#define XG_MAX_BODY_BYTES          (300 * 1024)   /* XAPI http_limit_max_rpc_size */
#define XG_MAX_HEADER_BYTES        (8 * 1024)     /* whole header block */
#define XG_MAX_HEADER_COUNT        64
#define XG_HEADER_READ_TIMEOUT_MS  10000          /* per read, every request */
#define XG_HEADER_TOTAL_TIMEOUT_MS 60000
#define XG_BODY_TIMEOUT_MS         60000
#define XG_IDLE_KEEPALIVE_MS       65000          /* XO works with ~65 s */
#define XG_TLS_HANDSHAKE_TIMEOUT_MS 10000
#define XG_WRITE_TIMEOUT_MS        300000         /* slow reader of a big answer */
#define XG_MAX_CONNECTIONS         800            /* XAPI: 800 TCP; excess waits in backlog */
#define XG_LISTEN_BACKLOG          1024
#define XG_MAX_NESTING             64
#define XG_MAX_PARAMS              4096           /* positional params: more than any message takes, so dispatch answers MESSAGE_PARAMETER_COUNT_MISMATCH */
#define XG_MAX_MEMBERS             100000         /* total values in one request */
#define XG_MAX_STRING_BYTES        (300 * 1024)
#define XG_CALL_ARENA_BYTES        (16 * 1024 * 1024)
#define XG_OUT_CHUNK_BYTES         (64 * 1024)
#define XG_OUT_HIGH_WATER          (1024 * 1024)  /* producers pause above this */
#define XG_HTTP_WORKERS_MAX        64             /* HTTP route handlers running at once */
#define XG_XAPI_LOCAL_SOCKET       "/var/lib/xcp/xapi"   /* XAPI's local socket path */
#define XG_MAX_SESSIONS_PER_USER   500
#define XG_MAX_SESSIONS            50000
#define XG_SESSION_IDLE_SECS       (24 * 3600)
#define XG_MAX_TASKS_DONE          200            /* XAPI max_tasks */
#define XG_TASK_DONE_TTL_SECS      3900
#define XG_TASK_PENDING_TTL_SECS   (24 * 3600)
#define XG_EVENT_HISTORY_DELS      65536          /* deletions remembered for event.from */
#define XG_EVENT_QUEUE_BYTES       10000000       /* legacy event.next queue */
#define XG_GUEST_KEY_BYTES         1024           /* one xenstore value from a guest */
#define XG_GUEST_KEYS_MAX          256            /* keys per guest map */
#define XG_CONSOLE_MAX_VIEWERS     128            /* /console streams open at once, process-wide */
#define XG_CONSOLE_VIEWER_OUT_BYTES (256 * 1024)  /* queued for one viewer before its reads stop */
#define XG_CONSOLE_HANDSHAKE_MS    10000          /* request answered and RFB set up */
#define XG_CONSOLE_LINGER_MS       30000          /* a text screen outlives its last viewer */

/* static web root (www.c): largest file served, memory for cached bodies */
#define XG_WWW_MAX_FILE_BYTES      (16 * 1024 * 1024)
#define XG_WWW_CACHE_BYTES         ((size_t)64 * 1024 * 1024)

/* host plugins (handlers/plugins.c) */
#define XG_PLUGIN_MAX_RUNNING      4              /* plugin processes at once */
#define XG_PLUGIN_MAX_QUEUED       64             /* calls waiting for a slot */
#define XG_PLUGIN_OUTPUT_BYTES     (8 * 1024 * 1024)  /* stdout read; more kills it */
#define XG_PLUGIN_LOG_BYTES        (64 * 1024)    /* stderr kept */
#define XG_PLUGIN_ERROR_BYTES      (64 * 1024)    /* output quoted in an error */
#define XG_PLUGIN_ARG_BYTES        (120 * 1024)   /* the methodCall argument (< MAX_ARG_STRLEN) */
#define XG_PLUGIN_TIMEOUT_S        120            /* default of plugin-timeout-s */

#endif
