"""Quiet time "dnd": the desktop's own do-not-disturb is on.

- KDE (and any notification server offering it): the `Inhibited` property of
  org.freedesktop.Notifications, with PropertiesChanged: event-driven;
- dunst: the `paused` property of its interface org.dunstproject.cmd0 on the
  same object (`dunstctl set-paused true`), with PropertiesChanged:
  event-driven;
- Xfce: `/do-not-disturb` in the xfconf channel `xfce4-notifyd`
  (org.xfce.Xfconf `GetProperty`, signal `PropertyChanged`): event-driven;
- GNOME: `show-banners` false in org.gnome.desktop.notifications, read with
  `gsettings get` (whatever backend the desktop uses: dconf, or the keyfile
  backend under GSETTINGS_BACKEND=keyfile) once at each cue decision.
A notification server that restarts is read again (NameOwnerChanged).
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading
from collections.abc import Callable, Mapping
from typing import Any

from . import Offer
from .bus import BusWatch, CallFailed, changed_property, signal_parts

log = logging.getLogger("micromove")

NOTIFICATIONS = "org.freedesktop.Notifications"
NOTIFICATIONS_PATH = "/org/freedesktop/Notifications"
DUNST = "org.dunstproject.cmd0"
XFCONF = "org.xfce.Xfconf"
XFCONF_PATH = "/org/xfce/Xfconf"
XFCE_CHANNEL, XFCE_PROP = "xfce4-notifyd", "/do-not-disturb"
GNOME_SCHEMA, GNOME_KEY = "org.gnome.desktop.notifications", "show-banners"
GSETTINGS_TIMEOUT_S = 1.0


def gsettings_show_banners(env: Mapping[str, str]) -> bool | None:
    """GNOME's show-banners (None: no gsettings, no such schema, or no answer)."""
    exe = shutil.which("gsettings", path=env.get("PATH"))
    if exe is None:
        return None
    try:
        r = subprocess.run(
            [exe, "get", GNOME_SCHEMA, GNOME_KEY], env=dict(env), capture_output=True, text=True,
            timeout=GSETTINGS_TIMEOUT_S, check=False, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    value = r.stdout.strip()
    if r.returncode != 0 or value not in ("true", "false"):
        return None
    return value == "true"


class DndSource:
    name = "dnd"
    what = "do not disturb is on"
    event_driven = True

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = dict(env)
        self._lock = threading.Lock()
        self._on: dict[str, bool] = {}  # "kde" | "dunst" | "xfce" -> on
        self._changed: Callable[[], None] = lambda: None
        self._watch: BusWatch | None = None
        # GNOME is read at cue decisions: only if its schema is there.
        self.gnome = False
        self.checked = False
        self.parts: dict[str, str] = {}

    # ------------------------------------------------------------ state
    def holding(self) -> bool:
        with self._lock:
            if any(self._on.values()):
                return True
        if self.gnome:
            return gsettings_show_banners(self.env) is False
        return False

    def _set(self, part: str, on: bool) -> None:
        with self._lock:
            before = any(self._on.values())
            self._on[part] = on
            after = any(self._on.values())
        if before != after:
            self._changed()

    # ------------------------------------------------------------ watching
    def start(self, changed: Callable[[], None]) -> None:
        self._changed = changed
        self.gnome = gsettings_show_banners(self.env) is not None
        self.checked = self.gnome
        if self.gnome:
            self.parts["gnome"] = "GNOME show-banners (read at each cue decision)"
        self._watch = BusWatch("session", self.env, self._setup, self._signal, self._lost, "quiet-dnd")
        self._watch.start()

    def stop(self) -> None:
        if self._watch is not None:
            self._watch.stop()

    def wait_ready(self, timeout: float = 5.0) -> bool:
        return self._watch is not None and self._watch.ready.wait(timeout)

    def _setup(self, watch: BusWatch) -> None:
        watch.match(path=NOTIFICATIONS_PATH, interface="org.freedesktop.DBus.Properties", member="PropertiesChanged")
        watch.match(sender="org.freedesktop.DBus", interface="org.freedesktop.DBus", member="NameOwnerChanged",
                    arg0=NOTIFICATIONS)  # fmt: skip
        watch.match(path=XFCONF_PATH, interface=XFCONF, member="PropertyChanged", arg0=XFCE_CHANNEL)
        watch.match(sender="org.freedesktop.DBus", interface="org.freedesktop.DBus", member="NameOwnerChanged",
                    arg0=XFCONF)  # fmt: skip
        self._read_server(watch)
        self._read_xfce(watch)

    def _read_server(self, watch: BusWatch) -> None:
        for part, iface, prop in (("kde", NOTIFICATIONS, "Inhibited"), ("dunst", DUNST, "paused")):
            try:
                v = watch.get_property(NOTIFICATIONS, NOTIFICATIONS_PATH, iface, prop)
            except (CallFailed, ValueError):
                self._set(part, False)
                continue
            if isinstance(v, bool):
                self.parts[part] = f"{'KDE Inhibited' if part == 'kde' else 'dunst paused'} (signals)"
                self._set(part, v)

    def _read_xfce(self, watch: BusWatch) -> None:
        try:
            (v,) = watch.call(XFCONF, XFCONF_PATH, XFCONF, "GetProperty", "ss", (XFCE_CHANNEL, XFCE_PROP))
        except (CallFailed, ValueError):
            return  # no xfconf, or the property was never set
        value = v[1] if isinstance(v, tuple) and len(v) == 2 else v
        self.parts["xfce"] = "Xfce /do-not-disturb (signals)"
        self._set("xfce", value is True)

    def _signal(self, msg: Any) -> None:
        watch = self._watch
        _path, iface, member = signal_parts(msg)
        if member == "PropertiesChanged":
            for part, siface, prop in (("kde", NOTIFICATIONS, "Inhibited"), ("dunst", DUNST, "paused")):
                hit, value = changed_property(msg, siface, prop)
                if hit and isinstance(value, bool):
                    self._set(part, value)
                elif hit and watch is not None:
                    self._read_server(watch)
        elif member == "NameOwnerChanged" and len(msg.body) == 3 and msg.body[0] == NOTIFICATIONS:
            if watch is not None:
                self._read_server(watch)  # a new server (or none): read it again
        elif member == "NameOwnerChanged" and len(msg.body) == 3 and msg.body[0] == XFCONF:
            self._set("xfce", False)
            if watch is not None and msg.body[2]:
                self._read_xfce(watch)
        elif member == "PropertyChanged" and iface == XFCONF and len(msg.body) == 3:
            channel, prop, v = msg.body
            if channel == XFCE_CHANNEL and prop == XFCE_PROP:
                value = v[1] if isinstance(v, tuple) and len(v) == 2 else v
                self.parts["xfce"] = "Xfce /do-not-disturb (signals)"
                self._set("xfce", value is True)

    def _lost(self, why: str) -> None:
        log.debug("quiet: do-not-disturb signals not watched: %s", why)
        with self._lock:
            was = any(self._on.values())
            self._on.clear()
        if was:
            self._changed()

    # ------------------------------------------------------------ doctor
    def offer(self) -> Offer:
        self.start(lambda: None)
        self.wait_ready(3.0)
        self.stop()
        parts = [self.parts[k] for k in ("gnome", "kde", "dunst", "xfce") if k in self.parts]
        if not parts:
            return Offer(False, "none found (GNOME show-banners, KDE Inhibited, dunst paused, Xfce do-not-disturb)")
        return Offer(True, "; ".join(parts))


def make(env: Mapping[str, str]) -> DndSource:
    return DndSource(env)
