"""A minimal X11 client connection for the XInput2 backend (standard library only).

Just what xi2.py needs before it only reads events: connect to the local X
server's Unix socket (the abstract one Xorg and Xvfb listen on, then the
path), authenticate with the MIT-MAGIC-COOKIE-1 entry of $XAUTHORITY (or
~/.Xauthority) when there is one, and make a few requests whose replies are
read here: QueryExtension, XIQueryVersion, XISelectEvents (checked with a
round trip). No python-xlib: it loads some forty modules (about 3.5 MB of the
daemon's memory) for what is a few hundred bytes of protocol.

A display on another host (DISPLAY=host:N) would need TCP: not here (the
daemon opens Unix sockets only); the X11 backend through pynput covers it.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import struct
import sys
import time

TIMEOUT_S = 5.0
_ORDER = "<" if sys.byteorder == "little" else ">"
_ORDER_BYTE = b"l" if sys.byteorder == "little" else b"B"


class XError(Exception):
    """The X server cannot be used; the message says why."""


def _parse(display: str) -> tuple[str, str]:
    """(host, display number) of DISPLAY = [host]:N[.S]."""
    host, sep, rest = display.rpartition(":")
    num = rest.split(".", 1)[0]
    if not sep or not num.isdigit():
        raise XError(f"DISPLAY={display!r} is not a display name")
    return host, num


def _cookie(num: str) -> tuple[bytes, bytes]:
    """(auth name, data) for display `num` from the Xauthority file, or empty ones."""
    path = os.environ.get("XAUTHORITY") or os.path.join(os.path.expanduser("~"), ".Xauthority")
    try:
        with open(path, "rb") as f:
            data = f.read(1 << 20)
    except OSError:
        return b"", b""
    host = socket.gethostname().encode()
    i, best = 0, (b"", b"")
    try:
        while i + 2 <= len(data):
            family = struct.unpack_from(">H", data, i)[0]
            i += 2
            fields = []
            for _ in range(4):
                n = struct.unpack_from(">H", data, i)[0]
                fields.append(data[i + 2 : i + 2 + n])
                i += 2 + n
            addr, number, name, cookie = fields
            if name != b"MIT-MAGIC-COOKIE-1" or number not in (num.encode(), b""):
                continue
            if family == 0xFFFF or (family == 256 and addr == host):  # FamilyWild, FamilyLocal
                return name, cookie
            if family == 256 and not best[0]:
                best = (name, cookie)
    except struct.error:
        pass  # a damaged file: connect without
    return best


def _pad(n: int) -> int:
    return (4 - n % 4) % 4


class XConnection:
    """One connection: `setup()` answers, then requests with their replies."""

    def __init__(self, sock: socket.socket, root: int) -> None:
        self.sock = sock
        self.root = root
        self._seq = 0

    # ------------------------------------------------------------ low level
    def _recv_exact(self, n: int) -> bytes:
        out = b""
        deadline = time.monotonic() + TIMEOUT_S
        while len(out) < n:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                raise XError("the X server did not answer")
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise XError("the X server closed the connection")
            out += chunk
        return out

    def request(self, body: bytes) -> int:
        """Send one request (its length field already set); its sequence number."""
        self.sock.sendall(body)
        self._seq = (self._seq + 1) & 0xFFFF
        return self._seq

    def reply(self, seq: int) -> bytes:
        """The reply to request `seq` (events before it are skipped: none are selected yet)."""
        while True:
            head = self._recv_exact(32)
            kind = head[0] & 0x7F
            got = struct.unpack_from(_ORDER + "H", head, 2)[0]
            if kind == 0:
                raise XError(f"X error {head[1]} (request {head[10]}.{struct.unpack_from(_ORDER + 'H', head, 8)[0]})")
            if kind == 1:
                extra = struct.unpack_from(_ORDER + "I", head, 4)[0] * 4
                data = head + (self._recv_exact(extra) if extra else b"")
                if got == seq:
                    return data
                continue
            if kind == 35:  # a generic event: skip its body
                extra = struct.unpack_from(_ORDER + "I", head, 4)[0] * 4
                if extra:
                    self._recv_exact(extra)

    # ------------------------------------------------------------ requests
    def query_extension(self, name: bytes) -> int | None:
        """The major opcode of extension `name`, or None when the server lacks it."""
        body = struct.pack(_ORDER + "BxHHxx", 98, 2 + (len(name) + _pad(len(name))) // 4, len(name))
        r = self.reply(self.request(body + name + b"\0" * _pad(len(name))))
        return r[9] if r[8] else None

    def intern_atom(self, name: bytes) -> int:
        """The atom named `name`, or 0 when the server has none of that name (only-if-exists)."""
        n = len(name)
        body = struct.pack(_ORDER + "BBHHxx", 16, 1, 2 + (n + _pad(n)) // 4, n)
        r = self.reply(self.request(body + name + b"\0" * _pad(n)))
        return int(struct.unpack_from(_ORDER + "I", r, 8)[0])

    def property32(self, window: int, atom: int, count: int = 64) -> list[int]:
        """The first `count` 32-bit values of a window property (empty when unset)."""
        body = struct.pack(_ORDER + "BBHIIIII", 20, 0, 6, window, atom, 0, 0, count)
        r = self.reply(self.request(body))
        fmt, n = r[1], struct.unpack_from(_ORDER + "I", r, 16)[0]
        if fmt != 32 or not n:
            return []
        return list(struct.unpack_from(_ORDER + f"{n}I", r, 32))

    def sync(self) -> None:
        """A round trip (GetInputFocus): every earlier request has been handled."""
        self.reply(self.request(struct.pack(_ORDER + "BxH", 43, 1)))

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


def connect(display: str) -> XConnection:
    """A set-up connection to the local X server named by DISPLAY; XError says why not."""
    host, num = _parse(display)
    if host not in ("", "unix"):
        raise XError(f"DISPLAY={display} names another host; XInput2 is read over a local socket only")
    path = f"/tmp/.X11-unix/X{num}"
    addrs = (["\0" + path] if sys.platform.startswith("linux") else []) + [path]
    sock: socket.socket | None = None
    last = "no X server there"
    for addr in addrs:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(TIMEOUT_S)
        try:
            s.connect(addr)
        except OSError as exc:
            s.close()
            last = exc.strerror or str(exc)
            continue
        sock = s
        break
    if sock is None:
        raise XError(f"cannot connect to the X server of DISPLAY={display}: {last}")
    try:
        name, data = _cookie(num)
        sock.sendall(
            struct.pack(_ORDER + "cxHHHHxx", _ORDER_BYTE, 11, 0, len(name), len(data))
            + name + b"\0" * _pad(len(name)) + data + b"\0" * _pad(len(data))
        )  # fmt: skip
        conn = XConnection(sock, 0)
        head = conn._recv_exact(8)
        extra = conn._recv_exact(struct.unpack_from(_ORDER + "H", head, 6)[0] * 4)
        if head[0] != 1:
            why = extra[: head[1]].decode("latin-1", "replace").strip() or "refused"
            raise XError(f"the X server of DISPLAY={display} refused the connection: {why}")
        vendor_len = struct.unpack_from(_ORDER + "H", extra, 16)[0]
        n_formats = extra[21]
        screen = 32 + vendor_len + _pad(vendor_len) + 8 * n_formats
        conn.root = struct.unpack_from(_ORDER + "I", extra, screen)[0]
        sock.settimeout(None)
        return conn
    except (OSError, struct.error, IndexError) as exc:
        sock.close()
        raise XError(f"cannot set up a connection to DISPLAY={display}: {exc}") from None
    except XError:
        sock.close()
        raise


# ------------------------------------------------------------------ XInput2
XI_QUERY_VERSION, XI_SELECT_EVENTS = 47, 46
ALL_MASTER_DEVICES = 1


def xi_version(conn: XConnection) -> tuple[int, int] | None:
    """(opcode, XInput version as major * 100 + minor) or None without XInput."""
    op = conn.query_extension(b"XInputExtension")
    if op is None:
        return None
    r = conn.reply(conn.request(struct.pack(_ORDER + "BBHHH", op, XI_QUERY_VERSION, 2, 2, 0)))
    major, minor = struct.unpack_from(_ORDER + "HH", r, 8)
    return op, major * 100 + minor


def xi_select_raw(conn: XConnection, op: int, events: tuple[int, ...]) -> None:
    """Select XI2 `events` (type numbers) on the root window for all master devices."""
    mask = 0
    for e in events:
        mask |= 1 << e
    body = struct.pack(_ORDER + "BBHIHxxHHI", op, XI_SELECT_EVENTS, 5, conn.root, 1, ALL_MASTER_DEVICES, 1, mask)
    conn.request(body)
    conn.sync()  # an error in the selection comes back before the sync's reply
