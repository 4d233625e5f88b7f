/* cli_records.c: xe's generic commands <class>-list, <class>-param-list and
 * <class>-param-get (xapi's make_param_funs, ../shared/spec/xe-cli.md §8),
 * walking the class and field descriptors codegen emits from idl/: every
 * served class with a uuid gets them, named as xe names things
 * (name_label -> name-label). Runs under the world lock and only fills a
 * cli_result; cli.c sends it once the lock is dropped. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "desc.h"
#include "store.h"
#include "world.h"

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
};
static const char *const generic_columns = "uuid,name-label,name-description";

/* Parameters that never select nor set fields (cli_operations.ml stdparams). */
static const char *const stdparams[] = {
    "server", "password", "port", "username", "minimal", "force", "multiple",
    "all", "message-priority", "trace", "params",
};

enum op { OP_LIST, OP_PARAM_LIST, OP_PARAM_GET };

struct target {
    const xg_class_desc *cls;
    const struct xe_class *xc;        /* NULL: a plain generic class */
    enum op op;
};

static bool is_stdparam(const char *k)
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

static bool ends_with(const char *s, const char *suffix, size_t *prefix_len)
{
    size_t a = strlen(s), b = strlen(suffix);
    if (a <= b || strcmp(s + a - b, suffix) != 0)
        return false;
    *prefix_len = a - b;
    return true;
}

static bool resolve(const char *name, struct target *t)
{
    static const struct { const char *suffix; enum op op; } ops[] = {
        {"-param-list", OP_PARAM_LIST}, {"-param-get", OP_PARAM_GET}, {"-list", OP_LIST},
    };
    size_t plen = 0;
    size_t i = 0;
    for (; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (ends_with(name, ops[i].suffix, &plen))
            break;
    if (i == sizeof(ops) / sizeof(ops[0]) || plen >= XE_NAME_MAX)
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
    return t->cls && (t->cls->flags & XG_C_STORED) && t->cls->uuid_field >= 0;
}

bool cli_records_check(const struct cli_cmd *cmd, const char **missing)
{
    struct target t;
    if (!resolve(cmd->name, &t))
        return false;
    *missing = NULL;
    if (t.op != OP_LIST && !cli_arg(cmd, "uuid"))
        *missing = "uuid";
    else if (t.op == OP_PARAM_GET && !cli_arg(cmd, "param-name"))
        *missing = "param-name";
    return true;
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

static char *render_str(const xg_field_desc *f, const void *obj)
{
    return render_value(f->type, (const char *)obj + f->offset);
}

/* The value of map field f at key (rendered), or NULL. */
static char *map_lookup(const xg_field_desc *f, const void *obj, const char *key)
{
    const xg_map *m = (const void *)((const char *)obj + f->offset);
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

static const char *kind_suffix(const xg_field_desc *f)
{
    bool rw = f->qual == XG_Q_RW;
    switch (f->type->kind) {
    case XG_K_SET: return rw ? " (SRW)" : " (SRO)";
    case XG_K_MAP: return rw ? " (MRW)" : " (MRO)";
    default:       return rw ? " ( RW)" : " ( RO)";
    }
}

static const xg_field_desc *field_by_xe_name(const xg_class_desc *cls, const char *name)
{
    char buf[XE_NAME_MAX];
    for (uint32_t i = 0; i < cls->nfields; i++) {
        const xg_field_desc *f = &cls->fields[i];
        if (f->flags & XG_F_INTERNAL)
            continue;
        xe_name(f->name, buf, sizeof(buf));
        if (strcmp(buf, name) == 0)
            return f;
    }
    return NULL;
}

/* ---- output ------------------------------------------------------------ */

void cli_print(struct cli_result *r, const char *text, size_t n)
{
    uint32_t len = (uint32_t)n;
    xg_out_append(&r->out, &len, sizeof(len));
    xg_out_append(&r->out, text, n);
}

static void fail(struct cli_result *r, const char *fmt, const char *a, const char *b)
{
    snprintf(r->err, sizeof(r->err), fmt, a, b);
}

/* One xe record: the first key padded on the right, the others on the left,
 * to 4 + the longest key (cli_printer.ml multi_line_record), plus the
 * blank line xapi prints after each record. */
static void print_record(struct cli_result *r, const xg_class_desc *cls, const void *obj,
                         const bool *shown)
{
    size_t w = 0;
    char key[XE_NAME_MAX + 16];
    for (uint32_t i = 0; i < cls->nfields; i++) {
        if (!shown[i])
            continue;
        xe_name(cls->fields[i].name, key, XE_NAME_MAX);
        size_t n = strlen(key) + strlen(kind_suffix(&cls->fields[i]));
        w = n > w ? n : w;
    }
    w += 4;
    xg_out o;
    xg_out_init(&o);
    bool first = true;
    for (uint32_t i = 0; i < cls->nfields; i++) {
        if (!shown[i])
            continue;
        const xg_field_desc *f = &cls->fields[i];
        xe_name(f->name, key, XE_NAME_MAX);
        strcat(key, kind_suffix(f));
        if (first)
            xg_out_printf(&o, "%-*s: ", (int)w, key);
        else
            xg_out_printf(&o, "\n%*s: ", (int)w, key);
        render(&o, f->type, (const char *)obj + f->offset);
        first = false;
    }
    xg_out_puts(&o, "\n\n");
    size_t len = 0;
    char *s = xg_out_strdup(&o, &len);
    xg_out_reset(&o);
    cli_print(r, s, len);
    free(s);
}

/* --minimal: ',' and '\' escaped (cli_printer.ml escape_commas). */
static void minimal_append(xg_out *o, bool *any, const char *v)
{
    if (*any)
        xg_out_putc(o, ',');
    *any = true;
    for (; *v; v++) {
        if (*v == ',' || *v == '\\')
            xg_out_putc(o, '\\');
        xg_out_putc(o, *v);
    }
}

/* ---- filters (xe-cli.md §8.1) ------------------------------------------ */

/* Does obj pass filter k=v? Sets r->err for a name that is not a field. */
static bool passes(struct cli_result *r, const xg_class_desc *cls, const void *obj,
                   const char *k, const char *v)
{
    char name[XE_NAME_MAX];
    snprintf(name, sizeof(name), "%s", k);
    char *colon = strchr(name, ':');
    if (colon)
        *colon = 0;
    const xg_field_desc *f = field_by_xe_name(cls, name);
    if (!f) {
        fail(r, "Unknown field '%s'%s", k, "");
        return false;
    }
    if (colon && f->type->kind == XG_K_MAP) {
        char *got = map_lookup(f, obj, colon + 1);
        bool ok = got && strcmp(got, v) == 0;
        free(got);
        return ok;
    }
    if (colon && f->type->kind == XG_K_SET) {
        if (strcmp(colon + 1, "contains") != 0) {
            fail(r, "Invalid syntax for set filtering (should be set-param:contains=key)%s%s",
                 "", "");
            return false;
        }
        const xg_set *s = (const void *)((const char *)obj + f->offset);
        size_t sz = xg_type_storage_size(f->type->elem);
        bool hit = false;
        for (uint32_t i = 0; i < s->n && !hit; i++) {
            char *e = render_value(f->type->elem, (const char *)s->items + i * sz);
            hit = strcmp(e, v) == 0;
            free(e);
        }
        return hit;
    }
    char *got = render_str(f, obj);
    bool ok = strcmp(got, v) == 0;
    free(got);
    return ok;
}

static bool selected(struct cli_result *r, const struct cli_cmd *cmd, const struct target *t,
                     const void *obj)
{
    if (cli_arg(cmd, "all"))
        return true;
    if (t->xc)
        for (int i = 0; i < 2 && t->xc->filters[i][0]; i++)
            if (!passes(r, t->cls, obj, t->xc->filters[i][0], t->xc->filters[i][1]))
                return false;
    for (unsigned i = 0; i < cmd->nargs; i++) {
        const char *k = cmd->args[i].key;
        if (is_stdparam(k) || strncmp(k, "database:", 9) == 0)
            continue;
        if (!passes(r, t->cls, obj, k, cmd->args[i].value))
            return false;
    }
    return true;
}

/* Which fields are shown: params=all, params=a,b (record order kept), or
 * the class's default columns. Hidden (internal) fields never. */
static void choose_fields(const struct target *t, const char *params, bool *shown)
{
    const xg_class_desc *cls = t->cls;
    const char *list = params ? params : t->xc ? t->xc->columns : generic_columns;
    bool all = params && strcmp(params, "all") == 0;
    char name[XE_NAME_MAX];
    for (uint32_t i = 0; i < cls->nfields; i++) {
        const xg_field_desc *f = &cls->fields[i];
        shown[i] = false;
        if (f->flags & XG_F_INTERNAL)
            continue;
        xe_name(f->name, name, sizeof(name));
        size_t n = strlen(name);
        for (const char *p = list; !all && p && *p;) {
            const char *end = strchr(p, ',');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            if (len == n && strncmp(p, name, n) == 0)
                shown[i] = true;
            p = end ? end + 1 : NULL;
        }
        shown[i] = shown[i] || all;
    }
}

static void run_list(const struct cli_cmd *cmd, const struct target *t, struct cli_result *r)
{
    const xg_class_desc *cls = t->cls;
    bool *shown = calloc(cls->nfields, sizeof(bool));
    if (!shown)
        abort();
    choose_fields(t, cli_arg(cmd, "params"), shown);
    uint32_t first = 0;
    while (first < cls->nfields && !shown[first])
        first++;
    xg_out minimal;
    xg_out_init(&minimal);
    bool any = false;
    uint64_t cursor = 0;
    for (const void *obj; (obj = xg_store_next(cls, &cursor)) != NULL;) {
        if (!selected(r, cmd, t, obj)) {
            if (r->err[0])
                break;
            continue;
        }
        if (!cmd->minimal) {
            print_record(r, cls, obj, shown);
        } else if (first < cls->nfields) {
            char *v = render_str(&cls->fields[first], obj);
            minimal_append(&minimal, &any, v);
            free(v);
        }
    }
    if (cmd->minimal && !r->err[0]) {
        r->minimal_sent = true;
        size_t len = 0;
        char *s = xg_out_strdup(&minimal, &len);
        cli_print(r, s, len);
        free(s);
    }
    xg_out_reset(&minimal);
    free(shown);
}

static const void *by_uuid(const struct cli_cmd *cmd, const struct target *t,
                           struct cli_result *r)
{
    const char *uuid = cli_arg(cmd, "uuid");
    const void *obj = xg_store_get_by_uuid(t->cls, uuid);
    if (!obj)
        snprintf(r->err, sizeof(r->err),
                 "The uuid you supplied was invalid.\ntype: %s\nuuid: %s", t->cls->name, uuid);
    return obj;
}

static void run_param_list(const struct cli_cmd *cmd, const struct target *t,
                           struct cli_result *r)
{
    const void *obj = by_uuid(cmd, t, r);
    if (!obj)
        return;
    bool *shown = calloc(t->cls->nfields, sizeof(bool));
    if (!shown)
        abort();
    choose_fields(t, "all", shown);
    print_record(r, t->cls, obj, shown);
    free(shown);
}

static void run_param_get(const struct cli_cmd *cmd, const struct target *t,
                          struct cli_result *r)
{
    const void *obj = by_uuid(cmd, t, r);
    if (!obj)
        return;
    const char *name = cli_arg(cmd, "param-name");
    const char *key = cli_arg(cmd, "param-key");
    const xg_field_desc *f = field_by_xe_name(t->cls, name);
    if (!f) {
        r->api_code = "Missing parameter";
        snprintf(r->api_params[0], sizeof(r->api_params[0]), "%s", name);
        r->api_nparams = 1;
        return;
    }
    char *v = key && f->type->kind == XG_K_MAP ? map_lookup(f, obj, key) : render_str(f, obj);
    if (!v) {
        fail(r, "Error: Key %s not found in map%s", key, "");
        return;
    }
    if (cmd->minimal) {                /* a message: dropped in minimal mode */
        free(v);
        return;
    }
    cli_print(r, v, strlen(v));
    free(v);
}

bool cli_records_run(const struct cli_cmd *cmd, struct cli_result *r)
{
    struct target t;
    if (!resolve(cmd->name, &t))
        return false;
    xg_world_lock();
    switch (t.op) {
    case OP_LIST: run_list(cmd, &t, r); break;
    case OP_PARAM_LIST: run_param_list(cmd, &t, r); break;
    case OP_PARAM_GET: run_param_get(cmd, &t, r); break;
    }
    xg_world_unlock();
    return true;
}
