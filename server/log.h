/* log.h: one-line log records to stderr: "<iso time> <level> <area>: msg".
 * Secrets (passwords, session refs) are never logged. */
#ifndef XG_LOG_H
#define XG_LOG_H

#include <stdbool.h>

enum xg_log_level { XG_LOG_ERROR, XG_LOG_WARN, XG_LOG_INFO, XG_LOG_DEBUG };

extern enum xg_log_level xg_log_threshold;
bool xg_log_parse_level(const char *s, enum xg_log_level *out);
void xg_log(enum xg_log_level lvl, const char *area, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define XG_ERROR(area, ...) xg_log(XG_LOG_ERROR, area, __VA_ARGS__)
#define XG_WARN(area, ...)  xg_log(XG_LOG_WARN, area, __VA_ARGS__)
#define XG_INFO(area, ...)  xg_log(XG_LOG_INFO, area, __VA_ARGS__)
#define XG_DEBUG(area, ...) do { if (xg_log_threshold >= XG_LOG_DEBUG) \
    xg_log(XG_LOG_DEBUG, area, __VA_ARGS__); } while (0)

#endif
