/* value.c: small read helpers over decoded request values (value.h). */
#include "value.h"

#include <string.h>

const xg_value *xg_value_member(const xg_value *st, const char *name)
{
    if (!st || st->t != XG_V_STRUCT)
        return NULL;
    for (uint32_t i = 0; i < st->n; i++)
        if (strcmp(st->u.members[i].name, name) == 0)
            return &st->u.members[i].v;
    return NULL;
}

const char *xg_vtype_name(enum xg_vtype t)
{
    switch (t) {
    case XG_V_NIL: return "nil";
    case XG_V_STRING: return "string";
    case XG_V_INT: return "int";
    case XG_V_DOUBLE: return "double";
    case XG_V_BOOL: return "boolean";
    case XG_V_DATETIME: return "dateTime.iso8601";
    case XG_V_BASE64: return "base64";
    case XG_V_ARRAY: return "array";
    case XG_V_STRUCT: return "struct";
    }
    return "?";
}
