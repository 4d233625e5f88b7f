/* rpc_roundtrip.h: the round-trip property shared by fuzz_xmlrpc and
 * fuzz_jsonrpc. A request our decoder accepted is written back with our own
 * value writer (writer_xml.c / writer_json.c) as a request of the same
 * protocol, decoded again, and every value must come back as the writer
 * promises: strings byte for byte (when they were valid UTF-8 without bytes
 * the writer must drop), ints exactly (as decimal strings in XML-RPC, where
 * XAPI writes ints untyped), doubles to the writer's 16 digits, booleans,
 * arrays and structs member by member. A broken property aborts, which
 * libFuzzer reports as a crash with the input. */
#ifndef XG_FUZZ_RPC_ROUNDTRIP_H
#define XG_FUZZ_RPC_ROUNDTRIP_H

#include "rpc_in.h"

void fuzz_rpc_roundtrip(const struct xg_rpc_req *req);

#endif
