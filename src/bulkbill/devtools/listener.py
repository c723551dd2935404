"""A port no other process can take: a listening socket the harness binds and `bulkbill serve --fd` inherits.

Binding port 0, closing the socket, then telling a server the number is a race: between the close
and the server's own bind any process may take the port (another test's server, a database). A
socket bound once and inherited by the server is never free; a harness that keeps its own copy
keeps the port across restarts of the server too (connections made meanwhile wait in the queue).
"""

from __future__ import annotations

import socket
import subprocess
import sys
from typing import Any


def listening_socket(host: str = "127.0.0.1", backlog: int = 512) -> socket.socket:
    """A TCP socket bound to a port the kernel picks, already listening."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((host, 0))
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    return sock


def spawn_serve(sock: socket.socket, *args: str, **popen: Any) -> subprocess.Popen[Any]:
    """`python -m bulkbill serve` as a child process serving on `sock` (which it inherits), plus `args`;
    `popen` goes to subprocess.Popen (env, stdout, text, ...)."""
    command = [sys.executable, "-m", "bulkbill", "serve", "--fd", str(sock.fileno()), *args]
    return subprocess.Popen(command, pass_fds=(sock.fileno(),), **popen)
