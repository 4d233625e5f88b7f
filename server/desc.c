/* desc.c: lookups over the generated tables (classes, methods, enums).
 * Classes and methods are sorted by the generator, so lookups bsearch. */
#include "desc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "marshal.h"

size_t xg_type_storage_size(const xg_type *t)
{
    switch (t->kind) {
    case XG_K_STRING: return sizeof(char *);
    case XG_K_INT: case XG_K_DATETIME: return sizeof(int64_t);
    case XG_K_FLOAT: return sizeof(double);
    case XG_K_BOOL: return sizeof(bool);
    case XG_K_ENUM: return sizeof(int);
    case XG_K_REF: return sizeof(xg_ref);
    case XG_K_SET: return sizeof(xg_set);
    case XG_K_MAP: return sizeof(xg_map);
    case XG_K_RECORD: return sizeof(void *);
    case XG_K_VOID: break;
    }
    return 0;
}

static int cmp_class(const void *key, const void *elem)
{
    return strcmp(key, (*(const xg_class_desc *const *)elem)->name);
}

const xg_class_desc *xg_class_by_name(const char *name)
{
    const xg_class_desc *const *p = bsearch(name, xg_classes, xg_nclasses,
                                             sizeof(xg_classes[0]), cmp_class);
    return p ? *p : NULL;
}

/* Case-insensitive (event.from class names): a linear pass over a few
 * dozen classes, not on a per-object path. */
const xg_class_desc *xg_class_by_lower(const char *lower)
{
    for (uint32_t i = 0; i < xg_nclasses; i++)
        if (strcasecmp(xg_classes[i]->name, lower) == 0)
            return xg_classes[i];
    return NULL;
}

static int cmp_method(const void *key, const void *elem)
{
    return strcmp(key, ((const xg_method *)elem)->name);
}

const xg_method *xg_method_find(const char *name)
{
    if (xg_nmethods == 0)
        return NULL;
    return bsearch(name, xg_methods, xg_nmethods, sizeof(xg_methods[0]), cmp_method);
}

int xg_enum_from_str(const xg_enum_desc *e, const char *s)
{
    for (int i = 0; i < e->n; i++)
        if (strcasecmp(e->values[i], s) == 0)
            return i;
    return -1;
}
