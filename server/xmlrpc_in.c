/* xmlrpc_in.c: XML-RPC request body → xg_value tree in the call arena.
 * Markup declarations are refused before xmlrpc-c sees the body (billion
 * laughs, spec/perf-and-hardening.md §2.6); xmlrpc-c then parses with its
 * process-global limits, and the xmlrpc_value tree is copied into the arena
 * with our own depth/member/string limits and freed at once. */
#include "rpc_in.h"

#include <pthread.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <xmlrpc-c/base.h>

#include "limits.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void set_limits(void)
{
    /* body cap is ours (300 KiB) and checked before; keep xmlrpc-c's a bit
     * above so that its own check never disagrees with ours */
    xmlrpc_limit_set(XMLRPC_XML_SIZE_LIMIT_ID, XG_MAX_BODY_BYTES + 1024);
    xmlrpc_limit_set(XMLRPC_NESTING_LIMIT_ID, XG_MAX_NESTING);
}

void xg_xmlrpc_in_init(void)
{
    pthread_once(&once, set_limits);
}

bool xg_xml_has_declaration(const char *body, size_t len)
{
    const char *p = body, *end = body + len;
    while (p < end) {
        const char *lt = memchr(p, '<', (size_t)(end - p));
        if (!lt || lt + 1 >= end)
            return false;
        if (lt[1] == '!') {
            size_t rest = (size_t)(end - lt);
            if (rest >= 4 && memcmp(lt, "<!--", 4) == 0) {
                p = lt + 4;
                continue;
            }
            if (rest >= 9 && memcmp(lt, "<![CDATA[", 9) == 0) {
                p = lt + 9;
                continue;
            }
            return true;             /* DOCTYPE, ENTITY, ELEMENT, truncated… */
        }
        p = lt + 1;
    }
    return false;
}

struct conv {
    xg_arena *a;
    xmlrpc_env *env;
    uint32_t values;
    char *msg;
    size_t msglen;
};

static bool fail(struct conv *cv, const char *why)
{
    snprintf(cv->msg, cv->msglen, "%s", why);
    return false;
}

static bool convert(struct conv *cv, xmlrpc_value *x, xg_value *v, unsigned depth)
{
    if (depth > XG_MAX_NESTING)
        return fail(cv, "nesting too deep");
    if (++cv->values > XG_MAX_MEMBERS)
        return fail(cv, "too many values");
    xmlrpc_env *env = cv->env;
    switch (xmlrpc_value_type(x)) {
    case XMLRPC_TYPE_INT: {
        int i;
        xmlrpc_read_int(env, x, &i);
        v->t = XG_V_INT;
        v->u.i = i;
        break;
    }
    case XMLRPC_TYPE_I8: {
        xmlrpc_int64 i;
        xmlrpc_read_i8(env, x, &i);
        v->t = XG_V_INT;
        v->u.i = i;
        break;
    }
    case XMLRPC_TYPE_BOOL: {
        xmlrpc_bool b;
        xmlrpc_read_bool(env, x, &b);
        v->t = XG_V_BOOL;
        v->u.b = b;
        break;
    }
    case XMLRPC_TYPE_DOUBLE:
        v->t = XG_V_DOUBLE;
        xmlrpc_read_double(env, x, &v->u.d);
        break;
    case XMLRPC_TYPE_DATETIME: {
        const char *s = NULL;
        /* the raw text, decode.c parses XAPI's lenient forms */
        xmlrpc_read_datetime_str(env, x, &s);
        if (env->fault_occurred)
            return fail(cv, "bad dateTime.iso8601");
        v->t = XG_V_DATETIME;
        v->n = (uint32_t)strlen(s);
        v->u.s = xg_arena_strndup(cv->a, s, v->n);
        free((void *)s);
        if (!v->u.s)
            return fail(cv, "request too large");
        break;
    }
    case XMLRPC_TYPE_STRING: {
        const char *s = NULL;
        size_t n = 0;
        xmlrpc_read_string_lp(env, x, &n, &s);
        if (env->fault_occurred)
            return fail(cv, "bad string");
        if (n > XG_MAX_STRING_BYTES) {
            free((void *)s);
            return fail(cv, "string too long");
        }
        v->t = XG_V_STRING;
        v->n = (uint32_t)n;
        v->u.s = xg_arena_strndup(cv->a, s, n);
        free((void *)s);
        if (!v->u.s)
            return fail(cv, "request too large");
        break;
    }
    case XMLRPC_TYPE_BASE64: {
        const unsigned char *s = NULL;
        size_t n = 0;
        xmlrpc_read_base64(env, x, &n, &s);
        if (env->fault_occurred)
            return fail(cv, "bad base64");
        v->t = XG_V_BASE64;
        v->n = (uint32_t)n;
        v->u.s = xg_arena_strndup(cv->a, (const char *)s, n);
        free((void *)s);
        if (!v->u.s)
            return fail(cv, "request too large");
        break;
    }
    case XMLRPC_TYPE_NIL:
        v->t = XG_V_NIL;
        break;
    case XMLRPC_TYPE_ARRAY: {
        int n = xmlrpc_array_size(env, x);
        if (env->fault_occurred || n < 0)
            return fail(cv, "bad array");
        xg_value *items = n ? xg_arena_alloc(cv->a, (size_t)n * sizeof(*items)) : NULL;
        if (n && !items)
            return fail(cv, "request too large");
        for (int i = 0; i < n; i++) {
            xmlrpc_value *e = NULL;
            xmlrpc_array_read_item(env, x, i, &e);
            if (env->fault_occurred)
                return fail(cv, "bad array");
            bool ok = convert(cv, e, &items[i], depth + 1);
            xmlrpc_DECREF(e);
            if (!ok)
                return false;
        }
        v->t = XG_V_ARRAY;
        v->n = (uint32_t)n;
        v->u.items = items;
        break;
    }
    case XMLRPC_TYPE_STRUCT: {
        int n = xmlrpc_struct_size(env, x);
        if (env->fault_occurred || n < 0)
            return fail(cv, "bad struct");
        xg_member *ms = n ? xg_arena_alloc(cv->a, (size_t)n * sizeof(*ms)) : NULL;
        if (n && !ms)
            return fail(cv, "request too large");
        for (int i = 0; i < n; i++) {
            xmlrpc_value *k = NULL, *e = NULL;
            xmlrpc_struct_read_member(env, x, (unsigned)i, &k, &e);
            if (env->fault_occurred)
                return fail(cv, "bad struct");
            const char *ks = NULL;
            size_t kn = 0;
            xmlrpc_read_string_lp(env, k, &kn, &ks);
            xmlrpc_DECREF(k);
            if (env->fault_occurred) {
                xmlrpc_DECREF(e);
                return fail(cv, "bad member name");
            }
            ms[i].name = xg_arena_strndup(cv->a, ks, kn);
            ms[i].name_len = (uint32_t)kn;
            free((void *)ks);
            bool ok = ms[i].name && convert(cv, e, &ms[i].v, depth + 1);
            xmlrpc_DECREF(e);
            if (!ok)
                return ms[i].name ? false : fail(cv, "request too large");
        }
        v->t = XG_V_STRUCT;
        v->n = (uint32_t)n;
        v->u.members = ms;
        break;
    }
    default:
        return fail(cv, "unsupported XML-RPC type");
    }
    if (env->fault_occurred)
        return fail(cv, env->fault_string ? env->fault_string : "bad value");
    return true;
}

/* xmlrpc-c 1.33 (Debian 12) crashes formatting the fault for any <i8> whose
 * text its strtoll-based reader refuses (strlen(NULL) in
 * xmlrpc_set_fault_formatted_v), so every <i8>/<ex:i8> must hold exactly
 * [+-]?[0-9]+ within int64, or nothing, before xmlrpc-c sees it: no
 * whitespace on either side, no entity, CDATA, comment or child element. */
static bool i8_content_ok(const char *p, const char *end)
{
    const char *lt = memchr(p, '<', (size_t)(end - p));
    if (!lt || lt + 1 >= end || lt[1] != '/')
        return false;               /* markup inside an int: refuse */
    size_t n = (size_t)(lt - p);
    if (n == 0)
        return true;                /* empty: xmlrpc-c reports it cleanly */
    char num[24];
    if (n >= sizeof(num))
        return false;
    memcpy(num, p, n);
    num[n] = '\0';
    size_t digits = (num[0] == '+' || num[0] == '-') ? 1 : 0;
    if (num[digits] == '\0' || strspn(num + digits, "0123456789") != n - digits)
        return false;
    errno = 0;
    (void)strtoll(num, NULL, 10);
    return errno == 0;
}

bool xg_xml_bad_i8(const char *body, size_t len)
{
    const char *p = body, *end = body + len;
    while ((p = memchr(p, '<', (size_t)(end - p))) != NULL) {
        p++;
        const char *name = p;
        while (p < end && *p != '>' && *p != ' ' && *p != '/' && *p != '\t' &&
               *p != '\r' && *p != '\n')
            p++;
        size_t n = (size_t)(p - name);
        bool is_i8 = (n == 2 && memcmp(name, "i8", 2) == 0) ||
                     (n > 3 && memcmp(name + n - 3, ":i8", 3) == 0);
        if (!is_i8)
            continue;
        while (p < end && *p != '>')
            p++;
        if (p >= end)
            return true;
        if (p[-1] == '/')
            continue;               /* <i8/>: empty, xmlrpc-c reports it cleanly */
        if (!i8_content_ok(p + 1, end))
            return true;
    }
    return false;
}

static void widen_int_tags(char *p, size_t len)
{
    static const struct { const char *from, *to; } subst[] = {
        { "<i4>", "<i8>" }, { "</i4>", "</i8>" },
        { "<int>", "<i8 >" }, { "</int>", "</i8 >" },   /* whitespace is legal there */
    };
    char *end = p + len;
    for (char *q = p; (q = memchr(q, '<', (size_t)(end - q))) != NULL; q++) {
        for (size_t i = 0; i < sizeof(subst) / sizeof(subst[0]); i++) {
            size_t n = strlen(subst[i].from);
            if ((size_t)(end - q) >= n && memcmp(q, subst[i].from, n) == 0) {
                memcpy(q, subst[i].to, n);
                break;
            }
        }
    }
}

/* xmlrpc-c accepts a methodCall without <params>; XAPI does not. */
static bool has_params(const char *body, size_t len)
{
    static const char tag[] = "<params";
    for (const char *p = body; (size_t)(p - body) + sizeof(tag) - 1 <= len; p++) {
        p = memchr(p, '<', len - (size_t)(p - body));
        if (!p || (size_t)(body + len - p) < sizeof(tag) - 1)
            return false;
        if (memcmp(p, tag, sizeof(tag) - 1) == 0)
            return true;
    }
    return false;
}

bool xg_xmlrpc_parse(xg_arena *a, const char *body, size_t len,
                     struct xg_rpc_req *out, char *msg, size_t msglen)
{
    xg_xmlrpc_in_init();
    memset(out, 0, sizeof(*out));
    out->proto = XG_PROTO_XMLRPC;
    if (len > XG_MAX_BODY_BYTES) {
        snprintf(msg, msglen, "request too large");
        return false;
    }
    if (xg_xml_has_declaration(body, len)) {
        snprintf(msg, msglen, "Xmlrpc.Parse_error(DTD or markup declaration refused)");
        return false;
    }
    /* XAPI reads every integer as int64; xmlrpc-c's <i4>/<int> are 32-bit
     * and refuse larger values, so those tags become <i8> (same length,
     * in a copy) before parsing. Literal "<i4>" cannot occur in text: '<'
     * is escaped there. */
    char *copy = xg_arena_strndup(a, body, len);
    if (!copy) {
        snprintf(msg, msglen, "request too large");
        return false;
    }
    widen_int_tags(copy, len);
    body = copy;
    if (xg_xml_bad_i8(body, len)) {
        snprintf(msg, msglen, "Xmlrpc.Parse_error(malformed <i8> value)");
        return false;
    }
    if (!has_params(body, len)) {
        snprintf(msg, msglen, "Xmlrpc.Parse_error(missing <params>)");
        return false;
    }
    xmlrpc_env env;
    xmlrpc_env_init(&env);
    const char *name = NULL;
    xmlrpc_value *params = NULL;
    xmlrpc_parse_call(&env, body, len, &name, &params);
    if (env.fault_occurred) {
        snprintf(msg, msglen, "Xmlrpc.Parse_error(%s)",
                 env.fault_string ? env.fault_string : "malformed");
        xmlrpc_env_clean(&env);
        return false;
    }
    bool ok = false;
    struct conv cv = { a, &env, 0, msg, msglen };
    int n = xmlrpc_array_size(&env, params);
    if (env.fault_occurred || n < 0) {
        fail(&cv, "bad params");
        goto out;
    }
    if (n > XG_MAX_PARAMS) {
        fail(&cv, "too many params");
        goto out;
    }
    out->method = xg_arena_strdup(a, name);
    xg_value *items = xg_arena_alloc(a, (size_t)(n ? n : 1) * sizeof(*items));
    if (!out->method || !items) {
        fail(&cv, "request too large");
        goto out;
    }
    for (int i = 0; i < n; i++) {
        xmlrpc_value *e = NULL;
        xmlrpc_array_read_item(&env, params, i, &e);
        if (env.fault_occurred) {
            fail(&cv, "bad params");
            goto out;
        }
        bool good = convert(&cv, e, &items[i], 1);
        xmlrpc_DECREF(e);
        if (!good)
            goto out;
    }
    out->params = items;
    out->nparams = (uint32_t)n;
    ok = true;
out:
    free((void *)name);
    xmlrpc_DECREF(params);
    xmlrpc_env_clean(&env);
    return ok;
}
