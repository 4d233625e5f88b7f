/* marshal.h: what generated marshallers, dispatch rows and handlers use to
 * turn wire values into C storage (decode.c), return results (call.c) and
 * serve implicit messages (implicit.c). server/ code only; includes no
 * generated header. All functions require the world lock. */
#ifndef XG_MARSHAL_H
#define XG_MARSHAL_H

#include <stdbool.h>

#include "call.h"
#include "desc.h"
#include "store.h"
#include "value.h"
#include "xg_err.h"

/* Decodes v as a value of type t into *out (C storage per desc.h), with
 * XAPI's input rules (spec/xapi-wire.md §2.2/§2.3): int64 from Int or
 * String, float from Double/Int/String, bool only from Bool, enums
 * case-insensitive, datetimes from DateTime or String. Strings are checked
 * as UTF-8 (INVALID_VALUE ["Invalid UTF-8 string in parameter", v]); a
 * wrong type is INTERNAL_ERROR [Failure("Expected <t>, got '<v>'")] like
 * XAPI. Everything decoded lives in c->arena. RECORD decodes a struct into
 * an arena record (mandatory keys: RW and RO/constructor fields without a
 * default → INTERNAL_ERROR [Server_helpers.Dispatcher_FieldNotFound("f")]);
 * *out is then the record pointer. */
bool xg_decode(xg_call *c, const xg_type *t, const xg_value *v, void *out,
               xg_err *err);
/* Same into a caller-chosen arena (store defaults, persistence reload). */
bool xg_decode_in(xg_arena *a, const xg_type *t, const xg_value *v, void *out,
                  xg_err *err);
/* A ref param of a served class, resolved: *obj_out = the live object, or
 * HANDLE_INVALID [class, ref]. With `nullable`, "OpaqueRef:NULL" and ""
 * give *obj_out = NULL (parameters whose IDL default is the null ref). */
bool xg_decode_obj(xg_call *c, const xg_class_desc *cls, const xg_value *v,
                   bool nullable, void **obj_out, xg_err *err);
/* Enum value by wire name, case-insensitive; -1 if unknown. */
int xg_enum_from_str(const xg_enum_desc *e, const char *s);
/* Datetime text (YYYYMMDDTHH:MM:SSZ, RFC 3339 with dashes, optional
 * fraction, Z/±hh:mm or no zone = UTC) → seconds; false if malformed. */
bool xg_parse_datetime(const char *s, size_t n, int64_t *secs_out);

/* The handler returned true: finish the call with *result (C storage of the
 * method's result type, NULL for void) unless it deferred, streams or has
 * already finished. */
void xg_call_return(xg_call *c, const void *result);

/* Implicit messages: rows of the generated dispatch table point here with
 * data = an xg_implicit naming the class (and field). */
typedef struct xg_implicit {
    const xg_class_desc *cls;
    const xg_field_desc *field;       /* NULL for class-level messages */
} xg_implicit;

bool xg_implicit_get_record(xg_call *c, const xg_value *p, const void *data, xg_err *err);
bool xg_implicit_get_by_uuid(xg_call *c, const xg_value *p, const void *data, xg_err *err);
bool xg_implicit_get_by_name_label(xg_call *c, const xg_value *p, const void *data, xg_err *err);
bool xg_implicit_get_all(xg_call *c, const xg_value *p, const void *data, xg_err *err);
bool xg_implicit_get_all_records(xg_call *c, const xg_value *p, const void *data, xg_err *err);
bool xg_implicit_get_all_where(xg_call *c, const xg_value *p, const void *data, xg_err *err);
bool xg_implicit_get_all_records_where(xg_call *c, const xg_value *p, const void *data, xg_err *err);
bool xg_implicit_get_field(xg_call *c, const xg_value *p, const void *data, xg_err *err);
bool xg_implicit_set_field(xg_call *c, const xg_value *p, const void *data, xg_err *err);
bool xg_implicit_map_add(xg_call *c, const xg_value *p, const void *data, xg_err *err);
bool xg_implicit_map_remove(xg_call *c, const xg_value *p, const void *data, xg_err *err);
bool xg_implicit_set_add(xg_call *c, const xg_value *p, const void *data, xg_err *err);
bool xg_implicit_set_remove(xg_call *c, const xg_value *p, const void *data, xg_err *err);

#endif
