/* desc.h: the descriptor tables that codegen emits and that generic code walks.
 *
 * codegen/ turns idl/ into C record structs plus these tables; the generic
 * record writer (record_writer.c), decoder (decode.c), store (store.c),
 * implicit messages (implicit.c) and persistence walk them, so the hardened
 * code exists once instead of once per class.  server/ includes only this
 * header, never the per-class generated headers.
 *
 * C storage of each kind (inside records, sets, maps and decoded params):
 *   STRING   char *        NUL-terminated UTF-8, never NULL in a record ("" instead)
 *   INT      int64_t
 *   FLOAT    double
 *   BOOL     bool
 *   DATETIME int64_t       seconds since the epoch, UTC (0 = "unset")
 *   ENUM     int           index into xg_enum_desc.values
 *   REF      xg_ref        inline "OpaqueRef:<uuid>", "OpaqueRef:NULL" or ""
 *   SET      xg_set        array of element storage
 *   MAP      xg_map        parallel arrays of key and value storage
 *   RECORD   void *        pointer to a record struct (results, create params)
 */
#ifndef XG_DESC_H
#define XG_DESC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "value.h"

#define XG_REF_LEN 48                 /* "OpaqueRef:" + 36 + NUL fits */
#define XG_REF_NULL "OpaqueRef:NULL"

typedef struct xg_ref { char s[XG_REF_LEN]; } xg_ref;
typedef struct xg_set { void *items; uint32_t n, cap; } xg_set;
typedef struct xg_map { void *keys; void *vals; uint32_t n, cap; } xg_map;

enum xg_kind {
    XG_K_VOID, XG_K_STRING, XG_K_INT, XG_K_FLOAT, XG_K_BOOL, XG_K_DATETIME,
    XG_K_ENUM, XG_K_REF, XG_K_SET, XG_K_MAP, XG_K_RECORD,
};

struct xg_class_desc;

typedef struct xg_enum_desc {
    const char *name;                 /* IDL name, e.g. "vm_power_state" */
    const char *const *values;        /* exact wire spelling, IDL order */
    int n;
} xg_enum_desc;

typedef struct xg_type {
    enum xg_kind kind;
    const char *spelling;             /* XAPI notation: "(string -> string) map" */
    const struct xg_type *elem;       /* SET element, MAP value */
    const struct xg_type *key;        /* MAP key */
    const xg_enum_desc *enm;          /* ENUM */
    const char *class_name;           /* REF/RECORD target wire class name */
    const struct xg_class_desc *cls;  /* REF/RECORD target if served, else NULL */
} xg_type;

size_t xg_type_storage_size(const xg_type *t);

enum xg_qual { XG_Q_RW, XG_Q_RO_CONSTRUCTOR, XG_Q_RO_RUNTIME };

enum xg_field_flags {
    XG_F_HAS_DEFAULT = 1 << 0,   /* create may omit it */
    XG_F_INTERNAL    = 1 << 1,   /* never on the wire (not in records) */
    XG_F_PERSIST     = 1 << 2,   /* survives restarts (class must persist) */
    XG_F_MAINTAINED  = 1 << 3,   /* "many" side of a relation: store keeps it */
};

typedef struct xg_field_desc {
    const char *name;                 /* wire name, e.g. "VCPUs_max" */
    const xg_type *type;
    uint32_t offset;                  /* offsetof in the record struct */
    uint8_t qual;                     /* enum xg_qual */
    uint8_t flags;                    /* enum xg_field_flags */
    /* When XG_F_HAS_DEFAULT: the IDL default as C storage of `type`,
     * generated typed (an enum's index, a datetime's seconds, xg_set…);
     * read-only, copied into records, never decoded at run time. */
    const void *default_storage;
    /* Relations: on a ref field ("VM.resident_on"), the maintained set on
     * the target ("host.resident_VMs"); on that set, the ref field. */
    const struct xg_field_desc *inverse;
    const struct xg_class_desc *inverse_cls;
    const char *doc;
} xg_field_desc;

enum xg_class_flags {
    XG_C_EVENTS   = 1 << 0,   /* produces events (all but session/event) */
    XG_C_GET_ALL  = 1 << 1,   /* get_all / get_all_records exposed */
    XG_C_PERSIST  = 1 << 2,   /* rows are kept in the state database */
    XG_C_CTOR     = 1 << 3,   /* create/destroy messages exist */
    XG_C_STORED   = 1 << 4,   /* has a store table and implicit messages
                                 (IDL "implicit"); not the hand-shaped event */
};

typedef struct xg_class_desc {
    const char *name;                 /* wire name "VM" */
    const char *lower;                /* event class name "vm" */
    uint32_t index;                   /* dense 0..xg_nclasses-1 */
    uint32_t flags;                   /* enum xg_class_flags */
    size_t size;                      /* sizeof the record struct */
    const xg_field_desc *fields;
    uint32_t nfields;
    int32_t uuid_field;               /* index or -1 */
    int32_t name_label_field;         /* index or -1 */
} xg_class_desc;

/* All served classes, sorted by wire name; generated in xapi_types.c. */
extern const xg_class_desc *const xg_classes[];
extern const uint32_t xg_nclasses;
const xg_class_desc *xg_class_by_name(const char *name);   /* exact wire name */
const xg_class_desc *xg_class_by_lower(const char *lower); /* case-insensitive */

/* ---- methods (dispatch table) ----------------------------------------- */

struct xg_call;
struct xg_err;

/* A marshaller receives the params after the session (or all params for
 * session-less messages), already count-checked, defaults filled in. */
typedef bool (*xg_marshal_fn)(struct xg_call *c, const xg_value *params,
                              const void *data, struct xg_err *err);

enum xg_method_flags {
    XG_M_SESSION = 1 << 0,    /* first wire param is a session ref */
    XG_M_ASYNC   = 1 << 1,    /* this row is the Async.* form */
    XG_M_HIDDEN  = 1 << 2,    /* not in system.listMethods (Async.*, Class_msg) */
    XG_M_TASK    = 1 << 3,    /* async-capable: sync calls also run under a task */
    XG_M_STREAM  = 1 << 4,    /* result is produced incrementally (get_all_records) */
};

typedef struct xg_method {
    const char *name;                 /* wire name, e.g. "Async.VM.start" */
    const char *sync_name;            /* without "Async." (for errors, task names) */
    xg_marshal_fn fn;
    const void *data;                 /* for generic implicit messages: field/class */
    uint16_t nparams;                 /* declared params excluding the session */
    uint16_t ndefaults;               /* trailing params that have defaults */
    const xg_value *defaults;         /* ndefaults values */
    uint32_t flags;                   /* enum xg_method_flags */
    const xg_type *result;            /* NULL for void */
} xg_method;

/* Sorted by name (strcmp); generated in xapi_dispatch.c. */
extern const xg_method xg_methods[];
extern const uint32_t xg_nmethods;
const xg_method *xg_method_find(const char *name);   /* bsearch */

#endif
