#!/usr/bin/env python3
# Test stand-in for XCP-ng's updater plugin (xcp-ng-xapi-plugins), installed in the gateway's
# --plugin-dir by the browser suite: check_update answers as an up-to-date host does (an empty
# JSON list of packages). It speaks XAPI's plugin ABI exactly as the real one does.
import json
import sys
import xmlrpc.client

params, fn = xmlrpc.client.loads(sys.argv[1])
if fn != "check_update":
    sys.stdout.write(xmlrpc.client.dumps(xmlrpc.client.Fault(1, "unknown function " + fn)))
else:
    sys.stdout.write(xmlrpc.client.dumps((json.dumps([]),), methodresponse=True))
