/* persist.c: the state database. One SQLite file (WAL, synchronous=FULL) in
 * the state dir; one row per persistent object: its class, its ref and its
 * persistable fields as a JSON object written by the same JSON writer that
 * serves clients. The store marks objects dirty; dispatch flushes them in one
 * transaction before the answer is released, so an acknowledged write
 * survives kill -9. Never called without the world lock. */
#include "persist.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "../server/arena.h"
#include "../server/log.h"
#include "../server/store.h"
#include "../server/writer.h"

static sqlite3 *db;
static sqlite3_stmt *st_save, *st_forget;
static bool in_txn;

static bool sql_fail(xg_err *err, const char *what)
{
    XG_ERROR("persist", "%s: %s", what, db ? sqlite3_errmsg(db) : "no database");
    return xg_err_internal(err, "state database: %s failed", what);
}

static bool exec(const char *sql, xg_err *err)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        XG_ERROR("persist", "%s: %s", sql, msg ? msg : "?");
        sqlite3_free(msg);
        return xg_err_internal(err, "state database: statement failed");
    }
    return true;
}

static bool begin_if_needed(void)
{
    if (in_txn)
        return true;
    xg_err err = XG_ERR_INIT;
    if (!exec("BEGIN IMMEDIATE", &err))
        return false;
    in_txn = true;
    return true;
}

/* Writes the persistable fields of obj as one JSON object. */
static char *record_json(const xg_obj *obj, size_t *len)
{
    xg_out out;
    xg_writer w;
    xg_out_init(&out);
    xg_writer_init_json(&w, &out);
    const xg_class_desc *cls = obj->cls;
    w.ops->begin_struct(&w);
    for (uint32_t i = 0; i < cls->nfields; i++) {
        const xg_field_desc *f = &cls->fields[i];
        if (!(f->flags & XG_F_PERSIST))
            continue;
        w.ops->member(&w, f->name, strlen(f->name));
        xg_write_value(&w, f->type, (const char *)obj + f->offset);
    }
    w.ops->end_struct(&w);
    char *s = xg_out_strdup(&out, len);
    xg_out_reset(&out);
    return s;
}

static void persist_save(void *o)
{
    xg_obj *obj = o;
    if (!begin_if_needed())
        return;
    size_t len;
    char *json = record_json(obj, &len);
    sqlite3_reset(st_save);
    sqlite3_bind_text(st_save, 1, obj->ref.s, -1, SQLITE_STATIC);
    sqlite3_bind_text(st_save, 2, obj->cls->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st_save, 3, json, (int)len, SQLITE_TRANSIENT);
    if (sqlite3_step(st_save) != SQLITE_DONE)
        XG_ERROR("persist", "save %s: %s", obj->cls->name, sqlite3_errmsg(db));
    free(json);
}

static void persist_forget(const xg_class_desc *cls, const char *ref)
{
    if (!begin_if_needed())
        return;
    sqlite3_reset(st_forget);
    sqlite3_bind_text(st_forget, 1, ref, -1, SQLITE_STATIC);
    if (sqlite3_step(st_forget) != SQLITE_DONE)
        XG_ERROR("persist", "forget %s: %s", cls->name, sqlite3_errmsg(db));
}

static bool persist_commit(xg_err *err)
{
    if (!in_txn)
        return true;
    in_txn = false;
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return sql_fail(err, "commit");
    }
    return true;
}

static const struct xg_persist_ops ops = {
    .save = persist_save, .forget = persist_forget, .commit = persist_commit,
};

bool gw_persist_open(const char *state_dir, xg_err *err)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/state.db", state_dir);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                        SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK)
        return sql_fail(err, "open");
    if (!exec("PRAGMA journal_mode=WAL", err) ||
        !exec("PRAGMA synchronous=FULL", err) ||
        !exec("CREATE TABLE IF NOT EXISTS objects ("
              " ref TEXT PRIMARY KEY, class TEXT NOT NULL, body TEXT NOT NULL)", err) ||
        !exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)", err))
        return false;
    if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO objects(ref, class, body) "
                           "VALUES (?1, ?2, ?3)", -1, &st_save, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "DELETE FROM objects WHERE ref = ?1", -1,
                           &st_forget, NULL) != SQLITE_OK)
        return sql_fail(err, "prepare");
    xg_store_set_persist(&ops);
    return true;
}

void gw_persist_close(void)
{
    if (!db)
        return;
    xg_store_set_persist(NULL);
    sqlite3_finalize(st_save);
    sqlite3_finalize(st_forget);
    sqlite3_close(db);
    db = NULL;
    st_save = st_forget = NULL;
}

/* ---- loading ------------------------------------------------------------ */

/* yajl tree → xg_value (arena). Depth is bounded by what we wrote. */
static bool to_value(xg_arena *a, const yajl_val v, xg_value *out, int depth)
{
    if (depth > 32)
        return false;
    switch (v->type) {
    case yajl_t_string:
        out->t = XG_V_STRING;
        out->u.s = xg_arena_strdup(a, v->u.string);
        out->n = (uint32_t)strlen(v->u.string);
        return out->u.s != NULL;
    case yajl_t_number:
        if (YAJL_IS_INTEGER(v)) {
            out->t = XG_V_INT;
            out->u.i = YAJL_GET_INTEGER(v);
        } else {
            out->t = XG_V_DOUBLE;
            out->u.d = YAJL_GET_DOUBLE(v);
        }
        return true;
    case yajl_t_true:
    case yajl_t_false:
        out->t = XG_V_BOOL;
        out->u.b = v->type == yajl_t_true;
        return true;
    case yajl_t_null:
        out->t = XG_V_NIL;
        return true;
    case yajl_t_array: {
        size_t n = v->u.array.len;
        xg_value *items = xg_arena_alloc(a, sizeof(*items) * (n ? n : 1));
        if (!items)
            return false;
        for (size_t i = 0; i < n; i++)
            if (!to_value(a, v->u.array.values[i], &items[i], depth + 1))
                return false;
        out->t = XG_V_ARRAY;
        out->n = (uint32_t)n;
        out->u.items = items;
        return true;
    }
    case yajl_t_object: {
        size_t n = v->u.object.len;
        xg_member *m = xg_arena_alloc(a, sizeof(*m) * (n ? n : 1));
        if (!m)
            return false;
        for (size_t i = 0; i < n; i++) {
            m[i].name = xg_arena_strdup(a, v->u.object.keys[i]);
            m[i].name_len = (uint32_t)strlen(v->u.object.keys[i]);
            if (!to_value(a, v->u.object.values[i], &m[i].v, depth + 1))
                return false;
        }
        out->t = XG_V_STRUCT;
        out->n = (uint32_t)n;
        out->u.members = m;
        return true;
    }
    default:
        return false;
    }
}

bool gw_persist_load(gw_persist_row_fn fn, void *arg, xg_err *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT ref, class, body FROM objects ORDER BY CASE class WHEN 'host' THEN 0 WHEN 'pool' THEN 1 WHEN 'VM' THEN 3 ELSE 2 END, rowid",
                           -1, &st, NULL) != SQLITE_OK)
        return sql_fail(err, "load");
    xg_arena *a = xg_arena_new(64 * 1024 * 1024);
    bool ok = true;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *ref = (const char *)sqlite3_column_text(st, 0);
        const char *cls_name = (const char *)sqlite3_column_text(st, 1);
        const char *body = (const char *)sqlite3_column_text(st, 2);
        const xg_class_desc *cls = xg_class_by_name(cls_name);
        if (!cls || !ref || !body) {
            XG_WARN("persist", "skipping row of unknown class %s", cls_name ? cls_name : "?");
            continue;
        }
        char ebuf[256];
        yajl_val tree = yajl_tree_parse(body, ebuf, sizeof(ebuf));
        xg_value v;
        if (!tree || !to_value(a, tree, &v, 0) || v.t != XG_V_STRUCT) {
            XG_WARN("persist", "skipping unreadable %s row %s", cls_name, ref);
            yajl_tree_free(tree);
            continue;
        }
        fn(cls, ref, &v, arg);
        yajl_tree_free(tree);
        xg_arena_reset(a);
    }
    if (rc != SQLITE_DONE)
        ok = sql_fail(err, "load step");
    sqlite3_finalize(st);
    xg_arena_free(a);
    return ok;
}

bool gw_persist_meta_get(const char *key, char *buf, size_t len)
{
    sqlite3_stmt *st = NULL;
    bool found = false;
    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?1", -1, &st, NULL) != SQLITE_OK)
        return false;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        snprintf(buf, len, "%s", v ? v : "");
        found = true;
    }
    sqlite3_finalize(st);
    return found;
}

bool gw_persist_meta_set(const char *key, const char *value, xg_err *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)",
                           -1, &st, NULL) != SQLITE_OK)
        return sql_fail(err, "meta");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    bool ok = sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    return ok ? true : sql_fail(err, "meta write");
}
