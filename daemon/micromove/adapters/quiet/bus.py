"""One D-Bus connection on a thread of its own, for the event-driven quiet-time sources.

`BusWatch(bus, env, setup, on_signal, on_lost)` starts a daemon thread that
connects (jeepney, blocking I/O), runs `setup(watch)` (which may `call`
methods and `match` signals), then waits for messages and hands each signal
to `on_signal(msg)`. Everything, the connection included, happens on that
thread: a hung or missing bus never holds up the daemon's loop. The thread
never polls: it sleeps in `recv` until the bus sends something. When the
connection ends, `on_lost(why)` is called once and the thread ends.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

log = logging.getLogger("micromove")

CALL_TIMEOUT_S = 2.0
SYSTEM_BUS_DEFAULT = "unix:path=/run/dbus/system_bus_socket"


def bus_address(bus: str, env: Mapping[str, str]) -> str | None:
    if bus == "system":
        return env.get("DBUS_SYSTEM_BUS_ADDRESS") or SYSTEM_BUS_DEFAULT
    return env.get("DBUS_SESSION_BUS_ADDRESS") or None


class CallFailed(Exception):
    """A method call got an error reply, no reply in time, or the bus went away."""


class BusWatch:
    def __init__(
        self,
        bus: str,
        env: Mapping[str, str],
        setup: Callable[[BusWatch], None],
        on_signal: Callable[[Any], None],
        on_lost: Callable[[str], None],
        name: str = "quiet",
    ) -> None:
        self.bus = bus
        self.address = bus_address(bus, env)
        self._setup = setup
        self._on_signal = on_signal
        self._on_lost = on_lost
        self._conn: Any = None
        self._backlog: deque[Any] = deque()
        self._stopping = False
        self.ready = threading.Event()  # set once setup ran (or failed)
        self.error: str | None = None
        self._thread = threading.Thread(target=self._run, name=f"micromove-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping = True
        conn = self._conn
        if conn is not None:
            import contextlib
            import socket

            with contextlib.suppress(OSError):
                conn.sock.shutdown(socket.SHUT_RDWR)

    # ------------------------------------------------------------ for setup/handlers
    def call(
        self, dest: str, path: str, iface: str, method: str, sig: str | None = None, body: tuple[Any, ...] = ()
    ) -> tuple[Any, ...]:
        """A method call from this thread; its reply's body, or CallFailed."""
        from jeepney import DBusAddress, HeaderFields, MessageType, new_method_call

        conn = self._conn
        msg = new_method_call(DBusAddress(path, bus_name=dest, interface=iface), method, sig, body)
        serial = next(conn.outgoing_serial)
        try:
            conn.send(msg, serial=serial)
            while True:
                reply = conn.receive(timeout=CALL_TIMEOUT_S)
                if reply.header.fields.get(HeaderFields.reply_serial) == serial:
                    break
                self._backlog.append(reply)
        except TimeoutError:
            raise CallFailed(f"{dest} did not answer {method} in time") from None
        except (OSError, ConnectionError) as exc:
            raise CallFailed(f"the bus went away: {exc}") from None
        if reply.header.message_type == MessageType.error:
            name = reply.header.fields.get(HeaderFields.error_name, "error")
            raise CallFailed(f"{method}: {name}")
        return tuple(reply.body)

    def get_property(self, dest: str, path: str, iface: str, prop: str) -> Any:
        """Properties.Get -> the value (unwrapped from its variant)."""
        (variant,) = self.call(dest, path, "org.freedesktop.DBus.Properties", "Get", "ss", (iface, prop))
        return variant[1] if isinstance(variant, tuple) and len(variant) == 2 else variant

    def match(self, arg0: str | None = None, **rule: str) -> None:
        """Ask the bus for signals matching `rule` (type=signal is implied)."""
        from jeepney import MatchRule

        r = MatchRule(type="signal", **rule)
        if arg0 is not None:
            r.add_arg_condition(0, arg0)
        self.call(
            "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "AddMatch", "s",
            (r.serialise(),),
        )

    # ------------------------------------------------------------ the thread
    def _run(self) -> None:
        from jeepney import MessageType
        from jeepney.io.blocking import open_dbus_connection

        why = "stopped"
        try:
            if self.address is None:
                raise CallFailed("no session bus (DBUS_SESSION_BUS_ADDRESS is not set)")
            try:
                self._conn = open_dbus_connection(self.address, auth_timeout=CALL_TIMEOUT_S)
            except Exception as exc:  # noqa: BLE001 - any failure to connect: not watched
                raise CallFailed(f"cannot connect to the {self.bus} bus: {exc}") from None
            try:
                self._setup(self)
            finally:
                self.ready.set()
            while not self._stopping:
                msg = self._backlog.popleft() if self._backlog else self._conn.receive()
                if msg.header.message_type == MessageType.signal:
                    try:
                        self._on_signal(msg)
                    except Exception as exc:  # noqa: BLE001 - a strange signal never ends watching
                        log.debug("quiet: ignored a signal on the %s bus: %s", self.bus, type(exc).__name__)
        except CallFailed as exc:
            why = str(exc)
        except (OSError, ConnectionError, EOFError) as exc:
            why = "stopped" if self._stopping else f"the {self.bus} bus connection ended ({type(exc).__name__})"
        except Exception as exc:  # noqa: BLE001 - never let a source's thread die loudly
            why = f"{type(exc).__name__}: {exc}"
            log.warning("quiet: watching the %s bus ended: %s", self.bus, why)
        finally:
            self.error = None if why == "stopped" else why
            self.ready.set()
            conn, self._conn = self._conn, None
            if conn is not None:
                import contextlib

                with contextlib.suppress(Exception):
                    conn.close()
            if not self._stopping:
                self._on_lost(why)


def signal_parts(msg: Any) -> tuple[str, str, str]:
    """(path, interface, member) of a signal."""
    from jeepney import HeaderFields

    f = msg.header.fields
    return f.get(HeaderFields.path, ""), f.get(HeaderFields.interface, ""), f.get(HeaderFields.member, "")


def changed_property(msg: Any, iface: str, prop: str) -> tuple[bool, Any]:
    """For a PropertiesChanged signal: (True, value) if it changes `prop` of `iface`;
    (True, None) if it invalidates it; (False, None) otherwise."""
    body = msg.body
    if len(body) != 3 or body[0] != iface:
        return False, None
    changed, invalidated = body[1], body[2]
    if isinstance(changed, dict) and prop in changed:
        v = changed[prop]
        return True, v[1] if isinstance(v, tuple) and len(v) == 2 else v
    if isinstance(invalidated, list) and prop in invalidated:
        return True, None
    return False, None
