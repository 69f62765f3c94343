"""The cue engine against contracts section 2: hand-computed scenarios.

Every expected delivery below was worked out by hand from the contract text
(the arithmetic is in the comments). Scenarios without hold/set_cues/
reconfigure are also checked against the naive reference (reference_engine),
and a few are run through the installed `mmctl simulate` with a config file.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

import reference_engine as ref
from _mmctl import mmctl
from micromove.core import catalog
from micromove.core.engine import (
    CueRule,
    Decision,
    Delivery,
    Dropped,
    Engine,
    EngineConfig,
    StretchEnded,
)

WRIST = "hands.wrist_pulse"  # typing
PIANO = "hands.finger_piano"  # typing
GRIP = "hands.grip_modulation"  # mouse
BRACE = "core.abdominal_brace"  # active

Events = list[tuple[float, str]]
Expected = list[tuple[float, str, dict[str, float]]]  # (t, reason, {cue: stretch_s})


def every(start: float, stop: float, step: float = 1.0, kind: str = "key") -> Events:
    """Events of `kind` at start, start+step, ... up to stop (inclusive)."""
    n = round((stop - start) / step)
    return [(start + i * step, kind) for i in range(n + 1)]


def cfg(*rules: tuple[str, str, float], **timing: float) -> EngineConfig:
    return EngineConfig(
        cues=tuple(CueRule(cid, trig, e) for cid, trig, e in rules),
        **timing,
    )


def drive(
    events: Events,
    config: EngineConfig,
    at: dict[float, Callable[[Engine], None]] | None = None,
) -> list[Decision]:
    """Feed every event, calling at[t](engine) right after the event at t; then finish."""
    eng = Engine(config)
    out: list[Decision] = []
    for t, kind in events:
        out += eng.feed(t, kind)
        if at and t in at:
            at.pop(t)(eng)
    out += eng.finish()
    times = [d.t for d in out]
    assert times == sorted(times), "decisions go back in time"
    return out


def deliveries(out: Iterable[Decision]) -> Expected:
    return [(d.t, d.reason, {c.cue: c.stretch_s for c in d.cues}) for d in out if isinstance(d, Delivery)]


def dropped(out: Iterable[Decision]) -> list[tuple[float, str, set[str]]]:
    return [(d.t, d.trigger, set(d.cues)) for d in out if isinstance(d, Dropped)]


def ended(out: Iterable[Decision]) -> list[tuple[float, str, float, float]]:
    return [(d.t, d.stretch.trigger, d.stretch.start, d.stretch.last) for d in out if isinstance(d, StretchEnded)]


def assert_deliveries(got: Expected, want: Expected) -> None:
    assert len(got) == len(want), (got, want)
    for (gt, gr, gc), (wt, wr, wc) in zip(got, want, strict=True):
        assert gt == pytest.approx(wt, abs=1e-9) and gr == wr, (got, want)
        assert set(gc) == set(wc), (got, want)
        for cue in wc:
            assert gc[cue] == pytest.approx(wc[cue], abs=1e-9), (got, want)


def check(events: Events, config: EngineConfig, want: Expected) -> list[Decision]:
    """Engine gives `want`; so does the naive reference."""
    out = drive(events, config)
    assert_deliveries(deliveries(out), want)
    rc = ref.RefConfig(
        config.pause_min_s,
        config.max_defer_s,
        config.break_s,
        config.min_gap_s,
        tuple((r.id, r.trigger, r.every_s) for r in config.cues),
    )
    r = ref.run(events, rc)
    assert_deliveries([(d.t, d.reason, {c: s for c, _, s in d.cues}) for d in r.deliveries], want)
    return out


# ----------------------------------------------------------------- scenarios
def contract_example() -> Events:
    # Typing every 0.5 s from 0 to 1200.5, and a last key at 1200.714.
    return [*every(0, 1200.5, 0.5), (1200.714, "key")]


def test_contract_example() -> None:
    # wrist_pulse every 20 min: due at 1200 (stretch going); the first natural
    # pause is 1200.714 + 3 = 1203.714; stretch_s = 1200.714 - 0.
    out = check(contract_example(), cfg((WRIST, "typing", 1200.0)), [(1203.714, "pause", {WRIST: 1200.714})])
    # After the last event: re-armed at 1203.714 (due 2403.714) but the
    # stretch ends at 1200.714 + 120 first, with nothing due to drop.
    assert dropped(out) == []
    assert [e[1:] for e in ended(out)] == [("typing", 0.0, 1200.714), ("active", 0.0, 1200.714)]
    assert [e[0] for e in ended(out)] == pytest.approx([1320.714, 1320.714])


def test_typing_pause_rearm_and_drop_after_last_event() -> None:
    # min_gap 0. Keys 0..100, a 10 s gap (< break_s: same stretch), 110..200.
    # Due 60 -> pause 103 (stretch_s 100). Re-armed at 103: due 163, no pause
    # until 203 (cap 343) -> 203 (stretch_s 200). Re-armed at 203: due 263,
    # after the final pause; its cap 443 is after the stretch's end at
    # 200 + 120 = 320, so the stretch end drops it.
    events = every(0, 100) + every(110, 200)
    out = check(events, cfg((WRIST, "typing", 60.0), min_gap_s=0.0), [
        (103.0, "pause", {WRIST: 100.0}),
        (203.0, "pause", {WRIST: 200.0}),
    ])
    assert dropped(out) == [(320.0, "typing", {WRIST})]


def test_mouse_stretch_and_one_set_of_two_triggers() -> None:
    # Mouse (moves, clicks, scrolls) every 0.5 s 0..650, then keys 651..700.
    # grip every 600 s of mouse: due 600. brace every 650 s of presence: due
    # 650. Keys keep presence going but not the mouse stretch: the first pause
    # is 703, where both go out in one set: mouse stretch 0..650, presence
    # 0..700.
    kinds = ("move", "click", "move", "scroll")
    events = [(t, kinds[i % 4]) for i, (t, _) in enumerate(every(0, 650, 0.5))] + every(651, 700)
    out = check(
        events,
        cfg((GRIP, "mouse", 600.0), (BRACE, "active", 650.0)),
        [(703.0, "pause", {GRIP: 650.0, BRACE: 700.0})],
    )
    assert (770.0, "mouse", 0.0, 650.0) in ended(out)


def test_active_trigger_spans_keyboard_and_mouse() -> None:
    # Keys every 2 s 0..300, moves every 2 s 301..601: two short stretches of
    # their own, one presence stretch 0..601. brace every 500: due 500,
    # pause 604.
    events = every(0, 300, 2) + every(301, 601, 2, "move")
    out = check(events, cfg((BRACE, "active", 500.0)), [(604.0, "pause", {BRACE: 601.0})])
    assert (420.0, "typing", 0.0, 300.0) in ended(out)


def test_max_defer_cap_and_gap_held_cap() -> None:
    # Continuous typing 0..1000 (gaps 1 s < min_s: no pause until 1003).
    # Due 100, cap 280 -> max_defer (a key at 280 came first: stretch_s 280).
    # Re-armed: due 380, cap 560 < 280 + 300 -> held: due 580, cap 760 ->
    # max_defer at 760. Re-armed: due 860; pause 1003 < 1060 -> held: due
    # 1060, cap 1240; the stretch ends at 1120 first and drops it.
    out = check(every(0, 1000), cfg((WRIST, "typing", 100.0)), [
        (280.0, "max_defer", {WRIST: 280.0}),
        (760.0, "max_defer", {WRIST: 760.0}),
    ])
    assert dropped(out) == [(1120.0, "typing", {WRIST})]


def test_min_gap_hold_goes_out_at_first_pause_after_gap_end() -> None:
    # A every 100, B every 150, min_gap 300, max_defer 1000.
    # Keys 0..200, 210..400, 410..600. A due 100, B due 150: one set at the
    # pause 203. Re-armed: A due 303, B 353; pause 403 < 203 + 300 -> both
    # held to 503; the first pause at or after 503 is 603. Re-armed at 603: A
    # due 703 is dropped at the stretch end 720; B (due 753) never fell due.
    events = every(0, 200) + every(210, 400) + every(410, 600)
    out = check(events, cfg(("a", "typing", 100.0), ("b", "typing", 150.0), max_defer_s=1000.0), [
        (203.0, "pause", {"a": 200.0, "b": 200.0}),
        (603.0, "pause", {"a": 600.0, "b": 600.0}),
    ])
    assert dropped(out) == [(720.0, "typing", {"a"})]


def test_min_gap_hold_goes_out_at_gap_end_plus_max_defer() -> None:
    # every 100, max_defer 50, min_gap 300. Keys 0..120, 125..800.
    # Due 100 -> pause 123. Due 223, cap 273 < 423 -> held: due 423, cap 473
    # -> max_defer at 473. Due 573, cap 623 < 773 -> held: due 773; pause 803
    # >= 773 -> 803. Due 903, cap 953, stretch ends 920: dropped.
    events = every(0, 120) + every(125, 800)
    out = check(events, cfg((WRIST, "typing", 100.0), max_defer_s=50.0), [
        (123.0, "pause", {WRIST: 120.0}),
        (473.0, "max_defer", {WRIST: 473.0}),
        (803.0, "pause", {WRIST: 800.0}),
    ])
    assert dropped(out) == [(920.0, "typing", {WRIST})]


def test_input_exactly_at_the_pause_instant_means_no_pause() -> None:
    # Due 60. Keys at 103 = 100 + 3 and at 106 = 103 + 3: no pause at 103 or
    # 106; the pause is 109.
    rule = cfg((WRIST, "typing", 60.0))
    check([*every(0, 100), (103.0, "key"), (106.0, "key")], rule, [(109.0, "pause", {WRIST: 106.0})])
    # A mouse event exactly at the pause instant counts too (any input).
    check([*every(0, 100), (103.0, "scroll")], rule, [(106.0, "pause", {WRIST: 100.0})])
    # Half a second later: the pause at 103 happened.
    check([*every(0, 100), (103.5, "key")], rule, [(103.0, "pause", {WRIST: 100.0})])


def test_gap_of_exactly_break_s_ends_the_stretch_and_drops_due_cues() -> None:
    rule = cfg((WRIST, "typing", 50.0))
    # Keys 0..40, then 160..230: the gap is exactly 120. Due 50 (pause 43 was
    # before it; cap 230): the stretch ends at 160 and drops it. A new stretch
    # begins at 160: due 210, pause 233, stretch_s 70. Re-armed at 233: due
    # 283, after the final pause; cap 463; the stretch end 350 drops it.
    out = check(every(0, 40) + every(160, 230), rule, [(233.0, "pause", {WRIST: 70.0})])
    assert dropped(out) == [(160.0, "typing", {WRIST}), (350.0, "typing", {WRIST})]
    assert (160.0, "typing", 0.0, 40.0) in ended(out)
    # The gap half a second shorter: the same stretch goes on; due 50 gets
    # no pause before its cap 230 (latest key 229.5).
    out = check(every(0, 40) + every(159.5, 229.5), rule, [(230.0, "max_defer", {WRIST: 229.5})])
    assert dropped(out) == [(349.5, "typing", {WRIST})]


def test_due_exactly_when_the_stretch_ends_is_not_due() -> None:
    # Keys 0..10; the stretch ends at 130. A cue every 130 s would fall due
    # at that very instant: the stretch ends first, so it never is due.
    out = check(every(0, 10), cfg((WRIST, "typing", 130.0), max_defer_s=1.0), [])
    assert dropped(out) == []
    # every 129.5 s: due at 129.5, cap 130.5 is after the end: dropped.
    out = check(every(0, 10), cfg((WRIST, "typing", 129.5), max_defer_s=1.0), [])
    assert dropped(out) == [(130.0, "typing", {WRIST})]


def test_due_exactly_at_a_pause_goes_out_then() -> None:
    # Keys 0..97: the pause is 100, exactly when the cue falls due.
    check(every(0, 97), cfg((WRIST, "typing", 100.0)), [(100.0, "pause", {WRIST: 97.0})])


def test_after_last_event_cap_before_stretch_end() -> None:
    # break 300, max_defer 50. Keys 0..100. Due 120 (the stretch lasts until
    # 400); the final pause 103 was before it, so its cap 170 sends it. Re-armed:
    # due 290, cap 340 < 170 + 300 -> held to 470; the stretch ends at 400.
    out = check(every(0, 100), cfg((WRIST, "typing", 120.0), break_s=300.0, max_defer_s=50.0), [
        (170.0, "max_defer", {WRIST: 100.0}),
    ])
    assert dropped(out) == [(400.0, "typing", {WRIST})]


def test_same_instant_events_and_empty_trace() -> None:
    eng = Engine(cfg((WRIST, "typing", 1.0)))
    assert eng.finish() == []
    assert eng.next_deadline() is None
    # Three keys at the same instant, then one at 1: due 1, pause 4.
    check([(0.0, "key")] * 3 + [(1.0, "key")], cfg((WRIST, "typing", 1.0)), [(4.0, "pause", {WRIST: 1.0})])


# ------------------------------------------------------------ hold/release
def test_hold_snooze_moves_the_cue_to_the_first_pause_after_it() -> None:
    # Due 60; snoozed until 200 at t=50. The pause 103 is held back: due
    # 200, first pause at or after it is 253.
    events = every(0, 100) + every(110, 250)
    out = drive(events, cfg((WRIST, "typing", 60.0)), {50.0: lambda e: e.hold("snooze", 200.0)})
    assert_deliveries(deliveries(out), [(253.0, "pause", {WRIST: 250.0})])


def test_hold_forever_then_release() -> None:
    # Paused at 50 (hold until release). The pause 103 is held; at 150 the
    # person resumes: due from 150, cap 330; the first pause after is 253.
    seen: dict[str, object] = {}

    def release(e: Engine) -> None:
        seen["pending"] = e.pending()
        seen["held"] = e.held_until
        e.release("pause", 150.0)

    events = every(0, 100) + every(110, 250) + every(260, 400)
    out = drive(events, cfg((WRIST, "typing", 60.0)), {50.0: lambda e: e.hold("pause", None), 150.0: release})
    assert seen["held"] == math.inf
    assert [(p.cue, p.due_at) for p in seen["pending"]] == [(WRIST, math.inf)]  # type: ignore[attr-defined]
    # Re-armed at 253: due 313, held by the gap (pause 403 < 553) to 553;
    # no pause after that, cap 733 is after the stretch end 520.
    assert_deliveries(deliveries(out), [(253.0, "pause", {WRIST: 250.0})])
    assert dropped(out) == [(520.0, "typing", {WRIST})]


def test_release_with_nothing_held_changes_nothing() -> None:
    events = every(0, 100) + every(110, 250)
    rule = cfg((WRIST, "typing", 60.0))
    assert drive(events, rule, {120.0: lambda e: e.release("pause", 120.0)}) == drive(events, rule)


def test_named_holds_combine_and_release_only_their_own() -> None:
    # Paused (indefinite) at 50 and a quiet source until 300 at 60. Resume at
    # 150 lifts "pause" only: the quiet hold still holds until 300. Due 60;
    # held; released to 150 (cap 330); the pause 253 is inside the quiet hold:
    # held to 300; the first pause at or after 300 is 403 (typing 260..400).
    seen: dict[str, object] = {}

    def resume(e: Engine) -> None:
        seen["before"] = e.holds()
        e.release("pause", 150.0)
        seen["after"] = e.holds()
        seen["held"] = e.held_until

    events = every(0, 100) + every(110, 250) + every(260, 400)
    out = drive(events, cfg((WRIST, "typing", 60.0)), {
        50.0: lambda e: e.hold("pause", None),
        60.0: lambda e: e.hold("quiet.dnd", 300.0),
        150.0: resume,
    })
    assert seen["before"] == {"pause": None, "quiet.dnd": 300.0}
    assert seen["after"] == {"quiet.dnd": 300.0} and seen["held"] == 300.0
    assert_deliveries(deliveries(out), [(403.0, "pause", {WRIST: 400.0})])


def test_holding_a_name_again_replaces_it_and_timed_holds_expire() -> None:
    # Snoozed until 1000 at 50, then again until 120 at 60: the later one
    # replaces it. Due 60, pause 103 held to 120, first pause after: 253.
    e = Engine(cfg((WRIST, "typing", 60.0)))
    events = every(0, 100) + every(110, 250)
    out = drive(events, cfg((WRIST, "typing", 60.0)), {
        50.0: lambda e: e.hold("snooze", 1000.0),
        60.0: lambda e: e.hold("snooze", 120.0),
    })
    assert_deliveries(deliveries(out), [(253.0, "pause", {WRIST: 250.0})])
    e.feed(0.0, "key")
    e.hold("quiet.lock", 10.0)
    assert e.holds() == {"quiet.lock": 10.0}
    e.advance(10.0)
    assert e.holds() == {} and e.held_until is None  # over at its end
    e.release("quiet.lock")  # already over: nothing to do


def test_max_defer_does_not_break_through_a_hold() -> None:
    # Due 60 while typing on without a pause until 600 (cap would be 240).
    # Held until 500 by a quiet source: nothing before 500; due again at 500,
    # cap 680; the first pause is 603 (typing ends at 600).
    events = every(0, 600)
    out = drive(events, cfg((WRIST, "typing", 60.0)), {10.0: lambda e: e.hold("quiet.fullscreen", 500.0)})
    assert_deliveries(deliveries(out), [(603.0, "pause", {WRIST: 600.0})])


# -------------------------------------------------- set_cues / reconfigure
def test_set_cues_mid_stretch_anchors_at_the_change() -> None:
    # No cues until 500, in continuous typing 0..1000 (min_gap 0). The new cue
    # is anchored at 500: due 600, cap 780. Re-armed: due 880, pause 1003.
    rule = CueRule(WRIST, "typing", 100.0)
    out = drive(every(0, 1000), cfg(min_gap_s=0.0), {500.0: lambda e: e.set_cues([rule], 500.0)})
    assert_deliveries(deliveries(out), [
        (780.0, "max_defer", {WRIST: 780.0}),
        (1003.0, "pause", {WRIST: 1000.0}),
    ])


def test_set_cues_without_time_never_delivers_in_the_past() -> None:
    # Anchored at the stretch start 0 (due 100) but added at 500: it is due
    # from 500, cap 680, not at some past instant.
    rule = CueRule(WRIST, "typing", 100.0)
    out = drive(every(0, 1000), cfg(min_gap_s=0.0), {500.0: lambda e: e.set_cues([rule])})
    assert deliveries(out)[0] == (680.0, "max_defer", {WRIST: 680.0})


def test_set_cues_keeps_the_schedule_of_a_kept_cue() -> None:
    # every 100 -> every 200 at t=50: still anchored at 0: due 200, cap 380.
    new = CueRule(WRIST, "typing", 200.0)
    out = drive(every(0, 1000), cfg((WRIST, "typing", 100.0)), {50.0: lambda e: e.set_cues([new], 50.0)})
    assert deliveries(out)[0] == (380.0, "max_defer", {WRIST: 380.0})
    # A cue dropped from the set is never delivered.
    out = drive(every(0, 1000), cfg((WRIST, "typing", 100.0)), {50.0: lambda e: e.set_cues([], 50.0)})
    assert deliveries(out) == []


def test_reconfigure_max_defer_applies_to_a_waiting_cue() -> None:
    # Due 100 (cap 280); at 150 max_defer becomes 100: cap 200.
    new = cfg((WRIST, "typing", 100.0), max_defer_s=100.0)
    out = drive(every(0, 1000), cfg((WRIST, "typing", 100.0)), {150.0: lambda e: e.reconfigure(new, 150.0)})
    assert deliveries(out)[0] == (200.0, "max_defer", {WRIST: 200.0})


def test_reconfigure_that_makes_a_cue_overdue_delivers_from_now() -> None:
    # every 200 -> every 100 and max_defer 30 at 150: the cue is overdue; it
    # counts as due at 150 (not at 100: nothing happens in the past), cap 180.
    new = cfg((WRIST, "typing", 100.0), max_defer_s=30.0)
    out = drive(every(0, 300), cfg((WRIST, "typing", 200.0)), {150.0: lambda e: e.reconfigure(new, 150.0)})
    assert deliveries(out)[0] == (180.0, "max_defer", {WRIST: 180.0})


def test_reconfigure_shorter_pause_or_break_happens_now() -> None:
    # Keys 0..150, cue due 100. At 151.5 (pause would be 153) min_s becomes
    # 1: the person has been idle since 150, a natural pause is on: now.
    eng = Engine(cfg((WRIST, "typing", 100.0)))
    for t, k in every(0, 150):
        eng.feed(t, k)
    assert eng.advance(151.5) == []
    eng.reconfigure(cfg((WRIST, "typing", 100.0), pause_min_s=1.0), 151.5)
    assert deliveries(eng.advance(151.5)) == [(151.5, "pause", {WRIST: 150.0})]
    # At 170 break_s becomes 10: the stretches (latest key 150) are over, now.
    eng.reconfigure(cfg((WRIST, "typing", 100.0), pause_min_s=1.0, break_s=10.0), 170.0)
    out = eng.advance(170.0)
    assert ended(out) == [(170.0, "typing", 0.0, 150.0), (170.0, "active", 0.0, 150.0)]
    assert eng.stretch("typing") is None


# ------------------------------------------------------------ daemon usage
def test_advance_between_events_and_next_deadline() -> None:
    # The daemon sleeps until next_deadline() between events.
    eng = Engine(cfg((WRIST, "typing", 60.0)))
    out: list[Decision] = []
    for t, k in every(0, 100):
        out += eng.feed(t, k)
        out += eng.advance(t)
    assert out == []
    assert eng.next_deadline() == 103.0  # due since 60; the pause after 100
    assert eng.advance(102.999) == []
    assert deliveries(eng.advance(103.0)) == [(103.0, "pause", {WRIST: 100.0})]
    assert eng.upcoming() == [(163.0, WRIST)]
    assert eng.next_deadline() == 163.0
    # Input exactly at a deadline the daemon has not advanced to yet comes first.
    eng2 = Engine(cfg((WRIST, "typing", 60.0)))
    for t, k in [*every(0, 100), (103.0, "key")]:
        eng2.feed(t, k)
    assert deliveries(eng2.advance(106.0)) == [(106.0, "pause", {WRIST: 103.0})]


def test_feed_is_constant_work_per_event(monkeypatch: pytest.MonkeyPatch) -> None:
    """Structural: the catalog walk (_earliest) runs rarely, not per event."""
    calls = 0
    real = Engine._earliest

    def counting(self: Engine) -> float:
        nonlocal calls
        calls += 1
        result: float = real(self)
        return result

    monkeypatch.setattr(Engine, "_earliest", counting)
    rules = tuple(CueRule(m.id, m.trigger, m.every_min * 60.0) for m in catalog.MOVEMENTS)
    eng = Engine(EngineConfig(cues=rules))
    n = 100_000
    out: list[Decision] = []
    kinds = ("key", "key", "key", "move")
    for i in range(n):  # 0.25 s apart: about 7 hours without a pause
        out += eng.feed(i * 0.25, kinds[i % 4])
    assert any(isinstance(d, Delivery) for d in out)
    assert calls < n / 100, calls  # measured: 455 (stale pause bound: 4254)


# --------------------------------------------------------------- mmctl CLI
def write_config(path: Path, rules: dict[str, tuple[str, float]], **timing: float) -> Path:
    """YAML with only contract keys; progression off; every other cue disabled."""
    lines = [
        "pause:",
        f"  min_s: {timing.get('min_s', 3)}",
        f"  max_defer_s: {timing.get('max_defer_s', 180)}",
        "activity:",
        f"  break_s: {timing.get('break_s', 120)}",
        "notify:",
        f"  min_gap_s: {timing.get('min_gap_s', 300)}",
        "progression:",
        "  enabled: false",
        "cues:",
    ]
    for m in catalog.MOVEMENTS:
        lines.append(f"  {m.id}:")
        if m.id in rules:
            trig, every_min = rules[m.id]
            lines += ["    enabled: true", f"    every_min: {every_min}", f"    trigger: {trig}"]
        else:
            lines.append("    enabled: false")
    path.write_text("\n".join(lines) + "\n")
    return path


def cli_deliveries(tmp_path: Path, events: Events, config: Path) -> Expected:
    trace = tmp_path / "trace.jsonl"
    trace.write_text("".join(json.dumps({"t": t, "kind": k}) + "\n" for t, k in events))
    proc = mmctl("simulate", trace, "--config", config, "--start", "2026-03-02T09:00")
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    sets: Expected = []
    for line in proc.stdout.splitlines():
        row = json.loads(line)
        assert set(row) == {"t", "cue", "trigger", "reason", "stretch_s"}
        if sets and sets[-1][0] == row["t"]:
            assert sets[-1][1] == row["reason"]
            sets[-1][2][row["cue"]] = row["stretch_s"]
        else:
            sets.append((row["t"], row["reason"], {row["cue"]: row["stretch_s"]}))
    return sets


@pytest.mark.parametrize(
    ("name", "events", "rules", "timing", "want"),
    [
        (
            "contract example",
            contract_example(),
            {WRIST: ("typing", 20)},
            {},
            [(1203.714, "pause", {WRIST: 1200.714})],
        ),
        (
            "cap and gap-held cap",
            every(0, 1000),
            {WRIST: ("typing", 100 / 60)},
            {},
            [(280.0, "max_defer", {WRIST: 280.0}), (760.0, "max_defer", {WRIST: 760.0})],
        ),
        (
            "one set, gap, pause after gap end",
            every(0, 200) + every(210, 400) + every(410, 600),
            {WRIST: ("typing", 2.5), PIANO: ("typing", 100 / 60)},
            {"max_defer_s": 1000},
            [
                (203.0, "pause", {WRIST: 200.0, PIANO: 200.0}),
                (603.0, "pause", {WRIST: 600.0, PIANO: 600.0}),
            ],
        ),
        (
            "gap of exactly break_s",
            every(0, 40) + every(160, 230),
            {WRIST: ("typing", 50 / 60)},
            {},
            [(233.0, "pause", {WRIST: 70.0})],
        ),
        (
            "mouse and active in one set",
            [(t, ("move", "click", "scroll")[i % 3]) for i, (t, _) in enumerate(every(0, 650, 0.5))]
            + every(651, 700),
            {GRIP: ("mouse", 10), BRACE: ("active", 650 / 60)},
            {},
            [(703.0, "pause", {GRIP: 650.0, BRACE: 700.0})],
        ),
    ],
)
def test_mmctl_simulate(
    tmp_path: Path,
    name: str,
    events: Events,
    rules: dict[str, tuple[str, float]],
    timing: dict[str, float],
    want: Expected,
) -> None:
    config = write_config(tmp_path / "config.yaml", rules, **timing)
    got = cli_deliveries(tmp_path, events, config)
    assert len(got) == len(want), (name, got)
    for (gt, gr, gc), (wt, wr, wc) in zip(got, want, strict=True):
        assert gt == pytest.approx(wt, abs=1e-6) and gr == wr, (name, got)
        assert set(gc) == set(wc), (name, got)
        for cue in wc:
            assert gc[cue] == pytest.approx(wc[cue], abs=1e-6), (name, got)
