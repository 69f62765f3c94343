"""Quiet time "sleep": the machine is going to sleep (logind `PrepareForSleep`).

logind sends `PrepareForSleep(true)` on the system bus just before a suspend
or hibernation and `PrepareForSleep(false)` after waking. In between no cue
may go out (a notification sent as the lid closes would greet the person on
waking, long after the moment). The sleep itself is a break like any long gap
in input: the daemon's clock (which runs on through a suspend) ends the
stretches and drops their cues, and a cue set decided while asleep is
recorded, not shown. That clock logic stays the fallback where logind is
not there.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from . import Offer
from .bus import BusWatch, signal_parts
from .lock import LOGIND, LOGIND_PATH, MANAGER

log = logging.getLogger("micromove")


class SleepSource:
    name = "sleep"
    what = "going to sleep"
    event_driven = True
    checked = False

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = dict(env)
        self._asleep = False
        self._lock = threading.Lock()
        self._changed: Callable[[], None] = lambda: None
        self._watch: BusWatch | None = None
        self.watching: str | None = None

    def holding(self) -> bool:
        with self._lock:
            return self._asleep

    def _set(self, asleep: bool) -> None:
        with self._lock:
            was, self._asleep = self._asleep, asleep
        if was != asleep:
            self._changed()

    def start(self, changed: Callable[[], None]) -> None:
        self._changed = changed
        self._watch = BusWatch("system", self.env, self._setup, self._signal, self._lost, "quiet-sleep")
        self._watch.start()

    def stop(self) -> None:
        if self._watch is not None:
            self._watch.stop()

    def wait_ready(self, timeout: float = 5.0) -> bool:
        return self._watch is not None and self._watch.ready.wait(timeout)

    def _setup(self, watch: BusWatch) -> None:
        watch.match(sender=LOGIND, path=LOGIND_PATH, interface=MANAGER, member="PrepareForSleep")
        # The bus accepts a match for a name nobody owns: make sure logind is there.
        (owned,) = watch.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                              "NameHasOwner", "s", (LOGIND,))  # fmt: skip
        self.watching = "logind PrepareForSleep" if owned else None

    def _signal(self, msg: Any) -> None:
        path, iface, member = signal_parts(msg)
        if member == "PrepareForSleep" and iface == MANAGER and len(msg.body) == 1 and isinstance(msg.body[0], bool):
            self._set(msg.body[0])

    def _lost(self, why: str) -> None:
        log.debug("quiet: sleep via logind not watched: %s", why)
        self._set(False)

    def offer(self) -> Offer:
        self.start(lambda: None)
        self.wait_ready(3.0)
        self.stop()
        if self.watching:
            return Offer(True, "logind PrepareForSleep")
        why = self._watch.error if self._watch is not None and self._watch.error else "logind is not on the system bus"
        return Offer(False, f"{why}; a suspend still counts as a break (the clock shows it)")


def make(env: Mapping[str, str]) -> SleepSource:
    return SleepSource(env)
