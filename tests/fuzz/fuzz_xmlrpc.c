/* fuzz_xmlrpc.c: libFuzzer target for the XML-RPC request decoder (server/xmlrpc_in.c).
 * Every accepted request must also survive the round trip through our
 * writer (rpc_roundtrip.h). */
#include <stdint.h>

#include "limits.h"
#include "rpc_in.h"
#include "rpc_roundtrip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static xg_arena *a;
    if (!a)
        a = xg_arena_new(XG_CALL_ARENA_BYTES);
    xg_arena_reset(a);
    struct xg_rpc_req r;
    char msg[256];
    if (xg_xmlrpc_parse(a, (const char *)data, size, &r, msg, sizeof(msg)))
        fuzz_rpc_roundtrip(&r);
    return 0;
}
