"""wlroots, KDE, Hyprland: input presence from the compositor's Wayland idle protocol (pywayland).

Presence only (presence.py). On the compositor's socket (WAYLAND_DISPLAY,
a name in XDG_RUNTIME_DIR or an absolute path) the watcher binds the seat
and, in this order of preference:

1. `ext_idle_notifier_v1` version 2: `get_input_idle_notification`, which
   ignores idle inhibitors (a video playing does not hide the person's
   pauses, nor their absence);
2. `ext_idle_notifier_v1` version 1: `get_idle_notification` (respects
   inhibitors: while an application inhibits idle no pause is seen, so
   that time counts as active);
3. `org_kde_kwin_idle` (KWin, sway up to 1.8): `get_idle_timeout`, with the
   same inhibitor caveat; its bindings are generated and vendored in
   wlproto/ (LGPL-2.1-or-later).

Each gives one timer of `pause.min_s` milliseconds with two events: idle
(`idled`/`idle`: no input for the timeout, so the latest input was the
event's time minus the timeout) and `resumed` (the first input after an
idle, within a millisecond of it). The watcher reads the socket on one
thread that sleeps in `select` until the compositor sends something or the
daemon stops it: no periodic wakeups at all. The compositor going away
(socket closed, protocol error) ends the watcher with one reason; the daemon
then exits non-zero so that the service manager restarts it.

Before the first event the state is unknown (the protocols send `resumed`
only after an idle). An idle event exactly one timeout after the timer was
made says the person was away; a later one says input went on from within
one timeout of the start, with no gap as long as the timeout, until the
event's time minus the timeout: reported as input from the start until then.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
from collections.abc import Mapping
from typing import Any

from ...logsetup import describe_exception
from .base import InputError
from .presence import PRESENCE_NOTE, PresenceSourceBase, Tracker
from .tap import Tap

log = logging.getLogger("micromove")

EXT = "ext_idle_notifier_v1"
KDE = "org_kde_kwin_idle"
SLACK_S = 0.05  # an idle event later than this after the timer's start saw input


def _socket(env: Mapping[str, str]) -> str:
    name = env.get("WAYLAND_DISPLAY", "")
    if not name:
        raise InputError("no Wayland display: WAYLAND_DISPLAY is not set")
    if os.path.isabs(name):
        return name
    run = env.get("XDG_RUNTIME_DIR", "")
    if not run:
        raise InputError("XDG_RUNTIME_DIR is not set, so the Wayland socket cannot be found")
    return os.path.join(run, name)


class WaylandIdleSource(PresenceSourceBase):
    name = f"Wayland idle protocol, {PRESENCE_NOTE}"

    def __init__(self, timeout_s: float, env: Mapping[str, str] | None = None, prefer: str | None = None) -> None:
        super().__init__(timeout_s)
        self.env = os.environ if env is None else env
        self.prefer = prefer  # tests: "ext" or "kde" only
        self._display: Any = None
        self._objects: list[Any] = []
        self.protocol = ""
        self._created = 0.0
        self._first = True

    # ------------------------------------------------------------ connection
    def _connect(self) -> tuple[Any, dict[str, tuple[int, int]]]:
        try:
            from pywayland.client import Display  # type: ignore[attr-defined]
        except ImportError:
            raise InputError("watching a Wayland compositor needs pywayland (pip install pywayland)") from None
        path = _socket(self.env)
        display = Display(path)
        try:
            display.connect()
        except Exception as exc:  # noqa: BLE001
            raise InputError(f"cannot connect to the Wayland compositor at {path}: {describe_exception(exc)}") from None
        globals_: dict[str, tuple[int, int]] = {}
        registry = display.get_registry()

        def on_global(_reg: Any, name: int, interface: str, version: int) -> None:
            if interface in ("wl_seat", EXT, KDE) and interface not in globals_:
                globals_[interface] = (name, version)

        registry.dispatcher["global"] = on_global
        display.roundtrip()
        self._registry = registry
        return display, globals_

    def _choose(self, globals_: dict[str, tuple[int, int]]) -> str | None:
        if "wl_seat" not in globals_:
            return None
        if EXT in globals_ and self.prefer in (None, "ext"):
            return "ext-idle-notify-v1 (input only)" if globals_[EXT][1] >= 2 else "ext-idle-notify-v1"
        if KDE in globals_ and self.prefer in (None, "kde"):
            return "org_kde_kwin_idle"
        return None

    def probe(self) -> str | None:
        """None when the compositor offers an idle protocol; else why not."""
        try:
            display, globals_ = self._connect()
        except InputError as exc:
            return str(exc)
        try:
            choice = self._choose(globals_)
            if choice is not None:
                self.protocol = choice
                self.name = f"Wayland {choice}, {PRESENCE_NOTE}"
            else:
                return (
                    "the Wayland compositor offers no idle protocol "
                    f"(neither ext-idle-notify-v1 nor org_kde_kwin_idle){'' if 'wl_seat' in globals_ else ' and no seat'}"
                )
        finally:
            with contextlib.suppress(Exception):
                display.disconnect()
        return None

    # ------------------------------------------------------------ lifecycle
    def start(self, tap: Tap) -> None:
        from pywayland.protocol.wayland import WlSeat

        self._tap = tap
        self.tracker = Tracker(tap)
        display, globals_ = self._connect()
        choice = self._choose(globals_)
        if choice is None:
            with contextlib.suppress(Exception):
                display.disconnect()
            raise InputError("the Wayland compositor offers no idle protocol (neither ext-idle-notify-v1 nor org_kde_kwin_idle)")
        self._display = display
        self.protocol = choice
        self.name = f"Wayland {choice}, {PRESENCE_NOTE}"
        ms = max(1, int(round(self.timeout_s * 1000)))
        reg = self._registry
        seat = reg.bind(globals_["wl_seat"][0], WlSeat, 1)
        if choice.startswith("ext"):
            from pywayland.protocol.ext_idle_notify_v1 import ExtIdleNotifierV1

            version = min(2, globals_[EXT][1])
            notifier = reg.bind(globals_[EXT][0], ExtIdleNotifierV1, version)
            if version >= 2:
                note = notifier.get_input_idle_notification(ms, seat)
            else:
                note = notifier.get_idle_notification(ms, seat)
            note.dispatcher["idled"] = self._on_idle
            note.dispatcher["resumed"] = self._on_resumed
            self._objects = [seat, notifier, note]
        else:
            from .wlproto.kde_idle import OrgKdeKwinIdle

            idle = reg.bind(globals_[KDE][0], OrgKdeKwinIdle, 1)
            timer = idle.get_idle_timeout(seat, ms)
            timer.dispatcher["idle"] = self._on_idle
            timer.dispatcher["resumed"] = self._on_resumed
            self._objects = [seat, idle, timer]
        self._created = tap.now()
        try:
            display.roundtrip()
        except Exception as exc:  # noqa: BLE001
            self._close()
            raise InputError(f"the Wayland compositor refused the idle timer: {describe_exception(exc)}") from None
        self._start_reader(self._loop, "micromove-wayland-idle")
        log.debug("wayland idle: %s, %d ms", choice, ms)

    # Event handlers run on the watcher thread, inside dispatch: O(1), never raise.
    def _on_idle(self, *_args: Any) -> None:
        try:
            assert self.tracker is not None and self._tap is not None
            now = self._tap.now()
            latest = now - self.timeout_s
            if self._first:
                self._first = False
                if not self.tracker.busy and latest > self._created + SLACK_S:
                    self.tracker.resumed(self._created)
                    self.tracker.idled(latest)
                return
            self.tracker.idled(latest)
        except Exception:  # noqa: BLE001
            if self._tap is not None:
                self._tap.errors += 1

    def _on_resumed(self, *_args: Any) -> None:
        try:
            assert self.tracker is not None and self._tap is not None
            self._first = False
            self.tracker.resumed(self._tap.now())
        except Exception:  # noqa: BLE001
            if self._tap is not None:
                self._tap.errors += 1

    def _loop(self) -> None:
        display = self._display
        why = "the Wayland idle watcher stopped"
        try:
            fd = display.get_fd()
            while True:
                display.dispatch(block=False)
                if display.flush() < 0:
                    why = "the Wayland compositor closed the connection"
                    return
                ready, _, _ = select.select([fd, self._stop_r], [], [])
                if self._stop_r in ready:
                    return
                try:
                    display.read()
                except RuntimeError:
                    why = "the Wayland compositor closed the connection"
                    return
                display.dispatch(block=False)
        except BaseException as exc:  # noqa: BLE001
            why = f"the Wayland connection failed: {describe_exception(exc)}"
        finally:
            self._died(why)

    def _close(self) -> None:
        display, self._display = self._display, None
        self._objects = []
        if display is not None:
            with contextlib.suppress(Exception):
                display.disconnect()
