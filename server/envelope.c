/* envelope.c: the protocol wrappers around a result or an error, exactly as
 * XAPI writes them (spec §1.5, §3): XML-RPC Status/Value|ErrorDescription
 * struct, JSON-RPC v1 result/error/id, v2 jsonrpc/result|error{code 1}/id.
 * Values inside go through the call's writer, which escapes and sanitises;
 * the fixed text around them is written here. */
#include "call.h"

#include <string.h>

#define LIT(o, s) xg_out_append((o), s, sizeof(s) - 1)

#define XML_HEAD "<?xml version=\"1.0\"?><methodResponse><params><param>"
#define XML_TAIL "</param></params></methodResponse>"

static void fresh_writer(xg_call *c)
{
    if (c->proto == XG_PROTO_XMLRPC)
        xg_writer_init_xml(&c->w, &c->out);
    else
        xg_writer_init_json(&c->w, &c->out);
}

static void json_id(xg_call *c)
{
    if (c->json_id && c->json_id_len)
        xg_out_append(&c->out, c->json_id, c->json_id_len);
    else
        LIT(&c->out, "null");
}

void xg_envelope_begin_success(xg_call *c)
{
    switch (c->proto) {
    case XG_PROTO_XMLRPC:
        LIT(&c->out, XML_HEAD "<value><struct><member><name>Status</name><value>Success"
                     "</value></member><member><name>Value</name>");
        break;
    case XG_PROTO_JSONRPC_V1:
        LIT(&c->out, "{\"result\":");
        break;
    case XG_PROTO_JSONRPC_V2:
        LIT(&c->out, "{\"jsonrpc\":\"2.0\",\"result\":");
        break;
    }
    fresh_writer(c);
}

void xg_envelope_end_success(xg_call *c)
{
    switch (c->proto) {
    case XG_PROTO_XMLRPC:
        LIT(&c->out, "</member></struct></value>" XML_TAIL);
        break;
    case XG_PROTO_JSONRPC_V1:
        LIT(&c->out, ",\"error\":null,\"id\":");
        json_id(c);
        xg_out_putc(&c->out, '}');
        break;
    case XG_PROTO_JSONRPC_V2:
        LIT(&c->out, ",\"id\":");
        json_id(c);
        xg_out_putc(&c->out, '}');
        break;
    }
}

static void params_array(xg_call *c, const xg_err *err, bool with_code)
{
    fresh_writer(c);
    c->w.ops->begin_array(&c->w);
    if (with_code)
        xg_write_cstr(&c->w, err->code);
    for (int i = 0; i < err->nparams; i++)
        xg_write_cstr(&c->w, err->param[i]);
    c->w.ops->end_array(&c->w);
}

void xg_envelope_failure(xg_call *c, const xg_err *err)
{
    static const xg_err unknown = {.code = "INTERNAL_ERROR", .nparams = 1,
                                   .param = {"unknown error"}};
    if (!err || !err->code)
        err = &unknown;
    switch (c->proto) {
    case XG_PROTO_XMLRPC:
        LIT(&c->out, XML_HEAD "<value><struct><member><name>Status</name><value>Failure"
                     "</value></member><member><name>ErrorDescription</name>");
        params_array(c, err, true);
        LIT(&c->out, "</member></struct></value>" XML_TAIL);
        break;
    case XG_PROTO_JSONRPC_V1:
        LIT(&c->out, "{\"result\":null,\"error\":");
        params_array(c, err, true);
        LIT(&c->out, ",\"id\":");
        json_id(c);
        xg_out_putc(&c->out, '}');
        break;
    case XG_PROTO_JSONRPC_V2:
        LIT(&c->out, "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":1,\"message\":");
        fresh_writer(c);
        xg_write_cstr(&c->w, err->code);
        LIT(&c->out, ",\"data\":");
        params_array(c, err, false);
        LIT(&c->out, "},\"id\":");
        json_id(c);
        xg_out_putc(&c->out, '}');
        break;
    }
}

/* system.listMethods answers a bare array in XML-RPC (no Status struct). */
void xg_envelope_bare_begin(xg_call *c)
{
    if (c->proto == XG_PROTO_XMLRPC) {
        LIT(&c->out, XML_HEAD);
        fresh_writer(c);
    } else {
        xg_envelope_begin_success(c);
    }
}

void xg_envelope_bare_end(xg_call *c)
{
    if (c->proto == XG_PROTO_XMLRPC)
        LIT(&c->out, XML_TAIL);
    else
        xg_envelope_end_success(c);
}
