"""A minimal XenAPI binding for the Ansible tests (our own code).

XAPI's Python binding (XenAPI.py) is not packaged in Debian, and community.general's xenserver_*
modules `import XenAPI`. This module offers the part of its interface those modules and ordinary
scripts use, with the same behaviour:

- Session(uri, transport=None, encoding=None, verbose=False, allow_none=True, ignore_ssl=False):
  an xmlrpc.client.ServerProxy; ignore_ssl skips certificate checks.
- session.xenapi.<class>.<message>(args...) calls "<class>.<message>" with the session reference
  prepended, unwraps XAPI's {"Status", "Value"} envelope and raises Failure(ErrorDescription)
  on an error; a SESSION_INVALID answer logs in again with the last credentials and retries.
- session.xenapi.login_with_password(...) / session.login_with_password(...) (any "login*" or
  "slave_local*" message) log in without a session argument and remember the session;
  session.logout() / session.xenapi.logout() / session.xenapi.session.logout() end it.
- session.xenapi.Async.<class>.<message> for tasks, session.handle / session._session for the
  session reference, session.xenapi_request(name, params).
- xapi_local(): a Session over the host's local Unix socket (/var/lib/xcp/xapi, or the path in
  $XAPI_LOCAL_SOCKET so that tests can point it at a gateway's --local-socket).
- Failure(details) with .details (the ErrorDescription list).
"""

import http.client
import os
import socket
import ssl
import xmlrpc.client

API_VERSION_1_1 = "1.1"
API_VERSION_1_2 = "1.2"

LOCAL_SOCKET = "/var/lib/xcp/xapi"


class Failure(Exception):
    """An XAPI error: details is the ErrorDescription list (code first, then parameters)."""

    def __init__(self, details):
        super().__init__(details)
        self.details = list(details)

    def __str__(self):
        return "XAPI failure: %s" % (self.details,)

    def _details_map(self):
        return {str(i): d for i, d in enumerate(self.details)}


class _RetryAfterLogin(Exception):
    """Internal: the server said SESSION_INVALID."""


def _unwrap(result):
    """XAPI's envelope → the value, or Failure / Fault as XenAPI.py raises them."""
    if not isinstance(result, dict) or "Status" not in result:
        raise xmlrpc.client.Fault(500, "Missing Status in response from server: %r" % (result,))
    if result["Status"] == "Success":
        if "Value" not in result:
            raise xmlrpc.client.Fault(500, "Missing Value in response from server")
        return result["Value"]
    desc = result.get("ErrorDescription")
    if not desc:
        raise xmlrpc.client.Fault(500, "Missing ErrorDescription in response from server")
    if desc[0] == "SESSION_INVALID":
        raise _RetryAfterLogin()
    raise Failure(desc)


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost")
        self._path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self._path)


class UDSTransport(xmlrpc.client.Transport):
    """XML-RPC over a Unix socket (HTTP/1.1 as over TCP)."""

    def __init__(self, path=None, use_datetime=False):
        super().__init__(use_datetime=use_datetime)
        self._path = path or os.environ.get("XAPI_LOCAL_SOCKET") or LOCAL_SOCKET

    def make_connection(self, host):
        return _UnixConnection(self._path)


class _Call:
    """session.xenapi.a.b.c → a callable that sends "a.b.c"."""

    def __init__(self, send, name):
        self._send = send
        self._name = name

    def __getattr__(self, part):
        if part.startswith("__"):
            raise AttributeError(part)
        return _Call(self._send, part if self._name is None else self._name + "." + part)

    def __call__(self, *args):
        return self._send(self._name, args)

    def __repr__(self):
        return "<XenAPI call %s>" % self._name


class Session(xmlrpc.client.ServerProxy):
    def __init__(self, uri, transport=None, encoding=None, verbose=False, allow_none=True,
                 ignore_ssl=False):
        context = None
        if ignore_ssl:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        super().__init__(uri, transport, encoding, verbose, allow_none, context=context)
        self._session = None
        self._login_method = None
        self._login_params = None
        self.API_version = API_VERSION_1_1

    # ------------------------------------------------------------------ calls
    def _raw(self, name, args):
        return xmlrpc.client.ServerProxy.__getattr__(self, name)(*args)

    def _login(self, method, params):
        try:
            self._session = _unwrap(self._raw("session." + method, params))
        except _RetryAfterLogin:
            raise xmlrpc.client.Fault(500, "Received SESSION_INVALID when logging in")
        self._login_method, self._login_params = method, params
        self.API_version = self._api_version()
        return self._session

    def _logout(self):
        try:
            if self._session is None:
                return None
            local = (self._login_method or "").startswith("slave_local")
            return _unwrap(self._raw("session.local_logout" if local else "session.logout",
                                     (self._session,)))
        finally:
            self._session = None
            self._login_method = self._login_params = None

    def _api_version(self):
        pool = self.xenapi.pool.get_all()[0]
        host = self.xenapi.pool.get_master(pool)
        return "%s.%s" % (self.xenapi.host.get_API_version_major(host),
                          self.xenapi.host.get_API_version_minor(host))

    def xenapi_request(self, name, params):
        short = name[len("session."):] if name.startswith("session.") else name
        if short.startswith("login") or short.startswith("slave_local"):
            return self._login(short, params)
        if short == "logout" or short == "local_logout":
            return self._logout()
        for attempt in (1, 2):
            try:
                return _unwrap(self._raw(name, (self._session,) + tuple(params)))
            except _RetryAfterLogin:
                if attempt == 2 or self._login_method is None:
                    raise Failure(["SESSION_INVALID", self._session or ""])
                self._login(self._login_method, self._login_params)
        return None  # not reached

    def __getattr__(self, name):
        if name == "handle":
            return self._session
        if name == "xenapi":
            return _Call(self.xenapi_request, None)
        if name.startswith("login") or name.startswith("slave_local"):
            return lambda *params: self._login(name, params)
        if name == "logout":
            return _Call(self.xenapi_request, "logout")
        return xmlrpc.client.ServerProxy.__getattr__(self, name)


def xapi_local():
    """A Session over the local Unix socket, as on-host tools use it."""
    return Session("http://_var_lib_xcp_xapi/", transport=UDSTransport())
