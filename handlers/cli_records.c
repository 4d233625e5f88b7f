/* cli_records.c: xe's generic commands <class>-list, -param-list,
 * -param-get, -param-set, -param-add, -param-remove and -param-clear
 * (xapi's make_param_funs, ../shared/spec/xe-cli.md §8), walking the class
 * and field descriptors codegen emits from idl/: every served class with a
 * uuid gets them, named as xe names things (name_label -> name-label).
 * Which fields can be changed comes from the dispatch table: a field is
 * settable when its class has set_<f> (add_to_/add_ for maps and sets), so
 * changes go through the API's own setters and checks. Records are read
 * under the world lock; API calls are made with it released. */
#include "cli.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "desc.h"
#include "store.h"
#include "world.h"
#include "xapi_errors.h"
#include "xapi_xe_records.h"

#define XE_NAME_MAX 128

/* xe classes whose listing differs from the plain one (cli_operations.ml
 * gen_cmds): the API class, the filters applied unless --all, the
 * columns shown without params=. */
struct xe_class {
    const char *xe, *api;
    const char *filters[2][2];
    const char *columns;
};

static const struct xe_class special_classes[] = {
    {"vm", "VM", {{"is-a-template", "false"}}, "name-label,uuid,power-state"},
    {"template", "VM", {{"is-a-template", "true"}, {"is-a-snapshot", "false"}},
     "name-label,name-description,uuid"},
    {"snapshot", "VM", {{"is-a-snapshot", "true"}}, "name-label,name-description,uuid"},
    {"host", "host", {{0}}, "uuid,name-label,name-description"},
    {"pool", "pool", {{0}}, "uuid,name-label,name-description,master,default-SR"},
    {"task", "task", {{0}}, "uuid,name-label,name-description,status,progress"},
    {"host-cpu", "host_cpu", {{0}}, "uuid,number,vendor,speed,utilisation"},
    {"vif", "VIF", {{0}}, "uuid,device,vm-uuid,network-uuid"},
    {"network", "network", {{0}}, "uuid,name-label,name-description,bridge"},
    {"console", "console", {{0}}, "uuid,vm-uuid,vm-name-label,protocol,location"},
    {"vdi", "VDI", {{0}}, "uuid,name-label,name-description,virtual-size,read-only,sharable,"
                          "sr-uuid"},
    {"vbd", "VBD", {{0}}, "uuid,vm-uuid,vm-name-label,vdi-uuid,device,empty"},
    {"sr", "SR", {{0}}, "uuid,name-label,name-description,host,type,content-type"},
    {"sm", "SM", {{0}}, "uuid,type,name-label,name-description,vendor,copyright,configuration"},
    {"pbd", "PBD", {{0}}, "uuid,host-uuid,sr-uuid,device-config,currently-attached"},
    {"pif", "PIF", {{0}}, "uuid,device,VLAN,MAC,network-uuid,currently-attached,host-uuid"},
    {"bond", "Bond", {{0}}, "uuid,master,slaves"},
    {"vlan", "VLAN", {{0}}, "uuid,tagged-PIF,untagged-PIF,tag"},
    {"tunnel", "tunnel", {{0}}, "uuid,transport-PIF,access-PIF,status"},
    {"pgpu", "PGPU", {{0}}, "uuid,pci-uuid,vendor-name,device-name,gpu-group-uuid"},
    {"vtpm", "VTPM", {{0}}, "uuid,vm-uuid,profile"},
};
static const char *const generic_columns = "uuid,name-label,name-description";

/* Parameters that never select nor set fields (cli_operations.ml stdparams). */
static const char *const stdparams[] = {
    "server", "password", "port", "username", "minimal", "force", "multiple",
    "all", "message-priority", "trace", "params",
};

enum op {
    OP_LIST, OP_PARAM_LIST, OP_PARAM_GET, OP_PARAM_SET, OP_PARAM_ADD, OP_PARAM_REMOVE,
    OP_PARAM_CLEAR,
};
static const struct { const char *suffix; enum op op; } ops[] = {
    {"-param-list", OP_PARAM_LIST}, {"-param-get", OP_PARAM_GET},
    {"-param-set", OP_PARAM_SET}, {"-param-add", OP_PARAM_ADD},
    {"-param-remove", OP_PARAM_REMOVE}, {"-param-clear", OP_PARAM_CLEAR}, {"-list", OP_LIST},
};
#define NOPS (sizeof(ops) / sizeof(ops[0]))

struct target {
    const xg_class_desc *cls;
    const struct xe_class *xc;        /* NULL: a plain generic class */
    enum op op;
};

bool cli_is_stdparam(const char *k)
{
    for (size_t i = 0; i < sizeof(stdparams) / sizeof(stdparams[0]); i++)
        if (strcmp(k, stdparams[i]) == 0)
            return true;
    return false;
}

/* name_label -> name-label: xe's spelling of an IDL field or class name. */
static void xe_name(const char *idl, char *buf, size_t n)
{
    size_t i = 0;
    for (; idl[i] && i + 1 < n; i++)
        buf[i] = idl[i] == '_' ? '-' : idl[i];
    buf[i] = 0;
}

/* Fields of classes without an xe record (idl/xe_records.json) that xe
 * names by hand (records.ml) rather than by the rule above: a reference
 * reads as "<target>-uuid", since xe prints refs as uuids. */
static const struct { const char *cls, *field, *xe; } renamed[] = {
    {"PBD", "host", "host-uuid"}, {"PBD", "SR", "sr-uuid"}, {"console", "VM", "vm-uuid"},
    {"VTPM", "VM", "vm-uuid"}, {"host_cpu", "host", "host-uuid"},
};

/* xe's name of field f of cls. */
static void field_xe_name(const xg_class_desc *cls, const xg_field_desc *f, char *buf,
                          size_t n)
{
    for (size_t i = 0; i < sizeof(renamed) / sizeof(renamed[0]); i++)
        if (strcmp(renamed[i].cls, cls->name) == 0 && strcmp(renamed[i].field, f->name) == 0) {
            snprintf(buf, n, "%s", renamed[i].xe);
            return;
        }
    xe_name(f->name, buf, n);
}

static bool ends_with(const char *s, const char *suffix, size_t *prefix_len)
{
    size_t a = strlen(s), b = strlen(suffix);
    if (a <= b || strcmp(s + a - b, suffix) != 0)
        return false;
    *prefix_len = a - b;
    return true;
}

/* The API method `<Class>.<verb><field>` exists (set_, add_to_, add_, ...). */
static bool has_method(const xg_class_desc *cls, const char *verb, const xg_field_desc *f)
{
    if (f < cls->fields || f >= cls->fields + cls->nfields)
        return false;                  /* read through a reference: not this class's */
    char name[256];
    snprintf(name, sizeof(name), "%s.%s%s", cls->name, verb, f->name);
    return xg_method_find(name) != NULL;
}

/* Can xe change f? Plain fields by set_<f>; maps and sets by adding. */
static bool settable(const xg_class_desc *cls, const xg_field_desc *f)
{
    switch (f->type->kind) {
    case XG_K_MAP: return has_method(cls, "add_to_", f);
    case XG_K_SET: return has_method(cls, "add_", f);
    default:       return has_method(cls, "set_", f);
    }
}

/* Does the class have a field xe could change with this op? (make_param_funs
 * defines -param-set only if a field is settable, add/remove only for a
 * settable set or map, clear for either.) */
static bool class_has_op(const xg_class_desc *cls, enum op op)
{
    if (op <= OP_PARAM_GET)
        return true;
    for (uint32_t i = 0; i < cls->nfields; i++) {
        const xg_field_desc *f = &cls->fields[i];
        bool coll = f->type->kind == XG_K_MAP || f->type->kind == XG_K_SET;
        if (f->flags & XG_F_INTERNAL || !settable(cls, f))
            continue;
        if (op == OP_PARAM_CLEAR || (op == OP_PARAM_SET && (f->type->kind != XG_K_SET)) ||
            ((op == OP_PARAM_ADD || op == OP_PARAM_REMOVE) && coll))
            return true;
    }
    return false;
}

static bool resolve(const char *name, struct target *t)
{
    size_t plen = 0;
    size_t i = 0;
    for (; i < NOPS; i++)
        if (ends_with(name, ops[i].suffix, &plen))
            break;
    if (i == NOPS || plen >= XE_NAME_MAX)
        return false;
    char xe[XE_NAME_MAX];
    memcpy(xe, name, plen);
    xe[plen] = 0;
    t->op = ops[i].op;
    t->xc = NULL;
    for (size_t k = 0; k < sizeof(special_classes) / sizeof(special_classes[0]); k++)
        if (strcmp(special_classes[k].xe, xe) == 0)
            t->xc = &special_classes[k];
    char api[XE_NAME_MAX];
    for (size_t k = 0; k <= plen; k++)
        api[k] = xe[k] == '-' ? '_' : xe[k];
    t->cls = xg_class_by_lower(t->xc ? t->xc->api : api);
    /* only stored classes with a uuid have records xe can name */
    return t->cls && (t->cls->flags & XG_C_STORED) && t->cls->uuid_field >= 0 &&
           class_has_op(t->cls, t->op);
}

bool cli_records_check(const struct cli_cmd *cmd, const char **missing)
{
    struct target t;
    if (!resolve(cmd->name, &t))
        return false;
    *missing = NULL;
    if (t.op != OP_LIST && !cli_arg(cmd, "uuid"))
        *missing = "uuid";
    else if (t.op != OP_LIST && t.op != OP_PARAM_LIST && t.op != OP_PARAM_SET &&
             !cli_arg(cmd, "param-name"))
        *missing = "param-name";
    else if (t.op == OP_PARAM_REMOVE && !cli_arg(cmd, "param-key"))
        *missing = "param-key";
    return true;
}

void cli_records_names(xg_out *o)
{
    static const char *const xe_classes[] = {"vm", "template", "snapshot"};
    char xe[XE_NAME_MAX], name[XE_NAME_MAX + 16];
    struct target t;
    for (uint32_t i = 0; i < xg_nclasses + 3; i++) {
        if (i < 3)
            snprintf(xe, sizeof(xe), "%s", xe_classes[i]);
        else if (strcmp(xg_classes[i - 3]->name, "VM") == 0)
            continue;                  /* served as vm, template and snapshot */
        else
            xe_name(xg_classes[i - 3]->lower, xe, sizeof(xe));
        for (size_t k = NOPS; k-- > 0;) {
            snprintf(name, sizeof(name), "%s%s", xe, ops[k].suffix);
            if (resolve(name, &t))
                xg_out_printf(o, ",%s", name);
        }
    }
}

/* ---- rendering (xe-cli.md §6) ------------------------------------------ */

static void render(xg_out *o, const xg_type *t, const void *p);

static void render_ref(xg_out *o, const xg_ref *r)
{
    const xg_class_desc *cls = NULL;
    const void *obj = r->s[0] && strcmp(r->s, XG_REF_NULL) != 0
                          ? xg_store_get_any(r->s, &cls) : NULL;
    if (!obj) {
        xg_out_puts(o, "<not in database>");
        return;
    }
    if (cls->uuid_field < 0) {
        xg_out_puts(o, r->s);
        return;
    }
    const xg_field_desc *f = &cls->fields[cls->uuid_field];
    xg_out_puts(o, *(char *const *)((const char *)obj + f->offset));
}

static void render(xg_out *o, const xg_type *t, const void *p)
{
    switch (t->kind) {
    case XG_K_STRING:
        xg_out_puts(o, *(char *const *)p);
        break;
    case XG_K_INT:
        xg_out_printf(o, "%lld", (long long)*(const int64_t *)p);
        break;
    case XG_K_FLOAT:
        xg_out_printf(o, "%.3f", *(const double *)p);
        break;
    case XG_K_BOOL:
        xg_out_puts(o, *(const bool *)p ? "true" : "false");
        break;
    case XG_K_DATETIME: {
        time_t s = (time_t)*(const int64_t *)p;
        struct tm tm;
        char buf[32];
        gmtime_r(&s, &tm);
        strftime(buf, sizeof(buf), "%Y%m%dT%H:%M:%SZ", &tm);
        xg_out_puts(o, buf);
        break;
    }
    case XG_K_ENUM: {
        int v = *(const int *)p;
        const char *s = v >= 0 && v < t->enm->n ? t->enm->values[v] : "";
        for (; *s; s++)                /* xe spells enums in lower case */
            xg_out_putc(o, (char)(*s >= 'A' && *s <= 'Z' ? *s - 'A' + 'a' : *s));
        break;
    }
    case XG_K_REF:
        render_ref(o, p);
        break;
    case XG_K_SET: {
        const xg_set *s = p;
        size_t sz = xg_type_storage_size(t->elem);
        for (uint32_t i = 0; i < s->n; i++) {
            if (i)
                xg_out_puts(o, "; ");
            render(o, t->elem, (const char *)s->items + i * sz);
        }
        break;
    }
    case XG_K_MAP: {
        const xg_map *m = p;
        size_t ksz = xg_type_storage_size(t->key), vsz = xg_type_storage_size(t->elem);
        for (uint32_t i = 0; i < m->n; i++) {
            if (i)
                xg_out_puts(o, "; ");
            render(o, t->key, (const char *)m->keys + i * ksz);
            xg_out_puts(o, ": ");
            render(o, t->elem, (const char *)m->vals + i * vsz);
        }
        break;
    }
    default:
        break;
    }
}

/* The rendering of the value of type t at p, malloc'd. */
static char *render_value(const xg_type *t, const void *p)
{
    xg_out o;
    xg_out_init(&o);
    render(&o, t, p);
    char *s = xg_out_strdup(&o, NULL);
    xg_out_reset(&o);
    return s;
}

/* A field as xe shows it: its own, or one read through the reference via. */
struct xe_field {
    const xg_field_desc *fd;
    const xg_field_desc *via;
    const xg_field_desc *empty_if;     /* XAPI_XE_EMPTY: the record's own bool `empty` */
    char name[XE_NAME_MAX];
    unsigned flags;                    /* XAPI_XE_HIDDEN, XAPI_XE_DEPRECATED, XAPI_XE_EMPTY */
};

struct xe_fields {
    uint32_t n;
    struct xe_field *f;
};

static struct xe_fields *fields_of_class;   /* by class index, built once */
static pthread_once_t fields_once = PTHREAD_ONCE_INIT;

static const xg_field_desc *field_named(const xg_class_desc *cls, const char *name)
{
    for (uint32_t i = 0; cls && i < cls->nfields; i++)
        if (strcmp(cls->fields[i].name, name) == 0)
            return &cls->fields[i];
    return NULL;
}

/* A class's fields as xe shows them: those of its xe record (records.ml's
 * names and order, some read through a reference: VM_metrics, ...), then
 * the class's other fields, named by rule, in IDL order. */
static void build_fields(void)
{
    fields_of_class = calloc(xg_nclasses, sizeof(*fields_of_class));
    if (!fields_of_class)
        abort();
    for (uint32_t c = 0; c < xg_nclasses; c++) {
        const xg_class_desc *cls = xg_classes[c];
        const struct xapi_xe_record *rec = xapi_xe_record(cls->name);
        struct xe_fields *fl = &fields_of_class[cls->index];
        fl->f = calloc(cls->nfields + (rec ? rec->nfields : 0) + 1, sizeof(*fl->f));
        bool *named = calloc(cls->nfields + 1, sizeof(bool));
        if (!fl->f || !named)
            abort();
        for (unsigned k = 0; rec && k < rec->nfields; k++) {
            const struct xapi_xe_field *e = &rec->fields[k];
            const xg_field_desc *via = e->via ? field_named(cls, e->via) : NULL;
            const xg_field_desc *fd = e->via && !via
                                          ? NULL : field_named(via ? via->type->cls : cls, e->field);
            if (!fd || (fd->flags & XG_F_INTERNAL))
                continue;              /* codegen checked it: never, short of a bug */
            if (!via)
                named[fd - cls->fields] = true;
            struct xe_field *x = &fl->f[fl->n++];
            *x = (struct xe_field){.fd = fd, .via = via, .flags = e->flags};
            if (e->flags & XAPI_XE_EMPTY)
                x->empty_if = field_named(cls, "empty");   /* codegen checked: a bool */
            snprintf(x->name, sizeof(x->name), "%s", e->xe);
        }
        for (uint32_t i = 0; i < cls->nfields; i++) {
            if (named[i] || cls->fields[i].flags & XG_F_INTERNAL)
                continue;              /* internal: never on the wire, never in xe */
            struct xe_field *x = &fl->f[fl->n++];
            x->fd = &cls->fields[i];
            field_xe_name(cls, x->fd, x->name, sizeof(x->name));
        }
        free(named);
    }
}

static const struct xe_fields *xe_fields(const xg_class_desc *cls)
{
    pthread_once(&fields_once, build_fields);
    return &fields_of_class[cls->index];
}

/* Where the value of x lives for obj; NULL when its record is missing. */
static const void *value_of(const struct xe_field *x, const void *obj)
{
    if (x->via) {
        const xg_ref *r = (const void *)((const char *)obj + x->via->offset);
        obj = x->via->type->cls ? xg_store_get(x->via->type->cls, r->s) : NULL;
        if (!obj)
            return NULL;
    }
    return (const char *)obj + x->fd->offset;
}

/* records.ml shows "<EMPTY>" for what an empty VBD reads through its VDI */
static bool shown_empty(const struct xe_field *x, const void *obj)
{
    return x->empty_if && *(const bool *)((const char *)obj + x->empty_if->offset);
}

static void render_field(xg_out *o, const struct xe_field *x, const void *obj)
{
    const void *p = value_of(x, obj);
    if (shown_empty(x, obj))
        xg_out_puts(o, "<EMPTY>");
    else if (p)
        render(o, x->fd->type, p);
    else
        xg_out_puts(o, "<not in database>");
}

static char *render_str(const struct xe_field *x, const void *obj)
{
    const void *p = value_of(x, obj);
    char *s = shown_empty(x, obj) ? strdup("<EMPTY>")
              : p ? render_value(x->fd->type, p) : strdup("<not in database>");
    if (!s)
        abort();
    return s;
}

/* The value of map field x at key (rendered), or NULL. */
static char *map_lookup(const struct xe_field *x, const void *obj, const char *key)
{
    const xg_field_desc *f = x->fd;
    const xg_map *m = value_of(x, obj);
    if (!m)
        return NULL;
    size_t ksz = xg_type_storage_size(f->type->key), vsz = xg_type_storage_size(f->type->elem);
    for (uint32_t i = 0; i < m->n; i++) {
        char *k = render_value(f->type->key, (const char *)m->keys + i * ksz);
        bool hit = strcmp(k, key) == 0;
        free(k);
        if (hit)
            return render_value(f->type->elem, (const char *)m->vals + i * vsz);
    }
    return NULL;
}

static const char *kind_suffix(const xg_class_desc *cls, const struct xe_field *x)
{
    const xg_field_desc *f = x->fd;
    bool rw = !x->via && settable(cls, f);
    switch (f->type->kind) {
    case XG_K_SET: return rw ? " (SRW)" : " (SRO)";
    case XG_K_MAP: return rw ? " (MRW)" : " (MRO)";
    default:       return rw ? " ( RW)" : " ( RO)";
    }
}

/* The key of x in a record: "<name> ( RW)", "[DEPRECATED]" after it. */
static void record_key(const xg_class_desc *cls, const struct xe_field *x, char *buf, size_t n)
{
    snprintf(buf, n, "%s%s%s", x->name, kind_suffix(cls, x),
             x->flags & XAPI_XE_DEPRECATED ? " [DEPRECATED]" : "");
}

static const struct xe_field *field_by_xe_name(const xg_class_desc *cls, const char *name)
{
    const struct xe_fields *fl = xe_fields(cls);
    for (uint32_t i = 0; i < fl->n; i++)
        if (strcmp(fl->f[i].name, name) == 0)
            return &fl->f[i];
    return NULL;
}

/* ---- output ------------------------------------------------------------ */

/* One xe record: the first key padded on the right, the others on the left,
 * to 4 + the longest key (cli_printer.ml multi_line_record), plus the
 * blank line xapi prints after each record. */
/* Rendered under the world lock, printed without it (print_records). */
static char *render_record(const xg_class_desc *cls, const void *obj, const bool *shown,
                           size_t *len)
{
    const struct xe_fields *fl = xe_fields(cls);
    size_t w = 0;
    char key[XE_NAME_MAX + 32];
    for (uint32_t i = 0; i < fl->n; i++) {
        record_key(cls, &fl->f[i], key, sizeof(key));
        w = shown[i] && strlen(key) > w ? strlen(key) : w;
    }
    w += 4;
    xg_out o;
    xg_out_init(&o);
    bool first = true;
    for (uint32_t i = 0; i < fl->n; i++) {
        if (!shown[i])
            continue;
        record_key(cls, &fl->f[i], key, sizeof(key));
        if (first)
            xg_out_printf(&o, "%-*s: ", (int)w, key);
        else
            xg_out_printf(&o, "\n%*s: ", (int)w, key);
        render_field(&o, &fl->f[i], obj);
        first = false;
    }
    xg_out_puts(&o, "\n\n");
    char *s = xg_out_strdup(&o, len);
    xg_out_reset(&o);
    return s;
}

/* Prints the records of refs, one at a time: each is rendered under the
 * world lock and printed with it released, because printing waits for a
 * client that stops reading (xg_http_write's back-pressure) and the world
 * must not wait with it. An object gone meanwhile is skipped. */
static void print_records(struct cli_ctx *c, const xg_class_desc *cls,
                          const struct cli_pick *refs, int n, const bool *shown)
{
    for (int i = 0; i < n; i++) {
        size_t len = 0;
        xg_world_lock();
        const void *obj = xg_store_get(cls, refs[i].ref);
        char *s = obj ? render_record(cls, obj, shown, &len) : NULL;
        xg_world_unlock();
        if (s)
            cli_print(c, s, len);
        free(s);
    }
}

/* ---- filters (xe-cli.md §8.1) ------------------------------------------ */

enum pass { PASS_NO, PASS_YES, PASS_NO_FIELD, PASS_BAD_SET_SYNTAX };

/* Does obj pass filter k=v? */
static enum pass passes(const xg_class_desc *cls, const void *obj, const char *k,
                        const char *v)
{
    char name[XE_NAME_MAX];
    snprintf(name, sizeof(name), "%s", k);
    char *colon = strchr(name, ':');
    if (colon)
        *colon = 0;
    const struct xe_field *x = field_by_xe_name(cls, name);
    if (!x)
        return PASS_NO_FIELD;
    const xg_field_desc *f = x->fd;
    if (colon && f->type->kind == XG_K_MAP) {
        char *got = map_lookup(x, obj, colon + 1);
        bool ok = got && strcmp(got, v) == 0;
        free(got);
        return ok ? PASS_YES : PASS_NO;
    }
    if (colon && f->type->kind == XG_K_SET) {
        if (strcmp(colon + 1, "contains") != 0)
            return PASS_BAD_SET_SYNTAX;
        const xg_set *s = value_of(x, obj);
        size_t sz = xg_type_storage_size(f->type->elem);
        bool hit = false;
        for (uint32_t i = 0; s && i < s->n && !hit; i++) {
            char *e = render_value(f->type->elem, (const char *)s->items + i * sz);
            hit = strcmp(e, v) == 0;
            free(e);
        }
        return hit ? PASS_YES : PASS_NO;
    }
    char *got = render_str(x, obj);
    bool ok = strcmp(got, v) == 0;
    free(got);
    return ok ? PASS_YES : PASS_NO;
}

/* passes() with xapi's messages for the failures; false also when f is set. */
static bool passes_or_fail(const xg_class_desc *cls, const void *obj, const char *k,
                           const char *v, const char *no_field_fmt, struct cli_fail *f)
{
    switch (passes(cls, obj, k, v)) {
    case PASS_YES:
        return true;
    case PASS_NO:
        return false;
    case PASS_NO_FIELD:
        return cli_fail_msg(f, no_field_fmt, k);
    case PASS_BAD_SET_SYNTAX:
        return cli_fail_msg(f, "Invalid syntax for set filtering "
                               "(should be set-param:contains=key)");
    }
    return false;
}

static bool selected(const struct cli_cmd *cmd, const struct target *t, const void *obj,
                     struct cli_fail *f)
{
    if (t->xc)
        for (int i = 0; i < 2 && t->xc->filters[i][0]; i++)
            if (!passes_or_fail(t->cls, obj, t->xc->filters[i][0], t->xc->filters[i][1],
                                "Unknown field '%s'", f))
                return false;
    for (unsigned i = 0; i < cmd->nargs; i++) {
        const char *k = cmd->args[i].key;
        if (cli_is_stdparam(k) || strncmp(k, "database:", 9) == 0)
            continue;
        if (!passes_or_fail(t->cls, obj, k, cmd->args[i].value, "Unknown field '%s'", f))
            return false;
    }
    return true;
}

/* Which fields are shown: params=all, params=a,b (record order kept), or
 * the class's default columns. Hidden fields never (internal ones are not
 * even xe fields). */
static void choose_fields(const struct target *t, const char *params, bool *shown)
{
    const struct xe_fields *fl = xe_fields(t->cls);
    const char *list = params ? params : t->xc ? t->xc->columns : generic_columns;
    bool all = params && strcmp(params, "all") == 0;
    for (uint32_t i = 0; i < fl->n; i++) {
        const char *name = fl->f[i].name;
        shown[i] = false;
        size_t n = strlen(name);
        for (const char *p = list; !all && p && *p;) {
            const char *end = strchr(p, ',');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            if (len == n && strncmp(p, name, n) == 0)
                shown[i] = true;
            p = end ? end + 1 : NULL;
        }
        shown[i] = (shown[i] || all) && !(fl->f[i].flags & XAPI_XE_HIDDEN);
    }
}

static bool run_list(struct cli_ctx *c, const struct target *t, struct cli_fail *f)
{
    const struct cli_cmd *cmd = c->cmd;
    const xg_class_desc *cls = t->cls;
    const struct xe_fields *fl = xe_fields(cls);
    bool *shown = calloc(fl->n + 1, sizeof(bool));
    if (!shown)
        abort();
    choose_fields(t, cli_arg(cmd, "params"), shown);
    uint32_t first = 0;
    while (first < fl->n && !shown[first])
        first++;
    bool all = cli_flag(cmd, "all"), ok = true;
    uint64_t cursor = 0;
    struct cli_pick *refs = NULL;
    int n = 0, cap = 0;
    xg_world_lock();
    for (const xg_obj *obj; ok && (obj = xg_store_next(cls, &cursor)) != NULL;) {
        if (!all && !selected(cmd, t, obj, f)) {
            ok = !f->text[0];
            continue;
        }
        if (!cmd->minimal) {
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                refs = realloc(refs, (size_t)cap * sizeof(*refs));
                if (!refs)
                    abort();
            }
            snprintf(refs[n++].ref, sizeof(refs->ref), "%s", obj->ref.s);
        } else if (first < fl->n) {
            char *v = render_str(&fl->f[first], obj);
            cli_print_list_item(c, v);          /* gathered, printed at the end */
            free(v);
        }
    }
    xg_world_unlock();
    if (ok)
        print_records(c, cls, refs, n, shown);
    free(refs);
    free(shown);
    return ok;
}

static void uuid_invalid(const char *cls_name, const char *uuid, struct cli_fail *f)
{
    snprintf(f->code, sizeof(f->code), "%s", XAPI_ERR_UUID_INVALID);
    snprintf(f->params[0], sizeof(f->params[0]), "%s", cls_name);
    snprintf(f->params[1], sizeof(f->params[1]), "%s", uuid);
    f->nparams = 2;
}

/* The object named by uuid=, under the world lock; NULL with UUID_INVALID. */
static const void *by_uuid(const struct cli_cmd *cmd, const struct target *t,
                           struct cli_fail *f)
{
    const char *uuid = cli_arg(cmd, "uuid");
    const void *obj = xg_store_get_by_uuid(t->cls, uuid);
    if (!obj)
        uuid_invalid(t->cls->name, uuid, f);
    return obj;
}

static bool run_param_list(struct cli_ctx *c, const struct target *t, struct cli_fail *f)
{
    bool *shown = calloc(xe_fields(t->cls)->n + 1, sizeof(bool));
    if (!shown)
        abort();
    choose_fields(t, "all", shown);
    size_t len = 0;
    xg_world_lock();
    const void *obj = by_uuid(c->cmd, t, f);
    char *s = obj ? render_record(t->cls, obj, shown, &len) : NULL;
    xg_world_unlock();
    if (s)
        cli_print(c, s, len);             /* without the lock: see print_records */
    free(s);
    free(shown);
    return obj != NULL;
}

/* "Missing parameter" [name]: xapi's CLI_failed_to_find_param. */
static bool no_such_field(const char *name, struct cli_fail *f)
{
    snprintf(f->code, sizeof(f->code), "Missing parameter");
    snprintf(f->params[0], sizeof(f->params[0]), "%s", name);
    f->nparams = 1;
    return false;
}

static bool run_param_get(struct cli_ctx *c, const struct target *t, struct cli_fail *f)
{
    const char *name = cli_arg(c->cmd, "param-name");
    const char *key = cli_arg(c->cmd, "param-key");
    xg_world_lock();
    const void *obj = by_uuid(c->cmd, t, f);
    const struct xe_field *fd = obj ? field_by_xe_name(t->cls, name) : NULL;
    char *v = !fd ? NULL
              : key && fd->fd->type->kind == XG_K_MAP ? map_lookup(fd, obj, key)
                                                       : render_str(fd, obj);
    xg_world_unlock();
    if (!obj)
        return false;
    if (!fd)
        return no_such_field(name, f);
    if (!v)
        return cli_fail_msg(f, "Error: Key %s not found in map", key);
    cli_print_list_item(c, v);
    free(v);
    return true;
}

/* ---- changes through the API's setters (xe-cli.md §8.4, §8.5) ---------- */

/* A field to change and what the API needs to know of it, copied out of the
 * store so the world lock can be dropped before calling. */
struct change {
    const xg_class_desc *cls;
    const xg_field_desc *fd;
    char ref[XG_REF_LEN];
    char xe[XE_NAME_MAX];              /* the name the user typed */
};

/* Finds the object by uuid= and its field `name`; false with f set. */
static bool find_change(struct cli_ctx *c, const struct target *t, const char *name,
                        struct change *ch, struct cli_fail *f)
{
    xg_world_lock();
    const xg_obj *obj = by_uuid(c->cmd, t, f);
    if (obj)
        snprintf(ch->ref, sizeof(ch->ref), "%s", obj->ref.s);
    xg_world_unlock();
    if (!obj)
        return false;
    ch->cls = t->cls;
    const struct xe_field *x = field_by_xe_name(t->cls, name);
    /* a field read through a reference has no setter on this class: the
     * setter checks below find none and report it read-only */
    ch->fd = x ? x->fd : NULL;
    snprintf(ch->xe, sizeof(ch->xe), "%s", name);
    return ch->fd ? true : no_such_field(name, f);
}

/* xapi's Record_util.bytes_of_string: an integer with an optional unit. */
bool cli_bytes_of_string(const char *s, int64_t *out)
{
    static const struct { const char *unit[3]; int shift; } units[] = {
        {{"", "b", "bytes"}, 0}, {{"kib", "kb", "k"}, 10}, {{"mib", "mb", "m"}, 20},
        {{"gib", "gb", "g"}, 30}, {{"tib", "tb", "t"}, 40},
    };
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || errno || v < 0)
        return false;
    while (*end == ' ')
        end++;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        for (int k = 0; k < 3; k++)
            if (strcasecmp(end, units[i].unit[k]) == 0) {
                if (v > (INT64_MAX >> units[i].shift))
                    return false;
                *out = (int64_t)v << units[i].shift;
                return true;
            }
    return false;
}

/* Writes the text v as a value of type t for the API; false with f set
 * when it does not parse (xapi's messages). */
static bool write_typed(xg_writer *w, const struct change *ch, const xg_type *t,
                        const char *v, struct cli_fail *f)
{
    char *end;
    switch (t->kind) {
    case XG_K_INT: {
        int64_t n;
        if (strncmp(ch->fd->name, "memory_", 7) == 0) {
            if (!cli_bytes_of_string(v, &n))
                return cli_fail_msg(f, "Error: Failed to parse field '%s': expecting an "
                                       "integer (possibly with suffix KiB, MiB, GiB, TiB), "
                                       "got '%s'", ch->xe, v);
        } else {
            errno = 0;
            n = strtoll(v, &end, 10);
            if (!*v || *end || errno)
                return cli_fail_msg(f, "Error: Parameter %s must be an integer", ch->xe);
        }
        w->ops->int64(w, n);
        return true;
    }
    case XG_K_FLOAT: {
        double d = strtod(v, &end);
        if (!*v || *end)
            return cli_fail_msg(f, "Error: Parameter %s must be a floating-point number",
                                ch->xe);
        w->ops->dbl(w, d);
        return true;
    }
    case XG_K_BOOL:
        if (strcasecmp(v, "true") != 0 && strcasecmp(v, "false") != 0)
            return cli_fail_msg(f, "Error: Parameter %s must be a boolean (true or false)",
                                ch->xe);
        w->ops->boolean(w, strcasecmp(v, "true") == 0);
        return true;
    case XG_K_ENUM:
        for (int i = 0; i < t->enm->n; i++)   /* xe types enums in any case */
            if (strcasecmp(v, t->enm->values[i]) == 0)
                v = t->enm->values[i];
        xg_write_cstr(w, v);
        return true;
    case XG_K_REF: {
        char ref[XG_REF_LEN] = XG_REF_NULL;
        if (*v && !cli_ref_by_uuid(t->class_name, v, ref, f))
            return false;
        xg_write_cstr(w, ref);
        return true;
    }
    default:
        xg_write_cstr(w, v);
        return true;
    }
}

/* Calls <Class>.<verb><field>(ref[, key][, value]); key and value are
 * typed for the map's key/value (or the set's element, or the field). */
static bool call_setter(struct cli_ctx *c, const struct change *ch, const char *verb,
                        const char *key, const char *value, struct cli_fail *f)
{
    char method[256];
    snprintf(method, sizeof(method), "%s.%s%s", ch->cls->name, verb, ch->fd->name);
    const xg_type *t = ch->fd->type;
    cli_req q;
    cli_req_begin(&q, &c->api, method, true);
    xg_write_cstr(&q.w, ch->ref);
    bool ok = true;
    if (t->kind == XG_K_MAP) {
        ok = !key || write_typed(&q.w, ch, t->key, key, f);
        ok = ok && (!value || write_typed(&q.w, ch, t->elem, value, f));
    } else if (t->kind == XG_K_SET) {
        ok = !key || write_typed(&q.w, ch, t->elem, key, f);
    } else if (value) {
        ok = write_typed(&q.w, ch, t, value, f);
    }
    if (!ok) {
        xg_out_reset(&q.body);
        return false;
    }
    yajl_val result;
    yajl_val doc = cli_req_send(&q, &c->api, &result, f);
    if (doc)
        yajl_tree_free(doc);
    return doc != NULL;
}

/* The rendered keys of map/set field ch at the moment, malloc'd, or NULL
 * when the object went away. */
static char **current_keys(const struct change *ch, uint32_t *n)
{
    xg_world_lock();
    const void *obj = xg_store_get(ch->cls, ch->ref);
    char **keys = NULL;
    *n = 0;
    if (obj) {
        const void *p = (const char *)obj + ch->fd->offset;
        bool map = ch->fd->type->kind == XG_K_MAP;
        const xg_type *kt = map ? ch->fd->type->key : ch->fd->type->elem;
        uint32_t cnt = map ? ((const xg_map *)p)->n : ((const xg_set *)p)->n;
        const char *base = map ? ((const xg_map *)p)->keys : ((const xg_set *)p)->items;
        keys = calloc(cnt + 1, sizeof(char *));
        if (!keys)
            abort();
        for (uint32_t i = 0; i < cnt; i++)
            keys[i] = render_value(kt, base + i * xg_type_storage_size(kt));
        *n = cnt;
    }
    xg_world_unlock();
    return keys;
}

static void free_keys(char **keys, uint32_t n)
{
    for (uint32_t i = 0; keys && i < n; i++)
        free(keys[i]);
    free(keys);
}

static bool has_key(char **keys, uint32_t n, const char *key)
{
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(keys[i], key) == 0)
            return true;
    return false;
}

/* map:key=value: xapi removes an existing key first, then adds it. */
static bool set_in_map(struct cli_ctx *c, struct change *ch, const char *key,
                       const char *value, struct cli_fail *f)
{
    if (!has_method(ch->cls, "add_to_", ch->fd))
        return cli_fail_msg(f, "Error: Map field '%s' is read-only.", ch->xe);
    uint32_t n;
    char **keys = current_keys(ch, &n);
    bool present = keys && has_key(keys, n, key);
    free_keys(keys, n);
    if (present && !call_setter(c, ch, "remove_from_", key, NULL, f))
        return false;
    return call_setter(c, ch, "add_to_", key, value, f);
}

/* One assignment of -param-set: f=v or map:key=v. */
static bool assign(struct cli_ctx *c, const struct target *t, const char *k, const char *v,
                   struct cli_fail *f)
{
    struct change ch;
    char name[XE_NAME_MAX];
    snprintf(name, sizeof(name), "%s", k);
    char *colon = strchr(name, ':');
    if (colon && !field_by_xe_name(t->cls, name)) {
        *colon = 0;
        if (!find_change(c, t, name, &ch, f))
            return false;
        if (ch.fd->type->kind == XG_K_SET)
            return cli_fail_msg(f, "Error: Cannot param-set on set fields");
        if (ch.fd->type->kind != XG_K_MAP)
            return cli_fail_msg(f, "Error: Field '%s' is not a set or map", name);
        return set_in_map(c, &ch, colon + 1, v, f);
    }
    if (!find_change(c, t, k, &ch, f))
        return false;
    if (has_method(ch.cls, "set_", ch.fd) && ch.fd->type->kind != XG_K_MAP &&
        ch.fd->type->kind != XG_K_SET)
        return call_setter(c, &ch, "set_", NULL, v, f);
    if (ch.fd->type->kind == XG_K_MAP || ch.fd->type->kind == XG_K_SET)
        return cli_fail_msg(f, "Error: Field '%s' is a map or set. use the 'name:key=value' "
                               "syntax.", k);
    return cli_fail_msg(f, "Error: Field '%s' is read-only.", k);
}

static bool run_param_set(struct cli_ctx *c, const struct target *t, struct cli_fail *f)
{
    const struct cli_cmd *cmd = c->cmd;
    struct change probe;
    if (!find_change(c, t, "uuid", &probe, f))
        return false;                  /* an unknown uuid fails before any change */
    for (unsigned i = 0; i < cmd->nargs; i++) {
        const char *k = cmd->args[i].key;
        if (strcmp(k, "uuid") == 0 || cli_is_stdparam(k))
            continue;
        if (!assign(c, t, k, cmd->args[i].value, f))
            return false;
    }
    return true;
}

static bool is_collection(const struct change *ch)
{
    return ch->fd->type->kind == XG_K_MAP || ch->fd->type->kind == XG_K_SET;
}

static bool run_param_add(struct cli_ctx *c, const struct target *t, struct cli_fail *f)
{
    const struct cli_cmd *cmd = c->cmd;
    struct change ch;
    if (!find_change(c, t, cli_arg(cmd, "param-name"), &ch, f))
        return false;
    if (!is_collection(&ch))
        return cli_fail_msg(f, "Error: Can only add to parameters of type Set or Map");
    if (!settable(ch.cls, ch.fd))
        return cli_fail_msg(f, "Error: Parameter is read-only");
    if (ch.fd->type->kind == XG_K_SET) {
        const char *key = cli_arg(cmd, "param-key");
        if (!key)
            return cli_fail_msg(f, "Error: When adding a key to a set, use the syntax: "
                                   "*-param-add param-name=<name> param-key=<key>");
        return call_setter(c, &ch, "add_", key, NULL, f);
    }
    for (unsigned i = 0; i < cmd->nargs; i++) {
        const char *k = cmd->args[i].key;
        if (strcmp(k, "uuid") == 0 || strcmp(k, "param-name") == 0 ||
            strcmp(k, "param-key") == 0 || cli_is_stdparam(k))
            continue;
        if (!call_setter(c, &ch, "add_to_", k, cmd->args[i].value, f))
            return false;
    }
    return true;
}

static bool run_param_remove(struct cli_ctx *c, const struct target *t, struct cli_fail *f)
{
    struct change ch;
    const char *key = cli_arg(c->cmd, "param-key");
    if (!find_change(c, t, cli_arg(c->cmd, "param-name"), &ch, f))
        return false;
    if (!is_collection(&ch))
        return cli_fail_msg(f, "Error: Can only remove from parameters of type Set or Map");
    bool map = ch.fd->type->kind == XG_K_MAP;
    if (!has_method(ch.cls, map ? "remove_from_" : "remove_", ch.fd))
        return cli_fail_msg(f, "Error: Cannot remove parameters from read-only map");
    uint32_t n;
    char **keys = current_keys(&ch, &n);
    bool present = keys && has_key(keys, n, key);
    free_keys(keys, n);
    if (!present)
        return cli_fail_msg(f, map ? "Error: Key %s is not in map" : "Error: Key %s is not in "
                                                                     "the set", key);
    return call_setter(c, &ch, map ? "remove_from_" : "remove_", key, NULL, f);
}

static bool run_param_clear(struct cli_ctx *c, const struct target *t, struct cli_fail *f)
{
    struct change ch;
    if (!find_change(c, t, cli_arg(c->cmd, "param-name"), &ch, f))
        return false;
    if (is_collection(&ch)) {
        bool map = ch.fd->type->kind == XG_K_MAP;
        const char *verb = map ? "remove_from_" : "remove_";
        if (!has_method(ch.cls, verb, ch.fd))
            return cli_fail_msg(f, "Error: Can only clear RW parameters");
        uint32_t n;
        char **keys = current_keys(&ch, &n);
        bool ok = true;
        for (uint32_t i = 0; ok && i < n; i++)
            ok = call_setter(c, &ch, verb, keys[i], NULL, f);
        free_keys(keys, n);
        return ok;
    }
    if (!has_method(ch.cls, "set_", ch.fd))
        return cli_fail_msg(f, "Error: Can only clear RW parameters");
    if (!call_setter(c, &ch, "set_", NULL, "", f)) {
        if (f->text[0] || f->code[0])
            memset(f, 0, sizeof(*f));
        return cli_fail_msg(f, "Error: Cannot clear this parameter");
    }
    return true;
}

bool cli_records_run(struct cli_ctx *c, struct cli_fail *f)
{
    struct target t;
    if (!resolve(c->cmd->name, &t))
        return cli_fail_msg(f, "Unknown command: %s", c->cmd->name);
    switch (t.op) {
    case OP_LIST: return run_list(c, &t, f);
    case OP_PARAM_LIST: return run_param_list(c, &t, f);
    case OP_PARAM_GET: return run_param_get(c, &t, f);
    case OP_PARAM_SET: return run_param_set(c, &t, f);
    case OP_PARAM_ADD: return run_param_add(c, &t, f);
    case OP_PARAM_REMOVE: return run_param_remove(c, &t, f);
    case OP_PARAM_CLEAR: return run_param_clear(c, &t, f);
    }
    return false;
}

/* ---- selectors and lookups for the specific commands ------------------- */

bool cli_ref_by_uuid(const char *cls_name, const char *uuid, char ref[XG_REF_LEN],
                     struct cli_fail *f)
{
    const xg_class_desc *cls = xg_class_by_name(cls_name);
    xg_world_lock();
    const xg_obj *obj = cls ? xg_store_get_by_uuid(cls, uuid) : NULL;
    if (obj)
        snprintf(ref, XG_REF_LEN, "%s", obj->ref.s);
    xg_world_unlock();
    if (!obj)
        uuid_invalid(cls_name, uuid, f);
    return obj != NULL;
}

static bool listed(const char *const *list, const char *k)
{
    for (; list && *list; list++)
        if (strcmp(*list, k) == 0)
            return true;
    return false;
}

/* vm=X: X is the uuid or the name-label (host=X: also the hostname). */
static bool named_by(const xg_class_desc *cls, const void *obj, const char *x)
{
    static const char *const names[] = {"uuid", "name_label", "hostname"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        for (uint32_t k = 0; k < cls->nfields; k++)
            if (strcmp(cls->fields[k].name, names[i]) == 0 &&
                cls->fields[k].type->kind == XG_K_STRING &&
                strcmp(*(char *const *)((const char *)obj + cls->fields[k].offset), x) == 0)
                return true;
    return false;
}

int cli_select(const struct cli_cmd *cmd, const char *cls_name, const char *by,
               const char *const *fixed, const char *const *ignore, struct cli_pick **out,
               struct cli_fail *f)
{
    const xg_class_desc *cls = xg_class_by_name(cls_name);
    const char *by_value = by ? cli_arg(cmd, by) : NULL;
    int n = 0, cap = 0;
    *out = NULL;
    char fmt[160];
    snprintf(fmt, sizeof(fmt), "Parameter '%%s' is not a field of the %s class. "
                               "Failed to select %s for operation.", cls_name, cls_name);
    xg_world_lock();
    uint64_t cursor = 0;
    bool ok = true;
    for (const xg_obj *obj; ok && (obj = xg_store_next(cls, &cursor)) != NULL;) {
        bool pick = !by_value || named_by(cls, obj, by_value);
        for (const char *const *p = fixed; pick && p && *p; p += 2)
            pick = passes_or_fail(cls, obj, p[0], p[1], fmt, f);
        for (unsigned i = 0; pick && i < cmd->nargs; i++) {
            const char *k = cmd->args[i].key;
            char stem[XE_NAME_MAX];
            snprintf(stem, sizeof(stem), "%s", k);
            stem[strcspn(stem, ":")] = 0;
            if (cli_is_stdparam(stem) || listed(ignore, stem) || (by && strcmp(k, by) == 0))
                continue;
            pick = passes_or_fail(cls, obj, k, cmd->args[i].value, fmt, f);
        }
        if (f->text[0]) {
            ok = false;
        } else if (pick) {
            if (n == cap) {
                cap = cap ? cap * 2 : 8;
                *out = realloc(*out, (size_t)cap * sizeof(**out));
                if (!*out)
                    abort();
            }
            snprintf((*out)[n].ref, sizeof((*out)[n].ref), "%s", obj->ref.s);
            snprintf((*out)[n].uuid, sizeof((*out)[n].uuid), "%s",
                     *(char *const *)((const char *)obj + cls->fields[cls->uuid_field].offset));
            n++;
        }
    }
    xg_world_unlock();
    if (!ok) {
        free(*out);
        *out = NULL;
        char msg[sizeof(f->text)];
        snprintf(msg, sizeof(msg), "%s", f->text);
        if (strncmp(msg, "Parameter '", 11) == 0)   /* a CLI failure: "Error: " */
            snprintf(f->text, sizeof(f->text), "Error: %.900s", msg);
        return -1;
    }
    return n;
}

void cli_ref_convert(const char *s, char *buf, size_t n)
{
    snprintf(buf, n, "%s", s);
    if (strncmp(s, "OpaqueRef:", 10) != 0)
        return;
    xg_world_lock();
    const xg_class_desc *cls = NULL;
    const void *obj = xg_store_get_any(s, &cls);
    if (obj && cls->uuid_field >= 0) {
        const char *uuid =
            *(char *const *)((const char *)obj + cls->fields[cls->uuid_field].offset);
        if (cls->name_label_field >= 0)
            snprintf(buf, n, "%s (%s)", uuid,
                     *(char *const *)((const char *)obj +
                                      cls->fields[cls->name_label_field].offset));
        else
            snprintf(buf, n, "%s", uuid);
    }
    xg_world_unlock();
}

/* ---- event-wait (cli_operations.ml event_wait) -------------------------- */

static const char *const event_classes[] = {
    "vm", "vdi", "sr", "host", "network", "vif", "pif", "vbd", "pbd", "pool", "task", "vmss",
    "secret", "subject", "role",
};

/* Does some object of cls satisfy every condition (field=value, or
 * field=/=value for "differs")? Under the world lock; f set for a field
 * the class does not have. */
static bool any_matches(const struct cli_cmd *cmd, const xg_class_desc *cls, struct cli_fail *f)
{
    uint64_t cursor = 0;
    for (const void *obj; (obj = xg_store_next(cls, &cursor)) != NULL;) {
        bool all = true;
        for (unsigned i = 0; all && i < cmd->nargs; i++) {
            const char *k = cmd->args[i].key, *v = cmd->args[i].value;
            if (strcmp(k, "class") == 0 || cli_is_stdparam(k))
                continue;
            bool differs = strncmp(v, "/=", 2) == 0;
            enum pass p = passes(cls, obj, k, differs ? v + 2 : v);
            if (p == PASS_NO_FIELD || p == PASS_BAD_SET_SYNTAX)
                return cli_fail_msg(f, "Error: key missing: %s", k);
            all = (p == PASS_YES) != differs;
        }
        if (all)
            return true;
    }
    return false;
}

bool cli_event_wait(struct cli_ctx *c, struct cli_fail *f)
{
    const char *name = cli_arg(c->cmd, "class");
    const xg_class_desc *cls = NULL;
    for (size_t i = 0; i < sizeof(event_classes) / sizeof(event_classes[0]); i++)
        if (strcmp(name, event_classes[i]) == 0)
            cls = xg_class_by_lower(name);
    if (!cls || !(cls->flags & XG_C_STORED))
        return cli_fail_msg(f, "Error: Cli listening for class '%s' not currently implemented",
                            name);
    char token[256] = "";
    for (;;) {
        xg_world_lock();
        bool done = any_matches(c->cmd, cls, f);
        xg_world_unlock();
        if (done || f->text[0])
            return done;
        if (xg_http_gone(c->x))
            return cli_fail_msg(f, "Error: the client went away");
        /* wait for a change of the class; every 10 s at most, see if xe is still there */
        if (!cli_api_event_from(&c->api, cls->lower, token, sizeof(token), 10.0, f))
            return false;
    }
}
