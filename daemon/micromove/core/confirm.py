"""Did they move? Confirmed ("done") and inferred ("likely") cue sets.

The session keeps one `Confirmations` (when it has a store) and tells it about
every cue set it delivers and every input event. Two kinds of confirmation
come out, written as rows of the `confirmations` table linked to the
delivery id (docs/schema.md), and kept apart so that `mmctl stats` can show
both:

- **done**: the person said so (`mmctl done [CUE...]`, through the control
  socket). `done()` marks the last cue set, or for each named cue the latest
  cue set that held it. Cue sets the daemon knows were not shown (the
  notifier failed, or the machine was asleep) are skipped. A cue already
  marked done is reported as such, never written twice. `done_set()` marks
  every cue of one cue set by its delivery id (a notification's own button).
  The memory covers the
  last `RECENT` cue sets since the daemon started.
- **likely**: inferred from input. After a cue set goes out at `t`, an input
  gap that begins within `LIKELY_WINDOW_S` of it and lasts at least
  `max(LIKELY_MIN_S, LIKELY_FACTOR * total)` seconds, where `total` is the
  sum of the catalog's seconds for the set's movements, counts as "likely
  done" for each of its cues not already marked done. Only time from `t` on
  counts (the natural pause that let the set out began before it, and the
  person cannot react before the notification). Recorded once per set, at
  the instant the gap reached that length (so replays are deterministic).
  A later `done` for the same cue is still recorded: stats counts a cue as
  likely only when it is not done. A gap longer than the set (the person
  left the desk) counts too: leaving the desk is moving.

Why these numbers: 60 s is time to read a notification and start; 0.6 of
the movements' own time allows for doing them a little faster than the
catalog says; gaps shorter than 10 s happen all the time while reading, so
they say nothing.

Cost: `input` is O(1) (one comparison while no set is being watched, a few
while one is); `advance` likewise. Pure: times in, rows out through the
`record` callback; no clock, no I/O.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable

LIKELY_WINDOW_S = 60.0
LIKELY_FACTOR = 0.6
LIKELY_MIN_S = 10.0
RECENT = 32

# record(t, cue_id, delivery_id, kind): t on the session's (engine) timeline.
Record = Callable[[float, str, int, str], None]


def catalog_seconds(cue_id: str) -> float:
    from .catalog import BY_ID

    m = BY_ID.get(cue_id)
    return float(m.seconds) if m is not None else 0.0


class NothingToMark(Exception):
    """`done` found no cue set to mark (none yet, or none that held a named cue)."""


class CueSet:
    __slots__ = ("delivery_id", "t", "cues", "need_s", "done", "likely", "failed")

    def __init__(self, delivery_id: int, t: float, cues: tuple[str, ...], need_s: float) -> None:
        self.delivery_id = delivery_id
        self.t = t
        self.cues = cues
        self.need_s = need_s
        self.done: set[str] = set()
        self.likely = False
        self.failed = False


class Confirmations:
    def __init__(
        self,
        record: Record,
        seconds: Callable[[str], float] = catalog_seconds,
        *,
        window_s: float = LIKELY_WINDOW_S,
        factor: float = LIKELY_FACTOR,
        min_s: float = LIKELY_MIN_S,
    ) -> None:
        self._record = record
        self._seconds = seconds
        self.window_s = window_s
        self.factor = factor
        self.min_s = min_s
        self.recent: deque[CueSet] = deque(maxlen=RECENT)
        self._watch: CueSet | None = None
        self._last = -math.inf  # latest input time

    # ------------------------------------------------------------- feeding
    def delivered(self, delivery_id: int, t: float, cues: Iterable[str]) -> None:
        """A cue set went out at `t` (before any input at or after `t` is fed)."""
        ids = tuple(cues)
        need = max(self.min_s, self.factor * sum(self._seconds(c) for c in ids))
        s = CueSet(delivery_id, t, ids, need)
        self.recent.append(s)
        self._watch = s

    def input(self, t: float) -> None:
        """An input event at `t`: it ends the gap that began at the previous one."""
        w = self._watch
        if w is not None:
            start = self._last if self._last > w.t else w.t
            if start <= w.t + self.window_s and t - start >= w.need_s:
                self._likely(w, start)
            elif t > w.t + self.window_s:
                self._watch = None  # every later gap begins too late
        self._last = t

    def advance(self, t: float) -> None:
        """Time reached `t` with no input since the latest event."""
        w = self._watch
        if w is None:
            return
        start = self._last if self._last > w.t else w.t
        if start > w.t + self.window_s:
            self._watch = None
        elif t - start >= w.need_s:
            self._likely(w, start)

    def failed(self, delivery_id: int) -> None:
        """The set was never shown: nothing to infer, nothing to mark."""
        for s in self.recent:
            if s.delivery_id == delivery_id:
                s.failed = True
                if self._watch is s:
                    self._watch = None

    def _likely(self, w: CueSet, start: float) -> None:
        self._watch = None
        if w.failed:
            return
        at = start + w.need_s
        w.likely = True
        for c in w.cues:
            if c not in w.done:
                self._record(at, c, w.delivery_id, "likely")

    # ------------------------------------------------------------- done
    def last_set(self) -> CueSet | None:
        for s in reversed(self.recent):
            if not s.failed:
                return s
        return None

    def done_set(self, delivery_id: int, t: float) -> list[tuple[CueSet, str, bool]]:
        """Mark every cue of the cue set `delivery_id` done at `t` (a button on
        that very notification). NothingToMark if it is unknown or was not shown."""
        s = next((s for s in self.recent if s.delivery_id == delivery_id), None)
        if s is None or s.failed:
            raise NothingToMark(f"cue set {delivery_id} is not one shown since micromove started")
        return self._mark([(s, c) for c in s.cues], t)

    def done(self, cues: Iterable[str] | None, t: float) -> list[tuple[CueSet, str, bool]]:
        """Mark cues done at `t`; [(set, cue, already_done)]. NothingToMark if no set fits.

        `cues` None: every cue of the last cue set. Otherwise, for each named
        cue, the latest cue set that held it. All or nothing: nothing is
        recorded unless every named cue has a set.
        """
        plan: list[tuple[CueSet, str]] = []
        if cues is None:
            s = self.last_set()
            if s is None:
                raise NothingToMark("no cue set has been shown since micromove started")
            plan = [(s, c) for c in s.cues]
        else:
            for c in dict.fromkeys(cues):
                found = next((s for s in reversed(self.recent) if not s.failed and c in s.cues), None)
                if found is None:
                    raise NothingToMark(f"{c} has not been cued since micromove started")
                plan.append((found, c))
        return self._mark(plan, t)

    def _mark(self, plan: list[tuple[CueSet, str]], t: float) -> list[tuple[CueSet, str, bool]]:
        out = []
        for s, c in plan:
            already = c in s.done
            if not already:
                s.done.add(c)
                self._record(t, c, s.delivery_id, "done")
            out.append((s, c, already))
        return out
