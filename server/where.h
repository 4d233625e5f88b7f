/* where.h: XAPI's get_all_records_where expression language (Db_filter),
 * compiled once per call into the call arena and evaluated per object.
 *
 *   expr := expr 'or' expr | expr 'and' expr | 'not' expr | '(' expr ')'
 *         | 'true' | 'false' | operand '=' operand | operand '<>' operand
 *   operand := 'field' "name" | "literal" | name
 * A field name may use XAPI's DB spelling (name__label) or the wire one
 * (name_label); "field/key" reads one key of a map field. Values compare as
 * the text the database would hold (ints in decimal, bools true/false,
 * enums by name). A malformed expression or unknown field is
 * INTERNAL_ERROR ["Invalid where-expression: <why> at offset <n>"].
 * Private to server/. */
#ifndef XG_WHERE_H
#define XG_WHERE_H

#include <stdbool.h>

#include "arena.h"
#include "desc.h"
#include "xg_err.h"

typedef struct xg_where xg_where;

xg_where *xg_where_compile(xg_arena *a, const xg_class_desc *cls, const char *text,
                           xg_err *err);
bool xg_where_match(const xg_where *w, const void *obj);

#endif
