/* xva_ova.c: reads ova.xml, the description at the head of an XVA, and
 * the names of its data members. Pure: bytes in, arena values out, no
 * store; the input is hostile (an uploaded archive). The XML layer is the
 * strict reader of XML-RPC requests (no DTD, so no entity expansion: a
 * "billion laughs" document is refused at its <!DOCTYPE). */
#include "xva.h"

#include <stdio.h>
#include <string.h>

#include "../server/rpc_in.h"

const char *xva_str(const xg_value *snap, const char *name)
{
    const xg_value *v = snap ? xg_value_member(snap, name) : NULL;
    return v && v->t == XG_V_STRING ? v->u.s : "";
}

static bool bad(char *msg, size_t msglen, const char *what)
{
    snprintf(msg, msglen, "ova.xml: %s", what);
    return false;
}

bool xva_ova_parse(xg_arena *a, const char *bytes, size_t len,
                   struct xva_ova *out, char *msg, size_t msglen)
{
    memset(out, 0, sizeof *out);
    if (len > XVA_OVA_MAX)
        return bad(msg, msglen, "too large");
    xg_value top;
    char xmsg[200];
    if (!xg_xmlrpc_parse_value(a, bytes, len, &top, xmsg, sizeof xmsg)) {
        snprintf(msg, msglen, "ova.xml: %s", xmsg);
        return false;
    }
    if (top.t != XG_V_STRUCT)
        return bad(msg, msglen, "not a struct");
    const xg_value *version = xg_value_member(&top, "version");
    const xg_value *objects = xg_value_member(&top, "objects");
    if (!version || version->t != XG_V_STRUCT)
        return bad(msg, msglen, "no version struct");
    if (!objects || objects->t != XG_V_ARRAY)
        return bad(msg, msglen, "no objects array");
    const xg_value *vsn = xg_value_member(version, "export_vsn");
    if (vsn && vsn->t == XG_V_INT)
        out->export_vsn = vsn->u.i;
    if (objects->n > XVA_MAX_OBJECTS)
        return bad(msg, msglen, "too many objects");
    out->objs = objects->n ? xg_arena_alloc(a, objects->n * sizeof *out->objs) : NULL;
    if (objects->n && !out->objs)
        return bad(msg, msglen, "out of memory");
    for (uint32_t i = 0; i < objects->n; i++) {
        const xg_value *o = &objects->u.items[i];
        if (o->t != XG_V_STRUCT)
            return bad(msg, msglen, "an object is not a struct");
        const xg_value *cls = xg_value_member(o, "class");
        const xg_value *id = xg_value_member(o, "id");
        const xg_value *snap = xg_value_member(o, "snapshot");
        if (!cls || cls->t != XG_V_STRING || !id || id->t != XG_V_STRING ||
            !id->n || id->n > 60 || !snap || snap->t != XG_V_STRUCT)
            return bad(msg, msglen, "an object lacks class, id or snapshot");
        struct xva_object *x = &out->objs[out->n];
        x->cls = cls->u.s;
        x->id = id->u.s;
        x->snapshot = snap;
        if (xva_ova_find(out, x->id))
            return bad(msg, msglen, "two objects with one id");
        out->n++;
    }
    return true;
}

/* Linear: counts are bounded by XVA_MAX_OBJECTS and lookups are per
 * object reference, so the worst case stays in the tens of millions of
 * string compares only for absurd but bounded inputs. */
const struct xva_object *xva_ova_find(const struct xva_ova *ova, const char *id)
{
    for (uint32_t i = 0; i < ova->n; i++)
        if (strcmp(ova->objs[i].id, id) == 0)
            return &ova->objs[i];
    return NULL;
}

enum xva_member xva_member_parse(const char *name, char id[64], uint32_t *number)
{
    const char *slash = strchr(name, '/');
    if (!slash || slash == name || (size_t)(slash - name) >= 64 ||
        strncmp(name, "Ref:", 4) != 0)
        return XVA_M_OTHER;
    const char *d = slash + 1;
    uint32_t v = 0;
    for (int i = 0; i < 8; i++) {
        if (d[i] < '0' || d[i] > '9')
            return XVA_M_OTHER;
        v = v * 10 + (uint32_t)(d[i] - '0');
    }
    memcpy(id, name, (size_t)(slash - name));
    id[slash - name] = 0;
    *number = v;
    const char *rest = d + 8;
    if (!*rest)
        return XVA_M_DATA;
    if (strcmp(rest, ".xxhash") == 0)
        return XVA_M_XXHASH;
    if (strcmp(rest, ".checksum") == 0)
        return XVA_M_SHA1;
    return XVA_M_OTHER;
}
