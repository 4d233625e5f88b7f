/* rpc_roundtrip.c: see rpc_roundtrip.h. */
#include "rpc_roundtrip.h"

#include <inttypes.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "limits.h"
#include "out.h"
#include "utf8.h"
#include "writer.h"

uint32_t fuzz_value_depth(const xg_value *v)
{
    uint32_t d = 0;
    if (v->t == XG_V_ARRAY)
        for (uint32_t i = 0; i < v->n; i++) {
            uint32_t k = fuzz_value_depth(&v->u.items[i]);
            d = k > d ? k : d;
        }
    if (v->t == XG_V_STRUCT)
        for (uint32_t i = 0; i < v->n; i++) {
            uint32_t k = fuzz_value_depth(&v->u.members[i].v);
            d = k > d ? k : d;
        }
    return v->t == XG_V_ARRAY || v->t == XG_V_STRUCT ? d + 1 : d;
}

/* JSON has no literal for them: the writer emits NaN/Infinity as XAPI's
 * Yojson does, which no JSON parser (ours included) reads back. */
static bool has_nonfinite(const xg_value *v)
{
    if (v->t == XG_V_DOUBLE)
        return !isfinite(v->u.d);
    for (uint32_t i = 0; v->t == XG_V_ARRAY && i < v->n; i++)
        if (has_nonfinite(&v->u.items[i]))
            return true;
    for (uint32_t i = 0; v->t == XG_V_STRUCT && i < v->n; i++)
        if (has_nonfinite(&v->u.members[i].v))
            return true;
    return false;
}

/* Bytes the writers carry unchanged: valid UTF-8 (not U+FFFE/U+FFFF in
 * XML), no control bytes but tab and LF (CR: XML parsers turn a raw CR into
 * LF, and XAPI writes it raw too), no NUL. */
bool fuzz_carried(const char *s, size_t n, bool xml)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        if (p[i] < 0x80) {
            if (p[i] < 0x20 && p[i] != '\t' && p[i] != '\n')
                return false;
            if (p[i] == 0x7f && xml)
                return false;
            i++;
            continue;
        }
        size_t k = xg_utf8_seq(p + i, n - i);
        if (!k || (xml && k == 3 && p[i] == 0xEF && p[i + 1] == 0xBF && p[i + 2] >= 0xBE))
            return false;
        i += k;
    }
    return true;
}

void fuzz_write_value(xg_writer *w, const xg_value *v, bool i4)
{
    switch (v->t) {
    case XG_V_NIL:
        xg_write_cstr(w, "");
        break;
    case XG_V_STRING:
    case XG_V_DATETIME:
    case XG_V_BASE64:
        w->ops->string(w, v->u.s, v->n);
        break;
    case XG_V_INT:
        if (i4 && v->u.i >= INT32_MIN && v->u.i <= INT32_MAX)
            w->ops->int32(w, (int32_t)v->u.i);
        else
            w->ops->int64(w, v->u.i);
        break;
    case XG_V_DOUBLE:
        w->ops->dbl(w, v->u.d);
        break;
    case XG_V_BOOL:
        w->ops->boolean(w, v->u.b);
        break;
    case XG_V_ARRAY:
        w->ops->begin_array(w);
        for (uint32_t i = 0; i < v->n; i++)
            fuzz_write_value(w, &v->u.items[i], i4);
        w->ops->end_array(w);
        break;
    case XG_V_STRUCT:
        w->ops->begin_struct(w);
        for (uint32_t i = 0; i < v->n; i++) {
            const xg_member *m = &v->u.members[i];
            w->ops->member(w, m->name, m->name_len);
            fuzz_write_value(w, &m->v, i4);
        }
        w->ops->end_struct(w);
        break;
    }
}

static void fail(const char *what, const char *body)
{
    fprintf(stderr, "round trip broken: %s\nre-encoded document:\n%s\n", what, body);
    abort();
}

static bool same_double(double a, double b)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    if (a == b)
        return true;
    return fabs(a - b) <= 1e-15 * fmax(fabs(a), fabs(b));
}

void fuzz_value_compare(const xg_value *a, const xg_value *b, bool xml, bool i4, const char *body)
{
    switch (a->t) {
    case XG_V_NIL:
        return;                     /* the writers have no nil */
    case XG_V_STRING:
    case XG_V_DATETIME:
    case XG_V_BASE64:
        if (b->t != XG_V_STRING && b->t != a->t)   /* typed by fuzz_decode's writer */
            fail("a string came back as another type", body);
        if (fuzz_carried(a->u.s, a->n, xml) && (a->n != b->n || memcmp(a->u.s, b->u.s, a->n)))
            fail("a string came back changed", body);
        return;
    case XG_V_INT:
        if (xml && i4 && a->u.i >= INT32_MIN && a->u.i <= INT32_MAX) {
            if (b->t != XG_V_INT || b->u.i != a->u.i)
                fail("an <i4> int came back changed", body);
        } else if (xml) {
            char dec[24];
            snprintf(dec, sizeof dec, "%" PRId64, a->u.i);
            if (b->t != XG_V_STRING || strcmp(b->u.s, dec))
                fail("an int did not come back as its decimal string", body);
        } else if (b->t != XG_V_INT || b->u.i != a->u.i) {
            fail("an int came back changed", body);
        }
        return;
    case XG_V_DOUBLE:
        if (b->t != XG_V_DOUBLE || !same_double(a->u.d, b->u.d))
            fail("a double came back changed", body);
        return;
    case XG_V_BOOL:
        if (b->t != XG_V_BOOL || b->u.b != a->u.b)
            fail("a boolean came back changed", body);
        return;
    case XG_V_ARRAY:
        if (b->t != XG_V_ARRAY || b->n != a->n)
            fail("an array came back changed", body);
        for (uint32_t i = 0; i < a->n; i++)
            fuzz_value_compare(&a->u.items[i], &b->u.items[i], xml, i4, body);
        return;
    case XG_V_STRUCT:
        if (b->t != XG_V_STRUCT || b->n != a->n)
            fail("a struct came back changed", body);
        for (uint32_t i = 0; i < a->n; i++) {
            const xg_member *ma = &a->u.members[i], *mb = &b->u.members[i];
            if (fuzz_carried(ma->name, ma->name_len, xml) &&
                (ma->name_len != mb->name_len || memcmp(ma->name, mb->name, ma->name_len)))
                fail("a member name came back changed", body);
            fuzz_value_compare(&ma->v, &mb->v, xml, i4, body);
        }
        return;
    }
}

/* A method name the envelope can carry without escaping. */
static const char *plain_method(const char *m)
{
    if (!*m || strlen(m) > 128)
        return "m";
    for (const char *p = m; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || *p == '.' || *p == '_'))
            return "m";
    return m;
}

void fuzz_rpc_roundtrip(const struct xg_rpc_req *req)
{
    bool xml = req->proto == XG_PROTO_XMLRPC;
    for (uint32_t i = 0; i < req->nparams; i++)
        if (fuzz_value_depth(&req->params[i]) > FUZZ_WRITER_DEPTH ||
            (!xml && has_nonfinite(&req->params[i])))
            return;
    const char *method = plain_method(req->method);
    xg_out out;
    xg_writer w;
    xg_out_init(&out);
    if (xml) {
        xg_writer_init_xml(&w, &out);
        xg_out_printf(&out, "<?xml version=\"1.0\"?><methodCall><methodName>%s"
                      "</methodName><params>", method);
        for (uint32_t i = 0; i < req->nparams; i++) {
            xg_out_puts(&out, "<param>");
            fuzz_write_value(&w, &req->params[i], false);
            xg_out_puts(&out, "</param>");
        }
        xg_out_puts(&out, "</params></methodCall>");
    } else {
        xg_writer_init_json(&w, &out);
        xg_out_printf(&out, "{\"jsonrpc\":\"2.0\",\"method\":\"%s\",\"params\":", method);
        w.ops->begin_array(&w);
        for (uint32_t i = 0; i < req->nparams; i++)
            fuzz_write_value(&w, &req->params[i], false);
        w.ops->end_array(&w);
        xg_out_puts(&out, ",\"id\":1}");
    }
    size_t len;
    char *body = xg_out_strdup(&out, &len);
    xg_out_reset(&out);

    static xg_arena *a;
    if (!a)
        a = xg_arena_new(XG_CALL_ARENA_BYTES);
    xg_arena_reset(a);
    struct xg_rpc_req back;
    char msg[256];
    bool ok = xml ? xg_xmlrpc_parse(a, body, len, &back, msg, sizeof msg)
                  : xg_jsonrpc_parse(a, body, len, &back, msg, sizeof msg);
    if (!ok) {
        char what[320];
        snprintf(what, sizeof what, "our own request does not parse: %s", msg);
        fail(what, body);
    }
    if (back.nparams != req->nparams || strcmp(back.method, method))
        fail("method or parameter count changed", body);
    for (uint32_t i = 0; i < req->nparams; i++)
        fuzz_value_compare(&req->params[i], &back.params[i], xml, false, body);
    free(body);
}
