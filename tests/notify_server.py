"""A small freedesktop notification server for tests (run as its own process).

    python tests/notify_server.py --address ADDR --record FILE [--mode MODE] [--actions]

Owns org.freedesktop.Notifications on the bus at ADDR (never the ambient
session bus), prints "ready" on stdout once the name is its own, and appends
one JSON line per Notify call to FILE (flushed per line):

    {"t": 1712345678.9, "app_name": "micromove", "summary": "...", "body": "...", "expire_timeout": -1,
     "id": 1, "replaces_id": 0, "actions": ["done", "Done", ...], "hints": {"urgency": 1, ...},
     "sender": ":1.5"}

With --actions, GetCapabilities lists "actions" (as dunst, GNOME, KDE, mako
do); without it only "body". Answers, like a real server's, go as signals
to the connection that sent the notification (GNOME and dunst address them;
`broadcast` sends them to everyone, as mako and KDE do). A test drives them
through the server's own object /org/micromove/Test, interface
org.micromove.Test:

    Invoke(u id, s key, b broadcast)              ActionInvoked(id, key)
    Close(u id, u reason, b broadcast)            NotificationClosed(id, reason)
    Flood(u n, u id, s key, b broadcast)          n ActionInvoked(id, key) at once
                                                  (key "*": n distinct keys)

An id this server never gave is sent to everyone (there is no sender to
address). CloseNotification from a client answers NotificationClosed(id, 3).

Modes:
    ok        answers every call (Notify returns a fresh id)
    error     records Notify, then replies with a D-Bus error
    hang      records Notify and never replies to it; other calls
              (GetServerInformation, GetCapabilities, ...) still answered
    hang-all  owns the name and then reads nothing and answers nothing
              (a frozen server)

It exits non-zero with a message on stderr when the name is already owned.
SIGTERM ends it; the bus then releases the name.
"""

from __future__ import annotations

import argparse
import itertools
import json
import signal
import sys
import time
from typing import Any

NAME = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
SERVER_NAME = "micromove-test-server"
SERVER_VENDOR = "micromove"
SERVER_VERSION = "1.0"
SPEC_VERSION = "1.2"
MODES = ("ok", "error", "hang", "hang-all")
ERROR_NAME = "org.freedesktop.Notifications.Error.Test"
ERROR_TEXT = "test server refuses notifications"


TEST_PATH = "/org/micromove/Test"
TEST_IFACE = "org.micromove.Test"


def serve(address: str, record: str, mode: str, actions: bool = False) -> int:
    from jeepney import (
        DBusAddress,
        HeaderFields,
        MessageType,
        new_error,
        new_method_return,
        new_signal,
    )
    from jeepney.bus_messages import message_bus
    from jeepney.io.blocking import open_dbus_connection

    conn = open_dbus_connection(bus=address)
    reply = conn.send_and_get_reply(message_bus.RequestName(NAME, 4))  # 4: DO_NOT_QUEUE
    if reply.header.message_type == MessageType.error or reply.body[0] != 1:
        print(f"notify_server: cannot own {NAME} (reply {reply.body!r})", file=sys.stderr)
        return 3
    print("ready", flush=True)
    if mode == "hang-all":
        while True:
            time.sleep(3600)

    ids = itertools.count(1)
    senders: dict[int, str] = {}  # notification id -> the connection that sent it
    emitter = DBusAddress(PATH, interface=NAME)

    def emit(member: str, sig: str, body: tuple[Any, ...], nid: int, broadcast: bool) -> None:
        m = new_signal(emitter, member, sig, body)
        to = senders.get(nid)
        if to is not None and not broadcast:
            m.header.fields[HeaderFields.destination] = to
        conn.send(m)

    with open(record, "a", encoding="utf-8") as out:
        while True:
            msg = conn.receive()
            if msg.header.message_type != MessageType.method_call:
                continue
            fields = msg.header.fields
            if fields.get(HeaderFields.path) == TEST_PATH:
                member = fields.get(HeaderFields.member)
                b = msg.body
                if member == "Invoke":
                    emit("ActionInvoked", "us", (b[0], b[1]), b[0], b[2])
                elif member == "Close":
                    emit("NotificationClosed", "uu", (b[0], b[1]), b[0], b[2])
                    senders.pop(b[0], None)
                elif member == "Flood":
                    for i in range(b[0]):
                        key = f"k{i}" if b[2] == "*" else b[2]
                        emit("ActionInvoked", "us", (b[1], key), b[1], b[3])
                else:
                    conn.send(new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod"))
                    continue
                conn.send(new_method_return(msg))
                continue
            if fields.get(HeaderFields.path) != PATH:
                conn.send(new_error(msg, "org.freedesktop.DBus.Error.UnknownObject"))
                continue
            member = fields.get(HeaderFields.member)
            answer: Any
            if member == "Notify":
                app_name, replaces, _icon, summary, body, acts, hints, expire = msg.body
                nid = replaces if replaces in senders else next(ids)
                line = {
                    "t": time.time(),
                    "app_name": app_name,
                    "summary": summary,
                    "body": body,
                    "expire_timeout": expire,
                    "id": nid,
                    "replaces_id": replaces,
                    "actions": list(acts),
                    "hints": {k: v[1] for k, v in hints.items()},
                    "sender": fields.get(HeaderFields.sender),
                }
                out.write(json.dumps(line) + "\n")
                out.flush()
                if mode == "hang":
                    continue
                if mode == "error":
                    answer = new_error(msg, ERROR_NAME, "s", (ERROR_TEXT,))
                else:
                    senders[nid] = str(fields.get(HeaderFields.sender))
                    answer = new_method_return(msg, "u", (nid,))
            elif member == "GetServerInformation":
                answer = new_method_return(
                    msg, "ssss", (SERVER_NAME, SERVER_VENDOR, SERVER_VERSION, SPEC_VERSION)
                )
            elif member == "GetCapabilities":
                answer = new_method_return(msg, "as", (["body", "actions"] if actions else ["body"],))
            elif member == "CloseNotification":
                nid = msg.body[0] if msg.body else 0
                if nid in senders:
                    emit("NotificationClosed", "uu", (nid, 3), nid, False)
                    senders.pop(nid, None)
                answer = new_method_return(msg)
            else:
                answer = new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod")
            conn.send(answer)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--address", required=True, help="D-Bus address of the bus to serve on")
    p.add_argument("--record", required=True, help="file to append one JSON line per Notify to")
    p.add_argument("--mode", choices=MODES, default="ok")
    p.add_argument("--actions", action="store_true", help='list the "actions" capability')
    args = p.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        return serve(args.address, args.record, args.mode, args.actions)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
