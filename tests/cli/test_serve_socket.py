"""`bulkbill serve --fd`: the inherited socket serves TCP as TCP (no Nagle delay on small responses)."""

from __future__ import annotations

import asyncio
import os
import socket

from bulkbill.cli.serve import inherited_socket
from bulkbill.devtools.listener import listening_socket


def _accepted_nodelay(listener: socket.socket) -> int:
    """TCP_NODELAY on the connection asyncio accepts on `listener` (what uvicorn serves it with)."""

    async def main() -> int:
        loop = asyncio.get_running_loop()
        accepted: asyncio.Future[int] = loop.create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                sock = transport.get_extra_info("socket")
                accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        server = await loop.create_server(Probe, sock=listener)
        port = listener.getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            return await asyncio.wait_for(accepted, 10)
        finally:
            writer.close()
            server.close()

    return asyncio.run(main())


def test_inherited_socket_keeps_its_address_family() -> None:
    with listening_socket() as sock:
        inherited = inherited_socket(os.dup(sock.fileno()))
        with inherited:
            assert inherited.family == socket.AF_INET
            assert inherited.getsockname() == sock.getsockname()


def test_connections_on_the_inherited_socket_have_nagle_off() -> None:
    with listening_socket() as sock:
        assert _accepted_nodelay(inherited_socket(os.dup(sock.fileno()))) != 0


def test_a_socket_wrapped_as_unix_would_leave_nagle_on() -> None:
    # Why inherited_socket exists: uvicorn's fd= wraps the descriptor as AF_UNIX, and asyncio then
    # leaves TCP_NODELAY off on every accepted connection (40 ms per small response on loopback).
    with listening_socket() as sock:
        wrapped = socket.fromfd(sock.fileno(), socket.AF_UNIX, socket.SOCK_STREAM)
        assert _accepted_nodelay(wrapped) == 0
