/* lx_ctx.c: an xentoollog logger that writes libxl's messages into our log
 * (libvirt's libxl_logger.c idea, minus the per-domain files). */
#include "lx_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../server/log.h"

struct lx_logger {
    xentoollog_logger vtable;       /* first: libxl sees a xentoollog_logger */
};

static void lx_vmessage(xentoollog_logger *lg, xentoollog_level level, int errnoval,
                        const char *context, const char *fmt, va_list al)
{
    enum xg_log_level l = level >= XTL_ERROR ? XG_LOG_ERROR
                        : level >= XTL_WARN ? XG_LOG_WARN
                        : level >= XTL_NOTICE ? XG_LOG_INFO : XG_LOG_DEBUG;
    if (l > xg_log_threshold)
        return;
    char msg[768];
    vsnprintf(msg, sizeof msg, fmt, al);
    if (errnoval >= 0)
        xg_log(l, "libxl", "%s%s%s: %s", context ? context : "", context ? ": " : "",
               msg, strerror(errnoval));
    else
        xg_log(l, "libxl", "%s%s%s", context ? context : "", context ? ": " : "", msg);
}

static void lx_progress(xentoollog_logger *lg, const char *context, const char *doing_what,
                        int percent, unsigned long done, unsigned long total)
{
    XG_DEBUG("libxl", "%s: %s %d%%", context ? context : "", doing_what ? doing_what : "",
             percent);
}

static void lx_destroy(xentoollog_logger *lg)
{
    free(lg);
}

xentoollog_logger *lx_logger_new(void)
{
    struct lx_logger *l = calloc(1, sizeof *l);
    if (!l)
        abort();
    l->vtable.vmessage = lx_vmessage;
    l->vtable.progress = lx_progress;
    l->vtable.destroy = lx_destroy;
    return &l->vtable;
}

void lx_logger_free(xentoollog_logger *lg)
{
    if (lg)
        xtl_logger_destroy(lg);
}
