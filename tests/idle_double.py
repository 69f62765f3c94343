"""A protocol-level test double of a compositor offering `ext-idle-notify-v1`.

No Debian 12 compositor offers ext-idle-notify-v1 (sway 1.7 has only
org_kde_kwin_idle; mutter none), so micromove's client code for it is run
against this: a Wayland server written here, on the wire protocol itself
(a Unix socket; messages are [object id u32][size << 16 | opcode u32][args],
strings length-prefixed and padded to 4 bytes). It speaks only what an idle
client needs:

- `wl_display`: `sync` (answered with `wl_callback.done` + `delete_id`) and
  `get_registry`, which lists `wl_seat` (v1) and `ext_idle_notifier_v1`
  (version 1 or 2, as the test asks);
- `wl_registry.bind`;
- `ext_idle_notifier_v1.get_idle_notification` (v1: respects inhibitors)
  and `get_input_idle_notification` (v2: ignores them), each a timer: with
  no `input()` for its timeout it sends `idled`, and the next `input()`
  sends `resumed`, as the protocol describes.

`input()` stands for the person's input; `inhibit(True)` for an application
inhibiting idle. `close()` drops every client (the compositor going away).
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import struct
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path


def _string(s: str) -> bytes:
    raw = s.encode() + b"\0"
    return struct.pack("<I", len(raw)) + raw + b"\0" * (-len(raw) % 4)


@dataclass
class _Timer:
    oid: int
    timeout_s: float
    input_only: bool
    last_input: float
    idle: bool = False


@dataclass
class _Client:
    sock: socket.socket
    buf: bytes = b""
    objects: dict[int, str] = field(default_factory=lambda: {1: "wl_display"})
    timers: list[_Timer] = field(default_factory=list)


class IdleDouble:
    SEAT, NOTIFIER = 1, 2  # global names

    def __init__(self, version: int = 2) -> None:
        self.version = version
        self.dir = Path(tempfile.mkdtemp(prefix="mm-idle-double-"))
        self.path = str(self.dir / "wayland-double")
        self._srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._srv.bind(self.path)
        self._srv.listen(4)
        self._lock = threading.Lock()
        self._clients: list[_Client] = []
        self._inhibited = False
        self._wake_r, self._wake_w = os.pipe()
        self._stop = False
        self.requests: list[str] = []  # what clients asked for, in order (tests)
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    # ------------------------------------------------------------ the test's side
    def input(self) -> None:
        now = time.monotonic()
        with self._lock:
            for c in self._clients:
                for t in c.timers:
                    t.last_input = now
                    if t.idle:
                        t.idle = False
                        self._send(c, t.oid, 1)  # resumed
        self._poke()

    def inhibit(self, on: bool) -> None:
        with self._lock:
            self._inhibited = on
        self._poke()

    def timers(self) -> list[tuple[float, bool]]:
        with self._lock:
            return [(t.timeout_s, t.input_only) for c in self._clients for t in c.timers]

    def close(self) -> None:
        self._stop = True
        self._poke()
        self._thread.join(5)
        with self._lock:
            for c in self._clients:
                with contextlib.suppress(OSError):
                    c.sock.close()
            self._clients = []
        with contextlib.suppress(OSError):
            self._srv.close()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        with contextlib.suppress(OSError):
            self.dir.rmdir()

    def _poke(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")

    # ------------------------------------------------------------ wire
    def _send(self, c: _Client, oid: int, opcode: int, payload: bytes = b"") -> None:
        msg = struct.pack("<II", oid, ((8 + len(payload)) << 16) | opcode) + payload
        with contextlib.suppress(OSError):
            c.sock.sendall(msg)

    def _request(self, c: _Client, oid: int, opcode: int, args: bytes) -> None:
        iface = c.objects.get(oid)
        if iface == "wl_display":
            (new,) = struct.unpack_from("<I", args)
            if opcode == 0:  # sync -> callback.done, delete_id
                self._send(c, new, 0, struct.pack("<I", 1))
                self._send(c, 1, 1, struct.pack("<I", new))
            elif opcode == 1:  # get_registry
                c.objects[new] = "wl_registry"
                self._send(c, new, 0, struct.pack("<I", self.SEAT) + _string("wl_seat") + struct.pack("<I", 1))
                self._send(c, new, 0, struct.pack("<I", self.NOTIFIER) + _string("ext_idle_notifier_v1")
                           + struct.pack("<I", self.version))  # fmt: skip
        elif iface == "wl_registry" and opcode == 0:  # bind(name, interface, version, new_id)
            (name, n) = struct.unpack_from("<II", args)
            interface = args[8 : 8 + n - 1].decode()
            off = 8 + n + (-n % 4)
            version, new = struct.unpack_from("<II", args, off)
            c.objects[new] = interface
            self.requests.append(f"bind {interface} v{version}")
        elif iface == "ext_idle_notifier_v1" and opcode in (1, 2):
            new, timeout_ms, _seat = struct.unpack_from("<III", args)
            c.objects[new] = "ext_idle_notification_v1"
            c.timers.append(_Timer(new, timeout_ms / 1000.0, opcode == 2, time.monotonic()))
            self.requests.append("get_input_idle_notification" if opcode == 2 else "get_idle_notification")

    def _read(self, c: _Client) -> bool:
        try:
            data = c.sock.recv(4096)
        except OSError:
            return False
        if not data:
            return False
        c.buf += data
        while len(c.buf) >= 8:
            oid, word = struct.unpack_from("<II", c.buf)
            size = word >> 16
            if len(c.buf) < size:
                break
            self._request(c, oid, word & 0xFFFF, c.buf[8:size])
            c.buf = c.buf[size:]
        return True

    def _loop(self) -> None:
        while not self._stop:
            with self._lock:
                now = time.monotonic()
                timeout = None
                for c in self._clients:
                    for t in c.timers:
                        if t.idle or (self._inhibited and not t.input_only):
                            continue
                        due = t.last_input + t.timeout_s
                        if due <= now:
                            t.idle = True
                            self._send(c, t.oid, 0)  # idled
                        else:
                            timeout = due - now if timeout is None else min(timeout, due - now)
                socks = [c.sock for c in self._clients]
            ready, _, _ = select.select([self._srv, self._wake_r, *socks], [], [], timeout)
            if self._stop:
                return
            if self._wake_r in ready:
                with contextlib.suppress(OSError):
                    os.read(self._wake_r, 4096)
            if self._srv in ready:
                s, _ = self._srv.accept()
                with self._lock:
                    self._clients.append(_Client(s))
            with self._lock:
                for c in list(self._clients):
                    if c.sock in ready and not self._read(c):
                        c.sock.close()
                        self._clients.remove(c)
