/* xg_err.c: setting and clearing errors; never allocates. */
#include "xg_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void copy_param(char *dst, const char *src)
{
    if (!src)
        src = "";
    size_t n = strlen(src);
    if (n >= XG_ERR_PARAM_LEN)
        n = XG_ERR_PARAM_LEN - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

bool xg_err_setv(xg_err *err, const char *code, int nparams, const char *const *params)
{
    if (err->code)
        return false;                       /* the first error wins */
    err->code = code;
    if (nparams > XG_ERR_MAX_PARAMS)
        nparams = XG_ERR_MAX_PARAMS;
    err->nparams = (uint8_t)nparams;
    for (int i = 0; i < nparams; i++)
        copy_param(err->param[i], params[i]);
    return false;
}

bool xg_err_set(xg_err *err, const char *code, int nparams, ...)
{
    const char *p[XG_ERR_MAX_PARAMS];
    va_list ap;
    va_start(ap, nparams);
    if (nparams > XG_ERR_MAX_PARAMS)
        nparams = XG_ERR_MAX_PARAMS;
    for (int i = 0; i < nparams; i++)
        p[i] = va_arg(ap, const char *);
    va_end(ap);
    return xg_err_setv(err, code, nparams, p);
}

bool xg_err_internal(xg_err *err, const char *fmt, ...)
{
    if (err->code)
        return false;
    err->code = "INTERNAL_ERROR";
    err->nparams = 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->param[0], XG_ERR_PARAM_LEN, fmt, ap);
    va_end(ap);
    return false;
}

void xg_err_clear(xg_err *err)
{
    err->code = NULL;
    err->nparams = 0;
}
