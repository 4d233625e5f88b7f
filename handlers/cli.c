/* cli.c: POST /cli, the endpoint of XAPI's `xe` (thin CLI protocol 0.2,
 * ../shared/spec/xe-cli.md). The request body is the command line, one
 * argument per line; no HTTP answer follows, the protocol starts on the same
 * connection (XG_ROUTE_STREAM, XG_HTTP_HEADLESS). The exchange runs on an
 * HTTP worker: it may wait on its client, never on an I/O thread and never
 * holding the world lock. Credentials come in the body (username=,
 * password=) and open an API session (session.login_with_password, on the
 * auth pool with its per-address throttling), closed when the command
 * ends; the password is never logged. */
#include "cli.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strings.h>

#include "cli_wire.h"
#include "log.h"
#include "xapi_errors.h"

#define CLI_BODY_MAX (200 * 1024)      /* as xapi */
#define USAGE_LINE "For usage run: 'xe help'\n"

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

/* f as xapi's Cli_util.server_error writes it: the datamodel's sentence
 * and one "name: value" line per parameter (refs as "<uuid> (<name>)"),
 * or the Error command for a code the datamodel does not describe. The
 * lines go to o; false when the Error command is the way. */
static bool describe(const struct cli_fail *f, xg_out *o)
{
    if (f->text[0]) {
        xg_out_puts(o, f->text);
        return true;
    }
    const struct xapi_error_doc *d = xapi_error_doc(f->code);
    if (!d)
        return false;
    xg_out_puts(o, d->doc);
    unsigned n = f->nparams > d->nparams ? f->nparams : d->nparams;
    for (unsigned i = 0; i < n; i++) {
        char v[512];
        cli_ref_convert(i < f->nparams ? f->params[i] : "<unknown>", v, sizeof(v));
        xg_out_printf(o, "\n%s: %s", i < d->nparams ? d->params[i] : "<extra>", v);
    }
    return true;
}

void cli_report(struct cli_ctx *c, const struct cli_fail *f)
{
    xg_out o;
    xg_out_init(&o);
    if (!describe(f, &o)) {
        const char *params[CLI_FAIL_PARAMS];
        char conv[CLI_FAIL_PARAMS][512];
        for (unsigned i = 0; i < f->nparams; i++) {
            cli_ref_convert(f->params[i], conv[i], sizeof(conv[i]));
            params[i] = conv[i];
        }
        cli_wire_error(c->x, f->code, params, f->nparams);
        return;
    }
    char *text = xg_out_strdup(&o, NULL);
    xg_out_reset(&o);
    /* each line of the message goes as its own PrintStderr, as xapi */
    for (char *line = text; line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = 0;
        size_t n = strlen(line);
        char *buf = malloc(n + 2);
        if (!buf)
            abort();
        memcpy(buf, line, n);
        memcpy(buf + n, "\n", 2);
        cli_wire_stderr(c->x, buf);
        free(buf);
        line = nl ? nl + 1 : NULL;
    }
    free(text);
}

/* ---- the exchange ------------------------------------------------------- */

static int fail_usage(xg_http_ex *x, const char *msg)
{
    cli_wire_stderr(x, msg);
    cli_wire_stderr(x, USAGE_LINE);
    return 1;
}

static void help(struct cli_ctx *c);

/* Runs a known command once logged in; the exit code. */
static int execute(struct cli_ctx *c)
{
    struct cli_fail f = {{0}};
    bool ok = cli_records_check(c->cmd, &(const char *){0}) ? cli_records_run(c, &f)
                                                          : cli_ops_run(c, &f);
    if (c->failures.total) {
        /* --multiple: one Print per VM that failed (xapi's multiple_error) */
        char *all = xg_out_strdup(&c->failures, NULL);
        for (char *line = all, *end; line && *line; line = end ? end + 1 : NULL) {
            end = strchr(line, '\036');
            if (end)
                *end = 0;
            cli_wire_print(c->x, line, strlen(line));
        }
        free(all);
        return 1;
    }
    if (!ok) {
        cli_report(c, &f);
        return 1;
    }
    if (c->cmd->minimal) {
        size_t len = 0;
        char *s = xg_out_strdup(&c->minimal, &len);
        cli_wire_print(c->x, s, len);
        free(s);
    }
    return 0;
}

static int run(xg_http_ex *x, struct cli_cmd *cmd)
{
    struct cli_ctx c = {.x = x, .cmd = cmd, .api = {.addr = xg_http_req(x)->client_addr}};
    if (strcmp(cmd->name, "help") == 0) {
        help(&c);
        return 0;
    }
    const char *missing = NULL;
    if (!cli_records_check(cmd, &missing) && !cli_ops_check(cmd, &missing)) {
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
    struct cli_fail f = {{0}};
    if (!cli_api_login(&c.api, user, pw, &f)) {
        if (f.code[0] && strcmp(f.code, XAPI_ERR_SESSION_AUTHENTICATION_FAILED) != 0) {
            c.cmd = cmd;
            cli_report(&c, &f);
            return 1;
        }
        return fail_usage(x, "Authentication failed\n");
    }
    XG_DEBUG("cli", "%s: %s by %s", c.api.addr, cmd->name, user);
    xg_out_init(&c.minimal);
    xg_out_init(&c.failures);
    int code = execute(&c);
    xg_out_reset(&c.minimal);
    xg_out_reset(&c.failures);
    cli_api_logout(&c.api);
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

static void help(struct cli_ctx *c)
{
    const struct cli_cmd *cmd = c->cmd;
    bool all = cli_flag(cmd, "all");
    /* xe help <command>: arguments without '=' arrive as (name, "") */
    for (unsigned i = 0; i < cmd->nargs; i++) {
        const char *k = cmd->args[i].key;
        if (cmd->args[i].value[0] || cli_is_stdparam(k))
            continue;
        if (!cli_ops_help(c, k)) {
            char msg[512];
            snprintf(msg, sizeof(msg), "Unknown command '%.400s'", k);
            cli_wire_print(c->x, msg, strlen(msg));
        }
        return;
    }
    xg_out names;
    xg_out_init(&names);
    xg_out_puts(&names, "help");
    cli_ops_names(&names, all);
    cli_records_names(&names);
    size_t len = 0;
    char *text = xg_out_strdup(&names, &len);
    xg_out_reset(&names);
    if (cmd->minimal) {
        cli_wire_print(c->x, text, len);
    } else {
        static const char usage[] =
            "Usage: xe <cmd> [-s server] [-p port] ([-u username] [-pw password] or "
            "[-pwf <password file>]) <other arguments>\n\n"
            "A full list of commands can be obtained by running \n\txe help --all\n"
            "Common command list\n-------------------\n";
        cli_wire_print(c->x, usage, strlen(usage));
        /* names four-space indented, ", "-separated, wrapped before 74 columns */
        char line[128] = "    ";
        size_t ll = 4;
        for (char *tok = strtok(text, ","); tok; tok = strtok(NULL, ",")) {
            size_t tl = strlen(tok);
            if (ll > 4 && ll + 2 + tl >= 74) {
                line[ll++] = ',';
                cli_wire_print(c->x, line, ll);
                ll = 4;
            } else if (ll > 4) {
                line[ll++] = ',';
                line[ll++] = ' ';
            }
            memcpy(line + ll, tok, tl < 100 ? tl : 100);
            ll += tl < 100 ? tl : 100;
        }
        if (ll > 4)
            cli_wire_print(c->x, line, ll);
    }
    free(text);
}

void xg_cli_init(void)
{
    xg_http_route("POST", "/cli", XG_ROUTE_PUBLIC | XG_ROUTE_RAW_BODY | XG_ROUTE_STREAM,
                  serve_cli);
}
