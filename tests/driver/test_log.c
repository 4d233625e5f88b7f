/* test_log.c: minimal xg_log for test binaries when server/log.c is absent. */
#include "../../server/log.h"

#include <stdarg.h>
#include <stdio.h>

enum xg_log_level xg_log_threshold = XG_LOG_WARN;

bool xg_log_parse_level(const char *s, enum xg_log_level *out)
{
    (void)s;
    *out = XG_LOG_INFO;
    return true;
}

void xg_log(enum xg_log_level lvl, const char *area, const char *fmt, ...)
{
    if (lvl > xg_log_threshold)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", area);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}
