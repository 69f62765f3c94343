"""Back-off of ignored cues through `mmctl simulate` (issue 17's done-when checks),
the rule itself (core/backoff.py), its config key and its state in the database.

Traces are built here: "steady" is 8 hours of typing, a key every 0.5 s with a
4 s pause (a natural pause, too short for a likely done) every minute, so
that nothing in the input itself answers a cue. "Every set answered" adds a
`done` line 5 s after each cue set of the run without back-off.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from _mmctl import mmctl, one_error_line
from micromove.core import backoff
from micromove.core.backoff import BackOff, factor_for

HOURS = 8


def steady() -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    t = 0.0
    while t < HOURS * 3600:
        for _ in range(112):  # 56 s of typing
            out.append({"t": round(t, 3), "kind": "key"})
            t += 0.5
        t += 4.0
    return out


def write(path: Path, events: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    return path


def simulate(trace: Path, *args: str | Path) -> list[dict[str, object]]:
    proc = mmctl("simulate", trace, "--start", "2026-03-02T09:00", *args)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return [json.loads(line) for line in proc.stdout.splitlines()]


def with_done_after_each_set(events: list[dict[str, object]], deliveries: list[dict[str, object]]) -> list[dict[str, object]]:
    answers = [{"t": round(float(t) + 5.0, 3), "kind": "done"} for t in sorted({d["t"] for d in deliveries})]  # type: ignore[arg-type]
    merged = events + answers
    merged.sort(key=lambda e: float(e["t"]))  # type: ignore[arg-type]  # stable: an answer after input at its instant
    return merged


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, object]]]:
    d = tmp_path_factory.mktemp("backoff")
    plain = write(d / "steady.jsonl", steady())
    off = d / "off.yaml"
    off.write_text("notify:\n  back_off: false\n")
    without = simulate(plain, "--config", off)
    answered = write(d / "answered.jsonl", with_done_after_each_set(steady(), without))
    return {
        "no answers": simulate(plain),
        "back_off false": without,
        "every set answered": simulate(answered),
        "every set answered, back_off false": simulate(answered, "--config", off),
    }


def sets(rows: list[dict[str, object]]) -> int:
    return len({r["t"] for r in rows})


def test_no_answers_gives_at_most_0_8_of_the_deliveries(runs: dict[str, list[dict[str, object]]]) -> None:
    ignored, answered = runs["no answers"], runs["every set answered"]
    assert len(answered) > 40  # 8 hours of the hands cues
    assert len(ignored) <= 0.8 * len(answered), (len(ignored), len(answered))
    assert sets(ignored) <= 0.8 * sets(answered), (sets(ignored), sets(answered))


def test_every_set_answered_is_the_schedule_without_back_off(runs: dict[str, list[dict[str, object]]]) -> None:
    assert runs["every set answered"] == runs["back_off false"]
    assert runs["every set answered, back_off false"] == runs["back_off false"]


def engine_alone(events: list[dict[str, object]]) -> list[dict[str, object]]:
    """The schedule without back-off: the pure engine on the trace (week 1: the hands cues)."""
    from micromove.config import DEFAULTS
    from micromove.core.engine import Delivery, Engine

    eng = Engine(DEFAULTS.engine_config(lambda cid: cid.startswith("hands.")))
    out = []
    for e in events:
        out += eng.feed(float(e["t"]), str(e["kind"]))  # type: ignore[arg-type]
    out += eng.finish()
    return [
        {"t": round(d.t, 6), "cue": c.cue, "trigger": c.trigger, "reason": d.reason, "stretch_s": round(c.stretch_s, 6)}
        for d in out
        if isinstance(d, Delivery)
        for c in d.cues
    ]


def test_back_off_false_is_the_schedule_without_back_off(runs: dict[str, list[dict[str, object]]]) -> None:
    assert runs["back_off false"] == engine_alone(steady())
    wrist = [float(r["t"]) for r in runs["back_off false"] if r["cue"] == "hands.wrist_pulse"]  # type: ignore[arg-type]
    gaps = {round((b - a) / 60) for a, b in zip(wrist, wrist[1:], strict=False)}
    assert gaps == {20}, gaps
    # Ignored: the 3 first 20 min apart, then 30 (1.5x), then 45 (2.25x), 67.5 (3.375x), 80 (4x).
    ignored = [float(r["t"]) for r in runs["no answers"] if r["cue"] == "hands.wrist_pulse"]  # type: ignore[arg-type]
    gaps2 = [round((b - a) / 60, 1) for a, b in zip(ignored, ignored[1:], strict=False)]
    # (A set held back by the 5-minute gap after the finger piano's adds a little.)
    assert gaps2[:3] == [20, 20, 30], gaps2
    assert all(30 <= g <= 36 for g in gaps2[2:5]) and all(45 <= g <= 51 for g in gaps2[5:8]), gaps2
    assert all(67.5 <= g <= 86 for g in gaps2[8:]), gaps2


def test_the_rule() -> None:
    assert [factor_for(n) for n in range(0, 16)] == (
        [1.0] * 3 + [1.5] * 3 + [2.25] * 3 + [3.375] * 3 + [4.0] * 4
    )
    b = BackOff()
    assert not b.miss("a", False, 1.0) and not b.miss("a", True, 2.0)
    assert b.miss("a", False, 3.0) and b.factor("a") == 1.5 and b.cues["a"].since == 3.0
    assert b.cues["a"].dismissed == 1
    assert b.answer("a") and b.factor("a") == 1.0 and "a" not in b.cues
    assert not b.answer("a")
    for _ in range(30):
        b.miss("b", False, 4.0)
    assert b.factor("b") == 4.0
    again = BackOff.loads(b.dumps())
    assert again.cues == b.cues and again.factor("b") == 4.0
    assert b.reset(["b", "zz"]) == ["b"] and b.factor("b") == 1.0


@pytest.mark.parametrize(
    "text", ["[", "[]", '{"v": 2, "cues": {}}', '{"v": 1, "cues": {"a": {"misses": -1}}}',
             '{"v": 1, "cues": {"a": {"misses": true}}}', '{"v": 1, "cues": {"a": {"misses": 3, "since": "x"}}}'],
)  # fmt: skip
def test_state_not_understood_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        backoff.parse(text)


def test_config_key_is_checked_with_its_line(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("notify:\n  min_gap_s: 300\n  back_off: 'no'\n")
    trace = write(tmp_path / "t.jsonl", [{"t": 0, "kind": "key"}])
    line = one_error_line(mmctl("simulate", trace, "--config", cfg))
    assert f"{cfg}:3: notify.back_off: must be true or false" in line, line
    cfg.write_text("notify:\n  backoff: false\n")
    line = one_error_line(mmctl("simulate", trace, "--config", cfg))
    assert f"{cfg}:2: notify.backoff: unknown key (did you mean 'back_off'?)" in line, line


def test_answers_and_back_off_state_land_in_the_database(tmp_path: Path) -> None:
    """done -> a `done` row (source button) on the latest set before it; dismiss -> `dismissed`;
    the back-off state is in the `state` table, and a second run on the same database goes on from it."""
    events = steady()[: 112 * 70]  # 70 minutes of typing
    first = simulate(write(tmp_path / "a.jsonl", events))
    times = sorted({float(r["t"]) for r in first})  # type: ignore[arg-type]
    assert len(times) >= 4
    answered = sorted(
        events + [{"t": times[0] + 5, "kind": "done"}, {"t": times[1] + 5, "kind": "dismiss"}],
        key=lambda e: float(e["t"]),  # type: ignore[arg-type]
    )
    db = tmp_path / "day.db"
    simulate(write(tmp_path / "b.jsonl", answered), "--db", db)
    conn = sqlite3.connect(db)
    rows = conn.execute(
        "SELECT k.kind, k.source, round(d.t - ?, 3) FROM confirmations k JOIN deliveries d ON d.id = k.delivery_id"
        " ORDER BY k.t",
        (json_start(),),
    ).fetchall()
    kinds = {(k, s) for k, s, _t in rows}
    assert ("done", "button") in kinds and ("dismissed", "button") in kinds, rows
    assert {t for k, _s, t in rows if k == "done"} == {round(times[0], 3)}
    assert {t for k, _s, t in rows if k == "dismissed"} == {round(times[1], 3)}
    (raw,) = conn.execute("SELECT value FROM state WHERE key = 'backoff'").fetchone()
    conn.close()
    state = backoff.parse(raw)
    assert state["hands.wrist_pulse"].misses >= 2 and state["hands.wrist_pulse"].dismissed == 1


def json_start() -> float:
    from datetime import datetime

    return datetime.fromisoformat("2026-03-02T09:00").timestamp()


def test_answer_lines_before_any_cue_do_nothing(tmp_path: Path) -> None:
    head = [{"t": float(e["t"]) + 1.0, "kind": e["kind"]} for e in steady()[: 112 * 30]]  # type: ignore[arg-type]
    events = [{"t": 0.0, "kind": "done"}, {"t": 0.5, "kind": "dismiss"}, *head]
    plain = simulate(write(tmp_path / "plain.jsonl", head))
    assert simulate(write(tmp_path / "t.jsonl", events)) == plain


def test_state_survives_a_restart(tmp_path: Path) -> None:
    """What the daemon does at start: the session reads `backoff` from the store and the
    engine gets the stretched interval at once; a damaged value is started again."""
    from micromove.adapters.store import Store
    from micromove.config import DEFAULTS
    from micromove.core.session import Session

    db = tmp_path / "m.db"
    store = Store.open(db)
    s = Session(DEFAULTS, wall_offset=json_start(), store=store)
    s.start(0.0)
    for e in steady()[: 112 * 90]:  # 1.5 hours of typing, no answers
        s.input(float(e["t"]), "key")  # type: ignore[arg-type]
    s.advance(5500.0)
    s.flush()
    store.close()
    assert s.backoff.factor("hands.wrist_pulse") == 1.5

    store = Store.open(db)
    again = Session(DEFAULTS, wall_offset=json_start() + 86400, store=store)
    again.start(0.0)
    assert again.backoff.cues == s.backoff.cues
    rules = {r.id: r.every_s for r in again._rules()}
    assert rules["hands.wrist_pulse"] == 1.5 * 20 * 60 and rules["hands.grip_modulation"] == 10 * 60
    again.input(0.0, "key")
    assert [t for t, c in again.engine.upcoming() if c == "hands.wrist_pulse"] == [1800.0]
    store.set_state(backoff.STATE_KEY, "{broken")
    store.flush()
    third = Session(DEFAULTS, wall_offset=json_start(), store=store)
    third.start(0.0)
    assert third.backoff.cues == {}
    store.close()
