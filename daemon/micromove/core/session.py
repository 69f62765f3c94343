"""A session drives the engine and records what it decides.

The daemon and `mmctl simulate` both run one `Session`: it feeds events to the
engine, counts them into per-minute buckets, turns the engine's decisions
into store writes and hands cue sets to a delivery function. It applies
progression (which cues are active this week) and re-checks it at every
local midnight. It does no I/O of its own and reads no clock: engine time is
passed in, and `wall_offset` maps it to UTC epoch seconds
(wall = engine time + wall_offset). The daemon moves `wall_offset` when it
notices a suspend or a clock change; simulate fixes it at the trace's start.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Protocol

from ..timefmt import local_date, next_local_midnight
from . import progression
from .confirm import Confirmations
from .engine import TRIGGERS, Decision, Delivery, Dropped, Engine, Stretch, StretchEnded

if TYPE_CHECKING:
    from ..config import Config  # a config comes in; the core never reads one

log = logging.getLogger("micromove")

PROGRESSION_KEY = "progression_start"

# Index of each kind's count in a minute bucket: keys, clicks, scrolls, moves, px.
_SLOT = {"key": 0, "click": 1, "scroll": 2, "move": 3}


class StoreWriter(Protocol):
    """What a session needs from the store (micromove.adapters.store.Store provides it)."""

    def add_counts(self, counts: dict[int, list[float]]) -> None: ...
    def put_stretch(self, kind: str, start: float, end: float) -> None: ...
    def add_delivery(
        self,
        t: float,
        reason: str,
        cues: list[tuple[str, str, float]],
        delivered: bool | None,
        error: str | None = None,
    ) -> int: ...
    def add_confirmation(self, t: float, cue_id: str, delivery_id: int | None, kind: str) -> None: ...
    def get_state(self, key: str) -> str | None: ...
    def set_state(self, key: str, value: str) -> None: ...
    def flush(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Delivered:
    """A cue set as it leaves the session: engine decision, wall time, store id."""

    delivery: Delivery
    wall: float
    delivery_id: int | None


class Session:
    def __init__(
        self,
        config: Config,
        *,
        wall_offset: float,
        store: StoreWriter | None = None,
        deliver: Callable[[Delivered], None] | None = None,
        count: bool = True,
        progression_start: date | None = None,
        assume_delivered: bool = False,
    ) -> None:
        self.config = config
        self.wall_offset = wall_offset
        self.store = store
        self.deliver = deliver
        # Simulate: every cue set reached the (virtual) person. The daemon
        # records None (pending) and sets the outcome when the notifier answers.
        self.assume_delivered = assume_delivered
        self.count = count and store is not None
        self.counts: dict[int, list[float]] = {}
        self.progression_start: date | None = None
        self._explicit_start = progression_start
        self.engine = Engine(config.engine_config(lambda _id: False))
        self._midnight_t = math.inf
        # trigger -> (engine start, wall start) of an open stretch that began
        # before a clock change: it keeps the wall start it had (one row, and
        # its wall length is its engine length, never negative).
        self._anchors: dict[str, tuple[float, float]] = {}
        self.decisions: list[Decision] = []  # only kept while keep_decisions
        self.keep_decisions = False
        # Done and likely-done confirmations (confirm.py); needs a store to write to.
        self.confirm: Confirmations | None = Confirmations(self._confirmed) if store is not None else None

    # ----------------------------------------------------------- start, day
    def start(self, t: float) -> None:
        """Begin at engine time `t`: settle progression, schedule midnight."""
        wall = t + self.wall_offset
        self._set_progression(wall)
        self._apply_day(t)

    def _set_progression(self, wall: float) -> None:
        if not self.config.progression_enabled:
            self.progression_start = None
            return
        start = self._explicit_start
        if start is None and self.store is not None:
            stored = self.store.get_state(PROGRESSION_KEY)
            if stored:
                try:
                    start = date.fromisoformat(stored)
                except ValueError:
                    log.warning("progression start %r in the database is not a date; restarting it", stored)
        if start is None:
            start = local_date(wall)
            if self.store is not None:
                self.store.set_state(PROGRESSION_KEY, start.isoformat())
        self.progression_start = start

    def active_regions(self, wall: float) -> tuple[str, ...]:
        from .catalog import REGIONS

        if self.progression_start is None:
            return REGIONS
        return progression.active_regions(self.progression_start, local_date(wall))

    def _apply_day(self, t: float) -> None:
        wall = t + self.wall_offset
        start = self.progression_start
        today = local_date(wall)
        self.engine.set_cues(
            self.config.engine_config(lambda cid: progression.is_active(cid, start, today)).cues,
            t,
        )
        self._midnight_t = next_local_midnight(wall) - self.wall_offset

    def reconfigure(self, config: Config, t: float) -> None:
        """A new config (SIGHUP): keep stretches and schedules."""
        self.config = config
        wall = t + self.wall_offset
        if config.progression_enabled and self.progression_start is None:
            self._set_progression(wall)
        elif not config.progression_enabled:
            self.progression_start = None
        start = self.progression_start
        today = local_date(wall)
        self.engine.reconfigure(
            config.engine_config(lambda cid: progression.is_active(cid, start, today)), t
        )

    def rebase(self, wall_offset: float, t: float) -> None:
        """The wall clock moved against engine time (clock change): remap."""
        for trig in TRIGGERS:
            s = self.engine.stretch(trig)
            if s is not None and trig not in self._anchors:
                self._anchors[trig] = (s.start, s.start + self.wall_offset)
        self.wall_offset = wall_offset
        self._midnight_t = next_local_midnight(t + wall_offset) - wall_offset

    # ----------------------------------------------------------------- input
    def input(self, t: float, kind: str, px: float | None = None, n: int = 1) -> None:
        """`n` input events of `kind` at engine time `t` (n > 1: coalesced)."""
        if t >= self._midnight_t:
            self.advance(t, inclusive=False)
        if self.count:
            minute = int((t + self.wall_offset) // 60)
            bucket = self.counts.get(minute)
            if bucket is None:
                bucket = self.counts[minute] = [0, 0, 0, 0, 0.0]
            bucket[_SLOT[kind]] += n
            if px:
                bucket[4] += px
        out = self.engine.feed(t, kind)
        if out:
            self._handle(out)
        if self.confirm is not None:
            self.confirm.input(t)

    def advance(self, t: float, inclusive: bool = True) -> None:
        """Let engine time pass to `t` (midnights included)."""
        while self._midnight_t < t or (inclusive and self._midnight_t == t):
            m = self._midnight_t
            out = self.engine.advance(m)
            if out:
                self._handle(out)
            self._apply_day(m)
        if inclusive:
            out = self.engine.advance(t)
            if out:
                self._handle(out)
            if self.confirm is not None:
                self.confirm.advance(t)

    def next_deadline(self) -> float | None:
        d = self.engine.next_deadline()
        if d is None:
            return None
        return d

    def finish(self, horizon: float | None = None) -> None:
        """No more input: let every pending deadline fire (up to `horizon`)."""
        if horizon is not None:
            self.advance(horizon)
            return
        while True:
            d = self.engine.next_deadline()
            if d is None:
                return
            self.advance(d)

    # ------------------------------------------------------------- decisions
    def _handle(self, out: list[Decision]) -> None:
        if self.keep_decisions:
            self.decisions.extend(out)
        for d in out:
            if isinstance(d, Delivery):
                wall = d.t + self.wall_offset
                did = None
                if self.store is not None:
                    did = self.store.add_delivery(
                        wall,
                        d.reason,
                        [(c.cue, c.trigger, c.stretch_s) for c in d.cues],
                        True if self.assume_delivered else None,
                    )
                    if self.confirm is not None:
                        self.confirm.delivered(did, d.t, [c.cue for c in d.cues])
                if self.deliver is not None:
                    self.deliver(Delivered(d, wall, did))
            elif isinstance(d, StretchEnded):
                self._put_stretch(d.stretch)
                self._anchors.pop(d.stretch.trigger, None)
            elif isinstance(d, Dropped):
                log.debug("stretch %s ended: dropped %s", d.trigger, ", ".join(d.cues))

    def _confirmed(self, t: float, cue_id: str, delivery_id: int, kind: str) -> None:
        if self.store is not None:
            self.store.add_confirmation(t + self.wall_offset, cue_id, delivery_id, kind)

    def not_delivered(self, delivery_id: int | None) -> None:
        """A cue set was never shown: no "likely done" for it, and `done` skips it."""
        if self.confirm is not None and delivery_id is not None:
            self.confirm.failed(delivery_id)

    def flush(self) -> None:
        """Hand counts and the open stretches to the store and write them."""
        if self.store is None:
            return
        if self.counts:
            self.store.add_counts(self.counts)
            self.counts = {}
        for trig in TRIGGERS:
            s = self.engine.stretch(trig)
            if s is not None:
                self._put_stretch(s)
        self.store.flush()

    def _put_stretch(self, s: Stretch) -> None:
        if self.store is None:
            return
        anchor = self._anchors.get(s.trigger)
        if anchor is not None and anchor[0] == s.start:
            start = anchor[1]
        else:
            start = s.start + self.wall_offset
        self.store.put_stretch(s.trigger, start, start + (s.last - s.start))
