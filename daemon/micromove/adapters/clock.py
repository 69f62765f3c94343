"""The daemon's clocks: engine time, wall time, and noticing suspends and clock changes.

Engine time is a clock that never jumps and that keeps running while the
machine sleeps, so a suspend shows up to the engine as what it is, a gap in
input (the engine ends stretches by itself):

- Linux: CLOCK_BOOTTIME (monotonic, includes suspend);
- macOS: clock_gettime(CLOCK_MONOTONIC), which counts sleep there (Python's
  time.monotonic() does not);
- elsewhere: time.monotonic().

Wall time (UTC epoch seconds) is engine time + wall_offset. `ClockWatch`
compares the clocks between two wake-ups: if the offset moved by more than
`jump_s` the wall clock was set (or NTP stepped it) and the session must be
rebased; if engine time ran ahead of the awake-only clock by more than
`jump_s`, the machine was suspended that long (logged, nothing else to do).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Engine time: seconds on a clock that never jumps and includes suspend."""
        ...

    def wall(self) -> float:
        """UTC epoch seconds (may jump when the clock is set)."""
        ...

    def awake(self) -> float:
        """Seconds on a monotonic clock that stops while the machine sleeps."""
        ...


def _boot_clock_id() -> int | None:
    if sys.platform.startswith("linux") and hasattr(time, "CLOCK_BOOTTIME"):
        return time.CLOCK_BOOTTIME
    if sys.platform == "darwin" and hasattr(time, "CLOCK_MONOTONIC"):
        return time.CLOCK_MONOTONIC
    return None


class SystemClock:
    """The real clocks (see the module's docstring)."""

    def __init__(self) -> None:
        cid = _boot_clock_id()
        if cid is None:
            self.now = time.monotonic  # type: ignore[method-assign]
            self.includes_suspend = False
        else:
            import functools

            self.now = functools.partial(time.clock_gettime, cid)  # type: ignore[method-assign]
            self.includes_suspend = True
        self.wall = time.time  # type: ignore[method-assign]
        self.awake = time.monotonic  # type: ignore[method-assign]

    def now(self) -> float:  # replaced per instance in __init__
        return time.monotonic()

    def wall(self) -> float:
        return time.time()

    def awake(self) -> float:
        return time.monotonic()


@dataclass(frozen=True, slots=True)
class ClockChange:
    """What `ClockWatch.check` noticed since its previous call."""

    suspended_s: float  # > 0: the machine slept about this long
    offset_jump_s: float  # != 0: the wall clock moved by this much against engine time
    wall_offset: float  # the current wall_offset (wall - engine time)


class ClockWatch:
    """Notices suspends and wall-clock changes between two calls of `check`."""

    def __init__(self, clock: Clock, jump_s: float = 2.0) -> None:
        self.clock = clock
        self.jump_s = jump_s
        now, awake, wall = clock.now(), clock.awake(), clock.wall()
        self.offset = wall - now
        self._now = now
        self._awake = awake

    def check(self) -> ClockChange | None:
        """None when nothing notable happened; else what did (offset updated)."""
        clock = self.clock
        now, awake, wall = clock.now(), clock.awake(), clock.wall()
        slept = (now - self._now) - (awake - self._awake)
        self._now, self._awake = now, awake
        offset = wall - now
        jump = offset - self.offset
        suspended = slept if slept > self.jump_s else 0.0
        if abs(jump) <= self.jump_s:
            jump = 0.0
        else:
            self.offset = offset
        if not suspended and not jump:
            return None
        return ClockChange(suspended, jump, self.offset)
