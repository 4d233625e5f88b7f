/* nbd_stream.h: a disk image served by a qemu-nbd child on a private socket
 * and driven in process through libnbd, with several requests in flight, so
 * /import_raw_vdi and /export_raw_vdi stream between the HTTP exchange and
 * the image with one user-space copy and no helper process in between.
 * Memory per transfer is bounded (GW_NBD_DEPTH buffers of GW_NBD_REQUEST
 * bytes) whatever the disk size. Any thread, no lock held; the calls block
 * the calling HTTP worker only. */
#ifndef XG_NBD_STREAM_H
#define XG_NBD_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "../server/http_routes.h"
#include "../server/xg_err.h"

#define GW_NBD_REQUEST (1 << 20)       /* bytes per NBD request */
#define GW_NBD_DEPTH 4                 /* requests in flight */

struct gw_nbd;

/* Called with the bytes moved so far, every few dozen MiB. */
typedef void gw_nbd_progress_fn(void *ctx, int64_t done);

/* Starts qemu-nbd on the image at path (format "qcow2" or "raw"; read-only
 * unless writable) and connects to it. NULL with err set on failure. */
struct gw_nbd *gw_nbd_open(const char *path, const char *format, bool writable, xg_err *err);

/* The export's size in bytes. */
int64_t gw_nbd_size(const struct gw_nbd *n);

/* The request body of x, written from offset 0: at most limit bytes (more
 * is VDI_TOO_SMALL of vdi_ref); all-zero 64 KiB blocks are written as zeroes
 * so they stay unallocated. *got: bytes received. */
bool gw_nbd_from_http(struct gw_nbd *n, xg_http_ex *x, int64_t limit, const char *vdi_ref,
                      gw_nbd_progress_fn *progress, void *ctx, int64_t *got, xg_err *err);

/* The first size bytes of the image, written to x (its head already sent). */
bool gw_nbd_to_http(struct gw_nbd *n, xg_http_ex *x, int64_t size,
                    gw_nbd_progress_fn *progress, void *ctx, xg_err *err);

/* Flushes what was written when ok (false if that fails), disconnects and
 * reaps qemu-nbd (killed when !ok). NULL is accepted. */
bool gw_nbd_close(struct gw_nbd *n, bool ok);

#endif
