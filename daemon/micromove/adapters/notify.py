"""Notifications: one per cue set, an honest result, a hard time limit.

Interface: a `Notifier` has `notify(title, body) -> NotifyResult` and returns
within its `timeout_s` (at most 3 s, default `Config.notify_timeout_s`) and
never raises. `AsyncNotifier` runs a notifier on one worker thread so the
daemon never waits on it. `format_cue_set` turns a cue set into the title and
body of its one notification.

On Linux (and wherever a session bus address is set) `DBusNotifier` speaks
to org.freedesktop.Notifications itself through jeepney, every step bounded
by one deadline, and counts only a real method return as delivered; on
macOS (and as the fallback) `NotifyPyNotifier` runs notify-py on a daemon
thread joined with the time limit. Why, with the measurements behind it:
docs/notifications.md.

Privacy: a notification carries catalog text only (titles, instructions,
doses). Nothing typed, no key identity, no position ever reaches this module.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

APP_NAME = "micromove"
MAX_TIMEOUT_S = 3.0
DEFAULT_TIMEOUT_S = 3.0
NO_BUS = "no session bus (DBUS_SESSION_BUS_ADDRESS is not set)"
NO_SERVER = "no notification server on the session bus"

BUS_NAME = "org.freedesktop.Notifications"
OBJECT_PATH = "/org/freedesktop/Notifications"
MAX_HUNG = 2


@dataclass(frozen=True, slots=True)
class NotifyResult:
    ok: bool
    error: str | None = None
    server: str | None = None  # the notification server's name, when known


def _fail(error: str, server: str | None = None) -> NotifyResult:
    return NotifyResult(False, error, server)


class Notifier(Protocol):
    """Shows one notification; returns within `timeout_s` and never raises."""

    timeout_s: float

    def notify(self, title: str, body: str) -> NotifyResult: ...


def _check_timeout(timeout_s: float) -> float:
    t = float(timeout_s)
    if not 0 < t <= MAX_TIMEOUT_S:
        raise ValueError(f"notify timeout must be greater than 0 and at most {MAX_TIMEOUT_S} s, not {timeout_s!r}")
    return t


# ------------------------------------------------------------------ D-Bus (Linux)
class _Timeout(Exception):
    pass


class _Call:
    """One short-lived bus connection whose every step obeys one deadline."""

    def __init__(self, address: str, deadline: float) -> None:
        from jeepney import Parser
        from jeepney.bus import get_connectable_addresses
        from jeepney.bus_messages import message_bus
        from jeepney.io.blocking import prep_socket

        self.deadline = deadline
        self.parser = Parser()
        self.serials = itertools.count(1)
        try:
            path = next(get_connectable_addresses(address))
        except (RuntimeError, ValueError, StopIteration, KeyError) as exc:
            raise ConnectionError(f"cannot use the session bus address {address!r}: {exc}") from None
        self.sock = prep_socket(path, timeout=self._left())  # connect + auth, bounded
        try:
            self.call(message_bus.Hello())
        except BaseException:
            self.close()
            raise

    def _left(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise _Timeout
        return left

    def call(self, msg: Any) -> Any:
        """Send a method call; its reply (a method return or an error message)."""
        from jeepney import HeaderFields

        serial = next(self.serials)
        data = msg.serialise(serial=serial)
        try:
            self.sock.settimeout(self._left())
            self.sock.sendall(data)
            while True:
                reply = self.parser.get_next_message()
                while reply is None:
                    self.sock.settimeout(self._left())
                    chunk = self.sock.recv(65536)
                    if not chunk:
                        raise ConnectionError("the session bus closed the connection")
                    self.parser.add_data(chunk)
                    reply = self.parser.get_next_message()
                if reply.header.fields.get(HeaderFields.reply_serial) == serial:
                    return reply
                # a signal or anything else: not ours, read on
        except TimeoutError:  # socket.timeout
            raise _Timeout from None

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


def _is_error(msg: Any) -> bool:
    from jeepney import MessageType

    return bool(msg.header.message_type == MessageType.error)


def _error_text(msg: Any) -> str:
    from jeepney import HeaderFields

    name = msg.header.fields.get(HeaderFields.error_name, "an error")
    detail = msg.body[0] if msg.body and isinstance(msg.body[0], str) else ""
    return f"{name}: {detail}" if detail else str(name)


def _notifications() -> Any:
    from jeepney import DBusAddress

    return DBusAddress(OBJECT_PATH, bus_name=BUS_NAME, interface=BUS_NAME)


class DBusNotifier:
    """org.freedesktop.Notifications on the session bus, with a hard deadline."""

    bounded = True  # notify() itself guarantees its time limit

    def __init__(
        self,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        address: str | None = None,
        app_name: str = APP_NAME,
    ) -> None:
        self.timeout_s = _check_timeout(timeout_s)
        self._address = address  # None: DBUS_SESSION_BUS_ADDRESS at each call
        self.app_name = app_name
        self._names: dict[str, str] = {}  # server's unique bus name -> its own name
        self._lock = threading.Lock()

    def _bus(self) -> str | None:
        return self._address or os.environ.get("DBUS_SESSION_BUS_ADDRESS") or None

    def _open(self, deadline: float) -> _Call | NotifyResult:
        address = self._bus()
        if address is None:
            return _fail(NO_BUS)
        try:
            return _Call(address, deadline)
        except (_Timeout, TimeoutError):
            return _fail(f"the session bus did not answer within {self.timeout_s:g} s")
        except ConnectionError as exc:
            return _fail(str(exc) if "session bus" in str(exc) else f"cannot reach the session bus: {exc}")
        except OSError as exc:
            return _fail(f"cannot reach the session bus: {exc.strerror or exc}")
        except Exception as exc:  # noqa: BLE001 - a malformed reply, an auth refusal...
            return _fail(f"cannot use the session bus: {type(exc).__name__}: {exc}")

    def _owner(self, conn: _Call) -> tuple[str | None, bool]:
        """(unique name of the server, whether a server is there or can be started)."""
        from jeepney.bus_messages import message_bus

        reply = conn.call(message_bus.GetNameOwner(BUS_NAME))
        if not _is_error(reply):
            return str(reply.body[0]), True
        reply = conn.call(message_bus.ListActivatableNames())
        return None, (not _is_error(reply) and BUS_NAME in reply.body[0])

    def _server_name(self, conn: _Call, owner: str | None) -> str | None:
        from jeepney import new_method_call

        if owner is not None:
            with self._lock:
                if owner in self._names:
                    return self._names[owner]
        reply = conn.call(new_method_call(_notifications(), "GetServerInformation"))
        if _is_error(reply) or not reply.body:
            return None
        name = str(reply.body[0])
        if owner is not None:
            with self._lock:
                if len(self._names) > 16:
                    self._names.clear()
                self._names[owner] = name
        return name

    def notify(self, title: str, body: str) -> NotifyResult:
        from jeepney import new_method_call

        deadline = time.monotonic() + self.timeout_s
        conn = self._open(deadline)
        if isinstance(conn, NotifyResult):
            return conn
        stage = "the session bus"
        try:
            owner, there = self._owner(conn)
            if not there:
                return _fail(NO_SERVER)
            stage = "the notification server"
            msg = new_method_call(
                _notifications(),
                "Notify",
                "susssasa{sv}i",
                (self.app_name, 0, "", title, body, [], {}, -1),
            )
            reply = conn.call(msg)
            if _is_error(reply):
                return _fail(f"the notification server refused it: {_error_text(reply)}")
            try:
                server = self._server_name(conn, owner)
            except (_Timeout, OSError, ConnectionError):
                server = None  # delivered; only its name is unknown
            return NotifyResult(True, None, server)
        except _Timeout:
            return _fail(f"{stage} did not answer within {self.timeout_s:g} s")
        except (ConnectionError, OSError) as exc:
            return _fail(f"lost the connection to {stage}: {exc}")
        except Exception as exc:  # noqa: BLE001 - never raise to the caller
            return _fail(f"notification failed: {type(exc).__name__}: {exc}")
        finally:
            conn.close()

    def check(self) -> NotifyResult:
        """Is a notification server there (without showing anything)? For `mmctl doctor`."""
        deadline = time.monotonic() + self.timeout_s
        conn = self._open(deadline)
        if isinstance(conn, NotifyResult):
            return conn
        try:
            owner, there = self._owner(conn)
            if not there:
                return _fail(NO_SERVER)
            if owner is None:
                return NotifyResult(True, None, None)  # activatable, not started by a check
            return NotifyResult(True, None, self._server_name(conn, owner))
        except _Timeout:
            return _fail(f"no answer within {self.timeout_s:g} s")
        except Exception as exc:  # noqa: BLE001
            return _fail(f"{type(exc).__name__}: {exc}")
        finally:
            conn.close()

    def server_info(self) -> tuple[str, str, str] | None:
        """(name, vendor, version) of the running notification server, or None."""
        from jeepney import new_method_call

        deadline = time.monotonic() + self.timeout_s
        conn = self._open(deadline)
        if isinstance(conn, NotifyResult):
            return None
        try:
            owner, _there = self._owner(conn)
            if owner is None:
                return None  # not running (an activatable one is not started for this)
            reply = conn.call(new_method_call(_notifications(), "GetServerInformation"))
            if _is_error(reply) or len(reply.body) < 3:
                return None
            name, vendor, version = (str(x) for x in reply.body[:3])
            return name, vendor, version
        except Exception:  # noqa: BLE001
            return None
        finally:
            conn.close()


# ------------------------------------------------------------------ notify-py (macOS, fallback)
class NotifyPyNotifier:
    """notify-py on a daemon thread joined with the time limit."""

    bounded = True

    def __init__(self, timeout_s: float = DEFAULT_TIMEOUT_S, app_name: str = APP_NAME) -> None:
        self.timeout_s = _check_timeout(timeout_s)
        self.app_name = app_name
        self._hung: list[threading.Thread] = []

    def _send(self, title: str, body: str, out: list[NotifyResult]) -> None:
        try:
            try:
                from loguru import logger

                logger.disable("notifypy")  # its import-time logging goes to stderr
            except ImportError:
                pass
            from notifypy import Notify

            n = Notify(default_notification_application_name=self.app_name)
            n.title, n.message = title, body
            done = threading.Event()
            n.start_notification_thread(done)  # in this thread: no 35 s non-daemon join
            out.append(NotifyResult(True) if done.is_set() else _fail("notify-py reported a failure"))
        except Exception as exc:  # noqa: BLE001
            out.append(_fail(f"notify-py: {type(exc).__name__}: {exc}"))

    def notify(self, title: str, body: str) -> NotifyResult:
        self._hung = [t for t in self._hung if t.is_alive()]
        if len(self._hung) >= MAX_HUNG:
            return _fail(f"{len(self._hung)} earlier notifications are still stuck; not trying")
        out: list[NotifyResult] = []
        t = threading.Thread(target=self._send, args=(title, body, out), name="micromove-notify-py", daemon=True)
        t.start()
        t.join(self.timeout_s)
        if t.is_alive():
            self._hung.append(t)
            return _fail(f"the notification did not go out within {self.timeout_s:g} s")
        return out[0] if out else _fail("notify-py ended without a result")


def make_notifier(timeout_s: float = DEFAULT_TIMEOUT_S) -> DBusNotifier | NotifyPyNotifier:
    """The platform's notifier: D-Bus on Linux and other freedesktop systems, notify-py on macOS."""
    if sys.platform == "darwin" or sys.platform.startswith("win"):
        return NotifyPyNotifier(timeout_s)
    try:
        import jeepney  # noqa: F401
    except ImportError:
        return NotifyPyNotifier(timeout_s)
    return DBusNotifier(timeout_s)


def server_info(timeout_s: float = 1.0) -> tuple[str, str, str] | None:
    """(name, vendor, version) of the session bus's notification server, or None (`mmctl doctor`)."""
    if sys.platform == "darwin" or sys.platform.startswith("win"):
        return None
    try:
        return DBusNotifier(timeout_s).server_info()
    except Exception:  # noqa: BLE001
        return None


# ------------------------------------------------------------------ the daemon's side
# on_result(NotifyResult). A callback taking two positional parameters is
# called as on_result(ok, error) instead (the form micromove.daemon's Notifier
# protocol declares), so either side can be written against the other.
OnResult = Callable[[NotifyResult], None] | Callable[[bool, str | None], None]


@dataclass(slots=True)
class _Job:
    title: str
    body: str
    on_result: OnResult


class AsyncNotifier:
    """Runs notifications on one worker thread; `submit` never blocks.

    `on_result(NotifyResult)` (or `on_result(ok, error)` for a callback with
    two positional parameters) is called on the worker thread once the call
    ends, within the notifier's time limit of the call starting. Calls run one
    after another, each bounded, so a hung server delays the next call by at
    most one time limit and never blocks it. A notifier that does not
    guarantee its own limit (no true `bounded` attribute) is run on a helper
    thread and abandoned when it overruns (at most MAX_HUNG at a time).
    """

    def __init__(
        self,
        notifier: Notifier | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_queue: int = 16,
    ) -> None:
        self.notifier: Notifier = notifier if notifier is not None else make_notifier(timeout_s)
        self.max_queue = max_queue
        self._q: queue.Queue[_Job | None] = queue.Queue()
        self._closing = False
        self._stop_by: float | None = None
        self._hung: list[threading.Thread] = []
        self._thread = threading.Thread(target=self._work, name="micromove-notify", daemon=True)
        self._thread.start()

    @property
    def timeout_s(self) -> float:
        return float(self.notifier.timeout_s)

    def submit(self, title: str, body: str, on_result: OnResult) -> None:
        if self._closing:
            _answer(on_result, _fail("the notifier is closed"))
            return
        if self._q.qsize() >= self.max_queue:
            _answer(on_result, _fail(f"{self.max_queue} notifications already waiting; dropped"))
            return
        self._q.put(_Job(title, body, on_result))

    def close(self, timeout: float = 4.0) -> bool:
        """Let waiting calls finish for up to `timeout` s, then answer the rest as failed.

        True when the worker has ended.
        """
        if not self._closing:
            self._closing = True
            self._stop_by = time.monotonic() + max(0.0, timeout)
            self._q.put(None)
        self._thread.join(max(0.0, timeout) + 0.5)
        return not self._thread.is_alive()

    def _work(self) -> None:
        while True:
            job = self._q.get()
            if job is None:
                return
            if self._stop_by is not None and time.monotonic() >= self._stop_by:
                result = _fail("micromove stopped before the notification was sent")
            else:
                result = self._call(job.title, job.body)
            _answer(job.on_result, result)

    def _call(self, title: str, body: str) -> NotifyResult:
        n = self.notifier
        if getattr(n, "bounded", False):
            try:
                return n.notify(title, body)
            except Exception as exc:  # noqa: BLE001 - the contract says it never raises; be sure
                return _fail(f"{type(exc).__name__}: {exc}")
        self._hung = [t for t in self._hung if t.is_alive()]
        if len(self._hung) >= MAX_HUNG:
            return _fail(f"{len(self._hung)} earlier notifications are still stuck; not trying")
        out: list[NotifyResult] = []

        def run() -> None:
            try:
                out.append(n.notify(title, body))
            except Exception as exc:  # noqa: BLE001
                out.append(_fail(f"{type(exc).__name__}: {exc}"))

        t = threading.Thread(target=run, name="micromove-notify-call", daemon=True)
        t.start()
        t.join(self.timeout_s)
        if t.is_alive():
            self._hung.append(t)
            return _fail(f"the notification did not go out within {self.timeout_s:g} s")
        return out[0] if out else _fail("the notifier ended without a result")


def _takes_ok_and_error(on_result: Callable[..., None]) -> bool:
    """Does the callback take (ok, error) rather than one NotifyResult?"""
    import inspect

    try:
        params = inspect.signature(on_result).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [
        p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    return len(positional) >= 2 or any(p.kind == p.VAR_POSITIONAL for p in params)


def _answer(on_result: Callable[..., None], result: NotifyResult) -> None:
    try:
        if _takes_ok_and_error(on_result):
            on_result(result.ok, result.error)
        else:
            on_result(result)
    except Exception as exc:  # noqa: BLE001 - a broken callback must not kill the worker
        import logging

        logging.getLogger("micromove.adapters.notify").error(
            "notification result callback failed: %s: %s", type(exc).__name__, exc
        )


# ------------------------------------------------------------------ the text
def _cue_id(item: object) -> str:
    if isinstance(item, str):
        return item
    cue = getattr(item, "cue", None)
    if isinstance(cue, str):
        return cue
    if isinstance(item, Sequence) and item and isinstance(item[0], str):
        return item[0]
    raise ValueError(f"not a cue: {item!r}")


def format_cue_set(cues: Iterable[object]) -> tuple[str, str]:
    """(title, body) of the one notification for a cue set.

    `cues`: cue ids, or tuples whose first item is the cue id (as the store
    takes them), or objects with a `.cue` id. The title names the body
    regions ("Micro-move: Hands and wrists", "Micro-moves: Hands and wrists,
    Eyes"); the body has one line per movement, "Title — instruction (dose)".
    Raises ValueError for an empty set or an unknown cue id.
    """
    from ..core import catalog

    ids: list[str] = []
    for item in cues:
        cid = _cue_id(item)
        if cid not in catalog.BY_ID:
            raise ValueError(f"unknown cue id {cid!r}")
        if cid not in ids:
            ids.append(cid)
    if not ids:
        raise ValueError("an empty cue set has no notification")
    moves = [catalog.BY_ID[c] for c in ids]
    regions = [r for r in catalog.REGIONS if any(m.region == r for m in moves)]
    word = "Micro-move" if len(moves) == 1 else "Micro-moves"
    title = f"{word}: " + ", ".join(catalog.REGION_NAMES[r] for r in regions)
    body = "\n".join(f"{m.title} \u2014 {m.instruction} ({m.dose})" for m in moves)
    return title, body
