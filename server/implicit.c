/* implicit.c: XAPI's implicit messages (spec §4.2) served generically from
 * the store by walking descriptors; the generated dispatch table points its
 * rows here with data = xg_implicit {class, field}. get_all_records streams
 * through a resumable cursor so 10,000 records never sit in one buffer. */
#include "marshal.h"

#include <stdio.h>
#include <string.h>

#include "where.h"

#define STREAM_BATCH 64     /* records per producer step */

static bool self_obj(xg_call *c, const xg_implicit *im, const xg_value *v, void **obj,
                     xg_err *err)
{
    return xg_decode_obj(c, im->cls, v, false, obj, err);
}

static void *fptr(void *obj, const xg_field_desc *f)
{
    return (char *)obj + f->offset;
}

bool xg_implicit_get_record(xg_call *c, const xg_value *p, const void *data, xg_err *err)
{
    void *obj;
    if (!self_obj(c, data, &p[0], &obj, err))
        return false;
    xg_call_return(c, &obj);
    return true;
}

bool xg_implicit_get_by_uuid(xg_call *c, const xg_value *p, const void *data, xg_err *err)
{
    const xg_implicit *im = data;
    char *uuid;
    if (!xg_decode(c, &(xg_type){.kind = XG_K_STRING, .spelling = "string"}, &p[0], &uuid,
                   err))
        return false;
    xg_obj *o = xg_store_get_by_uuid(im->cls, uuid);
    if (!o)
        return xg_err_set(err, "UUID_INVALID", 2, im->cls->name, uuid);
    xg_ref r = o->ref;
    xg_call_return(c, &r);
    return true;
}

struct collect { xg_set *set; uint32_t cap; };

static void collect_one(void *obj, void *arg)
{
    struct collect *cl = arg;
    if (cl->set->items && cl->set->n < cl->cap)
        ((xg_ref *)cl->set->items)[cl->set->n] = ((xg_obj *)obj)->ref;
    cl->set->n++;
}

bool xg_implicit_get_by_name_label(xg_call *c, const xg_value *p, const void *data,
                                   xg_err *err)
{
    const xg_implicit *im = data;
    char *label;
    if (!xg_decode(c, &(xg_type){.kind = XG_K_STRING, .spelling = "string"}, &p[0], &label,
                   err))
        return false;
    xg_set set = {0};
    struct collect cl = {&set, 0};
    xg_store_each_by_name(im->cls, label, collect_one, &cl);     /* count */
    if (set.n) {
        cl.cap = set.n;
        set.items = xg_arena_alloc(c->arena, sizeof(xg_ref) * set.n);
        if (!set.items)
            return xg_err_internal(err, "result too large");
        set.n = 0;
        xg_store_each_by_name(im->cls, label, collect_one, &cl);
    }
    xg_call_return(c, &set);
    return true;
}

/* Refs of every object (matching w) as an arena set. */
static bool all_refs(xg_call *c, const xg_class_desc *cls, const xg_where *w, xg_set *set,
                     xg_err *err)
{
    uint32_t n = xg_store_count(cls);
    memset(set, 0, sizeof(*set));
    if (!n)
        return true;
    set->items = xg_arena_alloc(c->arena, sizeof(xg_ref) * n);
    if (!set->items)
        return xg_err_internal(err, "result too large");
    uint64_t cur = 0;
    xg_obj *o;
    while ((o = xg_store_next(cls, &cur)) && set->n < n)
        if (!w || xg_where_match(w, o))
            ((xg_ref *)set->items)[set->n++] = o->ref;
    return true;
}

bool xg_implicit_get_all(xg_call *c, const xg_value *p, const void *data, xg_err *err)
{
    const xg_implicit *im = data;
    xg_set set;
    if (!all_refs(c, im->cls, NULL, &set, err))
        return false;
    xg_call_return(c, &set);
    return true;
}

static bool where_arg(xg_call *c, const xg_implicit *im, const xg_value *v, xg_where **w,
                      xg_err *err)
{
    char *text;
    if (!xg_decode(c, &(xg_type){.kind = XG_K_STRING, .spelling = "string"}, v, &text, err))
        return false;
    *w = xg_where_compile(c->arena, im->cls, text, err);
    return *w != NULL;
}

bool xg_implicit_get_all_where(xg_call *c, const xg_value *p, const void *data, xg_err *err)
{
    const xg_implicit *im = data;
    xg_where *w;
    xg_set set;
    if (!where_arg(c, im, &p[0], &w, err) || !all_refs(c, im->cls, w, &set, err))
        return false;
    xg_call_return(c, &set);
    return true;
}

/* ---- streamed (ref -> record) maps ------------------------------------ */

struct records_state {
    const xg_class_desc *cls;
    const xg_where *where;
    uint64_t cursor;
    bool started;
};

/* Objects added while the answer streams appear at the end; removed ones
 * are skipped (the cursor is a creation sequence number). */
static bool produce_records(xg_call *c, xg_writer *w, void *state)
{
    struct records_state *st = state;
    if (!st->started) {
        w->ops->begin_struct(w);
        st->started = true;
    }
    for (int i = 0; i < STREAM_BATCH; i++) {
        xg_obj *o = xg_store_next(st->cls, &st->cursor);
        if (!o) {
            w->ops->end_struct(w);
            return true;
        }
        if (st->where && !xg_where_match(st->where, o))
            continue;
        w->ops->member(w, o->ref.s, strlen(o->ref.s));
        xg_write_record(w, st->cls, o);
    }
    (void)c;
    return false;
}

static bool stream_records(xg_call *c, const xg_implicit *im, const xg_where *where,
                           xg_err *err)
{
    struct records_state *st = xg_arena_alloc(c->arena, sizeof(*st));
    if (!st)
        return xg_err_internal(err, "out of call memory");
    st->cls = im->cls;
    st->where = where;
    xg_call_stream(c, produce_records, st);
    return true;
}

bool xg_implicit_get_all_records(xg_call *c, const xg_value *p, const void *data,
                                 xg_err *err)
{
    return stream_records(c, data, NULL, err);
}

bool xg_implicit_get_all_records_where(xg_call *c, const xg_value *p, const void *data,
                                       xg_err *err)
{
    xg_where *w;
    if (!where_arg(c, data, &p[0], &w, err))
        return false;
    return stream_records(c, data, w, err);
}

/* ---- per-field ------------------------------------------------------------- */

bool xg_implicit_get_field(xg_call *c, const xg_value *p, const void *data, xg_err *err)
{
    const xg_implicit *im = data;
    void *obj;
    if (!self_obj(c, im, &p[0], &obj, err))
        return false;
    xg_call_return(c, fptr(obj, im->field));
    return true;
}

/* Decoded storage is at most an xg_map; 64 bytes covers every kind. */
typedef union { unsigned char b[64]; void *align; int64_t i; double d; } storage_buf;

bool xg_implicit_set_field(xg_call *c, const xg_value *p, const void *data, xg_err *err)
{
    const xg_implicit *im = data;
    void *obj;
    storage_buf v;
    if (!self_obj(c, im, &p[0], &obj, err) || !xg_decode(c, im->field->type, &p[1], &v, err))
        return false;
    xg_store_set(obj, im->field, &v);
    xg_call_return(c, NULL);
    return true;
}

bool xg_implicit_map_add(xg_call *c, const xg_value *p, const void *data, xg_err *err)
{
    const xg_implicit *im = data;
    void *obj;
    storage_buf k, v;
    if (!self_obj(c, im, &p[0], &obj, err) ||
        !xg_decode(c, im->field->type->key, &p[1], &k, err) ||
        !xg_decode(c, im->field->type->elem, &p[2], &v, err) ||
        !xg_store_map_add(obj, im->field, &k, &v, err))
        return false;
    xg_call_return(c, NULL);
    return true;
}

bool xg_implicit_map_remove(xg_call *c, const xg_value *p, const void *data, xg_err *err)
{
    const xg_implicit *im = data;
    void *obj;
    storage_buf k;
    if (!self_obj(c, im, &p[0], &obj, err) ||
        !xg_decode(c, im->field->type->key, &p[1], &k, err))
        return false;
    xg_store_map_remove(obj, im->field, &k);
    xg_call_return(c, NULL);
    return true;
}

bool xg_implicit_set_add(xg_call *c, const xg_value *p, const void *data, xg_err *err)
{
    const xg_implicit *im = data;
    void *obj;
    storage_buf e;
    if (!self_obj(c, im, &p[0], &obj, err) ||
        !xg_decode(c, im->field->type->elem, &p[1], &e, err))
        return false;
    xg_store_set_add(obj, im->field, &e);
    xg_call_return(c, NULL);
    return true;
}

bool xg_implicit_set_remove(xg_call *c, const xg_value *p, const void *data, xg_err *err)
{
    const xg_implicit *im = data;
    void *obj;
    storage_buf e;
    if (!self_obj(c, im, &p[0], &obj, err) ||
        !xg_decode(c, im->field->type->elem, &p[1], &e, err))
        return false;
    xg_store_set_remove(obj, im->field, &e);
    xg_call_return(c, NULL);
    return true;
}
