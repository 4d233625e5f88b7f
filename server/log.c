/* log.c: one-line log records to stderr. Each record is formatted into a
 * stack buffer and written with one write(2), so lines from different
 * threads never interleave; never allocates, never blocks on a lock. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

enum xg_log_level xg_log_threshold = XG_LOG_INFO;

static const char *const names[] = { "error", "warn", "info", "debug" };

bool xg_log_parse_level(const char *s, enum xg_log_level *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(s, names[i]) == 0) {
            *out = (enum xg_log_level)i;
            return true;
        }
    }
    if (strcasecmp(s, "warning") == 0) {
        *out = XG_LOG_WARN;
        return true;
    }
    return false;
}

void xg_log(enum xg_log_level lvl, const char *area, const char *fmt, ...)
{
    if (lvl > xg_log_threshold)
        return;
    char buf[1024];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s: ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, names[lvl], area);
    if (n < 0 || (size_t)n >= sizeof(buf))
        n = 0;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    size_t len = (size_t)n + (size_t)m;
    if (len > sizeof(buf) - 2)
        len = sizeof(buf) - 2;
    /* control bytes from hostile input must not forge log lines */
    for (size_t i = (size_t)n; i < len; i++)
        if ((unsigned char)buf[i] < 0x20)
            buf[i] = ' ';
    buf[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, buf, len);
    (void)w;
}
