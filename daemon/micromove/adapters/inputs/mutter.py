"""GNOME: input presence from Mutter's `org.gnome.Mutter.IdleMonitor` (session bus, jeepney).

Presence only (presence.py): Mutter tells when input stopped and resumed,
never what it was. On `/org/gnome/Mutter/IdleMonitor/Core`:

- one idle watch, `AddIdleWatch(pause.min_s in ms)`, armed once: it fires
  `WatchFired(id)` after every idle stretch of that length. The latest input
  is then `now - GetIdletime()` (exact to Mutter's own clock);
- a user-active watch, `AddUserActiveWatch()`, armed whenever the person has
  gone idle: it fires once on the next input and is then gone, so it is
  armed again at every idle. Input that slips in between the idle watch
  firing and the new active watch is caught by reading `GetIdletime` right
  after arming it.
- While an application inhibits idle (a video playing, a presentation),
  Mutter's idle watches do not fire at all, although `GetIdletime` still
  counts. So while the person is active, and only then, the watcher asks
  `GetIdletime` every `check_s` (10 s) seconds: when it has reached the
  timeout, the pause is taken from it (its start is still exact; it is
  only noticed up to 10 s late). While the person is away nothing wakes.

Supervision: when `org.gnome.Mutter.IdleMonitor` leaves the bus
(`NameOwnerChanged` with no new owner) or the bus connection closes, the
watcher ends and says why; the daemon then exits non-zero so that the
service manager restarts it.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Mapping
from typing import Any

from ...logsetup import describe_exception
from .base import InputError
from .presence import PRESENCE_NOTE, PresenceSourceBase, Tracker
from .tap import Tap

log = logging.getLogger("micromove")

NAME = "org.gnome.Mutter.IdleMonitor"
PATH = "/org/gnome/Mutter/IdleMonitor/Core"
IFACE = "org.gnome.Mutter.IdleMonitor"
CALL_TIMEOUT_S = 5.0
CHECK_S = 10.0


class MutterIdleSource(PresenceSourceBase):
    name = f"GNOME Mutter IdleMonitor, {PRESENCE_NOTE}"

    def __init__(self, timeout_s: float, env: Mapping[str, str] | None = None, check_s: float = CHECK_S) -> None:
        super().__init__(timeout_s)
        self.env = env
        self.check_s = check_s
        self._conn: Any = None
        self._idle_id: int | None = None
        self._active_id: int | None = None

    # ------------------------------------------------------------ bus
    def _address(self) -> str:
        import os

        env = os.environ if self.env is None else self.env
        addr = env.get("DBUS_SESSION_BUS_ADDRESS", "")
        if not addr:
            raise InputError("no session bus: DBUS_SESSION_BUS_ADDRESS is not set")
        return addr

    def _connect(self) -> Any:
        try:
            from jeepney.io.blocking import open_dbus_connection
        except ImportError:
            raise InputError("watching GNOME's idle monitor needs jeepney (pip install jeepney)") from None
        addr = self._address()
        try:
            return open_dbus_connection(bus=addr)
        except Exception as exc:  # noqa: BLE001 - any failure: one clear line
            raise InputError(f"cannot connect to the session bus: {describe_exception(exc)}") from None

    def _call(self, method: str, sig: str | None = None, *args: Any) -> Any:
        from jeepney import DBusAddress, MessageType, new_method_call

        addr = DBusAddress(PATH, bus_name=NAME, interface=IFACE)
        msg = new_method_call(addr, method, sig, args) if sig else new_method_call(addr, method)
        reply = self._conn.send_and_get_reply(msg, timeout=CALL_TIMEOUT_S)
        if reply.header.message_type == MessageType.error:
            detail = reply.body[0] if reply.body else reply.header.fields
            raise InputError(f"{NAME}.{method} failed: {detail}")
        return reply.body[0] if reply.body else None

    def _has_owner(self) -> bool:
        from jeepney import DBusAddress, new_method_call

        bus = DBusAddress("/org/freedesktop/DBus", bus_name="org.freedesktop.DBus", interface="org.freedesktop.DBus")
        reply = self._conn.send_and_get_reply(new_method_call(bus, "NameHasOwner", "s", (NAME,)), timeout=CALL_TIMEOUT_S)
        return bool(reply.body and reply.body[0])

    def probe(self) -> str | None:
        """None when Mutter's idle monitor answers on the session bus; else why not."""
        try:
            self._conn = self._connect()
            try:
                if not self._has_owner():
                    return f"{NAME} is not on the session bus (not a GNOME session)"
                self._call("GetIdletime")
            finally:
                self._close()
        except InputError as exc:
            return str(exc)
        except Exception as exc:  # noqa: BLE001
            return f"{NAME}: {describe_exception(exc)}"
        return None

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    # ------------------------------------------------------------ lifecycle
    def start(self, tap: Tap) -> None:
        from jeepney import MatchRule, message_bus

        self._tap = tap
        self.tracker = Tracker(tap)
        self._conn = self._connect()
        try:
            if not self._has_owner():
                raise InputError(f"{NAME} is not on the session bus (not a GNOME session)")
            owner = MatchRule(
                type="signal",
                sender="org.freedesktop.DBus",
                interface="org.freedesktop.DBus",
                member="NameOwnerChanged",
                path="/org/freedesktop/DBus",
            )
            owner.add_arg_condition(0, NAME)
            for rule in (
                MatchRule(type="signal", sender=NAME, interface=IFACE, member="WatchFired", path=PATH),
                owner,
            ):
                self._conn.send_and_get_reply(message_bus.AddMatch(rule), timeout=CALL_TIMEOUT_S)
            self._filter = self._conn.filter(MatchRule(type="signal"), bufsize=256)
            self._queue = self._filter.__enter__()
            self._idle_id = int(self._call("AddIdleWatch", "t", int(self.timeout_s * 1000)))
            idle_ms = int(self._call("GetIdletime"))
        except InputError:
            self._close()
            raise
        except Exception as exc:  # noqa: BLE001
            self._close()
            raise InputError(f"{NAME}: {describe_exception(exc)}") from None
        now = tap.now()
        if idle_ms < self.timeout_s * 1000:
            # Input within the timeout: going on (its start is the latest input we know).
            self.tracker.resumed(now - idle_ms / 1000.0)
        else:
            self._arm_active()
        self._start_reader(self._loop, "micromove-mutter-idle", stop_pipe=False)  # stop shuts the bus socket
        log.debug("mutter idle monitor: watching (idle watch %s, %d ms)", self._idle_id, self.timeout_s * 1000)

    def _arm_active(self) -> None:
        assert self.tracker is not None and self._tap is not None
        self._active_id = int(self._call("AddUserActiveWatch"))
        idle_ms = int(self._call("GetIdletime"))
        log.debug("mutter idle monitor: active watch %s; idle for %d ms", self._active_id, idle_ms)
        if idle_ms < self.timeout_s * 1000:
            # Input came between the idle watch and this active watch.
            with contextlib.suppress(Exception):
                self._call("RemoveWatch", "u", self._active_id)
            self._active_id = None
            self.tracker.resumed(self._tap.now() - idle_ms / 1000.0)

    def _went_idle(self, idle_ms: int) -> None:
        assert self.tracker is not None and self._tap is not None
        self.tracker.idled(self._tap.now() - idle_ms / 1000.0)
        self._arm_active()

    def _loop(self) -> None:
        from jeepney import HeaderFields

        assert self.tracker is not None and self._tap is not None
        tracker, conn, q = self.tracker, self._conn, self._queue
        why = "the idle monitor watcher stopped"
        try:
            while True:
                try:
                    msg = conn.recv_until_filtered(q, timeout=self.check_s if tracker.busy else None)
                except TimeoutError:
                    # Active, and no idle watch for check_s: idle may be inhibited.
                    idle_ms = int(self._call("GetIdletime"))
                    log.debug("mutter idle monitor: no watch fired for %.1f s; idle for %d ms", self.check_s, idle_ms)
                    if idle_ms >= self.timeout_s * 1000:
                        self._went_idle(idle_ms)
                    continue
                member = msg.header.fields.get(HeaderFields.member)
                body = msg.body
                log.debug("mutter idle monitor: %s %s (busy %s; idle watch %s, active watch %s)",
                          member, body, tracker.busy, self._idle_id, self._active_id)
                if member == "NameOwnerChanged":
                    if len(body) == 3 and body[0] == NAME and not body[2]:
                        why = f"{NAME} left the session bus (Mutter exited)"
                        return
                    continue
                if member != "WatchFired" or not body:
                    continue
                wid = body[0]
                if wid == self._idle_id:
                    if tracker.busy:
                        self._went_idle(int(self._call("GetIdletime")))
                elif wid == self._active_id:
                    self._active_id = None
                    idle_ms = int(self._call("GetIdletime"))
                    tracker.resumed(self._tap.now() - idle_ms / 1000.0)
        except BaseException as exc:  # noqa: BLE001
            if isinstance(exc, (ConnectionError, OSError, EOFError)):
                why = f"the session bus connection closed ({describe_exception(exc)})"
            else:
                why = f"{NAME}: {describe_exception(exc)}"
        finally:
            self._died(why)

    def _wake_reader(self) -> None:
        conn = self._conn
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.sock.shutdown(socket.SHUT_RDWR)
