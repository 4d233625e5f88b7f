/* pool_ops.c: the pool messages of a pool of one. The gateway's pool has
 * exactly one host, its master, so what XAPI does across members has no
 * member to act on; each does what XAPI does on a pool of one. */
#include "gw.h"

bool handle_pool_sync_database(xg_call *c, xg_err *err)
{
    (void)c;
    /* every call already ends with its writes on disk; there is no other
     * host to send the database to (XAPI: Host.request_backup on each) */
    return xg_store_flush(err);
}

bool handle_pool_designate_new_master(xg_call *c, xapi_host *host, xg_err *err)
{
    (void)c; (void)err;
    /* the only host is the master already: XAPI's handover on the host
     * that is master does nothing */
    (void)host;
    return true;
}

bool handle_pool_recover_slaves(xg_call *c, xg_set *result_out, xg_err *err)
{
    (void)c; (void)err;
    result_out->n = result_out->cap = 0;      /* no member to recover */
    return true;
}
