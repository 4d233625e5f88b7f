/* cli_pool.c: xe's pool commands that make sense for the gateway's pool of
 * one (cli_operations.ml pool_*): each makes the API call xapi's CLI makes
 * and prints what it prints. The pool's generic commands (pool-list,
 * pool-param-*) come from cli_records.c. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

bool cli_pool_sync_database(struct cli_ctx *c, struct cli_fail *f)
{
    return cli_api_call(&c->api, NULL, 0, f, "pool.sync_database", "");
}

bool cli_pool_designate_new_master(struct cli_ctx *c, struct cli_fail *f)
{
    char host[XG_REF_LEN];
    return cli_ref_by_uuid("host", cli_arg(c->cmd, "host-uuid"), host, f) &&
           cli_api_call(&c->api, NULL, 0, f, "pool.designate_new_master", "s", host);
}

/* Prints the uuids of the hosts whose master address was reset. */
bool cli_pool_recover_slaves(struct cli_ctx *c, struct cli_fail *f)
{
    yajl_val hosts = NULL;
    yajl_val doc = cli_api_get(&c->api, &hosts, f, "pool.recover_slaves", "");
    if (!doc)
        return false;
    bool ok = true;
    for (size_t i = 0; ok && YAJL_IS_ARRAY(hosts) && i < hosts->u.array.len; i++) {
        char uuid[64];
        yajl_val h = hosts->u.array.values[i];
        ok = cli_api_call(&c->api, uuid, sizeof(uuid), f, "host.get_uuid", "s",
                          YAJL_IS_STRING(h) ? YAJL_GET_STRING(h) : "");
        if (ok)
            cli_print_list_item(c, uuid);
    }
    yajl_tree_free(doc);
    return ok;
}

/* This host is the master: without --force xapi's CLI only says so; with
 * it, it calls Pool.emergency_transition_to_master (a restart of the
 * agent as master), which the gateway does not serve. */
bool cli_pool_emergency_transition_to_master(struct cli_ctx *c, struct cli_fail *f)
{
    if (cli_flag(c->cmd, "force"))
        return cli_api_call(&c->api, NULL, 0, f, "pool.emergency_transition_to_master", "");
    cli_print_list_item(c, "Host agent is already master. Use '--force' to execute the "
                           "operation anyway.");
    return true;
}
