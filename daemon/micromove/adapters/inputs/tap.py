"""The tap: where input callbacks hand events to the daemon's main loop.

Backend callbacks run on the backend's own threads (pynput's listener
threads, the evdev reader). They must do O(1) work, never block and never
raise, so each one only stamps the time and appends to, or bumps, the
latest pending event under a short lock. Consecutive events of one kind
less than `coalesce_s` apart (counted from the first of the group) become
one pending event carrying their number, their summed distance and the time
of the latest; counts stay exact. The main loop is woken only by the first
event after it drained the tap, so a burst of input costs one wake-up.

Nothing here ever sees which key was pressed or where the pointer is: the
backends pass in kinds, distances and step counts only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

KINDS = ("key", "move", "click", "scroll")


class Tap:
    """Thread-safe pending-event buffer between input threads and the main loop.

    Pending events are lists `[t_first, t_last, kind, px, n]`; `drain` hands
    them out as `(t_last, kind, px, n)` tuples in time order.
    """

    def __init__(
        self,
        now: Callable[[], float],
        wake: Callable[[], None] = lambda: None,
        coalesce_s: float = 0.2,
    ) -> None:
        self._now = now
        self._wake = wake
        self.coalesce_s = coalesce_s
        self._lock = threading.Lock()
        self._pending: list[list[float | str | int]] = []
        self.totals = dict.fromkeys(KINDS, 0)  # every event seen since start
        self.errors = 0  # exceptions swallowed in callbacks (never raised)

    # -------------------------------------------------- callbacks' side
    def add(self, kind: str, px: float = 0.0, n: int = 1) -> None:
        """`n` events of `kind` now (`px`: their summed distance). Never raises."""
        self.add_at(None, kind, px, n)

    def add_at(self, t: float | None, kind: str, px: float = 0.0, n: int = 1) -> None:
        """`n` events of `kind`, the latest at engine time `t` (None: now), as `add`.

        For backends that know when an event happened (the X server's own time
        in XInput2 events) and hand events over in batches. Never raises.
        """
        try:
            wake = False
            with self._lock:
                if t is None:
                    t = self._now()
                pending = self._pending
                if pending:
                    last = pending[-1]
                    if last[2] == kind and t - last[0] < self.coalesce_s:  # type: ignore[operator]
                        last[1] = t
                        last[3] += px  # type: ignore[operator]
                        last[4] += n  # type: ignore[operator]
                    else:
                        pending.append([t, t, kind, px, n])
                else:
                    pending.append([t, t, kind, px, n])
                    wake = True
                self.totals[kind] += n
            if wake:
                self._wake()
        except Exception:  # noqa: BLE001 - a callback must never raise
            self.errors += 1

    def add_run(self, t_first: float, t_last: float, kind: str, n: int) -> None:
        """`n` events of `kind` from engine time `t_first` to `t_last`, already
        coalesced by the caller (a backend that reads events in batches, with
        their own times): joined to the latest pending event when the joint
        run still fits in `coalesce_s`, as `add` would have. Never raises."""
        try:
            wake = False
            with self._lock:
                pending = self._pending
                last = pending[-1] if pending else None
                if last is not None and last[2] == kind and t_last - last[0] < self.coalesce_s:  # type: ignore[operator]
                    if t_last > last[1]:  # type: ignore[operator]
                        last[1] = t_last
                    last[4] += n  # type: ignore[operator]
                else:
                    pending.append([t_first, t_last, kind, 0.0, n])
                    wake = last is None
                self.totals[kind] += n
            if wake:
                self._wake()
        except Exception:  # noqa: BLE001 - a reader must never die of this
            self.errors += 1

    def key(self) -> None:
        self.add("key")

    def click(self) -> None:
        self.add("click")

    def move(self, px: float) -> None:
        self.add("move", px)

    def scroll(self, steps: int) -> None:
        if steps > 0:
            self.add("scroll", 0.0, steps)

    def mark(self, kind: str, t: float) -> None:
        """A presence-only source: `busy` (input began at t) or `idle` (the
        latest input was at t, which may be a little in the past). Never
        coalesced, never raises."""
        try:
            with self._lock:
                wake = not self._pending
                self._pending.append([t, t, kind, 0.0, 1])
            if wake:
                self._wake()
        except Exception:  # noqa: BLE001 - a callback must never raise
            self.errors += 1

    def now(self) -> float:
        """The time the tap stamps events with (the daemon's engine clock)."""
        return self._now()

    def poke(self) -> None:
        """Wake the main loop without an event (a backend died, a result came)."""
        try:
            self._wake()
        except Exception:  # noqa: BLE001
            self.errors += 1

    # -------------------------------------------------- main loop's side
    def drain(self) -> list[tuple[float, str, float, int]]:
        with self._lock:
            pending, self._pending = self._pending, []
        return [(p[1], p[2], p[3], p[4]) for p in pending]  # type: ignore[misc]

    def __len__(self) -> int:
        with self._lock:
            return len(self._pending)


class JitterFilter:
    """Pointer jitter filter for absolute positions (X11, macOS).

    A move counts once the pointer is at least `min_px` from where the last
    counted move left it, and its distance is measured from there; smaller
    wobbles are not events. Only that one previous point is kept, in memory.
    """

    __slots__ = ("min_px", "_x", "_y")

    def __init__(self, min_px: float = 3.0) -> None:
        self.min_px = min_px
        self._x: float | None = None
        self._y: float = 0.0

    def step(self, x: float, y: float) -> float:
        """Distance to count for a pointer now at (x, y); 0.0 means no event."""
        if self._x is None:
            self._x, self._y = x, y
            return 0.0
        dx = x - self._x
        dy = y - self._y
        d2 = dx * dx + dy * dy
        if d2 < self.min_px * self.min_px:
            return 0.0
        self._x, self._y = x, y
        return float(d2**0.5)

    def reset(self) -> None:
        self._x = None


class RelativeJitterFilter:
    """The same rule for relative motion (evdev): sums deltas until >= `min_px`."""

    __slots__ = ("min_px", "_dx", "_dy")

    def __init__(self, min_px: float = 3.0) -> None:
        self.min_px = min_px
        self._dx = 0.0
        self._dy = 0.0

    def step(self, dx: float, dy: float) -> float:
        self._dx += dx
        self._dy += dy
        d2 = self._dx * self._dx + self._dy * self._dy
        if d2 < self.min_px * self.min_px:
            return 0.0
        self._dx = self._dy = 0.0
        return float(d2**0.5)
