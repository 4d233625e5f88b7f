/* log.c: one-line log records to stderr. Each record is formatted into a
 * stack buffer and written with one write(2), so lines from different
 * threads never interleave; never allocates, never blocks on a lock.
 * When stderr is journald's stream (systemd sets JOURNAL_STREAM to its
 * device:inode), a record starts with its syslog priority ("<3>") instead of
 * a timestamp: journald stores the priority and adds its own time. */
#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/stat.h>
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

/* syslog priorities of error, warn, info, debug */
static const char *const journal_prio[] = { "<3>", "<4>", "<6>", "<7>" };

/* 0 unknown, 1 journald, 2 anything else; decided on the first record */
static atomic_int stderr_kind;

static bool stderr_is_journal(void)
{
    int k = atomic_load(&stderr_kind);
    if (k == 0) {
        k = 2;
        const char *js = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;
        if (js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 &&
            fstat(STDERR_FILENO, &st) == 0 && (unsigned long long)st.st_dev == dev &&
            (unsigned long long)st.st_ino == ino)
            k = 1;
        atomic_store(&stderr_kind, k);
    }
    return k == 1;
}

void xg_log(enum xg_log_level lvl, const char *area, const char *fmt, ...)
{
    if (lvl > xg_log_threshold)
        return;
    char buf[1024];
    int n;
    if (stderr_is_journal()) {
        n = snprintf(buf, sizeof(buf), "%s%s: ", journal_prio[lvl], area);
    } else {
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        n = snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s: ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, names[lvl], area);
    }
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
