"""Property tests: the engine against the naive reference of contracts section 2.

Random small traces and configs (on a half-second grid, so that the ties the
contract rules on happen often: input exactly at a pause instant, a gap of
exactly break_s, a cue falling due exactly at a pause or a cap), plus some
off-grid float times.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reference_engine as ref
from micromove.core.engine import (
    CueRule,
    Decision,
    Delivery,
    Dropped,
    Engine,
    EngineConfig,
    StretchEnded,
)

KINDS = ("key", "move", "click", "scroll")
TRIGGERS = ("typing", "mouse", "active")
EPS = 1e-9

Events = list[tuple[float, str]]


def engine_config(cfg: ref.RefConfig) -> EngineConfig:
    return EngineConfig(
        pause_min_s=cfg.min_s,
        max_defer_s=cfg.max_defer_s,
        break_s=cfg.break_s,
        min_gap_s=cfg.min_gap_s,
        cues=tuple(CueRule(cid, trig, every) for cid, trig, every in cfg.cues),
    )


def normalise(decisions: Sequence[Decision]) -> ref.RefResult:
    res = ref.RefResult()
    for d in decisions:
        if isinstance(d, Delivery):
            cues = tuple(sorted((c.cue, c.trigger, c.stretch_s) for c in d.cues))
            res.deliveries.append(ref.RefDelivery(d.t, d.reason, cues))
        elif isinstance(d, Dropped):
            res.dropped.append((d.t, d.trigger, tuple(sorted(d.cues))))
        elif isinstance(d, StretchEnded):
            s = d.stretch
            res.ended.append((d.t, s.trigger, s.start, s.last))
    return res


def run_engine(events: Events, cfg: ref.RefConfig, advances: Sequence[float | None] = ()) -> ref.RefResult:
    """Feed events one by one; before event i, optionally advance to advances[i]."""
    eng = Engine(engine_config(cfg))
    out: list[Decision] = []
    for i, (t, kind) in enumerate(events):
        if i < len(advances) and advances[i] is not None:
            out += eng.advance(advances[i])
        out += eng.feed(t, kind)
    out += eng.finish()
    return normalise(out)


def run_engine_with_holds(events: Events, cfg: ref.RefConfig, ops: Sequence[ref.Op]) -> ref.RefResult:
    """Events in order; each hold operation at its instant, after the events
    at or before it and after advancing to it (as the daemon's loop does)."""
    eng = Engine(engine_config(cfg))
    out: list[Decision] = []
    i = 0
    for t, name, until in sorted(ops, key=lambda op: op[0]):
        while i < len(events) and events[i][0] <= t:
            out += eng.feed(*events[i])
            i += 1
        out += eng.advance(t)
        if until == "release":
            eng.release(name, t)
        else:
            eng.hold(name, until, t)  # type: ignore[arg-type]
    for ev in events[i:]:
        out += eng.feed(*ev)
    out += eng.finish()
    return normalise(out)


def close(a: float, b: float) -> bool:
    return a == b or abs(a - b) <= EPS


def assert_same(got: ref.RefResult, want: ref.RefResult) -> None:
    assert len(got.deliveries) == len(want.deliveries), (got.deliveries, want.deliveries)
    for g, w in zip(got.deliveries, want.deliveries, strict=True):
        assert close(g.t, w.t) and g.reason == w.reason, (g, w)
        assert [c[:2] for c in g.cues] == [c[:2] for c in w.cues], (g, w)
        for gc, wc in zip(g.cues, w.cues, strict=True):
            assert close(gc[2], wc[2]), (g, w)
    key = lambda x: (x[0], x[1])  # noqa: E731
    assert sorted(got.dropped, key=key) == sorted(want.dropped, key=key)
    assert sorted(got.ended, key=key) == sorted(want.ended, key=key)


# ---------------------------------------------------------------- strategies
grid = st.integers(min_value=0, max_value=40).map(lambda n: n / 2)  # 0 .. 20 s by 0.5


@st.composite
def configs(draw: st.DrawFn) -> ref.RefConfig:
    min_s = draw(st.sampled_from([0.5, 1.0, 2.0, 3.0]))
    break_s = min_s + draw(st.integers(min_value=1, max_value=20)) / 2
    n = draw(st.integers(min_value=1, max_value=4))
    cues = tuple(
        (
            f"c{i}",
            draw(st.sampled_from(TRIGGERS)),
            float(draw(st.integers(min_value=1, max_value=30))) / 2,
        )
        for i in range(n)
    )
    return ref.RefConfig(
        min_s=min_s,
        max_defer_s=draw(st.integers(min_value=1, max_value=20)) / 2,
        break_s=break_s,
        min_gap_s=draw(st.integers(min_value=0, max_value=30)) / 2,
        cues=cues,
    )


@st.composite
def traces(draw: st.DrawFn) -> Events:
    gaps = draw(
        st.lists(
            st.one_of(
                st.sampled_from([0.0, 0.5, 1.0]),
                grid,
                st.floats(min_value=0.0, max_value=20.0, allow_nan=False),
            ),
            min_size=0,
            max_size=40,
        )
    )
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=len(gaps), max_size=len(gaps)))
    t = draw(st.sampled_from([0.0, 5.0, 1000.5]))
    out = []
    for gap, kind in zip(gaps, kinds, strict=True):
        t += gap
        out.append((t, kind))
    return out


HOLD_NAMES = ("pause", "snooze", "quiet.dnd")


@st.composite
def hold_ops(draw: st.DrawFn, events: Events) -> list[ref.Op]:
    """Hold operations at instants around the trace (on the grid, so that they
    meet pauses, caps and due instants exactly)."""
    t0 = events[0][0] if events else 0.0
    n = draw(st.integers(min_value=0, max_value=5))
    ops: list[ref.Op] = []
    for _ in range(n):
        t = t0 + draw(st.integers(min_value=0, max_value=120)) / 2
        name = draw(st.sampled_from(HOLD_NAMES))
        until = draw(st.one_of(
            st.just("release"),
            st.none(),
            st.integers(min_value=0, max_value=60).map(lambda k, t=t: t + k / 2),
        ))
        ops.append((t, name, until))
    return sorted(ops, key=lambda op: op[0])


FAST = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -------------------------------------------------------------------- tests
@FAST
@given(traces(), configs())
def test_engine_equals_reference(events: Events, cfg: ref.RefConfig) -> None:
    assert_same(run_engine(events, cfg), ref.run(events, cfg))


@FAST
@given(traces(), configs())
def test_deterministic(events: Events, cfg: ref.RefConfig) -> None:
    assert run_engine(events, cfg) == run_engine(events, cfg)


@FAST
@given(traces(), configs())
def test_invariants(events: Events, cfg: ref.RefConfig) -> None:
    res = run_engine(events, cfg)
    times = [t for t, _ in events]
    stretches = ref.stretches(events, cfg.break_s)
    every = {cid: e for cid, _, e in cfg.cues}
    prev = -math.inf
    for d in res.deliveries:
        # Never closer than min_gap; never backwards.
        assert d.t - prev >= cfg.min_gap_s - EPS, (prev, d)
        prev = d.t
        assert d.reason in ("pause", "max_defer")
        assert d.cues and len({c[0] for c in d.cues}) == len(d.cues)
        # At a pause instant: min_s after the latest input, none at that instant.
        latest = max((x for x in times if x <= d.t), default=None)
        at_pause = latest is not None and close(latest + cfg.min_s, d.t)
        if d.reason == "pause":
            assert at_pause, d
        else:
            assert not at_pause, d
        waited = False
        for cue, trig, stretch_s in d.cues:
            # Delivered while its trigger's stretch was going, with that stretch's length.
            (s,) = [s for s in stretches if s.trigger == trig and s.going(d.t)]
            assert close(stretch_s, s.length_at(d.t))
            # Not before it could be due: every_s after the stretch began.
            assert d.t >= s.start + every[cue] - EPS
            waited |= d.t >= s.start + every[cue] + cfg.max_defer_s - EPS
        # A cap: some cue in the set has waited max_defer_s since it fell due.
        assert waited or d.reason == "pause", d


@FAST
@given(traces(), configs(), st.data())
def test_advance_between_events_changes_nothing(events: Events, cfg: ref.RefConfig, data: st.DataObject) -> None:
    """The daemon advances the clock between events: any time from the previous
    event (inclusive) up to, but not including, the next one."""
    advances: list[float | None] = []
    prev = events[0][0] if events else 0.0
    for t, _ in events:
        if t > prev and data.draw(st.booleans()):
            choice = data.draw(st.sampled_from(["prev", "mid", "random", "next_lb"]))
            if choice == "prev":
                x = prev
            elif choice == "mid":
                x = (prev + t) / 2
            elif choice == "next_lb":
                x = math.nextafter(t, -math.inf)
            else:
                x = data.draw(st.floats(min_value=prev, max_value=t, exclude_max=True))
            advances.append(x)
        else:
            advances.append(None)
        prev = t
    assert_same(run_engine(events, cfg, advances), run_engine(events, cfg))


@FAST
@given(traces(), configs(), st.data())
def test_next_deadline_is_exact(events: Events, cfg: ref.RefConfig, data: st.DataObject) -> None:
    """Nothing happens before next_deadline(); driving advance() by it alone matches finish()."""
    eng = Engine(engine_config(cfg))
    for t, kind in events:
        eng.feed(t, kind)
    a = normalise(eng.finish())
    eng2 = Engine(engine_config(cfg))
    for t, kind in events:
        eng2.feed(t, kind)
    out: list[Decision] = []
    while (d := eng2.next_deadline()) is not None:
        assert eng2.advance(math.nextafter(d, -math.inf)) == []
        out += eng2.advance(d)
        after = eng2.next_deadline()
        assert after is None or after > d, (d, after)  # every deadline <= d was consumed
    assert_same(normalise(out), a)


@FAST
@given(traces(), configs())
def test_same_instant_duplicates_and_mouse_kinds_are_interchangeable(events: Events, cfg: ref.RefConfig) -> None:
    """What the daemon may coalesce: n events of one kind at one instant feed
    like one, and move/click/scroll are all just mouse activity.

    (Dropping the interior events of a run of same-kind events is NOT
    equivalent: a long run would then show gaps of break_s and pauses that
    never happened, so no such coalescing property is claimed.)"""
    deduped = list(dict.fromkeys(events))
    as_moves = [(t, "move" if k in ("click", "scroll") else k) for t, k in deduped]
    want = run_engine(events, cfg)
    assert_same(run_engine(deduped, cfg), want)
    assert_same(run_engine(as_moves, cfg), want)


@FAST
@given(traces(), configs(), st.data())
def test_engine_with_named_holds_equals_reference(events: Events, cfg: ref.RefConfig, data: st.DataObject) -> None:
    ops = data.draw(hold_ops(events))
    assert_same(run_engine_with_holds(events, cfg, ops), ref.run(events, cfg, ops))


@FAST
@given(traces(), configs(), st.data())
def test_nothing_goes_out_while_a_hold_is_in_force(events: Events, cfg: ref.RefConfig, data: st.DataObject) -> None:
    """Neither a natural pause nor max_defer breaks through a hold."""
    ops = data.draw(hold_ops(events))
    res = run_engine_with_holds(events, cfg, ops)

    def free_at(t: float, upto_inclusive: bool) -> bool:
        holds: dict[str, float] = {}
        for at, name, until in ops:
            if at > t or (at == t and not upto_inclusive):
                break
            if until == "release":
                holds.pop(name, None)
            else:
                holds[name] = math.inf if until is None else float(until)  # type: ignore[arg-type]
        return all(u <= t for u in holds.values())

    for d in res.deliveries:
        # Operations at the delivery's own instant may come before or after it.
        assert free_at(d.t, False) or free_at(d.t, True), (d, ops)


@FAST
@given(traces(), configs())
def test_no_hold_operations_change_nothing(events: Events, cfg: ref.RefConfig) -> None:
    assert_same(run_engine_with_holds(events, cfg, []), run_engine(events, cfg))
