/* xmlrpc_in.c: XML-RPC request body -> xg_value tree in the call arena.
 *
 * A recursive-descent reader of exactly the grammar XAPI's own reader
 * accepts (ocaml-rpc Xmlrpc.call_of_string over Xmlm), over xml_scan.c.
 * Values are read straight into the arena, byte for byte as sent: no
 * rewriting of the body, no general-purpose XML library with its own
 * failure modes (xmlrpc-c, which this replaces, crashed on a malformed
 * <i8>: issue 20). Where XAPI accepts, we accept the same: <i4>, <int> and
 * <i8> are all read as int64 (Int64.of_string), <boolean> is true only for
 * "1", an untyped <value> is a string with its whitespace. Where XAPI
 * refuses, the error text is XAPI's exception (HTTP 500, as there).
 * Bounds: limits.h nesting, total values and string bytes; the body size is
 * checked before; every allocation is in the arena. */
#include "rpc_in.h"

#include <stdio.h>
#include <string.h>

#include "limits.h"
#include "ocaml_num.h"
#include "xml_scan.h"

struct reader {
    xg_xml x;
    xg_arena *a;
    uint32_t values;
    xg_member *stack;     /* items of the open arrays/structs/params */
    size_t n, cap;
};

static const xg_value params_none;   /* what params points to when there are none */

#define ANY_TYPE "open_tag(int/i8/i4/boolean/double/string/dateTime.iso8601/base64/array/struct/nil)"

/* Parse_error(got, expected) as XAPI's Printexc prints it. */
static bool unexpected(struct reader *r, const struct xg_xml_tag *t, const char *expected)
{
    int n = t->name_len > 40 ? 40 : (int)t->name_len;
    switch (t->kind) {
    case XG_XML_OPEN:
        return xg_xml_fail(&r->x, "Xmlrpc.Parse_error(\"open_tag(%.*s)\", \"%s\", _)", n,
                           t->name, expected);
    case XG_XML_EMPTY:
        return xg_xml_fail(&r->x, "Xmlrpc.Parse_error(\"empty_%.*s\", \"%s\", _)", n,
                           t->name, expected);
    case XG_XML_CLOSE:
        return xg_xml_fail(&r->x, "Xmlrpc.Parse_error(\"close_tag\", \"%s\", _)", expected);
    case XG_XML_DATA:
        return xg_xml_fail(&r->x, "Xmlrpc.Parse_error(\"data\", \"%s\", _)", expected);
    default:
        return xg_xml_fail(&r->x, "Xmlrpc.Parse_error(\"eof\", \"%s\", _)", expected);
    }
}

static bool next_tag(struct reader *r, struct xg_xml_tag *t)
{
    return xg_xml_skip_space(&r->x) && xg_xml_tag(&r->x, t);
}

/* <name> (or <name/> when empty is given) after optional whitespace */
static bool open_tag(struct reader *r, const char *name, bool *empty)
{
    struct xg_xml_tag t;
    if (!next_tag(r, &t))
        return false;
    if (xg_xml_is(&t, name) && (t.kind == XG_XML_OPEN || (t.kind == XG_XML_EMPTY && empty))) {
        if (empty)
            *empty = t.kind == XG_XML_EMPTY;
        return true;
    }
    char want[48];
    snprintf(want, sizeof(want), "open_tag(%s)", name);
    return unexpected(r, &t, want);
}

static bool close_tag(struct reader *r, const char *name)
{
    struct xg_xml_tag t;
    if (!next_tag(r, &t))
        return false;
    if (t.kind == XG_XML_CLOSE && xg_xml_is(&t, name))
        return true;
    char want[48];
    snprintf(want, sizeof(want), "close_tag(%s)", name);
    return unexpected(r, &t, want);
}

/* ===== the item stack: containers collect here, then move to the arena == */

static bool push(struct reader *r, const char *name, uint32_t name_len, const xg_value *v)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 64;
        xg_member *s = xg_arena_alloc(r->a, cap * sizeof(*s));
        if (!s)
            return xg_xml_fail(&r->x, "request too large");
        if (r->n)
            memcpy(s, r->stack, r->n * sizeof(*s));
        r->stack = s;
        r->cap = cap;
    }
    xg_member *m = &r->stack[r->n++];
    m->name = name;
    m->name_len = name_len;
    m->v = *v;
    return true;
}

/* Moves the items pushed since base into v (an array or a struct). */
static bool pop(struct reader *r, size_t base, xg_value *v)
{
    size_t k = r->n - base;
    v->n = (uint32_t)k;
    r->n = base;
    if (!k)
        return true;
    if (v->t == XG_V_STRUCT) {
        xg_member *ms = xg_arena_alloc(r->a, k * sizeof(*ms));
        if (!ms)
            return xg_xml_fail(&r->x, "request too large");
        memcpy(ms, r->stack + base, k * sizeof(*ms));
        v->u.members = ms;
        return true;
    }
    xg_value *vs = xg_arena_alloc(r->a, k * sizeof(*vs));
    if (!vs)
        return xg_xml_fail(&r->x, "request too large");
    for (size_t i = 0; i < k; i++)
        vs[i] = r->stack[base + i].v;
    v->u.items = vs;
    return true;
}

/* ===== values ========================================================= */

static bool value(struct reader *r, xg_value *v, unsigned depth);

/* The text of a leaf element whose start tag t was just read. */
static bool leaf_text(struct reader *r, const struct xg_xml_tag *t, const char **s, uint32_t *n)
{
    if (t->kind == XG_XML_EMPTY) {
        *s = "";
        *n = 0;
        return true;
    }
    char name[24];
    snprintf(name, sizeof(name), "%.*s", (int)t->name_len, t->name);
    return xg_xml_text(&r->x, s, n) && close_tag(r, name);
}

static bool base64_value(struct reader *r, const char *s, uint32_t n, xg_value *v)
{
    unsigned char *out = xg_arena_alloc(r->a, n / 4 * 3 + 4);
    if (!out)
        return xg_xml_fail(&r->x, "request too large");
    uint32_t acc = 0, bits = 0, o = 0, chars = 0, pad = 0;
    for (uint32_t i = 0; i < n; i++) {
        char c = s[i];
        int d = c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26
              : c >= '0' && c <= '9' ? c - '0' + 52 : c == '+' ? 62 : c == '/' ? 63 : -1;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
            continue;                    /* Python wraps base64 at 76 columns */
        if (c == '=' && ++pad <= 2) {
            chars++;
            continue;
        }
        if (d < 0 || pad)
            return xg_xml_fail(&r->x, "Xmlrpc.Parse_error(\"data\", \"base64\", _)");
        chars++;
        acc = acc << 6 | (uint32_t)d;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (chars % 4)
        return xg_xml_fail(&r->x, "Xmlrpc.Parse_error(\"data\", \"base64\", _)");
    v->t = XG_V_BASE64;
    v->n = o;
    v->u.s = (const char *)out;
    return true;
}

typedef bool item_fn(struct reader *r, unsigned depth);

/* The items of a list up to its end tag, each read (and pushed) by item. */
static bool items(struct reader *r, item_fn *item, unsigned depth)
{
    for (;;) {
        if (!xg_xml_skip_space(&r->x))
            return false;
        if (xg_xml_at_close(&r->x))
            return true;
        if (!item(r, depth))
            return false;
    }
}

static bool array_item(struct reader *r, unsigned depth)
{
    xg_value v;
    return value(r, &v, depth) && push(r, NULL, 0, &v);
}

/* <member><name>k</name><value>...</value></member> */
static bool member_item(struct reader *r, unsigned depth)
{
    const char *name;
    uint32_t name_len;
    xg_value v;
    if (!open_tag(r, "member", NULL) || !open_tag(r, "name", NULL) ||
        !xg_xml_text(&r->x, &name, &name_len))
        return false;
    if (!name_len)                       /* XAPI: no data, then </name> found */
        return xg_xml_fail(&r->x, "Xmlrpc.Parse_error(\"close_tag\", \"data\", _)");
    return close_tag(r, "name") && value(r, &v, depth) && close_tag(r, "member") &&
           push(r, name, name_len, &v);
}

static bool param_item(struct reader *r, unsigned depth)
{
    xg_value v;
    return open_tag(r, "param", NULL) && value(r, &v, depth) && close_tag(r, "param") &&
           push(r, NULL, 0, &v);
}

static bool array_value(struct reader *r, const struct xg_xml_tag *t, xg_value *v,
                        unsigned depth)
{
    struct xg_xml_tag d;
    v->t = XG_V_ARRAY;
    if (t->kind == XG_XML_EMPTY)
        return true;
    if (!next_tag(r, &d))
        return false;
    if (d.kind == XG_XML_CLOSE && xg_xml_is(&d, "array"))
        return true;                     /* <array></array>: XAPI's empty list */
    if (!xg_xml_is(&d, "data") || d.kind == XG_XML_CLOSE)
        return unexpected(r, &d, "open_tag(data)");
    if (d.kind == XG_XML_OPEN) {
        size_t base = r->n;
        if (!items(r, array_item, depth + 1) || !close_tag(r, "data") || !pop(r, base, v))
            return false;
    }
    return close_tag(r, "array");
}

static bool struct_value(struct reader *r, const struct xg_xml_tag *t, xg_value *v,
                         unsigned depth)
{
    v->t = XG_V_STRUCT;
    if (t->kind == XG_XML_EMPTY)
        return true;
    size_t base = r->n;
    return items(r, member_item, depth + 1) && close_tag(r, "struct") && pop(r, base, v);
}

static bool is_int_tag(const struct xg_xml_tag *t)
{
    return xg_xml_is(t, "i4") || xg_xml_is(t, "int") || xg_xml_is(t, "i8");
}

/* The typed value whose start tag t was just read. */
static bool typed_value(struct reader *r, const struct xg_xml_tag *t, xg_value *v,
                        unsigned depth)
{
    if (xg_xml_is(t, "array"))
        return array_value(r, t, v, depth);
    if (xg_xml_is(t, "struct"))
        return struct_value(r, t, v, depth);
    if (xg_xml_is(t, "nil")) {
        v->t = XG_V_NIL;
        return t->kind == XG_XML_EMPTY || close_tag(r, "nil");
    }
    bool is_string = xg_xml_is(t, "string");
    if (!is_string && !is_int_tag(t) && !xg_xml_is(t, "boolean") && !xg_xml_is(t, "double") &&
        !xg_xml_is(t, "dateTime.iso8601") && !xg_xml_is(t, "base64"))
        return unexpected(r, t, ANY_TYPE);
    const char *s;
    uint32_t n;
    if (!leaf_text(r, t, &s, &n))
        return false;
    if (n > XG_MAX_STRING_BYTES)
        return xg_xml_fail(&r->x, "string too long");
    if (is_string) {
        v->t = XG_V_STRING;
        v->n = n;
        v->u.s = s;
        return true;
    }
    if (!n)                              /* only <string> may be empty */
        return xg_xml_fail(&r->x, "Xmlrpc.Parse_error(\"empty_%.*s\", \"%.*s\", _)",
                           (int)t->name_len, t->name, (int)t->name_len, t->name);
    if (is_int_tag(t)) {
        v->t = XG_V_INT;
        return xg_ocaml_int64_of_string(s, n, &v->u.i) ||
               xg_xml_fail(&r->x, "Failure(\"Int64.of_string\")");
    }
    if (xg_xml_is(t, "boolean")) {
        v->t = XG_V_BOOL;
        v->u.b = n == 1 && s[0] == '1';
        return true;
    }
    if (xg_xml_is(t, "double")) {
        v->t = XG_V_DOUBLE;
        return xg_ocaml_float_of_string(s, n, &v->u.d) ||
               xg_xml_fail(&r->x, "Failure(\"float_of_string\")");
    }
    if (xg_xml_is(t, "base64"))
        return base64_value(r, s, n, v);
    v->t = XG_V_DATETIME;                /* the text: decode.c reads XAPI's forms */
    v->n = n;
    v->u.s = s;
    return true;
}

static bool only_space(const char *s, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n')
            return false;
    return true;
}

/* <value>: text alone is a string (kept as sent, whitespace included);
 * whitespace then one typed element is that element. */
static bool value(struct reader *r, xg_value *v, unsigned depth)
{
    bool empty;
    memset(v, 0, sizeof(*v));
    v->t = XG_V_STRING;
    v->u.s = "";
    if (!open_tag(r, "value", &empty))
        return false;
    if (depth > XG_MAX_NESTING)
        return xg_xml_fail(&r->x, "Xmlrpc.Parse_error(nesting too deep)");
    if (++r->values > XG_MAX_MEMBERS)
        return xg_xml_fail(&r->x, "Xmlrpc.Parse_error(too many values)");
    if (empty)
        return true;
    const char *s;
    uint32_t n;
    struct xg_xml_tag t;
    if (!xg_xml_text(&r->x, &s, &n) || !xg_xml_tag(&r->x, &t))
        return false;
    if (t.kind == XG_XML_CLOSE && xg_xml_is(&t, "value")) {
        if (n > XG_MAX_STRING_BYTES)
            return xg_xml_fail(&r->x, "string too long");
        v->n = n;
        v->u.s = s;
        return true;
    }
    if ((t.kind == XG_XML_OPEN || t.kind == XG_XML_EMPTY) && only_space(s, n))
        return typed_value(r, &t, v, depth) && close_tag(r, "value");
    return unexpected(r, &t, "close_tag(value)");
}

/* ===== the call ======================================================= */

static bool method_call(struct reader *r, struct xg_rpc_req *out)
{
    const char *name;
    uint32_t name_len;
    bool no_params;
    if (!open_tag(r, "methodCall", NULL) || !open_tag(r, "methodName", NULL) ||
        !xg_xml_text(&r->x, &name, &name_len))
        return false;
    if (!name_len)
        return xg_xml_fail(&r->x, "Xmlrpc.Parse_error(\"close_tag\", \"data\", _)");
    /* <params> is required, as in XAPI (xmlrpc-c did not require it) */
    if (!close_tag(r, "methodName") || !open_tag(r, "params", &no_params))
        return false;
    if ((!no_params && (!items(r, param_item, 1) || !close_tag(r, "params"))) ||
        !close_tag(r, "methodCall") || !xg_xml_skip_space(&r->x))
        return false;
    if (r->x.p != r->x.end)
        return xg_xml_fail(&r->x, "Xmlrpc.Parse_error(\"data\", \"eof\", _)");
    /* no count limit of our own: the total-values bound holds it, and
     * dispatch answers MESSAGE_PARAMETER_COUNT_MISMATCH as XAPI does */
    xg_value params = { .t = XG_V_ARRAY };
    if (!pop(r, 0, &params))
        return false;
    out->method = name;
    out->params = params.n ? params.u.items : &params_none;
    out->nparams = params.n;
    return true;
}

bool xg_xmlrpc_parse(xg_arena *a, const char *body, size_t len,
                     struct xg_rpc_req *out, char *msg, size_t msglen)
{
    memset(out, 0, sizeof(*out));
    out->proto = XG_PROTO_XMLRPC;
    if (len > XG_MAX_BODY_BYTES) {
        snprintf(msg, msglen, "request too large");
        return false;
    }
    struct reader r = { .a = a };
    return xg_xml_begin(&r.x, a, body, len, msg, msglen) && method_call(&r, out);
}

/* A document that is one <value> (XVA's ova.xml): the same reader and
 * bounds as a call's parameters; the caller bounds len. */
bool xg_xmlrpc_parse_value(xg_arena *a, const char *doc, size_t len,
                           xg_value *out, char *msg, size_t msglen)
{
    struct reader r = { .a = a };
    memset(out, 0, sizeof(*out));
    if (!xg_xml_begin(&r.x, a, doc, len, msg, msglen) || !xg_xml_skip_space(&r.x) ||
        !value(&r, out, 1) || !xg_xml_skip_space(&r.x))
        return false;
    if (r.x.p != r.x.end)
        return xg_xml_fail(&r.x, "Xmlrpc.Parse_error(\"data\", \"eof\", _)");
    return true;
}
