/* where.c: parser and evaluator for where-expressions (see where.h).
 * Recursive descent with an explicit depth bound; the AST lives in the
 * call arena. */
#include "where.h"

#include <stdio.h>
#include <string.h>

#include "storage.h"
#include "store.h"

#define WHERE_MAX_DEPTH 64

enum node_kind { N_TRUE, N_FALSE, N_NOT, N_AND, N_OR, N_EQ, N_NE };

struct operand {
    const xg_field_desc *field;      /* NULL: literal */
    const char *key;                 /* map key ("field/key"), or NULL */
    const char *lit;
};

struct node {
    enum node_kind kind;
    const struct node *l, *r;
    struct operand a, b;
};

struct xg_where { const struct node *root; };

struct parser {
    xg_arena *a;
    const xg_class_desc *cls;
    const char *s;
    size_t pos;
    int depth;
    xg_err *err;
    bool failed;
};

static bool fail(struct parser *p, const char *why)
{
    if (!p->failed)
        xg_err_internal(p->err, "Invalid where-expression: %s at offset %zu", why, p->pos);
    p->failed = true;
    return false;
}

static void skip_ws(struct parser *p)
{
    while (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' ||
           p->s[p->pos] == '\r')
        p->pos++;
}

static bool is_ident(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '/' || ch == '-' || ch == '.' || ch == ':';
}

/* Keyword at pos (followed by a non-identifier character)? Consumes it. */
static bool keyword(struct parser *p, const char *kw)
{
    skip_ws(p);
    size_t n = strlen(kw);
    if (strncmp(p->s + p->pos, kw, n) == 0 && !is_ident(p->s[p->pos + n])) {
        p->pos += n;
        return true;
    }
    return false;
}

static char *string_lit(struct parser *p)
{
    skip_ws(p);
    if (p->s[p->pos] != '"') {
        fail(p, "expected a string");
        return NULL;
    }
    size_t start = ++p->pos, n = 0;
    for (size_t i = start; p->s[i] != '"'; i++, n++) {
        if (!p->s[i]) {
            fail(p, "unterminated string");
            return NULL;
        }
        if (p->s[i] == '\\' && p->s[i + 1])
            i++;
    }
    char *out = xg_arena_alloc(p->a, n + 1);
    if (!out) {
        fail(p, "expression too large");
        return NULL;
    }
    size_t j = 0;
    while (p->s[p->pos] != '"') {
        if (p->s[p->pos] == '\\')
            p->pos++;
        out[j++] = p->s[p->pos++];
    }
    p->pos++;
    out[j] = '\0';
    return out;
}

/* "name__label" (DB) or "name_label" (wire), optionally "/key" for maps. */
static bool resolve_field(struct parser *p, const char *name, struct operand *op)
{
    char buf[256];
    size_t j = 0;
    const char *slash = strchr(name, '/');
    size_t n = slash ? (size_t)(slash - name) : strlen(name);
    for (size_t i = 0; i < n && j + 1 < sizeof(buf); i++) {
        if (name[i] == '_' && name[i + 1] == '_' && i + 1 < n)
            i++;
        buf[j++] = name[i];
    }
    buf[j] = '\0';
    const xg_field_desc *f = xg_field_by_name(p->cls, buf);
    if (!f || (f->flags & XG_F_INTERNAL))
        return fail(p, "unknown field");
    if (slash && f->type->kind != XG_K_MAP)
        return fail(p, "'/' on a field that is not a map");
    op->field = f;
    op->key = slash ? slash + 1 : NULL;
    return true;
}

static bool operand(struct parser *p, struct operand *op)
{
    skip_ws(p);
    memset(op, 0, sizeof(*op));
    if (keyword(p, "field")) {
        const char *name = string_lit(p);
        return name && resolve_field(p, name, op);
    }
    if (keyword(p, "literal")) {
        op->lit = string_lit(p);
        return op->lit != NULL;
    }
    if (p->s[p->pos] == '"') {
        op->lit = string_lit(p);
        return op->lit != NULL;
    }
    size_t start = p->pos;
    while (is_ident(p->s[p->pos]))
        p->pos++;
    if (p->pos == start)
        return fail(p, "expected a field or a string");
    char *name = xg_arena_strndup(p->a, p->s + start, p->pos - start);
    if (!name)
        return fail(p, "expression too large");
    return resolve_field(p, name, op);
}

static struct node *expr_or(struct parser *p);

static struct node *new_node(struct parser *p, enum node_kind k)
{
    struct node *n = xg_arena_alloc(p->a, sizeof(*n));
    if (!n)
        fail(p, "expression too large");
    else
        n->kind = k;
    return n;
}

static struct node *unary(struct parser *p)
{
    if (++p->depth > WHERE_MAX_DEPTH) {
        fail(p, "nested too deeply");
        return NULL;
    }
    struct node *n = NULL;
    skip_ws(p);
    if (keyword(p, "not")) {
        struct node *in = unary(p);
        if (in && (n = new_node(p, N_NOT)))
            n->l = in;
    } else if (p->s[p->pos] == '(') {
        p->pos++;
        n = expr_or(p);
        skip_ws(p);
        if (n && p->s[p->pos] != ')') {
            fail(p, "expected ')'");
            n = NULL;
        } else if (n) {
            p->pos++;
        }
    } else if (keyword(p, "true")) {
        n = new_node(p, N_TRUE);
    } else if (keyword(p, "false")) {
        n = new_node(p, N_FALSE);
    } else {
        struct operand a, b;
        if (operand(p, &a)) {
            skip_ws(p);
            enum node_kind k;
            if (p->s[p->pos] == '=') {
                k = N_EQ;
                p->pos++;
            } else if (p->s[p->pos] == '<' && p->s[p->pos + 1] == '>') {
                k = N_NE;
                p->pos += 2;
            } else {
                fail(p, "expected '='");
                p->depth--;
                return NULL;
            }
            if (operand(p, &b) && (n = new_node(p, k))) {
                n->a = a;
                n->b = b;
            }
        }
    }
    p->depth--;
    return p->failed ? NULL : n;
}

static struct node *expr_and(struct parser *p)
{
    struct node *l = unary(p);
    while (l && keyword(p, "and")) {
        struct node *r = unary(p), *n;
        if (!r || !(n = new_node(p, N_AND)))
            return NULL;
        n->l = l;
        n->r = r;
        l = n;
    }
    return l;
}

static struct node *expr_or(struct parser *p)
{
    struct node *l = expr_and(p);
    while (l && keyword(p, "or")) {
        struct node *r = expr_and(p), *n;
        if (!r || !(n = new_node(p, N_OR)))
            return NULL;
        n->l = l;
        n->r = r;
        l = n;
    }
    return l;
}

xg_where *xg_where_compile(xg_arena *a, const xg_class_desc *cls, const char *text,
                           xg_err *err)
{
    struct parser p = {a, cls, text, 0, 0, err, false};
    struct node *root = expr_or(&p);
    skip_ws(&p);
    if (root && p.s[p.pos]) {
        fail(&p, "unexpected text");
        root = NULL;
    }
    if (!root) {
        if (!p.failed)
            fail(&p, "empty expression");
        return NULL;
    }
    xg_where *w = xg_arena_alloc(a, sizeof(*w));
    if (!w) {
        xg_err_internal(err, "expression too large");
        return NULL;
    }
    w->root = root;
    return w;
}

/* Text of an operand for obj; false when a map key is absent. */
static bool operand_text(const struct operand *op, const void *obj, char *buf, size_t len,
                         const char **s)
{
    if (!op->field) {
        *s = op->lit;
        return true;
    }
    const void *p = (const char *)obj + op->field->offset;
    const xg_type *t = op->field->type;
    if (op->key) {
        const xg_map *m = p;
        for (uint32_t i = 0; i < m->n; i++) {
            char kb[64];
            const char *ks;
            xg_storage_text(t->key, xg_map_key(t, m, i), kb, sizeof(kb), &ks);
            if (strcmp(ks, op->key) == 0) {
                xg_storage_text(t->elem, xg_map_val(t, m, i), buf, len, s);
                return true;
            }
        }
        return false;
    }
    if (t->kind == XG_K_SET || t->kind == XG_K_MAP)
        return false;               /* whole collections never equal a string */
    xg_storage_text(t, p, buf, len, s);
    return true;
}

static bool eval(const struct node *n, const void *obj)
{
    switch (n->kind) {
    case N_TRUE: return true;
    case N_FALSE: return false;
    case N_NOT: return !eval(n->l, obj);
    case N_AND: return eval(n->l, obj) && eval(n->r, obj);
    case N_OR: return eval(n->l, obj) || eval(n->r, obj);
    case N_EQ:
    case N_NE: {
        char b1[64], b2[64];
        const char *s1, *s2;
        bool eq = operand_text(&n->a, obj, b1, sizeof(b1), &s1) &&
                  operand_text(&n->b, obj, b2, sizeof(b2), &s2) && strcmp(s1, s2) == 0;
        return n->kind == N_EQ ? eq : !eq;
    }
    }
    return false;
}

bool xg_where_match(const xg_where *w, const void *obj)
{
    return eval(w->root, obj);
}
