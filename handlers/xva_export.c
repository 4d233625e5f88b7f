/* xva_export.c: GET /export (a VM as an XVA, streamed) and
 * GET /export_metadata (ova.xml alone in a tar), as XAPI's export.ml and
 * stream_vdi.ml write them (spec storage-network-console.md §5.3, §5.5).
 *
 * The plan (which objects, their Ref:<n> ids, ova.xml, the disks' image
 * paths) is made under the world lock, with `export` in the VM's
 * current_operations so that it cannot start or lose a disk meanwhile;
 * the disks are then read on this HTTP worker without the lock through
 * nbdcopy + qemu-nbd (the qcow2 chain read as raw), 1 MiB at a time:
 * memory stays flat whatever the disk size. All-zero chunks are left out
 * except the first and the last, as XAPI does. A failure after the 200
 * fails the task and cuts the body (xg_http_abort), never an error page
 * inside a 200. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "../server/http_routes.h"
#include "../server/log.h"
#include "../server/world.h"
#include "../server/writer.h"
#include "storage.h"
#include "tasks.h"
#include "xva.h"
#include "xva_sink.h"

#define AREA "export"
#define NBDCOPY "/usr/bin/nbdcopy"
#define QEMU_NBD "/usr/bin/qemu-nbd"

struct plan_obj {
    const xg_class_desc *cls;
    char ref[XG_REF_LEN];
};

struct plan_disk {
    char id[16];
    char path[600];
    int64_t size;
};

struct plan {
    char vm[XG_REF_LEN], uuid[XG_UUID_STR];
    char task[XG_REF_LEN];
    struct plan_obj *objs;
    uint32_t n, cap;
    struct plan_disk *disks;
    uint32_t nd;
    char *ova;
    size_t ova_len;
    int64_t total, done, next_progress;
};

static void plan_free(struct plan *p)
{
    free(p->objs);
    free(p->disks);
    free(p->ova);
}

/* Index of ref in the plan, adding it; -1 when out of memory. */
static int plan_add(struct plan *p, const xg_class_desc *cls, const char *ref)
{
    for (uint32_t i = 0; i < p->n; i++)
        if (strcmp(p->objs[i].ref, ref) == 0)
            return (int)i;
    if (p->n == p->cap) {
        uint32_t cap = p->cap ? 2 * p->cap : 16;
        struct plan_obj *o = realloc(p->objs, cap * sizeof *o);
        if (!o)
            return -1;
        p->objs = o;
        p->cap = cap;
    }
    p->objs[p->n].cls = cls;
    snprintf(p->objs[p->n].ref, XG_REF_LEN, "%s", ref);
    return (int)p->n++;
}

static const char *plan_id(const struct plan *p, const char *ref, char buf[16])
{
    for (uint32_t i = 0; i < p->n; i++)
        if (strcmp(p->objs[i].ref, ref) == 0) {
            snprintf(buf, 16, "Ref:%u", i);
            return buf;
        }
    return XG_REF_NULL;
}

/* The VM, its VBDs with their VDIs and SRs, its VIFs with their networks
 * (XAPI's export set without GPUs and TPMs, which this host has none of);
 * disks on disk SRs are streamed, CDs only described. */
static bool plan_gather(struct plan *p, xapi_vm *vm, bool with_disks, xg_err *err)
{
    if (plan_add(p, &xapi_class_vm, vm->obj.ref.s) < 0)
        return xg_err_internal(err, "out of memory");
    const xg_ref *b = vm->vbds.items;
    p->disks = calloc(vm->vbds.n ? vm->vbds.n : 1, sizeof *p->disks);
    if (!p->disks)
        return xg_err_internal(err, "out of memory");
    for (uint32_t i = 0; i < vm->vbds.n; i++) {
        xapi_vbd *vbd = xg_store_get(&xapi_class_vbd, b[i].s);
        if (!vbd || plan_add(p, &xapi_class_vbd, vbd->obj.ref.s) < 0)
            continue;
        xapi_vdi *vdi = vbd->empty ? NULL : xg_store_get(&xapi_class_vdi, vbd->vdi.s);
        xapi_sr *sr = vdi ? xg_store_get(&xapi_class_sr, vdi->sr.s) : NULL;
        if (!vdi || !sr)
            continue;
        uint32_t before = p->n;
        int id = plan_add(p, &xapi_class_vdi, vdi->obj.ref.s);
        if (id < 0 || plan_add(p, &xapi_class_sr, sr->obj.ref.s) < 0)
            return xg_err_internal(err, "out of memory");
        if (!with_disks || (uint32_t)id < before || gw_sr_kind(sr) == GW_SR_ISO ||
            vdi->virtual_size <= 0)
            continue;
        struct plan_disk *d = &p->disks[p->nd];
        if (!gw_sr_check_plugged(sr, err) || !gw_vdi_path(vdi, d->path, sizeof d->path, err))
            return false;
        snprintf(d->id, sizeof d->id, "Ref:%d", id);
        d->size = vdi->virtual_size;
        p->total += d->size;
        p->nd++;
    }
    const xg_ref *f = vm->vifs.items;
    for (uint32_t i = 0; i < vm->vifs.n; i++) {
        xapi_vif *vif = xg_store_get(&xapi_class_vif, f[i].s);
        if (!vif || plan_add(p, &xapi_class_vif, vif->obj.ref.s) < 0)
            continue;
        if (xg_store_get(&xapi_class_network, vif->network.s) &&
            plan_add(p, &xapi_class_network, vif->network.s) < 0)
            return xg_err_internal(err, "out of memory");
    }
    return true;
}

/* ---- ova.xml -------------------------------------------------------------------- */

/* A record with every reference rewritten to its Ref:<n> id, or to
 * OpaqueRef:NULL (dropped from sets) when the object is not exported. */
static void write_rewritten(xg_writer *w, const struct plan *p,
                            const xg_class_desc *cls, const void *rec)
{
    char id[16];
    w->ops->begin_struct(w);
    for (uint32_t i = 0; i < cls->nfields; i++) {
        const xg_field_desc *f = &cls->fields[i];
        if (f->flags & XG_F_INTERNAL)
            continue;
        const void *v = (const char *)rec + f->offset;
        w->ops->member(w, f->name, strlen(f->name));
        if (f->type->kind == XG_K_REF) {
            xg_write_cstr(w, plan_id(p, ((const xg_ref *)v)->s, id));
        } else if (f->type->kind == XG_K_SET && f->type->elem->kind == XG_K_REF) {
            const xg_set *s = v;
            const xg_ref *r = s->items;
            w->ops->begin_array(w);
            for (uint32_t k = 0; k < s->n; k++) {
                const char *m = plan_id(p, r[k].s, id);
                if (strcmp(m, XG_REF_NULL) != 0)
                    xg_write_cstr(w, m);
            }
            w->ops->end_array(w);
        } else {
            xg_write_value(w, f->type, v);
        }
    }
    w->ops->end_struct(w);
}

static void member_str(xg_writer *w, const char *name, const char *v)
{
    w->ops->member(w, name, strlen(name));
    xg_write_cstr(w, v);
}

static void write_version(xg_writer *w)
{
    const xapi_host *h = gw_host();
    const xg_map *sv = h ? &h->software_version : NULL;
    const char *get[] = {"hostname", "product_version", "product_brand", "build_number"};
    char date[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%Y-%m-%d", &tm);
    w->ops->begin_struct(w);
    for (size_t i = 0; i < sizeof get / sizeof get[0]; i++) {
        const char *v = sv ? gw_smap_get(sv, get[i]) : NULL;
        member_str(w, get[i], v ? v : "");
    }
    member_str(w, "date", date);
    const char *xapi = sv ? gw_smap_get(sv, "xapi") : NULL;
    int major = 1, minor = 0;
    if (xapi)
        sscanf(xapi, "%d.%d", &major, &minor);
    w->ops->member(w, "xapi_major", 10);
    w->ops->int32(w, major);
    w->ops->member(w, "xapi_minor", 10);
    w->ops->int32(w, minor);
    w->ops->member(w, "export_vsn", 10);
    w->ops->int32(w, 2);
    w->ops->end_struct(w);
}

static bool plan_ova(struct plan *p, xg_err *err)
{
    xg_out out;
    xg_out_init(&out);
    xg_writer w;
    xg_writer_init_xml(&w, &out);
    w.ops->begin_struct(&w);
    w.ops->member(&w, "version", 7);
    write_version(&w);
    w.ops->member(&w, "objects", 7);
    w.ops->begin_array(&w);
    for (uint32_t i = 0; i < p->n; i++) {
        const void *rec = xg_store_get(p->objs[i].cls, p->objs[i].ref);
        char id[16];
        snprintf(id, sizeof id, "Ref:%u", i);
        w.ops->begin_struct(&w);
        member_str(&w, "class", p->objs[i].cls->name);
        member_str(&w, "id", id);
        w.ops->member(&w, "snapshot", 8);
        write_rewritten(&w, p, p->objs[i].cls, rec);
        w.ops->end_struct(&w);
    }
    w.ops->end_array(&w);
    w.ops->end_struct(&w);
    p->ova = xg_out_strdup(&out, &p->ova_len);
    xg_out_reset(&out);
    return p->ova ? true : xg_err_internal(err, "out of memory");
}

/* ---- request -------------------------------------------------------------------- */

static xapi_vm *find_vm(const char *query)
{
    char q[128] = "";
    if (xg_query_get(query, "ref", q, sizeof q)) {
        return xg_store_get(&xapi_class_vm, q);
    }
    if (xg_query_get(query, "uuid", q, sizeof q))
        return xg_store_get_by_uuid(&xapi_class_vm, q);
    return NULL;
}

/* Under the world lock: the VM, the plan, the task, `export` on the VM.
 * Returns the HTTP status to answer on failure (0: go on). */
static int begin(xg_http_ex *x, const char *label, bool with_disks, struct plan *p,
                 xg_err *err)
{
    const struct xg_http_request *rq = xg_http_req(x);
    char task_q[XG_REF_LEN + 8] = "";
    xg_query_get(rq->query, "task_id", task_q, sizeof task_q);
    int status = 0;
    xg_world_lock();
    xapi_vm *vm = find_vm(rq->query);
    if (!vm) {
        char q[128] = "";
        if (!xg_query_get(rq->query, "ref", q, sizeof q))
            xg_query_get(rq->query, "uuid", q, sizeof q);
        xapi_err_handle_invalid(err, "VM", q);
        status = 404;
    } else if (with_disks && !gw_vm_check_op(vm, XAPI_VM_OPERATIONS_EXPORT, err)) {
        status = 400;
    } else if (!plan_gather(p, vm, with_disks, err) || !plan_ova(p, err)) {
        status = 500;
    } else {
        snprintf(p->vm, sizeof p->vm, "%s", vm->obj.ref.s);
        snprintf(p->uuid, sizeof p->uuid, "%s", vm->uuid);
    }
    xg_err terr = XG_ERR_INIT;
    if (!gw_task_http_begin(label, rq->session_ref, task_q, p->task, &terr)) {
        p->task[0] = 0;
        if (!status) {
            *err = terr;
            status = 503;
        }
    } else if (status) {
        gw_task_http_end(p->task, false, err, NULL);
    } else if (with_disks) {
        /* XAPI keys the operation by its task; XO watches it there */
        int op = XAPI_VM_OPERATIONS_EXPORT;
        const char *k = p->task;
        xg_err e2 = XG_ERR_INIT;
        if (xg_store_map_add(vm, &xapi_class_vm.fields[XAPI_VM_F_CURRENT_OPERATIONS],
                             &k, &op, &e2))
            gw_vm_update_allowed_operations(vm);
    }
    xg_err ferr = XG_ERR_INIT;
    xg_store_flush(&ferr);
    xg_world_unlock();
    return status;
}

static void end(struct plan *p, bool ok, const xg_err *err, bool had_op)
{
    xg_world_lock();
    if (p->task[0])
        gw_task_http_end(p->task, ok, err, ok ? "<value></value>" : NULL);
    xapi_vm *vm = had_op ? xg_store_get(&xapi_class_vm, p->vm) : NULL;
    if (vm)
        gw_vm_op_end(vm, XAPI_VM_OPERATIONS_EXPORT);
    xg_err ferr = XG_ERR_INIT;
    xg_store_flush(&ferr);
    xg_world_unlock();
}

static void fail_early(xg_http_ex *x, const struct plan *p, int status, const xg_err *err)
{
    char hdr[XG_REF_LEN + 16] = "";
    if (p->task[0])
        snprintf(hdr, sizeof hdr, "task-id: %s\r\n", p->task);
    char body[300];
    snprintf(body, sizeof body, "%s %s\n", err->code ? err->code : "INTERNAL_ERROR",
             err->nparams ? err->param[0] : "");
    xg_http_respond(x, status, "text/plain", (int64_t)strlen(body), hdr);
    xg_http_write(x, body, strlen(body));
}

/* ---- the archive ------------------------------------------------------------------ */

static bool member(struct xva_sink *s, const char *name, const void *data, size_t n)
{
    static const char zeros[XVA_TAR_BLOCK];
    char hdr[XVA_TAR_BLOCK];
    xva_tar_header(hdr, name, n);
    return xva_sink_write(s, hdr, sizeof hdr) && xva_sink_write(s, data, n) &&
           xva_sink_write(s, zeros, xva_tar_pad(n));
}

static bool all_zero(const unsigned char *b, size_t n)
{
    return n == 0 || (b[0] == 0 && memcmp(b, b + 1, n - 1) == 0);
}

static size_t read_full(int fd, unsigned char *buf, size_t want)
{
    size_t got = 0;
    while (got < want) {
        ssize_t r = read(fd, buf + got, want - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    return got;
}

static void progress(struct plan *p, size_t n)
{
    p->done += (int64_t)n;
    if (p->done < p->next_progress || p->total <= 0)
        return;
    p->next_progress = p->done + (64 << 20);
    xg_world_lock();
    gw_task_http_progress(p->task, (double)p->done / (double)p->total);
    xg_world_unlock();
}

static bool stream_disk(struct xva_sink *s, struct plan *p, const struct plan_disk *d,
                        unsigned char *buf, xg_err *err)
{
    const char *argv[] = {NBDCOPY, "--synchronous", "--", "[", QEMU_NBD, "-r", "-f",
                          "qcow2", d->path, "]", "-", NULL};
    int fd;
    pid_t pid = gw_spawn_piped(argv, false, &fd);
    if (pid < 0)
        return xg_err_internal(err, "cannot start nbdcopy");
    uint64_t nchunks = ((uint64_t)d->size + XVA_CHUNK - 1) / XVA_CHUNK;
    bool ok = true;
    for (uint64_t i = 0; i < nchunks && ok; i++) {
        size_t want = i + 1 < nchunks ? XVA_CHUNK : (size_t)(d->size - (int64_t)i * XVA_CHUNK);
        if (read_full(fd, buf, want) != want) {
            ok = xapi_err_vdi_io_error(err, "Device I/O errors");
            break;
        }
        progress(p, want);
        if (i != 0 && i + 1 != nchunks && all_zero(buf, want))
            continue;
        char name[64], hname[80], hex[17];
        snprintf(name, sizeof name, "%s/%08" PRIu64, d->id, i);
        snprintf(hname, sizeof hname, "%s.xxhash", name);
        snprintf(hex, sizeof hex, "%016llX", (unsigned long long)XXH64(buf, want, 0));
        if (!member(s, name, buf, want) || !member(s, hname, hex, 16))
            ok = xapi_err_vdi_io_error(err, "the client stopped reading");
    }
    close(fd);
    int st = 0;
    if (!ok)
        kill(pid, SIGKILL);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (ok && !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
        ok = xapi_err_vdi_io_error(err, "Device I/O errors");
    return ok;
}

static bool stream_archive(xg_http_ex *x, struct plan *p, enum xva_compression c,
                           xg_err *err)
{
    static const char zeros[2 * XVA_TAR_BLOCK];
    struct xva_sink *s = xva_sink_new(x, c);
    unsigned char *buf = malloc(XVA_CHUNK);
    bool ok = s && buf;
    if (!ok)
        xg_err_internal(err, "out of memory");
    if (ok && !member(s, "ova.xml", p->ova, p->ova_len))
        ok = xapi_err_vdi_io_error(err, "the client stopped reading");
    for (uint32_t i = 0; ok && i < p->nd; i++)
        ok = stream_disk(s, p, &p->disks[i], buf, err);
    if (ok && (!xva_sink_write(s, zeros, sizeof zeros) || !xva_sink_finish(s)))
        ok = xapi_err_vdi_io_error(err, "the client stopped reading");
    xva_sink_free(s);
    free(buf);
    return ok;
}

static void export_vm(xg_http_ex *x)
{
    struct plan p;
    memset(&p, 0, sizeof p);
    p.next_progress = 64 << 20;
    xg_err err = XG_ERR_INIT;
    char cq[16] = "";
    xg_query_get(xg_http_req(x)->query, "use_compression", cq, sizeof cq);
    enum xva_compression c = xva_compression_parse(cq);
    int status = begin(x, "Export", true, &p, &err);
    if (!status && c == XVA_COMPRESSION_BAD) {
        xapi_err_invalid_value(&err, "use_compression", cq);
        end(&p, false, &err, true);
        status = 400;
    }
    if (status) {
        fail_early(x, &p, status, &err);
        plan_free(&p);
        return;
    }
    char hdr[XG_REF_LEN + 160];
    snprintf(hdr, sizeof hdr, "task-id: %s\r\nContent-Disposition: attachment; "
             "filename=\"export.xva%s\"\r\n", p.task,
             c == XVA_GZIP ? ".gz" : c == XVA_ZSTD ? ".zst" : "");
    xg_http_respond(x, 200, "application/octet-stream", XG_HTTP_UNSIZED, hdr);
    bool ok = stream_archive(x, &p, c, &err);
    if (!ok)
        xg_http_abort(x);
    XG_INFO(AREA, "VM %s: %" PRId64 " disk bytes, %s", p.uuid, p.done,
            ok ? "done" : err.code);
    end(&p, ok, &err, true);
    plan_free(&p);
}

/* ova.xml alone: small, built in memory, sent with its length. */
static void export_metadata(xg_http_ex *x)
{
    struct plan p;
    memset(&p, 0, sizeof p);
    xg_err err = XG_ERR_INIT;
    int status = begin(x, "Export metadata", false, &p, &err);
    if (status) {
        fail_early(x, &p, status, &err);
        plan_free(&p);
        return;
    }
    static const char zeros[2 * XVA_TAR_BLOCK];
    char hdr[XVA_TAR_BLOCK], extra[XG_REF_LEN + 120];
    xva_tar_header(hdr, "ova.xml", p.ova_len);
    size_t pad = xva_tar_pad(p.ova_len);
    int64_t len = (int64_t)(sizeof hdr + p.ova_len + pad + sizeof zeros);
    snprintf(extra, sizeof extra, "task-id: %s\r\nContent-Disposition: attachment; "
             "filename=\"export.xva\"\r\n", p.task);
    xg_http_respond(x, 200, "application/octet-stream", len, extra);
    bool ok = xg_http_write(x, hdr, sizeof hdr) && xg_http_write(x, p.ova, p.ova_len) &&
              xg_http_write(x, zeros, pad) && xg_http_write(x, zeros, sizeof zeros);
    if (!ok)
        xapi_err_vdi_io_error(&err, "the client stopped reading");
    end(&p, ok, &err, false);
    plan_free(&p);
}

void gw_xva_export_register(void)
{
    xg_http_route("GET", "/export", 0, export_vm);
    xg_http_route("GET", "/export/*", 0, export_vm);
    xg_http_route("GET", "/export_metadata", 0, export_metadata);
    xg_http_route("GET", "/export_metadata/*", 0, export_metadata);
}
