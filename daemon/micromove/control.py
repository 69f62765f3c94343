"""Control of the running daemon: a Unix socket, a line-based JSON protocol, a client.

**Where and who.** The daemon listens on `$XDG_RUNTIME_DIR/micromove/control.sock`
(paths.socket_path()): a Unix stream socket, mode 0600, in a folder kept
0700. Every connection's peer is checked: on Linux with SO_PEERCRED, on
macOS with LOCAL_PEERCRED (struct xucred); a peer whose uid is not the
daemon's gets one error line and is closed. (Where neither exists, the
folder and socket permissions are the only guard; the daemon logs that once.)
A socket file left behind by a killed daemon is replaced at start (the
daemon holds the per-user lock by then, so it is never a live one), and the
socket is removed at exit.

**Protocol.** One request line, one reply line, UTF-8 JSON, each ending with
"\\n"; a connection may send any number of requests one after another
(replies come in order):

    {"cmd": "status"}
    {"cmd": "pause"}                       until resume
    {"cmd": "pause", "for_s": 1800}
    {"cmd": "resume"}
    {"cmd": "snooze"}                      10 minutes
    {"cmd": "snooze", "for_s": 900}
    {"cmd": "done"}                        every cue of the last cue set
    {"cmd": "done", "cues": ["hands.wrist_pulse"]}

    {"ok": true, ...}
    {"ok": false, "error": "one line for a person", "code": "..."}

An error that ends the connection ("too_long", "timeout", "denied", "busy")
is still answered first: read the reply line before anything else (the
socket may report a reset after it when the peer's request was left unread).

`for_s` is a number of seconds, more than 0 and at most 7 days; `cues` a
list of catalog ids. Any other field, a wrong type, an unknown command, bad
JSON or bad UTF-8 is answered with `code` "bad_request"; an unknown cue id
with "unknown_cue" (naming the closest id). Other codes: "too_long" (a line
of more than MAX_LINE bytes: answered, then the connection is closed),
"timeout" (no complete line within READ_TIMEOUT_S: answered, closed),
"busy" (MAX_CONNECTIONS connections already open, or the daemon's loop did
not answer within MAIN_WAIT_S), "denied" (another uid), "stopping" (the
daemon is exiting), "nothing" (done: no cue set to mark), "internal".

**Threads.** One thread accepts; each connection gets a thread (at most
MAX_CONNECTIONS at once) that reads, parses and validates lines itself.
Only a well-formed request reaches the daemon: it is queued, the daemon's
loop is woken (its Waker), and the loop executes it between two passes, on
its own thread, the only one that touches the engine and the store
(`Controller`). A malformed message never reaches the loop at all.

**Pause and snooze.** Both hold back cue sets (engine.hold): `pause` until
`resume` or for a while, `snooze` for a while (default 10 min), so what is
due goes out at the first natural pause after the hold ends (or at its cap).
Counting goes on. A later pause or snooze replaces the current hold; `resume`
ends it, and what it held back counts as due from then. The hold is kept in
the database (state key `control.hold`, written at once), so it survives a
restart of the daemon, including an indefinite pause: a person who paused
micromove is not cued again because the service restarted. `mmctl status`
shows it; the daemon logs it at start.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import logging
import math
import os
import queue
import re
import select
import socket
import stat
import struct
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import UsageError

if TYPE_CHECKING:
    from .daemon import Daemon

log = logging.getLogger("micromove")

MAX_LINE = 4096  # bytes in one request line, newline excluded
READ_TIMEOUT_S = 2.0  # a complete line must arrive within this of the previous reply
MAX_CONNECTIONS = 8
MAIN_WAIT_S = 5.0  # how long a request waits for the daemon's loop
CLIENT_TIMEOUT_S = 10.0  # how long the client waits for a reply
MAX_HOLD_S = 7 * 86400.0
SNOOZE_DEFAULT_S = 600.0
MAX_CUES = 64
HOLD_KEY = "control.hold"
COMMANDS = ("status", "pause", "resume", "snooze", "done")
_FIELDS: dict[str, tuple[str, ...]] = {
    "status": (),
    "pause": ("for_s",),
    "resume": (),
    "snooze": ("for_s",),
    "done": ("cues",),
}
INF = math.inf


# ====================================================================== durations
_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def parse_duration(text: str, what: str = "DURATION") -> float:
    """'30s', '10m', '1h', '1h30m', '2d' -> seconds. UsageError for anything else."""
    t = text.strip().lower()
    m = _DURATION.fullmatch(t)
    if not t or m is None or not any(m.groups()):
        why = "add a unit:" if re.fullmatch(r"\d+(\.\d+)?", t) else "e.g."
        raise UsageError(f"{what}: not a duration: {text!r} ({why} 30s, 10m, 1h, 1h30m)")
    d, h, mi, s = (int(g) if g else 0 for g in m.groups())
    seconds = float(((d * 24 + h) * 60 + mi) * 60 + s)
    if seconds <= 0:
        raise UsageError(f"{what}: must be more than 0: {text!r}")
    if seconds > MAX_HOLD_S:
        raise UsageError(f"{what}: at most 7 days: {text!r}")
    return seconds


def format_duration(seconds: float) -> str:
    """A length for a person: '45 s', '12 min 5 s', '1 h 05 min', '2 d 3 h'."""
    s = max(0, int(round(seconds)))
    if s < 60:
        return f"{s} s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m} min {s} s" if s else f"{m} min"
    h, m = divmod(m, 60)
    if h < 24:
        return f"{h} h {m:02d} min"
    d, h = divmod(h, 24)
    return f"{d} d {h} h"


# ====================================================================== protocol
class ProtocolError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Request:
    cmd: str
    for_s: float | None = None  # pause / snooze
    cues: tuple[str, ...] | None = None  # done


def suggest_cue(cue: str) -> str:
    """' (did you mean hands.wrist_pulse?)' or ''."""
    from .core.catalog import IDS

    close = difflib.get_close_matches(cue, IDS, n=1, cutoff=0.6)
    if not close:
        short = {i.split(".", 1)[1]: i for i in IDS}
        close = [short[c] for c in difflib.get_close_matches(cue, list(short), n=1, cutoff=0.6)]
    return f" (did you mean {close[0]}?)" if close else ""


def unknown_cue_message(cue: str) -> str:
    return f"unknown cue id {cue!r}{suggest_cue(cue)}; `mmctl cues` lists them"


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def _number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def parse_request(line: bytes) -> Request:
    """One request line (without its newline) -> Request, or ProtocolError."""
    from .core.catalog import BY_ID

    if len(line) > MAX_LINE:
        raise ProtocolError("too_long", f"message longer than {MAX_LINE} bytes")
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError("bad_request", "not UTF-8 text") from None
    if not text.strip():
        raise ProtocolError("bad_request", "empty message")
    try:
        msg = json.loads(text, parse_constant=_no_constants)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError("bad_request", f"not JSON: {str(exc)[:100]}") from None
    if not isinstance(msg, dict):
        raise ProtocolError("bad_request", "not a JSON object (expected {\"cmd\": ...})")
    cmd = msg.get("cmd")
    if cmd is None:
        raise ProtocolError("bad_request", "no \"cmd\"")
    if not isinstance(cmd, str):
        raise ProtocolError("bad_request", "\"cmd\" is not a string")
    if cmd not in _FIELDS:
        raise ProtocolError("bad_request", f"unknown cmd {cmd[:40]!r} (one of {', '.join(COMMANDS)})")
    allowed = _FIELDS[cmd]
    for k in msg:
        if k != "cmd" and k not in allowed:
            raise ProtocolError("bad_request", f"unknown field {k[:40]!r} for {cmd}")
    for_s: float | None = None
    if "for_s" in msg:
        v = msg["for_s"]
        if v is None and cmd == "pause":
            for_s = None
        elif not _number(v):
            raise ProtocolError("bad_request", "\"for_s\" is not a number of seconds")
        elif not (0 < v <= MAX_HOLD_S):  # ints of any size compare fine
            raise ProtocolError("bad_request", f"\"for_s\" must be more than 0 and at most {MAX_HOLD_S:.0f}")
        else:
            for_s = float(v)
            if not math.isfinite(for_s):
                raise ProtocolError("bad_request", "\"for_s\" is not finite")
    elif cmd == "snooze":
        for_s = SNOOZE_DEFAULT_S
    cues: tuple[str, ...] | None = None
    if "cues" in msg:
        v = msg["cues"]
        if not isinstance(v, list) or not all(isinstance(c, str) for c in v):
            raise ProtocolError("bad_request", "\"cues\" is not a list of cue ids")
        if not v:
            raise ProtocolError("bad_request", "\"cues\" is empty (leave it out to mark the last cue set)")
        if len(v) > MAX_CUES:
            raise ProtocolError("bad_request", f"more than {MAX_CUES} cues")
        for c in v:
            if c not in BY_ID:
                raise ProtocolError("unknown_cue", unknown_cue_message(c[:60]))
        cues = tuple(dict.fromkeys(v))
    return Request(cmd, for_s, cues)


def encode(reply: dict[str, Any]) -> bytes:
    return json.dumps(reply, separators=(",", ":"), allow_nan=False).encode("utf-8") + b"\n"


def error(code: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": message, "code": code}


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


# ====================================================================== addresses
_MAX_SUN_PATH = 100  # sun_path is 108 bytes on Linux, 104 on macOS


@contextlib.contextmanager
def _address(path: Path) -> Any:
    """A name for bind/connect: the path, or for a path too long for sun_path on
    Linux, /proc/self/fd/N/NAME through an open descriptor of its folder."""
    raw = os.fsencode(path)
    if len(raw) <= _MAX_SUN_PATH:
        yield str(path)
        return
    if not sys.platform.startswith("linux"):
        raise OSError(f"the socket path {path} is too long for a Unix socket; set XDG_RUNTIME_DIR to a shorter folder")
    fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        yield f"/proc/self/fd/{fd}/{path.name}"
    finally:
        os.close(fd)


# ====================================================================== server
class _Call:
    __slots__ = ("req", "reply", "event", "lock", "state")

    def __init__(self, req: Request) -> None:
        self.req = req
        self.reply: dict[str, Any] | None = None
        self.event = threading.Event()
        self.lock = threading.Lock()
        self.state = "queued"  # queued -> running -> done, or queued -> cancelled

    def take(self) -> bool:
        """The loop starts on it (False: the asker gave up waiting)."""
        with self.lock:
            if self.state != "queued":
                return False
            self.state = "running"
            return True

    def answer(self, reply: dict[str, Any]) -> None:
        with self.lock:
            if self.state not in ("queued", "running"):
                return
            self.reply = reply
            self.state = "done"
        self.event.set()


class ControlServer:
    """The socket side: accepts, reads, validates; hands requests to `submit`.

    `submit(call)` must queue the call for the daemon's loop and wake it;
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
        from .paths import ensure_private_dir

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
            with _address(self.path) as addr:
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
        buf = bytearray()
        limit = self.max_line
        eof = False
        while not self._stopping:
            # One line: complete within read_timeout_s of starting to wait for it.
            deadline = time.monotonic() + self.read_timeout_s
            nl = buf.find(b"\n")
            while nl < 0 and not eof:
                if len(buf) > limit:
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    if buf:
                        self._send(conn, error("timeout", f"no complete message within {self.read_timeout_s:g} s"))
                    return
                conn.settimeout(left)
                try:
                    data = conn.recv(65536)
                except TimeoutError:
                    continue
                if not data:
                    eof = True
                    break
                start = len(buf)
                buf += data
                nl = buf.find(b"\n", start)
            if nl < 0:
                if len(buf) > limit:
                    self.stats["errors"] += 1
                    self._send(conn, error("too_long", f"message longer than {limit} bytes; closing"))
                    return
                if not buf:
                    return  # the peer closed after its last message
                line = bytes(buf)  # a last message without its newline
                buf.clear()
            else:
                line = bytes(buf[:nl])
                del buf[: nl + 1]
                if len(line) > limit:
                    self.stats["errors"] += 1
                    self._send(conn, error("too_long", f"message longer than {limit} bytes; closing"))
                    return
            self._send(conn, self.handle(line))
            if eof and not buf:
                return

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
        call = _Call(req)
        self._submit(call)
        if not call.event.wait(self.main_wait_s):
            with call.lock:
                if call.state == "queued":
                    call.state = "cancelled"  # the loop will skip it
                    return error("busy", "micromove did not answer in time; try again")
            call.event.wait()  # running: it is being done, the answer is close
        reply = call.reply
        assert reply is not None
        if self._augment is not None and reply.get("ok"):
            try:
                self._augment(req, reply)
            except Exception as exc:  # noqa: BLE001 - extra figures only
                log.debug("control socket: %s", exc)
        return reply


def peer_uid_supported() -> bool:
    return hasattr(socket, "SO_PEERCRED") or sys.platform == "darwin" or "bsd" in sys.platform


# ====================================================================== the loop's side
@dataclass(slots=True)
class Hold:
    kind: str  # pause | snooze
    since: float  # wall
    until_t: float  # engine time; INF: until resume


class Controller:
    """What the daemon's loop runs for control: requests, the hold, the check-in reminder.

    Everything here runs on the daemon's main thread (the socket threads only
    queue calls and wake the loop).
    """

    def __init__(self, daemon: Daemon, socket_path: Path | None) -> None:
        from .core.reminder import CheckinReminder

        self.d = daemon
        self.socket_path = socket_path
        self.server: ControlServer | None = None
        self.calls: queue.SimpleQueue[_Call] = queue.SimpleQueue()
        self.hold: Hold | None = None
        self.started_wall = 0.0
        self.pid = os.getpid()
        store = daemon.store
        self.reminder = CheckinReminder(
            enabled=daemon.session.config.checkin_reminder,
            get_state=store.get_state,
            set_state=store.set_state,
            last_checkin=self._last_checkin,
            submit=daemon.notifier.submit,
        )
        self.reminder.on_result_hook = daemon.waker.wake

    # ---------------------------------------------------------------- life
    def _wall(self, t: float) -> float:
        return t + self.d.session.wall_offset

    def start(self, now: float) -> None:
        wall = self._wall(now)
        self.started_wall = wall
        self._restore_hold(now)
        try:
            self.reminder.start(wall, self.d.session.progression_start)
        except Exception as exc:  # noqa: BLE001
            log.warning("check-in reminder off: %s", exc)
            self.reminder.enabled = False
        if self.socket_path is not None:
            server = ControlServer(self.socket_path, self._queue, self._augment)
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
        while True:
            try:
                call = self.calls.get_nowait()
            except queue.Empty:
                break
            call.answer(error("stopping", "micromove is stopping"))

    def _queue(self, call: _Call) -> None:
        self.calls.put(call)
        self.d.waker.wake()

    def waiting(self) -> bool:
        """Requests are queued (the loop should not wait for its batch interval)."""
        return not self.calls.empty()

    # ---------------------------------------------------------------- each pass
    def on_pass(self, now: float) -> None:
        while True:
            try:
                call = self.calls.get_nowait()
            except queue.Empty:
                break
            if not call.take():
                continue
            try:
                reply = self.execute(call.req, now)
            except Exception as exc:  # noqa: BLE001 - a request never stops the daemon
                log.warning("control request %s failed: %s: %s", call.req.cmd, type(exc).__name__, exc)
                reply = error("internal", f"{type(exc).__name__}: {exc}")
            call.answer(reply)
        h = self.hold
        if h is not None and h.until_t <= now:
            log.info("%s over: cueing again", "snooze" if h.kind == "snooze" else "pause")
            self.hold = None
            self._save_hold()
        try:
            self._reminder(now)
        except Exception as exc:  # noqa: BLE001 - a reminder never stops the daemon
            log.warning("check-in reminder off until restart: %s: %s", type(exc).__name__, exc)
            self.reminder.enabled = False

    def next_deadline(self) -> float | None:
        """Engine time at which the loop should look again (the reminder's natural pause)."""
        at = self._reminder_pause(self.d.clock.now())
        return at

    # ---------------------------------------------------------------- requests
    def execute(self, req: Request, now: float) -> dict[str, Any]:
        if req.cmd == "status":
            return self.status(now)
        if req.cmd == "pause":
            return self.set_hold("pause", req.for_s, now)
        if req.cmd == "snooze":
            return self.set_hold("snooze", req.for_s, now)
        if req.cmd == "resume":
            return self.resume(now)
        if req.cmd == "done":
            return self.done(req.cues, now)
        return error("bad_request", f"unknown cmd {req.cmd!r}")

    def set_hold(self, kind: str, for_s: float | None, now: float) -> dict[str, Any]:
        engine = self.d.session.engine
        until = INF if for_s is None else now + for_s
        was = self.hold.kind if self.hold is not None else None
        held = engine.held_until
        if held is not None and until < held:
            engine.release(now)  # shorten: release, then hold again
        engine.hold(until)
        self.hold = Hold(kind, self._wall(now), until)
        self._save_hold()
        due = [p.cue for p in engine.pending()]
        if until == INF:
            log.info("paused until `mmctl resume` (counting goes on)")
        else:
            log.info("%s for %s", "snoozed" if kind == "snooze" else "paused", format_duration(for_s or 0))
        return {"ok": True, "hold": self._hold_json(now), "was": was, "due": sorted(due)}

    def resume(self, now: float) -> dict[str, Any]:
        h = self.hold
        engine = self.d.session.engine
        if h is None:
            return {"ok": True, "was": None}
        engine.release(now)
        self.hold = None
        self._save_hold()
        log.info("resumed (was %s)", "snoozed" if h.kind == "snooze" else "paused")
        return {"ok": True, "was": h.kind, "due": sorted(p.cue for p in engine.pending())}

    def done(self, cues: tuple[str, ...] | None, now: float) -> dict[str, Any]:
        from .core.confirm import NothingToMark

        confirm = self.d.session.confirm
        if confirm is None:
            return error("nothing", "micromove keeps no database here: nothing to mark")
        try:
            marked = confirm.done(list(cues) if cues is not None else None, now)
        except NothingToMark as exc:
            return error("nothing", str(exc))
        fresh = [c for _s, c, already in marked if not already]
        if fresh:
            log.info("marked done: %s", ", ".join(fresh))
        self._write()
        return {
            "ok": True,
            "marked": [
                {"cue": c, "delivery_id": s.delivery_id, "t": round(self._wall(s.t), 3), "already": already}
                for s, c, already in marked
            ],
        }

    # ---------------------------------------------------------------- status
    def status(self, now: float) -> dict[str, Any]:
        from . import __version__
        from .core import progression
        from .core.engine import TRIGGERS
        from .core.session import local_date

        d = self.d
        session = d.session
        engine = session.engine
        cfg = session.config
        wall = self._wall(now)
        w = self._wall

        stretches: dict[str, Any] = {}
        for trig in TRIGGERS:
            st = engine.stretch(trig)
            stretches[trig] = None if st is None else {
                "start": round(w(st.start), 3),
                "last": round(w(st.last), 3),
                "length_s": round(st.length, 3),
            }
        last_input = engine.last_input
        last_delivery = engine.last_delivery
        hold_until = engine.held_until
        gap_end = max(
            (last_delivery + cfg.min_gap_s) if last_delivery is not None else -INF,
            hold_until if (hold_until is not None and self.hold is not None) else -INF,
        )
        pause_at = (last_input + cfg.pause_min_s) if last_input is not None else None
        due = []
        for p in sorted(engine.pending(), key=lambda p: (p.due_at, p.cue)):
            not_before = max(p.due_at, gap_end)
            if not_before == INF:
                latest = None
            elif not_before > p.due_at:
                latest = not_before + cfg.max_defer_s
            else:
                latest = p.cap_at
            due.append({
                "cue": p.cue,
                "trigger": p.trigger,
                "due_since": _t(w, p.due_at),
                "not_before": _t(w, not_before),
                "at_latest": _t(w, latest),
            })
        cues_cfg = cfg.cues
        upcoming = [
            {"cue": cid, "trigger": cues_cfg[cid].trigger if cid in cues_cfg else None, "due_at": _t(w, t)}
            for t, cid in engine.upcoming()
        ]
        start = session.progression_start
        today = local_date(wall)
        prog = {
            "enabled": cfg.progression_enabled,
            "start": start.isoformat() if start is not None else None,
            "week": progression.week_number(start, today) if start is not None else None,
            "regions": list(session.active_regions(wall)),
        }
        last_set = None
        confirm = session.confirm
        if confirm is not None and confirm.recent:
            s = confirm.recent[-1]
            delivered = False if s.failed else (None if s.delivery_id in d.in_flight else True)
            last_set = {
                "delivery_id": s.delivery_id,
                "t": round(w(s.t), 3),
                "cues": list(s.cues),
                "delivered": delivered,
                "done": sorted(s.done),
                "likely": s.likely,
                "dismissed": s.dismissed,
                # done | likely | dismissed | None; done_by: cli | button
                "answer": s.answer(),
                "done_by": s.done_by,
            }
        # Write what is pending so the database figures `today` adds are current.
        with contextlib.suppress(Exception):
            session.flush()
        nd = self.reminder.next_due()
        return {
            "ok": True,
            "running": True,
            "pid": self.pid,
            "version": __version__,
            "since": round(self.started_wall, 3),
            "now": round(wall, 3),
            "backend": getattr(d.source, "name", "?"),
            "config": str(cfg.source),
            "db": str(getattr(d.store, "path", "")) or None,
            "socket": str(self.socket_path) if self.socket_path is not None else None,
            "idle_s": round(now - last_input, 3) if last_input is not None else None,
            "stretches": stretches,
            "due": due,
            "next_pause": _t(w, pause_at) if due and pause_at is not None else None,
            "upcoming": upcoming,
            "hold": self._hold_json(now),
            "progression": prog,
            "last_set": last_set,
            "checkin_reminder": {
                "enabled": self.reminder.enabled,
                "next": round(nd, 3) if nd is not None else None,
            },
            "settings": {
                "pause_min_s": cfg.pause_min_s,
                "max_defer_s": cfg.max_defer_s,
                "break_s": cfg.break_s,
                "min_gap_s": cfg.min_gap_s,
            },
        }

    def _augment(self, req: Request, reply: dict[str, Any]) -> None:
        """On the connection's thread: today's figures from the database."""
        if req.cmd != "status":
            return
        db = reply.get("db")
        reply["today"] = today_figures(Path(db), reply["now"]) if db else None

    def _hold_json(self, now: float) -> dict[str, Any] | None:
        h = self.hold
        if h is None or h.until_t <= now:
            return None
        return {
            "kind": h.kind,
            "since": round(h.since, 3),
            "until": None if h.until_t == INF else round(self._wall(h.until_t), 3),
        }

    # ---------------------------------------------------------------- persistence
    def _save_hold(self) -> None:
        h = self.hold
        value = ""
        if h is not None:
            until = None if h.until_t == INF else self._wall(h.until_t)
            value = json.dumps({"kind": h.kind, "since": h.since, "until": until})
        try:
            self.d.store.set_state(HOLD_KEY, value)
        except Exception as exc:  # noqa: BLE001
            log.warning("cannot keep the pause in the database: %s", exc)
        self._write()

    def _write(self) -> None:
        """Write at once what a request changed (a crash right after must not undo it)."""
        try:
            self.d.store.flush()
        except Exception as exc:  # noqa: BLE001 - kept in memory; the loop retries
            log.warning("%s", exc)

    def _restore_hold(self, now: float) -> None:
        try:
            raw = self.d.store.get_state(HOLD_KEY)
        except Exception as exc:  # noqa: BLE001
            log.warning("cannot read the pause state: %s", exc)
            return
        if not raw:
            return
        try:
            v = json.loads(raw)
            kind = v["kind"]
            until = v["until"]
            since = float(v["since"])
            if kind not in ("pause", "snooze") or not (until is None or _number(until)):
                raise ValueError(raw)
        except (ValueError, KeyError, TypeError):
            log.warning("pause state %r in the database is not understood; ignoring it", raw[:80])
            return
        wall = self._wall(now)
        if until is not None and until <= wall:
            return
        until_t = INF if until is None else until - self.d.session.wall_offset
        self.d.session.engine.hold(until_t)
        self.hold = Hold(kind, since, until_t)
        when = "until `mmctl resume`" if until is None else f"for {format_duration(until - wall)} more"
        log.info("still %s (since %s) %s", "snoozed" if kind == "snooze" else "paused",
                 time.strftime("%Y-%m-%d %H:%M", time.localtime(since)), when)

    # ---------------------------------------------------------------- reminder
    def _last_checkin(self) -> float | None:
        path = getattr(self.d.store, "path", None)
        if path is None:
            return None
        from .adapters.store import open_readonly

        conn = open_readonly(path)
        try:
            if not conn.execute("PRAGMA user_version").fetchone()[0]:
                return None
            row = conn.execute("SELECT max(t) FROM checkins").fetchone()
            return None if row is None or row[0] is None else float(row[0])
        finally:
            conn.close()

    def _quiet(self, now: float) -> bool:
        engine = self.d.session.engine
        if self.hold is not None or engine.pending():
            return False
        last = engine.last_delivery
        return last is None or now - last >= 60.0

    def _reminder_pause(self, now: float) -> float | None:
        """Engine time of the natural pause the reminder waits for, if it is due."""
        r = self.reminder
        if not r.due(self._wall(now)) or not self._quiet(now):
            return None
        engine = self.d.session.engine
        last = engine.last_input
        if last is None or engine.stretch("active") is None:
            return None  # nobody at the desk: wait for input
        return last + self.d.session.config.pause_min_s

    def _reminder(self, now: float) -> None:
        r = self.reminder
        wall = self._wall(now)
        r.take_result(wall)
        at = self._reminder_pause(now)
        if at is None or now < at:
            return
        r.maybe_send(wall, at_pause=True, quiet=self._quiet(now))


def _t(w: Any, t: float | None) -> float | None:
    if t is None or t == INF or t == -INF:
        return None
    return round(float(w(t)), 3)


def today_figures(db: Path, now_wall: float) -> dict[str, Any] | None:
    """Counts since local midnight, read-only (what `mmctl stats` would say for today)."""
    from datetime import datetime

    from .adapters.store import open_readonly

    day = datetime.fromtimestamp(now_wall).date()
    lo = datetime(day.year, day.month, day.day).timestamp()
    conn = open_readonly(db)
    try:
        if not conn.execute("PRAGMA user_version").fetchone()[0]:
            return None
        keys, clicks, scrolls, moves = conn.execute(
            "SELECT coalesce(sum(keys), 0), coalesce(sum(clicks), 0), coalesce(sum(scrolls), 0),"
            " coalesce(sum(moves), 0) FROM activity WHERE minute >= ?",
            (int(lo // 60),),
        ).fetchone()
        cues, done, likely, dismissed = conn.execute(
            "SELECT count(*), coalesce(sum(done), 0), coalesce(sum(likely AND NOT done), 0),"
            " coalesce(sum(dismissed AND NOT done AND NOT likely), 0) FROM ("
            " SELECT EXISTS (SELECT 1 FROM confirmations k WHERE k.delivery_id = c.delivery_id"
            "   AND k.cue_id = c.cue_id AND k.kind = 'done') AS done,"
            "  EXISTS (SELECT 1 FROM confirmations k WHERE k.delivery_id = c.delivery_id"
            "   AND k.cue_id = c.cue_id AND k.kind = 'likely') AS likely,"
            "  EXISTS (SELECT 1 FROM confirmations k WHERE k.delivery_id = c.delivery_id"
            "   AND k.cue_id = c.cue_id AND k.kind = 'dismissed') AS dismissed"
            " FROM deliveries v JOIN delivery_cues c ON c.delivery_id = v.id"
            " WHERE v.t >= ? AND v.delivered = 1)",
            (lo,),
        ).fetchone()
    finally:
        conn.close()
    return {
        "date": day.isoformat(),
        "keys": int(keys),
        "clicks": int(clicks),
        "scrolls": int(scrolls),
        "moves": int(moves),
        "cues": int(cues),
        "done": int(done),
        "likely": int(likely),
        "dismissed": int(dismissed),
    }


# ====================================================================== client
class NotRunning(Exception):
    """No daemon answers on the control socket."""


class ControlFailed(Exception):
    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


def _pid_hint() -> int | None:
    """The pid in the daemon's lock file, if that process is alive (for messages only)."""
    from .paths import lock_path

    try:
        text = lock_path().read_text(encoding="ascii").strip()
        pid = int(text)
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def request(msg: dict[str, Any], path: Path | None = None, timeout: float = CLIENT_TIMEOUT_S) -> dict[str, Any]:
    """Send one request, return its reply (NotRunning when nothing listens)."""
    from .paths import socket_path

    p = path or socket_path()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        try:
            with _address(p) as addr:
                sock.connect(addr)
        except (FileNotFoundError, ConnectionRefusedError, NotADirectoryError) as exc:
            pid = _pid_hint()
            if pid is not None:
                raise NotRunning(
                    f"micromove (pid {pid}) does not answer on {p} ({exc.strerror or exc}); "
                    f"its log says why (journalctl --user -u micromove)"
                ) from None
            raise NotRunning(f"micromove is not running (nothing listens on {p})") from None
        except PermissionError:
            raise ControlFailed(f"cannot reach {p}: permission denied (is it another user's?)") from None
        except OSError as exc:
            raise ControlFailed(f"cannot reach {p}: {exc.strerror or exc}") from None
        try:
            sock.sendall(encode(msg))
            buf = bytearray()
            while b"\n" not in buf:
                data = sock.recv(65536)
                if not data:
                    break
                buf += data
                if len(buf) > 16 * 1024 * 1024:
                    raise ControlFailed("the daemon's reply is too long")
        except TimeoutError:
            raise ControlFailed(f"micromove did not answer within {timeout:g} s") from None
        except OSError as exc:
            raise ControlFailed(f"the connection to micromove failed: {exc.strerror or exc}") from None
    finally:
        sock.close()
    line = bytes(buf).split(b"\n", 1)[0]
    if not line:
        raise ControlFailed("micromove closed the connection without an answer")
    try:
        reply = json.loads(line)
    except ValueError:
        raise ControlFailed("micromove's answer is not JSON") from None
    if not isinstance(reply, dict):
        raise ControlFailed("micromove's answer is not a JSON object")
    return reply
