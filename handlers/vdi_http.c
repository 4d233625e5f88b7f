/* vdi_http.c: PUT /import_raw_vdi and GET /export_raw_vdi.
 *
 * Both run on an HTTP worker thread (never a network thread), take the
 * world lock only to look things up and to settle the task, and stream:
 *  - raw data goes to or from a qemu-nbd started on the image, through
 *    libnbd in this process (nbd_stream.h): bounded buffers, several
 *    requests in flight, zero blocks stay sparse;
 *  - vhd/qcow2 uploads are streamed to a temporary file in the SR directory
 *    (bounded by the VDI size), checked to refer to no other file (a
 *    backing or data file would let a client read host files), then
 *    converted by qemu-img; vhd and qcow2 downloads are converted to a
 *    temporary file and streamed from it.
 * Memory does not grow with the disk size. An import answers as XAPI's
 * import_raw_vdi.ml does: the error when the request is refused, otherwise
 * 200 with task-id before it reads the body (xe's HttpPut sends the file
 * only once it has the status line); the outcome is then the task's (XO
 * reads it there), and the answer's empty body ends with the import. An
 * export sends nothing but data after its 200: a failure then fails the
 * task and closes the connection. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../server/http_routes.h"
#include "../server/limits.h"
#include "../server/log.h"
#include "../server/world.h"
#include "nbd_stream.h"
#include "storage.h"
#include "tasks.h"

#define QEMU_IMG "/usr/bin/qemu-img"
#define XFER_BUF (256 * 1024)
#define VHD_MAX_SIZE (2040LL << 30)     /* vpc's limit */

enum fmt { FMT_RAW, FMT_VHD, FMT_QCOW2, FMT_BAD };

static enum fmt parse_fmt(const char *s)
{
    if (!s[0] || strcmp(s, "raw") == 0)
        return FMT_RAW;
    if (strcmp(s, "vhd") == 0)
        return FMT_VHD;
    if (strcmp(s, "qcow2") == 0)
        return FMT_QCOW2;
    return FMT_BAD;
}

/* What a transfer needs, copied out under the world lock. */
struct target {
    char vdi_ref[XG_REF_LEN], uuid[XG_UUID_STR];
    char path[600], dir[450];
    bool raw_image;                     /* ISO: a raw file */
    bool created;                       /* made for this import (sr_id=) */
    int64_t virtual_size;
    int64_t progress_total;             /* bytes that make the task complete */
    char task[XG_REF_LEN];
};

/* An import with sr_id=<ref> or sr_uuid=<uuid> and no vdi= makes the VDI,
 * as XAPI's import_raw_vdi does: raw only, as large as the declared body,
 * named "Imported VDI"; the task's result is the new VDI. NULL with err
 * (for a 400) when it cannot. */
static xapi_vdi *import_target_new(const struct xg_http_request *rq, enum fmt f,
                                   xg_err *err)
{
    char sr_id[XG_REF_LEN + 8] = "", sr_uuid[XG_UUID_STR + 8] = "";
    xg_query_get(rq->query, "sr_id", sr_id, sizeof sr_id);
    xg_query_get(rq->query, "sr_uuid", sr_uuid, sizeof sr_uuid);
    if (!sr_id[0] && !sr_uuid[0]) {
        xapi_err_vdi_missing(err, "", "");
        return NULL;
    }
    xapi_sr *sr = sr_id[0] ? xg_store_get(&xapi_class_sr, sr_id)
                           : xg_store_get_by_uuid(&xapi_class_sr, sr_uuid);
    if (!sr) {
        if (sr_id[0])
            xapi_err_handle_invalid(err, "SR", sr_id);
        else
            xapi_err_uuid_invalid(err, "SR", sr_uuid);
        return NULL;
    }
    if (f != FMT_RAW) {
        xg_err_internal(err, "Importing a %s directly into an SR not yet supported",
                        f == FMT_VHD ? "VHD" : "QCOW2");
        return NULL;
    }
    if (rq->content_length < 0) {
        xg_err_internal(err, "Not enough info supplied to import");
        return NULL;
    }
    xapi_vdi *args = xg_obj_new(&xapi_class_vdi);
    int type = XAPI_VDI_TYPE_USER;
    int64_t size = rq->content_length;
    gw_init_ref(args, XAPI_VDI_F_SR, sr->obj.ref.s);
    gw_init_str(args, XAPI_VDI_F_NAME_LABEL, "Imported VDI");
    gw_init_field(args, XAPI_VDI_F_VIRTUAL_SIZE, &size);
    gw_init_field(args, XAPI_VDI_F_TYPE, &type);
    xg_ref ref;
    bool ok = handle_vdi_create(NULL, args, &ref, err);
    xg_obj_free(args);
    return ok ? xg_store_get(&xapi_class_vdi, ref.s) : NULL;
}

/* A failed import leaves no VDI it made. World lock held. */
static void discard_created(const struct target *t)
{
    xapi_vdi *vdi = t->created ? xg_store_get(&xapi_class_vdi, t->vdi_ref) : NULL;
    if (vdi) {
        gw_vdi_delete_image(vdi);
        gw_vdi_remove(vdi);
    }
}

/* Looks up vdi=<ref or uuid> (or, importing, makes it: see above), checks
 * the format (fq), starts the task; in XAPI's order. Returns the HTTP
 * status to answer on failure (0 on success); err says why. */
static int lookup(const struct xg_http_request *rq, const char *label, bool for_write,
                  const char *fq, enum fmt f, struct target *t, xg_err *err)
{
    char vdi_q[128] = "", task_q[XG_REF_LEN + 8] = "";
    xg_query_get(rq->query, "vdi", vdi_q, sizeof vdi_q);
    xg_query_get(rq->query, "task_id", task_q, sizeof task_q);
    int status = 0;
    xg_world_lock();
    xapi_vdi *vdi = xg_store_get(&xapi_class_vdi, vdi_q);
    if (!vdi && vdi_q[0])
        vdi = xg_store_get_by_uuid(&xapi_class_vdi, vdi_q);
    bool by_sr = !vdi && !vdi_q[0] && for_write;
    if (f == FMT_BAD && (vdi || by_sr)) {
        status = 404;
        xg_err_internal(err, "Unknown format %.40s", fq);
    } else if (by_sr && !(vdi = import_target_new(rq, f, err))) {
        status = 400;
    }
    t->created = by_sr && vdi;
    xapi_sr *sr = vdi ? xg_store_get(&xapi_class_sr, vdi->sr.s) : NULL;
    if (vdi)
        snprintf(t->vdi_ref, sizeof t->vdi_ref, "%s", vdi->obj.ref.s);
    if (status) {
        /* err is set */
    } else if (!vdi || !sr) {
        status = 400;
        xapi_err_vdi_missing(err, "", vdi_q);
    } else if (!gw_sr_check_plugged(sr, err) ||
               !gw_vdi_path(vdi, t->path, sizeof t->path, err)) {
        status = 500;
    } else if (for_write && (vdi->read_only || gw_sr_kind(sr) == GW_SR_ISO)) {
        status = 400;
        xapi_err_vdi_readonly(err, vdi->obj.ref.s);
    } else if (for_write && gw_vdi_attached(vdi)) {
        status = 400;
        xapi_err_vdi_in_use(err, vdi->obj.ref.s, "import");
    } else {
        snprintf(t->uuid, sizeof t->uuid, "%s", vdi->uuid);
        snprintf(t->dir, sizeof t->dir, "%s", gw_sr_dir(sr));
        t->raw_image = gw_sr_kind(sr) == GW_SR_ISO;
        t->virtual_size = vdi->virtual_size;
    }
    if (status)
        discard_created(t);
    xg_err terr = XG_ERR_INIT;
    if (gw_task_http_begin(label, rq->session_ref, task_q, t->task, &terr)) {
        if (status) {
            gw_task_http_end(t->task, false, err, NULL);
            xg_err ferr = XG_ERR_INIT;
            xg_store_flush(&ferr);
        }
    } else {
        t->task[0] = 0;
        if (!status) {
            status = 503;
            *err = terr;
        }
    }
    xg_world_unlock();
    return status;
}

static void task_end(struct target *t, bool ok, const xg_err *err, bool refresh)
{
    char result[XG_REF_LEN + 32];
    snprintf(result, sizeof result, "<value>%s</value>", t->vdi_ref);
    xg_world_lock();
    if (t->task[0])
        gw_task_http_end(t->task, ok, err, ok ? result : NULL);
    if (!ok)
        discard_created(t);
    xapi_vdi *vdi = refresh ? xg_store_get(&xapi_class_vdi, t->vdi_ref) : NULL;
    if (vdi) {
        gw_vdi_refresh_size(vdi);
        xapi_sr *sr = xg_store_get(&xapi_class_sr, vdi->sr.s);
        if (sr)
            gw_sr_refresh_sizes(sr);
    }
    xg_err ferr = XG_ERR_INIT;
    xg_store_flush(&ferr);
    xg_world_unlock();
}

static void fail_early(xg_http_ex *x, struct target *t, int status, const xg_err *err)
{
    char hdr[XG_REF_LEN + 16] = "";
    if (t->task[0])
        snprintf(hdr, sizeof hdr, "task-id: %s\r\n", t->task);
    char body[300];
    snprintf(body, sizeof body, "%s %s\n", err->code ? err->code : "INTERNAL_ERROR",
             err->nparams ? err->param[0] : "");
    xg_http_respond(x, status, "text/plain", (int64_t)strlen(body), hdr);
    xg_http_write(x, body, strlen(body));
}

/* ---- files ------------------------------------------------------------------ */

static bool write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* ---- import --------------------------------------------------------------------- */

/* Body → fd, at most limit bytes (more is an error). */
static bool body_to_fd(xg_http_ex *x, int fd, int64_t limit, struct target *t,
                       int64_t *got_out, xg_err *err)
{
    char *buf = malloc(XFER_BUF);
    if (!buf)
        return xg_err_internal(err, "out of memory");
    int64_t got = 0, declared = xg_http_req(x)->content_length;
    int64_t next_progress = 64 << 20;
    bool ok = true;
    for (;;) {
        ssize_t n = xg_http_read(x, buf, XFER_BUF);
        if (n == 0)
            break;
        if (n < 0) {
            ok = xapi_err_vdi_io_error(err, "the client stopped sending");
            break;
        }
        got += n;
        if (got > limit) {
            ok = xapi_err_vdi_too_small(err, t->vdi_ref, "");
            break;
        }
        if (!write_all(fd, buf, (size_t)n)) {
            ok = xapi_err_vdi_io_error(err, "Device I/O errors");
            break;
        }
        if (got >= next_progress && declared > 0 && declared >= got) {
            next_progress = got + (64 << 20);
            xg_world_lock();
            gw_task_http_progress(t->task, (double)got / (double)declared);
            xg_world_unlock();
        }
    }
    free(buf);
    *got_out = got;
    return ok;
}

static void task_progress(void *ctx, int64_t done)
{
    const struct target *t = ctx;
    if (t->progress_total > 0 && t->progress_total >= done) {
        xg_world_lock();
        gw_task_http_progress(t->task, (double)done / (double)t->progress_total);
        xg_world_unlock();
    }
}

static bool import_raw(xg_http_ex *x, struct target *t, xg_err *err)
{
    struct gw_nbd *n = gw_nbd_open(t->path, "qcow2", true, err);
    if (!n)
        return false;
    t->progress_total = xg_http_req(x)->content_length;
    int64_t got = 0;
    bool ok = gw_nbd_from_http(n, x, t->virtual_size, t->vdi_ref, task_progress, t, &got, err);
    if (!gw_nbd_close(n, ok) && ok)
        ok = xapi_err_vdi_io_error(err, "Device I/O errors");
    XG_INFO("storage", "import into VDI %s: %" PRId64 " bytes, %s", t->uuid, got,
            ok ? "done" : "failed");
    return ok;
}

/* The uploaded image must stand alone: no backing file, no data file. */
static bool image_self_contained(const char *tmp, const char *fmt, xg_err *err)
{
    char out[16384];
    if (!gw_image_info_json(tmp, fmt, out, sizeof out))
        return xapi_err_vdi_io_error(err, "the uploaded image is not readable");
    if (strstr(out, "\"backing-filename\"") || strstr(out, "\"data-file\""))
        return xapi_err_vdi_io_error(err, "the uploaded image refers to other files");
    return true;
}

static bool import_image(xg_http_ex *x, struct target *t, enum fmt f, xg_err *err)
{
    char tmp[700];
    snprintf(tmp, sizeof tmp, "%s/.import-%s.tmp", t->dir, t->uuid);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return xg_err_internal(err, "cannot create a temporary file");
    /* An image of a V-byte disk has metadata besides the data: bound it. */
    int64_t limit = t->virtual_size + t->virtual_size / 64 + (64LL << 20);
    int64_t got = 0;
    bool ok = body_to_fd(x, fd, limit, t, &got, err);
    if (close(fd) != 0 && ok)
        ok = xapi_err_vdi_io_error(err, "Device I/O errors");
    const char *fmt = f == FMT_VHD ? "vpc" : "qcow2";
    if (ok)
        ok = image_self_contained(tmp, fmt, err);
    if (ok) {
        char msg[512];
        const char *argv[] = {QEMU_IMG, "convert", "-n", "-f", fmt, "-O", "qcow2",
                              tmp, t->path, NULL};
        if (!gw_run_tool(argv, GW_COPY_TIMEOUT_MS, msg, sizeof msg)) {
            XG_WARN("storage", "import into VDI %s: %s", t->uuid, msg);
            ok = xapi_err_vdi_io_error(err, msg);
        }
    }
    unlink(tmp);
    XG_INFO("storage", "import (%s) into VDI %s: %" PRId64 " bytes, %s", fmt, t->uuid,
            got, ok ? "done" : "failed");
    return ok;
}

/* Both handlers start alike: the format, the VDI, the task. An unknown
 * format is a 404 with INTERNAL_ERROR "Unknown format". */
static int begin(xg_http_ex *x, const char *label, bool for_write, struct target *t,
                 enum fmt *f, xg_err *err)
{
    const struct xg_http_request *rq = xg_http_req(x);
    memset(t, 0, sizeof *t);
    char fq[32] = "";
    xg_query_get(rq->query, "format", fq, sizeof fq);
    *f = parse_fmt(fq);
    int status = lookup(rq, label, for_write, fq, *f, t, err);
    char base[128] = "";
    if (!status && !for_write && xg_query_get(rq->query, "base", base, sizeof base)) {
        /* no delta VHD yet (docs/STORAGE-DELTAS.md): a full VHD in its
         * place would drop blocks zeroed since the base */
        xg_err_internal(err, "Cannot export a delta against base=: not supported");
        status = 404;
        task_end(t, false, err, false);
    }
    return status;
}

static void import_raw_vdi(xg_http_ex *x)
{
    struct target t;
    enum fmt f;
    xg_err err = XG_ERR_INIT;
    int status = begin(x, "VDI import", true, &t, &f, &err);
    if (!status && !gw_vdi_writer_claim(t.vdi_ref, XG_BODY_TIMEOUT_MS / 1000)) {
        status = 400;
        xapi_err_vdi_in_use(&err, t.vdi_ref, "import");
        task_end(&t, false, &err, false);
    }
    if (status)
        return fail_early(x, &t, status, &err);
    char hdr[XG_REF_LEN + 16];
    snprintf(hdr, sizeof hdr, "task-id: %s\r\n", t.task);
    xg_http_respond(x, 200, "application/octet-stream", XG_HTTP_UNSIZED, hdr);
    bool ok = f == FMT_RAW ? import_raw(x, &t, &err) : import_image(x, &t, f, &err);
    task_end(&t, ok, &err, true);
    gw_vdi_writer_release(t.vdi_ref);
}

/* ---- export --------------------------------------------------------------------- */

static bool fd_to_client(xg_http_ex *x, int fd, int64_t total, struct target *t,
                         xg_err *err)
{
    char *buf = malloc(XFER_BUF);
    if (!buf)
        return xg_err_internal(err, "out of memory");
    int64_t sent = 0, next_progress = 64 << 20;
    bool ok = true;
    while (sent < total) {
        size_t want = total - sent < XFER_BUF ? (size_t)(total - sent) : XFER_BUF;
        ssize_t n = read(fd, buf, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            ok = xapi_err_vdi_io_error(err, "Device I/O errors");
            break;
        }
        if (!xg_http_write(x, buf, (size_t)n)) {
            ok = xapi_err_vdi_io_error(err, "the client stopped reading");
            break;
        }
        sent += n;
        if (sent >= next_progress) {
            next_progress = sent + (64 << 20);
            xg_world_lock();
            gw_task_http_progress(t->task, (double)sent / (double)total);
            xg_world_unlock();
        }
    }
    free(buf);
    return ok;
}

static bool export_raw(xg_http_ex *x, struct target *t, const char *hdr, xg_err *err)
{
    struct gw_nbd *n = gw_nbd_open(t->path, t->raw_image ? "raw" : "qcow2", false, err);
    if (n && gw_nbd_size(n) < t->virtual_size) {
        XG_WARN("storage", "VDI %s: image smaller than its virtual size", t->uuid);
        xapi_err_vdi_io_error(err, "Device I/O errors");
        gw_nbd_close(n, false);
        n = NULL;
    }
    if (!n) {
        xg_http_respond(x, 500, NULL, 0, hdr);
        return false;
    }
    xg_http_respond(x, 200, "application/octet-stream", t->virtual_size, hdr);
    t->progress_total = t->virtual_size;
    bool ok = gw_nbd_to_http(n, x, t->virtual_size, task_progress, t, err);
    return gw_nbd_close(n, ok);
}

/* vhd or qcow2: a standalone image (the chain flattened) made in a
 * temporary file of the SR, then streamed from it. */
static bool export_image(xg_http_ex *x, struct target *t, enum fmt f, const char *hdr,
                         xg_err *err)
{
    bool vhd = f == FMT_VHD;
    char tmp[700], msg[512];
    snprintf(tmp, sizeof tmp, "%s/.export-%s.%s", t->dir, t->uuid, vhd ? "vhd" : "qcow2");
    const char *argv[] = {QEMU_IMG, "convert", "-f", t->raw_image ? "raw" : "qcow2",
                          "-O", vhd ? "vpc" : "qcow2", "-o",
                          vhd ? "subformat=dynamic,force_size=on" : "compat=1.1",
                          t->path, tmp, NULL};
    bool ok = gw_run_tool(argv, GW_COPY_TIMEOUT_MS, msg, sizeof msg);
    int fd = ok ? open(tmp, O_RDONLY | O_CLOEXEC) : -1;
    unlink(tmp);                /* the open descriptor keeps it readable */
    struct stat st;
    if (!ok || fd < 0 || fstat(fd, &st) != 0) {
        XG_WARN("storage", "export of VDI %s as %s: %s", t->uuid, vhd ? "vhd" : "qcow2", msg);
        xapi_err_vdi_io_error(err, "Device I/O errors");
        xg_http_respond(x, 500, NULL, 0, hdr);
        if (fd >= 0)
            close(fd);
        return false;
    }
    xg_http_respond(x, 200, vhd ? "application/vhd" : "application/x-qemu-disk",
                    st.st_size, hdr);
    ok = fd_to_client(x, fd, st.st_size, t, err);
    close(fd);
    return ok;
}

static void export_raw_vdi(xg_http_ex *x)
{
    struct target t;
    enum fmt f;
    xg_err err = XG_ERR_INIT;
    int status = begin(x, "VDI export", false, &t, &f, &err);
    if (!status && f == FMT_VHD && t.virtual_size > VHD_MAX_SIZE) {
        char max[32];
        snprintf(max, sizeof max, "%lld", (long long)VHD_MAX_SIZE);
        xapi_err_vdi_too_large(&err, t.vdi_ref, max);
        status = 400;
        task_end(&t, false, &err, false);
    }
    if (status)
        return fail_early(x, &t, status, &err);
    char hdr[XG_REF_LEN + 160];
    snprintf(hdr, sizeof hdr,
             "task-id: %s\r\nContent-Disposition: attachment; filename=\"%s.%s\"\r\n",
             t.task, t.uuid, f == FMT_VHD ? "vhd" : f == FMT_QCOW2 ? "qcow2" : "raw");
    bool ok = f == FMT_RAW ? export_raw(x, &t, hdr, &err) : export_image(x, &t, f, hdr, &err);
    task_end(&t, ok, &err, false);
}

void gw_vdi_http_register(void)
{
    xg_http_route("PUT", "/import_raw_vdi", XG_ROUTE_RAW_BODY, import_raw_vdi);
    xg_http_route("PUT", "/import_raw_vdi/*", XG_ROUTE_RAW_BODY, import_raw_vdi);
    xg_http_route("GET", "/export_raw_vdi", 0, export_raw_vdi);
    xg_http_route("GET", "/export_raw_vdi/*", 0, export_raw_vdi);
}
