"""Quiet time "lock": the screen is locked (or a screensaver is on).

Two kinds of signal, both on D-Bus, both event-driven:
- logind (system bus, org.freedesktop.login1): the session's `LockedHint`,
  with PropertiesChanged on the session's own object path. The session is
  found from XDG_SESSION_ID (`GetSession`), else as the user's display
  session (`GetUser(uid)` -> `Display`), which is what a systemd user
  service, outside the session, needs;
- screensavers (session bus): `ActiveChanged(b)` of org.gnome.ScreenSaver,
  org.freedesktop.ScreenSaver (KDE and others), org.mate.ScreenSaver,
  org.cinnamon.ScreenSaver and org.xfce.ScreenSaver, each asked `GetActive`
  at start.
It holds while logind says locked or any screensaver says active.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Mapping
from typing import Any

from . import Offer
from .bus import BusWatch, CallFailed, changed_property, signal_parts

log = logging.getLogger("micromove")

LOGIND = "org.freedesktop.login1"
LOGIND_PATH = "/org/freedesktop/login1"
MANAGER = "org.freedesktop.login1.Manager"
SESSION = "org.freedesktop.login1.Session"
USER = "org.freedesktop.login1.User"

# (bus name, object path, interface)
SCREENSAVERS: tuple[tuple[str, str, str], ...] = (
    ("org.gnome.ScreenSaver", "/org/gnome/ScreenSaver", "org.gnome.ScreenSaver"),
    ("org.freedesktop.ScreenSaver", "/ScreenSaver", "org.freedesktop.ScreenSaver"),
    ("org.freedesktop.ScreenSaver", "/org/freedesktop/ScreenSaver", "org.freedesktop.ScreenSaver"),
    ("org.mate.ScreenSaver", "/org/mate/ScreenSaver", "org.mate.ScreenSaver"),
    ("org.cinnamon.ScreenSaver", "/org/cinnamon/ScreenSaver", "org.cinnamon.ScreenSaver"),
    ("org.xfce.ScreenSaver", "/org/xfce/ScreenSaver", "org.xfce.ScreenSaver"),
)


def session_path(watch: BusWatch, env: Mapping[str, str]) -> str:
    """The logind object path of this desktop session (CallFailed if there is none)."""
    sid = env.get("XDG_SESSION_ID")
    if sid:
        try:
            (path,) = watch.call(LOGIND, LOGIND_PATH, MANAGER, "GetSession", "s", (sid,))
            return str(path)
        except CallFailed:
            pass
    (user,) = watch.call(LOGIND, LOGIND_PATH, MANAGER, "GetUser", "u", (os.getuid(),))
    display = watch.get_property(LOGIND, str(user), USER, "Display")
    path = display[1] if isinstance(display, (tuple, list)) and len(display) == 2 else None
    if not path or path == "/":
        raise CallFailed("logind knows no graphical session of this user")
    return str(path)


class LockSource:
    name = "lock"
    what = "screen locked"
    event_driven = True
    checked = False

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = dict(env)
        self._lock = threading.Lock()
        self._logind = False
        self._savers: dict[str, bool] = {}  # interface -> active
        self._changed: Callable[[], None] = lambda: None
        self._watches: list[BusWatch] = []
        self.session: str | None = None  # logind session path, once known
        self.parts: dict[str, str] = {}  # part -> how it is watched, or why not

    # ------------------------------------------------------------ state
    def holding(self) -> bool:
        with self._lock:
            return self._logind or any(self._savers.values())

    def _set(self, logind: bool | None = None, saver: tuple[str, bool] | None = None) -> None:
        with self._lock:
            before = self._logind or any(self._savers.values())
            if logind is not None:
                self._logind = logind
            if saver is not None:
                self._savers[saver[0]] = saver[1]
            after = self._logind or any(self._savers.values())
        if before != after:
            self._changed()

    # ------------------------------------------------------------ watching
    def start(self, changed: Callable[[], None]) -> None:
        self._changed = changed
        self._watches = [
            BusWatch("system", self.env, self._setup_logind, self._logind_signal, self._logind_lost, "quiet-lock"),
            BusWatch("session", self.env, self._setup_savers, self._saver_signal, self._savers_lost, "quiet-saver"),
        ]
        for w in self._watches:
            w.start()

    def stop(self) -> None:
        for w in self._watches:
            w.stop()

    def wait_ready(self, timeout: float = 5.0) -> bool:
        """Both watches have set up (tests, doctor)."""
        return all(w.ready.wait(timeout) for w in self._watches)

    def _setup_logind(self, watch: BusWatch) -> None:
        try:
            path = session_path(watch, self.env)
            self.session = path
            watch.match(sender=LOGIND, path=path, interface="org.freedesktop.DBus.Properties",
                        member="PropertiesChanged")  # fmt: skip
            watch.match(sender="org.freedesktop.DBus", interface="org.freedesktop.DBus",
                        member="NameOwnerChanged", arg0=LOGIND)  # fmt: skip
            locked = watch.get_property(LOGIND, path, SESSION, "LockedHint")
        except CallFailed as exc:
            self.parts["logind"] = f"not watched: {exc}"
            raise
        self.parts["logind"] = "logind LockedHint"
        self._set(logind=bool(locked))

    def _logind_signal(self, msg: Any) -> None:
        path, iface, member = signal_parts(msg)
        if member == "NameOwnerChanged" and len(msg.body) == 3 and msg.body[0] == LOGIND:
            self._set(logind=False)  # logind went away or restarted: read it again
            watch = self._watches[0] if self._watches else None
            if msg.body[2] and watch is not None and self.session is not None:
                with contextlib.suppress(CallFailed):
                    self._set(logind=bool(watch.get_property(LOGIND, self.session, SESSION, "LockedHint")))
            return
        if member != "PropertiesChanged" or path != self.session:
            return
        hit, value = changed_property(msg, SESSION, "LockedHint")
        if hit and isinstance(value, bool):
            self._set(logind=value)

    def _logind_lost(self, why: str) -> None:
        log.debug("quiet: screen lock via logind not watched: %s", why)
        self._set(logind=False)

    def _setup_savers(self, watch: BusWatch) -> None:
        found = []
        for iface in dict.fromkeys(i for _n, _p, i in SCREENSAVERS):
            watch.match(interface=iface, member="ActiveChanged")
        for name in dict.fromkeys(n for n, _p, _i in SCREENSAVERS):
            watch.match(sender="org.freedesktop.DBus", interface="org.freedesktop.DBus",
                        member="NameOwnerChanged", arg0=name)  # fmt: skip
        for name, path, iface in SCREENSAVERS:
            try:
                (active,) = watch.call(name, path, iface, "GetActive")
            except (CallFailed, ValueError):
                continue
            found.append(name)
            self._set(saver=(iface, bool(active)))
        self.parts["screensaver"] = (
            f"ActiveChanged of {', '.join(dict.fromkeys(found))}" if found else "ActiveChanged (no screensaver running now)"
        )

    def _saver_signal(self, msg: Any) -> None:
        _path, iface, member = signal_parts(msg)
        if member == "NameOwnerChanged" and len(msg.body) == 3 and not msg.body[2]:
            # A screensaver that quits (or crashes) while active must not hold forever.
            for name, _p, siface in SCREENSAVERS:
                if name == msg.body[0]:
                    self._set(saver=(siface, False))
            return
        if member == "ActiveChanged" and len(msg.body) == 1 and isinstance(msg.body[0], bool):
            self._set(saver=(iface, msg.body[0]))

    def _savers_lost(self, why: str) -> None:
        log.debug("quiet: screensavers not watched: %s", why)
        with self._lock:
            was = any(self._savers.values())
            self._savers.clear()
        if was:
            self._changed()

    # ------------------------------------------------------------ doctor
    def offer(self) -> Offer:
        self.start(lambda: None)
        self.wait_ready(3.0)
        self.stop()
        err = self._watches[0].error if self._watches else None
        logind = self.parts.get("logind") or f"logind: not reachable ({err or 'no answer'})"
        saver = self.parts.get("screensaver", "no session bus")
        ok = logind == "logind LockedHint" or saver.startswith("ActiveChanged of")
        return Offer(ok, f"{logind}; screensaver: {saver}")


def make(env: Mapping[str, str]) -> LockSource:
    return LockSource(env)
