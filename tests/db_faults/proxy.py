"""A loopback TCP proxy in front of a real database that can hang (stop passing bytes, connections
stay open) or refuse (new connections refused, open ones reset), and then heal.

Threads, not asyncio: each accepted connection gets one pump thread per direction, so a test can
flip the mode from its own thread at any moment.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading


class FaultProxy:
    PASS, HANG, REFUSE = "pass", "hang", "refuse"

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.mode = self.PASS
        self._flowing = threading.Event()
        self._flowing.set()
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._listener: socket.socket | None = None
        self.port = 0
        self._open_listener()

    # modes --------------------------------------------------------------------------------------
    def hang(self) -> None:
        """Connections stay open and new ones are accepted, but no byte goes either way."""
        with self._lock:
            self.mode = self.HANG
            self._flowing.clear()

    def refuse(self) -> None:
        """The database is down: new connections are refused, open ones reset."""
        with self._lock:
            self.mode = self.REFUSE
            self._flowing.clear()
            if self._listener is not None:
                self._listener.close()
                self._listener = None
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for sock in pair:
                _reset(sock)

    def heal(self) -> None:
        with self._lock:
            self.mode = self.PASS
            if self._listener is None:
                self._open_listener()
            self._flowing.set()

    def close(self) -> None:
        self._closed.set()
        self._flowing.set()
        with self._lock:
            if self._listener is not None:
                self._listener.close()
                self._listener = None
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for sock in pair:
                with contextlib.suppress(OSError):
                    sock.close()

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def url_for(self, url: str) -> str:
        """`url` (postgresql+psycopg://user@host:port/db) pointed at this proxy."""
        scheme, _, rest = url.partition("://")
        creds, _, hostpart = rest.rpartition("@")
        _, _, db = hostpart.partition("/")
        return f"{scheme}://{creds + '@' if creds else ''}127.0.0.1:{self.port}/{db}"

    # plumbing -----------------------------------------------------------------------------------
    def _open_listener(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))  # the same port again after a refusal
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True, name="proxy-accept").start()

    def _accept(self, listener: socket.socket) -> None:
        while not self._closed.is_set():
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed by refuse() or close()
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                _reset(client)
                continue
            server.settimeout(None)
            with self._lock:
                self._pairs.append((client, server))
            for src, dst in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True, name="proxy-pump").start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while not self._closed.is_set():
                # While hung, nothing is read: the bytes wait in the kernel, as behind a frozen peer.
                if not self._flowing.wait(0.1):
                    continue
                readable, _, _ = select.select([src], [], [], 0.1)
                if not readable or not self._flowing.is_set():
                    continue
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except (OSError, ValueError):  # ValueError: the socket was closed under us (refuse/close)
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    sock.close()


def _reset(sock: socket.socket) -> None:
    """Close with RST rather than FIN, as a dead database host's kernel would answer."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()
