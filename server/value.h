/* value.h: the read-only view of decoded request parameters.
 *
 * Both request parsers (xmlrpc_in.c over xml_scan.c, jsonrpc_in.c over yajl)
 * produce this one shape, allocated in the call's arena; the generated
 * marshallers and the generic decoder (decode.c) read only this view.
 * Strings are NUL-terminated copies with their byte length in n; they are not
 * yet validated as UTF-8 (decode.c does that and raises INVALID_VALUE). */
#ifndef XG_VALUE_H
#define XG_VALUE_H

#include <stdbool.h>
#include <stdint.h>

enum xg_vtype {
    XG_V_NIL,       /* <nil/>, JSON null */
    XG_V_STRING,    /* <string>, untyped <value>, JSON string */
    XG_V_INT,       /* <i4>/<int>/<i8>, JSON integer within int64 */
    XG_V_DOUBLE,    /* <double>, JSON number with fraction/exponent or out of int64 */
    XG_V_BOOL,      /* <boolean> (only "1" is true), JSON true/false */
    XG_V_DATETIME,  /* <dateTime.iso8601>: text kept in u.s, parsed by decode.c */
    XG_V_BASE64,    /* <base64>: decoded bytes in u.s */
    XG_V_ARRAY,
    XG_V_STRUCT,
};

struct xg_member;

typedef struct xg_value {
    enum xg_vtype t;
    uint32_t n;     /* STRING/DATETIME/BASE64: bytes; ARRAY: items; STRUCT: members */
    union {
        const char *s;
        int64_t i;
        double d;
        bool b;
        const struct xg_value *items;
        const struct xg_member *members;
    } u;
} xg_value;

typedef struct xg_member {
    const char *name;   /* NUL-terminated */
    uint32_t name_len;
    xg_value v;
} xg_member;

/* Lookup of a struct member by name; NULL when absent. Linear: structs that
 * reach handlers are small (records, maps) and bounded by limits.h. */
const xg_value *xg_value_member(const xg_value *st, const char *name);
const char *xg_vtype_name(enum xg_vtype t);   /* "string", "int", … for errors */

#endif
