"""What the presence-only sources (Mutter's IdleMonitor, the Wayland idle protocols) share.

A compositor's idle interface says two things: input resumed, and no input
came for a timeout. Neither carries a count or a kind, so micromove runs in
presence mode (every cue follows the presence stretch; counts are "not
recorded") and the source reports exactly two facts to the tap:

- `busy` at the time input began (the resume event's time, or Mutter's
  `GetIdletime` subtracted from now): input goes on from there;
- `idle` with the time of the latest input: the idle event's time minus the
  timeout (Mutter: now minus `GetIdletime`).

How a stretch goes on while input continues without any event: the idle
timeout is `pause.min_s`, so "no idle event yet" means precisely "no natural
pause has begun yet": the engine treats the stretch as going on (it cannot
end and no pause can begin) until the idle report, and then takes the
reported latest input as the stretch's end. The pause therefore begins at
the exact instant the idle event fires, which is when the daemon is woken:
stretches and natural pauses come out exact to the compositor's own timer
(a few ms), and nothing wakes while the person is away.

`Tracker` keeps the busy/idle state and turns the interface's events into
tap marks; it never reports two busy or two idle in a row.
"""

from __future__ import annotations

import logging
import threading

from .base import ReaderSource
from .tap import Tap

log = logging.getLogger("micromove")

PRESENCE_NOTE = "presence only"


class Tracker:
    """Busy/idle state of one presence source; safe to call from its thread."""

    def __init__(self, tap: Tap) -> None:
        self.tap = tap
        self.busy = False
        self.began: float | None = None
        self._lock = threading.Lock()

    def resumed(self, t: float) -> None:
        """Input began at `t`."""
        with self._lock:
            if self.busy:
                return
            self.busy = True
            self.began = t
        self.tap.mark("busy", t)

    def idled(self, latest: float) -> None:
        """No input since `latest`."""
        with self._lock:
            if not self.busy:
                return
            self.busy = False
            if self.began is not None and latest < self.began:
                latest = self.began
        self.tap.mark("idle", latest)


class PresenceSourceBase(ReaderSource):
    """Bookkeeping every presence-only `InputSource` shares."""

    quality = "presence"
    name = "presence"

    def __init__(self, timeout_s: float) -> None:
        super().__init__()
        self.timeout_s = float(timeout_s)
        self.tracker: Tracker | None = None

    @property
    def ended(self) -> str:  # type: ignore[override]
        return f"the {self.name} watcher ended"

    def set_idle_timeout(self, seconds: float) -> None:
        """The idle timer (pause.min_s); before `start`."""
        self.timeout_s = float(seconds)
