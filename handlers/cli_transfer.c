/* cli_transfer.c: xe's commands that move a file between the user's
 * machine and the host (vdi-export with HttpGet, vdi-import with HttpPut;
 * cli_util.ml track_http_operation). The gateway makes a task, tells xe
 * to GET or PUT the disk's HTTP handler with the session and task in the
 * query (xe's extra connection carries no credentials), reads xe's
 * answer (skipping heartbeats) and then the task's outcome, which the
 * handler settles. The data never passes through this connection. */
#include "cli.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli_wire.h"

/* value, percent-encoded for a query string. */
static void put_query_value(char *buf, size_t n, const char *value)
{
    size_t k = strlen(buf);
    for (const unsigned char *p = (const unsigned char *)value; *p && k + 4 < n; p++) {
        if (isalnum(*p) || strchr("-._~:", *p))
            buf[k++] = (char)*p;
        else
            k += (size_t)snprintf(buf + k, n - k, "%%%02X", *p);
    }
    buf[k] = 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The task's status once it is no longer pending (event.from on tasks
 * meanwhile), with its error_info in f when it failed. false when the
 * client went away first, or (patience >= 0) after that many seconds. */
static bool task_outcome(struct cli_ctx *c, const char *task, char *status, size_t n,
                         double patience, struct cli_fail *f)
{
    char token[256] = "";
    double start = now_s();
    for (;;) {
        yajl_val rec = NULL;
        yajl_val doc = cli_api_get(&c->api, &rec, f, "task.get_record", "s", task);
        if (!doc)
            return false;
        snprintf(status, n, "%s", cli_json_str(rec, "status"));
        const char *path[] = {"error_info", NULL};
        yajl_val info = yajl_tree_get(rec, path, yajl_t_array);
        for (size_t i = 0; info && i < info->u.array.len && f->nparams < CLI_FAIL_PARAMS; i++) {
            const char *s = YAJL_IS_STRING(info->u.array.values[i])
                                ? YAJL_GET_STRING(info->u.array.values[i]) : "";
            if (i == 0)
                snprintf(f->code, sizeof(f->code), "%s", s);
            else
                snprintf(f->params[f->nparams++], sizeof(f->params[0]), "%s", s);
        }
        yajl_tree_free(doc);
        if (strcmp(status, "pending") != 0 && strcmp(status, "cancelling") != 0)
            return true;
        memset(f, 0, sizeof(*f));
        double left = patience - (now_s() - start);
        if (patience < 0 ? xg_http_gone(c->x) : left <= 0)
            return false;
        if (!cli_api_event_from(&c->api, "task", token, sizeof(token),
                                patience < 0 || left > 5.0 ? 5.0 : left, f))
            return false;
    }
}

bool cli_vdi_transfer(struct cli_ctx *c, struct cli_fail *f)
{
    bool get = strcmp(c->cmd->name, "vdi-export") == 0;
    const char *label = get ? "VDI export" : "VDI import";
    const char *format = cli_arg(c->cmd, "format"), *base = get ? cli_arg(c->cmd, "base") : NULL;
    char vdi[XG_REF_LEN], task[XG_REF_LEN], url[1024], status[32];
    if (!cli_ref_by_uuid("VDI", cli_arg(c->cmd, "uuid"), vdi, f) ||
        !cli_api_call(&c->api, task, sizeof(task), f, "task.create", "ss", label, ""))
        return false;
    snprintf(url, sizeof(url), "/%s?session_id=", get ? "export_raw_vdi" : "import_raw_vdi");
    put_query_value(url, sizeof(url), c->api.session);
    strncat(url, "&task_id=", sizeof(url) - strlen(url) - 1);
    put_query_value(url, sizeof(url), task);
    strncat(url, "&vdi=", sizeof(url) - strlen(url) - 1);
    put_query_value(url, sizeof(url), vdi);
    if (format) {
        strncat(url, "&format=", sizeof(url) - strlen(url) - 1);
        put_query_value(url, sizeof(url), format);
    }
    if (base) {                        /* a delta against another VDI, if the handler can */
        strncat(url, "&base=", sizeof(url) - strlen(url) - 1);
        put_query_value(url, sizeof(url), base);
    }
    /* xe agrees only to the file name the user typed, sent back as is */
    int answer = cli_wire_http(c->x, get, cli_arg(c->cmd, "filename"), url)
                     ? cli_wire_read_response(c->x) : -1;
    bool ok = false;
    if (answer < 0) {
        cli_fail_msg(f, "Error: Lost connection to the client");
    } else if (answer == 0) {
        /* xe could not transfer (a file it may not write, no server). The
         * handler, if it got the task, ends once it sees xe gone: wait a
         * little for it (xapi waits 1 s), then report what it said, if anything. */
        bool ended = task_outcome(c, task, status, sizeof(status), 2.0, f);
        if (!ended || !f->code[0]) {
            memset(f, 0, sizeof(*f));
            snprintf(f->code, sizeof(f->code), "CLIENT_ERROR");
        }
        /* no handler settled it (xe never reached one: a missing file):
         * settle it here, or the destroy below would wait for an end
         * that never comes */
        struct cli_fail ignored = {{0}};
        if (!ended)
            cli_api_call(&c->api, NULL, 0, &ignored, "task.cancel", "s", task);
    } else if (task_outcome(c, task, status, sizeof(status), -1.0, f)) {
        ok = strcmp(status, "success") == 0;
        if (strcmp(status, "cancelled") == 0)
            cli_fail_msg(f, "%s cancelled", label);
        else if (!ok && !f->code[0])
            cli_fail_msg(f, "%s failed, unknown error", label);
    }
    struct cli_fail ignored = {{0}};
    cli_api_call(&c->api, NULL, 0, &ignored, "task.destroy", "s", task);
    return ok;
}
