/* message.c: the `message` class (see messages.h): posting, XAPI's explicit
 * messages create/destroy/destroy_many/get/get_since. Messages persist (XAPI
 * keeps them on disk) and are bounded: the oldest go first. */
#include "messages.h"

#include <string.h>
#include <strings.h>

#include "../server/log.h"
#include "gw.h"
#include "gw_util.h"

#define GW_MESSAGES_MAX 10000
#define STREAM_BATCH 256

xapi_message *gw_message_post(const char *name, int64_t priority, int cls,
                              const char *obj_uuid, const char *body)
{
    while (xg_store_count(&xapi_class_message) >= GW_MESSAGES_MAX) {
        uint64_t cur = 0;
        xapi_message *oldest = xg_store_next(&xapi_class_message, &cur);
        if (!oldest)
            break;
        xg_store_remove(oldest);
    }
    xapi_message *m = xg_obj_new(&xapi_class_message);
    gw_init_str(m, XAPI_MESSAGE_F_NAME, name);
    gw_init_field(m, XAPI_MESSAGE_F_PRIORITY, &priority);
    gw_init_field(m, XAPI_MESSAGE_F_CLS, &cls);
    gw_init_str(m, XAPI_MESSAGE_F_OBJ_UUID, obj_uuid);
    int64_t now = gw_now();
    gw_init_field(m, XAPI_MESSAGE_F_TIMESTAMP, &now);
    gw_init_str(m, XAPI_MESSAGE_F_BODY, body ? body : "");
    xg_err err = XG_ERR_INIT;
    if (!xg_store_add(m, NULL, &err)) {
        XG_ERROR("message", "cannot post %s: %s", name, err.nparams ? err.param[0] : err.code);
        xg_obj_free(m);
        return NULL;
    }
    return m;
}

void gw_message_vm(const xapi_vm *vm, const char *name, int64_t priority)
{
    if (vm->is_control_domain)
        return;
    gw_message_post(name, priority, XAPI_CLS_VM, vm->uuid, "");
}

/* The object a (cls, uuid) pair names must exist, as XAPI checks. */
static bool object_exists(int cls, const char *uuid)
{
    switch (cls) {
    case XAPI_CLS_VM: return xg_store_get_by_uuid(&xapi_class_vm, uuid) != NULL;
    case XAPI_CLS_HOST: return xg_store_get_by_uuid(&xapi_class_host, uuid) != NULL;
    case XAPI_CLS_POOL: return xg_store_get_by_uuid(&xapi_class_pool, uuid) != NULL;
    default: {
        /* classes served by other modules (SR, VDI…) when they exist */
        const xg_class_desc *d = NULL;
        for (uint32_t i = 0; i < xg_nclasses; i++)
            if (strcasecmp(xg_classes[i]->name, xapi_enum_cls.values[cls]) == 0)
                d = xg_classes[i];
        return d ? xg_store_get_by_uuid(d, uuid) != NULL : false;
    }
    }
}

bool handle_message_create(xg_call *c, const char *name, int64_t priority, int cls,
                           const char *obj_uuid, const char *body, xg_ref *result_out,
                           xg_err *err)
{
    (void)c;
    if (!object_exists(cls, obj_uuid))
        return xapi_err_uuid_invalid(err, xapi_enum_cls.values[cls], obj_uuid);
    xapi_message *m = gw_message_post(name, priority, cls, obj_uuid, body);
    if (!m)
        return xg_err_internal(err, "cannot store the message");
    *result_out = m->obj.ref;
    return true;
}

bool handle_message_destroy(xg_call *c, xapi_message *self, xg_err *err)
{
    (void)c; (void)err;
    xg_store_remove(self);
    return true;
}

/* XAPI checks every ref first, then deletes: all or nothing. */
bool handle_message_destroy_many(xg_call *c, const xg_set *messages, xg_err *err)
{
    (void)c;
    const xg_ref *refs = messages->items;
    for (uint32_t i = 0; i < messages->n; i++)
        if (!xg_store_get(&xapi_class_message, refs[i].s))
            return xapi_err_handle_invalid(err, "message", refs[i].s);
    for (uint32_t i = 0; i < messages->n; i++) {
        xapi_message *m = xg_store_get(&xapi_class_message, refs[i].s);
        if (m)                       /* a ref may be listed twice */
            xg_store_remove(m);
    }
    return true;
}

struct since_state {
    uint64_t cursor;
    int64_t since;
    int cls;                         /* -1: any */
    const char *obj_uuid;
    bool started;
};

/* Streams {ref: record} of messages newer than `since` (and about one
 * object for message.get), in creation order. */
static bool produce_since(xg_call *c, xg_writer *w, void *state)
{
    (void)c;
    struct since_state *st = state;
    if (!st->started) {
        w->ops->begin_struct(w);
        st->started = true;
    }
    for (int i = 0; i < STREAM_BATCH; i++) {
        xapi_message *m = xg_store_next(&xapi_class_message, &st->cursor);
        if (!m) {
            w->ops->end_struct(w);
            return true;
        }
        if (m->timestamp <= st->since)
            continue;
        if (st->cls >= 0 && (m->cls != st->cls || strcmp(m->obj_uuid, st->obj_uuid) != 0))
            continue;
        w->ops->member(w, m->obj.ref.s, strlen(m->obj.ref.s));
        xg_write_record(w, &xapi_class_message, m);
    }
    return false;
}

static bool stream_since(xg_call *c, int64_t since, int cls, const char *obj_uuid,
                         xg_err *err)
{
    struct since_state *st = xg_arena_alloc(c->arena, sizeof(*st));
    if (!st)
        return xg_err_internal(err, "out of call memory");
    memset(st, 0, sizeof(*st));
    st->since = since;
    st->cls = cls;
    st->obj_uuid = obj_uuid ? xg_arena_strdup(c->arena, obj_uuid) : NULL;
    xg_call_stream(c, produce_since, st);
    return true;
}

bool handle_message_get(xg_call *c, int cls, const char *obj_uuid, int64_t since,
                        xg_map *result_out, xg_err *err)
{
    (void)result_out;
    return stream_since(c, since, cls, obj_uuid, err);
}

bool handle_message_get_since(xg_call *c, int64_t since, xg_map *result_out, xg_err *err)
{
    (void)result_out;
    return stream_since(c, since, -1, NULL, err);
}
