"""A raw HTTP/1.1 POST that reads the server's early answer: for bodies a server refuses unread."""

from __future__ import annotations

import contextlib
import select
import socket

EARLY_ANSWER_SECONDS = 1.0


def raw_post(port: int, path: str, headers: dict[str, str], body: bytes) -> int:
    """The status the server answered with.

    The headers go first: a server that judges the body by its Content-Length answers before any
    of it is sent. Only then is the body sent, as much as the server takes. Sending first would be
    a race: a server that closes with the body unread resets the connection (RST), and the reset
    can destroy its answer before the client reads it."""
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.encode())
        answered, _, _ = select.select([sock], [], [], EARLY_ANSWER_SECONDS)
        if not answered:
            with contextlib.suppress(OSError):  # the server answered and closed without reading it all
                sock.sendall(body)
        reply = b""
        while b"\r\n" not in reply:
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
    return int(reply.split(b" ", 2)[1])
