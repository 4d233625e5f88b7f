/* fmt.c: the two scalar formats XAPI spells in a particular way (datetime
 * and float), shared by both writers and by the metrics output. */
#include "writer.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

size_t xg_fmt_datetime(char buf[32], int64_t secs)
{
    struct tm tm;
    time_t t = (time_t)secs;
    if (!gmtime_r(&t, &tm)) {
        memcpy(buf, "19700101T00:00:00Z", 19);
        return 18;
    }
    int n = snprintf(buf, 32, "%04d%02d%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return n > 0 && n < 32 ? (size_t)n : 0;
}

size_t xg_fmt_double(char buf[40], double v)
{
    /* printf would say "-nan" for a negative NaN; OCaml says "nan" */
    if (isnan(v)) {
        memcpy(buf, "nan", 4);
        return 3;
    }
    if (isinf(v)) {
        const char *s = v > 0 ? "inf" : "-inf";
        size_t n = strlen(s);
        memcpy(buf, s, n + 1);
        return n;
    }
    int n = snprintf(buf, 40, "%.16g", v);
    return n > 0 && n < 40 ? (size_t)n : 0;
}
