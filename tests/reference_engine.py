"""A deliberately naive reference of contracts section 2, for testing the engine.

Written from the contract text, not from micromove/core/engine.py. It knows the
whole trace up front, works out every stretch and every natural pause from it
directly, and then walks from one interesting instant to the next, rescanning
all its state at every step. Correctness over speed: it is quadratic and
meant for small traces only.

Interpretation choices (the same ones micromove/core/engine.py's docstring states):

1. Order at one instant: input first; then stretches end; then cues become
   due; then the cue set goes out.
2. A stretch of a trigger goes on while the gaps between its events are below
   `break_s`; it ends at `last + break_s` (a gap of exactly `break_s` ends
   it). A stretch is "going" at instant T when start <= T < last + break_s.
   Its due cues are dropped when it ends (before anything else at that instant
   can deliver them).
3. A cue becomes due at `anchor + every_s`, where the anchor is its trigger's
   stretch start or the cue's last delivery within that stretch, provided the
   stretch is still going at that instant (wall time, not stretch length).
4. A natural pause instant is `t + min_s` for an input time t when no input
   comes in (t, t + min_s]; input exactly at that instant means no pause.
   After the last event time goes on, so the last event's pause always counts.
5. A due cue goes out at the first natural pause instant >= its due time, or
   at `due + max_defer_s` (its cap), whichever comes first. Every due cue
   rides along in a delivery. The reason is `pause` if the instant is a
   natural pause, else `max_defer` (for every cue in the set).
6. A delivery attempt before `last_delivery + min_gap_s` holds back exactly
   the cues that would have gone out then: they count as due at the gap end
   (so: the first pause at or after it, or gap_end + max_defer_s).
7. `stretch_s` = latest event (at or before the delivery instant) minus the
   first event of the trigger's stretch.
8. After delivery a cue is anchored at the delivery instant.

9. Named holds (`ops`: (t, name, until) with until None for "until
   released" and "release" to lift it), applied at their instant after
   everything else the engine does then. A hold in force at T: until is
   None or until > T. The combined end is infinite if any hold in force is
   indefinite, else the latest until. A delivery attempt before the combined
   end is held back like one inside the gap (rule 6, with gap_end the later
   of the two). When an operation brings the combined end of the holds in
   force earlier, every held cue (due after T) counts as due from T (cap
   T + max_defer_s); after the operations at T a delivery attempt may
   follow at T itself.

Not modelled: set_cues, reconfigure (hand-written tests cover them).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

TRIGGERS_OF_KIND = {
    "key": ("typing", "active"),
    "move": ("mouse", "active"),
    "click": ("mouse", "active"),
    "scroll": ("mouse", "active"),
}
ALL_TRIGGERS = ("typing", "mouse", "active")


@dataclass(frozen=True)
class RefConfig:
    min_s: float
    max_defer_s: float
    break_s: float
    min_gap_s: float
    cues: tuple[tuple[str, str, float], ...]  # (id, trigger, every_s)


@dataclass(frozen=True)
class RefStretch:
    trigger: str
    times: tuple[float, ...]  # every event time of the stretch, in order
    end: float  # last + break_s

    @property
    def start(self) -> float:
        return self.times[0]

    @property
    def last(self) -> float:
        return self.times[-1]

    def going(self, t: float) -> bool:
        return self.start <= t < self.end

    def length_at(self, t: float) -> float:
        return max(x for x in self.times if x <= t) - self.start


@dataclass(frozen=True)
class RefDelivery:
    t: float
    reason: str
    cues: tuple[tuple[str, str, float], ...]  # (cue, trigger, stretch_s), sorted by cue


@dataclass
class RefResult:
    deliveries: list[RefDelivery] = field(default_factory=list)
    dropped: list[tuple[float, str, tuple[str, ...]]] = field(default_factory=list)
    ended: list[tuple[float, str, float, float]] = field(default_factory=list)


@dataclass
class _Cue:
    id: str
    trigger: str
    every_s: float
    stretch: RefStretch | None = None
    anchor: float | None = None
    due: float | None = None
    cap: float | None = None


def stretches(events: Sequence[tuple[float, str]], break_s: float) -> list[RefStretch]:
    """Every stretch of every trigger in the trace."""
    out: list[RefStretch] = []
    for trig in ALL_TRIGGERS:
        times = [t for t, kind in events if trig in TRIGGERS_OF_KIND[kind]]
        run: list[float] = []
        for t in times:
            if run and t - run[-1] >= break_s:
                out.append(RefStretch(trig, tuple(run), run[-1] + break_s))
                run = []
            run.append(t)
        if run:
            out.append(RefStretch(trig, tuple(run), run[-1] + break_s))
    return out


def pause_instants(events: Sequence[tuple[float, str]], min_s: float) -> list[float]:
    """Every instant at which a natural pause begins."""
    times = sorted({t for t, _ in events})
    out = []
    for t in times:
        p = t + min_s
        if not any(t < x <= p for x in times):
            out.append(p)
    return out


Op = tuple[float, str, "float | None | str"]  # (t, name, until | None | "release")


def run(events: Sequence[tuple[float, str]], cfg: RefConfig, ops: Sequence[Op] = ()) -> RefResult:
    all_stretches = stretches(events, cfg.break_s)
    pauses = pause_instants(events, cfg.min_s)
    cues = [_Cue(cid, trig, every) for cid, trig, every in cfg.cues]
    res = RefResult()
    last_delivery = -math.inf
    now = -math.inf
    holds: dict[str, float] = {}  # name -> until (inf: until released)

    def holds_end(t: float) -> float:
        return max((u for u in holds.values() if u > t), default=-math.inf)

    def first_pause_at_or_after(t: float) -> float:
        return min((p for p in pauses if p >= t), default=math.inf)

    def target(c: _Cue) -> float:
        assert c.due is not None and c.cap is not None
        return min(first_pause_at_or_after(c.due), c.cap)

    def attempt(t: float) -> None:
        """A delivery attempt, if some due cue's pause or cap is now."""
        nonlocal last_delivery
        due = [c for c in cues if c.due is not None]
        if not due or min(target(c) for c in due) != t:
            return
        going_out = [c for c in due if c.due is not None and c.due <= t]
        gap_end = max(last_delivery + cfg.min_gap_s, holds_end(t))
        if t < gap_end:
            for c in going_out:
                c.due = gap_end
                c.cap = gap_end + cfg.max_defer_s
            return
        assert len(going_out) == len(due)  # every due cue rides along
        reason = "pause" if t in pauses else "max_defer"
        sent = []
        for c in going_out:
            assert c.stretch is not None and c.stretch.going(t)
            sent.append((c.id, c.trigger, c.stretch.length_at(t)))
            c.anchor, c.due, c.cap = t, None, None
        last_delivery = t
        res.deliveries.append(RefDelivery(t, reason, tuple(sorted(sent))))

    while True:
        candidates: list[float] = []
        for s in all_stretches:
            candidates += [s.start, s.end]
        for c in cues:
            if c.anchor is not None and c.due is None:
                candidates.append(c.anchor + c.every_s)
            if c.due is not None:
                candidates.append(target(c))
        candidates += [op[0] for op in ops]
        later = [x for x in candidates if x > now]
        if not later:
            break
        t = min(later)
        if t == math.inf:
            break
        now = t

        # Input at t came first: stretches that start at t are already going,
        # and `length_at` counts events at t. Then: stretches that end at t.
        for s in all_stretches:
            if s.end == t:
                res.ended.append((t, s.trigger, s.start, s.last))
                gone = []
                for c in cues:
                    if c.stretch is s:
                        if c.due is not None:
                            gone.append(c.id)
                        c.stretch = c.anchor = c.due = c.cap = None
                if gone:
                    res.dropped.append((t, s.trigger, tuple(sorted(gone))))
        for s in all_stretches:
            if s.start == t:
                for c in cues:
                    if c.trigger == s.trigger:
                        assert c.stretch is None
                        c.stretch, c.anchor, c.due, c.cap = s, t, None, None

        # Cues that become due now.
        for c in cues:
            if c.anchor is not None and c.due is None and c.anchor + c.every_s <= t:
                assert c.anchor + c.every_s == t
                assert c.stretch is not None and c.stretch.going(t)
                c.due = t
                c.cap = t + cfg.max_defer_s

        attempt(t)
        todo = [op for op in ops if op[0] == t]
        for _t, name, until in todo:
            before = holds_end(t)
            if until == "release":
                holds.pop(name, None)
            else:
                holds[name] = math.inf if until is None else float(until)  # type: ignore[arg-type]
            if holds_end(t) < before:
                for c in cues:
                    if c.due is not None and c.due > t:
                        c.due, c.cap = t, t + cfg.max_defer_s
        if todo:
            attempt(t)
    return res
