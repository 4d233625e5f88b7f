/* vm_ops.c: which VM operations are allowed now, in XAPI's order of checks
 * (spec xapi-wire.md §7.4, Xapi_vm_lifecycle.check_operation_error), and the
 * current_operations / allowed_operations bookkeeping around them.
 *
 * Never talks to the driver: every fact comes from the VM record and its
 * guest metrics, so the answer is cheap enough to recompute for every value
 * of vm_operations on every change. Requires the world lock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../server/hooks.h"
#include "net.h"
#include "vm_internal.h"

/* Power-state bits, in the order XAPI lists them in VM_BAD_POWER_STATE. */
enum { PS_H = 1, PS_P = 2, PS_S = 4, PS_R = 8, PS_ANY = 15 };

struct op_rule {
    const char *name;       /* vm_operations wire value */
    unsigned states;        /* allowed power states */
    unsigned flags;
};

enum {
    F_IGNORE = 1 << 0,      /* never listed in allowed_operations (XAPI's ignore-list) */
    F_TEMPLATE_OK = 1 << 1, /* allowed on templates */
    F_TEMPLATE_NONDEF = 1 << 2, /* allowed on non-default templates only */
    F_SNAPSHOT_OK = 1 << 3, /* allowed on snapshots */
    F_DOM0_OK = 1 << 4,     /* allowed on the control domain */
    F_PARALLEL = 1 << 5,    /* may run alongside each other (long copies) */
    F_DOM0_RUNNING = 1 << 6,/* control domain: running allowed too */
    F_SNAP_SUSPENDED = 1 << 7, /* snapshot: suspended allowed too */
    F_UNSERVED = 1 << 8,    /* the gateway has no implementation: never advertised */
};

/* Xapi_vm_lifecycle.allowed_power_states and the lists of
 * check_operation_error, folded into one row per operation. */
static const struct op_rule rules[] = {
    {"snapshot", PS_ANY, F_PARALLEL},
    {"clone", PS_H, F_TEMPLATE_OK | F_SNAPSHOT_OK | F_PARALLEL | F_SNAP_SUSPENDED},
    {"copy", PS_H, F_TEMPLATE_OK | F_SNAPSHOT_OK | F_PARALLEL | F_SNAP_SUSPENDED},
    {"create_template", PS_H | PS_S, F_IGNORE},
    {"revert", PS_ANY, F_SNAPSHOT_OK},
    {"checkpoint", PS_R, 0},    /* XAPI: P|S|R; the gateway checkpoints running guests */
    {"snapshot_with_quiesce", PS_R, F_UNSERVED},
    {"provision", PS_H, F_TEMPLATE_OK},
    {"start", PS_H, F_DOM0_OK},
    {"start_on", PS_H, F_DOM0_OK},
    {"pause", PS_R, 0},
    {"unpause", PS_P, 0},
    {"clean_shutdown", PS_R, 0},
    {"clean_reboot", PS_R, 0},
    {"hard_shutdown", PS_P | PS_S | PS_R, 0},
    {"power_state_reset", PS_ANY, F_IGNORE},
    {"hard_reboot", PS_P | PS_R, 0},
    {"suspend", PS_R, 0},
    {"csvm", PS_S, F_IGNORE},
    {"resume", PS_S, 0},
    {"resume_on", PS_S, 0},
    {"pool_migrate", PS_R, F_UNSERVED},
    {"migrate_send", PS_H | PS_S | PS_R, F_TEMPLATE_NONDEF | F_UNSERVED},
    {"get_boot_record", PS_P | PS_S | PS_R, F_IGNORE | F_PARALLEL | F_DOM0_OK},
    {"send_sysrq", PS_R, F_IGNORE},
    {"send_trigger", PS_R, F_IGNORE},
    {"query_services", PS_ANY, F_IGNORE | F_DOM0_OK},
    {"shutdown", PS_P | PS_S | PS_R, F_IGNORE},
    {"call_plugin", PS_R, F_IGNORE},
    {"changing_memory_live", PS_R, F_IGNORE | F_DOM0_OK},
    {"awaiting_memory_live", PS_R, F_IGNORE | F_DOM0_OK},
    {"changing_dynamic_range", PS_H | PS_R, F_TEMPLATE_OK | F_DOM0_OK},
    {"changing_static_range", PS_H, F_TEMPLATE_OK | F_DOM0_OK | F_DOM0_RUNNING},
    {"changing_memory_limits", PS_H,
     F_IGNORE | F_TEMPLATE_OK | F_DOM0_OK | F_DOM0_RUNNING},
    {"changing_shadow_memory", PS_H, F_TEMPLATE_OK | F_UNSERVED},
    {"changing_shadow_memory_live", PS_R, F_IGNORE},
    {"changing_VCPUs", PS_H,
     F_IGNORE | F_TEMPLATE_OK | F_DOM0_OK | F_DOM0_RUNNING},
    {"changing_VCPUs_live", PS_R, 0},
    {"changing_NVRAM", PS_H, F_TEMPLATE_OK | F_UNSERVED},
    {"assert_operation_valid", PS_ANY, F_IGNORE | F_DOM0_OK},
    {"data_source_op", PS_R, F_IGNORE | F_DOM0_OK | F_PARALLEL},
    {"update_allowed_operations", PS_ANY, F_IGNORE | F_DOM0_OK},
    {"make_into_template", PS_H, 0},
    {"import", 0, F_IGNORE},
    {"export", PS_H | PS_S, F_TEMPLATE_OK | F_SNAPSHOT_OK | F_PARALLEL | F_UNSERVED},
    {"metadata_export", PS_ANY,
     F_TEMPLATE_OK | F_SNAPSHOT_OK | F_DOM0_OK | F_PARALLEL | F_UNSERVED},
    {"reverting", PS_ANY, F_IGNORE},
    {"destroy", PS_H | PS_S, F_TEMPLATE_NONDEF | F_SNAPSHOT_OK},
    {"create_vtpm", PS_H, F_UNSERVED},
    {"sysprep", PS_R, F_UNSERVED},
};

#define NRULES (sizeof rules / sizeof rules[0])

/* rule_of[enum index] resolved once from the generated enum, so the table
 * stays keyed by wire names and cannot drift from the IDL's order. */
static const struct op_rule **rule_of;
static int nops;

static const xg_enum_desc *ops_enum(void)
{
    const xg_type *t = GW_VMF(ALLOWED_OPERATIONS)->type;
    return t->elem->enm;
}

static void resolve_rules(void)
{
    if (rule_of)
        return;
    const xg_enum_desc *e = ops_enum();
    rule_of = calloc((size_t)e->n, sizeof *rule_of);
    if (!rule_of)
        abort();
    for (int i = 0; i < e->n; i++)
        for (size_t r = 0; r < NRULES; r++)
            if (strcmp(e->values[i], rules[r].name) == 0)
                rule_of[i] = &rules[r];
    nops = e->n;
}

static const struct op_rule *rule(int op)
{
    static const struct op_rule unknown = {"", PS_ANY, F_IGNORE | F_UNSERVED};
    resolve_rules();
    return (op >= 0 && op < nops && rule_of[op]) ? rule_of[op] : &unknown;
}

static const char *op_name(int op)
{
    return gw_enum_name(GW_VMF(ALLOWED_OPERATIONS), op);
}

static unsigned ps_bit(int power_state)
{
    switch (power_state) {
    case XAPI_VM_POWER_STATE_HALTED: return PS_H;
    case XAPI_VM_POWER_STATE_PAUSED: return PS_P;
    case XAPI_VM_POWER_STATE_SUSPENDED: return PS_S;
    case XAPI_VM_POWER_STATE_RUNNING: return PS_R;
    default: return 0;
    }
}

static unsigned allowed_states(const xapi_vm *vm, const struct op_rule *r)
{
    unsigned s = r->states;
    if ((r->flags & F_DOM0_RUNNING) && vm->is_control_domain)
        s |= PS_R;
    if ((r->flags & F_SNAP_SUSPENDED) && vm->is_a_snapshot)
        s |= PS_S;
    return s;
}

static void join_states(unsigned s, char *buf, size_t len)
{
    static const struct { unsigned bit; const char *name; } order[] = {
        {PS_H, "halted"}, {PS_P, "paused"}, {PS_S, "suspended"}, {PS_R, "running"},
    };
    size_t used = 0;
    buf[0] = 0;
    for (size_t i = 0; i < 4; i++) {
        if (!(s & order[i].bit))
            continue;
        int n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
                         order[i].name);
        if (n < 0 || (size_t)n >= len - used)
            break;
        used += (size_t)n;
    }
}

static bool op_in_progress(const xapi_vm *vm, const char *name)
{
    const int *vals = vm->current_operations.vals;
    for (uint32_t i = 0; i < vm->current_operations.n; i++)
        if (strcmp(op_name(vals[i]), name) == 0)
            return true;
    return false;
}

/* Xapi_vm_lifecycle.is_allowed_concurrently: long copies may overlap each
 * other; hard_shutdown/hard_reboot may overtake (and cancel) softer ops. */
static bool allowed_concurrently(const xapi_vm *vm, int op)
{
    const xg_map *cur = &vm->current_operations;
    const int *vals = cur->vals;
    if (cur->n == 0)
        return true;
    bool all_parallel = (rule(op)->flags & F_PARALLEL) != 0;
    for (uint32_t i = 0; i < cur->n && all_parallel; i++)
        if (!(rule(vals[i])->flags & F_PARALLEL))
            all_parallel = false;
    if (all_parallel)
        return true;
    if (op == XAPI_VM_OPERATIONS_HARD_SHUTDOWN)
        return !op_in_progress(vm, "hard_shutdown");
    if (op == XAPI_VM_OPERATIONS_HARD_REBOOT)
        return !op_in_progress(vm, "hard_shutdown") &&
               !op_in_progress(vm, "hard_reboot");
    return false;
}

/* OTHER_OPERATION_IN_PROGRESS ["VM"; vm; op; task], several ops as
 * "{a,b}" in both places (report_concurrent_operations_error). */
static bool other_op_error(const xapi_vm *vm, xg_err *err)
{
    const xg_map *cur = &vm->current_operations;
    char *const *keys = cur->keys;
    const int *vals = cur->vals;
    if (cur->n == 1)
        return xapi_err_other_operation_in_progress(err, "VM", vm->obj.ref.s,
                                                    op_name(vals[0]), keys[0]);
    char ops[XG_ERR_PARAM_LEN], tasks[XG_ERR_PARAM_LEN];
    size_t uo = 0, ut = 0;
    ops[uo++] = '{';
    tasks[ut++] = '{';
    for (uint32_t i = 0; i < cur->n; i++) {
        int a = snprintf(ops + uo, sizeof ops - uo, "%s%s", i ? "," : "",
                         op_name(vals[i]));
        int b = snprintf(tasks + ut, sizeof tasks - ut, "%s%s", i ? "," : "",
                         keys[i]);
        if (a > 0 && (size_t)a < sizeof ops - uo - 1)
            uo += (size_t)a;
        if (b > 0 && (size_t)b < sizeof tasks - ut - 1)
            ut += (size_t)b;
    }
    snprintf(ops + uo, sizeof ops - uo, "}");
    snprintf(tasks + ut, sizeof tasks - ut, "}");
    return xapi_err_other_operation_in_progress(err, "VM", vm->obj.ref.s, ops,
                                                tasks);
}

static bool booted_hvm(const xapi_vm *vm)
{
    if (vm->domain_type == XAPI_DOMAIN_TYPE_HVM)
        return true;
    if (vm->domain_type != XAPI_DOMAIN_TYPE_UNSPECIFIED)
        return false;
    return vm->hvm_boot_policy[0] != 0;
}

/* check_op_for_feature: PV guests and guests with full PV drivers have all
 * features; an HVM guest must advertise control/feature-* itself. */
static bool feature_check(const xapi_vm *vm, int op, xg_err *err)
{
    if (vm->power_state != XAPI_VM_POWER_STATE_RUNNING || !booted_hvm(vm))
        return true;
    xapi_vm_guest_metrics *gm =
        xg_store_get(&xapi_class_vm_guest_metrics, vm->guest_metrics.s);
    if (gm && gm->pv_drivers_version.n > 0)
        return true;
    const xg_map *other = gm ? &gm->other : NULL;
#define LACKS(k) (!other || !gw_smap_get(other, k) || \
                  strcmp(gw_smap_get(other, k), "1") != 0)
    bool lack = false;
    if (op == XAPI_VM_OPERATIONS_CLEAN_SHUTDOWN)
        lack = LACKS("feature-shutdown") && LACKS("feature-poweroff");
    else if (op == XAPI_VM_OPERATIONS_CLEAN_REBOOT)
        lack = LACKS("feature-shutdown") && LACKS("feature-reboot");
    else if (op == XAPI_VM_OPERATIONS_CHANGING_VCPUS_LIVE)
        lack = LACKS("feature-vcpu-hotplug");
    else if (op == XAPI_VM_OPERATIONS_SUSPEND)
        lack = LACKS("feature-suspend");
#undef LACKS
    if (lack)
        return xapi_err_vm_lacks_feature(err, vm->obj.ref.s);
    return true;
}

bool gw_vm_check_op(xapi_vm *vm, int op, xg_err *err)
{
    const struct op_rule *r = rule(op);
    const char *ref = vm->obj.ref.s;

    /* 1. blocked_operations: the map value is the reason shown to users. */
    const int *bkeys = vm->blocked_operations.keys;
    char *const *bvals = vm->blocked_operations.vals;
    for (uint32_t i = 0; i < vm->blocked_operations.n; i++)
        if (bkeys[i] == op)
            return xapi_err_operation_blocked(err, ref, bvals[i]);

    /* 2. power state */
    unsigned states = allowed_states(vm, r);
    if (!(states & ps_bit(vm->power_state))) {
        char expected[64];
        join_states(states, expected, sizeof expected);
        return gw_vm_bad_power_state(vm, expected, err);
    }

    /* 3. concurrency */
    if (!allowed_concurrently(vm, op))
        return other_op_error(vm, err);

    /* 4. templates: only configuration, copies and provisioning (a
     * snapshot is a template too, but its own rule follows) */
    if (vm->is_a_template && !vm->is_a_snapshot && !(r->flags & F_TEMPLATE_OK) &&
        !((r->flags & F_TEMPLATE_NONDEF) && !vm->is_default_template))
        return xapi_err_vm_is_template(err, ref, op_name(op));

    /* 5. snapshots cannot be used as normal VMs */
    if (vm->is_a_snapshot && !(r->flags & F_SNAPSHOT_OK))
        return xapi_err_vm_is_snapshot(err, ref, op_name(op));

    /* 6. provision only on templates */
    if (op == XAPI_VM_OPERATIONS_PROVISION && !vm->is_a_template)
        return xapi_err_provision_only_allowed_on_template(err);
    /* 6b. only a snapshot can be reverted to */
    if (op == XAPI_VM_OPERATIONS_REVERT && !vm->is_a_snapshot)
        return xapi_err_revert_only_allowed_on_snapshot(err);

    /* 7. the control domain is not a guest */
    if (vm->is_control_domain && !(r->flags & F_DOM0_OK))
        return xapi_err_operation_not_allowed(
            err, "This operation is not allowed on dom0");

    /* 8. what the guest can do */
    return feature_check(vm, op, err);
}

void gw_vm_update_allowed_operations(xapi_vm *vm)
{
    resolve_rules();
    int ops[nops > 0 ? nops : 1];
    uint32_t n = 0;
    for (int op = 0; op < nops; op++) {
        const struct op_rule *r = rule(op);
        if (r->flags & (F_IGNORE | F_UNSERVED))
            continue;
        xg_err scratch = XG_ERR_INIT;
        if (gw_vm_check_op(vm, op, &scratch))
            ops[n++] = op;
    }
    xg_set s = {ops, n, n};
    /* The store records no event when the set is unchanged. */
    xg_store_set(vm, GW_VMF(ALLOWED_OPERATIONS), &s);
    gw_vif_update_allowed_for_vm(vm);
}

bool gw_vm_op_begin(xg_call *c, xapi_vm *vm, int op, xg_err *err)
{
    if (!gw_vm_check_op(vm, op, err))
        return false;
    char key[XG_REF_LEN];
    gw_op_key(c, key);
    const char *k = key;
    if (!xg_store_map_add(vm, GW_VMF(CURRENT_OPERATIONS), &k, &op, err))
        return false;
    gw_vm_update_allowed_operations(vm);
    return true;
}

void gw_vm_op_end(xapi_vm *vm, int op)
{
    gw_op_remove(vm, GW_VMF(CURRENT_OPERATIONS), op);
    gw_vm_update_allowed_operations(vm);
}
