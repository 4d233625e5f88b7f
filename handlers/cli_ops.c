/* cli_ops.c: xe's specific commands (cli_frontend.ml's table and
 * cli_operations.ml, ../shared/spec/xe-cli.md §8.6, §9): their parameters,
 * help, VM selectors and output. Each does its work through the API
 * (cli_api.h), exactly the calls xapi's CLI server makes, so the checks and
 * errors are the API's own. */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xapi_errors.h"

#define MULTI_SEP '\036'               /* between --multiple failure lines */

enum op_flags {
    STANDARD = 1 << 0,                 /* listed by plain `xe help` */
    VM_SEL = 1 << 1,                   /* runs once per VM picked by selectors */
    WITH_DOM0 = 1 << 2,                /* selectors may pick the control domain */
    WITH_TEMPLATES = 1 << 3,           /* selectors may pick templates */
    SINGLE = 1 << 4,                   /* never more than one VM (no --multiple) */
};

struct cli_op {
    const char *name;
    const char *reqd[5];
    const char *optn[6];
    unsigned flags;
    const char *help;
    /* VM_SEL commands: the work on one VM; *out a result to list (a uuid) */
    bool (*on_vm)(struct cli_ctx *c, const struct cli_pick *vm, char *out, size_t outlen,
                  struct cli_fail *f);
    /* other commands: the whole work */
    bool (*run)(struct cli_ctx *c, struct cli_fail *f);
};

static const char vm_selectors_help[] =
    "VMs can be specified by filtering the full list of VMs on the values of zero or more "
    "fields. For example, specifying 'uuid=<some_uuid>' will select only the VM with that "
    "uuid, and 'power-state=halted' will select only VMs whose 'power-state' field is equal "
    "to 'halted'. The special pseudo-field 'vm' matches either of name-label or uuid. Where "
    "multiple VMs are matching, the option '--multiple' must be specified to perform the "
    "operation. The full list of fields that can be matched can be obtained by the command "
    "'xe vm-list params=all'. If no parameters to select VMs are given, the operation will "
    "be performed on all VMs.";

/* ---- the work on one VM ------------------------------------------------ */

/* The objects of class cls whose field `key` (an xe name, or "host"/"vm"
 * for the name-or-uuid selector) is value, with the fixed filters. */
static int select_by(const char *cls, const char *key, const char *value,
                     const char *const *fixed, struct cli_pick **out, struct cli_fail *f)
{
    struct cli_cmd *probe = calloc(1, sizeof(*probe));
    if (!probe)
        abort();
    if (key)
        probe->args[probe->nargs++] = (struct cli_arg){key, value};
    bool by = key && (strcmp(key, "host") == 0 || strcmp(key, "vm") == 0);
    int n = cli_select(probe, cls, by ? key : NULL, fixed, NULL, out, f);
    free(probe);
    return n;
}

/* host=X for on=: uuid, hostname or name-label. */
static bool host_ref(struct cli_ctx *c, const char *name, char ref[XG_REF_LEN],
                     struct cli_fail *f)
{
    struct cli_pick *p = NULL;
    int n = select_by("host", "host", name, NULL, &p, f);
    if (n > 0)
        snprintf(ref, XG_REF_LEN, "%s", p[0].ref);
    free(p);
    (void)c;
    return n > 0 || (n == 0 && cli_fail_msg(f, "Error: Host %s not found", name));
}

static bool vm_start(struct cli_ctx *c, const struct cli_pick *vm, char *out, size_t outlen,
                     struct cli_fail *f)
{
    (void)out, (void)outlen;
    bool paused = cli_flag(c->cmd, "paused"), force = cli_flag(c->cmd, "force");
    const char *on = cli_arg(c->cmd, "on");
    char host[XG_REF_LEN];
    if (on)
        return host_ref(c, on, host, f) &&
               cli_api_call(&c->api, NULL, 0, f, "VM.start_on", "ssbb", vm->ref, host, paused,
                            force);
    return cli_api_call(&c->api, NULL, 0, f, "VM.start", "sbb", vm->ref, paused, force);
}

static bool vm_resume(struct cli_ctx *c, const struct cli_pick *vm, char *out, size_t outlen,
                      struct cli_fail *f)
{
    (void)out, (void)outlen;
    bool force = cli_flag(c->cmd, "force");
    const char *on = cli_arg(c->cmd, "on");
    char host[XG_REF_LEN];
    if (on)
        return host_ref(c, on, host, f) &&
               cli_api_call(&c->api, NULL, 0, f, "VM.resume_on", "ssbb", vm->ref, host, 0,
                            force);
    return cli_api_call(&c->api, NULL, 0, f, "VM.resume", "sbb", vm->ref, 0, force);
}

/* --force picks the hard form: VM.hard_<op>, else VM.clean_<op>. */
static bool forced(struct cli_ctx *c, const struct cli_pick *vm, const char *op,
                   struct cli_fail *f)
{
    char method[64];
    snprintf(method, sizeof(method), "VM.%s_%s", cli_flag(c->cmd, "force") ? "hard" : "clean",
             op);
    return cli_api_call(&c->api, NULL, 0, f, method, "s", vm->ref);
}

static bool vm_shutdown(struct cli_ctx *c, const struct cli_pick *vm, char *out,
                        size_t outlen, struct cli_fail *f)
{
    (void)out, (void)outlen;
    return forced(c, vm, "shutdown", f);
}

static bool vm_reboot(struct cli_ctx *c, const struct cli_pick *vm, char *out, size_t outlen,
                      struct cli_fail *f)
{
    (void)out, (void)outlen;
    return forced(c, vm, "reboot", f);
}

/* The API method named after the command: vm-suspend -> VM.suspend. */
static const char *const plain_methods[][2] = {
    {"vm-suspend", "VM.suspend"}, {"vm-pause", "VM.pause"}, {"vm-unpause", "VM.unpause"},
    {"vm-reset-powerstate", "VM.power_state_reset"},
};

static bool vm_plain(struct cli_ctx *c, const struct cli_pick *vm, char *out, size_t outlen,
                     struct cli_fail *f)
{
    (void)out, (void)outlen;
    for (size_t i = 0; i < sizeof(plain_methods) / sizeof(plain_methods[0]); i++)
        if (strcmp(c->cmd->name, plain_methods[i][0]) == 0)
            return cli_api_call(&c->api, NULL, 0, f, plain_methods[i][1], "s", vm->ref);
    return cli_fail_msg(f, "Error: no method for %s", c->cmd->name);
}

/* A size parameter (memory=, min=, ...), suffixes allowed. */
static bool size_param(struct cli_ctx *c, const char *name, int64_t *v, struct cli_fail *f)
{
    const char *s = cli_arg(c->cmd, name);
    if (s && cli_bytes_of_string(s, v))
        return true;
    return cli_fail_msg(f, "Error: Failed to parse field '%s': expecting an integer (possibly "
                           "with suffix KiB, MiB, GiB, TiB), got '%s'", name, s ? s : "");
}

static bool vm_memory_set(struct cli_ctx *c, const struct cli_pick *vm, char *out,
                          size_t outlen, struct cli_fail *f)
{
    (void)out, (void)outlen;
    int64_t v;
    return size_param(c, "memory", &v, f) &&
           cli_api_call(&c->api, NULL, 0, f, "VM.set_memory", "si", vm->ref, v);
}

static bool vm_memory_target_set(struct cli_ctx *c, const struct cli_pick *vm, char *out,
                                 size_t outlen, struct cli_fail *f)
{
    (void)out, (void)outlen;
    int64_t v;
    return size_param(c, "target", &v, f) &&
           cli_api_call(&c->api, NULL, 0, f, "VM.set_memory_dynamic_range", "sii", vm->ref, v,
                        v);
}

static bool vm_memory_range_set(struct cli_ctx *c, const struct cli_pick *vm, char *out,
                                size_t outlen, struct cli_fail *f)
{
    (void)out, (void)outlen;
    int64_t lo, hi;
    const char *method = strstr(c->cmd->name, "static") ? "VM.set_memory_static_range"
                                                         : "VM.set_memory_dynamic_range";
    return size_param(c, "min", &lo, f) && size_param(c, "max", &hi, f) &&
           cli_api_call(&c->api, NULL, 0, f, method, "sii", vm->ref, lo, hi);
}

static bool vm_memory_limits_set(struct cli_ctx *c, const struct cli_pick *vm, char *out,
                                 size_t outlen, struct cli_fail *f)
{
    (void)out, (void)outlen;
    int64_t smin, smax, dmin, dmax;
    return size_param(c, "static-min", &smin, f) && size_param(c, "static-max", &smax, f) &&
           size_param(c, "dynamic-min", &dmin, f) && size_param(c, "dynamic-max", &dmax, f) &&
           cli_api_call(&c->api, NULL, 0, f, "VM.set_memory_limits", "siiii", vm->ref, smin,
                        smax, dmin, dmax);
}

static bool vm_vcpu_hotplug(struct cli_ctx *c, const struct cli_pick *vm, char *out,
                            size_t outlen, struct cli_fail *f)
{
    (void)out, (void)outlen;
    const char *s = cli_arg(c->cmd, "new-vcpus");
    char *end;
    errno = 0;
    long long n = strtoll(s, &end, 10);
    if (!*s || *end || errno)
        return cli_fail_msg(f, "Error: Failed to parse parameter 'new-vcpus': expecting an "
                               "integer");
    return cli_api_call(&c->api, NULL, 0, f, "VM.set_VCPUs_number_live", "si", vm->ref,
                        (int64_t)n);
}

/* The uuid of a new VM, for the listing of vm-clone/-copy/-snapshot/-install. */
static bool new_vm_uuid(struct cli_ctx *c, const char *ref, char *out, size_t outlen,
                        struct cli_fail *f)
{
    const char *desc = cli_arg(c->cmd, "new-name-description");
    return (!desc || cli_api_call(&c->api, NULL, 0, f, "VM.set_name_description", "ss", ref,
                                  desc)) &&
           cli_api_call(&c->api, out, outlen, f, "VM.get_uuid", "s", ref);
}

static bool vm_clone(struct cli_ctx *c, const struct cli_pick *vm, char *out, size_t outlen,
                     struct cli_fail *f)
{
    char ref[XG_REF_LEN];
    const char *method = strcmp(c->cmd->name, "vm-snapshot") == 0 ? "VM.snapshot" : "VM.clone";
    return cli_api_call(&c->api, ref, sizeof(ref), f, method, "ss", vm->ref,
                        cli_arg(c->cmd, "new-name-label")) &&
           new_vm_uuid(c, ref, out, outlen, f);
}

static bool vm_copy(struct cli_ctx *c, const struct cli_pick *vm, char *out, size_t outlen,
                    struct cli_fail *f)
{
    char ref[XG_REF_LEN], sr[XG_REF_LEN] = "OpaqueRef:NULL";
    const char *sr_uuid = cli_arg(c->cmd, "sr-uuid");
    return (!sr_uuid || cli_ref_by_uuid("SR", sr_uuid, sr, f)) &&
           cli_api_call(&c->api, ref, sizeof(ref), f, "VM.copy", "sss", vm->ref,
                        cli_arg(c->cmd, "new-name-label"), sr) &&
           new_vm_uuid(c, ref, out, outlen, f);
}

/* ---- selectors (cli_operations.ml do_vm_op) ---------------------------- */

static const struct cli_op *find_op(const char *name);

/* The --multiple failure line of one VM: the message, or the error's
 * sentence and parameters, as xapi's do_multiple. */
static void note_failure(struct cli_ctx *c, const char *uuid, const struct cli_fail *f)
{
    if (c->failures.total)
        xg_out_putc(&c->failures, MULTI_SEP);
    xg_out_printf(&c->failures, "operation failed on %s: ", uuid);
    if (f->text[0]) {
        xg_out_puts(&c->failures, f->text);
        return;
    }
    const struct xapi_error_doc *d = xapi_error_doc(f->code);
    if (!d) {
        xg_out_puts(&c->failures, f->code);
        for (unsigned i = 0; i < f->nparams; i++)
            xg_out_printf(&c->failures, "%s%s", i ? ", " : ": ", f->params[i]);
        return;
    }
    xg_out_puts(&c->failures, d->doc);
    for (unsigned i = 0; i < d->nparams || i < f->nparams; i++) {
        char v[512];
        cli_ref_convert(i < f->nparams ? f->params[i] : "<unknown>", v, sizeof(v));
        xg_out_printf(&c->failures, "\n%s: %s", i < d->nparams ? d->params[i] : "<extra>", v);
    }
}

/* The command's own parameters are not filters. */
static void own_params(const struct cli_op *op, const char **ignore, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < 5 && op->reqd[i] && k + 2 < n; i++)
        ignore[k++] = op->reqd[i];
    for (size_t i = 0; i < 6 && op->optn[i] && k + 2 < n; i++)
        ignore[k++] = op->optn[i];
    ignore[k++] = "progress";
    ignore[k] = NULL;
}

/* Picks the VMs, runs on_vm on each and lists what they return. */
static bool do_vm_op(struct cli_ctx *c, const struct cli_op *op, struct cli_fail *f)
{
    static const char *const no_dom0[] = {"is-control-domain", "false", NULL};
    static const char *const no_templates[] = {"is-a-template", "false", NULL};
    static const char *const neither[] = {"is-control-domain", "false", "is-a-template",
                                          "false", NULL};
    const char *const *fixed = (op->flags & WITH_DOM0) && (op->flags & WITH_TEMPLATES) ? NULL
                               : op->flags & WITH_DOM0 ? no_templates
                               : op->flags & WITH_TEMPLATES ? no_dom0
                                                             : neither;
    const char *ignore[16];
    own_params(op, ignore, sizeof(ignore) / sizeof(ignore[0]));
    struct cli_pick *vms = NULL;
    int n = cli_select(c->cmd, "VM", "vm", fixed, ignore, &vms, f);
    bool ok = n > 0;
    if (n == 0)
        cli_fail_msg(f, "Error: No matching VMs found");
    else if (n > 1 && (op->flags & SINGLE))
        ok = cli_fail_msg(f, "Error: Multiple matches VMs found. Operation can only be "
                             "performed on one VM at a time");
    else if (n > 1 && !cli_flag(c->cmd, "multiple"))
        ok = cli_fail_msg(f, "Error: Multiple matches VMs found. --multiple required to "
                             "complete the operation");
    for (int i = 0; ok && i < n; i++) {
        char out[XG_REF_LEN] = "";
        struct cli_fail one = {{0}};
        if (!op->on_vm(c, &vms[i], out, sizeof(out), &one)) {
            if (n == 1)
                *f = one;
            else
                note_failure(c, vms[i].uuid, &one);
            ok = n > 1;                /* --multiple carries on */
        } else if (out[0]) {
            cli_print_list_item(c, out);
        }
    }
    free(vms);
    return ok;
}

/* ---- commands that are not per VM -------------------------------------- */

static bool vm_reset_powerstate(struct cli_ctx *c, struct cli_fail *f)
{
    if (!cli_flag(c->cmd, "force"))
        return cli_fail_msg(f, "Error: This operation is dangerous and may cause data loss. "
                               "This operation must be forced (use --force).");
    return do_vm_op(c, find_op("vm-reset-powerstate-forced"), f);
}

/* The bool a getter (method(ref)) answers, in *out. */
static bool api_bool(struct cli_ctx *c, const char *method, const char *ref, bool *out,
                     struct cli_fail *f)
{
    yajl_val v = NULL;
    yajl_val doc = cli_api_get(&c->api, &v, f, method, "s", ref);
    if (!doc)
        return false;
    *out = YAJL_IS_TRUE(v);
    yajl_tree_free(doc);
    return true;
}

static bool vm_destroy(struct cli_ctx *c, struct cli_fail *f)
{
    char ref[XG_REF_LEN];
    bool is_dom0 = false;
    if (!cli_ref_by_uuid("VM", cli_arg(c->cmd, "uuid"), ref, f) ||
        !api_bool(c, "VM.get_is_control_domain", ref, &is_dom0, f))
        return false;
    if (is_dom0) {
        snprintf(f->code, sizeof(f->code), "%s", XAPI_ERR_OPERATION_NOT_ALLOWED);
        snprintf(f->params[0], sizeof(f->params[0]),
                 "You cannot destroy a control domain via the CLI");
        f->nparams = 1;
        return false;
    }
    return cli_api_call(&c->api, NULL, 0, f, "VM.destroy", "s", ref);
}

static bool task_cancel(struct cli_ctx *c, struct cli_fail *f)
{
    char ref[XG_REF_LEN];
    return cli_ref_by_uuid("task", cli_arg(c->cmd, "uuid"), ref, f) &&
           cli_api_call(&c->api, NULL, 0, f, "task.cancel", "s", ref);
}

/* snapshot-revert [snapshot-uuid= | uuid=]: VM.revert of a snapshot. */
static bool snapshot_revert(struct cli_ctx *c, struct cli_fail *f)
{
    const char *uuid = cli_arg(c->cmd, "snapshot-uuid");
    if (!uuid)
        uuid = cli_arg(c->cmd, "uuid");
    if (!uuid)
        return cli_fail_internal(f, "Required parameter not found: snapshot-uuid or uuid.");
    char ref[XG_REF_LEN];
    bool is_snapshot = false;
    if (!cli_ref_by_uuid("VM", uuid, ref, f) ||
        !api_bool(c, "VM.get_is_a_snapshot", ref, &is_snapshot, f))
        return false;
    if (!is_snapshot)
        return cli_fail_internal(f, "This operation can only be performed on a VM snapshot. "
                                    "%s is not a VM snapshot.", uuid);
    return cli_api_call(&c->api, NULL, 0, f, "VM.revert", "s", ref);
}

/* ---- the table (cli_frontend.ml) --------------------------------------- */

static bool vm_uninstall(struct cli_ctx *c, struct cli_fail *f);
static bool vm_install(struct cli_ctx *c, struct cli_fail *f);
static bool host_cpu_info(struct cli_ctx *c, struct cli_fail *f);

static const struct cli_op op_table[] = {
    {"vm-start", {0}, {"force", "on", "paused"}, STANDARD | VM_SEL | WITH_DOM0,
     "Start the selected VM(s). Where pooling is enabled, the host on which to start can be "
     "specified with the 'on' parameter that takes a uuid. The optional parameter '--force' "
     "will bypass any hardware-compatibility warnings.", vm_start, NULL},
    {"vm-shutdown", {0}, {"force"}, STANDARD | VM_SEL,
     "Shutdown the selected VM(s). The optional argument --force will forcibly shut down the "
     "VM.", vm_shutdown, NULL},
    {"vm-reboot", {0}, {"force"}, STANDARD | VM_SEL,
     "Reboot the selected VM(s).", vm_reboot, NULL},
    {"vm-suspend", {0}, {0}, STANDARD | VM_SEL, "Suspend the selected VM(s).", vm_plain, NULL},
    {"vm-resume", {0}, {"force", "on"}, STANDARD | VM_SEL,
     "Resume the selected VM(s).", vm_resume, NULL},
    {"vm-pause", {0}, {0}, STANDARD | VM_SEL, "Pause a running VM. Note this operation does "
     "not free the associated memory (see 'vm-suspend').", vm_plain, NULL},
    {"vm-unpause", {0}, {0}, STANDARD | VM_SEL, "Unpause a paused VM.", vm_plain, NULL},
    {"vm-reset-powerstate", {0}, {"force"}, STANDARD | VM_SEL,
     "Force the VM powerstate to halted in the management toolstack database only. This "
     "command is used to recover a VM that is offline and not running on any host. Always "
     "verify first that the VM is really off before running this command.", NULL,
     vm_reset_powerstate},
    {"vm-reset-powerstate-forced", {0}, {"force"}, VM_SEL, NULL, vm_plain, NULL},
    {"vm-memory-set", {"memory"}, {0}, VM_SEL | WITH_DOM0 | WITH_TEMPLATES,
     "Configure the memory allocation of a VM.", vm_memory_set, NULL},
    {"vm-memory-target-set", {"target"}, {0}, VM_SEL | WITH_DOM0,
     "Set the memory target for a halted or running VM.", vm_memory_target_set, NULL},
    {"vm-memory-dynamic-range-set", {"min", "max"}, {0}, VM_SEL | WITH_DOM0,
     "Configure the dynamic memory range of a VM. The dynamic memory range defines soft "
     "lower and upper limits for a VM's memory.", vm_memory_range_set, NULL},
    {"vm-memory-static-range-set", {"min", "max"}, {0}, VM_SEL,
     "Configure the static memory range of a VM. The static memory range defines hard lower "
     "and upper limits for a VM's memory.", vm_memory_range_set, NULL},
    {"vm-memory-limits-set", {"static-min", "static-max", "dynamic-min", "dynamic-max"}, {0},
     VM_SEL | WITH_DOM0, "Configure the memory limits of a VM.", vm_memory_limits_set, NULL},
    {"vm-vcpu-hotplug", {"new-vcpus"}, {0}, VM_SEL,
     "Dynamically adjust the number of VCPUs available to a running HVM guest.",
     vm_vcpu_hotplug, NULL},
    {"vm-clone", {"new-name-label"}, {"new-name-description"},
     STANDARD | VM_SEL | WITH_TEMPLATES,
     "Clone an existing VM, using storage-level fast disk clone operation where available.",
     vm_clone, NULL},
    {"vm-snapshot", {"new-name-label"}, {"new-name-description", "ignore-vdi-uuids"},
     STANDARD | VM_SEL, "Snapshot an existing VM, using storage-level fast disk snapshot "
     "operation where available.", vm_clone, NULL},
    {"snapshot-revert", {0}, {"uuid", "snapshot-uuid"}, STANDARD,
     "Revert an existing VM to a previous checkpointed or snapshotted state.", NULL,
     snapshot_revert},
    {"vm-copy", {"new-name-label"}, {"new-name-description", "sr-uuid"},
     STANDARD | VM_SEL | WITH_TEMPLATES | SINGLE,
     "Copy an existing VM, but without using storage-level fast disk clone operation (even "
     "if this is available). The disk images of the copied VM are guaranteed to be 'full "
     "images' - that is, not part of a copy-on-write (CoW) chain.", vm_copy, NULL},
    {"vm-uninstall", {0}, {"force"}, STANDARD | VM_SEL,
     "Uninstall a VM. This operation will destroy those VDIs that are marked RW and "
     "connected to this VM only. To simply destroy the VM record, use vm-destroy.", NULL,
     vm_uninstall},
    {"vm-destroy", {"uuid"}, {0}, 0,
     "Destroy a VM. This leaves the storage associated with the VM intact. To delete "
     "storage as well, use vm-uninstall.", NULL, vm_destroy},
    {"vm-install", {"new-name-label"},
     {"sr-name-label", "sr-uuid", "template", "template-uuid", "template-name-label"}, STANDARD,
     "Install a new VM from a template. The template parameter can match either the "
     "template name or the uuid.", NULL, vm_install},
    {"task-cancel", {"uuid"}, {0}, 0, "Set a task to cancelling and return.", NULL,
     task_cancel},
    {"host-cpu-info", {0}, {"uuid"}, 0, "Lists information about the host's physical CPUs.",
     NULL, host_cpu_info},
    {"host-call-plugin", {"host-uuid", "plugin", "fn"}, {"args:"}, 0,
     "Calls the function within the plugin on the given host with optional arguments. The "
     "syntax args:key:file=/path/file.ext passes the content of /path/file.ext under key to "
     "the plugin.", NULL, cli_host_call_plugin},
    {"pool-sync-database", {0}, {0}, 0,
     "Synchronise the current database across all hosts in the pool.", NULL,
     cli_pool_sync_database},
    {"pool-designate-new-master", {"host-uuid"}, {0}, 0,
     "Request an orderly handover of the role of master to another host.", NULL,
     cli_pool_designate_new_master},
    {"pool-recover-slaves", {0}, {0}, 0, "Instruct master to try and reset master-address of "
     "all slaves currently running in emergency mode.", NULL, cli_pool_recover_slaves},
    {"pool-emergency-transition-to-master", {0}, {"force"}, 0,
     "Instruct slave to become pool master. The operation will be ignored if this host is "
     "already master; the optional parameter '--force' will force the operation.", NULL,
     cli_pool_emergency_transition_to_master},
    {"vdi-import", {"uuid", "filename"}, {"format", "progress"}, 0,
     "Import a raw VDI.", NULL, cli_vdi_transfer},
    {"vdi-export", {"uuid", "filename"}, {"format", "base", "progress"}, 0,
     "Export a VDI.", NULL, cli_vdi_transfer},
    {"event-wait", {"class"}, {0}, 0,
     "Wait for the event that satisfies the conditions given on the command line.", NULL,
     cli_event_wait},
    {"vdi-create", {"sr-uuid", "name-label", "virtual-size"}, {"sm-config:", "sharable", "type"},
     0, "Create a VDI. Specifying 'type=system' or 'type=user' sets the type of the VDI.", NULL,
     cli_vdi_create},
    {"vbd-create", {"vm-uuid", "device"}, {"vdi-uuid", "bootable", "type", "mode",
     "unpluggable"}, 0, "Create a VBD. Appropriate values for the device field are listed in "
     "the parameter 'allowed-VBD-devices' on the VM. If no VDI is specified, an empty VBD will "
     "be created. The type parameter can be 'Disk' or 'CD', and the mode is 'RO' or 'RW'.",
     NULL, cli_vbd_create},
    {"vif-create", {"device", "network-uuid", "vm-uuid"}, {"mac"}, 0,
     "Create a VIF. Appropriate values for the device are listed in the parameter "
     "'allowed-VIF-devices' on the VM. If specified, the MAC parameter is of the form "
     "aa:bb:cc:dd:ee:ff. If MAC is not specified the server will choose an appropriate random "
     "MAC address.", NULL, cli_vif_create},
    {"vm-disk-add", {"disk-size", "device"}, {"sr-uuid"}, STANDARD | VM_SEL,
     "Add a new disk to the selected VM(s). The device field should be selected from the "
     "field 'allowed-VBD-devices' of the VM.", cli_vm_disk_add, NULL},
};
#define NOPS (sizeof(op_table) / sizeof(op_table[0]))

static const struct cli_op *find_op(const char *name)
{
    for (size_t i = 0; i < NOPS; i++)
        if (strcmp(op_table[i].name, name) == 0)
            return &op_table[i];
    return NULL;
}

/* Commands reached only from another (no help text) are not typed. */
static const struct cli_op *typed_op(const char *name)
{
    const struct cli_op *op = find_op(name);
    return op && op->help ? op : NULL;
}

bool cli_ops_check(const struct cli_cmd *cmd, const char **missing)
{
    const struct cli_op *op = typed_op(cmd->name);
    if (!op)
        return false;
    *missing = NULL;
    for (size_t i = 0; i < 5 && op->reqd[i] && !*missing; i++)
        if (!cli_arg(cmd, op->reqd[i]))
            *missing = op->reqd[i];
    return true;
}

bool cli_ops_run(struct cli_ctx *c, struct cli_fail *f)
{
    const struct cli_op *op = typed_op(c->cmd->name);
    if (!op)
        return cli_fail_msg(f, "Unknown command: %s", c->cmd->name);
    return op->run ? op->run(c, f) : do_vm_op(c, op, f);
}

void cli_ops_names(xg_out *o, bool all)
{
    for (size_t i = 0; i < NOPS; i++)
        if (op_table[i].help && (all || (op_table[i].flags & STANDARD)))
            xg_out_printf(o, ",%s", op_table[i].name);
}

/* help <command>: cli_frontend.ml's layout. */
bool cli_ops_help(struct cli_ctx *c, const char *name)
{
    const struct cli_op *op = typed_op(name);
    if (!op)
        return false;
    xg_out o;
    xg_out_init(&o);
    xg_out_printf(&o, "command name            : %s\n        reqd params     : ", name);
    for (size_t i = 0; i < 5 && op->reqd[i]; i++)
        xg_out_printf(&o, "%s%s", i ? ", " : "", op->reqd[i]);
    xg_out_puts(&o, "\n        optional params : ");
    size_t k = 0;
    for (; k < 6 && op->optn[k]; k++)
        xg_out_printf(&o, "%s%s", k ? ", " : "", op->optn[k]);
    if (op->flags & VM_SEL)
        xg_out_printf(&o, "%s<vm-selectors>", k ? ", " : "");
    xg_out_printf(&o, "\n        description     : %s%s%s\n\n", op->help,
                  op->flags & VM_SEL ? " " : "", op->flags & VM_SEL ? vm_selectors_help : "");
    size_t len = 0;
    char *s = xg_out_strdup(&o, &len);
    xg_out_reset(&o);
    cli_print(c, s, len);
    free(s);
    return true;
}

/* ---- vm-uninstall (cli_operations.ml vm_uninstall_common) -------------- */

struct doomed {
    char vm[XG_REF_LEN];
    char (*vdis)[XG_REF_LEN];
    size_t nvdis;
};

/* "VDI: <uuid> (<name>)" plus the warning when other VMs use it too. */
static void describe_vdi(struct cli_ctx *c, const char *vdi, struct cli_fail *f)
{
    yajl_val rec = NULL;
    yajl_val doc = cli_api_get(&c->api, &rec, f, "VDI.get_record", "s", vdi);
    if (!doc)
        return;
    const char *path[] = {"VBDs", NULL};
    yajl_val vbds = yajl_tree_get(rec, path, yajl_t_array);
    char line[600];
    snprintf(line, sizeof(line), "VDI: %s (%s) %s", cli_json_str(rec, "uuid"),
             cli_json_str(rec, "name_label"),
             vbds && vbds->u.array.len > 1 ? " ** WARNING: disk is shared by other VMs" : "");
    cli_print(c, line, strlen(line));
    yajl_tree_free(doc);
}

/* The VM and the disks that go with it: VDIs whose VBD's other_config has
 * "owner", and the suspend image. Prints them. */
static bool choose(struct cli_ctx *c, const char *vm, struct doomed *d, struct cli_fail *f)
{
    yajl_val rec = NULL;
    yajl_val doc = cli_api_get(&c->api, &rec, f, "VM.get_record", "s", vm);
    if (!doc)
        return false;
    snprintf(d->vm, sizeof(d->vm), "%s", vm);
    char line[600];
    snprintf(line, sizeof(line), "VM : %s (%s)", cli_json_str(rec, "uuid"),
             cli_json_str(rec, "name_label"));
    cli_print(c, line, strlen(line));
    const char *vbds_path[] = {"VBDs", NULL};
    yajl_val vbds = yajl_tree_get(rec, vbds_path, yajl_t_array);
    size_t nvbds = vbds ? vbds->u.array.len : 0;
    d->vdis = calloc(nvbds + 1, sizeof(*d->vdis));
    if (!d->vdis)
        abort();
    for (size_t i = 0; i < nvbds; i++) {
        yajl_val vbd = NULL;
        struct cli_fail ignored = {{0}};
        const char *ref = YAJL_GET_STRING(vbds->u.array.values[i]);
        yajl_val vdoc = ref ? cli_api_get(&c->api, &vbd, &ignored, "VBD.get_record", "s", ref)
                            : NULL;
        if (!vdoc)
            continue;
        const char *owner[] = {"other_config", "owner", NULL};
        const char *vdi = cli_json_str(vbd, "VDI");
        if (yajl_tree_get(vbd, owner, yajl_t_any) && strcmp(vdi, "OpaqueRef:NULL") != 0 &&
            cli_api_call(&c->api, NULL, 0, &ignored, "VDI.get_uuid", "s", vdi)) {
            snprintf(d->vdis[d->nvdis++], XG_REF_LEN, "%s", vdi);
            describe_vdi(c, vdi, &ignored);
        }
        yajl_tree_free(vdoc);
    }
    const char *suspend = cli_json_str(rec, "suspend_VDI");
    struct cli_fail ignored = {{0}};
    if (strcmp(suspend, "OpaqueRef:NULL") != 0 && *suspend &&
        cli_api_call(&c->api, NULL, 0, &ignored, "VDI.get_uuid", "s", suspend)) {
        snprintf(d->vdis[d->nvdis++], XG_REF_LEN, "%s", suspend);
        describe_vdi(c, suspend, &ignored);
    }
    yajl_tree_free(doc);
    return true;
}

static bool destroy(struct cli_ctx *c, const struct doomed *d, struct cli_fail *f)
{
    char state[32] = "";
    if (!cli_api_call(&c->api, state, sizeof(state), f, "VM.get_power_state", "s", d->vm))
        return false;
    if (strcmp(state, "Halted") != 0 &&
        !cli_api_call(&c->api, NULL, 0, f, "VM.hard_shutdown", "s", d->vm))
        return false;
    if (!cli_api_call(&c->api, NULL, 0, f, "VM.destroy", "s", d->vm))
        return false;
    for (size_t i = 0; i < d->nvdis; i++)
        if (!cli_api_call(&c->api, NULL, 0, f, "VDI.destroy", "s", d->vdis[i]))
            return false;
    return true;
}

static bool vm_uninstall(struct cli_ctx *c, struct cli_fail *f)
{
    static const char *const ignore[] = {"force", NULL};
    static const char *const fixed[] = {"is-control-domain", "false", "is-a-template",
                                        "false", NULL};
    struct cli_pick *vms = NULL;
    int n = cli_select(c->cmd, "VM", "vm", fixed, ignore, &vms, f);
    if (n <= 0 || (n > 1 && !cli_flag(c->cmd, "multiple"))) {
        free(vms);
        return n < 0 ? false
               : n == 0 ? cli_fail_msg(f, "Error: No matching VMs found")
                        : cli_fail_msg(f, "Error: Multiple matches VMs found. --multiple "
                                          "required to complete the operation");
    }
    /* the VMs and their snapshots, each with its disks */
    size_t cap = (size_t)n, count = 0;
    char (*refs)[XG_REF_LEN] = calloc(cap, sizeof(*refs));
    if (!refs)
        abort();
    for (int i = 0; i < n; i++)
        snprintf(refs[count++], XG_REF_LEN, "%s", vms[i].ref);
    free(vms);
    for (int i = 0; i < n; i++) {
        yajl_val snaps = NULL;
        yajl_val doc = cli_api_get(&c->api, &snaps, f, "VM.get_snapshots", "s", refs[i]);
        if (!doc)
            continue;
        size_t ns = YAJL_IS_ARRAY(snaps) ? snaps->u.array.len : 0;
        refs = realloc(refs, (cap += ns) * sizeof(*refs));
        if (!refs)
            abort();
        for (size_t k = 0; k < ns; k++)
            snprintf(refs[count++], XG_REF_LEN, "%s",
                     YAJL_IS_STRING(snaps->u.array.values[k])
                         ? YAJL_GET_STRING(snaps->u.array.values[k]) : "");
        yajl_tree_free(doc);
    }
    memset(f, 0, sizeof(*f));
    static const char head[] = "The following items are about to be destroyed";
    cli_print(c, head, strlen(head));
    struct doomed *doomed = calloc(count, sizeof(*doomed));
    if (!doomed)
        abort();
    bool ok = true;
    for (size_t i = 0; ok && i < count; i++)
        ok = choose(c, refs[i], &doomed[i], f);
    if (ok && (cli_flag(c->cmd, "force") || cli_user_says_yes(c))) {
        for (size_t i = 0; ok && i < count; i++)
            ok = destroy(c, &doomed[i], f);
        static const char done[] = "All objects destroyed";
        if (ok)
            cli_print(c, done, strlen(done));
    }
    for (size_t i = 0; i < count; i++)
        free(doomed[i].vdis);
    free(doomed);
    free(refs);
    return ok;
}

/* ---- vm-install (cli_operations.ml vm_install, vm_install_real) -------- */

/* template=X: a uuid, else a name-label among the templates. */
static bool find_template(struct cli_ctx *c, char ref[XG_REF_LEN], struct cli_fail *f)
{
    const char *uuid = cli_arg(c->cmd, "template-uuid");
    if (uuid)
        return cli_ref_by_uuid("VM", uuid, ref, f) ||
               (memset(f, 0, sizeof(*f)), cli_fail_msg(f, "Error: Cannot find template"));
    const char *name = cli_arg(c->cmd, "template-name-label");
    if (!name)
        name = cli_arg(c->cmd, "template-name");
    const char *either = cli_arg(c->cmd, "template");
    if (!name && either && cli_ref_by_uuid("VM", either, ref, f))
        return true;
    memset(f, 0, sizeof(*f));
    if (!name)
        name = either;
    if (!name)
        return cli_fail_msg(f, "Error: Template must be specified by parameter "
                               "'template-uuid', 'template-name', 'template-name-label' or "
                               "'template'");
    static const char *const fixed[] = {"is-a-template", "true", "is-control-domain", "false",
                                        NULL};
    struct cli_pick *p = NULL;
    int n = select_by("VM", "name-label", name, fixed, &p, f);
    if (n == 1)
        snprintf(ref, XG_REF_LEN, "%s", p[0].ref);
    free(p);
    return n == 1 || (n == 0 ? cli_fail_msg(f, "Error: No templates matched")
                             : n > 1 && cli_fail_msg(f, "Error: More than one matching "
                                                        "template found"));
}

/* sr-uuid= and/or sr-name-label=: the SR to copy to, or "" for a clone. */
static bool find_sr(struct cli_ctx *c, char sr[XG_REF_LEN], struct cli_fail *f)
{
    const char *uuid = cli_arg(c->cmd, "sr-uuid"), *name = cli_arg(c->cmd, "sr-name-label");
    sr[0] = 0;
    if (uuid && !cli_ref_by_uuid("SR", uuid, sr, f))
        return false;
    if (!name)
        return true;
    struct cli_pick *p = NULL;
    int n = select_by("SR", "name-label", name, NULL, &p, f);
    bool ok = n >= 0;
    if (n == 0)
        ok = cli_fail_msg(f, "Error: No SR with that name-label found");
    else if (ok && sr[0]) {
        bool member = false;
        for (int i = 0; i < n; i++)
            member = member || strcmp(p[i].ref, sr) == 0;
        if (!member)
            ok = cli_fail_msg(f, "Error: SR specified via sr-uuid doesn't have the name "
                                 "specified via sr-name-label");
    } else if (ok && n > 1) {
        ok = cli_fail_msg(f, "Error: Multiple SRs with that name-label found");
    } else if (ok) {
        snprintf(sr, XG_REF_LEN, "%s", p[0].ref);
    }
    free(p);
    return ok;
}

/* Points the disks the template will provision (other_config:disks,
 * <disk ... sr="..."/>) at the SR the user chose, as xapi's
 * rewrite_provisioning_xml does. */
static bool disks_to_sr(struct cli_ctx *c, const char *vm, const char *sr, struct cli_fail *f)
{
    char uuid[64];
    yajl_val oc = NULL;
    yajl_val doc = cli_api_get(&c->api, &oc, f, "VM.get_other_config", "s", vm);
    if (!doc)
        return false;
    const char *xml = cli_json_str(oc, "disks");
    bool ok = true;
    if (*xml && (ok = cli_api_call(&c->api, uuid, sizeof(uuid), f, "SR.get_uuid", "s", sr))) {
        xg_out o;
        xg_out_init(&o);
        for (const char *p = xml, *hit; *p; p = hit) {
            hit = strstr(p, " sr=\"");
            if (!hit) {
                xg_out_puts(&o, p);
                break;
            }
            xg_out_append(&o, p, (size_t)(hit - p));
            xg_out_printf(&o, " sr=\"%s\"", uuid);
            const char *close = strchr(hit + 5, '"');
            hit = close ? close + 1 : hit + strlen(hit);
        }
        char *rewritten = xg_out_strdup(&o, NULL);
        xg_out_reset(&o);
        ok = cli_api_call(&c->api, NULL, 0, f, "VM.remove_from_other_config", "ss", vm,
                          "disks") &&
             cli_api_call(&c->api, NULL, 0, f, "VM.add_to_other_config", "sss", vm, "disks",
                          rewritten);
        free(rewritten);
    }
    yajl_tree_free(doc);
    return ok;
}

static bool vm_install(struct cli_ctx *c, struct cli_fail *f)
{
    char tpl[XG_REF_LEN], sr[XG_REF_LEN], vm[XG_REF_LEN], uuid[64];
    if (!find_template(c, tpl, f))
        return false;
    yajl_val is_tpl = NULL, is_snap = NULL;
    yajl_val d1 = cli_api_get(&c->api, &is_tpl, f, "VM.get_is_a_template", "s", tpl);
    bool template = d1 && YAJL_IS_TRUE(is_tpl);
    if (d1)
        yajl_tree_free(d1);
    if (!d1)
        return false;
    if (!template)
        return cli_fail_msg(f, "Error: Can only install from templates");
    yajl_val d2 = cli_api_get(&c->api, &is_snap, f, "VM.get_is_a_snapshot", "s", tpl);
    bool snapshot = d2 && YAJL_IS_TRUE(is_snap);
    if (d2)
        yajl_tree_free(d2);
    if (snapshot && (cli_arg(c->cmd, "sr-uuid") || cli_arg(c->cmd, "sr-name-label")))
        return cli_fail_msg(f, "Error: Do not use the sr-name-label or sr-uuid argument when "
                               "installing from a snapshot. By default, it will install each "
                               "new disk on the same SR as the corresponding snapshot disks.");
    if (!find_sr(c, sr, f))
        return false;
    char suspend_sr[XG_REF_LEN];
    if (sr[0])
        snprintf(suspend_sr, sizeof(suspend_sr), "%s", sr);
    else if (!cli_api_call(&c->api, suspend_sr, sizeof(suspend_sr), f, "VM.get_suspend_SR",
                           "s", tpl))
        return false;
    const char *name = cli_arg(c->cmd, "new-name-label");
    bool made = sr[0] ? cli_api_call(&c->api, vm, sizeof(vm), f, "VM.copy", "sss", tpl, name,
                                     sr)
                      : cli_api_call(&c->api, vm, sizeof(vm), f, "VM.clone", "ss", tpl, name);
    return made &&
           cli_api_call(&c->api, NULL, 0, f, "VM.set_name_description", "ss", vm,
                        "Installed via xe CLI") &&
           cli_api_call(&c->api, NULL, 0, f, "VM.set_suspend_SR", "ss", vm, suspend_sr) &&
           (!sr[0] || disks_to_sr(c, vm, sr, f)) &&
           cli_api_call(&c->api, NULL, 0, f, "VM.provision", "s", vm) &&
           cli_api_call(&c->api, uuid, sizeof(uuid), f, "VM.get_uuid", "s", vm) &&
           (cli_print_list_item(c, uuid), true);
}

/* ---- host-cpu-info ------------------------------------------------------ */

static bool host_cpu_info(struct cli_ctx *c, struct cli_fail *f)
{
    char host[XG_REF_LEN];
    const char *uuid = cli_arg(c->cmd, "uuid");
    if (uuid) {
        if (!cli_ref_by_uuid("host", uuid, host, f))
            return false;
    } else {
        struct cli_pick *p = NULL;
        int n = select_by("host", NULL, NULL, NULL, &p, f);
        if (n > 0)                     /* one host: the session's */
            snprintf(host, sizeof(host), "%s", p[0].ref);
        free(p);
        if (n <= 0)
            return n == 0 ? cli_fail_msg(f, "Error: No matching hosts found") : false;
    }
    yajl_val info = NULL;
    yajl_val doc = cli_api_get(&c->api, &info, f, "host.get_cpu_info", "s", host);
    if (!doc)
        return false;
    /* one record: the map's keys as the table's keys (cli_printer layout) */
    size_t w = 0, n = YAJL_IS_OBJECT(info) ? info->u.object.len : 0;
    for (size_t i = 0; i < n; i++)
        w = strlen(info->u.object.keys[i]) > w ? strlen(info->u.object.keys[i]) : w;
    w += 4;
    xg_out o;
    xg_out_init(&o);
    for (size_t i = 0; i < n; i++) {
        yajl_val v = info->u.object.values[i];
        xg_out_printf(&o, i ? "\n%*s: %s" : "%-*s: %s", (int)w, info->u.object.keys[i],
                      YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : "");
    }
    xg_out_puts(&o, "\n\n");
    yajl_tree_free(doc);
    size_t len = 0;
    char *s = xg_out_strdup(&o, &len);
    xg_out_reset(&o);
    if (!c->cmd->minimal)
        cli_print(c, s, len);
    free(s);
    return true;
}
