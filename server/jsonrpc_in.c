/* jsonrpc_in.c: JSON-RPC request body → xg_value tree in the call arena,
 * straight from yajl callbacks (no intermediate DOM). Children are pushed on
 * a per-thread scratch stack and copied into one arena array when their
 * container closes, so every container costs exactly one arena allocation.
 * Depth, total values and string bytes are bounded (limits.h). Then the
 * envelope is read as rpclib does (spec/xapi-wire.md §1.5). */
#include "rpc_in.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "limits.h"

struct slot {                       /* one pushed child */
    const char *name;               /* member name, NULL in arrays */
    uint32_t name_len;
    xg_value v;
};

static _Thread_local struct slot *stk;
static _Thread_local size_t stk_cap;

struct jp {
    xg_arena *a;
    size_t nstk;                    /* used slots */
    size_t open[XG_MAX_NESTING + 2];   /* first slot of each open container */
    bool is_obj[XG_MAX_NESTING + 2];
    unsigned depth;
    uint32_t values;
    const char *key;                /* pending member name */
    uint32_t key_len;
    xg_value top;                   /* the finished document */
    bool have_top;
    const char *id_raw;             /* raw text of a numeric top-level "id" */
    uint32_t id_raw_len;
    const char *err;
};

static bool push(struct jp *p, const xg_value *v)
{
    if (++p->values > XG_MAX_MEMBERS) {
        p->err = "too many values";
        return false;
    }
    if (p->depth == 0) {
        p->top = *v;
        p->have_top = true;
        return true;
    }
    if (p->nstk == stk_cap) {
        size_t cap = stk_cap ? stk_cap * 2 : 256;
        struct slot *n = realloc(stk, cap * sizeof(*n));
        if (!n)
            abort();
        stk = n;
        stk_cap = cap;
    }
    struct slot *s = &stk[p->nstk++];
    s->name = p->is_obj[p->depth] ? p->key : NULL;
    s->name_len = p->is_obj[p->depth] ? p->key_len : 0;
    s->v = *v;
    p->key = NULL;
    return true;
}

static int cb_null(void *ctx)
{
    xg_value v = { .t = XG_V_NIL };
    return push(ctx, &v);
}

static int cb_bool(void *ctx, int b)
{
    xg_value v = { .t = XG_V_BOOL, .u.b = b != 0 };
    return push(ctx, &v);
}

static int cb_number(void *ctx, const char *s, size_t n)
{
    struct jp *p = ctx;
    char buf[64];
    xg_value v = { .t = XG_V_INT };
    if (p->depth == 1 && p->is_obj[1] && p->key && strcmp(p->key, "id") == 0) {
        p->id_raw = xg_arena_strndup(p->a, s, n);
        p->id_raw_len = (uint32_t)n;
    }
    bool frac = memchr(s, '.', n) || memchr(s, 'e', n) || memchr(s, 'E', n);
    if (n >= sizeof(buf)) {
        /* a huge literal: only its magnitude matters, as a double */
        char *t = xg_arena_strndup(p->a, s, n);
        if (!t) {
            p->err = "request too large";
            return 0;
        }
        v.t = XG_V_DOUBLE;
        v.u.d = strtod(t, NULL);
        return push(p, &v);
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (!frac) {
        errno = 0;
        char *end;
        long long i = strtoll(buf, &end, 10);
        if (errno == 0 && *end == '\0') {
            v.u.i = i;
            return push(p, &v);
        }
    }
    v.t = XG_V_DOUBLE;                 /* fraction, exponent or beyond int64 */
    v.u.d = strtod(buf, NULL);
    return push(p, &v);
}

static int cb_string(void *ctx, const unsigned char *s, size_t n)
{
    struct jp *p = ctx;
    if (n > XG_MAX_STRING_BYTES) {
        p->err = "string too long";
        return 0;
    }
    xg_value v = { .t = XG_V_STRING, .n = (uint32_t)n };
    v.u.s = xg_arena_strndup(p->a, (const char *)s, n);
    if (!v.u.s) {
        p->err = "request too large";
        return 0;
    }
    return push(p, &v);
}

static int open_c(struct jp *p, bool obj)
{
    if (p->depth >= XG_MAX_NESTING) {
        p->err = "nesting too deep";
        return 0;
    }
    if (p->depth > 0) {
        /* a placeholder in the parent, with the parent's pending key; the
         * container's value replaces it when it closes */
        xg_value marker = { .t = XG_V_NIL };
        if (!push(p, &marker))
            return 0;
    }
    p->depth++;
    p->open[p->depth] = p->nstk;
    p->is_obj[p->depth] = obj;
    p->key = NULL;
    return 1;
}

static int close_c(struct jp *p, bool obj)
{
    size_t first = p->open[p->depth];
    size_t n = p->nstk - first;
    xg_value v = { .t = obj ? XG_V_STRUCT : XG_V_ARRAY, .n = (uint32_t)n };
    if (obj) {
        xg_member *ms = n ? xg_arena_alloc(p->a, n * sizeof(*ms)) : NULL;
        if (n && !ms) {
            p->err = "request too large";
            return 0;
        }
        for (size_t i = 0; i < n; i++) {
            ms[i].name = stk[first + i].name;
            ms[i].name_len = stk[first + i].name_len;
            ms[i].v = stk[first + i].v;
        }
        v.u.members = ms;
    } else {
        xg_value *items = n ? xg_arena_alloc(p->a, n * sizeof(*items)) : NULL;
        if (n && !items) {
            p->err = "request too large";
            return 0;
        }
        for (size_t i = 0; i < n; i++)
            items[i] = stk[first + i].v;
        v.u.items = items;
    }
    p->nstk = first;
    p->depth--;
    if (p->depth == 0) {
        p->nstk = 0;
        p->top = v;
        p->have_top = true;
        return 1;
    }
    /* replace the marker slot (just below first) with the finished value */
    stk[p->nstk - 1].v = v;
    return 1;
}

static int cb_start_map(void *ctx) { return open_c(ctx, true); }
static int cb_end_map(void *ctx) { return close_c(ctx, true); }
static int cb_start_array(void *ctx) { return open_c(ctx, false); }
static int cb_end_array(void *ctx) { return close_c(ctx, false); }

static int cb_map_key(void *ctx, const unsigned char *s, size_t n)
{
    struct jp *p = ctx;
    if (n > XG_MAX_STRING_BYTES) {
        p->err = "key too long";
        return 0;
    }
    p->key = xg_arena_strndup(p->a, (const char *)s, n);
    p->key_len = (uint32_t)n;
    if (!p->key) {
        p->err = "request too large";
        return 0;
    }
    return 1;
}

static const yajl_callbacks callbacks = {
    .yajl_null = cb_null, .yajl_boolean = cb_bool, .yajl_number = cb_number,
    .yajl_string = cb_string, .yajl_start_map = cb_start_map,
    .yajl_map_key = cb_map_key, .yajl_end_map = cb_end_map,
    .yajl_start_array = cb_start_array, .yajl_end_array = cb_end_array,
};

/* JSON text of a string id, to be echoed verbatim. */
static char *quote(xg_arena *a, const char *s, size_t n, uint32_t *len)
{
    char *q = xg_arena_alloc(a, n * 6 + 3);
    if (!q)
        return NULL;
    size_t k = 0;
    q[k++] = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            q[k++] = '\\';
            q[k++] = (char)c;
        } else if (c < 0x20) {
            k += (size_t)sprintf(q + k, "\\u%04x", c);
        } else {
            q[k++] = (char)c;
        }
    }
    q[k++] = '"';
    q[k] = '\0';
    *len = (uint32_t)k;
    return q;
}

static bool envelope(struct jp *p, struct xg_rpc_req *out, char *msg, size_t msglen)
{
    const xg_value *doc = &p->top;
    if (doc->t != XG_V_STRUCT) {
        snprintf(msg, msglen, "Jsonrpc.Malformed_method_request(not an object)");
        return false;
    }
    const xg_value *ver = NULL, *method = NULL, *params = NULL, *id = NULL;
    for (uint32_t i = 0; i < doc->n; i++) {
        const xg_member *m = &doc->u.members[i];
        if (strcmp(m->name, "jsonrpc") == 0)
            ver = &m->v;
        else if (strcmp(m->name, "method") == 0)
            method = &m->v;
        else if (strcmp(m->name, "params") == 0)
            params = &m->v;
        else if (strcmp(m->name, "id") == 0)
            id = &m->v;
    }
    bool v2 = ver && ver->t == XG_V_STRING && strcmp(ver->u.s, "2.0") == 0;
    out->proto = v2 ? XG_PROTO_JSONRPC_V2 : XG_PROTO_JSONRPC_V1;
    if (!method || method->t != XG_V_STRING) {
        snprintf(msg, msglen, "Jsonrpc.Malformed_method_request(method)");
        return false;
    }
    out->method = method->u.s;
    if (!id || (id->t != XG_V_INT && id->t != XG_V_DOUBLE && id->t != XG_V_STRING)) {
        snprintf(msg, msglen, "Jsonrpc.Malformed_method_request(id)");
        return false;
    }
    if (id->t == XG_V_STRING) {
        out->json_id = quote(p->a, id->u.s, id->n, &out->json_id_len);
    } else {
        out->json_id = p->id_raw;
        out->json_id_len = p->id_raw_len;
    }
    if (!out->json_id) {
        snprintf(msg, msglen, "request too large");
        return false;
    }
    if (!v2 && (!params || params->t != XG_V_ARRAY)) {
        snprintf(msg, msglen, "Jsonrpc.Malformed_method_request(params)");
        return false;
    }
    if (!params || params->t == XG_V_NIL) {
        out->params = NULL;
        out->nparams = 0;
    } else if (params->t == XG_V_ARRAY) {
        out->params = params->u.items;
        out->nparams = params->n;
    } else if (params->t == XG_V_STRUCT) {
        out->params = params;            /* one struct param */
        out->nparams = 1;
    } else {
        snprintf(msg, msglen, "Jsonrpc.Malformed_method_request(params)");
        return false;
    }
    if (out->nparams > XG_MAX_PARAMS) {
        snprintf(msg, msglen, "too many params");
        return false;
    }
    return true;
}

bool xg_jsonrpc_parse(xg_arena *a, const char *body, size_t len,
                      struct xg_rpc_req *out, char *msg, size_t msglen)
{
    memset(out, 0, sizeof(*out));
    out->proto = XG_PROTO_JSONRPC_V1;
    if (len > XG_MAX_BODY_BYTES) {
        snprintf(msg, msglen, "request too large");
        return false;
    }
    struct jp p;
    memset(&p, 0, sizeof(p));
    p.a = a;
    yajl_handle h = yajl_alloc(&callbacks, NULL, &p);
    if (!h)
        abort();
    yajl_status st = yajl_parse(h, (const unsigned char *)body, len);
    if (st == yajl_status_ok)
        st = yajl_complete_parse(h);
    bool ok = st == yajl_status_ok && p.have_top;
    if (!ok) {
        if (p.err) {
            snprintf(msg, msglen, "Jsonrpc.Parse_error(%s)", p.err);
        } else {
            unsigned char *e = yajl_get_error(h, 0, NULL, 0);
            snprintf(msg, msglen, "Jsonrpc.Parse_error(%s)", e ? (char *)e : "malformed");
            if (e)
                yajl_free_error(h, e);
        }
    }
    yajl_free(h);
    if (stk_cap > 4096) {               /* a huge request: give the memory back */
        free(stk);
        stk = NULL;
        stk_cap = 0;
    }
    return ok && envelope(&p, out, msg, msglen);
}
