"""The control socket's server side: who may connect, reading lines, and
handing each well-formed request to the daemon's main loop.

The daemon listens on `$XDG_RUNTIME_DIR/micromove/control.sock`, mode 0600
in a folder kept 0700; every peer's uid is checked (SO_PEERCRED on Linux,
LOCAL_PEERCRED on macOS). One thread accepts; each connection gets a thread
(at most MAX_CONNECTIONS at once) that reads and parses its lines
(protocol.py). Only a well-formed request reaches the loop: through the
daemon's inbox (inbox.py), which wakes it; the loop runs it on its own
thread, where `ControlEndpoint` asks the service (service.py) and encodes
the answer. A malformed message never reaches the loop at all.
docs/control-protocol.md has the whole protocol.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import socket
import stat
import struct
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..inbox import Call, Inbox, Stopping
from .protocol import (
    MAX_LINE,
    Line,
    LineReader,
    NeedData,
    ProtocolError,
    Request,
    TooLong,
    encode,
    error,
    parse_request,
    reply_for,
)
from .sockaddr import address

if TYPE_CHECKING:
    from ..service import Service

log = logging.getLogger("micromove")

READ_TIMEOUT_S = 2.0  # a complete line must arrive within this of the previous reply
MAX_CONNECTIONS = 8
MAIN_WAIT_S = 5.0  # how long a request waits for the daemon's loop


# ====================================================================== peers
def peer_uid(sock: socket.socket) -> int | None:
    """The uid of the process at the other end of a Unix socket (None: cannot tell here)."""
    if hasattr(socket, "SO_PEERCRED"):  # Linux: struct ucred {pid_t, uid_t, gid_t}
        data = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        _pid, uid, _gid = struct.unpack("3i", data)
        return int(uid)
    if sys.platform == "darwin" or "bsd" in sys.platform:
        # struct xucred {u_int cr_version; uid_t cr_uid; short cr_ngroups; gid_t cr_groups[16];}
        sol_local = getattr(socket, "SOL_LOCAL", 0)
        local_peercred = getattr(socket, "LOCAL_PEERCRED", 0x001)
        data = sock.getsockopt(sol_local, local_peercred, 76)
        _version, uid = struct.unpack_from("=II", data)
        return int(uid)
    return None


class ControlServer:
    """The socket side: accepts, reads, validates; hands requests to `submit`.

    `submit(request)` must hand the request to the daemon's loop and wake it,
    returning the inbox's `Call` (its result: the reply object);
    `augment(request, reply)` runs on the connection's thread after the loop
    answered (used to add database figures without holding up the loop).
    """

    def __init__(
        self,
        path: Path,
        submit: Any,
        augment: Any = None,
        *,
        max_line: int = MAX_LINE,
        read_timeout_s: float = READ_TIMEOUT_S,
        max_connections: int = MAX_CONNECTIONS,
        main_wait_s: float = MAIN_WAIT_S,
    ) -> None:
        self.path = path
        self._submit = submit
        self._augment = augment
        self.max_line = max_line
        self.read_timeout_s = read_timeout_s
        self.main_wait_s = main_wait_s
        self.uid = os.geteuid()
        self._slots = threading.BoundedSemaphore(max_connections)
        self._sock: socket.socket | None = None
        self._stop_r, self._stop_w = -1, -1
        self._thread: threading.Thread | None = None
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stopping = False
        self._ino: tuple[int, int] | None = None
        self.stats = {"connections": 0, "requests": 0, "errors": 0, "refused": 0}

    def start(self) -> None:
        from ..paths import ensure_private_dir

        ensure_private_dir(self.path.parent)
        try:
            st = os.lstat(self.path)
        except FileNotFoundError:
            pass
        else:
            if stat.S_ISDIR(st.st_mode):
                raise OSError(f"{self.path} is a folder")
            os.unlink(self.path)  # left by a daemon that did not exit cleanly
            log.info("replaced a stale control socket %s", self.path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            with address(self.path) as addr:
                sock.bind(addr)
            os.chmod(self.path, 0o600)  # the folder is 0700: nobody else could connect meanwhile
            sock.listen(16)
            sock.setblocking(False)
            st = os.stat(self.path)
            self._ino = (st.st_dev, st.st_ino)
        except BaseException:
            sock.close()
            raise
        if peer_uid_supported() is False:
            log.warning("control socket: this platform cannot tell who connects; relying on 0600/0700 permissions")
        self._sock = sock
        self._stop_r, self._stop_w = os.pipe()
        self._thread = threading.Thread(target=self._accept_loop, name="micromove-control", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._lock:
            if self._stopping:
                return
            self._stopping = True
            conns = list(self._conns)
        if self._stop_w >= 0:
            with contextlib.suppress(OSError):
                os.write(self._stop_w, b"x")
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        for c in conns:
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)
        if self._sock is not None:
            self._sock.close()
        for fd in (self._stop_r, self._stop_w):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._stop_r = self._stop_w = -1
        # Remove the socket file, if it is still the one we made.
        with contextlib.suppress(OSError):
            st = os.lstat(self.path)
            if self._ino == (st.st_dev, st.st_ino):
                os.unlink(self.path)

    # ---------------------------------------------------------------- threads
    def _accept_loop(self) -> None:
        sock = self._sock
        assert sock is not None
        while True:
            try:
                ready, _, _ = select.select([sock.fileno(), self._stop_r], [], [])
            except (OSError, ValueError):
                return
            if self._stop_r in ready or self._stopping:
                return
            try:
                conn, _ = sock.accept()
            except (BlockingIOError, InterruptedError):
                continue
            except OSError as exc:
                log.warning("control socket: accept failed: %s", exc)
                time.sleep(0.1)  # e.g. out of file descriptors: do not spin
                continue
            if not self._slots.acquire(blocking=False):
                self.stats["refused"] += 1
                self._refuse(conn, error("busy", f"more than {MAX_CONNECTIONS} connections at once; try again"))
                continue
            with self._lock:
                if self._stopping:
                    self._slots.release()
                    self._refuse(conn, error("stopping", "micromove is stopping"))
                    return
                self._conns.add(conn)
            self.stats["connections"] += 1
            try:
                threading.Thread(target=self._serve, args=(conn,), name="micromove-control-conn", daemon=True).start()
            except RuntimeError as exc:  # cannot start a thread
                with self._lock:
                    self._conns.discard(conn)
                self._slots.release()
                self._refuse(conn, error("busy", f"cannot serve: {exc}"))

    @staticmethod
    def _refuse(conn: socket.socket, reply: dict[str, Any]) -> None:
        with contextlib.suppress(OSError):
            conn.setblocking(False)
            conn.send(encode(reply))
        conn.close()

    def _serve(self, conn: socket.socket) -> None:
        try:
            uid = peer_uid(conn)
            if uid is not None and uid != self.uid:
                log.warning("control socket: refused a connection from uid %d (not ours)", uid)
                self.stats["refused"] += 1
                conn.settimeout(self.read_timeout_s)
                conn.sendall(encode(error("denied", "permission denied: another user's micromove")))
                return
            self._lines(conn)
        except OSError:
            pass  # the peer went away, or stop() shut the socket
        except Exception as exc:  # noqa: BLE001 - never let a connection hurt the daemon
            log.warning("control socket: connection ended by %s: %s", type(exc).__name__, str(exc)[:200])
        finally:
            with self._lock:
                self._conns.discard(conn)
            self._slots.release()
            with contextlib.suppress(OSError):
                conn.close()

    def _lines(self, conn: socket.socket) -> None:
        reader = LineReader(self.max_line)
        while not self._stopping:
            # One line: complete within read_timeout_s of starting to wait for it.
            deadline = time.monotonic() + self.read_timeout_s
            event = reader.next_event()
            while isinstance(event, NeedData):
                left = deadline - time.monotonic()
                if left <= 0:
                    if reader.pending:
                        self._send(conn, error("timeout", f"no complete message within {self.read_timeout_s:g} s"))
                    return
                conn.settimeout(left)
                try:
                    data = conn.recv(65536)
                except TimeoutError:
                    continue
                reader.receive(data)
                event = reader.next_event()
            if isinstance(event, TooLong):
                self.stats["errors"] += 1
                self._send(conn, error("too_long", f"message longer than {event.limit} bytes; closing"))
                return
            if not isinstance(event, Line):
                return  # the peer closed after its last message
            self._send(conn, self.handle(event.data))

    def _send(self, conn: socket.socket, reply: dict[str, Any]) -> None:
        conn.settimeout(self.read_timeout_s)
        conn.sendall(encode(reply))

    def handle(self, line: bytes) -> dict[str, Any]:
        """One line -> its reply (the loop sees only well-formed requests)."""
        self.stats["requests"] += 1
        try:
            req = parse_request(line)
        except ProtocolError as exc:
            self.stats["errors"] += 1
            log.debug("control socket: %s", exc)
            return error(exc.code, str(exc))
        call = self._submit(req)
        if not call.event.wait(self.main_wait_s):
            if call.cancel():  # the loop will skip it
                return error("busy", "micromove did not answer in time; try again")
            call.event.wait()  # running: it is being done, the answer is close
        if call.error is not None:
            if isinstance(call.error, Stopping):
                return error("stopping", "micromove is stopping")
            return error("internal", f"{type(call.error).__name__}: {call.error}")
        reply = call.result
        assert isinstance(reply, dict)
        if self._augment is not None and reply.get("ok"):
            try:
                self._augment(req, reply)
            except Exception as exc:  # noqa: BLE001 - extra figures only
                log.debug("control socket: %s", exc)
        return reply


def peer_uid_supported() -> bool:
    return hasattr(socket, "SO_PEERCRED") or sys.platform == "darwin" or "bsd" in sys.platform


# ====================================================================== the loop's side
class ControlEndpoint:
    """The control socket as one of the daemon loop's hooks: starts and stops
    the server, and on the loop's thread turns each request into a call of
    the service and its result into the reply object."""

    def __init__(self, socket_path: Path, service: Service, inbox: Inbox,
                 today: Callable[[str, float], Any] | None = None) -> None:
        self.socket_path = socket_path
        self.service = service
        self.inbox = inbox
        self._today = today  # (db, now_wall) -> today's figures, read on the connection's thread
        self.server: ControlServer | None = None

    def start(self, now: float) -> None:
        server = ControlServer(self.socket_path, self._submit, self._augment)
        try:
            server.start()
        except OSError as exc:
            log.error("no control socket (mmctl status, pause, ... will not reach micromove): %s", exc)
            return
        self.server = server
        log.info("control socket: %s", self.socket_path)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()

    def on_pass(self, now: float) -> None:
        pass

    def next_deadline(self) -> float | None:
        return None

    def _submit(self, req: Request) -> Call:
        return self.inbox.submit(lambda now: self.execute(req, now))

    def execute(self, req: Request, now: float) -> dict[str, Any]:
        """On the loop's thread: one request -> its reply object."""
        from ..service import ServiceError

        s = self.service
        try:
            if req.cmd == "status":
                return reply_for(s.status(now))
            if req.cmd == "pause":
                return reply_for(s.pause(req.for_s, now))
            if req.cmd == "snooze":
                assert req.for_s is not None
                return reply_for(s.snooze(req.for_s, now))
            if req.cmd == "resume":
                return reply_for(s.resume(now))
            if req.cmd == "done":
                return reply_for(s.done(req.cues, now=now, source="cli"))
        except ServiceError as exc:
            return error(exc.code, str(exc))
        except Exception as exc:  # noqa: BLE001 - a request never stops the daemon
            log.warning("control request %s failed: %s: %s", req.cmd, type(exc).__name__, exc)
            return error("internal", f"{type(exc).__name__}: {exc}")
        return error("bad_request", f"unknown cmd {req.cmd!r}")

    def _augment(self, req: Request, reply: dict[str, Any]) -> None:
        """On the connection's thread: today's figures from the database."""
        if req.cmd != "status":
            return
        db = reply.get("db")
        reply["today"] = self._today(db, reply["now"]) if (db and self._today is not None) else None
