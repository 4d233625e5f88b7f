#!/usr/bin/env python3
"""The naive peer: Python stdlib SimpleXMLRPCServer + ThreadingMixIn over TLS (HTTP/1.1 keep-alive),
as in spec perf-and-hardening.md §4.6. Serves session.get_this_host (returns the host ref) and
VM.get_record (returns a canned record loaded from a JSON file), XAPI-enveloped.
    pyxmlrpc_tls.py PORT CERTFILE KEYFILE RECORD_JSON HOST_REF
Stops by itself after --max-seconds (default 1800) so it can never outlive a benchmark."""
import json
import socketserver
import ssl
import sys
import threading
import xmlrpc.server


class Handler(xmlrpc.server.SimpleXMLRPCRequestHandler):
    protocol_version = "HTTP/1.1"
    rpc_paths = ()                 # any path

    def log_message(self, *a):
        pass


class Server(socketserver.ThreadingMixIn, xmlrpc.server.SimpleXMLRPCServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024


def main():
    port, cert, key, rec_path, host_ref = sys.argv[1:6]
    max_secs = float(sys.argv[6]) if len(sys.argv) > 6 else 1800.0
    with open(rec_path) as f:
        record = json.load(f)
    srv = Server(("127.0.0.1", int(port)), requestHandler=Handler, logRequests=False,
                 allow_none=True)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers("ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:"
                    "ECDHE-RSA-CHACHA20-POLY1305")
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.register_function(lambda s, h=None: {"Status": "Success", "Value": host_ref},
                          "session.get_this_host")
    srv.register_function(lambda s, r: {"Status": "Success", "Value": record}, "VM.get_record")
    threading.Timer(max_secs, srv.shutdown).start()
    print("listening", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
