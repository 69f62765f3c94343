"""Presence-only sources in the engine, the session, the store and stats."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from _mmctl import mmctl
from micromove.adapters.store import Store
from micromove.config import Config, CueSettings
from micromove.core.engine import CueRule, Delivery, Engine, EngineConfig, StretchEnded
from micromove.core.session import Session

UTC = {"TZ": "UTC"}


def presence_engine(**kw: float) -> Engine:
    cfg = EngineConfig(
        pause_min_s=3.0,
        max_defer_s=60.0,
        break_s=120.0,
        min_gap_s=0.0,
        cues=(CueRule("hands.wrist_pulse", "typing", 20.0),),
        presence=True,
        **kw,  # type: ignore[arg-type]
    )
    return Engine(cfg)


def deliveries(out: list[object]) -> list[Delivery]:
    return [d for d in out if isinstance(d, Delivery)]


def test_typing_cue_follows_presence_and_waits_for_the_pause() -> None:
    eng = presence_engine()
    assert eng.busy(100.0) == []
    # Due at 120 while input goes on: never delivered during activity, however
    # the caller lets time pass.
    for t in (110.0, 120.0, 121.0, 150.0, 159.9):
        assert deliveries(eng.advance(t)) == [], t
    assert [p.cue for p in eng.pending()] == ["hands.wrist_pulse"]
    # Input stopped at 157.5; the source learns of it at 160.5 (its timeout is pause.min_s).
    out = eng.idle(157.5)
    assert out == []
    out = eng.advance(160.5)
    (d,) = deliveries(out)
    assert d.t == 160.5 and d.reason == "pause"
    assert [(c.cue, c.trigger, c.stretch_s) for c in d.cues] == [("hands.wrist_pulse", "active", 57.5)]


def test_idle_reported_late_delivers_at_once_with_the_exact_stretch() -> None:
    eng = presence_engine()
    eng.busy(0.0)
    eng.advance(23.0)  # due at 20
    eng.advance(25.0)  # the caller's pass came first: input went on until 22 at least
    assert deliveries(eng.idle(22.25)) == []  # the pause begins at 25.25
    (d,) = deliveries(eng.advance(25.25))
    assert d.reason == "pause" and d.t == 25.25
    assert d.cues[0].stretch_s == 22.25
    eng2 = presence_engine()
    eng2.busy(0.0)
    eng2.advance(24.0)
    (d,) = deliveries(eng2.idle(20.5))  # reported late: the pause began at 23.5, before now
    assert d.reason == "pause" and d.t == 24.0 and d.cues[0].stretch_s == 21.0  # never below the bound


def test_max_defer_goes_out_during_long_activity_and_the_stretch_never_ends_while_busy() -> None:
    eng = presence_engine()
    eng.busy(0.0)
    out = eng.advance(500.0)  # far past break_s with no event: input went on
    assert not any(isinstance(d, StretchEnded) for d in out)
    caps = deliveries(out)
    assert caps and caps[0].t == 80.0 and caps[0].reason == "max_defer"
    assert 77.0 <= caps[0].cues[0].stretch_s <= 80.0  # a lower bound, by less than pause_min_s
    s = eng.stretch("active")
    assert s is not None and s.start == 0.0 and s.last == 497.0
    eng.idle(499.0)
    out = eng.advance(499.0 + 120.0)
    (end,) = [d for d in out if isinstance(d, StretchEnded)]
    assert (end.stretch.start, end.stretch.last, end.t) == (0.0, 499.0, 619.0)


def test_without_presence_mode_typing_cues_ignore_presence_events() -> None:
    eng = Engine(EngineConfig(min_gap_s=0.0, cues=(CueRule("c", "typing", 20.0),)))
    eng.busy(0.0)
    eng.advance(50.0)
    assert eng.pending() == []


def small_config() -> Config:
    return Config(
        pause_min_s=3.0,
        max_defer_s=60.0,
        break_s=120.0,
        min_gap_s=0.0,
        progression_enabled=False,
        cues={"hands.wrist_pulse": CueSettings(True, 0.5, "typing")},
    )


def test_session_records_presence_minutes_and_stats_says_not_recorded(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    store = Store.open(db)
    wall0 = 1_772_445_600.0  # 2026-03-02T10:00Z
    s = Session(small_config(), wall_offset=wall0, store=store, presence=True)
    s.start(0.0)
    s.busy(5.0)
    s.advance(100.0)
    s.flush()  # input goes on: the minutes so far are marked already
    s.advance(150.0)
    s.idle(148.0)
    s.advance(151.0)
    s.flush()
    store.close()
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT minute, keys, clicks, scrolls, moves, presence FROM activity").fetchall()
    m0 = int(wall0 // 60)
    assert rows == [(m0 + i, 0, 0, 0, 0, 1) for i in range(3)]
    (got,) = conn.execute("SELECT start, end FROM stretches WHERE kind = 'active'").fetchall()
    assert got == (wall0 + 5.0, wall0 + 148.0)
    cues = conn.execute("SELECT d.reason, d.t, c.trigger, c.stretch_s FROM deliveries d JOIN delivery_cues c ON c.delivery_id = d.id").fetchall()
    # Due at 35 (30 s after input began), capped at 95 while input went on
    # (stretch_s from the lower bound 95 - pause_min_s), due again at 125 and
    # sent at the natural pause, 3 s after the latest input.
    assert cues == [("max_defer", wall0 + 95.0, "active", 87.0), ("pause", wall0 + 151.0, "active", 143.0)]
    conn.close()

    proc = mmctl("stats", "--db", db, "--json", env=UTC)
    assert proc.returncode == 0, proc.stderr
    rep = json.loads(proc.stdout)
    (day,) = rep["days"]
    assert day["active_s"] == 143.0 and day["active_minutes"] == 3
    assert (day["keys"], day["clicks"], day["scrolls"], day["moves"]) == (None, None, None, None)
    assert rep["totals"]["keys"] is None
    human = mmctl("stats", "--db", db, "--since", "2026-03-02", env=UTC)
    assert human.returncode == 0, human.stderr
    assert "n/r" in human.stdout and "presence only" in human.stdout


def test_a_day_with_counted_input_keeps_its_counts(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    store = Store.open(db)
    day1 = 1_772_445_600.0 // 60
    store.add_counts({int(day1): [0, 0, 0, 0, 0.0, 1], int(day1) + 1: [4, 1, 0, 2, 9.0]})
    store.add_counts({int(day1) + 1440: [0, 0, 0, 0, 0.0, 1]})  # the next day: presence only
    store.put_stretch("active", day1 * 60, day1 * 60 + 90)
    store.put_stretch("active", (day1 + 1440) * 60, (day1 + 1440) * 60 + 30)
    store.close()
    rep = json.loads(mmctl("stats", "--db", db, "--json", env=UTC).stdout)
    first, second = rep["days"]
    assert (first["keys"], first["clicks"], first["moves"]) == (4, 1, 2)
    assert second["keys"] is None and second["active_s"] == 30.0
    assert rep["totals"]["keys"] == 4  # what was counted


def test_a_late_idle_report_after_the_stretch_was_closed_still_counts_as_input() -> None:
    """The daemon closes a busy stretch at a suspend; the compositor's idle
    report that follows (input after the resume) is input, never lost."""
    eng = presence_engine()
    eng.busy(0.0)
    eng.advance(10.0)
    eng.idle(10.0)  # the suspend began at 10
    eng.advance(500.0)  # asleep; the stretch ended at 130
    assert eng.stretch("active") is None
    eng.idle(498.0)  # input after the resume, reported as the source's latest input
    s = eng.stretch("active")
    assert s is not None and s.start == 500.0
    assert eng.idle(400.0) == [] and eng.stretch("active") == s  # older than the latest input: nothing
