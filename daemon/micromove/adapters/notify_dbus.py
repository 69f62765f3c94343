"""Cue notifications with Done and Snooze buttons: one long-lived session-bus connection.

GNOME Shell and dunst send a notification's answers (`ActionInvoked`,
`NotificationClosed`) only to the connection that sent it, so
`ActionNotifier` keeps one open: opened within the call's deadline on the
notifier's worker thread (at start: `prepare`), read by a thread of its own
that blocks in `select` on the socket and a stop pipe (no timer: no wake-up
while nothing arrives). Buttons only where the server lists `actions`;
urgency 1, category `x-micromove.cue`, `expire_timeout` EXPIRE_MS (two
minutes), and the next cue replaces the previous one (`replaces_id`), so
GNOME's message list holds one micromove cue at most. Only signals from the
server that got the Notify, for ids this process was given, become `Answer`s
for the answer sink; everything else is logged once, then counted. A broken
connection is reopened at the next cue, with back-off, and meanwhile cues go
out on a connection per call without buttons (DBusNotifier.notify_by).

The why, and every choice with its reason: docs/notifications.md,
"Buttons: Done and Snooze".
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import select
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .notify import (
    BUS_NAME,
    DEFAULT_TIMEOUT_S,
    NO_SERVER,
    OBJECT_PATH,
    DBusNotifier,
    NotifyPyNotifier,
    NotifyResult,
    _Call,
    _error_text,
    _fail,
    _is_error,
    _notifications,
    _Timeout,
)

log = logging.getLogger("micromove")

EXPIRE_MS = 120_000
CATEGORY = "x-micromove.cue"
URGENCY_NORMAL = 1
BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 60.0
MAX_SENT = 64  # notifications whose answers are still listened for
MAX_KEYS = 4  # distinct action keys taken from one notification
CLOSED_REASONS = {1: "expired", 2: "dismissed", 3: "closed by micromove", 4: "closed (undefined reason)"}


@dataclass(frozen=True, slots=True)
class Answer:
    """What the person did with a cue notification (passed to the answer sink)."""

    tag: int  # the cue set's delivery id
    kind: str  # "action" (a button or the body) | "closed"
    key: str = ""  # the action key, for "action"
    reason: int = 0  # NotificationClosed's reason, for "closed"


@dataclass(slots=True)
class _Sent:
    tag: int
    keys: set[str]


def escape(text: str, limit: int = 60) -> str:
    """A string from the bus, safe for one log line (control characters escaped)."""
    out = text[:limit].encode("unicode_escape").decode("ascii")
    return out + ("..." if len(text) > limit else "")


# ------------------------------------------------------------------ the connection
class _Conn:
    """One open bus connection: a reader thread dispatches replies and signals."""

    def __init__(
        self,
        call: _Call,
        on_signal: Callable[[Any], None],
        on_broken: Callable[[_Conn, str], None],
        send_timeout_s: float,
    ) -> None:
        self.sock = call.sock
        self.parser = call.parser
        self._serials = call.serials
        self._on_signal = on_signal
        self._on_broken = on_broken
        self._lock = threading.Lock()  # _waiting, broken, serials
        self._send_lock = threading.Lock()  # one message on the socket at a time
        self._waiting: dict[int, tuple[threading.Event, list[Any], Callable[[Any], None] | None]] = {}
        self.broken: str | None = None
        self._closing = False
        self.sock.settimeout(send_timeout_s)  # bounds sendall; the reader recvs only when readable
        self._stop_r, self._stop_w = os.pipe()
        self._thread = threading.Thread(target=self._read, name="micromove-notify-bus", daemon=True)
        self._thread.start()

    # ---------------------------------------------------------- calls (any thread)
    def call(self, msg: Any, deadline: float, on_reply: Callable[[Any], None] | None = None) -> Any:
        """Send a method call and wait for its reply until `deadline` (_Timeout, ConnectionError).

        `on_reply(reply)` runs on the reader thread before any later message is
        dispatched (so a signal right after a reply already sees its effect).
        """
        event = threading.Event()
        slot: list[Any] = []
        with self._lock:
            if self.broken is not None:
                raise ConnectionError(self.broken)
            serial = next(self._serials)
            self._waiting[serial] = (event, slot, on_reply)
        try:
            self.send(msg, serial)
            if not event.wait(max(0.0, deadline - time.monotonic())):
                raise _Timeout
            if not slot or slot[0] is None:
                raise ConnectionError(self.broken or "the connection closed")
            return slot[0]
        finally:
            with self._lock:
                self._waiting.pop(serial, None)

    def send(self, msg: Any, serial: int | None = None) -> None:
        if serial is None:
            with self._lock:
                serial = next(self._serials)
        data = msg.serialise(serial=serial)
        if self.broken is not None:
            raise ConnectionError(self.broken)
        try:
            with self._send_lock:
                self.sock.sendall(data)
        except TimeoutError:
            raise _Timeout from None
        except OSError as exc:
            self._broke(f"cannot write to the session bus: {exc.strerror or exc}")
            raise ConnectionError(self.broken or str(exc)) from None

    def close(self) -> None:
        self._closing = True
        with contextlib.suppress(OSError):
            os.write(self._stop_w, b"x")
        self._thread.join(timeout=2.0)
        self._broke("closed", report=False)
        with contextlib.suppress(OSError):
            self.sock.close()
        for fd in (self._stop_r, self._stop_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    # ---------------------------------------------------------- the reader thread
    def _read(self) -> None:
        from jeepney import HeaderFields, MessageType

        sock, stop = self.sock, self._stop_r
        try:
            while True:
                while True:  # what is buffered first (the opening may have read ahead)
                    msg = self.parser.get_next_message()
                    if msg is None:
                        break
                    kind = msg.header.message_type
                    if kind in (MessageType.method_return, MessageType.error):
                        self._reply(msg, msg.header.fields.get(HeaderFields.reply_serial))
                    elif kind == MessageType.signal:
                        try:
                            self._on_signal(msg)
                        except Exception as exc:  # noqa: BLE001 - one bad signal never ends the reader
                            log.warning("ignored a notification signal: %s: %s", type(exc).__name__, exc)
                ready, _, _ = select.select([sock, stop], [], [])
                if stop in ready:
                    return
                try:
                    data = sock.recv(65536)
                except (BlockingIOError, InterruptedError, TimeoutError):
                    continue
                if not data:
                    self._broke("the session bus closed the connection")
                    return
                self.parser.add_data(data)
        except (OSError, ValueError) as exc:
            self._broke(f"reading the session bus failed: {type(exc).__name__}: {exc}")
        except Exception as exc:  # noqa: BLE001 - a malformed message: the stream cannot be trusted
            self._broke(f"unreadable message from the session bus: {type(exc).__name__}: {exc}")

    def _reply(self, msg: Any, serial: object) -> None:
        with self._lock:
            w = self._waiting.get(serial) if isinstance(serial, int) else None
        if w is None:
            return  # a reply that came after its caller gave up
        event, slot, on_reply = w
        if on_reply is not None and not _is_error(msg):
            try:
                on_reply(msg)
            except Exception as exc:  # noqa: BLE001
                log.warning("notification reply hook failed: %s: %s", type(exc).__name__, exc)
        slot.append(msg)
        event.set()

    def _broke(self, why: str, report: bool = True) -> None:
        with self._lock:
            if self.broken is not None:
                return
            self.broken = why
            waiting = list(self._waiting.values())
        for event, slot, _ in waiting:
            slot.append(None)
            event.set()
        if report and not self._closing:
            self._on_broken(self, why)


# ------------------------------------------------------------------ the notifier
def cue_actions(snooze_min: float) -> tuple[tuple[str, str], ...]:
    """The buttons of a cue notification: keys are fixed, labels follow the config."""
    return (("done", "Done"), ("snooze", f"Snooze {snooze_min:g} min"))


class ActionNotifier(DBusNotifier):
    """DBusNotifier (`notify`: a connection per call, no buttons, as for the check-in
    reminder) plus `notify_cue`: a cue on the long-lived connection, with buttons."""

    bounded = True

    def __init__(
        self,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        address: str | None = None,
        app_name: str = "micromove",
        expire_ms: int = EXPIRE_MS,
    ) -> None:
        super().__init__(timeout_s, address, app_name)
        self.expire_ms = int(expire_ms)
        self._sink: Callable[[Answer], None] | None = None
        self._conn: _Conn | None = None
        self._state = threading.Lock()  # _sent, _caps, _last, counters (reader + worker)
        self._sent: collections.OrderedDict[tuple[str, int], _Sent] = collections.OrderedDict()
        self._caps: dict[str, bool] = {}  # server unique name -> lists "actions"
        self._last: tuple[str, int] | None = None  # the latest cue notification still open
        self._retry_at = 0.0
        self._backoff = 0.0
        self._had_conn = False
        self.ignored = 0  # signals for ids this process did not send (tests, the exit log)
        self.stats = {"answers": 0, "ignored": 0, "reconnects": 0, "fallbacks": 0}

    def set_answer_sink(self, sink: Callable[[Answer], None]) -> None:
        self._sink = sink

    # ---------------------------------------------------------- the connection
    def _connection(self, deadline: float) -> _Conn | None:
        conn = self._conn
        if conn is not None and conn.broken is None:
            return conn
        if conn is not None:  # broken: its reader has ended; free its socket and pipe
            self._conn = None
            conn.close()
        now = time.monotonic()
        if now < self._retry_at:
            return None
        address = self._bus()
        if address is None:
            return None
        from jeepney import MatchRule
        from jeepney.bus_messages import message_bus

        # At most half the call's time: the rest is left for a plain send.
        by = min(deadline, now + self.timeout_s / 2)
        try:
            c = _Call(address, by)
            try:
                notes = MatchRule(type="signal", sender=BUS_NAME, interface=BUS_NAME, path=OBJECT_PATH)
                owner = MatchRule(
                    type="signal",
                    sender="org.freedesktop.DBus",
                    interface="org.freedesktop.DBus",
                    member="NameOwnerChanged",
                    path="/org/freedesktop/DBus",
                )
                owner.add_arg_condition(0, BUS_NAME)
                for rule in (notes, owner):
                    reply = c.call(message_bus.AddMatch(rule))
                    if _is_error(reply):
                        raise ConnectionError(f"the bus refused a match rule: {_error_text(reply)}")
            except BaseException:
                c.close()
                raise
        except Exception as exc:  # noqa: BLE001 - _Timeout, OSError, ConnectionError, a bad reply
            why = "no answer in time" if isinstance(exc, (_Timeout, TimeoutError)) else (
                f"{type(exc).__name__}: {exc}"
            )
            self._backoff = BACKOFF_FIRST_S if self._backoff <= 0 else min(BACKOFF_MAX_S, self._backoff * 2)
            self._retry_at = time.monotonic() + self._backoff
            log.warning(
                "cannot open the notification connection (%s): cues go out without buttons; "
                "next try in %g s", why, self._backoff,
            )
            return None
        self._conn = _Conn(c, self._signal, self._lost, send_timeout_s=self.timeout_s)
        self._backoff = 0.0
        self._retry_at = 0.0
        if self._had_conn:
            self.stats["reconnects"] += 1
            log.info("notification connection open again: cues carry their buttons again")
        self._had_conn = True
        return self._conn

    def prepare(self) -> None:
        """Open the connection and learn the server's capabilities now (at start), within
        `timeout_s`; a failure here is logged and the first cue tries again."""
        from jeepney.bus_messages import message_bus

        if self._bus() is None:
            return
        deadline = time.monotonic() + self.timeout_s
        conn = self._connection(deadline)
        if conn is None:
            return
        try:
            reply = conn.call(message_bus.GetNameOwner(BUS_NAME), deadline)
            if not _is_error(reply):
                self._capabilities(conn, str(reply.body[0]), deadline)
        except Exception:  # noqa: BLE001 - no server yet, a hung one: the first cue will say
            return

    def _capabilities(self, conn: _Conn, owner: str | None, deadline: float) -> bool:
        """Does the server `owner` show buttons? (Cached per server.)"""
        from jeepney import new_method_call

        with self._state:
            has = self._caps.get(owner) if owner is not None else None
        if has is not None:
            return has
        reply = conn.call(new_method_call(_notifications(), "GetCapabilities"), deadline)
        caps = reply.body[0] if not _is_error(reply) and reply.body else []
        has = isinstance(caps, list) and "actions" in caps
        if owner is not None:
            with self._state:
                self._caps[owner] = has
        if not has:
            log.info("the notification server shows no buttons: answer cues with `mmctl done` / `mmctl snooze`")
        return has

    def _lost(self, conn: _Conn, why: str) -> None:
        """Reader thread: the connection broke."""
        with self._state:
            n = len(self._sent)
            self._sent.clear()
            self._caps.clear()
            self._last = None
        tail = f"; {n} cue notifications shown can no longer be answered with their buttons" if n else ""
        log.warning("lost the notification connection (%s)%s; reopening it at the next cue", why, tail)

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
        if self.ignored > 1:
            log.info("ignored %d notification answers that were not for this micromove's cues", self.ignored)

    # ---------------------------------------------------------- a cue
    def notify_cue(
        self, title: str, body: str, tag: int, actions: tuple[tuple[str, str], ...] = ()
    ) -> NotifyResult:
        deadline = time.monotonic() + self.timeout_s
        if self._bus() is None:
            return super().notify_by(title, body, deadline)  # says "no session bus"
        conn = self._connection(deadline)
        if conn is None:
            self.stats["fallbacks"] += 1
            return super().notify_by(title, body, deadline)
        try:
            return self._send(conn, title, body, tag, actions, deadline)
        except _Timeout:
            return _fail(f"the notification server did not answer within {self.timeout_s:g} s")
        except ConnectionError as exc:
            # Broke under us: the cue still goes out, without buttons, if time is left.
            if time.monotonic() < deadline:
                self.stats["fallbacks"] += 1
                r = super().notify_by(title, body, deadline)
                if r.ok:
                    return r
                return _fail(f"lost the connection to the session bus ({exc}); then: {r.error}")
            return _fail(f"lost the connection to the session bus: {exc}")
        except Exception as exc:  # noqa: BLE001 - never raise to the caller
            return _fail(f"notification failed: {type(exc).__name__}: {exc}")

    def _send(
        self, conn: _Conn, title: str, body: str, tag: int, actions: tuple[tuple[str, str], ...], deadline: float
    ) -> NotifyResult:
        from jeepney import HeaderFields, new_method_call
        from jeepney.bus_messages import message_bus

        reply = conn.call(message_bus.GetNameOwner(BUS_NAME), deadline)
        owner: str | None = None
        if not _is_error(reply):
            owner = str(reply.body[0])
        else:
            reply = conn.call(message_bus.ListActivatableNames(), deadline)
            if _is_error(reply) or BUS_NAME not in reply.body[0]:
                return _fail(NO_SERVER)
        has_actions = self._capabilities(conn, owner, deadline) if actions else False
        flat: list[str] = []
        if has_actions:
            for key, label in actions:
                flat += [key, label]
        with self._state:
            last = self._last
        replaces = last[1] if last is not None and last[0] == owner else 0
        hints = {"urgency": ("y", URGENCY_NORMAL), "category": ("s", CATEGORY)}
        msg = new_method_call(
            _notifications(),
            "Notify",
            "susssasa{sv}i",
            (self.app_name, replaces, "", title, body, flat, hints, self.expire_ms),
        )

        def register(r: Any) -> None:  # reader thread, before any later signal
            sender = r.header.fields.get(HeaderFields.sender)
            if not isinstance(sender, str) or not r.body or not isinstance(r.body[0], int):
                return
            key = (sender, int(r.body[0]))
            with self._state:
                self._sent.pop(key, None)
                self._sent[key] = _Sent(tag, set())
                while len(self._sent) > MAX_SENT:
                    self._sent.popitem(last=False)
                self._last = key

        reply = conn.call(msg, deadline, on_reply=register)
        if _is_error(reply):
            return _fail(f"the notification server refused it: {_error_text(reply)}")
        try:
            server = self._server_name_on(conn, owner, deadline)
        except (_Timeout, ConnectionError, OSError):
            server = None  # delivered; only its name is unknown
        return NotifyResult(True, None, server)

    def _server_name_on(self, conn: _Conn, owner: str | None, deadline: float) -> str | None:
        from jeepney import new_method_call

        if owner is not None:
            with self._lock:
                if owner in self._names:
                    return self._names[owner]
        reply = conn.call(new_method_call(_notifications(), "GetServerInformation"), deadline)
        if _is_error(reply) or not reply.body:
            return None
        name = str(reply.body[0])
        if owner is not None:
            with self._lock:
                if len(self._names) > 16:
                    self._names.clear()
                self._names[owner] = name
        return name

    # ---------------------------------------------------------- signals (reader thread)
    def _signal(self, msg: Any) -> None:
        from jeepney import HeaderFields

        f = msg.header.fields
        iface, member, sender = f.get(HeaderFields.interface), f.get(HeaderFields.member), f.get(HeaderFields.sender)
        body = msg.body
        if iface == "org.freedesktop.DBus" and member == "NameOwnerChanged":
            if len(body) == 3 and body[0] == BUS_NAME and body[1]:
                self._server_gone(str(body[1]), str(body[2]))
            return
        if iface != BUS_NAME or member not in ("ActionInvoked", "NotificationClosed"):
            return
        if len(body) != 2 or not isinstance(body[0], int) or isinstance(body[0], bool):
            self._ignore(f"a malformed {member} signal (signature {escape(str(f.get(HeaderFields.signature)))})")
            return
        nid = int(body[0])
        key = (str(sender), nid)
        with self._state:
            sent = self._sent.get(key)
            if sent is not None and member == "NotificationClosed":
                del self._sent[key]
                if self._last == key:
                    self._last = None
        if sent is None:
            self._ignore(f"{member} for notification {nid}, which this micromove did not send")
            return
        if member == "ActionInvoked":
            if not isinstance(body[1], str):
                self._ignore(f"a malformed ActionInvoked signal for notification {nid}")
                return
            action = body[1]
            with self._state:
                if action in sent.keys or len(sent.keys) >= MAX_KEYS:
                    return  # the same button again, or a flood of keys: answered already
                sent.keys.add(action)
            self._emit(Answer(sent.tag, "action", key=action))
            if action in ("done", "snooze"):
                self._close_note(nid)
        else:
            reason = body[1] if isinstance(body[1], int) and not isinstance(body[1], bool) else 0
            self._emit(Answer(sent.tag, "closed", reason=int(reason)))

    def _server_gone(self, old: str, new: str) -> None:
        with self._state:
            lost = [k for k in self._sent if k[0] == old]
            for k in lost:
                del self._sent[k]
            self._caps.pop(old, None)
            if self._last is not None and self._last[0] == old:
                self._last = None
        if lost:
            what = "restarted" if new else "went away"
            log.warning(
                "the notification server %s: %d cue notification%s it showed can no longer be "
                "answered with buttons (`mmctl done` still works)", what, len(lost), "" if len(lost) == 1 else "s",
            )

    def _ignore(self, what: str) -> None:
        with self._state:
            self.ignored += 1
            first = self.ignored == 1
        self.stats["ignored"] = self.ignored
        if first:
            log.info("ignored %s (further ones are counted, not logged)", what)
        else:
            log.debug("ignored %s", what)

    def _emit(self, answer: Answer) -> None:
        self.stats["answers"] += 1
        sink = self._sink
        if sink is None:
            return
        try:
            sink(answer)
        except Exception as exc:  # noqa: BLE001 - the sink only queues; never let it end the reader
            log.warning("notification answer not taken: %s: %s", type(exc).__name__, exc)

    def _close_note(self, nid: int) -> None:
        """CloseNotification without waiting for its reply (we are on the reader thread)."""
        from jeepney import MessageFlag, new_method_call

        conn = self._conn
        if conn is None:
            return
        msg = new_method_call(_notifications(), "CloseNotification", "u", (nid,))
        msg.header.flags |= MessageFlag.no_reply_expected
        with contextlib.suppress(Exception):
            conn.send(msg)


def make_cue_notifier(timeout_s: float = DEFAULT_TIMEOUT_S) -> ActionNotifier | NotifyPyNotifier:
    """The daemon's notifier: buttons over D-Bus on Linux; notify-py (no buttons) on macOS."""
    if sys.platform == "darwin" or sys.platform.startswith("win"):
        return NotifyPyNotifier(timeout_s)
    return ActionNotifier(timeout_s)
