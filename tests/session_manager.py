"""A stand-in `org.gnome.SessionManager` that inhibits idle, for Mutter's IdleMonitor.

Mutter (43) follows gnome-session's `InhibitedActions` property: while it
holds the idle flag (8), as when a video plays, Mutter's idle watches do not
fire (GetIdletime still counts). gnome-session cannot run here, so this
owns the name on the private bus, answers `Get`/`GetAll` for the property
and announces changes with `PropertiesChanged`: the same D-Bus surface
Mutter reads. Run it as a thread (`SessionManager(bus).start()`).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any

NAME = "org.gnome.SessionManager"
PATH = "/org/gnome/SessionManager"
IDLE = 8


class SessionManager:
    def __init__(self, bus: str) -> None:
        from jeepney.io.blocking import open_dbus_connection

        self.conn = open_dbus_connection(bus=bus)
        self.inhibited = 0
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self.calls: list[str] = []

    def start(self) -> SessionManager:
        from jeepney.bus_messages import message_bus

        reply = self.conn.send_and_get_reply(message_bus.RequestName(NAME), timeout=5)
        assert reply.body[0] == 1, reply.body
        self._thread.start()
        return self

    def set_inhibited(self, flags: int) -> None:
        from jeepney import DBusAddress, new_signal

        with self._lock:
            self.inhibited = flags
            sig = new_signal(
                DBusAddress(PATH, interface="org.freedesktop.DBus.Properties"),
                "PropertiesChanged",
                "sa{sv}as",
                (NAME, {"InhibitedActions": ("u", flags)}, []),
            )
            self.conn.send(sig)

    def _serve(self) -> None:
        from jeepney import HeaderFields, MessageType, new_error, new_method_return

        while True:
            try:
                msg = self.conn.receive()
            except Exception:  # noqa: BLE001 - closed: the test is over
                return
            if msg.header.message_type != MessageType.method_call:
                continue
            f = msg.header.fields
            member = f.get(HeaderFields.member)
            self.calls.append(str(member))
            reply: Any
            with self._lock:
                if member == "GetAll":
                    reply = new_method_return(msg, "a{sv}", ({"InhibitedActions": ("u", self.inhibited)},))
                elif member == "Get" and msg.body[1:] == ("InhibitedActions",):
                    reply = new_method_return(msg, "v", (("u", self.inhibited),))
                elif member == "IsInhibited":
                    reply = new_method_return(msg, "b", (bool(self.inhibited & msg.body[0]),))
                else:
                    reply = new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "s", (f"no {member}",))
                with contextlib.suppress(Exception):
                    self.conn.send(reply)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(5)
        with contextlib.suppress(Exception):
            self.conn.close()
