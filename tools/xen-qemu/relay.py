#!/usr/bin/env python3
"""relay.py LISTEN_PORT TARGET_PORT: a TCP relay on host loopback in front of a QEMU
user-mode (slirp) port forward.

Why: QEMU's slirp listens for a hostfwd with a backlog of 1. A burst of connections (a
browser opens six at once) overflows it; the kernel then answers with SYN cookies or drops
the handshake's last ACK, and a connection whose request state expired meanwhile is never
accepted: the client has sent its request and waits for good (a page load stalled 30 s in
the real-Xen stage). This relay accepts with a normal backlog and opens the connections to
QEMU one at a time: the next one starts once the previous has an answer from dom0 (so slirp
accepted it), or after OPEN_WAIT seconds. Bytes pass unchanged in both directions, and a
half-close is passed on as one (XO's uploads close their sending side, then read).

Prints "ready" on stdout once listening. Runs until killed or until its parent (boot.sh)
is gone.
"""
import asyncio
import os
import sys

OPEN_WAIT = 2.0       # a connection whose client speaks last does not hold the others longer
CHUNK = 256 * 1024


async def pump(reader, writer, first=None):
    try:
        while True:
            data = await reader.read(CHUNK)
            if not data:
                break
            if first is not None and not first.is_set():
                first.set()
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()          # the half-close goes on
    except (ConnectionError, OSError):
        writer.transport.abort()
    finally:
        if first is not None:
            first.set()


async def serve(client_r, client_w, target_port, opening):
    async with opening:
        try:
            target_r, target_w = await asyncio.open_connection("127.0.0.1", target_port)
        except OSError:
            client_w.transport.abort()
            return
        answered = asyncio.Event()
        up = asyncio.ensure_future(pump(client_r, target_w))
        down = asyncio.ensure_future(pump(target_r, client_w, answered))
        try:
            await asyncio.wait_for(answered.wait(), OPEN_WAIT)
        except asyncio.TimeoutError:
            pass
    await asyncio.gather(up, down, return_exceptions=True)
    for w in (client_w, target_w):
        w.close()


async def main(listen_port, target_port):
    opening = asyncio.Lock()
    server = await asyncio.start_server(
        lambda r, w: serve(r, w, target_port, opening), "127.0.0.1", listen_port, backlog=512,
        reuse_address=True)
    print("ready", flush=True)
    parent = os.getppid()
    async with server:
        while os.getppid() == parent:  # boot.sh SIGKILLed: do not outlive it
            await asyncio.sleep(2)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
