"""A webhook receiver fast enough not to be what a delivery benchmark measures: raw asyncio, its own process.

It answers every POST `200` with an empty body at once (HTTP/1.1 keep-alive), and counts the requests and
the distinct event ids it got in shared memory the benchmark reads. It parses only what it needs: the
`Content-Length` of each request and the `"id"` at the head of its JSON body (bulkbill writes an event's
`id` first); no JSON decoding, no per-request thread.

    with FastReceiver.start() as receiver:
        ... receiver.url, receiver.distinct(), receiver.requests()
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import re
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.sharedctypes import Synchronized
from typing import Any

_ID = re.compile(rb'"id"\s*:\s*"([^"]+)"')
_LENGTH = re.compile(rb"(?i)\r\ncontent-length:\s*(\d+)\r\n")
_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


class _Connection(asyncio.Protocol):
    """One keep-alive connection: splits the byte stream into requests and answers each one."""

    def __init__(self, seen: set[bytes], requests: Synchronized[int], distinct: Synchronized[int]) -> None:
        self.seen, self.requests_count, self.distinct_count = seen, requests, distinct
        self.buffer = bytearray()
        self.transport: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # uvloop's is no asyncio.Transport subclass

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        answered, new = 0, 0
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            found_length = _LENGTH.search(self.buffer, 0, end + 2)
            length = int(found_length.group(1)) if found_length is not None else 0
            if len(self.buffer) < end + 4 + length:
                break
            body = bytes(self.buffer[end + 4 : end + 4 + length])
            del self.buffer[: end + 4 + length]
            found = _ID.search(body, 0, 200) or _ID.search(body)
            if found is not None and found.group(1) not in self.seen:
                self.seen.add(found.group(1))
                new += 1
            answered += 1
        if answered:
            self.transport.write(_RESPONSE * answered)
            with self.requests_count.get_lock():
                self.requests_count.value += answered
            if new:
                with self.distinct_count.get_lock():
                    self.distinct_count.value += new


def _serve(sock: socket.socket, requests: Synchronized[int], distinct: Synchronized[int]) -> None:
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    seen: set[bytes] = set()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: _Connection(seen, requests, distinct), sock=sock, backlog=512)
        await server.serve_forever()

    asyncio.run(main())


def _wait_until_answering(port: int) -> None:
    """Return once the receiver's process answers (its import takes a moment): one request, not counted."""
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as probe:
                probe.sendall(b"POST /ready HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
                if probe.recv(64).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.05)


@dataclass
class FastReceiver:
    """The receiver's process, its URL and its two counters."""

    process: Any
    url: str
    _requests: Synchronized[int]
    _distinct: Synchronized[int]

    @classmethod
    @contextlib.contextmanager
    def start(cls) -> Iterator[FastReceiver]:
        context = multiprocessing.get_context("spawn")
        requests: Synchronized[int] = context.Value("q", 0)
        distinct: Synchronized[int] = context.Value("q", 0)
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(512)
        process = context.Process(target=_serve, args=(sock, requests, distinct), daemon=True, name="fast-receiver")
        process.start()
        port = sock.getsockname()[1]
        receiver = cls(process, f"http://127.0.0.1:{port}/hook", requests, distinct)
        sock.close()
        _wait_until_answering(port)
        try:
            yield receiver
        finally:
            process.terminate()
            process.join(timeout=10)

    def requests(self) -> int:
        return int(self._requests.value)

    def distinct(self) -> int:
        return int(self._distinct.value)
