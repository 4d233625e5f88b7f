/* xva.h: VMs as XVA archives, XAPI's export format (spec
 * storage-network-console.md §5.3-§5.5): a tar whose first member is
 * ova.xml (an XML-RPC <value> describing the VM, its VBDs, VDIs, SRs, VIFs
 * and networks, references rewritten to "Ref:<n>" ids), then each disk as
 * "Ref:<n>/<8-digit number>" members of 1 MiB raw data, each followed by a
 * ".xxhash" (XXH64, 16 hex digits) or ".checksum" (SHA-1) member.
 *
 * The pure parts (tar headers, the ova.xml reader) take bytes and touch no
 * store, so unit tests and fuzzers drive them alone; xva_export.c and
 * xva_import.c are the HTTP routes. */
#ifndef XG_XVA_H
#define XG_XVA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../server/arena.h"
#include "../server/value.h"

#define XVA_CHUNK (1u << 20)              /* XAPI's chunk_size */
#define XVA_OVA_MAX (16u << 20)           /* ova.xml bytes we read */
#define XVA_MAX_OBJECTS 4096              /* objects in one ova.xml */
#define XVA_TAR_BLOCK 512
#define XVA_NAME_MAX 257                  /* ustar prefix (155) "/" name (100) NUL */

/* ---- tar (xva_tar.c) ---------------------------------------------------- */

/* A POSIX ustar header for a regular file `name` (< 100 bytes) of size
 * bytes (< 8 GiB). */
void xva_tar_header(char hdr[XVA_TAR_BLOCK], const char *name, uint64_t size);
/* Writes hdr's checksum field as tar does (after the other fields are set). */
void xva_tar_seal(char hdr[XVA_TAR_BLOCK]);
/* Bytes of padding after a member of size bytes. */
static inline size_t xva_tar_pad(uint64_t size)
{
    return (size_t)((XVA_TAR_BLOCK - size % XVA_TAR_BLOCK) % XVA_TAR_BLOCK);
}

enum xva_tar_kind { XVA_TAR_FILE, XVA_TAR_END, XVA_TAR_BAD };
/* Reads one header block: a regular file (name NUL-terminated, *size), the
 * end (a zero block), or BAD with msg (wrong checksum, not ustar, a link,
 * a directory, a special file, a size field out of range). */
enum xva_tar_kind xva_tar_parse(const char hdr[XVA_TAR_BLOCK],
                                char name[XVA_NAME_MAX], uint64_t *size,
                                char *msg, size_t msglen);

/* ---- ova.xml (xva_ova.c) ------------------------------------------------ */

struct xva_object {
    const char *cls;                  /* "VM", "VBD", "VDI", "SR", "VIF", … */
    const char *id;                   /* "Ref:<n>" as written */
    const xg_value *snapshot;         /* the record struct */
};

struct xva_ova {
    int64_t export_vsn;               /* version.export_vsn (0 if absent) */
    struct xva_object *objs;          /* in the arena */
    uint32_t n;
};

/* Parses ova.xml (len bytes, hostile) into the arena: the fuzz entry point.
 * Accepts exactly {version: struct, objects: array of {class, id,
 * snapshot: struct}}, ids unique, at most XVA_MAX_OBJECTS; no entity
 * expansion (markup declarations are refused), nesting and value counts
 * bounded by limits.h. false with msg on anything else. */
bool xva_ova_parse(xg_arena *a, const char *bytes, size_t len,
                   struct xva_ova *out, char *msg, size_t msglen);
/* The object with id, or NULL. */
const struct xva_object *xva_ova_find(const struct xva_ova *ova, const char *id);
/* A string member of a snapshot struct ("" when absent or not a string). */
const char *xva_str(const xg_value *snap, const char *name);

/* Chunk member names: "Ref:<n>/<8 digits>" with an optional ".xxhash" or
 * ".checksum" suffix. */
enum xva_member { XVA_M_DATA, XVA_M_XXHASH, XVA_M_SHA1, XVA_M_OTHER };
enum xva_member xva_member_parse(const char *name, char id[64], uint32_t *number);

/* ---- routes ------------------------------------------------------------- */
void gw_xva_export_register(void);     /* /export, /export_metadata */
void gw_xva_import_register(void);     /* /import */

#endif
