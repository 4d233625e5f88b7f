#!/bin/sh
# One error idiom (server/xg_err.h): in handlers/, XAPI errors are raised
# only through the generated typed constructors (xapi_err_<name>, or the
# XAPI_ERR_<NAME> codes they define), never with a code spelled as a string,
# and no code branches on an error's code by comparing its text. Allowed:
# driver.h's xg_drv_err_no_memory (drivers build without generated code).
cd "$(dirname "$0")/.." || exit 2
raw=$(grep -rnE 'xg_err_setv?\([^;]*, *"[A-Za-z_]+"' --include='*.c' --include='*.h' handlers |
      grep -v '^handlers/driver/driver\.h:')
cmp=$(grep -rnE '(str(n|case)?cmp|memcmp)\([^;]*(\.|->)code\b[^;]*"' --include='*.c' --include='*.h' handlers)
if [ -n "$raw$cmp" ]; then
    [ -n "$raw" ] && printf 'error codes spelled as strings (use the xapi_err_* constructors):\n%s\n' "$raw"
    [ -n "$cmp" ] && printf 'branches on an error code'"'"'s text:\n%s\n' "$cmp"
    exit 1
fi
