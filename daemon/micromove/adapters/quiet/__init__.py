"""Quiet-time sources: moments when micromove must not interrupt.

Each source is one module here, found by its name (like plug-in hooks):
`lock`, `sleep`, `dnd`, `fullscreen`, `camera`, `microphone`. Each module has
`make(env) -> QuietSource`. A source says whether it holds now and tells the
daemon's loop when that changes:

- an *event* source (the screen lock, sleep, most do-not-disturb switches)
  listens to D-Bus signals on a thread of its own (jeepney) and calls
  `changed()` — the daemon's wake-up — when its state flips; its `holding()`
  returns the state it last saw, at no cost;
- a *checked* source (a fullscreen window, camera, microphone, GNOME's
  do-not-disturb setting) has nothing to listen to: the loop asks
  `holding()` once at each cue decision (a cue due and a natural pause
  beginning), and again at each later natural pause while it holds. It is
  never polled while the person is away.

Sources read states only: never window titles, application names, which
program uses a device, or anything on screen. `holding()` never raises and
never blocks for long (each check has a short time limit).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

NAMES = ("lock", "sleep", "dnd", "fullscreen", "camera", "microphone")
# Each quiet time in a few words (logs, `mmctl status`); "hours" is the config's.
WORDS = {
    "lock": "screen locked",
    "sleep": "going to sleep",
    "dnd": "do not disturb",
    "fullscreen": "a fullscreen window",
    "camera": "camera in use",
    "microphone": "microphone in use",
    "hours": "quiet hours",
}


@dataclass(frozen=True, slots=True)
class Offer:
    """What this desktop offers a source (for `mmctl doctor`)."""

    available: bool
    detail: str


class QuietSource(Protocol):
    name: str  # "lock": its hold is "quiet.lock"
    what: str  # for the log: "screen locked", "camera in use", ...
    event_driven: bool  # True: it calls changed(); False: checked at cue decisions
    checked: bool  # True: holding() does a real check (at cue decisions)

    def start(self, changed: Callable[[], None]) -> None:
        """Begin watching (never raises; a source that cannot watch just never holds)."""

    def holding(self) -> bool:
        """Does it hold now? (event sources: the last state seen; checked ones: look now)"""

    def stop(self) -> None: ...

    def offer(self) -> Offer:
        """Which of its parts this desktop offers (doctor); may take up to a second or two."""


def make(name: str, env: Mapping[str, str]) -> QuietSource:
    """The source `name` (one of NAMES), set up for the session described by `env`."""
    if name not in NAMES:
        raise ValueError(f"unknown quiet-time source {name!r}")
    module = importlib.import_module(f"{__name__}.{name}")
    factory: Callable[[Mapping[str, str]], QuietSource] = module.make
    return factory(env)
