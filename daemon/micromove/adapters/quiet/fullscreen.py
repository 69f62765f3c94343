"""Quiet time "fullscreen": the focused window is fullscreen (a presentation, a film, a game).

Checked once at each cue decision (there is no signal to listen to without
watching every window):
- X11 (EWMH): the root window's `_NET_ACTIVE_WINDOW` names a window whose
  `_NET_WM_STATE` holds `_NET_WM_STATE_FULLSCREEN`. Only these two
  properties are read: never a title, a class or anything else of a window.
  It needs a window manager that keeps them (every EWMH one does);
- GNOME (X11 or Wayland): an application inhibits idleness through the
  session manager (org.gnome.SessionManager `IsInhibited(8)`), as video
  players, browsers playing video and presentation tools do.
Not covered: a fullscreen native Wayland window on other compositors (sway,
KDE on Wayland: X11 sees only XWayland windows, and these compositors offer
no fullscreen query to other programs).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping
from typing import Any

from . import Offer

log = logging.getLogger("micromove")

GNOME_SM = ("org.gnome.SessionManager", "/org/gnome/SessionManager", "org.gnome.SessionManager")
INHIBIT_IDLE = 8
CALL_TIMEOUT_S = 1.0


def x11_fullscreen(conn: Any) -> bool:
    """Is the active window fullscreen? Reads two EWMH properties over our own
    small X connection (adapters/inputs/xconn.py; XError when it fails):
    atoms and window state only, never a title."""
    active = conn.intern_atom(b"_NET_ACTIVE_WINDOW")
    state = conn.intern_atom(b"_NET_WM_STATE")
    full = conn.intern_atom(b"_NET_WM_STATE_FULLSCREEN")
    if not (active and state and full):
        return False  # no window manager has named them: nothing is fullscreen
    win = conn.property32(conn.root, active, 1)
    if not win or not win[0]:
        return False
    return full in conn.property32(win[0], state)


def gnome_inhibited(address: str | None) -> bool | None:
    """GNOME session manager: does an application inhibit idleness? (None: no answer)"""
    if not address:
        return None
    from jeepney import DBusAddress, MessageType, new_method_call
    from jeepney.io.blocking import open_dbus_connection

    try:
        conn = open_dbus_connection(address, auth_timeout=CALL_TIMEOUT_S)
    except Exception:  # noqa: BLE001 - no bus: no answer
        return None
    try:
        name, path, iface = GNOME_SM
        msg = new_method_call(DBusAddress(path, bus_name=name, interface=iface), "IsInhibited", "u", (INHIBIT_IDLE,))
        reply = conn.send_and_get_reply(msg, timeout=CALL_TIMEOUT_S)
        if reply.header.message_type == MessageType.error or not reply.body:
            return None
        return bool(reply.body[0])
    except Exception:  # noqa: BLE001 - a slow or strange answer is no answer
        return None
    finally:
        with contextlib.suppress(Exception):
            conn.close()


class FullscreenSource:
    name = "fullscreen"
    what = "a fullscreen window is in front"
    event_driven = False
    checked = True

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = dict(env)
        self.display_name = env.get("DISPLAY") or None
        self._display: Any = None
        self.gnome = False

    def start(self, changed: Callable[[], None]) -> None:
        self.gnome = gnome_inhibited(self.env.get("DBUS_SESSION_BUS_ADDRESS")) is not None

    def stop(self) -> None:
        d, self._display = self._display, None
        if d is not None:
            with contextlib.suppress(Exception):
                d.close()

    def _x11(self) -> bool | None:
        if not self.display_name:
            return None
        try:
            if self._display is None:
                from ..inputs.xconn import connect

                self._display = connect(self.display_name)
            return x11_fullscreen(self._display)
        except Exception as exc:  # noqa: BLE001 - the display went away: try again next time
            log.debug("quiet: fullscreen check on X11 failed: %s", type(exc).__name__)
            self.stop()
            return None

    def holding(self) -> bool:
        if self._x11():
            return True
        if self.gnome:
            return gnome_inhibited(self.env.get("DBUS_SESSION_BUS_ADDRESS")) is True
        return False

    def offer(self) -> Offer:
        self.start(lambda: None)
        parts = []
        if self._x11() is not None:
            parts.append(f"X11 EWMH on {self.display_name}")
        if self.gnome:
            parts.append("GNOME session-manager inhibitors")
        self.stop()
        if self.env.get("WAYLAND_DISPLAY") and not self.gnome:
            note = "a fullscreen native Wayland window is not seen here (only XWayland windows)"
            return Offer(bool(parts), "; ".join([*parts, note]))
        if not parts:
            return Offer(False, "no X display and no GNOME session manager")
        return Offer(True, "; ".join(parts) + " (checked at each cue decision)")


def make(env: Mapping[str, str]) -> FullscreenSource:
    return FullscreenSource(env)
