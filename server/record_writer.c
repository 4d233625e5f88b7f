/* record_writer.c: writes C storage of any IDL type through the writer ops
 * by walking the descriptors; the one serialiser of records and results.
 * Map keys are stringified as XAPI does (ints in decimal, enums by name).
 * Allocates nothing. */
#include "writer.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "storage.h"

static void write_key(xg_writer *w, const xg_type *t, const void *p)
{
    char buf[48];
    const char *s;
    size_t n = xg_storage_text(t, p, buf, sizeof(buf), &s);
    w->ops->member(w, s, n);
}

void xg_write_value(xg_writer *w, const xg_type *t, const void *p)
{
    switch (t->kind) {
    case XG_K_STRING: {
        const char *s = *(char *const *)p;
        xg_write_cstr(w, s ? s : "");
        break;
    }
    case XG_K_INT:
        w->ops->int64(w, *(const int64_t *)p);
        break;
    case XG_K_FLOAT:
        w->ops->dbl(w, *(const double *)p);
        break;
    case XG_K_BOOL:
        w->ops->boolean(w, *(const bool *)p);
        break;
    case XG_K_DATETIME:
        w->ops->datetime(w, *(const int64_t *)p);
        break;
    case XG_K_ENUM: {
        int v = *(const int *)p;
        xg_write_cstr(w, (v >= 0 && v < t->enm->n) ? t->enm->values[v] : "");
        break;
    }
    case XG_K_REF:
        xg_write_cstr(w, ((const xg_ref *)p)->s);
        break;
    case XG_K_SET: {
        const xg_set *s = p;
        w->ops->begin_array(w);
        for (uint32_t i = 0; i < s->n; i++)
            xg_write_value(w, t->elem, xg_set_item(t, s, i));
        w->ops->end_array(w);
        break;
    }
    case XG_K_MAP: {
        const xg_map *m = p;
        w->ops->begin_struct(w);
        for (uint32_t i = 0; i < m->n; i++) {
            write_key(w, t->key, xg_map_key(t, m, i));
            xg_write_value(w, t->elem, xg_map_val(t, m, i));
        }
        w->ops->end_struct(w);
        break;
    }
    case XG_K_RECORD: {
        const void *rec = *(void *const *)p;
        if (rec && t->cls) {
            xg_write_record(w, t->cls, rec);
        } else {                    /* no record: an empty struct, never a crash */
            w->ops->begin_struct(w);
            w->ops->end_struct(w);
        }
        break;
    }
    case XG_K_VOID:
        xg_write_cstr(w, "");
        break;
    }
}

void xg_write_record(xg_writer *w, const xg_class_desc *cls, const void *rec)
{
    w->ops->begin_struct(w);
    for (uint32_t i = 0; i < cls->nfields; i++) {
        const xg_field_desc *f = &cls->fields[i];
        if (f->flags & XG_F_INTERNAL)
            continue;
        w->ops->member(w, f->name, strlen(f->name));
        xg_write_value(w, f->type, (const char *)rec + f->offset);
    }
    w->ops->end_struct(w);
}
