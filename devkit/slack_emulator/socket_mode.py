"""Socket Mode for the emulator: `apps.connections.open` and a minimal RFC 6455 WebSocket server.

Stdlib only, text frames only (what Slack's Socket Mode uses), bound to 127.0.0.1. The emulator pushes
envelopes (`send_envelope`) and reads back the acks the app sends (`wait_ack`).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import socket
import struct
import threading
import uuid
from typing import Any, BinaryIO

from devkit.slack_emulator.methods.base import Ctx, Params, SlackError, method

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, CLOSE, PING, PONG, CONTINUATION = 0x1, 0x8, 0x9, 0xA, 0x0


def encode_frame(opcode: int, payload: bytes) -> bytes:
    """A server frame: FIN set, never masked (RFC 6455 §5.1 forbids masking server frames)."""
    n = len(payload)
    if n <= 125:
        head = struct.pack("!BB", 0x80 | opcode, n)
    elif n <= 0xFFFF:
        head = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    return head + payload


def _read_exact(rfile: BinaryIO, n: int) -> bytes:
    if len(data := rfile.read(n) or b"") < n:
        raise ConnectionError("connection closed mid-frame")
    return data


def read_frame(rfile: BinaryIO) -> tuple[bool, int, bytes]:
    """One client frame as (fin, opcode, unmasked payload); clients must mask (RFC 6455 §5.3)."""
    b1, b2 = _read_exact(rfile, 2)
    n = b2 & 0x7F
    if n == 126:
        n = struct.unpack("!H", _read_exact(rfile, 2))[0]
    elif n == 127:
        n = struct.unpack("!Q", _read_exact(rfile, 8))[0]
    if not b2 & 0x80:
        raise ValueError("unmasked client frame")
    key, data = _read_exact(rfile, 4), _read_exact(rfile, n)
    # XOR with the key repeated over the payload, done on ints: fast enough for megabyte payloads.
    mask = int.from_bytes((key * (n // 4 + 1))[:n], "big")
    return bool(b1 & 0x80), b1 & 0x0F, (int.from_bytes(data, "big") ^ mask).to_bytes(n, "big")


class _Client:
    def __init__(self, sock: socket.socket) -> None:
        self.sock, self.send_lock = sock, threading.Lock()

    def send(self, opcode: int, payload: bytes) -> None:
        with self.send_lock:  # frames from several threads must not interleave
            self.sock.sendall(encode_frame(opcode, payload))

    def close(self, code: int = 1001) -> None:
        """Close frame first: the SDK then ends its receive loop at once instead of at its 3 s timeout."""
        with contextlib.suppress(OSError):  # the peer may be gone already
            self.send(CLOSE, struct.pack("!H", code))
        with contextlib.suppress(OSError):  # shutdown, unlike close, wakes our reader thread
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


class SocketModeServer:
    """The WebSocket side of Socket Mode. Envelopes go to the newest connection, as Slack picks one."""

    def __init__(self, app_id: str, host: str = "127.0.0.1") -> None:
        self.app_id, self.host = app_id, host
        self._listener = socket.create_server((host, 0))
        self._listener.settimeout(0.1)  # the accept loop polls so stop() returns promptly
        self.port: int = self._listener.getsockname()[1]
        self._cond = threading.Condition()
        self._tickets: set[str] = set()
        self._clients: list[_Client] = []
        self._retiring: list[_Client] = []  # told to reconnect; closed once a new connection is up
        self._acks: dict[str, dict[str, Any]] = {}
        self.received: list[dict[str, Any]] = []  # every text message a client sent, for assertions
        self.connected = threading.Event()  # set while at least one client has had its hello
        self._stopped = threading.Event()
        threading.Thread(target=self._accept_loop, name="socket-mode-accept", daemon=True).start()

    # the Slack side ------------------------------------------------------------------------------
    def issue_url(self) -> str:
        """A single-use URL, as apps.connections.open returns (Slack's tickets are single-use too)."""
        ticket = uuid.uuid4().hex
        with self._cond:
            self._tickets.add(ticket)
        return f"ws://{self.host}:{self.port}/link?ticket={ticket}&app_id={self.app_id}"

    def send_envelope(
        self, type: str, payload: dict[str, Any], accepts_response_payload: bool = True, **extra: Any
    ) -> str:
        """Push an envelope (`slash_commands`, `events_api`, `interactive`); `extra` adds e.g. retry_attempt."""
        envelope_id = str(uuid.uuid4())
        message = {
            "envelope_id": envelope_id,
            "type": type,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
            **extra,
        }
        self._newest().send(TEXT, json.dumps(message).encode())
        return envelope_id

    def wait_ack(self, envelope_id: str, timeout: float = 3.0) -> dict[str, Any]:
        """The app's ack message for `envelope_id` (`{"envelope_id": ..., "payload"?: ...}`)."""
        with self._cond:
            if not self._cond.wait_for(lambda: envelope_id in self._acks, timeout):
                raise TimeoutError(f"no ack for envelope {envelope_id} within {timeout}s")
            return self._acks[envelope_id]

    def disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask the app to reconnect, as Slack does every few hours; it calls apps.connections.open again."""
        message = {"type": "disconnect", "reason": reason, "debug_info": {"host": "emulator"}}
        client = self._newest()
        with self._cond:
            self._retiring.append(client)
        client.send(TEXT, json.dumps(message).encode())

    @property
    def clients(self) -> int:
        with self._cond:
            return len(self._clients)

    def stop(self) -> None:
        self._stopped.set()
        self._listener.close()
        with self._cond:
            clients, self._clients = list(self._clients), []
        for client in clients:
            client.close()
        self.connected.clear()

    def _newest(self) -> _Client:
        with self._cond:
            if not self._clients:
                raise RuntimeError("no Socket Mode client is connected")
            return self._clients[-1]

    # connections ----------------------------------------------------------------------------------
    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # listener closed by stop()
            threading.Thread(target=self._serve, args=(sock,), name="socket-mode-conn", daemon=True).start()

    def _handshake(self, sock: socket.socket, rfile: BinaryIO) -> bool:
        request_line = rfile.readline(8192).decode("latin-1")
        headers: dict[str, str] = {}
        while (line := rfile.readline(8192).decode("latin-1").strip()) != "":
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        target = request_line.split(" ")[1] if request_line.count(" ") >= 2 else ""
        ticket = target.partition("ticket=")[2].partition("&")[0]
        with self._cond:
            valid = ticket in self._tickets
            self._tickets.discard(ticket)
        key = headers.get("sec-websocket-key", "")
        if not (valid and key and headers.get("upgrade", "").lower() == "websocket"):
            sock.sendall(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return False
        accept = base64.b64encode(hashlib.sha1((key + _GUID).encode()).digest()).decode()  # noqa: S324 - RFC 6455
        sock.sendall(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {accept}\r\n\r\n".encode()
        )
        return True

    def _serve(self, sock: socket.socket) -> None:
        client = _Client(sock)
        rfile = sock.makefile("rb")
        try:
            if not self._handshake(sock, rfile):
                return
            with self._cond:
                self._clients.append(client)
                count = len(self._clients)
                retiring, self._retiring = self._retiring, []
            hello = {
                "type": "hello",
                "num_connections": count,
                "debug_info": {"host": "emulator", "approximate_connection_time": 18060},
                "connection_info": {"app_id": self.app_id},
            }
            client.send(TEXT, json.dumps(hello).encode())
            self.connected.set()
            for old in retiring:  # as Slack does once the app has its replacement connection
                old.close()
            self._receive(client, rfile)
        except (OSError, ConnectionError, ValueError):
            pass  # a dropped or misbehaving client just loses its connection
        finally:
            with self._cond:
                if client in self._clients:
                    self._clients.remove(client)
                if not self._clients:
                    self.connected.clear()
            rfile.close()
            client.close()

    def _receive(self, client: _Client, rfile: BinaryIO) -> None:
        parts: list[bytes] = []
        while True:
            fin, opcode, data = read_frame(rfile)
            if opcode == PING:
                client.send(PONG, data)  # the SDK pings right after the handshake and then every few seconds
            elif opcode == CLOSE:
                client.send(CLOSE, data[:2])  # echo the status code, then the connection is done
                return
            elif opcode in (TEXT, CONTINUATION):
                parts.append(data)
                if fin:
                    self._on_text(b"".join(parts).decode())
                    parts = []

    def _on_text(self, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            return
        with self._cond:
            self.received.append(message)
            if isinstance(message, dict) and message.get("envelope_id"):
                self._acks.setdefault(str(message["envelope_id"]), message)  # the first ack counts
                self._cond.notify_all()


@method("apps.connections.open")  # app-level scope connections:write; bot scopes don't apply
def apps_connections_open(ctx: Ctx, p: Params) -> dict[str, Any]:
    server = getattr(ctx.ws, "socket_mode", None)  # the SlackEmulator starts it on first use
    if not isinstance(server, SocketModeServer):
        raise SlackError("internal_error")
    return {"url": server.issue_url()}
