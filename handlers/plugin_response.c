/* plugin_response.c: reads a host plugin's stdout, an XML-RPC
 * methodResponse, over the gateway's strict XML reader (server/xml_scan.h:
 * no markup declarations, bounded, arena only). Only what XAPI's
 * call_plugin uses is read: one string result, or a fault's code and string;
 * anything else is "unexpected". Strings may be as long as the output cap
 * allows (a request's string bound does not apply to a plugin's answer). */
#include "plugin_response.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../server/xml_scan.h"

static bool next(xg_xml *x, struct xg_xml_tag *t)
{
    return xg_xml_skip_space(x) && xg_xml_tag(x, t);
}

static bool open_tag(xg_xml *x, const char *name)
{
    struct xg_xml_tag t;
    if (!next(x, &t))
        return false;
    if (t.kind == XG_XML_OPEN && xg_xml_is(&t, name))
        return true;
    return xg_xml_fail(x, "expected <%s>", name);
}

static bool close_tag(xg_xml *x, const char *name)
{
    struct xg_xml_tag t;
    if (!next(x, &t))
        return false;
    if (t.kind == XG_XML_CLOSE && xg_xml_is(&t, name))
        return true;
    return xg_xml_fail(x, "expected </%s>", name);
}

enum vkind { V_STRING, V_INT, V_OTHER };

/* <value>: untyped text or <string> is a string, <int>/<i4>/<i8> an int
 * (text kept), any other type is V_OTHER (not read further). */
static bool read_value(xg_xml *x, enum vkind *k, const char **s, uint32_t *n)
{
    struct xg_xml_tag t;
    *s = "";
    *n = 0;
    if (!next(x, &t))
        return false;
    if (!xg_xml_is(&t, "value") || (t.kind != XG_XML_OPEN && t.kind != XG_XML_EMPTY))
        return xg_xml_fail(x, "expected <value>");
    *k = V_STRING;
    if (t.kind == XG_XML_EMPTY)
        return true;
    if (!xg_xml_text(x, s, n) || !xg_xml_tag(x, &t))
        return false;
    if (t.kind == XG_XML_CLOSE && xg_xml_is(&t, "value"))
        return true;                           /* untyped: a string */
    bool is_string = xg_xml_is(&t, "string");
    bool is_int = xg_xml_is(&t, "int") || xg_xml_is(&t, "i4") || xg_xml_is(&t, "i8");
    if (!is_string && !is_int) {
        *k = V_OTHER;
        return true;
    }
    *k = is_string ? V_STRING : V_INT;
    *s = "";
    *n = 0;
    if (t.kind == XG_XML_EMPTY)
        return close_tag(x, "value");
    if (t.kind != XG_XML_OPEN)
        return xg_xml_fail(x, "expected a value");
    const char *name = is_string ? "string" : (xg_xml_is(&t, "int") ? "int" :
                                               xg_xml_is(&t, "i4") ? "i4" : "i8");
    return xg_xml_text(x, s, n) && close_tag(x, name) && close_tag(x, "value");
}

static bool at_end(xg_xml *x)
{
    if (!xg_xml_skip_space(x))
        return false;
    return x->p == x->end ? true : xg_xml_fail(x, "data after </methodResponse>");
}

static enum gw_plugin_answer fault(xg_xml *x, struct gw_plugin_reply *r)
{
    bool have_code = false, have_string = false;
    if (!open_tag(x, "value") || !open_tag(x, "struct"))
        return GW_PLUGIN_UNREADABLE;
    for (;;) {
        if (!xg_xml_skip_space(x))
            return GW_PLUGIN_UNREADABLE;
        if (xg_xml_at_close(x))
            break;
        const char *name, *s;
        uint32_t nn, n;
        enum vkind k;
        if (!open_tag(x, "member") || !open_tag(x, "name") || !xg_xml_text(x, &name, &nn) ||
            !close_tag(x, "name") || !read_value(x, &k, &s, &n))
            return GW_PLUGIN_UNREADABLE;
        if (k == V_OTHER)
            return GW_PLUGIN_UNEXPECTED;
        if (strcmp(name, "faultCode") == 0 && k == V_INT) {
            char *end;
            long long code = strtoll(s, &end, 10);
            if (end == s || code < INT32_MIN || code > INT32_MAX)
                return GW_PLUGIN_UNEXPECTED;
            r->fault_code = (int32_t)code;
            have_code = true;
        } else if (strcmp(name, "faultString") == 0 && k == V_STRING) {
            r->text = s;
            r->len = n;
            have_string = true;
        }
        if (!close_tag(x, "member"))
            return GW_PLUGIN_UNREADABLE;
    }
    if (!close_tag(x, "struct") || !close_tag(x, "value") || !close_tag(x, "fault") ||
        !close_tag(x, "methodResponse") || !at_end(x))
        return GW_PLUGIN_UNREADABLE;
    return have_code && have_string ? GW_PLUGIN_FAULT : GW_PLUGIN_UNEXPECTED;
}

enum gw_plugin_answer gw_plugin_read_reply(xg_arena *a, const char *out, size_t len,
                                           struct gw_plugin_reply *r)
{
    memset(r, 0, sizeof(*r));
    xg_xml x;
    struct xg_xml_tag t;
    if (!xg_xml_begin(&x, a, out, len, r->why, sizeof(r->why)) ||
        !open_tag(&x, "methodResponse") || !next(&x, &t))
        return GW_PLUGIN_UNREADABLE;
    if (t.kind == XG_XML_OPEN && xg_xml_is(&t, "fault"))
        return fault(&x, r);
    if (t.kind != XG_XML_OPEN || !xg_xml_is(&t, "params")) {
        xg_xml_fail(&x, "expected <params> or <fault>");
        return GW_PLUGIN_UNREADABLE;
    }
    enum vkind k;
    if (!open_tag(&x, "param") || !read_value(&x, &k, &r->text, &r->len))
        return GW_PLUGIN_UNREADABLE;
    if (k != V_STRING)
        return GW_PLUGIN_UNEXPECTED;
    if (!close_tag(&x, "param") || !xg_xml_skip_space(&x))
        return GW_PLUGIN_UNREADABLE;
    if (!xg_xml_at_close(&x))                  /* a second result */
        return GW_PLUGIN_UNEXPECTED;
    if (!close_tag(&x, "params") || !close_tag(&x, "methodResponse") || !at_end(&x))
        return GW_PLUGIN_UNREADABLE;
    return GW_PLUGIN_OK;
}
