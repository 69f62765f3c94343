"""A session drives the engine and records what it decides.

The daemon and `mmctl simulate` both run one `Session`: it feeds events to the
engine, counts them into per-minute buckets, turns the engine's decisions
into store writes and hands cue sets to a delivery function. It applies
progression (which cues are active this week) and re-checks it at every
local midnight. It does no I/O of its own and reads no clock: engine time is
passed in, and `wall_offset` maps it to UTC epoch seconds
(wall = engine time + wall_offset). The daemon moves `wall_offset` when it
notices a suspend or a clock change; simulate fixes it at the trace's start.

With `presence=True` the input comes from a source that cannot tell keys
from the pointer (a Wayland compositor's idle interface): it reports only
`busy(t)` and `idle(last)`, the engine runs in presence mode, and instead of
counts the session marks each minute with input as seen by such a source
(bucket slot 5), so that readers know its counts were not recorded.

Back-off (backoff.py, unless `notify.back_off` is false): the session judges
each cue set when its answer window closes and stretches or restores the
intervals it gives the engine. While it does, it moves the engine on one
deadline at a time, so a judgement that falls between two of the engine's
happenings takes effect exactly then, however the caller slices time
(simulate feeds events, the daemon advances by passes: same result).
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol

from ..timefmt import local_date, next_local_midnight
from . import progression
from .backoff import STATE_KEY as BACKOFF_KEY
from .backoff import BackOff
from .confirm import LIKELY_WINDOW_S, Confirmations, CueSet, NothingToMark
from .engine import (
    TRIGGERS,
    CueRule,
    Decision,
    Delivery,
    Dropped,
    Engine,
    EngineConfig,
    Stretch,
    StretchEnded,
)
from .quiet_hours import QuietHours

if TYPE_CHECKING:
    from ..config import Config  # a config comes in; the core never reads one

log = logging.getLogger("micromove")

PROGRESSION_KEY = "progression_start"

# Index of each kind's count in a minute bucket: keys, clicks, scrolls, moves,
# px, presence (1: a presence-only source saw input in the minute).
_SLOT = {"key": 0, "click": 1, "scroll": 2, "move": 3}
_PRESENCE = 5


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
    def add_confirmation(
        self, t: float, cue_id: str, delivery_id: int | None, kind: str, source: str | None = None
    ) -> None: ...
    def get_state(self, key: str) -> str | None: ...
    def set_state(self, key: str, value: str) -> None: ...
    def flush(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Delivered:
    """A cue set as it leaves the session: engine decision, wall time, store id."""

    delivery: Delivery
    wall: float
    delivery_id: int | None


def _hours_of(config: Config) -> QuietHours | None:
    if not config.quiet_hours:
        return None
    return QuietHours.parse(config.quiet_hours)


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
        presence: bool = False,
    ) -> None:
        self.config = config
        self.presence = presence
        self._marked_to: float | None = None  # presence: minutes marked up to here
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
        self.backoff = BackOff()
        self._base_rules: tuple[CueRule, ...] = ()  # the active cues at their configured intervals
        self.engine = Engine(self._engine_config(config, lambda _id: False))
        self._midnight_t = math.inf
        # Quiet hours (config quiet.hours): the next engine time to look at them.
        self._hours = _hours_of(config)
        self._hours_t = math.inf
        self._hours_since: float | None = None
        # trigger -> (engine start, wall start) of an open stretch that began
        # before a clock change: it keeps the wall start it had (one row, and
        # its wall length is its engine length, never negative).
        self._anchors: dict[str, tuple[float, float]] = {}
        self.decisions: list[Decision] = []  # only kept while keep_decisions
        self.keep_decisions = False
        # Done, likely-done and dismissed (confirm.py): written when there is a
        # store, and kept in any case for the back-off.
        self.confirm: Confirmations | None = Confirmations(self._confirmed)
        self._local_id = 0  # set ids without a store (negative: never a row)
        self._open: CueSet | None = None  # the set whose answer window is open
        self._close_at = math.inf  # when that window closes (if no set goes out first)
        self._t = -math.inf  # engine time reached

    # ----------------------------------------------------------- start, day
    def start(self, t: float) -> None:
        """Begin at engine time `t`: settle progression, schedule midnight."""
        wall = t + self.wall_offset
        self._set_progression(wall)
        self._restore_backoff()
        self._apply_day(t)
        self._apply_hours(t)

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
        self._base_rules = self._engine_config(self.config, lambda cid: progression.is_active(cid, start, today)).cues
        self.engine.set_cues(self._rules(), t)
        self._t = max(self._t, t)
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
        ec = self._engine_config(config, lambda cid: progression.is_active(cid, start, today))
        self._base_rules = ec.cues
        if not config.back_off:
            self._open = None  # nothing open is judged while it is off
            self._close_at = math.inf
        self.engine.reconfigure(self._scaled(ec), t)
        self._t = max(self._t, t)
        self._hours = _hours_of(config)
        self._apply_hours(t)

    def _engine_config(self, config: Config, active: Callable[[str], bool]) -> EngineConfig:
        cfg = config.engine_config(active)
        return dataclasses.replace(cfg, presence=True) if self.presence else cfg

    def rebase(self, wall_offset: float, t: float) -> None:
        """The wall clock moved against engine time (clock change): remap."""
        for trig in TRIGGERS:
            s = self.engine.stretch(trig)
            if s is not None and trig not in self._anchors:
                self._anchors[trig] = (s.start, s.start + self.wall_offset)
        self.wall_offset = wall_offset
        self._midnight_t = next_local_midnight(t + wall_offset) - wall_offset
        self._apply_hours(t)

    # ----------------------------------------------------------------- input
    def input(self, t: float, kind: str, px: float | None = None, n: int = 1) -> None:
        """`n` input events of `kind` at engine time `t` (n > 1: coalesced)."""
        if t >= self._midnight_t or t >= self._hours_t:
            self.advance(t, inclusive=False)
        if self.count:
            minute = int((t + self.wall_offset) // 60)
            bucket = self.counts.get(minute)
            if bucket is None:
                bucket = self.counts[minute] = [0, 0, 0, 0, 0.0, 0]
            if kind in _SLOT:
                bucket[_SLOT[kind]] += n
            if px:
                bucket[4] += px
        if self.config.back_off:
            self._run_to(t, inclusive=False)
        out = self.engine.feed(t, kind)
        if t > self._t:
            self._t = t
        if out:
            self._handle(out)
        if self.confirm is not None:
            self.confirm.input(t)

    def busy(self, t: float) -> None:
        """A presence-only source: input began at engine time `t` and goes on."""
        if t >= self._midnight_t:
            self.advance(t, inclusive=False)
        self._mark(t, t)
        if self.config.back_off:
            self._run_to(t, inclusive=False)
        out = self.engine.busy(t)
        if t > self._t:
            self._t = t
        if out:
            self._handle(out)
        if self.confirm is not None:
            self.confirm.input(t)

    def idle(self, last: float) -> None:
        """A presence-only source: input stopped; the latest was at `last`."""
        self._mark(last if self._marked_to is None else self._marked_to, last)
        self._marked_to = None
        out = self.engine.idle(last)
        if out:
            self._handle(out)
        if self.confirm is not None:
            self.confirm.input(max(last, self.engine.now))

    def _mark(self, t0: float, t1: float) -> None:
        """Minutes t0..t1 (engine time) had input that was not counted."""
        if not self.count:
            return
        off = self.wall_offset
        for minute in range(int((t0 + off) // 60), int((t1 + off) // 60) + 1):
            bucket = self.counts.get(minute)
            if bucket is None:
                bucket = self.counts[minute] = [0, 0, 0, 0, 0.0, 0]
            bucket[_PRESENCE] = 1
        self._marked_to = t1

    def advance(self, t: float, inclusive: bool = True) -> None:
        """Let engine time pass to `t` (midnights included)."""
        while True:
            m = min(self._midnight_t, self._hours_t)
            if not (m < t or (inclusive and m == t)):
                break
            self._engine_to(m)
            if m == self._midnight_t:
                self._apply_day(m)
            if m == self._hours_t:
                self._apply_hours(m)
        if inclusive:
            self._engine_to(t)
            if self.confirm is not None:
                self.confirm.advance(t)

    def _engine_to(self, t: float) -> None:
        """Engine (and answer windows) up to and including `t`."""
        if self.config.back_off:
            self._run_to(t, inclusive=True)
        else:
            out = self.engine.advance(t)
            if out:
                self._handle(out)
        if t > self._t:
            self._t = t

    def _run_to(self, t: float, inclusive: bool) -> None:
        """Engine deadlines and answers before `t` (at it too if inclusive), in time order.

        Answers are the open set's likely done (the instant an input gap
        reaches its length) and its window closing; at one instant they come
        before the engine acts. The engine is moved one instant at a time
        only when it would do something (its O(1) `quiet_until` test), so
        input streaming in costs nothing more.
        """
        eng = self.engine
        while True:
            c = self._answer_deadline()
            answering = c < t or (inclusive and c == t)
            stop, incl = (c, False) if answering else (t, inclusive)
            opened = self._open
            while not eng.quiet_until(stop, incl):
                d = eng.next_deadline()
                if d is None:
                    break
                d = max(d, self._t)  # overdue after a config change: happens now
                if d > stop or (d == stop and not incl):
                    break
                out = eng.advance(d)
                self._t = max(self._t, d)
                if out:
                    self._handle(out)
                if self._open is not opened:
                    break  # a cue set went out: its window is the one to watch
            if self._open is not opened:
                continue
            if not answering:
                return
            self._t = max(self._t, c)
            if self.confirm is not None:
                self.confirm.advance(c)  # a likely done now resets its cues (_confirmed)
            if c >= self._close_at:
                self._close_window(c)

    def _answer_deadline(self) -> float:
        """When the open set is next answered by itself: likely done, or its window closing."""
        if self._open is None:
            return math.inf
        c = self._close_at
        if self.confirm is not None and not self._open.likely:
            at = self.confirm.likely_at()
            if at is not None and at < c:
                return at
        return c

    # ----------------------------------------------------------------- holds
    # The engine's named holds ("pause", "snooze", "quiet.<source>").
    def hold(self, name: str, until: float | None, t: float) -> None:
        """Hold cue sets under `name` until engine time `until` (None: until released)."""
        self.engine.hold(name, until, t)

    def release(self, name: str, t: float) -> None:
        self.engine.release(name, t)

    def own_holds(self) -> dict[str, tuple[float, float | None]]:
        """The holds the session sets itself (quiet hours): name -> (since, until), engine time."""
        until = self.engine.holds().get("quiet.hours", -math.inf)
        if until == -math.inf or self._hours_since is None:
            return {}
        return {"quiet.hours": (self._hours_since, until)}

    def holds_at(self, t: float) -> dict[str, float | None]:
        """The holds in force at `t`: name -> until (None: until released), sorted by name."""
        return {n: u for n, u in sorted(self.engine.holds().items()) if u is None or u > t}

    def holding(self, t: float) -> bool:
        return bool(self.holds_at(t))

    def _apply_hours(self, t: float) -> None:
        """Hold "quiet.hours" if `t` is inside them; note when to look again."""
        hours = self._hours
        if not hours:
            self._hours_since = None
            self.engine.release("quiet.hours", t)
            self._hours_t = math.inf
            return
        wall = t + self.wall_offset
        end = hours.until(wall)
        if end is not None:
            until = end - self.wall_offset
            if self.holds_at(t).get("quiet.hours") != until:
                log.info("quiet hours until %s: cues wait", datetime.fromtimestamp(end).strftime("%H:%M"))
                if self._hours_since is None:
                    self._hours_since = t
            self.engine.hold("quiet.hours", until, t)
            self._hours_t = until
        else:
            if self._hours_since is not None:
                log.info("quiet hours over")
            self._hours_since = None
            self.engine.release("quiet.hours", t)
            nxt = hours.next_start(wall)
            self._hours_t = math.inf if nxt is None else nxt - self.wall_offset

    def next_deadline(self) -> float | None:
        d = self.engine.next_deadline()
        if d is not None and d < self._t:
            d = self._t  # made overdue by a change at _t: it happens then
        c = self._answer_deadline()
        if c != math.inf and (d is None or c < d):
            return c
        return d

    def finish(self, horizon: float | None = None) -> None:
        """No more input: let every pending deadline fire (up to `horizon`)."""
        if horizon is not None:
            self.advance(horizon)
            return
        while True:
            d = self.next_deadline()
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
                    self.confirm.advance(d.t)  # the previous set's watch ends here
                    if self.config.back_off:
                        self._close_window(d.t)  # and so does its answer window
                    if did is None:
                        self._local_id -= 1
                    self.confirm.delivered(did if did is not None else self._local_id, d.t, [c.cue for c in d.cues])
                    if self.config.back_off:
                        self._open_window()
                if self.deliver is not None:
                    self.deliver(Delivered(d, wall, did))
            elif isinstance(d, StretchEnded):
                self._put_stretch(d.stretch)
                self._anchors.pop(d.stretch.trigger, None)
            elif isinstance(d, Dropped):
                log.debug("cue dropped at a break (its %s stretch ended): %s", d.trigger, ", ".join(d.cues))

    def _confirmed(self, t: float, cue_id: str, delivery_id: int, kind: str, source: str) -> None:
        if self.store is not None and delivery_id >= 0:
            self.store.add_confirmation(t + self.wall_offset, cue_id, delivery_id, kind, source)
        if kind in ("done", "likely") and self.config.back_off and self.backoff.answer(cue_id):
            log.info("%s answered: back to its configured interval", cue_id)
            self._backoff_changed(t)

    # ------------------------------------------------------------- answers
    def answer(self, t: float, kind: str) -> bool:
        """A trace's answer line at `t` (done | dismiss) on the latest set delivered before `t`.

        Replayed as the daemon records the Done button and a dismissal. False
        when there was no set to answer (nothing is recorded).
        """
        self.advance(math.nextafter(t, -math.inf))  # everything before t, nothing at it
        if self.confirm is None:
            return False
        s = self.confirm.last_set()
        if s is None:
            return False
        if kind == "done":
            try:
                self.confirm.done(None, t, source="button")
            except NothingToMark:
                return False
            return True
        return self.confirm.dismissed(s.delivery_id, t) is not None

    def reset_backoff(self, cues: list[str] | None, t: float) -> list[str]:
        """Put cues (None: every cue) back to their configured interval at `t`; those that were backed off."""
        was = self.backoff.reset(cues)
        self._backoff_changed(t)
        return was

    def _open_window(self) -> None:
        assert self.confirm is not None
        s = self.confirm.recent[-1]
        self._open = s
        self._close_at = s.t + LIKELY_WINDOW_S + s.need_s

    def _close_window(self, t: float) -> None:
        """The open set's window closes at `t`: each of its cues not done nor likely done is unanswered.

        (Done and likely done have already brought their cues back when
        they were recorded, so this only ever stretches intervals: nothing
        it does makes a cue due at once.)
        """
        s = self._open
        self._open = None
        self._close_at = math.inf
        if s is None or s.failed:
            return
        changed = False
        wall = t + self.wall_offset
        for c in s.cues:
            if c in s.done or s.likely:
                continue
            if self.backoff.miss(c, s.dismissed, wall):
                changed = True
                log.info(
                    "%s went unanswered %d times in a row: every %g min now",
                    c, self.backoff.cues[c].misses, self._every_min(c) * self.backoff.factor(c),
                )
        self._save_backoff()
        if changed:
            self._apply_factors(t)

    def _every_min(self, cue: str) -> float:
        s = self.config.cues.get(cue)
        return s.every_min if s is not None else 0.0

    def _backoff_changed(self, t: float) -> None:
        self._save_backoff()
        self._apply_factors(t)

    def _apply_factors(self, t: float) -> None:
        self._t = max(t, self._t)
        self.engine.set_cues(self._rules(), self._t)

    def _rules(self) -> tuple[CueRule, ...]:
        if not self.config.back_off:
            return self._base_rules
        f = self.backoff.factor
        return tuple(r if f(r.id) == 1.0 else CueRule(r.id, r.trigger, r.every_s * f(r.id)) for r in self._base_rules)

    def _scaled(self, ec: EngineConfig) -> EngineConfig:
        return dataclasses.replace(ec, cues=self._rules())

    def _save_backoff(self) -> None:
        if self.store is not None:
            self.store.set_state(BACKOFF_KEY, self.backoff.dumps())

    def _restore_backoff(self) -> None:
        if self.store is None:
            return
        raw = self.store.get_state(BACKOFF_KEY)
        try:
            self.backoff = BackOff.loads(raw)
        except ValueError as exc:
            log.warning("back-off state in the database is not understood (%s); starting it again", exc)
            self.backoff = BackOff()
            return
        for c, f in self.backoff.backed_off().items():
            log.info("%s is backed off: %g times its interval (unanswered)", c, f)

    def dismissed(self, delivery_id: int, t: float) -> bool:
        """The person closed the notification of set `delivery_id` at `t` (not an answer)."""
        if self.confirm is None:
            return False
        return self.confirm.dismissed(delivery_id, t) is not None

    def not_delivered(self, delivery_id: int | None) -> None:
        """A cue set was never shown: no "likely done" for it, and `done` skips it."""
        if self.confirm is not None and delivery_id is not None:
            self.confirm.failed(delivery_id)

    def flush(self) -> None:
        """Hand counts and the open stretches to the store and write them."""
        if self.store is None:
            return
        if self._marked_to is not None and self.engine.busy_now:
            self._mark(self._marked_to, self.engine.now)  # input goes on: minutes so far
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
