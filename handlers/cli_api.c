/* cli_api.c: in-process API calls for xe's commands (see cli_api.h). */
#include "cli_api.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "rpc_in.h"

bool cli_fail_msg(struct cli_fail *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->text, sizeof(f->text), fmt, ap);
    va_end(ap);
    return false;
}

bool cli_fail_internal(struct cli_fail *f, const char *fmt, ...)
{
    char msg[sizeof(f->params[0]) - 10];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(f->code, sizeof(f->code), "INTERNAL_ERROR");
    snprintf(f->params[0], sizeof(f->params[0]), "Failure: %s", msg);
    f->nparams = 1;
    return false;
}

void cli_req_begin(cli_req *q, const cli_api *api, const char *method, bool with_session)
{
    xg_out_init(&q->body);
    xg_out_puts(&q->body, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":");
    xg_writer_init_json(&q->w, &q->body);
    xg_write_cstr(&q->w, method);
    xg_out_puts(&q->body, ",\"params\":");
    xg_writer_init_json(&q->w, &q->body);
    q->w.ops->begin_array(&q->w);
    if (with_session)
        xg_write_cstr(&q->w, api->session);
}

struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
};

/* Called once, with the world lock held, possibly inside xg_dispatch. */
static void answered(xg_call *c)
{
    struct waiter *w = c->conn;
    pthread_mutex_lock(&w->mu);
    w->done = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* Runs the JSON-RPC request text; the response text, malloc'd. */
static char *dispatch(const char *addr, const char *body, size_t len, struct cli_fail *f)
{
    xg_call *c = xg_call_new(XG_PROTO_JSONRPC_V2);
    struct xg_rpc_req rq;
    char msg[256];
    if (!xg_jsonrpc_parse(c->arena, body, len, &rq, msg, sizeof(msg))) {
        xg_call_unref(c);              /* an argument beyond the reader's limits */
        cli_fail_msg(f, "Error: %s", msg);
        return NULL;
    }
    struct waiter w = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    c->method_name = rq.method;
    c->params = rq.params;
    c->nparams = rq.nparams;
    c->json_id = rq.json_id;
    c->json_id_len = rq.json_id_len;
    c->client_addr = xg_arena_strdup(c->arena, addr);
    c->on_response = answered;
    c->conn = &w;
    xg_dispatch(c);
    pthread_mutex_lock(&w.mu);
    while (!w.done)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    while (c->producer && !xg_call_produce(c))
        ;                              /* a streamed result: produce it all */
    char *text = xg_out_strdup(&c->out, NULL);
    xg_call_unref(c);
    return text;
}

static void copy_str(char *dst, size_t n, yajl_val v)
{
    snprintf(dst, n, "%s", YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : "");
}

yajl_val cli_req_send(cli_req *q, const cli_api *api, yajl_val *result, struct cli_fail *f)
{
    q->w.ops->end_array(&q->w);
    xg_out_putc(&q->body, '}');
    size_t len = 0;
    char *body = xg_out_strdup(&q->body, &len);
    xg_out_reset(&q->body);
    char *text = dispatch(api->addr, body, len, f);
    free(body);
    if (!text)
        return NULL;
    char perr[128];
    yajl_val doc = yajl_tree_parse(text, perr, sizeof(perr));
    free(text);
    if (!doc) {
        cli_fail_msg(f, "Error: unreadable API answer: %s", perr);
        return NULL;
    }
    static const char *result_path[] = {"result", NULL};
    static const char *error_path[] = {"error", NULL};
    yajl_val err = yajl_tree_get(doc, error_path, yajl_t_object);
    if (err) {
        static const char *code_path[] = {"message", NULL};
        static const char *data_path[] = {"data", NULL};
        copy_str(f->code, sizeof(f->code), yajl_tree_get(err, code_path, yajl_t_string));
        yajl_val data = yajl_tree_get(err, data_path, yajl_t_array);
        f->nparams = 0;
        for (size_t i = 0; data && i < data->u.array.len && i < CLI_FAIL_PARAMS; i++)
            copy_str(f->params[f->nparams++], sizeof(f->params[0]), data->u.array.values[i]);
        yajl_tree_free(doc);
        return NULL;
    }
    *result = yajl_tree_get(doc, result_path, yajl_t_any);
    return doc;
}

bool cli_api_login(cli_api *api, const char *user, const char *password, struct cli_fail *f)
{
    cli_req q;
    cli_req_begin(&q, api, "session.login_with_password", false);
    xg_write_cstr(&q.w, user);
    xg_write_cstr(&q.w, password);
    xg_write_cstr(&q.w, "1.0");
    xg_write_cstr(&q.w, "cli");
    yajl_val result = NULL;
    yajl_val doc = cli_req_send(&q, api, &result, f);
    if (!doc)
        return false;
    copy_str(api->session, sizeof(api->session), result);
    yajl_tree_free(doc);
    return true;
}

void cli_api_logout(cli_api *api)
{
    cli_req q;
    cli_req_begin(&q, api, "session.logout", true);
    struct cli_fail f = {{0}};
    yajl_val result = NULL;
    yajl_val doc = cli_req_send(&q, api, &result, &f);
    if (doc)
        yajl_tree_free(doc);
    api->session[0] = 0;
}

static yajl_val callv(const cli_api *api, yajl_val *result, struct cli_fail *f,
                      const char *method, const char *types, va_list ap)
{
    cli_req q;
    cli_req_begin(&q, api, method, true);
    for (const char *t = types; *t; t++) {
        switch (*t) {
        case 'b': q.w.ops->boolean(&q.w, va_arg(ap, int) != 0); break;
        case 'i': q.w.ops->int64(&q.w, va_arg(ap, int64_t)); break;
        default: xg_write_cstr(&q.w, va_arg(ap, const char *)); break;
        }
    }
    return cli_req_send(&q, api, result, f);
}

yajl_val cli_api_get(const cli_api *api, yajl_val *result, struct cli_fail *f,
                     const char *method, const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    yajl_val doc = callv(api, result, f, method, types, ap);
    va_end(ap);
    return doc;
}

bool cli_api_call(const cli_api *api, char *out, size_t outlen, struct cli_fail *f,
                  const char *method, const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    yajl_val result = NULL;
    yajl_val doc = callv(api, &result, f, method, types, ap);
    va_end(ap);
    if (!doc)
        return false;
    if (out)
        copy_str(out, outlen, result);
    yajl_tree_free(doc);
    return true;
}

bool cli_api_event_from(const cli_api *api, const char *cls, char *token, size_t tokenlen,
                        double timeout, struct cli_fail *f)
{
    cli_req q;
    cli_req_begin(&q, api, "event.from", true);
    q.w.ops->begin_array(&q.w);
    xg_write_cstr(&q.w, cls);
    q.w.ops->end_array(&q.w);
    xg_write_cstr(&q.w, token);
    q.w.ops->dbl(&q.w, timeout);
    yajl_val result = NULL;
    yajl_val doc = cli_req_send(&q, api, &result, f);
    if (!doc)
        return false;
    snprintf(token, tokenlen, "%s", cli_json_str(result, "token"));
    yajl_tree_free(doc);
    return true;
}

const char *cli_json_str(yajl_val record, const char *name)
{
    const char *path[] = {name, NULL};
    yajl_val v = yajl_tree_get(record, path, yajl_t_string);
    return v ? YAJL_GET_STRING(v) : "";
}
