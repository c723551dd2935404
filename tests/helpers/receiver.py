"""A webhook receiver on a free 127.0.0.1 port: records each request, answers the statuses it is told to."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: str


@dataclass
class Receiver:
    url: str
    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answered in turn; 200 once they run out
    redirect_to: str | None = None
    delay: float = 0.0  # seconds before each answer (a slow receiver)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_status(self) -> int:
        with self.lock:
            return self.statuses.pop(0) if self.statuses else 200


@contextmanager
def receiver() -> Iterator[Receiver]:
    box: list[Receiver] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: the sender reuses its connections

        def do_POST(self) -> None:
            me = box[0]
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            with me.lock:
                me.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            if me.delay:
                time.sleep(me.delay)
            status = me.next_status()
            self.send_response(status)
            if 300 <= status < 400 and me.redirect_to:
                self.send_header("Location", me.redirect_to)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    box.append(Receiver(f"http://127.0.0.1:{server.server_address[1]}/hook"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield box[0]
    finally:
        server.shutdown()
        server.server_close()
