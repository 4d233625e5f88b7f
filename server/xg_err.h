/* xg_err.h: the one error idiom of the code base (see docs/ARCHITECTURE.md §errors).
 *
 * Every fallible function returns bool (or a pointer, NULL = failure) and takes
 * `xg_err *err` last; err is never NULL. On failure exactly one error is set
 * (the first one wins, later xg_err_set calls are ignored); on success err is
 * left alone. Callers branch on the return value, never on err's contents.
 * Setting an error never allocates: params are truncated into fixed buffers.
 * XAPI errors are raised with the generated typed constructors
 * (xapi_err_<name>() in build/generated/xapi_errors.h), which call xg_err_set.
 * Internal faults become INTERNAL_ERROR [message]; details go to the log. */
#ifndef XG_ERR_H
#define XG_ERR_H

#include <stdbool.h>
#include <stdint.h>

#define XG_ERR_MAX_PARAMS 8
#define XG_ERR_PARAM_LEN 256

typedef struct xg_err {
    const char *code;                    /* wire code, static string; NULL = no error */
    uint8_t nparams;
    char param[XG_ERR_MAX_PARAMS][XG_ERR_PARAM_LEN];
} xg_err;

#define XG_ERR_INIT {0}

static inline bool xg_err_is_set(const xg_err *err) { return err->code != 0; }

/* Sets code and nparams string params (const char *). Returns false so that
 * `return xg_err_set(err, "X", 0);` reads naturally. No-op if already set. */
bool xg_err_set(xg_err *err, const char *code, int nparams, ...);
/* Same with an array of params. */
bool xg_err_setv(xg_err *err, const char *code, int nparams, const char *const *params);
/* INTERNAL_ERROR [printf-formatted message]. */
bool xg_err_internal(xg_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void xg_err_clear(xg_err *err);

#endif
