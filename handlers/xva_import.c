/* xva_import.c: PUT /import, a VM from an XVA archive (spec
 * storage-network-console.md §5.4), as XAPI's import.ml reads it.
 *
 * Order, so that nothing is left half-made: the archive's ova.xml is read
 * and checked whole (every reference resolves inside it, sizes bounded)
 * before anything is created; then, under the world lock, the VDIs (fresh
 * images in the target SR), the VMs (halted, "import" in their
 * current_operations, keyed by the task as XO watches), their VBDs and
 * VIFs; then the chunks stream into the images without the lock (nbdcopy
 * into qemu-nbd, as /import_raw_vdi), each checked against its .xxhash or
 * .checksum member. Any failure (truncation, a bad checksum without
 * force, a member that is not ours, a chunk beyond its disk) destroys
 * everything made and fails the task; success answers the XML-RPC array of
 * the new VM refs. The HTTP answer (200, task-id) goes before the body is
 * read, as XAPI's; only checks of the query fail with an HTTP error. Member names are only ever parsed, never used as paths. */
#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xxhash.h>

#include "../server/arena.h"
#include "../server/http_routes.h"
#include "../server/log.h"
#include "../server/marshal.h"
#include "../server/world.h"
#include "net.h"
#include "storage.h"
#include "tasks.h"
#include "vm_disks.h"
#include "vm_internal.h"
#include "vm_spec.h"
#include "xva.h"
#include "xva_source.h"

#define AREA "import"
#define NBDCOPY "/usr/bin/nbdcopy"
#define QEMU_NBD "/usr/bin/qemu-nbd"
#define MAX_VMS 64
#define MAX_DISKS 256
#define CHECKSUM_MAX 128

/* A disk of the archive and the VDI made for it. */
struct disk {
    char id[64];                       /* Ref:<n> in the archive */
    char vdi[XG_REF_LEN];
    char path[600];
    int64_t size;
    /* streaming state */
    pid_t pid;
    int fd;
    int64_t offset, first_len;
    int64_t last_number;               /* -1 before the first chunk */
};

struct job {
    char task[XG_REF_LEN];
    char sr[XG_REF_LEN];
    bool force, restore;
    struct disk disks[MAX_DISKS];
    uint32_t nd;
    char vms[MAX_VMS][XG_REF_LEN];
    uint32_t nvms;
    struct xva_ova ova;
    xg_arena *a;
    /* the chunk whose checksum member may come next */
    struct disk *pending;
    int64_t pending_number;
    char pending_xxh[17], pending_sha1[41];
};

/* ---- reading ova.xml's objects ------------------------------------------------ */

static bool is_class(const struct xva_object *o, const char *cls)
{
    return strcmp(o->cls, cls) == 0;
}

/* An int64 member (XAPI writes them as strings); false if absent/bad. */
static bool snap_int(const xg_value *snap, const char *name, int64_t *out)
{
    const xg_value *v = xg_value_member(snap, name);
    if (v && v->t == XG_V_INT) {
        *out = v->u.i;
        return true;
    }
    if (!v || v->t != XG_V_STRING || !v->n || v->n > 20)
        return false;
    char *e;
    errno = 0;
    long long x = strtoll(v->u.s, &e, 10);
    if (*e || errno)
        return false;
    *out = x;
    return true;
}

/* Copies the fields of a snapshot struct into obj (not yet stored): those
 * listed in only[0..n), or (only NULL) every field a client may set at
 * creation that is not a reference. Unreadable values keep the default:
 * an archive from another version may spell a field differently. */
static void copy_fields(void *obj, const xg_class_desc *cls, const xg_value *snap,
                        xg_arena *a, const uint32_t *only, size_t n)
{
    for (uint32_t i = 0; i < snap->n; i++) {
        const xg_member *m = &snap->u.members[i];
        const xg_field_desc *f = xg_field_by_name(cls, m->name);
        if (!f)
            continue;
        uint32_t idx = (uint32_t)(f - cls->fields);
        bool wanted = false;
        if (only) {
            for (size_t k = 0; k < n && !wanted; k++)
                wanted = only[k] == idx;
        } else {
            wanted = !(f->flags & (XG_F_INTERNAL | XG_F_MAINTAINED)) &&
                     f->qual != XG_Q_RO_RUNTIME && f->type->kind != XG_K_REF &&
                     !(f->type->kind == XG_K_SET && f->type->elem->kind == XG_K_REF) &&
                     (int32_t)idx != cls->uuid_field;
        }
        if (!wanted)
            continue;
        size_t sz = xg_type_storage_size(f->type);
        void *tmp = xg_arena_alloc(a, sz ? sz : 8);
        xg_err e = XG_ERR_INIT;
        if (tmp && xg_decode_in(a, f->type, &m->v, tmp, &e))
            xg_obj_copy_field(obj, f, tmp);
    }
}

static struct disk *disk_by_id(struct job *j, const char *id)
{
    for (uint32_t i = 0; i < j->nd; i++)
        if (strcmp(j->disks[i].id, id) == 0)
            return &j->disks[i];
    return NULL;
}

/* Before anything is made: every VM's VBDs and VIFs resolve, every disk
 * has a sane size, counts are bounded. Fills j->disks (ids, sizes). */
static bool check_archive(struct job *j, xg_err *err)
{
    const struct xva_ova *o = &j->ova;
    uint32_t nvms = 0;
    for (uint32_t i = 0; i < o->n; i++) {
        const struct xva_object *x = &o->objs[i];
        if (is_class(x, "VM"))
            nvms++;
        if (!is_class(x, "VBD") && !is_class(x, "VIF"))
            continue;
        const struct xva_object *vm = xva_ova_find(o, xva_str(x->snapshot, "VM"));
        if (!vm || !is_class(vm, "VM"))
            return xapi_err_import_error_failed_to_find_object(err,
                       xva_str(x->snapshot, "VM"));
        if (!is_class(x, "VBD") || xg_value_member(x->snapshot, "empty") == NULL)
            continue;
        const xg_value *empty = xg_value_member(x->snapshot, "empty");
        if (empty->t == XG_V_BOOL && empty->u.b)
            continue;
        const char *vdi_id = xva_str(x->snapshot, "VDI");
        const struct xva_object *vdi = xva_ova_find(o, vdi_id);
        if (!vdi || !is_class(vdi, "VDI"))
            return xapi_err_import_error_failed_to_find_object(err, vdi_id);
        const struct xva_object *sr = xva_ova_find(o, xva_str(vdi->snapshot, "SR"));
        bool iso = strcmp(xva_str(x->snapshot, "type"), "CD") == 0 ||
                   (sr && strcmp(xva_str(sr->snapshot, "content_type"), "iso") == 0);
        if (iso || disk_by_id(j, vdi_id))
            continue;                   /* CDs: described, never streamed */
        if (j->nd == MAX_DISKS)
            return xapi_err_import_error(err, "too many disks");
        struct disk *d = &j->disks[j->nd];
        int64_t size;
        if (!snap_int(vdi->snapshot, "virtual_size", &size) || size <= 0 ||
            size > GW_VDI_MAX_SIZE)
            return xapi_err_import_error(err, "a disk has no valid virtual_size");
        snprintf(d->id, sizeof d->id, "%s", vdi_id);
        d->size = (size + 511) / 512 * 512;
        d->fd = -1;
        d->pid = -1;
        d->last_number = -1;
        j->nd++;
    }
    if (!nvms)
        return xapi_err_import_error(err, "the archive holds no VM");
    if (nvms > MAX_VMS)
        return xapi_err_import_error(err, "too many VMs");
    return true;
}

/* ---- making the objects (world lock held) --------------------------------------- */

static void discard(struct job *j)
{
    for (uint32_t i = 0; i < j->nvms; i++) {
        xapi_vm *vm = xg_store_get(&xapi_class_vm, j->vms[i]);
        if (!vm)
            continue;
        gw_vm_remove_vbds(vm);
        gw_vif_destroy_all(vm);
        gw_vm_detach_runtime_objects(vm);
        xg_store_remove(vm);
    }
    for (uint32_t i = 0; i < j->nd; i++) {
        xapi_vdi *vdi = j->disks[i].vdi[0] ?
            xg_store_get(&xapi_class_vdi, j->disks[i].vdi) : NULL;
        if (vdi) {
            gw_vdi_delete_image(vdi);
            gw_vdi_remove(vdi);
        }
    }
    xapi_sr *sr = xg_store_get(&xapi_class_sr, j->sr);
    if (sr)
        gw_sr_refresh_sizes(sr);
}

static bool make_vdi(struct job *j, xapi_sr *sr, struct disk *d, xg_err *err)
{
    const struct xva_object *o = xva_ova_find(&j->ova, d->id);
    static const uint32_t fields[] = {
        XAPI_VDI_F_NAME_LABEL, XAPI_VDI_F_NAME_DESCRIPTION, XAPI_VDI_F_TYPE,
        XAPI_VDI_F_SHARABLE, XAPI_VDI_F_READ_ONLY, XAPI_VDI_F_OTHER_CONFIG,
    };
    xapi_vdi *vdi = gw_vdi_new(sr, NULL);
    copy_fields(vdi, &xapi_class_vdi, o->snapshot, j->a, fields,
                sizeof fields / sizeof fields[0]);
    gw_init_field(vdi, XAPI_VDI_F_VIRTUAL_SIZE, &d->size);
    const char *k = "image-format", *v = "qcow2";
    xg_map sm = {(void *)&k, (void *)&v, 1, 1};
    gw_init_field(vdi, XAPI_VDI_F_SM_CONFIG, &sm);
    if (!gw_vdi_path(vdi, d->path, sizeof d->path, err) ||
        !gw_image_create(d->path, d->size, err)) {
        xg_obj_free(vdi);
        return false;
    }
    if (!gw_vdi_add(vdi, err)) {
        unlink(d->path);
        return false;
    }
    snprintf(d->vdi, sizeof d->vdi, "%s", vdi->obj.ref.s);
    return true;
}

static bool make_vbd(struct job *j, const struct xva_object *o, const char *vm_ref,
                     xg_err *err)
{
    static const uint32_t fields[] = {
        XAPI_VBD_F_USERDEVICE, XAPI_VBD_F_BOOTABLE, XAPI_VBD_F_MODE, XAPI_VBD_F_TYPE,
        XAPI_VBD_F_UNPLUGGABLE, XAPI_VBD_F_OTHER_CONFIG, XAPI_VBD_F_QOS_ALGORITHM_TYPE,
        XAPI_VBD_F_QOS_ALGORITHM_PARAMS,
    };
    struct disk *d = disk_by_id(j, xva_str(o->snapshot, "VDI"));
    xapi_vbd *vbd = xg_obj_new(&xapi_class_vbd);
    copy_fields(vbd, &xapi_class_vbd, o->snapshot, j->a, fields,
                sizeof fields / sizeof fields[0]);
    if (gw_vbd_position(vbd->userdevice) < 0) {
        xg_obj_free(vbd);
        return xapi_err_import_error(err, "a VBD has no valid userdevice");
    }
    /* a CD's medium is not in the archive: the drive comes empty */
    bool empty = d == NULL;
    gw_init_field(vbd, XAPI_VBD_F_EMPTY, &empty);
    gw_init_ref(vbd, XAPI_VBD_F_VDI, d ? d->vdi : XG_REF_NULL);
    gw_init_ref(vbd, XAPI_VBD_F_VM, vm_ref);
    if (!xg_store_add(vbd, NULL, err)) {
        xg_obj_free(vbd);
        return false;
    }
    gw_vbd_update_allowed_operations(vbd);
    xapi_vdi *vdi = d ? xg_store_get(&xapi_class_vdi, d->vdi) : NULL;
    if (vdi)
        gw_vdi_update_allowed_operations(vdi);
    return true;
}

/* The exported network's bridge, else its name, else the management
 * network: an import joins the host's networks, it makes none. */
static const char *network_for(const struct job *j, const struct xva_object *vif)
{
    const struct xva_object *n = xva_ova_find(&j->ova, xva_str(vif->snapshot, "network"));
    const char *bridge = n ? xva_str(n->snapshot, "bridge") : "";
    const char *name = n ? xva_str(n->snapshot, "name_label") : "";
    xapi_network *pick = NULL, *net;
    uint64_t cur = 0;
    while (!pick && (net = xg_store_next(&xapi_class_network, &cur)) != NULL)
        if (bridge[0] && strcmp(net->bridge, bridge) == 0)
            pick = net;
    cur = 0;
    while (!pick && (net = xg_store_next(&xapi_class_network, &cur)) != NULL)
        if (name[0] && strcmp(net->name_label, name) == 0)
            pick = net;
    if (!pick)
        pick = gw_net_management();
    return pick ? pick->obj.ref.s : NULL;
}

static bool make_vif(struct job *j, const struct xva_object *o, const char *vm_ref,
                     xg_err *err)
{
    static const uint32_t fields[] = {
        XAPI_VIF_F_DEVICE, XAPI_VIF_F_MAC, XAPI_VIF_F_MTU, XAPI_VIF_F_OTHER_CONFIG,
        XAPI_VIF_F_QOS_ALGORITHM_TYPE, XAPI_VIF_F_QOS_ALGORITHM_PARAMS,
    };
    const char *net = network_for(j, o);
    if (!net)
        return true;                    /* no network at all: the VIF is left out */
    xapi_vif *args = xg_obj_new(&xapi_class_vif);
    copy_fields(args, &xapi_class_vif, o->snapshot, j->a, fields,
                sizeof fields / sizeof fields[0]);
    gw_init_ref(args, XAPI_VIF_F_VM, vm_ref);
    gw_init_ref(args, XAPI_VIF_F_NETWORK, net);
    if (!j->restore)
        gw_init_str(args, XAPI_VIF_F_MAC, "");     /* new MACs from the new seed */
    xg_ref r;
    bool ok = gw_vif_make(args, &r, err);
    xg_obj_free(args);
    return ok;
}

static bool make_vm(struct job *j, const struct xva_object *o, xg_err *err)
{
    xapi_vm *vm = xg_obj_new(&xapi_class_vm);
    copy_fields(vm, &xapi_class_vm, o->snapshot, j->a, NULL, 0);
    if (!gw_vm_check_memory_order(vm->memory_static_min, vm->memory_dynamic_min,
                                  vm->memory_dynamic_max, vm->memory_static_max, err) ||
        !gw_vm_check_vcpus(vm->vcpus_max, vm->vcpus_at_startup, err)) {
        xg_obj_free(vm);
        return false;
    }
    /* An exported snapshot (XO exports a snapshot of a running VM) comes
     * back as a plain VM: its source is not in the archive. */
    const xg_value *snap = xg_value_member(o->snapshot, "is_a_snapshot");
    bool was_snapshot = snap && snap->t == XG_V_BOOL && snap->u.b, no = false;
    gw_init_field(vm, XAPI_VM_F_IS_A_SNAPSHOT, &no);
    if (was_snapshot)
        gw_init_field(vm, XAPI_VM_F_IS_A_TEMPLATE, &no);
    xg_ref ref;
    if (!gw_vm_add_halted(vm, &ref, err))
        return false;
    snprintf(j->vms[j->nvms++], XG_REF_LEN, "%s", ref.s);
    vm = xg_store_get(&xapi_class_vm, ref.s);
    if (!j->restore) {
        /* a new identity: a fresh seed, so new MACs (restore keeps both) */
        char seed[XG_UUID_STR];
        gw_random_uuid(seed);
        const char *k = "mac_seed", *v = seed;
        xg_store_map_remove(vm, GW_VMF(OTHER_CONFIG), &k);
        if (!xg_store_map_add(vm, GW_VMF(OTHER_CONFIG), &k, &v, err))
            return false;
    }
    int op = XAPI_VM_OPERATIONS_IMPORT;
    const char *key = j->task;
    if (j->task[0] && xg_store_map_add(vm, GW_VMF(CURRENT_OPERATIONS), &key, &op, err))
        gw_vm_update_allowed_operations(vm);
    xg_err_clear(err);
    for (uint32_t i = 0; i < j->ova.n; i++) {
        const struct xva_object *x = &j->ova.objs[i];
        if (strcmp(xva_str(x->snapshot, "VM"), o->id) != 0)
            continue;
        if (is_class(x, "VBD") && !make_vbd(j, x, ref.s, err))
            return false;
        if (is_class(x, "VIF") && !make_vif(j, x, ref.s, err))
            return false;
    }
    return true;
}

static bool make_objects(struct job *j, xg_err *err)
{
    xapi_sr *sr = xg_store_get(&xapi_class_sr, j->sr);
    if (!sr)
        return xapi_err_handle_invalid(err, "SR", j->sr);
    for (uint32_t i = 0; i < j->nd; i++)
        if (!make_vdi(j, sr, &j->disks[i], err))
            return false;
    for (uint32_t i = 0; i < j->ova.n; i++)
        if (is_class(&j->ova.objs[i], "VM") && !make_vm(j, &j->ova.objs[i], err))
            return false;
    gw_sr_refresh_sizes(sr);
    return true;
}

/* ---- streaming the chunks ------------------------------------------------------- */

static bool disk_open(struct disk *d, xg_err *err)
{
    const char *argv[] = {NBDCOPY, "--synchronous", "--flush", "--request-size=1048576",
                          "--", "-", "[", QEMU_NBD, "-f", "qcow2", "--cache=writeback",
                          d->path, "]", NULL};
    d->pid = gw_spawn_piped(argv, true, &d->fd);
    if (d->pid < 0)
        return xg_err_internal(err, "cannot start nbdcopy");
    return true;
}

/* Closes the writer; false (with err) if it did not finish cleanly. */
static bool disk_close(struct disk *d, bool kill_it, xg_err *err)
{
    if (d->pid < 0)
        return true;
    close(d->fd);
    d->fd = -1;
    if (kill_it)
        kill(d->pid, SIGKILL);
    int st = 0;
    while (waitpid(d->pid, &st, 0) < 0 && errno == EINTR)
        ;
    d->pid = -1;
    if (!kill_it && !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
        return xapi_err_vdi_io_error(err, "Device I/O errors");
    return true;
}

static bool put(struct disk *d, const void *p, size_t n, xg_err *err)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(d->fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return xapi_err_vdi_io_error(err, "Device I/O errors");
        c += w;
        n -= (size_t)w;
    }
    return true;
}

static bool read_in(struct xva_source *src, void *buf, size_t n, xg_err *err)
{
    bool corrupt = false;
    if (xva_source_read(src, buf, n, &corrupt))
        return true;
    return corrupt ? xapi_err_import_error(err, "the compressed stream is corrupt")
                   : xapi_err_import_error_premature_eof(err);
}

/* XAPI's placement rule: numbers skipped advance the offset by the first
 * chunk's length each (zeros), a chunk is written at the running offset. */
static bool data_member(struct job *j, struct xva_source *src, struct disk *d,
                        uint32_t number, uint64_t size, unsigned char *buf,
                        const unsigned char *zeros, xg_err *err)
{
    if ((int64_t)number <= d->last_number)
        return xapi_err_import_error(err, "chunk numbers do not increase");
    if (size > XVA_CHUNK * 16ULL)
        return xapi_err_import_error(err, "a chunk is too large");
    if (d->last_number < 0 && d->first_len == 0)
        d->first_len = size ? (int64_t)size : XVA_CHUNK;
    uint64_t gap = (uint64_t)(number - d->last_number - 1);
    if (gap > (uint64_t)d->size || gap * (uint64_t)d->first_len > (uint64_t)d->size ||
        d->offset + (int64_t)(gap * (uint64_t)d->first_len) + (int64_t)size > d->size)
        return xapi_err_import_error(err, "a chunk lies beyond its disk");
    if (d->pid < 0 && !disk_open(d, err))
        return false;
    for (int64_t z = (int64_t)(gap * (uint64_t)d->first_len); z > 0;) {
        size_t k = z > XVA_CHUNK ? XVA_CHUNK : (size_t)z;
        if (!put(d, zeros, k, err))
            return false;
        z -= (int64_t)k;
        d->offset += (int64_t)k;
    }
    XXH64_state_t *xs = XXH64_createState();
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    bool ok = xs && md && XXH64_reset(xs, 0) == XXH_OK &&
              EVP_DigestInit_ex(md, EVP_sha1(), NULL) == 1;
    if (!ok)
        xg_err_internal(err, "out of memory");
    uint64_t left = size;
    while (ok && left) {
        size_t k = left > XVA_CHUNK ? XVA_CHUNK : (size_t)left;
        ok = read_in(src, buf, k, err) && put(d, buf, k, err);
        if (ok) {
            XXH64_update(xs, buf, k);
            EVP_DigestUpdate(md, buf, k);
        }
        left -= k;
    }
    size_t pad = xva_tar_pad(size);
    if (ok && pad)
        ok = read_in(src, buf, pad, err);
    if (ok) {
        unsigned char sha[20];
        unsigned int shalen = 0;
        EVP_DigestFinal_ex(md, sha, &shalen);
        snprintf(j->pending_xxh, sizeof j->pending_xxh, "%016llX",
                 (unsigned long long)XXH64_digest(xs));
        for (unsigned i = 0; i < 20; i++)
            snprintf(j->pending_sha1 + 2 * i, 3, "%02x", sha[i]);
        j->pending = d;
        j->pending_number = number;
        d->offset += (int64_t)size;
        d->last_number = number;
    }
    XXH64_freeState(xs);
    EVP_MD_CTX_free(md);
    return ok;
}

static bool checksum_member(struct job *j, struct xva_source *src, struct disk *d,
                            uint32_t number, enum xva_member kind, uint64_t size,
                            unsigned char *buf, xg_err *err)
{
    if (size > CHECKSUM_MAX)
        return xapi_err_import_error(err, "a checksum member is too large");
    if (j->pending != d || j->pending_number != (int64_t)number)
        return xapi_err_import_error(err, "a checksum without its chunk");
    if (!read_in(src, buf, size + xva_tar_pad(size), err))
        return false;
    size_t n = (size_t)size;
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' ' || buf[n - 1] == '\r'))
        n--;
    const char *want = kind == XVA_M_XXHASH ? j->pending_xxh : j->pending_sha1;
    j->pending = NULL;
    if (n == strlen(want) && strncasecmp((const char *)buf, want, n) == 0)
        return true;
    if (j->force) {
        XG_WARN(AREA, "%s/%08u: checksum mismatch ignored (force)", d->id, number);
        return true;
    }
    return xapi_err_import_error_some_checksums_failed(err);
}

static void progress(struct job *j, struct xva_source *src, int64_t declared,
                     long long *next)
{
    long long got = xva_source_consumed(src);
    if (got < *next || declared <= 0 || got > declared)
        return;
    *next = got + (64 << 20);
    xg_world_lock();
    gw_task_http_progress(j->task, (double)got / (double)declared);
    xg_world_unlock();
}

static bool stream_chunks(xg_http_ex *x, struct job *j, struct xva_source *src,
                          xg_err *err)
{
    unsigned char *buf = malloc(XVA_CHUNK), *zeros = calloc(1, XVA_CHUNK);
    bool ok = buf && zeros;
    if (!ok)
        xg_err_internal(err, "out of memory");
    struct disk *cur = NULL;
    long long next = 64 << 20;
    int64_t declared = xg_http_req(x)->content_length;
    while (ok) {
        char hdr[XVA_TAR_BLOCK], name[XVA_NAME_MAX], msg[160], id[64];
        uint64_t size;
        uint32_t number;
        if (!read_in(src, hdr, sizeof hdr, err)) {
            ok = false;
            break;
        }
        enum xva_tar_kind k = xva_tar_parse(hdr, name, &size, msg, sizeof msg);
        if (k == XVA_TAR_END)
            break;
        if (k == XVA_TAR_BAD) {
            ok = xapi_err_import_error(err, msg);
            break;
        }
        enum xva_member m = xva_member_parse(name, id, &number);
        struct disk *d = m == XVA_M_OTHER ? NULL : disk_by_id(j, id);
        if (!d) {
            ok = xapi_err_import_error(err, "unexpected member in the archive");
            break;
        }
        if (m == XVA_M_DATA && d != cur) {
            /* XAPI writes a disk's chunks together: the previous is done */
            if (cur && !disk_close(cur, false, err)) {
                ok = false;
                break;
            }
            if (d->last_number >= 0) {
                ok = xapi_err_import_error(err, "a disk's chunks are not together");
                break;
            }
            cur = d;
        }
        ok = m == XVA_M_DATA
            ? data_member(j, src, d, number, size, buf, zeros, err)
            : checksum_member(j, src, d, number, m, size, buf, err);
        progress(j, src, declared, &next);
    }
    if (ok && cur)
        ok = disk_close(cur, false, err);
    for (uint32_t i = 0; i < j->nd; i++)
        disk_close(&j->disks[i], true, err);
    free(buf);
    free(zeros);
    return ok;
}

/* ---- the route ------------------------------------------------------------------ */

static bool read_ova(struct job *j, struct xva_source *src, xg_err *err)
{
    char hdr[XVA_TAR_BLOCK], name[XVA_NAME_MAX], msg[200];
    uint64_t size = 0;
    if (!read_in(src, hdr, sizeof hdr, err))
        return false;
    enum xva_tar_kind k = xva_tar_parse(hdr, name, &size, msg, sizeof msg);
    if (k != XVA_TAR_FILE || strcmp(name, "ova.xml") != 0)
        return xapi_err_import_error_unexpected_file(err, "ova.xml",
                   k == XVA_TAR_FILE ? name : "");
    if (size > XVA_OVA_MAX)
        return xapi_err_import_error(err, "ova.xml is too large");
    size_t padded = (size_t)size + xva_tar_pad(size);
    char *doc = malloc(padded ? padded : 1);
    if (!doc)
        return xg_err_internal(err, "out of memory");
    bool ok = read_in(src, doc, padded, err);
    if (ok && !xva_ova_parse(j->a, doc, (size_t)size, &j->ova, msg, sizeof msg))
        ok = xapi_err_import_error(err, msg);
    /* the parsed values point into the arena, not into doc */
    free(doc);
    return ok;
}

static xapi_sr *target_sr(const char *query, xg_err *err)
{
    char q[128] = "";
    xapi_sr *sr = NULL;
    if (xg_query_get(query, "sr_id", q, sizeof q) && q[0])
        sr = xg_store_get(&xapi_class_sr, q);
    else if (xg_query_get(query, "sr_uuid", q, sizeof q) && q[0])
        sr = xg_store_get_by_uuid(&xapi_class_sr, q);
    else
        sr = xg_store_get(&xapi_class_sr, gw_pool()->default_sr.s);
    if (!sr)
        return xapi_err_handle_invalid(err, "SR", q[0] ? q : XG_REF_NULL), NULL;
    if (gw_sr_kind(sr) != GW_SR_FILE)
        return xapi_err_sr_operation_not_supported(err, sr->obj.ref.s), NULL;
    if (!gw_sr_check_plugged(sr, err))
        return NULL;
    return sr;
}

static bool flag(const char *query, const char *name)
{
    char v[8] = "";
    xg_query_get(query, name, v, sizeof v);
    return strcmp(v, "true") == 0;
}

static void answer(xg_http_ex *x, struct job *j, int status, const xg_err *err)
{
    char hdr[XG_REF_LEN + 16] = "";
    if (j->task[0])
        snprintf(hdr, sizeof hdr, "task-id: %s\r\n", j->task);
    if (status == 200) {
        /* an empty body left open until the import ends: with a complete
         * answer and "Connection: close", curl stops sending */
        xg_http_respond(x, 200, NULL, XG_HTTP_UNSIZED, hdr);
        return;
    }
    char body[300];
    snprintf(body, sizeof body, "%s %s\n", err->code ? err->code : "INTERNAL_ERROR",
             err->nparams ? err->param[0] : "");
    xg_http_respond(x, status, "text/plain", (int64_t)strlen(body), hdr);
    xg_http_write(x, body, strlen(body));
}

static void finish(struct job *j, bool ok, const xg_err *err)
{
    xg_out res;
    xg_out_init(&res);
    xg_out_puts(&res, "<value><array><data>");
    for (uint32_t i = 0; ok && i < j->nvms; i++)
        xg_out_printf(&res, "<value>%s</value>", j->vms[i]);
    xg_out_puts(&res, "</data></array></value>");
    char *result = xg_out_strdup(&res, NULL);
    xg_out_reset(&res);
    xg_world_lock();
    if (!ok) {
        discard(j);
    } else {
        for (uint32_t i = 0; i < j->nvms; i++) {
            xapi_vm *vm = xg_store_get(&xapi_class_vm, j->vms[i]);
            if (vm)
                gw_vm_op_end(vm, XAPI_VM_OPERATIONS_IMPORT);
        }
        for (uint32_t i = 0; i < j->nd; i++) {
            xapi_vdi *vdi = xg_store_get(&xapi_class_vdi, j->disks[i].vdi);
            if (vdi)
                gw_vdi_refresh_size(vdi);
        }
    }
    if (j->task[0])
        gw_task_http_end(j->task, ok, err, ok ? result : NULL);
    xg_err ferr = XG_ERR_INIT;
    xg_store_flush(&ferr);
    xg_world_unlock();
    free(result);
}

static void import_vm(xg_http_ex *x)
{
    const struct xg_http_request *rq = xg_http_req(x);
    struct job *j = calloc(1, sizeof *j);
    struct xva_source *src = xva_source_new(x);
    xg_err err = XG_ERR_INIT;
    if (!j || !src) {
        xg_http_reply(x, 500, "text/plain", "out of memory\n");
        free(j);
        xva_source_free(src);
        return;
    }
    j->force = flag(rq->query, "force");
    j->restore = flag(rq->query, "restore");
    char task_q[XG_REF_LEN + 8] = "";
    xg_query_get(rq->query, "task_id", task_q, sizeof task_q);
    int status = 0;
    xg_world_lock();
    xapi_sr *sr = target_sr(rq->query, &err);
    if (sr)
        snprintf(j->sr, sizeof j->sr, "%s", sr->obj.ref.s);
    else
        status = 400;
    xg_err terr = XG_ERR_INIT;
    if (!gw_task_http_begin("VM import", rq->session_ref, task_q, j->task, &terr)) {
        j->task[0] = 0;
        if (!status) {
            err = terr;
            status = 503;
        }
    } else if (status) {
        gw_task_http_end(j->task, false, &err, NULL);
    }
    xg_err ferr = XG_ERR_INIT;
    xg_store_flush(&ferr);
    xg_world_unlock();
    if (status) {
        answer(x, j, status, &err);
        goto out;
    }
    /* As XAPI: the 200 and task-id go out before the archive is read, and
     * the outcome is the task's. XO's empty probe PUT gets its 200 so (its
     * throw-away task fails on the empty stream). The body of the answer
     * stays open until the import ends: a complete answer with
     * "Connection: close" makes curl -T stop sending. */
    answer(x, j, 200, &err);
    j->a = xg_arena_new(256u << 20);
    bool ok = j->a && read_ova(j, src, &err) && check_archive(j, &err);
    if (!j->a)
        xg_err_internal(&err, "out of memory");
    if (ok) {
        xg_world_lock();
        ok = make_objects(j, &err);
        if (!ok)
            discard(j);
        xg_store_flush(&ferr);
        xg_world_unlock();
    }
    if (ok)
        ok = stream_chunks(x, j, src, &err);
    finish(j, ok, &err);
    XG_INFO(AREA, "%u VM(s), %u disk(s), %lld bytes read: %s", j->nvms, j->nd,
            xva_source_consumed(src), ok ? "done" : err.code);
out:
    if (j->a)
        xg_arena_free(j->a);
    free(j);
    xva_source_free(src);
}

void gw_xva_import_register(void)
{
    xg_http_route("PUT", "/import", XG_ROUTE_RAW_BODY, import_vm);
    xg_http_route("PUT", "/import/*", XG_ROUTE_RAW_BODY, import_vm);
}
