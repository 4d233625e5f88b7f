/* cli_devices.c: xe's storage and network commands (cli_operations.ml
 * vdi_create, vbd_create, vif_create, vm_disk_add): they build the
 * record of <Class>.create from xe's parameters and print the new uuid. */
#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define NULL_REF "OpaqueRef:NULL"

static void member(xg_writer *w, const char *name)
{
    w->ops->member(w, name, strlen(name));
}

static void member_str(xg_writer *w, const char *name, const char *v)
{
    member(w, name);
    xg_write_cstr(w, v);
}

static void member_bool(xg_writer *w, const char *name, bool v)
{
    member(w, name);
    w->ops->boolean(w, v);
}

static void member_empty_map(xg_writer *w, const char *name)
{
    member(w, name);
    w->ops->begin_struct(w);
    w->ops->end_struct(w);
}

/* Sends q and copies the new object's uuid (method cls.get_uuid) into out. */
static bool created(struct cli_ctx *c, cli_req *q, const char *cls, char *out, size_t outlen,
                    char ref[XG_REF_LEN], struct cli_fail *f)
{
    yajl_val result = NULL;
    yajl_val doc = cli_req_send(q, &c->api, &result, f);
    if (!doc)
        return false;
    snprintf(ref, XG_REF_LEN, "%s", YAJL_IS_STRING(result) ? YAJL_GET_STRING(result) : "");
    yajl_tree_free(doc);
    char method[64];
    snprintf(method, sizeof(method), "%s.get_uuid", cls);
    return cli_api_call(&c->api, out, outlen, f, method, "s", ref);
}

static bool print_uuid(struct cli_ctx *c, const char *uuid)
{
    cli_print_list_item(c, uuid);
    return true;
}

/* The new VDI's record for VDI.create. */
static void vdi_record(cli_req *q, const char *name, const char *desc, const char *sr,
                       int64_t size, const char *type, bool sharable,
                       const struct cli_cmd *sm_from, const char *vm_hint)
{
    xg_writer *w = &q->w;
    w->ops->begin_struct(w);
    member_str(w, "name_label", name);
    member_str(w, "name_description", desc);
    member_str(w, "SR", sr);
    member(w, "virtual_size");
    w->ops->int64(w, size);
    member_str(w, "type", type);
    member_bool(w, "sharable", sharable);
    member_bool(w, "read_only", false);
    member_empty_map(w, "other_config");
    member_empty_map(w, "xenstore_data");
    member(w, "sm_config");
    w->ops->begin_struct(w);
    for (unsigned i = 0; sm_from && i < sm_from->nargs; i++)   /* sm-config:k=v */
        if (strncmp(sm_from->args[i].key, "sm-config:", 10) == 0)
            member_str(w, sm_from->args[i].key + 10, sm_from->args[i].value);
    if (vm_hint)
        member_str(w, "vmhint", vm_hint);
    w->ops->end_struct(w);
    member(w, "tags");
    w->ops->begin_array(w);
    w->ops->end_array(w);
    w->ops->end_struct(w);
}

bool cli_vdi_create(struct cli_ctx *c, struct cli_fail *f)
{
    const struct cli_cmd *cmd = c->cmd;
    char sr[XG_REF_LEN], vdi[XG_REF_LEN], uuid[64];
    int64_t size;
    const char *vs = cli_arg(cmd, "virtual-size"), *type = cli_arg(cmd, "type");
    if (!cli_ref_by_uuid("SR", cli_arg(cmd, "sr-uuid"), sr, f))
        return false;
    if (!cli_bytes_of_string(vs, &size))
        return cli_fail_msg(f, "Error: Failed to parse field 'virtual-size': expecting an "
                               "integer (possibly with suffix KiB, MiB, GiB, TiB), got '%s'",
                            vs);
    cli_req q;
    cli_req_begin(&q, &c->api, "VDI.create", true);
    vdi_record(&q, cli_arg(cmd, "name-label"), "", sr, size, type ? type : "user",
               cli_flag(cmd, "sharable"), cmd, NULL);
    return created(c, &q, "VDI", uuid, sizeof(uuid), vdi, f) && print_uuid(c, uuid);
}

/* One of the words xe accepts, case-insensitively; the API's spelling. */
static const char *word(const char *v, const char *const *accepted, const char *const *api)
{
    for (size_t i = 0; accepted[i]; i++)
        if (strcasecmp(v, accepted[i]) == 0)
            return api[i];
    return NULL;
}

/* VBD.create, then VBD.plug when the VM runs (a failed plug is not an
 * error: the disk is there at the next start). */
static bool make_vbd(struct cli_ctx *c, const char *vm, const char *vdi, const char *device,
                     bool bootable, const char *mode, const char *type, bool unpluggable,
                     bool owner, char *uuid, size_t uuidlen, struct cli_fail *f)
{
    cli_req q;
    cli_req_begin(&q, &c->api, "VBD.create", true);
    xg_writer *w = &q.w;
    w->ops->begin_struct(w);
    member_str(w, "VM", vm);
    member_str(w, "VDI", vdi);
    member_str(w, "userdevice", device);
    member_bool(w, "bootable", bootable);
    member_str(w, "mode", mode);
    member_str(w, "type", type);
    member_bool(w, "unpluggable", unpluggable);
    member_bool(w, "empty", strcmp(vdi, NULL_REF) == 0);
    member_str(w, "qos_algorithm_type", "");
    member_empty_map(w, "qos_algorithm_params");
    member(w, "other_config");
    w->ops->begin_struct(w);
    if (owner)
        member_str(w, "owner", "");
    w->ops->end_struct(w);
    member_str(w, "device", "");
    member_bool(w, "currently_attached", false);
    w->ops->end_struct(w);
    char vbd[XG_REF_LEN];
    if (!created(c, &q, "VBD", uuid, uuidlen, vbd, f))
        return false;
    if (owner) {
        struct cli_fail ignored = {{0}};
        cli_api_call(&c->api, NULL, 0, &ignored, "VBD.plug", "s", vbd);
    }
    return true;
}

bool cli_vbd_create(struct cli_ctx *c, struct cli_fail *f)
{
    static const char *const modes[] = {"ro", "rw", NULL}, *const mode_api[] = {"RO", "RW"};
    static const char *const types[] = {"cd", "disk", "floppy", NULL},
                             *const type_api[] = {"CD", "Disk", "Floppy"};
    const struct cli_cmd *cmd = c->cmd;
    const char *m = cli_arg(cmd, "mode"), *t = cli_arg(cmd, "type");
    const char *mode = m ? word(m, modes, mode_api) : "RW";
    const char *type = t ? word(t, types, type_api) : "Disk";
    if (!mode)
        return cli_fail_msg(f, "Error: Unknown mode: %s (should be \"ro\" or \"rw\"", m);
    if (!type)
        return cli_fail_msg(f, "Error: \"Unknown type: %s (should be \"cd\", \"disk\" or "
                               "\"floppy\"", t);
    char vm[XG_REF_LEN], vdi[XG_REF_LEN] = NULL_REF, uuid[64];
    const char *vdi_uuid = cli_arg(cmd, "vdi-uuid");
    if (!cli_ref_by_uuid("VM", cli_arg(cmd, "vm-uuid"), vm, f) ||
        (vdi_uuid && !cli_ref_by_uuid("VDI", vdi_uuid, vdi, f)))
        return false;
    if (!vdi_uuid && strcmp(type, "Disk") == 0)
        return cli_fail_msg(f, "Error: Empty VBDs can only be made for type=CD");
    const char *unplug = cli_arg(cmd, "unpluggable");
    return make_vbd(c, vm, vdi, cli_arg(cmd, "device"), cli_flag(cmd, "bootable"), mode, type,
                    !unplug || cli_flag(cmd, "unpluggable"), false, uuid, sizeof(uuid), f) &&
           print_uuid(c, uuid);
}

bool cli_vif_create(struct cli_ctx *c, struct cli_fail *f)
{
    const struct cli_cmd *cmd = c->cmd;
    char vm[XG_REF_LEN], net[XG_REF_LEN], vif[XG_REF_LEN], uuid[64];
    if (!cli_ref_by_uuid("VM", cli_arg(cmd, "vm-uuid"), vm, f) ||
        !cli_ref_by_uuid("network", cli_arg(cmd, "network-uuid"), net, f))
        return false;
    yajl_val mtu = NULL;
    yajl_val doc = cli_api_get(&c->api, &mtu, f, "network.get_MTU", "s", net);
    if (!doc)
        return false;
    long long mtu_v = YAJL_IS_INTEGER(mtu) ? YAJL_GET_INTEGER(mtu) : 1500;
    yajl_tree_free(doc);
    /* mac=random: the API makes one (an empty MAC means "choose") */
    const char *mac = cli_arg(cmd, "mac");
    if (!mac || strcmp(mac, "random") == 0)
        mac = "";
    cli_req q;
    cli_req_begin(&q, &c->api, "VIF.create", true);
    xg_writer *w = &q.w;
    w->ops->begin_struct(w);
    member_str(w, "device", cli_arg(cmd, "device"));
    member_str(w, "network", net);
    member_str(w, "VM", vm);
    member_str(w, "MAC", mac);
    member(w, "MTU");
    w->ops->int64(w, mtu_v);
    member_empty_map(w, "other_config");
    member_bool(w, "currently_attached", false);
    member_str(w, "qos_algorithm_type", "");
    member_empty_map(w, "qos_algorithm_params");
    member_str(w, "locking_mode", "network_default");
    w->ops->end_struct(w);
    return created(c, &q, "VIF", uuid, sizeof(uuid), vif, f) && print_uuid(c, uuid);
}

/* The SR of sr-uuid=, else the pool's default SR. */
static bool disk_sr(struct cli_ctx *c, char sr[XG_REF_LEN], struct cli_fail *f)
{
    const char *uuid = cli_arg(c->cmd, "sr-uuid");
    if (uuid)
        return cli_ref_by_uuid("SR", uuid, sr, f);
    yajl_val pools = NULL;
    yajl_val doc = cli_api_get(&c->api, &pools, f, "pool.get_all", "");
    if (!doc)
        return false;
    const char *pool = YAJL_IS_ARRAY(pools) && pools->u.array.len &&
                               YAJL_IS_STRING(pools->u.array.values[0])
                           ? YAJL_GET_STRING(pools->u.array.values[0]) : NULL_REF;
    bool ok = cli_api_call(&c->api, sr, XG_REF_LEN, f, "pool.get_default_SR", "s", pool);
    yajl_tree_free(doc);
    if (ok && (strcmp(sr, NULL_REF) == 0 || !*sr))
        return cli_fail_msg(f, "Error: No default Pool SR set; you must specify an SR on the "
                               "commandline");
    return ok;
}

bool cli_vm_disk_add(struct cli_ctx *c, const struct cli_pick *vm, char *out, size_t outlen,
                     struct cli_fail *f)
{
    (void)out, (void)outlen;
    const char *ds = cli_arg(c->cmd, "disk-size");
    int64_t size;
    char sr[XG_REF_LEN], vdi[XG_REF_LEN], uuid[64];
    if (!cli_bytes_of_string(ds, &size))
        return cli_fail_msg(f, "Error: Failed to parse field 'disk-size': expecting an integer "
                               "(possibly with suffix KiB, MiB, GiB, TiB), got '%s'", ds);
    if (!disk_sr(c, sr, f))
        return false;
    cli_req q;
    cli_req_begin(&q, &c->api, "VDI.create", true);
    vdi_record(&q, "Created by xe", "Created by xe", sr, size, "user", false, NULL, vm->uuid);
    if (!created(c, &q, "VDI", uuid, sizeof(uuid), vdi, f))
        return false;
    if (make_vbd(c, vm->ref, vdi, cli_arg(c->cmd, "device"), false, "RW", "Disk", true, true,
                 uuid, sizeof(uuid), f))
        return true;
    struct cli_fail ignored = {{0}};
    cli_api_call(&c->api, NULL, 0, &ignored, "VDI.destroy", "s", vdi);
    return false;
}
