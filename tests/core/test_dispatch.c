/* test_dispatch.c: calls pushed through xg_dispatch over the mini IDL, with
 * the real XML-RPC and JSON writers; checks exact response bytes for count
 * errors, defaults, type errors, HANDLE_INVALID/UUID_INVALID, implicit
 * messages (records, where-expressions, map/set ops), Async tasks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "call.h"
#include "store.h"
#include "test_handlers.h"
#include "xapi_types.h"

#define XML_OK "<?xml version=\"1.0\"?><methodResponse><params><param><value><struct>" \
    "<member><name>Status</name><value>Success</value></member><member><name>Value</name>"
#define XML_FAIL "<?xml version=\"1.0\"?><methodResponse><params><param><value><struct>" \
    "<member><name>Status</name><value>Failure</value></member><member>" \
    "<name>ErrorDescription</name><value><array><data>"
#define XML_END "</member></struct></value></param></params></methodResponse>"
#define XML_FAIL_END "</data></array></value>" XML_END

static xg_value S(const char *s)
{
    return (xg_value){.t = XG_V_STRING, .n = (uint32_t)strlen(s), .u.s = s};
}

static xg_value B(bool b)
{
    return (xg_value){.t = XG_V_BOOL, .u.b = b};
}

static int responses;
static void on_response(xg_call *c)
{
    responses++;
}

static char out_buf[1 << 20];

/* Runs one call and returns the whole body (static buffer). */
static const char *call(enum xg_proto proto, const char *method, const xg_value *p, int n)
{
    xg_call *c = xg_call_new(proto);
    c->method_name = method;
    c->params = p;
    c->nparams = (uint32_t)n;
    c->json_id = "7";
    c->json_id_len = 1;
    c->on_response = on_response;
    int before = responses;
    xg_dispatch(c);
    while (c->producer)
        xg_call_produce(c);
    assert_int_equal(responses, before + 1);
    size_t len;
    char *s = xg_out_strdup(&c->out, &len);
    snprintf(out_buf, sizeof(out_buf), "%s", s);
    free(s);
    xg_call_unref(c);
    return out_buf;
}

static xapi_vm *vm1;

static int setup(void **state)
{
    xg_store_init();
    xg_err err = XG_ERR_INIT;
    vm1 = xapi_vm_new();
    xapi_vm_set_name_label(vm1, "one");
    xapi_vm_set_vcpus_max(vm1, 2);
    assert_true(xg_store_add(vm1, "OpaqueRef:vm1", &err));
    memset(&tlog, 0, sizeof(tlog));
    return 0;
}

static int teardown(void **state)
{
    xg_store_shutdown();
    return 0;
}

static void test_count_mismatch(void **state)
{
    xg_value p[] = {S(TEST_SESSION), S("OpaqueRef:vm1")};
    assert_string_equal(call(XG_PROTO_XMLRPC, "VM.start", p, 2),
        XML_FAIL "<value>MESSAGE_PARAMETER_COUNT_MISMATCH</value><value>VM.start</value>"
        "<value>3</value><value>1</value>" XML_FAIL_END);
    assert_int_equal(tlog.session_checks, 0);   /* arity first, like XAPI */
    /* too many params for a message without defaults */
    xg_value q[] = {S(TEST_SESSION), S("OpaqueRef:vm1"), B(0), B(0), B(0)};
    assert_string_equal(call(XG_PROTO_JSONRPC_V1, "VM.start", q, 5),
        "{\"result\":null,\"error\":[\"MESSAGE_PARAMETER_COUNT_MISMATCH\",\"VM.start\",\"3\","
        "\"4\"],\"id\":7}");
    /* with defaults: 2 required of 4, extra ones ignored */
    xg_value l[] = {S("root")};
    assert_string_equal(call(XG_PROTO_JSONRPC_V2, "session.login_with_password", l, 1),
        "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":1,\"message\":\"MESSAGE_PARAMETER_COUNT_"
        "MISMATCH\",\"data\":[\"session.login_with_password\",\"2\",\"1\"]},\"id\":7}");
}

static void test_defaults_and_sessionless(void **state)
{
    xg_value l[] = {S("root"), S("pw")};
    assert_string_equal(call(XG_PROTO_JSONRPC_V2, "session.login_with_password", l, 2),
        "{\"jsonrpc\":\"2.0\",\"result\":\"OpaqueRef:s1\",\"id\":7}");
    assert_string_equal(tlog.login, "root/pw/1.1/");
    xg_value l5[] = {S("root"), S("pw"), S("2.21"), S("xo"), S("extra")};
    call(XG_PROTO_XMLRPC, "session.login_with_password", l5, 5);
    assert_string_equal(tlog.login, "root/pw/2.21/xo");
    assert_int_equal(tlog.session_checks, 0);
}

static void test_session_and_unknown(void **state)
{
    xg_value p[] = {S("OpaqueRef:bad"), S("OpaqueRef:vm1")};
    assert_string_equal(call(XG_PROTO_XMLRPC, "VM.get_record", p, 2),
        XML_FAIL "<value>SESSION_INVALID</value><value>OpaqueRef:bad</value>" XML_FAIL_END);
    assert_string_equal(call(XG_PROTO_JSONRPC_V1, "Async.VM.nope", p, 2),
        "{\"result\":null,\"error\":[\"MESSAGE_METHOD_UNKNOWN\",\"VM.nope\"],\"id\":7}");
    assert_string_equal(call(XG_PROTO_JSONRPC_V1, "Async.VM.get_record", p, 2),
        "{\"result\":null,\"error\":[\"Fault\",\"No async mode for this operation (rpc: "
        "VM.get_record)\"],\"id\":7}");
}

static void test_handle_and_uuid_invalid(void **state)
{
    xg_value p[] = {S(TEST_SESSION), S("OpaqueRef:nope")};
    assert_string_equal(call(XG_PROTO_JSONRPC_V1, "VM.get_record", p, 2),
        "{\"result\":null,\"error\":[\"HANDLE_INVALID\",\"VM\",\"OpaqueRef:nope\"],\"id\":7}");
    assert_string_equal(call(XG_PROTO_JSONRPC_V2, "VM.get_by_uuid", p, 2),
        "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":1,\"message\":\"UUID_INVALID\",\"data\":"
        "[\"VM\",\"OpaqueRef:nope\"]},\"id\":7}");
    xg_value u[] = {S(TEST_SESSION), S(vm1->uuid)};
    assert_string_equal(call(XG_PROTO_JSONRPC_V2, "VM.get_by_uuid", u, 2),
        "{\"jsonrpc\":\"2.0\",\"result\":\"OpaqueRef:vm1\",\"id\":7}");
}

static void test_type_errors(void **state)
{
    xg_value p[] = {S(TEST_SESSION), S("OpaqueRef:vm1"), S("yes")};
    assert_string_equal(call(XG_PROTO_JSONRPC_V1, "VM.set_is_a_template", p, 3),
        "{\"result\":null,\"error\":[\"INTERNAL_ERROR\",\"Failure(\\\"Expected bool, got "
        "'S(yes)'\\\")\"],\"id\":7}");
    xg_value bad[] = {S(TEST_SESSION), S("OpaqueRef:vm1"), S("\xff\xfe")};
    assert_string_equal(call(XG_PROTO_JSONRPC_V1, "VM.set_name_label", bad, 3),
        "{\"result\":null,\"error\":[\"INVALID_VALUE\",\"Invalid UTF-8 string in parameter\","
        "\"\xef\xbf\xbd\xef\xbf\xbd\"],\"id\":7}");
    xg_value e[] = {S(TEST_SESSION), S("OpaqueRef:vm1"), S("x12"), S("1")};
    assert_string_equal(call(XG_PROTO_JSONRPC_V1, "VM.describe", e, 4),
        "{\"result\":null,\"error\":[\"INTERNAL_ERROR\",\"Failure(\\\"Int64.of_string\\\")\"],"
        "\"id\":7}");
}

static void test_typed_params(void **state)
{
    /* int as string (XO over XML-RPC), float from int, enum any case */
    xg_value p[] = {S(TEST_SESSION), S("OpaqueRef:vm1"), S("12"),
                    {.t = XG_V_INT, .u.i = 3}, S("halted")};
    assert_string_equal(call(XG_PROTO_JSONRPC_V2, "VM.describe", p, 5),
        "{\"jsonrpc\":\"2.0\",\"result\":{\"count\":\"12\",\"scale\":\"3\",\"mode\":\"Halted\","
        "\"when\":\"1742357784\",\"host\":\"null\"},\"id\":7}");
}

static void test_get_record_and_fields(void **state)
{
    xg_value p[] = {S(TEST_SESSION), S("OpaqueRef:vm1")};
    char expect[2048];
    snprintf(expect, sizeof(expect),
        "{\"jsonrpc\":\"2.0\",\"result\":{\"uuid\":\"%s\",\"name_label\":\"one\","
        "\"power_state\":\"Halted\",\"VCPUs_max\":2,\"is_a_template\":false,\"ratio\":1.5,"
        "\"start_time\":\"19700101T00:00:00Z\",\"other_config\":{\"k\":\"v\"},\"tags\":[],"
        "\"resident_on\":\"OpaqueRef:NULL\",\"suspend_SR\":\"OpaqueRef:NULL\"},\"id\":7}",
        vm1->uuid);
    assert_string_equal(call(XG_PROTO_JSONRPC_V2, "VM.get_record", p, 2), expect);
    assert_string_equal(call(XG_PROTO_XMLRPC, "VM_get_VCPUs_max", p, 2),
        XML_OK "<value>2</value>" XML_END);
    xg_value s[] = {S(TEST_SESSION), S("OpaqueRef:vm1"), S("renamed")};
    call(XG_PROTO_XMLRPC, "VM.set_name_label", s, 3);
    assert_string_equal(vm1->name_label, "renamed");
    xg_value v[] = {S(TEST_SESSION), S("OpaqueRef:vm1"), S("7")};
    assert_string_equal(call(XG_PROTO_XMLRPC, "VM.set_VCPUs_max", v, 3),
        XML_OK "<value></value>" XML_END);
    assert_int_equal(vm1->vcpus_max, 7);
}

static void test_map_and_set_ops(void **state)
{
    xg_value dup[] = {S(TEST_SESSION), S("OpaqueRef:vm1"), S("k"), S("x")};
    assert_string_equal(call(XG_PROTO_JSONRPC_V1, "VM.add_to_other_config", dup, 4),
        "{\"result\":null,\"error\":[\"MAP_DUPLICATE_KEY\",\"VM\",\"other_config\","
        "\"OpaqueRef:vm1\",\"k\"],\"id\":7}");
    xg_value rm[] = {S(TEST_SESSION), S("OpaqueRef:vm1"), S("absent")};
    assert_string_equal(call(XG_PROTO_JSONRPC_V1, "VM.remove_from_other_config", rm, 3),
        "{\"result\":\"\",\"error\":null,\"id\":7}");
    xg_value add[] = {S(TEST_SESSION), S("OpaqueRef:vm1"), S("t1")};
    call(XG_PROTO_JSONRPC_V1, "VM.add_tags", add, 3);
    call(XG_PROTO_JSONRPC_V1, "VM.add_tags", add, 3);
    xg_value g[] = {S(TEST_SESSION), S("OpaqueRef:vm1")};
    assert_string_equal(call(XG_PROTO_JSONRPC_V1, "VM.get_tags", g, 2),
        "{\"result\":[\"t1\"],\"error\":null,\"id\":7}");
    call(XG_PROTO_JSONRPC_V1, "VM.remove_tags", add, 3);
    assert_int_equal(vm1->tags.n, 0);
    /* a maintained set has a getter only */
    xg_value h[] = {S(TEST_SESSION), S("x"), S("y")};
    assert_string_equal(call(XG_PROTO_JSONRPC_V1, "host.add_resident_VMs", h, 3),
        "{\"result\":null,\"error\":[\"MESSAGE_METHOD_UNKNOWN\",\"host.add_resident_VMs\"],"
        "\"id\":7}");
}

static void test_where_and_get_all_records(void **state)
{
    xg_err err = XG_ERR_INIT;
    for (int i = 0; i < 300; i++) {
        xapi_vm *v = xapi_vm_new();
        xapi_vm_set_name_label(v, i % 3 ? "b" : "a");
        assert_true(xg_store_add(v, NULL, &err));
    }
    xg_value w[] = {S(TEST_SESSION), S("field \"name__label\"=\"a\" or (name_label = \"b\" "
                                       "and not true)")};
    const char *out = call(XG_PROTO_JSONRPC_V1, "VM.get_all_where", w, 2);
    int n = 0;
    for (const char *p = out; (p = strstr(p, "OpaqueRef:")); p++)
        n++;
    assert_int_equal(n, 100);
    xg_value k[] = {S(TEST_SESSION), S("other_config/k=\"v\" and power_state=\"Halted\"")};
    out = call(XG_PROTO_XMLRPC, "VM.get_all_records_where", k, 2);
    n = 0;
    for (const char *p = out; (p = strstr(p, "<name>uuid</name>")); p++)
        n++;
    assert_int_equal(n, 301);
    xg_value bad[] = {S(TEST_SESSION), S("name_label = ")};
    assert_string_equal(call(XG_PROTO_JSONRPC_V1, "VM.get_all_where", bad, 2),
        "{\"result\":null,\"error\":[\"INTERNAL_ERROR\",\"Invalid where-expression: expected "
        "a field or a string at offset 13\"],\"id\":7}");
    xg_value all[] = {S(TEST_SESSION)};
    out = call(XG_PROTO_JSONRPC_V2, "VM.get_all_records", all, 1);
    assert_true(strncmp(out, "{\"jsonrpc\":\"2.0\",\"result\":{\"OpaqueRef:vm1\":{\"uuid\"", 50)
                == 0);
    assert_string_equal(out + strlen(out) - 10, "}},\"id\":7}");
}

static void test_async_and_tasks(void **state)
{
    xg_value p[] = {S(TEST_SESSION), S("OpaqueRef:vm1"), B(false), B(false)};
    assert_string_equal(call(XG_PROTO_XMLRPC, "Async.VM.start", p, 4),
        XML_OK "<value>OpaqueRef:task-1</value>" XML_END);
    assert_string_equal(tlog.task_name, "Async.VM.start");
    assert_int_equal(tlog.task_ends, 1);
    assert_true(tlog.task_ok);
    assert_false(tlog.task_transient);
    assert_string_equal(tlog.task_result, "<value></value>");
    assert_int_equal(vm1->power_state, XAPI_VM_POWER_STATE_RUNNING);
    /* sync call of an async-capable message: transient task, error result */
    assert_string_equal(call(XG_PROTO_JSONRPC_V1, "VM.start", p, 4),
        "{\"result\":null,\"error\":[\"VM_BAD_POWER_STATE\",\"OpaqueRef:vm1\",\"halted\","
        "\"Running\"],\"id\":7}");
    assert_int_equal(tlog.task_ends, 2);
    assert_true(tlog.task_transient);
    assert_string_equal(tlog.task_error, "VM_BAD_POWER_STATE");
    /* Async clone: the result is an XML-RPC fragment with the new ref */
    xg_value cl[] = {S(TEST_SESSION), S("OpaqueRef:vm1"), S("copy")};
    call(XG_PROTO_JSONRPC_V2, "Async.VM.clone", cl, 3);
    assert_true(strncmp(tlog.task_result, "<value>OpaqueRef:", 17) == 0);
    /* deferred sync call: answered only at finish */
    xapi_vm_set_power_state(vm1, XAPI_VM_POWER_STATE_HALTED);
    tlog.defer_next = true;
    xg_call *c = xg_call_new(XG_PROTO_JSONRPC_V1);
    c->method_name = "VM.start";
    c->params = p;
    c->nparams = 4;
    c->on_response = on_response;
    int before = responses;
    xg_dispatch(c);
    assert_int_equal(responses, before);
    xg_call_finish(tlog.deferred, true, NULL, NULL);
    assert_int_equal(responses, before + 1);
    size_t len;
    char *s = xg_out_strdup(&c->out, &len);
    assert_string_equal(s, "{\"result\":\"\",\"error\":null,\"id\":null}");
    free(s);
    xg_call_unref(c);
}

static void test_create_and_list_methods(void **state)
{
    xg_member m[] = {{"VCPUs_max", 9, {.t = XG_V_STRING, .n = 1, .u.s = "4"}},
                     {"name_label", 10, S("made")}};
    xg_value rec = {.t = XG_V_STRUCT, .n = 2, .u.members = m};
    xg_value p[] = {S(TEST_SESSION), rec};
    const char *out = call(XG_PROTO_JSONRPC_V1, "VM.create", p, 2);
    assert_true(strncmp(out, "{\"result\":\"OpaqueRef:", 21) == 0);
    xg_value missing = {.t = XG_V_STRUCT, .n = 1, .u.members = &m[1]};
    xg_value q[] = {S(TEST_SESSION), missing};
    assert_string_equal(call(XG_PROTO_JSONRPC_V1, "VM.create", q, 2),
        "{\"result\":null,\"error\":[\"INTERNAL_ERROR\",\"Server_helpers.Dispatcher_"
        "FieldNotFound(\\\"VCPUs_max\\\")\"],\"id\":7}");
    out = call(XG_PROTO_XMLRPC, "system.listMethods", NULL, 0);
    assert_true(strncmp(out, "<?xml version=\"1.0\"?><methodResponse><params><param><value>"
                        "<array><data><value>VM.add_tags</value>", 95) == 0);
    assert_non_null(strstr(out, "<value>host.get_all_records</value>"));
    assert_null(strstr(out, "Async."));
    assert_null(strstr(out, "VM_start"));
    assert_null(strstr(out, "get_all_records_where"));
    assert_null(strstr(out, "session.get_all_records"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_count_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_defaults_and_sessionless, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_and_unknown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handle_and_uuid_invalid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_type_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_typed_params, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_record_and_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_and_set_ops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_where_and_get_all_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_async_and_tasks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_and_list_methods, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
