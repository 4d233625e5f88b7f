/* cli.c: POST /cli, the endpoint of XAPI's `xe` (thin CLI protocol 0.2,
 * ../shared/spec/xe-cli.md). The request body is the command line, one
 * argument per line; no HTTP answer follows, the protocol starts on the same
 * connection (XG_ROUTE_STREAM, XG_HTTP_HEADLESS). The exchange runs on an
 * HTTP worker: it may wait on its client, never on an I/O thread and never
 * holding the world lock. Credentials come in the body (username=,
 * password=) and are checked on the auth pool with its per-address
 * throttling; the password is never logged. */
#include "cli.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "cli_wire.h"
#include "desc.h"
#include "log.h"

#define CLI_BODY_MAX (200 * 1024)      /* as xapi */
#define USAGE_LINE "For usage run: 'xe help'\n"

const char *cli_arg(const struct cli_cmd *cmd, const char *key)
{
    for (unsigned i = 0; i < cmd->nargs; i++)
        if (strcmp(cmd->args[i].key, key) == 0)
            return cmd->args[i].value;
    return NULL;
}

/* Reads the Content-Length body; NULL if absent, too big or cut short. */
static char *read_body(xg_http_ex *x, size_t *len)
{
    int64_t cl = xg_http_req(x)->content_length;
    if (cl < 0 || cl > CLI_BODY_MAX)
        return NULL;
    char *body = malloc((size_t)cl + 1);
    if (!body)
        abort();
    size_t got = 0;
    while (got < (size_t)cl) {
        ssize_t r = xg_http_read(x, body + got, (size_t)cl - got);
        if (r <= 0) {
            free(body);
            return NULL;
        }
        got += (size_t)r;
    }
    body[got] = 0;
    *len = got;
    return body;
}

/* ---- login on the auth pool --------------------------------------------- */

struct login_wait {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done, ok;
};

static void login_done(void *arg, bool ok, const xg_err *err)
{
    (void)err;
    struct login_wait *w = arg;
    pthread_mutex_lock(&w->mu);
    w->done = true;
    w->ok = ok;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static bool login(const char *addr, const char *user, const char *password)
{
    struct login_wait w = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    xg_auth_check_async(addr, user, password, login_done, &w);
    pthread_mutex_lock(&w.mu);
    while (!w.done)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    return w.ok;
}

/* ---- help --------------------------------------------------------------- */

static void help(xg_http_ex *x, const struct cli_cmd *cmd);

/* ---- the exchange ------------------------------------------------------- */

static int fail_usage(xg_http_ex *x, const char *msg)
{
    cli_wire_stderr(x, msg);
    cli_wire_stderr(x, USAGE_LINE);
    return 1;
}

static bool send_prints(xg_http_ex *x, const xg_out *out)
{
    size_t len = 0;
    char *all = xg_out_strdup(out, &len);
    bool ok = true;
    for (size_t off = 0; ok && off + 4 <= len;) {
        uint32_t n;
        memcpy(&n, all + off, 4);
        ok = cli_wire_print(x, all + off + 4, n);
        off += 4 + n;
    }
    free(all);
    return ok;
}

static int run(xg_http_ex *x, struct cli_cmd *cmd)
{
    if (strcmp(cmd->name, "help") == 0) {
        help(x, cmd);
        return 0;
    }
    const char *missing = NULL;
    if (!cli_records_check(cmd, &missing)) {
        char msg[512];
        snprintf(msg, sizeof(msg), "Unknown command: %.400s\n", cmd->name);
        return fail_usage(x, msg);
    }
    if (missing) {
        char msg[256];
        snprintf(msg, sizeof(msg), "Required parameter not found: %s\n", missing);
        return fail_usage(x, msg);
    }
    const char *user = cli_arg(cmd, "username"), *pw = cli_arg(cmd, "password");
    if (!user || !*user || !pw)
        return fail_usage(x, "Username/password must be specified\n");
    if (!login(xg_http_req(x)->client_addr, user, pw))
        return fail_usage(x, "Authentication failed\n");
    XG_DEBUG("cli", "%s: %s by %s", xg_http_req(x)->client_addr, cmd->name, user);

    struct cli_result *r = calloc(1, sizeof(*r));
    if (!r)
        abort();
    xg_out_init(&r->out);
    cli_records_run(cmd, r);
    int code = 0;
    if (r->err[0]) {
        /* each line of the message goes as its own PrintStderr, as xapi */
        for (char *line = r->err; line;) {
            char *nl = strchr(line, '\n');
            if (nl)
                *nl = 0;
            char buf[sizeof(r->err) + 2];
            snprintf(buf, sizeof(buf), "%s\n", line);
            cli_wire_stderr(x, buf);
            line = nl ? nl + 1 : NULL;
        }
        code = 1;
    } else if (r->api_code) {
        const char *params[4];
        for (unsigned i = 0; i < r->api_nparams; i++)
            params[i] = r->api_params[i];
        cli_wire_error(x, r->api_code, params, r->api_nparams);
        code = 1;
    } else {
        send_prints(x, &r->out);
        if (cmd->minimal && !r->minimal_sent)
            cli_wire_print(x, "", 0);
    }
    xg_out_reset(&r->out);
    free(r);
    return code;
}

static void serve_cli(xg_http_ex *x)
{
    xg_http_respond(x, 200, NULL, XG_HTTP_HEADLESS, "");
    size_t len = 0;
    char *body = read_body(x, &len);
    if (!body)
        return;                        /* no protocol without a command line */
    struct cli_cmd *cmd = calloc(1, sizeof(*cmd));
    if (!cmd)
        abort();
    if (cli_wire_handshake(x)) {
        int code = cli_parse(body, len, cmd) ? run(x, cmd) : fail_usage(x, "Syntax error: \n");
        cli_wire_exit(x, code);
    }
    free(cmd);
    free(body);
}

/* ---- help (cli_frontend.ml rio_help) ------------------------------------ */

static void help(xg_http_ex *x, const struct cli_cmd *cmd)
{
    xg_out names;
    xg_out_init(&names);
    xg_out_puts(&names, "help");
    struct cli_cmd probe = {0};
    static const char *const ops[] = {"-list", "-param-list", "-param-get"};
    static const char *const xe_classes[] = {"vm", "template", "snapshot"};
    char name[160];
    const char *missing;
    for (uint32_t i = 0; i < xg_nclasses + 3; i++) {
        char xe[128];
        if (i < 3)
            snprintf(xe, sizeof(xe), "%s", xe_classes[i]);
        else if (strcmp(xg_classes[i - 3]->name, "VM") == 0)
            continue;                  /* served as vm, template and snapshot */
        else
            for (size_t k = 0; k < sizeof(xe); k++)
                if ((xe[k] = xg_classes[i - 3]->lower[k] == '_' ? '-'
                                                                : xg_classes[i - 3]->lower[k]) == 0)
                    break;
        for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
            snprintf(name, sizeof(name), "%.127s%s", xe, ops[k]);
            probe.name = name;
            if (cli_records_check(&probe, &missing))
                xg_out_printf(&names, ",%s", name);
        }
    }
    size_t len = 0;
    char *all = xg_out_strdup(&names, &len);
    xg_out_reset(&names);
    if (cmd->minimal) {
        cli_wire_print(x, all, len);
    } else {
        static const char usage[] =
            "Usage: xe <cmd> [-s server] [-p port] ([-u username] [-pw password] or "
            "[-pwf <password file>]) <other arguments>\n\n"
            "A full list of commands can be obtained by running \n\txe help --all\n"
            "Common command list\n-------------------\n";
        cli_wire_print(x, usage, strlen(usage));
        /* names four-space indented, ", "-separated, wrapped before 74 columns */
        char line[128] = "    ";
        size_t ll = 4;
        for (char *tok = strtok(all, ","); tok; tok = strtok(NULL, ",")) {
            size_t tl = strlen(tok);
            if (ll > 4 && ll + 2 + tl >= 74) {
                line[ll++] = ',';
                cli_wire_print(x, line, ll);
                ll = 4;
            } else if (ll > 4) {
                line[ll++] = ',';
                line[ll++] = ' ';
            }
            memcpy(line + ll, tok, tl < 100 ? tl : 100);
            ll += tl < 100 ? tl : 100;
        }
        if (ll > 4)
            cli_wire_print(x, line, ll);
    }
    free(all);
}

void xg_cli_init(void)
{
    xg_http_route("POST", "/cli", XG_ROUTE_PUBLIC | XG_ROUTE_RAW_BODY | XG_ROUTE_STREAM,
                  serve_cli);
}
