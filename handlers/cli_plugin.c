/* cli_plugin.c: xe's host-call-plugin (cli_operations.ml host_call_plugin
 * and args_file): host.call_plugin with the arguments args:<key>=<value>;
 * an argument args:<key>:file=<path> passes the contents of the user's
 * file <path>, which xe sends with the protocol's Load. What the gateway
 * keeps of the files is bounded by what one API request may carry. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "limits.h"

#define ARGS_PREFIX "args:"

/* "<key>:file" (cut at the first ':', as Astring.String.cut): the key of a
 * file argument, copied into key; false for a plain argument. */
static bool file_arg(const char *k, char *key, size_t n)
{
    const char *colon = strchr(k, ':');
    if (!colon || strcmp(colon + 1, "file") != 0)
        return false;
    snprintf(key, n, "%.*s", (int)(colon - k), k);
    return true;
}

/* Writes the args map; false with f set when a file could not be had. */
static bool write_args(struct cli_ctx *c, xg_writer *w, struct cli_fail *f)
{
    const struct cli_cmd *cmd = c->cmd;
    size_t budget = XG_MAX_STRING_BYTES;   /* all files together */
    w->ops->begin_struct(w);
    for (unsigned i = 0; i < cmd->nargs; i++) {
        const char *k = cmd->args[i].key, *v = cmd->args[i].value;
        if (strncmp(k, ARGS_PREFIX, strlen(ARGS_PREFIX)) != 0 || !k[strlen(ARGS_PREFIX)])
            continue;
        k += strlen(ARGS_PREFIX);
        char key[256];
        if (!file_arg(k, key, sizeof(key))) {
            w->ops->member(w, k, strlen(k));
            xg_write_cstr(w, v);
            continue;
        }
        size_t len = 0;
        bool too_big = false;
        char *data = cli_load_file(c, v, budget, &len, &too_big);
        if (!data && too_big)
            return cli_fail_internal(f, "Fatal error: A CLI client tried to transfer more "
                                        "than the maximum allowed of %zuB, aborting.",
                                     (size_t)XG_MAX_STRING_BYTES);
        if (!data)
            return cli_fail_msg(f, "Failed to read file %s", v);
        budget -= len;
        w->ops->member(w, key, strlen(key));
        w->ops->string(w, data, len);
        free(data);
    }
    w->ops->end_struct(w);
    return true;
}

bool cli_host_call_plugin(struct cli_ctx *c, struct cli_fail *f)
{
    const struct cli_cmd *cmd = c->cmd;
    char host[XG_REF_LEN];
    if (!cli_ref_by_uuid("host", cli_arg(cmd, "host-uuid"), host, f))
        return false;
    cli_req q;
    cli_req_begin(&q, &c->api, "host.call_plugin", true);
    xg_write_cstr(&q.w, host);
    xg_write_cstr(&q.w, cli_arg(cmd, "plugin"));
    xg_write_cstr(&q.w, cli_arg(cmd, "fn"));
    if (!write_args(c, &q.w, f)) {
        xg_out_reset(&q.body);
        return false;
    }
    yajl_val result = NULL;
    yajl_val doc = cli_req_send(&q, &c->api, &result, f);
    if (!doc)
        return false;
    cli_print_list_item(c, YAJL_IS_STRING(result) ? YAJL_GET_STRING(result) : "");
    yajl_tree_free(doc);
    return true;
}
