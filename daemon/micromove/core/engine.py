"""The cue engine: input events in, stretches and cue sets out.

This is the one engine of micromove. The live daemon (`mmctl run`) and offline
replay (`mmctl simulate`) drive the very same `Engine`; neither adds rules of
its own. It is pure: it never reads a clock, does no I/O and starts no
threads. Time is a number of seconds that the caller passes in with every
call, on any timeline that never runs backwards (trace time for `simulate`,
a boot-time clock for the daemon). Like h11, it is a state machine that is
told what happened and when, and answers with what follows.

**Stretches.** Each trigger has its own stretch: `typing` is fed by key
presses, `mouse` by moves, clicks and scroll steps, `active` (presence) by any
event. A stretch goes on while the gaps between its events stay below
`break_s`; a gap of at least `break_s` ends it (a natural break), and the next
event starts a new one. Its length is the span from its first to its latest
event; idle time after the latest event does not lengthen it. An ended stretch
is reported as `StretchEnded` at the instant it ended (latest event plus
`break_s`).

**Due cues.** Every active cue has a trigger and an interval. It becomes due
when its trigger's current stretch has lasted `every_s` since the stretch
began, or since the cue was last delivered within that same stretch. The
stretch must still be going at that instant. When a stretch ends, its due cues
are dropped (reported as `Dropped`): the break was the rest.

**Natural pauses.** A natural pause begins when no input of any kind has come
for `pause_min_s`, i.e. at the latest input's time plus `pause_min_s`. Every
cue that is due at that instant goes out then, together, as one cue set
(`Delivery`, reason "pause"). A cue that has waited `max_defer_s` since it
became due without a natural pause goes out then anyway (reason
"max_defer"), and takes every other due cue along in the same set. If a
natural pause begins exactly at a cap, the set's reason is "pause".

**Cue sets and the gap.** Two deliveries are never closer than `min_gap_s`.
A cue that would have gone out inside that gap is held back: it counts as
becoming due when the gap ends, so it goes out at the first natural pause
beginning at or after that moment, or `max_defer_s` after it.

**Holds.** `hold(name, until)` holds delivery back by name ("pause",
"snooze", "quiet.lock", ...; None: until released); holding a name again
replaces it, `release(name)` lifts it. The engine only sees their
combination: while any indefinite hold is in force nothing goes out, else
nothing before the latest timed hold ends. A hold uses the gap's rule: what
falls due meanwhile is held, not dropped (unless its stretch ends), and goes
out at the first natural pause beginning at or after the combined end, or
`max_defer_s` after it; `max_defer_s` never breaks through a hold. When a
change (a release, or a name held again for less) brings the combined end
earlier, what was held counts as due from that moment.

**Order at one instant.** Input at an instant comes before everything the
engine would do at that instant (input exactly at a pause instant means
there was no pause). Among the engine's own happenings at one instant:
stretches end first (a gap of exactly `break_s` ends a stretch, and its due
cues are dropped), then cues become due, then the cue set goes out. So a cue
that becomes due exactly at a pause instant is delivered at it.

**Config changes.** `set_cues(rules, t)` and `reconfigure(config, t)` take
effect at `t` (call `advance(t)` first if time has passed). Whatever the new
values make overdue happens at that instant, never in the past: a stretch whose
gap already reached the new `break_s` ends then (reported at that instant), a
cue whose new interval has already run out counts as due from then, a due cue
whose new cap has passed goes out then (`max_defer`), and a natural pause
already going on under a shorter `pause_min_s` sends the due cues then
(`pause`). A kept cue keeps its anchor; a new one is anchored at its
stretch's start or at `t`, whichever is later.

**Cost.** `feed` does O(1) work per event: it updates three stretches and the
latest-input time, and compares the event's time with a cached lower bound of
the next deadline other than a pause and, while some cue is due, with the
exact pause instant after the previous input. The catalog is only walked when
a deadline has passed (including a natural pause while a cue is due), or when
the cached stretch-end bound runs out (at most once per `break_s` of
continuous input); history is never kept.

Use: call `feed(t, kind)` for each input event in time order, and
`advance(t)` to let time pass without input (it fires every deadline up to and
including `t`). `next_deadline()` says when something could next happen, so a
caller can sleep until then. `advance(t)` says that `t` passed without input:
an event later fed at that same `t` cannot undo what it fired, so advance only
to instants before the next event (interleaving such calls never changes the
outcome). Each call returns what happened, in order.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final, Literal

Kind = Literal["key", "move", "click", "scroll"]
KINDS: Final[tuple[Kind, ...]] = ("key", "move", "click", "scroll")
Trigger = Literal["typing", "mouse", "active"]
TRIGGERS: Final[tuple[Trigger, ...]] = ("typing", "mouse", "active")
Reason = Literal["pause", "max_defer"]

# Which stretches an event of each kind feeds (presence: every event).
FEEDS: Final[dict[str, tuple[Trigger, Trigger]]] = {
    "key": ("typing", "active"),
    "move": ("mouse", "active"),
    "click": ("mouse", "active"),
    "scroll": ("mouse", "active"),
}

INF: Final[float] = math.inf


@dataclass(frozen=True, slots=True)
class CueRule:
    """One cue as the engine sees it: an id, a trigger and an interval."""

    id: str
    trigger: Trigger
    every_s: float


@dataclass(frozen=True, slots=True)
class EngineConfig:
    pause_min_s: float = 3.0
    max_defer_s: float = 180.0
    break_s: float = 120.0
    min_gap_s: float = 300.0
    cues: tuple[CueRule, ...] = ()


@dataclass(frozen=True, slots=True)
class Stretch:
    trigger: Trigger
    start: float
    last: float

    @property
    def length(self) -> float:
        return self.last - self.start


@dataclass(frozen=True, slots=True)
class DueCue:
    cue: str
    trigger: Trigger
    stretch_s: float


@dataclass(frozen=True, slots=True)
class Delivery:
    """One cue set, delivered at `t`."""

    t: float
    reason: Reason
    cues: tuple[DueCue, ...]


@dataclass(frozen=True, slots=True)
class StretchEnded:
    """A stretch ended at `t` (its latest event plus break_s)."""

    t: float
    stretch: Stretch


@dataclass(frozen=True, slots=True)
class Dropped:
    """Due cues dropped at `t` because their trigger's stretch ended."""

    t: float
    trigger: Trigger
    cues: tuple[str, ...]


Decision = Delivery | StretchEnded | Dropped


@dataclass(slots=True)
class _CueState:
    rule: CueRule
    anchor: float | None = None  # stretch start or last delivery in this stretch
    due_at: float | None = None  # when it (counts as having) become due
    cap_at: float = INF  # due_at + max_defer_s


@dataclass(slots=True)
class _StretchState:
    start: float | None = None
    last: float = -INF


@dataclass(frozen=True, slots=True)
class Pending:
    """A due cue and when it will go out if nothing changes."""

    cue: str
    trigger: Trigger
    due_at: float
    cap_at: float


@dataclass(slots=True)
class Engine:
    config: EngineConfig
    _stretch: dict[str, _StretchState] = field(default_factory=dict)
    _cues: dict[str, _CueState] = field(default_factory=dict)
    _by_trigger: dict[str, list[_CueState]] = field(default_factory=dict)
    _last_input: float = -INF
    _last_delivery: float = -INF
    _holds: dict[str, float] = field(default_factory=dict)  # name -> until (INF: until released)
    _hold_until: float = -INF  # the combined end of _holds
    _now: float = -INF
    # A lower bound of the next deadline other than a natural pause. The
    # pause deadline is tracked exactly instead: _last_input + pause_min_s,
    # when some cue is due (a stale pause bound would make every few seconds
    # of continuous typing walk the catalog).
    _next_lb: float = INF
    _any_due: bool = False  # some cue was due when _earliest last looked

    def __post_init__(self) -> None:
        self._stretch = {t: _StretchState() for t in TRIGGERS}
        self.set_cues(self.config.cues)

    # ------------------------------------------------------------------ input
    def feed(self, t: float, kind: str) -> list[Decision]:
        """One input event of `kind` at time `t` (not before the last call)."""
        out: list[Decision] = []
        if t < self._now:
            t = self._now  # never run backwards (a late-stamped live event)
        if t > self._next_lb or (self._any_due and t > self._last_input + self.config.pause_min_s):
            self._run(t, inclusive=False, out=out)
        self._now = t
        self._last_input = t
        for trig in FEEDS[kind]:
            s = self._stretch[trig]
            if s.start is not None and t - s.last >= self.config.break_s:
                # The gap reached break_s exactly at t: the old stretch ended.
                self._end_stretch(trig, s.last + self.config.break_s, out)
            if s.start is None:
                s.start = t
                self._start_stretch(trig, t)
            s.last = t
        return out

    def advance(self, t: float) -> list[Decision]:
        """Let time pass to `t` with no input; fire every deadline <= t."""
        out: list[Decision] = []
        if t >= self._next_lb or (self._any_due and t >= self._last_input + self.config.pause_min_s):
            self._run(t, inclusive=True, out=out)
        if t > self._now:
            self._now = t
        return out

    def finish(self) -> list[Decision]:
        """Let time run on with no more input until nothing more can happen."""
        return self.advance(INF)

    # -------------------------------------------------------------- controls
    def set_cues(self, rules: Iterable[CueRule], t: float | None = None) -> None:
        """Replace the set of active cues (config reload, progression).

        Cues that stay keep their schedule; a cue that arrives mid-stretch is
        anchored at its stretch's start (or at `t`, if later than it).
        """
        if t is not None and t > self._now:
            self._now = t  # the change happens at t: nothing it makes overdue goes out earlier
        old = self._cues
        self._cues = {}
        self._by_trigger = {trig: [] for trig in TRIGGERS}
        for rule in rules:
            st = old.get(rule.id)
            if st is None or st.rule.trigger != rule.trigger:
                st = _CueState(rule)
                start = self._stretch[rule.trigger].start
                if start is not None:
                    st.anchor = start if t is None else max(start, t)
            else:
                st.rule = rule
            self._cues[rule.id] = st
            self._by_trigger[rule.trigger].append(st)
        self._next_lb = -INF  # recompute

    def reconfigure(self, config: EngineConfig, t: float | None = None) -> None:
        """Take a new config (SIGHUP) without losing stretches or schedules."""
        self.config = config
        for st in self._cues.values():
            if st.due_at is not None:
                st.cap_at = st.due_at + config.max_defer_s
        self.set_cues(config.cues, t)

    def hold(self, name: str, until: float | None, t: float | None = None) -> None:
        """Hold delivery back by `name` until `until` (None: until released).

        Holding a name again replaces it. `t` is the moment of the change
        (default: the latest time the engine was given).
        """
        at = self._now if t is None else t
        before = self._in_force(at)
        self._holds[name] = INF if until is None else float(until)
        self._settle(before, at)

    def release(self, name: str, t: float | None = None) -> None:
        """Lift the hold `name` (no-op if there is none) at `t` (default: now)."""
        if name not in self._holds:
            return
        at = self._now if t is None else t
        before = self._in_force(at)
        del self._holds[name]
        self._settle(before, at)

    def holds(self) -> dict[str, float | None]:
        """The holds in force: name -> until (None: until released)."""
        now = self._now
        return {n: (None if u == INF else u) for n, u in self._holds.items() if u > now}

    def _in_force(self, at: float) -> float:
        return max((u for u in self._holds.values() if u > at), default=-INF)

    def _settle(self, before: float, at: float) -> None:
        self._holds = {n: u for n, u in self._holds.items() if u > at}
        after = max(self._holds.values(), default=-INF)
        self._hold_until = after
        if after < before:
            # The combined hold ends earlier: what it held counts as due from `at`.
            for st in self._cues.values():
                if st.due_at is not None and st.due_at > at:
                    st.due_at = at
                    st.cap_at = at + self.config.max_defer_s
        self._next_lb = -INF

    # --------------------------------------------------------------- queries
    def stretch(self, trigger: Trigger) -> Stretch | None:
        s = self._stretch[trigger]
        if s.start is None:
            return None
        return Stretch(trigger, s.start, s.last)

    @property
    def last_input(self) -> float | None:
        return None if self._last_input == -INF else self._last_input

    @property
    def last_delivery(self) -> float | None:
        return None if self._last_delivery == -INF else self._last_delivery

    @property
    def held_until(self) -> float | None:
        """The combined end of the holds in force (INF: until released), or None."""
        end = self._in_force(self._now)
        return None if end == -INF else end

    def pending(self) -> list[Pending]:
        """The cues that are due now, with when they became due and their cap."""
        return [
            Pending(st.rule.id, st.rule.trigger, st.due_at, st.cap_at)
            for st in self._cues.values()
            if st.due_at is not None
        ]

    def upcoming(self) -> list[tuple[float, str]]:
        """(time, cue) for cues not yet due whose stretch is going: when they fall due."""
        out = []
        for st in self._cues.values():
            if st.due_at is None and st.anchor is not None:
                out.append((st.anchor + st.rule.every_s, st.rule.id))
        return sorted(out)

    def next_deadline(self) -> float | None:
        """The earliest instant at which `advance` could do something."""
        t = self._earliest()
        return None if t == INF else t

    # --------------------------------------------------------------- insides
    def _start_stretch(self, trig: str, t: float) -> None:
        for st in self._by_trigger[trig]:
            st.anchor = t
            st.due_at = None
            st.cap_at = INF
            if t + st.rule.every_s < self._next_lb:
                self._next_lb = t + st.rule.every_s
        if t + self.config.break_s < self._next_lb:
            self._next_lb = t + self.config.break_s

    def _end_stretch(self, trig: Trigger, at: float, out: list[Decision]) -> None:
        s = self._stretch[trig]
        assert s.start is not None
        dropped = []
        for st in self._by_trigger[trig]:
            if st.due_at is not None:
                dropped.append(st.rule.id)
            st.anchor = None
            st.due_at = None
            st.cap_at = INF
        out.append(StretchEnded(at, Stretch(trig, s.start, s.last)))
        if dropped:
            out.append(Dropped(at, trig, tuple(dropped)))
        s.start = None
        s.last = -INF

    def _pause_instant(self) -> float:
        return self._last_input + self.config.pause_min_s

    def _earliest(self) -> float:
        """The earliest pending deadline (INF if none). Walks the catalog.

        Also refreshes _next_lb (every deadline but the pause) and _any_due.
        """
        cfg = self.config
        best = INF
        for s in self._stretch.values():
            if s.start is not None and s.last + cfg.break_s < best:
                best = s.last + cfg.break_s
        pause = self._pause_instant()
        any_due = False
        at_pause = False
        for st in self._cues.values():
            if st.due_at is None:
                if st.anchor is not None and st.anchor + st.rule.every_s < best:
                    best = st.anchor + st.rule.every_s
            else:
                any_due = True
                if st.cap_at < best:
                    best = st.cap_at
                if st.due_at <= pause:
                    at_pause = True
        self._any_due = any_due
        self._next_lb = best
        return pause if at_pause and pause < best else best

    def _run(self, limit: float, inclusive: bool, out: list[Decision]) -> None:
        """Fire every deadline before `limit` (or at it, if inclusive)."""
        cfg = self.config
        while True:
            t = self._earliest()
            # Only a config change (reconfigure, set_cues) can leave a deadline
            # before the present: what it made overdue happens now, never in
            # the past. In normal running every deadline is >= _now, so this
            # changes nothing.
            if t < self._now:
                t = self._now
            if t > limit or (t == limit and not inclusive) or t == INF:
                return
            self._now = t
            # 1. Stretches whose gap reached break_s end, dropping their due cues.
            for trig in TRIGGERS:
                s = self._stretch[trig]
                if s.start is not None and s.last + cfg.break_s <= t:
                    self._end_stretch(trig, max(s.last + cfg.break_s, t), out)
            # 2. Cues whose interval has run out become due.
            for st in self._cues.values():
                if (
                    st.due_at is None
                    and st.anchor is not None
                    and st.anchor + st.rule.every_s <= t
                ):
                    st.due_at = max(st.anchor + st.rule.every_s, t)
                    st.cap_at = st.due_at + cfg.max_defer_s
            # 3. A natural pause, or a cap, sends out everything that is due.
            pause = self._pause_instant()
            due = [st for st in self._cues.values() if st.due_at is not None and st.due_at <= t]
            if not due:
                continue
            # Normally the pause is exactly now; after a config change that
            # shortened pause_min_s it may have begun earlier and still be on.
            if pause <= t and any(st.due_at <= pause for st in due):  # type: ignore[operator]
                reason: Reason = "pause"
            elif any(st.cap_at <= t for st in due):
                reason = "max_defer"
            else:
                continue
            gap_end = max(self._last_delivery + cfg.min_gap_s, self._hold_until)
            if t < gap_end:
                # Held back by the gap: due again when it ends.
                for st in due:
                    st.due_at = gap_end
                    st.cap_at = gap_end + cfg.max_defer_s
                continue
            cues = []
            for st in due:
                s = self._stretch[st.rule.trigger]
                length = s.last - s.start if s.start is not None else 0.0
                cues.append(DueCue(st.rule.id, st.rule.trigger, length))
                st.anchor = t
                st.due_at = None
                st.cap_at = INF
            self._last_delivery = t
            out.append(Delivery(t, reason, tuple(cues)))
