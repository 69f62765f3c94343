"""Stand-ins for desktop services that cannot run here, serving real D-Bus (jeepney).

    python tests/desktop_standins.py logind --address ADDR [--session-id 7]
    python tests/desktop_standins.py screensaver --address ADDR [--name org.gnome.ScreenSaver]

`logind` owns org.freedesktop.login1 on the bus at ADDR (a private bus named
by DBUS_SYSTEM_BUS_ADDRESS in tests: systemd-logind cannot run here) and
serves what micromove reads: Manager `GetSession(id)`, `GetUser(uid)`,
`PrepareForSleep(b)`; the session's `LockedHint` (Get, GetAll,
PropertiesChanged on the session's own path); the user's `Display`.
`screensaver` owns a screensaver name (GNOME's, freedesktop's, ...) and serves
`GetActive` and `ActiveChanged(b)`. `gnome-session` owns org.gnome.SessionManager
and answers `IsInhibited(flags)` (the test sets the flags: `SetInhibited(u)`).

Tests drive them with dbus-send on the interface org.micromove.Test at the
same object: logind `SetLocked(b)` and `Sleep(b)` (emits PrepareForSleep),
screensaver `SetActive(b)`. Each prints "ready" once it owns its name.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

LOGIND = "org.freedesktop.login1"
ROOT = "/org/freedesktop/login1"
MANAGER = "org.freedesktop.login1.Manager"
SESSION = "org.freedesktop.login1.Session"
USER = "org.freedesktop.login1.User"
PROPS = "org.freedesktop.DBus.Properties"
TEST = "org.micromove.Test"
SAVERS = {
    "org.gnome.ScreenSaver": "/org/gnome/ScreenSaver",
    "org.freedesktop.ScreenSaver": "/ScreenSaver",
    "org.mate.ScreenSaver": "/org/mate/ScreenSaver",
    "org.cinnamon.ScreenSaver": "/org/cinnamon/ScreenSaver",
    "org.xfce.ScreenSaver": "/org/xfce/ScreenSaver",
}


def _own(conn: Any, name: str) -> None:
    from jeepney import MessageType
    from jeepney.bus_messages import message_bus

    reply = conn.send_and_get_reply(message_bus.RequestName(name, 4))
    if reply.header.message_type == MessageType.error or reply.body[0] != 1:
        print(f"standin: cannot own {name}", file=sys.stderr)
        raise SystemExit(3)
    print("ready", flush=True)


def logind(address: str, session_id: str) -> None:
    from jeepney import (
        DBusAddress,
        HeaderFields,
        MessageType,
        new_error,
        new_method_return,
        new_signal,
    )
    from jeepney.io.blocking import open_dbus_connection

    conn = open_dbus_connection(bus=address)
    _own(conn, LOGIND)
    spath = f"{ROOT}/session/_3{session_id}"
    upath = f"{ROOT}/user/_1000"
    locked = False
    while True:
        msg = conn.receive()
        if msg.header.message_type != MessageType.method_call:
            continue
        f = msg.header.fields
        path, iface, member = f.get(HeaderFields.path), f.get(HeaderFields.interface), f.get(HeaderFields.member)
        answer: Any = None
        if path == ROOT and member == "GetSession":
            if msg.body[0] == session_id:
                answer = new_method_return(msg, "o", (spath,))
            else:
                answer = new_error(msg, "org.freedesktop.login1.NoSuchSession", "s", ("no such session",))
        elif path == ROOT and member == "GetUser":
            answer = new_method_return(msg, "o", (upath,))
        elif path == spath and iface == PROPS and member == "Get" and msg.body == (SESSION, "LockedHint"):
            answer = new_method_return(msg, "v", (("b", locked),))
        elif path == spath and iface == PROPS and member == "GetAll":
            answer = new_method_return(msg, "a{sv}", ({"LockedHint": ("b", locked), "IdleHint": ("b", False)},))
        elif path == upath and iface == PROPS and member == "Get" and msg.body == (USER, "Display"):
            answer = new_method_return(msg, "v", (("(so)", (session_id, spath)),))
        elif iface == TEST and member == "SetLocked":
            locked = bool(msg.body[0])
            conn.send(new_method_return(msg))
            conn.send(new_signal(DBusAddress(spath, interface=PROPS), "PropertiesChanged", "sa{sv}as",
                                 (SESSION, {"LockedHint": ("b", locked)}, [])))  # fmt: skip
            continue
        elif iface == TEST and member == "Sleep":
            conn.send(new_method_return(msg))
            conn.send(new_signal(DBusAddress(ROOT, interface=MANAGER), "PrepareForSleep", "b", (bool(msg.body[0]),)))
            continue
        else:
            answer = new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "s", (f"{iface}.{member}",))
        conn.send(answer)


def screensaver(address: str, name: str) -> None:
    from jeepney import (
        DBusAddress,
        HeaderFields,
        MessageType,
        new_error,
        new_method_return,
        new_signal,
    )
    from jeepney.io.blocking import open_dbus_connection

    conn = open_dbus_connection(bus=address)
    _own(conn, name)
    path = SAVERS[name]
    active = False
    while True:
        msg = conn.receive()
        if msg.header.message_type != MessageType.method_call:
            continue
        f = msg.header.fields
        iface, member = f.get(HeaderFields.interface), f.get(HeaderFields.member)
        if f.get(HeaderFields.path) == path and member == "GetActive":
            conn.send(new_method_return(msg, "b", (active,)))
        elif iface == TEST and member == "SetActive":
            active = bool(msg.body[0])
            conn.send(new_method_return(msg))
            conn.send(new_signal(DBusAddress(path, interface=name), "ActiveChanged", "b", (active,)))
        else:
            conn.send(new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "s", (f"{iface}.{member}",)))


def gnome_session(address: str) -> None:
    """org.gnome.SessionManager's IsInhibited(flags): what GNOME (X11 or Wayland) tells of
    applications keeping the screen on (flag 8: idle), as fullscreen video does."""
    from jeepney import HeaderFields, MessageType, new_error, new_method_return
    from jeepney.io.blocking import open_dbus_connection

    conn = open_dbus_connection(bus=address)
    _own(conn, "org.gnome.SessionManager")
    flags = 0
    while True:
        msg = conn.receive()
        if msg.header.message_type != MessageType.method_call:
            continue
        f = msg.header.fields
        iface, member = f.get(HeaderFields.interface), f.get(HeaderFields.member)
        if iface == "org.gnome.SessionManager" and member == "IsInhibited":
            conn.send(new_method_return(msg, "b", (bool(flags & int(msg.body[0])),)))
        elif iface == TEST and member == "SetInhibited":
            flags = int(msg.body[0])
            conn.send(new_method_return(msg))
        else:
            conn.send(new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "s", (f"{iface}.{member}",)))


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("role", choices=("logind", "screensaver", "gnome-session"))
    p.add_argument("--address", required=True)
    p.add_argument("--session-id", default="7")
    p.add_argument("--name", default="org.gnome.ScreenSaver", choices=sorted(SAVERS))
    a = p.parse_args()
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if a.role == "logind":
        logind(a.address, a.session_id)
    elif a.role == "gnome-session":
        gnome_session(a.address)
    else:
        screensaver(a.address, a.name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
