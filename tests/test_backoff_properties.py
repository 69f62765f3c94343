"""Property tests: back-off in the session against the naive reference.

The session (engine + likely-done inference + back-off) runs random small
traces with random `done`/`dismiss` answers; the reference (tests/
reference_engine.py, written from the rule text) must give the same cue
sets. Cue ids are catalog ids so that each set's likely-done length comes
from the catalog's seconds, as in the daemon. Also: slicing time differently
(the daemon advances by passes between events) changes nothing, and with
back-off off, or with every set answered, the schedule is the engine's own.
"""

from __future__ import annotations

import math
from types import MappingProxyType

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reference_engine as ref
from micromove.config import Config, CueSettings
from micromove.core import catalog
from micromove.core.session import Session
from test_engine_properties import KINDS, Events, assert_same, normalise, run_engine

IDS = ("hands.wrist_pulse", "hands.finger_piano", "feet.heel_lift", "neck.head_tilt")
SECONDS = {m.id: float(m.seconds) for m in catalog.MOVEMENTS}
TRIGGERS = ("typing", "mouse", "active")
NOON = 1_780_000_000.0 - (1_780_000_000.0 % 86400) + 12 * 3600.0  # far from any local midnight

Answers = list[tuple[float, str]]


@st.composite
def traces(draw: st.DrawFn) -> Events:
    """Longer than the engine's: enough cue sets for streaks of 3 and more, with
    short gaps (no likely done) and now and then one of 10-25 s (likely done)."""
    gaps = draw(
        st.lists(
            st.one_of(
                st.sampled_from([0.0, 0.5, 1.0, 1.5, 2.0, 3.0]),
                st.integers(min_value=20, max_value=50).map(lambda n: n / 2),
                st.floats(min_value=0.0, max_value=4.0, allow_nan=False),
            ),
            min_size=20,
            max_size=70,
        )
    )
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=len(gaps), max_size=len(gaps)))
    t = draw(st.sampled_from([0.0, 5.0, 1000.5]))
    out = []
    for gap, kind in zip(gaps, kinds, strict=True):
        t += gap
        out.append((t, kind))
    return out


@st.composite
def configs(draw: st.DrawFn) -> ref.RefConfig:
    """Like the engine's, with long likely-done windows in mind: intervals of 0.5-15 s."""
    min_s = draw(st.sampled_from([0.5, 1.0, 2.0, 3.0]))
    break_s = min_s + draw(st.integers(min_value=1, max_value=40)) / 2
    n = draw(st.integers(min_value=1, max_value=4))
    cues = tuple(
        (IDS[i], draw(st.sampled_from(TRIGGERS)), float(draw(st.integers(min_value=1, max_value=16))) / 2)
        for i in range(n)
    )
    return ref.RefConfig(
        min_s=min_s,
        max_defer_s=draw(st.integers(min_value=1, max_value=20)) / 2,
        break_s=break_s,
        min_gap_s=draw(st.integers(min_value=0, max_value=12)) / 2,
        cues=cues,
    )


@st.composite
def answers(draw: st.DrawFn, events: Events) -> Answers:
    if not events:
        return []
    lo, hi = events[0][0], events[-1][0] + 200.0
    times = draw(
        st.lists(
            st.one_of(st.integers(min_value=int(lo * 2), max_value=int(hi * 2)).map(lambda n: n / 2),
                      st.sampled_from([t for t, _ in events])),
            max_size=8,
        )
    )  # fmt: skip
    kinds = draw(st.lists(st.sampled_from(["done", "dismiss"]), min_size=len(times), max_size=len(times)))
    return sorted(zip(times, kinds, strict=True), key=lambda x: x[0])


def session_config(cfg: ref.RefConfig, back_off: bool = True) -> Config:
    every = {cid: CueSettings(True, e / 60.0, trig) for cid, trig, e in cfg.cues}
    cues = {m.id: every.get(m.id, CueSettings(False, m.every_min, m.trigger)) for m in catalog.MOVEMENTS}
    return Config(
        pause_min_s=cfg.min_s,
        max_defer_s=cfg.max_defer_s,
        break_s=cfg.break_s,
        min_gap_s=cfg.min_gap_s,
        progression_enabled=False,
        checkin_reminder=False,
        back_off=back_off,
        cues=MappingProxyType(cues),
    )


def run_session(
    events: Events,
    ans: Answers,
    cfg: ref.RefConfig,
    *,
    back_off: bool = True,
    advances: dict[int, float] | None = None,
) -> tuple[ref.RefResult, dict[str, int]]:
    """Events and answers in time order (an answer before an event at the same time)."""
    s = Session(session_config(cfg, back_off), wall_offset=NOON)
    s.keep_decisions = True
    merged = sorted(
        [(t, 0, i, k) for i, (t, k) in enumerate(ans)] + [(t, 1, i, k) for i, (t, k) in enumerate(events)]
    )
    s.start(merged[0][0] if merged else 0.0)
    for n, (t, is_input, _i, kind) in enumerate(merged):
        if advances and n in advances:
            s.advance(advances[n])
        if is_input:
            s.input(t, kind)
        else:
            s.answer(t, kind)
    s.finish()
    res = normalise(s.decisions)
    return res, {c: b.misses for c, b in s.backoff.cues.items()}


def reference(events: Events, ans: Answers, cfg: ref.RefConfig) -> ref.RefResult:
    return ref.run(events, cfg, backoff=ref.RefBackOff(answers=tuple(ans), seconds=SECONDS))


FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(traces(), configs(), st.data())
def test_session_back_off_equals_reference(events: Events, cfg: ref.RefConfig, data: st.DataObject) -> None:
    ans = data.draw(answers(events))
    got, misses = run_session(events, ans, cfg)
    want = reference(events, ans, cfg)
    assert_same(got, want)
    assert misses == {c: n for c, n in want.misses.items() if n}


@FAST
@given(traces(), configs(), st.data())
def test_slicing_time_changes_nothing(events: Events, cfg: ref.RefConfig, data: st.DataObject) -> None:
    """The daemon advances between events (any time up to, not including, the next one)."""
    ans = data.draw(answers(events))
    n_items = len(events) + len(ans)
    merged_times = sorted([t for t, _ in ans] + [t for t, _ in events])
    advances: dict[int, float] = {}
    for n in range(1, n_items):
        a, b = merged_times[n - 1], merged_times[n]
        if b > a and data.draw(st.booleans()):
            advances[n] = data.draw(st.sampled_from([a, (a + b) / 2, math.nextafter(b, -math.inf)]))
    assert run_session(events, ans, cfg, advances=advances) == run_session(events, ans, cfg)


@FAST
@given(traces(), configs())
def test_back_off_false_is_the_engine_alone(events: Events, cfg: ref.RefConfig) -> None:
    got, misses = run_session(events, [], cfg, back_off=False)
    assert_same(got, run_engine(events, cfg))
    assert misses == {}


@FAST
@given(traces(), configs())
def test_every_set_answered_is_the_engine_alone(events: Events, cfg: ref.RefConfig) -> None:
    """A done right after each cue set (before anything else happens) keeps every cadence."""
    plain = run_engine(events, cfg)
    times = sorted({d.t for d in plain.deliveries})
    # Just after each delivery and before the next happening of any kind.
    later = sorted({t for t, _ in events} | set(times))
    ans = []
    for t in times:
        nxt = min((x for x in later if x > t), default=t + 1.0)
        ans.append(((t + nxt) / 2 if nxt - t > 1e-6 else math.nextafter(t, math.inf), "done"))
    got, misses = run_session(events, ans, cfg)
    assert_same(got, plain)
    assert misses == {}


def test_reference_backs_off_after_three_unanswered() -> None:
    """A hand-made case: typing without a 10 s gap, one cue every 5 s: the 4th waits 7.5 s."""
    events = [(i * 0.5, "key") for i in range(0, 200)] + [(100.0 + i * 2.0, "key") for i in range(1, 60)]
    cfg = ref.RefConfig(min_s=1.0, max_defer_s=0.5, break_s=20.0, min_gap_s=0.0, cues=(("hands.finger_piano", "typing", 5.0),))
    want = reference(events, [], cfg)
    got, _ = run_session(events, [], cfg)
    assert_same(got, want)
    ts = [d.t for d in want.deliveries]
    gaps = [round(b - a, 3) for a, b in zip(ts, ts[1:], strict=False)]
    # No natural pause while typing: each goes out at its cap, every 5 + 0.5 s. The
    # first three are judged at the next delivery (no 10 s gap: unanswered), so
    # from the 4th on the interval is 7.5 s.
    assert gaps[:4] == [5.5, 5.5, 5.5, 8.0], gaps
