"""A raw socket server standing in for slack.com where the emulator is too polite (tests of the transport)."""

from __future__ import annotations

import json
import socket
import threading
import time

OK = json.dumps({"ok": True, "channel": "C1", "ts": "1.000100"}).encode()


class RawServer:
    """Answers `ok` to each request on a connection, then behaves as `mode` says."""

    def __init__(self, mode: str):
        self.mode = mode  # "keep-alive" | "close-when-idle" | "never-answer"
        self.requests: list[bytes] = []
        self.connections = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while True:
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                head, _, data = data.partition(b"\r\n\r\n")
                lines = head.split(b"\r\n")
                length = int(next(h.split(b":")[1] for h in lines if h.lower().startswith(b"content-length")))
                while len(data) < length:
                    data += conn.recv(65536)
                body, data = data[:length], data[length:]
                self.requests.append(body)
                if self.mode == "never-answer":
                    self.stopped.wait(30)
                    return
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
                    + f"Content-Length: {len(OK)}\r\n\r\n".encode()
                    + OK
                )
                if self.mode == "close-when-idle":
                    time.sleep(0.2)  # idle for a moment, then gone without a word (no Connection: close)
                    return

    def close(self) -> None:
        self.stopped.set()
        self.sock.close()
