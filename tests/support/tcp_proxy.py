"""A TCP forwarder for tests: a port that answers only once the test opens it, then relays to a real server."""

from __future__ import annotations

import contextlib
import socket
import threading


def reserve_port() -> socket.socket:
    """A bound, not listening socket: its port refuses connections until a TcpProxy listens on it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


class TcpProxy:
    """Listens on `port` (0: any free one) and relays every connection to `target`; `close()` stops it."""

    def __init__(self, target: tuple[str, int], port: int = 0, reserved: socket.socket | None = None):
        self.target = target
        # `reserved`: a socket the test bound earlier and did not listen on (connections to it are
        # refused), so no other process can take the port between "closed" and "open".
        if reserved is not None:
            reserved.listen()
            self._listener = reserved
        else:
            self._listener = socket.create_server(("127.0.0.1", port))
        self.port = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = [self._listener]
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()
