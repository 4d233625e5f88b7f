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
#include "writer.h"

void fuzz_rpc_roundtrip(const struct xg_rpc_req *req);

/* The pieces, for targets whose input holds XML-RPC values (fuzz_xva's
 * ova.xml). */

/* The writers track nesting in one 64-bit word and stop counting at 62
 * levels; XAPI never nests its answers that deep, so deeper values are
 * outside the property. */
#define FUZZ_WRITER_DEPTH 60
uint32_t fuzz_value_depth(const xg_value *v);
/* Bytes the writers carry unchanged (xml: the XML writer's rules). */
bool fuzz_carried(const char *s, size_t n, bool xml);
/* v with our writer; ints as its int64 (an untyped decimal string in XML,
 * as XAPI writes int fields) or, with i4, those that fit as <i4>. */
void fuzz_write_value(xg_writer *w, const xg_value *v, bool i4);
/* Aborts, printing doc, unless b is a as the writer promises it back. */
void fuzz_value_compare(const xg_value *a, const xg_value *b, bool xml, bool i4,
                        const char *doc);

#endif
