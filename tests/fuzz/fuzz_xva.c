/* fuzz_xva.c: libFuzzer target for XVA archives as PUT /import reads them
 * (handlers/xva_import.c): the upload through xva_source.c (gzip, zstd or
 * plain, chosen by the first bytes), ustar headers (xva_tar.c), ova.xml
 * (xva_ova.c over xmlrpc_in.c's value reader) and the data members' names
 * (xva_member_parse), in the import's order and with its bounds: ova.xml
 * first (at most XVA_OVA_MAX), then members until the end block, a chunk at
 * most 16 MiB, a checksum at most 128 bytes. The import's store side (VDIs,
 * nbdcopy) is not input and is not run. An input ending in 0xFF has its
 * header checksums filled in by the walk (see LLVMFuzzerTestOneInput).
 * Properties:
 * - a plain archive is read as it is: every read returns the input's bytes
 *   at its offset, and fails exactly when the archive ends first (a
 *   member's size or offset never reaches beyond the archive);
 * - a header read as a file has a name shorter than XVA_NAME_MAX, and the
 *   header our exporter writes for that name and size (name < 100 bytes,
 *   size < 8 GiB) reads back as the same name and size;
 * - a member name read as a chunk or checksum is exactly
 *   "<id>/<8 digits>[.xxhash|.checksum]" formatted back from what was read,
 *   with an id "Ref:…" without '/';
 * - an ova.xml that parses, written back with our XML-RPC writer (version
 *   and objects as read), parses again to the same export_vsn and objects:
 *   classes, ids and snapshots value by value. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_ex.h"
#include "out.h"
#include "rpc_roundtrip.h"
#include "xva.h"
#include "xva_source.h"

#define READ_CAP (4u << 20)   /* decompressed bytes read per input (bombs) */

struct walk {
    struct xva_source *src;
    const uint8_t *data;
    size_t size, off;         /* off: bytes of the (plain) archive read */
    bool plain, fix_sums;
};

static void no_kick(void *conn)
{
    (void)conn;
}

static void unused_handler(xg_http_ex *x)
{
    (void)x;
}

/* An exchange whose body is the input, as the connection fills it (the
 * client then closes). */
static xg_http_ex *upload_of(const uint8_t *p, size_t n)
{
    static const struct xg_http_route_entry *route;
    if (!route) {
        xg_http_route("PUT", "/xva-fuzz", XG_ROUTE_RAW_BODY | XG_ROUTE_STREAM, unused_handler);
        route = xg_http_find_route("PUT", "/xva-fuzz", 9);
    }
    struct xg_http_ex_init in = {
        .route = route,
        .rq = {.method = "PUT", .path = "/xva-fuzz", .query = "", .client_addr = "127.0.0.1",
               .content_length = -1},
        .raw_rest = (const char *)p, .raw_rest_len = n, .kick = no_kick,
    };
    xg_http_ex *x = xg_http_ex_new(&in);
    xg_http_ex_feed_eof(x);
    return x;
}

static bool read_in(struct walk *w, void *buf, size_t n)
{
    bool corrupt = false;
    if (w->off + n > READ_CAP)
        return false;
    bool ok = xva_source_read(w->src, buf, n, &corrupt);
    if (w->plain && (corrupt || ok != (w->off + n <= w->size) ||
                     (ok && memcmp(buf, w->data + w->off, n) != 0)))
        __builtin_trap();
    if (ok)
        w->off += n;
    return ok;
}

/* A member's bytes, read and dropped as the import reads them. */
static bool skip(struct walk *w, uint64_t n)
{
    static unsigned char buf[64 * 1024];
    while (n) {
        size_t k = n > sizeof buf ? sizeof buf : (size_t)n;
        if (!read_in(w, buf, k))
            return false;
        n -= k;
    }
    return true;
}

static enum xva_tar_kind header(struct walk *w, char name[XVA_NAME_MAX], uint64_t *size)
{
    char hdr[XVA_TAR_BLOCK], again[XVA_TAR_BLOCK], name2[XVA_NAME_MAX], msg[200];
    if (!read_in(w, hdr, sizeof hdr))
        return XVA_TAR_BAD;
    static const char zero[XVA_TAR_BLOCK];
    if (w->fix_sums && memcmp(hdr, zero, sizeof hdr) != 0)
        xva_tar_seal(hdr);
    enum xva_tar_kind k = xva_tar_parse(hdr, name, size, msg, sizeof msg);
    if (k != XVA_TAR_FILE)
        return k;
    size_t len = strnlen(name, XVA_NAME_MAX);
    if (len == XVA_NAME_MAX || len == 0)
        __builtin_trap();
    if (len < 100 && *size < (8ull << 30)) {
        uint64_t size2 = 0;
        xva_tar_header(again, name, *size);
        if (xva_tar_parse(again, name2, &size2, msg, sizeof msg) != XVA_TAR_FILE ||
            strcmp(name, name2) != 0 || size2 != *size)
            __builtin_trap();
    }
    return k;
}

static void check_member_name(const char *name)
{
    char id[64], back[XVA_NAME_MAX + 32];
    uint32_t number = 0;
    enum xva_member m = xva_member_parse(name, id, &number);
    if (m == XVA_M_OTHER)
        return;
    static const char *const suffix[] = {[XVA_M_DATA] = "", [XVA_M_XXHASH] = ".xxhash",
                                         [XVA_M_SHA1] = ".checksum"};
    snprintf(back, sizeof back, "%s/%08u%s", id, number, suffix[m]);
    if (strcmp(back, name) != 0 || strncmp(id, "Ref:", 4) != 0 || strchr(id, '/'))
        __builtin_trap();
}

/* Every class and id survives the writer (otherwise two ids may become
 * one, or one empty, and the second parse rightly refuses). */
static bool ids_carried(const struct xva_ova *ova)
{
    for (uint32_t i = 0; i < ova->n; i++)
        if (!fuzz_carried(ova->objs[i].cls, strlen(ova->objs[i].cls), true) ||
            !fuzz_carried(ova->objs[i].id, strlen(ova->objs[i].id), true) ||
            fuzz_value_depth(ova->objs[i].snapshot) > FUZZ_WRITER_DEPTH - 3)
            return false;
    return true;
}

/* ova.xml as read, written back and read again. */
static void ova_round_trip(xg_arena *a, const struct xva_ova *ova)
{
    if (!ids_carried(ova))
        return;
    xg_out out;
    xg_writer w;
    xg_out_init(&out);
    xg_writer_init_xml(&w, &out);
    w.ops->begin_struct(&w);
    w.ops->member(&w, "version", 7);
    w.ops->begin_struct(&w);
    w.ops->member(&w, "export_vsn", 10);
    fuzz_write_value(&w, &(xg_value){.t = XG_V_INT, .u.i = ova->export_vsn}, true);
    w.ops->end_struct(&w);
    w.ops->member(&w, "objects", 7);
    w.ops->begin_array(&w);
    for (uint32_t i = 0; i < ova->n; i++) {
        const struct xva_object *o = &ova->objs[i];
        w.ops->begin_struct(&w);
        w.ops->member(&w, "class", 5);
        xg_write_cstr(&w, o->cls);
        w.ops->member(&w, "id", 2);
        xg_write_cstr(&w, o->id);
        w.ops->member(&w, "snapshot", 8);
        fuzz_write_value(&w, o->snapshot, true);
        w.ops->end_struct(&w);
    }
    w.ops->end_array(&w);
    w.ops->end_struct(&w);
    size_t len;
    char *doc = xg_out_strdup(&out, &len);
    xg_out_reset(&out);

    struct xva_ova back;
    char msg[200];
    if (!xva_ova_parse(a, doc, len, &back, msg, sizeof msg)) {
        fprintf(stderr, "ova.xml written back does not parse: %s\n%s\n", msg, doc);
        abort();
    }
    bool vsn_i4 = ova->export_vsn >= INT32_MIN && ova->export_vsn <= INT32_MAX;
    if (back.n != ova->n || back.export_vsn != (vsn_i4 ? ova->export_vsn : 0)) {
        fprintf(stderr, "ova.xml written back has other objects or version\n%s\n", doc);
        abort();
    }
    for (uint32_t i = 0; i < ova->n; i++) {
        if (strcmp(back.objs[i].cls, ova->objs[i].cls) != 0 ||
            strcmp(back.objs[i].id, ova->objs[i].id) != 0) {
            fprintf(stderr, "object %u came back as %s %s\n%s\n", i, back.objs[i].cls,
                    back.objs[i].id, doc);
            abort();
        }
        fuzz_value_compare(ova->objs[i].snapshot, back.objs[i].snapshot, true, true, doc);
    }
    free(doc);
}

/* The import's reading of ova.xml (read_ova). */
static bool read_ova(struct walk *w, xg_arena *a)
{
    char name[XVA_NAME_MAX];
    uint64_t size = 0;
    if (header(w, name, &size) != XVA_TAR_FILE || strcmp(name, "ova.xml") != 0 ||
        size > XVA_OVA_MAX)
        return false;
    size_t padded = (size_t)size + xva_tar_pad(size);
    if (padded > READ_CAP)
        return false;
    char *doc = malloc(padded ? padded : 1);
    bool ok = read_in(w, doc, padded);
    struct xva_ova ova;
    char msg[200];
    if (ok)
        ok = xva_ova_parse(a, doc, (size_t)size, &ova, msg, sizeof msg);
    free(doc);
    if (ok) {
        for (uint32_t i = 0; i < ova.n; i++) {
            if (xva_ova_find(&ova, ova.objs[i].id) != &ova.objs[i])
                __builtin_trap();
            (void)xva_str(ova.objs[i].snapshot, "virtual_size");
        }
        ova_round_trip(a, &ova);
    }
    return ok;
}

/* The import's member loop (stream_chunks), without the disks. */
static void read_members(struct walk *w)
{
    for (;;) {
        char name[XVA_NAME_MAX], id[64];
        uint64_t size = 0;
        uint32_t number;
        if (header(w, name, &size) != XVA_TAR_FILE)
            return;
        check_member_name(name);
        enum xva_member m = xva_member_parse(name, id, &number);
        if (m == XVA_M_OTHER || size > (m == XVA_M_DATA ? XVA_CHUNK * 16ull : 128))
            return;
        if (!skip(w, size + xva_tar_pad(size)))
            return;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static xg_arena *a;
    if (!a)
        a = xg_arena_new(256u << 20);
    xg_arena_reset(a);
    /* A last byte 0xFF (never the end of a tar, gzip or zstd stream):
     * the rest is the archive, whose header checksums the walk fills in, so
     * that mutations of headers reach past the checksum test (the inputs
     * without it test the checksums). */
    bool fix_sums = size && data[size - 1] == 0xFF;
    size -= fix_sums;
    static const uint8_t zstd_magic[4] = {0x28, 0xb5, 0x2f, 0xfd};
    xg_http_ex *x = upload_of(data, size);
    struct walk w = {
        .src = xva_source_new(x), .data = data, .size = size, .fix_sums = fix_sums,
        .plain = !(size >= 4 && memcmp(data, zstd_magic, 4) == 0) &&
                 !(size >= 2 && data[0] == 0x1f && data[1] == 0x8b),
    };
    if (read_ova(&w, a))
        read_members(&w);
    if (w.plain && xva_source_consumed(w.src) > (long long)size)
        __builtin_trap();
    xva_source_free(w.src);
    xg_http_ex_detach(x);
    return 0;
}
