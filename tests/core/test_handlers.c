/* test_handlers.c: handlers and hooks for the mini IDL, so that the core
 * can be driven through xg_dispatch without handlers/. They record what
 * they saw so the tests can assert on it. */
#include <stdio.h>
#include <string.h>

#include "hooks.h"
#include "test_handlers.h"
#include "xapi_errors.h"
#include "xapi_handlers.h"

struct test_log tlog;

/* ---- hooks ---- */
bool xg_hook_session_check(xg_call *c, const char *ref, xg_err *err)
{
    tlog.session_checks++;
    if (strcmp(ref, TEST_SESSION) != 0)
        return xapi_err_session_invalid(err, ref);
    c->session_ref = TEST_SESSION;
    return true;
}

static xg_obj fake_task;

bool xg_hook_task_begin(xg_call *c, const char *name, xg_err *err)
{
    snprintf(tlog.task_name, sizeof(tlog.task_name), "%s", name);
    tlog.task_begins++;
    c->task = &fake_task;
    return true;
}

void xg_hook_task_end(xg_call *c, bool ok, const xg_err *err, const char *result_xml,
                      size_t len, bool transient)
{
    tlog.task_ends++;
    tlog.task_ok = ok;
    tlog.task_transient = transient;
    snprintf(tlog.task_result, sizeof(tlog.task_result), "%.*s", (int)len, result_xml);
    snprintf(tlog.task_error, sizeof(tlog.task_error), "%s", ok ? "" : err->code);
    c->task = NULL;
}

const char *xg_hook_task_ref(const xg_call *c)
{
    return "OpaqueRef:task-1";
}

/* ---- handlers ---- */
bool handle_vm_start(xg_call *c, xapi_vm *vm, bool start_paused, bool force, xg_err *err)
{
    tlog.starts++;
    if (vm->power_state != XAPI_VM_POWER_STATE_HALTED)
        return xapi_err_vm_bad_power_state(err, vm->obj.ref.s, "halted",
                                           xapi_vm_power_state_to_str(vm->power_state));
    if (tlog.defer_next) {
        tlog.deferred = c;
        xg_call_defer(c);
        return true;
    }
    xapi_vm_set_power_state(vm, start_paused ? XAPI_VM_POWER_STATE_PAUSED
                                             : XAPI_VM_POWER_STATE_RUNNING);
    return true;
}

bool handle_vm_clone(xg_call *c, xapi_vm *vm, const char *new_name, xg_ref *result_out,
                     xg_err *err)
{
    xapi_vm *n = xapi_vm_new();
    xapi_vm_set_name_label(n, new_name);
    xapi_vm_set_vcpus_max(n, vm->vcpus_max);
    if (!xg_store_add(n, NULL, err)) {
        xg_obj_free(n);
        return false;
    }
    *result_out = n->obj.ref;
    return true;
}

bool handle_vm_describe(xg_call *c, xapi_vm *vm, int64_t count, double scale, int mode,
                        int64_t when, xapi_host *host, xg_map *result_out, xg_err *err)
{
    static char *keys[5], *vals[5];
    static char buf[5][64];
    const char *k[5] = {"count", "scale", "mode", "when", "host"};
    snprintf(buf[0], 64, "%lld", (long long)count);
    snprintf(buf[1], 64, "%g", scale);
    snprintf(buf[2], 64, "%s", xapi_vm_power_state_to_str(mode));
    snprintf(buf[3], 64, "%lld", (long long)when);
    snprintf(buf[4], 64, "%s", host ? host->obj.ref.s : "null");
    for (int i = 0; i < 5; i++) {
        keys[i] = (char *)k[i];
        vals[i] = buf[i];
    }
    result_out->keys = keys;
    result_out->vals = vals;
    result_out->n = result_out->cap = 5;
    return true;
}

bool handle_vm_create(xg_call *c, const xapi_vm *args, xg_ref *result_out, xg_err *err)
{
    xapi_vm *n = xapi_vm_new();
    for (uint32_t i = 0; i < xapi_class_vm.nfields; i++) {
        const xg_field_desc *f = &xapi_class_vm.fields[i];
        if (!(f->flags & XG_F_INTERNAL))
            xg_obj_copy_field(n, f, (const char *)args + f->offset);
    }
    if (!xg_store_add(n, NULL, err)) {
        xg_obj_free(n);
        return false;
    }
    *result_out = n->obj.ref;
    return true;
}

bool handle_vm_destroy(xg_call *c, xapi_vm *self, xg_err *err)
{
    xg_store_remove(self);
    return true;
}

bool handle_vm_set_vcpus_max(xg_call *c, xapi_vm *self, int64_t value, xg_err *err)
{
    xapi_vm_set_vcpus_max(self, value);
    return true;
}

bool handle_session_login_with_password(xg_call *c, const char *uname, const char *pwd,
                                        const char *version, const char *originator,
                                        xg_ref *result_out, xg_err *err)
{
    snprintf(tlog.login, sizeof(tlog.login), "%s/%s/%s/%s", uname, pwd, version, originator);
    snprintf(result_out->s, sizeof(result_out->s), "%s", TEST_SESSION);
    return true;
}

bool handle_event_get_current_id(xg_call *c, int64_t *result_out, xg_err *err)
{
    *result_out = 42;
    return true;
}
