/* decode.c: wire values (value.h) → C storage (desc.h) with XAPI's input
 * rules (spec/xapi-wire.md §2.2, §2.3). Everything lands in an arena; the
 * input is hostile, so every string is UTF-8 checked and every failure is
 * an XAPI-shaped error, never a crash. Nesting is bounded by the IDL type,
 * not by the input. */
#include "marshal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocaml_num.h"
#include "store.h"
#include "utf8.h"

/* rpclib's Rpc.to_string, bounded: the text XAPI puts in its Failure. */
static void rpc_text(const xg_value *v, char *buf, size_t len, int depth)
{
    size_t used = strlen(buf);
    if (used + 1 >= len)
        return;
    char *p = buf + used;
    size_t room = len - used;
    switch (v->t) {
    case XG_V_NIL: snprintf(p, room, "N"); break;
    case XG_V_STRING: snprintf(p, room, "S(%.*s)", (int)v->n, v->u.s); break;
    case XG_V_INT: snprintf(p, room, "I(%" PRId64 ")", v->u.i); break;
    case XG_V_DOUBLE: snprintf(p, room, "F(%g)", v->u.d); break;
    case XG_V_BOOL: snprintf(p, room, "B(%s)", v->u.b ? "true" : "false"); break;
    case XG_V_DATETIME: snprintf(p, room, "D(%.*s)", (int)v->n, v->u.s); break;
    case XG_V_BASE64: snprintf(p, room, "B64(%.*s)", (int)v->n, v->u.s); break;
    case XG_V_ARRAY:
    case XG_V_STRUCT: {
        bool arr = v->t == XG_V_ARRAY;
        snprintf(p, room, arr ? "[" : "{");
        for (uint32_t i = 0; i < v->n && depth < 8 && strlen(buf) + 8 < len; i++) {
            if (i)
                strncat(buf, ";", len - strlen(buf) - 1);
            if (!arr) {
                strncat(buf, v->u.members[i].name, len - strlen(buf) - 1);
                strncat(buf, ":", len - strlen(buf) - 1);
            }
            rpc_text(arr ? &v->u.items[i] : &v->u.members[i].v, buf, len, depth + 1);
        }
        strncat(buf, arr ? "]" : "}", len - strlen(buf) - 1);
        break;
    }
    }
}

static bool type_error(xg_err *err, const char *expected, const xg_value *v)
{
    char got[160] = "";
    rpc_text(v, got, sizeof(got), 0);
    return xg_err_internal(err, "Failure(\"Expected %s, got '%s'\")", expected, got);
}

static bool valid_utf8(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        if (*p == 0)
            return false;          /* C storage cannot carry NUL */
        if (*p < 0x80) {
            p++;
            continue;
        }
        size_t k = xg_utf8_seq(p, (size_t)(end - p));
        if (!k)
            return false;
        p += k;
    }
    return true;
}

static bool utf8_error(xg_err *err, const char *s, size_t n)
{
    char buf[XG_ERR_PARAM_LEN];
    snprintf(buf, sizeof(buf), "%.*s", (int)(n < sizeof(buf) ? n : sizeof(buf) - 1), s);
    return xg_err_set(err, "INVALID_VALUE", 2, "Invalid UTF-8 string in parameter", buf);
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

bool xg_parse_datetime(const char *s, size_t n, int64_t *secs_out)
{
    int Y, M, D, h, mi, se;
    size_t i = 0;
    if (n < 15 || n > 40 || !digits(s, 4, &Y))
        return false;
    i = 4;
    bool dashes = s[i] == '-';
    if (dashes)
        i++;
    if (!digits(s + i, 2, &M))
        return false;
    i += 2;
    if (dashes && s[i++] != '-')
        return false;
    if (!digits(s + i, 2, &D))
        return false;
    i += 2;
    if (i >= n || (s[i] != 'T' && s[i] != 't' && s[i] != ' '))
        return false;
    i++;
    if (i + 8 > n || !digits(s + i, 2, &h) || s[i + 2] != ':' ||
        !digits(s + i + 3, 2, &mi) || s[i + 5] != ':' || !digits(s + i + 6, 2, &se))
        return false;
    i += 8;
    if (i < n && s[i] == '.') {                   /* fraction: ignored */
        i++;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    int64_t off = 0;
    if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < n && (s[i] == '+' || s[i] == '-')) {
        int oh, om;
        int sign = s[i] == '-' ? -1 : 1;
        i++;
        if (i + 2 > n || !digits(s + i, 2, &oh))
            return false;
        i += 2;
        if (i < n && s[i] == ':')
            i++;
        if (i + 2 > n || !digits(s + i, 2, &om))
            return false;
        i += 2;
        off = sign * (oh * 3600 + om * 60);
    }
    if (i != n || M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || mi > 59 || se > 60)
        return false;
    int64_t secs = days_from_civil(Y, (unsigned)M, (unsigned)D) * 86400 + h * 3600 + mi * 60 +
                   se - off;
    /* a leap second or an offset can carry a date past year 9999 or before
     * year 0, which no four-digit year writes back (fuzz_decode: 99991231T23:59:60Z
     * was written as 100000101T00:00:00Z): refused like any other bad date */
    if (secs < days_from_civil(0, 1, 1) * 86400 ||
        secs > days_from_civil(9999, 12, 31) * 86400 + 86399)
        return false;
    *secs_out = secs;
    return true;
}

static bool decode_scalar_text(xg_arena *a, const xg_type *t, const xg_value *v,
                               const char *s, size_t n, void *out, xg_err *err);

static bool decode_record(xg_arena *a, const xg_class_desc *cls, const xg_value *v,
                          void *out, xg_err *err);

bool xg_decode_in(xg_arena *a, const xg_type *t, const xg_value *v, void *out, xg_err *err)
{
    switch (t->kind) {
    case XG_K_STRING: case XG_K_REF: case XG_K_ENUM:
        if (v->t != XG_V_STRING)
            return type_error(err, t->kind == XG_K_STRING ? "string" :
                              t->kind == XG_K_REF ? "string (ref)" : "string (enum)", v);
        return decode_scalar_text(a, t, v, v->u.s, v->n, out, err);
    case XG_K_INT:
        if (v->t == XG_V_INT) {
            *(int64_t *)out = v->u.i;
            return true;
        }
        if (v->t != XG_V_STRING)
            return type_error(err, "int64", v);
        return decode_scalar_text(a, t, v, v->u.s, v->n, out, err);
    case XG_K_FLOAT:
        if (v->t == XG_V_DOUBLE) {
            *(double *)out = v->u.d;
            return true;
        }
        if (v->t == XG_V_INT) {
            *(double *)out = (double)v->u.i;
            return true;
        }
        if (v->t != XG_V_STRING)
            return type_error(err, "float", v);
        return decode_scalar_text(a, t, v, v->u.s, v->n, out, err);
    case XG_K_BOOL:
        if (v->t != XG_V_BOOL)
            return type_error(err, "bool", v);
        *(bool *)out = v->u.b;
        return true;
    case XG_K_DATETIME:
        if (v->t != XG_V_DATETIME && v->t != XG_V_STRING)
            return type_error(err, "DateTime", v);
        return decode_scalar_text(a, t, v, v->u.s, v->n, out, err);
    case XG_K_SET: {
        if (v->t != XG_V_ARRAY)
            return type_error(err, "array", v);
        xg_set *s = out;
        size_t es = xg_type_storage_size(t->elem);
        s->n = s->cap = v->n;
        s->items = v->n ? xg_arena_alloc(a, es * v->n) : NULL;
        if (v->n && !s->items)
            return xg_err_internal(err, "request too large");
        for (uint32_t i = 0; i < v->n; i++)
            if (!xg_decode_in(a, t->elem, &v->u.items[i], (char *)s->items + i * es, err))
                return false;
        return true;
    }
    case XG_K_MAP: {
        if (v->t != XG_V_STRUCT)
            return type_error(err, "struct", v);
        xg_map *m = out;
        size_t ks = xg_type_storage_size(t->key), vs = xg_type_storage_size(t->elem);
        m->n = m->cap = v->n;
        m->keys = v->n ? xg_arena_alloc(a, ks * v->n) : NULL;
        m->vals = v->n ? xg_arena_alloc(a, vs * v->n) : NULL;
        if (v->n && (!m->keys || !m->vals))
            return xg_err_internal(err, "request too large");
        for (uint32_t i = 0; i < v->n; i++) {
            const xg_member *mem = &v->u.members[i];
            if (!decode_scalar_text(a, t->key, NULL, mem->name, mem->name_len,
                                    (char *)m->keys + i * ks, err) ||
                !xg_decode_in(a, t->elem, &mem->v, (char *)m->vals + i * vs, err))
                return false;
        }
        return true;
    }
    case XG_K_RECORD:
        if (v->t != XG_V_STRUCT)
            return type_error(err, "struct", v);
        if (!t->cls)
            return xg_err_internal(err, "record of unserved class %s", t->class_name);
        return decode_record(a, t->cls, v, out, err);
    case XG_K_VOID:
        break;
    }
    return xg_err_internal(err, "cannot decode type %s", t->spelling);
}

/* Text → storage for string-like kinds (also map keys, which are struct
 * member names on the wire). v is NULL for map keys. */
static bool decode_scalar_text(xg_arena *a, const xg_type *t, const xg_value *v,
                               const char *s, size_t n, void *out, xg_err *err)
{
    if (!valid_utf8(s, n))
        return utf8_error(err, s, n);
    switch (t->kind) {
    case XG_K_STRING: {
        char *p = xg_arena_strndup(a, s, n);
        if (!p)
            return xg_err_internal(err, "request too large");
        *(char **)out = p;
        return true;
    }
    case XG_K_REF: {
        xg_ref *r = out;
        if (n >= XG_REF_LEN) {
            char buf[XG_ERR_PARAM_LEN];
            snprintf(buf, sizeof(buf), "%.*s", (int)(n < 200 ? n : 200), s);
            return xg_err_set(err, "HANDLE_INVALID", 2, t->class_name, buf);
        }
        memcpy(r->s, s, n);
        r->s[n] = '\0';
        return true;
    }
    case XG_K_ENUM: {
        int e = xg_enum_from_str(t->enm, s);
        if (e < 0) {
            char buf[XG_ERR_PARAM_LEN];
            snprintf(buf, sizeof(buf), "%.*s", (int)(n < 200 ? n : 200), s);
            return xg_err_set(err, "INVALID_VALUE", 2, t->enm->name, buf);
        }
        *(int *)out = e;
        return true;
    }
    case XG_K_INT:
        if (!xg_ocaml_int64_of_string(s, n, out))
            return xg_err_internal(err, "Failure(\"Int64.of_string\")");
        return true;
    case XG_K_FLOAT:
        if (!xg_ocaml_float_of_string(s, n, out))
            return xg_err_internal(err, "Failure(\"float_of_string\")");
        return true;
    case XG_K_BOOL:
        if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0) {
            *(bool *)out = s[0] == 't';
            return true;
        }
        return xg_err_internal(err, "Failure(\"bool_of_string\")");
    case XG_K_DATETIME:
        if (!xg_parse_datetime(s, n, out)) {
            char buf[XG_ERR_PARAM_LEN];
            snprintf(buf, sizeof(buf), "%.*s", (int)(n < 200 ? n : 200), s);
            return xg_err_internal(err, "Failure(\"Date.of_iso8601: %s\")", buf);
        }
        return true;
    default:
        break;
    }
    (void)v;
    return xg_err_internal(err, "map key of type %s", t->spelling);
}

/* A create struct: every RW and RO/constructor field must be present
 * unless it has a default (XAPI's Dispatcher_FieldNotFound otherwise);
 * runtime fields take their defaults; unknown keys are ignored. */
static bool decode_record(xg_arena *a, const xg_class_desc *cls, const xg_value *v,
                          void *out, xg_err *err)
{
    xg_obj *o = xg_arena_alloc(a, cls->size);
    if (!o)
        return xg_err_internal(err, "request too large");
    o->cls = cls;
    for (uint32_t i = 0; i < cls->nfields; i++) {
        const xg_field_desc *f = &cls->fields[i];
        void *p = (char *)o + f->offset;
        const xg_value *mv = NULL;
        bool ctor = f->qual != XG_Q_RO_RUNTIME && !(f->flags & (XG_F_INTERNAL | XG_F_MAINTAINED));
        if (ctor)
            mv = xg_value_member(v, f->name);
        if (mv) {
            if (!xg_decode_in(a, f->type, mv, p, err))
                return false;
        } else if (f->flags & XG_F_HAS_DEFAULT) {
            /* a shallow copy: decoded records are read-only and never
             * freed, like the "" below */
            memcpy(p, f->default_storage, xg_type_storage_size(f->type));
        } else if (ctor) {
            return xg_err_internal(err, "Server_helpers.Dispatcher_FieldNotFound(\"%s\")",
                                   f->name);
        } else if (f->type->kind == XG_K_STRING) {
            *(const char **)p = "";
        } else if (f->type->kind == XG_K_REF) {
            memcpy(((xg_ref *)p)->s, XG_REF_NULL, sizeof(XG_REF_NULL));
        }
    }
    *(void **)out = o;
    return true;
}

bool xg_decode(xg_call *c, const xg_type *t, const xg_value *v, void *out, xg_err *err)
{
    return xg_decode_in(c->arena, t, v, out, err);
}

bool xg_decode_obj(xg_call *c, const xg_class_desc *cls, const xg_value *v,
                   bool nullable, void **obj_out, xg_err *err)
{
    if (v->t != XG_V_STRING)
        return type_error(err, "string (ref)", v);
    if (!valid_utf8(v->u.s, v->n))
        return utf8_error(err, v->u.s, v->n);
    if (nullable && (v->n == 0 || strcmp(v->u.s, XG_REF_NULL) == 0)) {
        *obj_out = NULL;
        return true;
    }
    void *o = xg_store_get(cls, v->u.s);
    if (!o) {
        char buf[XG_ERR_PARAM_LEN];
        snprintf(buf, sizeof(buf), "%.*s", (int)(v->n < 200 ? v->n : 200), v->u.s);
        return xg_err_set(err, "HANDLE_INVALID", 2, cls->name, buf);
    }
    (void)c;
    *obj_out = o;
    return true;
}
