"""`mmctl simulate` as a person meets it (docs/trace-format.md): the installed
command in a subprocess, its JSON lines, its options, and the database it writes
for `mmctl stats`.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from _mmctl import SAMPLE_DAY, mmctl, one_error_line
from micromove.core import catalog

KEYS = {"t", "cue", "trigger", "reason", "stretch_s"}
TZ = {"TZ": "Europe/Berlin"}


def write_trace(path: Path, events: list[tuple[float, str]]) -> Path:
    path.write_text("".join(json.dumps({"t": t, "kind": k}) + "\n" for t, k in events))
    return path


def keys_every(step: float, until: float, start: float = 0.0) -> list[tuple[float, str]]:
    out = []
    k = 0
    while start + k * step <= until:
        out.append((start + k * step, "key"))
        k += 1
    return out


def parse(stdout: str) -> list[dict[str, object]]:
    rows = [json.loads(line) for line in stdout.splitlines()]
    for row in rows:
        assert set(row) == KEYS, row
        assert isinstance(row["t"], float | int) and isinstance(row["stretch_s"], float | int)
        assert row["reason"] in ("pause", "max_defer"), row
        assert row["cue"] in catalog.BY_ID, row
        assert row["trigger"] in ("typing", "mouse", "active"), row
    return rows


def simulate(*args: str | Path, env: dict[str, str] | None = None) -> list[dict[str, object]]:
    proc = mmctl("simulate", *args, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "", proc.stderr
    return parse(proc.stdout)


def config(tmp_path: Path, text: str, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# ------------------------------------------------------------------ output


def test_one_cue_at_the_natural_pause(tmp_path: Path) -> None:
    # 1000 s of typing, a key every 0.5 s, then nothing: the finger piano
    # (every 15 min on typing) is due at 900 s and waits for the natural
    # pause at 1000 + 3 s; the wrist pulse (20 min) never comes due before
    # the stretch ends at 1000 + 120 s.
    trace = write_trace(tmp_path / "t.jsonl", keys_every(0.5, 1000.0))
    rows = simulate(trace)
    assert rows == [
        {
            "t": pytest.approx(1003.0, abs=1e-3),
            "cue": "hands.finger_piano",
            "trigger": "typing",
            "reason": "pause",
            "stretch_s": pytest.approx(1000.0, abs=1e-3),
        }
    ]


def test_delivery_order_and_reasons(tmp_path: Path) -> None:
    # Typing without any natural pause until t=1999.9 (a key every 0.7 s).
    # notify.min_gap_s 400: finger piano due at 900 s goes out at its cap
    # (900 + 180); the wrist pulse, due at 1200 with its cap at 1380 inside
    # the gap, counts as due when the gap ends (1480) and goes out at its
    # cap 1660; the finger piano due again at 1980 is held to 2060, after
    # the last natural pause began (2002.9), and its stretch ends at 2119.9.
    trace = write_trace(tmp_path / "t.jsonl", keys_every(0.7, 2000.0))
    cfg = config(tmp_path, "notify:\n  min_gap_s: 400\n")
    rows = simulate(trace, "--config", cfg)
    got = [(r["cue"], r["reason"], r["t"], r["stretch_s"]) for r in rows]
    assert got == [
        (
            "hands.finger_piano",
            "max_defer",
            pytest.approx(1080.0, abs=1e-3),
            pytest.approx(1079.4, abs=1e-3),
        ),
        (
            "hands.wrist_pulse",
            "max_defer",
            pytest.approx(1660.0, abs=1e-3),
            pytest.approx(1659.7, abs=1e-3),
        ),
    ]


def test_one_cue_set_shares_its_instant(tmp_path: Path) -> None:
    # Both typing cues every 20 min: both due at 1200 s, both delivered at the
    # pause after the last key (1250 + 3 s) as one set; the mouse, used 11
    # minutes later on its own, gets the grip cue at its own pause.
    events = keys_every(0.5, 1250.0)
    events += [(1400.0 + i * 0.1, "move") for i in range(6601)]  # to t=2060
    events += [(2060.5, "click")]
    trace = write_trace(tmp_path / "t.jsonl", events)
    cfg = config(tmp_path, "cues:\n  hands.finger_piano:\n    every_min: 20\n")
    rows = simulate(trace, "--config", cfg)
    first = [r for r in rows if r["t"] == rows[0]["t"]]
    assert {r["cue"] for r in first} == {"hands.finger_piano", "hands.wrist_pulse"}
    for r in first:
        assert r["t"] == pytest.approx(1253.0, abs=1e-3)
        assert r["stretch_s"] == pytest.approx(1250.0, abs=1e-3)
        assert (r["trigger"], r["reason"]) == ("typing", "pause")
    rest = rows[len(first) :]
    assert [(r["cue"], r["trigger"], r["reason"]) for r in rest] == [
        ("hands.grip_modulation", "mouse", "pause")
    ]
    # The mouse stretch began at 1400 and its latest event was the click.
    assert rest[0]["t"] == pytest.approx(2063.5, abs=1e-3)
    assert rest[0]["stretch_s"] == pytest.approx(660.5, abs=1e-3)


def test_trace_on_stdin(tmp_path: Path) -> None:
    text = "".join(json.dumps({"t": t, "kind": k}) + "\n" for t, k in keys_every(0.5, 1000.0))
    proc = mmctl("simulate", "-", input=text)
    assert proc.returncode == 0, proc.stderr
    assert [r["cue"] for r in parse(proc.stdout)] == ["hands.finger_piano"]


def test_same_input_same_output(tmp_path: Path) -> None:
    a = mmctl("simulate", SAMPLE_DAY, "--start", "2026-03-02T09:00", env=TZ)
    b = mmctl("simulate", SAMPLE_DAY, "--start", "2026-03-02T09:00", env=TZ)
    c = mmctl(
        "simulate", SAMPLE_DAY, "--start", "2026-03-02T09:00", "--db", tmp_path / "c.db", env=TZ
    )
    assert a.returncode == b.returncode == 0
    assert a.stdout == b.stdout != ""
    # Writing a database changes nothing in what is delivered.
    assert c.returncode == 0, c.stderr
    assert c.stdout == a.stdout


def test_config_changes_what_is_delivered(tmp_path: Path) -> None:
    trace = write_trace(tmp_path / "t.jsonl", keys_every(0.5, 1000.0))
    cfg = config(tmp_path, "cues:\n  hands.finger_piano:\n    enabled: false\n")
    assert simulate(trace, "--config", cfg) == []
    cfg = config(tmp_path, "pause:\n  min_s: 10\n", "slow.yaml")
    rows = simulate(trace, "--config", cfg)
    assert [(r["cue"], r["t"]) for r in rows] == [
        ("hands.finger_piano", pytest.approx(1010.0, abs=1e-3))
    ]


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    "value", ["yesterday", "2026-02-30T09:00", "09:00", "", "2026-03-02T25:00"]
)
def test_bad_start(tmp_path: Path, value: str) -> None:
    trace = write_trace(tmp_path / "t.jsonl", keys_every(0.5, 1000.0))
    db = tmp_path / "x.db"
    line = one_error_line(mmctl("simulate", trace, "--start", value, "--db", db))
    assert "--start" in line, line
    assert not db.exists()


def test_missing_config_file(tmp_path: Path) -> None:
    trace = write_trace(tmp_path / "t.jsonl", keys_every(0.5, 1000.0))
    line = one_error_line(mmctl("simulate", trace, "--config", tmp_path / "nope.yaml"))
    assert "nope.yaml" in line, line


def test_bad_config_prints_nothing(tmp_path: Path) -> None:
    trace = write_trace(tmp_path / "t.jsonl", keys_every(0.5, 1000.0))
    cfg = config(tmp_path, "pause:\n  min_s: -1\n")
    db = tmp_path / "x.db"
    proc = mmctl("simulate", trace, "--config", cfg, "--db", db)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert "pause.min_s" in proc.stderr, proc.stderr
    assert not db.exists()


def test_missing_trace_argument() -> None:
    line = one_error_line(mmctl("simulate"))
    assert "TRACE" in line or "trace" in line, line


# ------------------------------------------------------------------ --start and progression

REGION = {m.id: m.region for m in catalog.MOVEMENTS}


def regions(rows: list[dict[str, object]]) -> set[str]:
    return {REGION[str(r["cue"])] for r in rows}


def test_progression_first_week_is_hands_only() -> None:
    assert regions(simulate(SAMPLE_DAY)) == {"hands"}
    assert regions(simulate(SAMPLE_DAY, "--start", "2026-03-23T09:00")) == {"hands"}


def test_stored_progression_start_three_weeks_earlier(tmp_path: Path) -> None:
    db = tmp_path / "mm.db"
    # The first use records the progression start: 2026-03-02.
    short = write_trace(tmp_path / "t.jsonl", keys_every(0.5, 60.0))
    assert simulate(short, "--start", "2026-03-02T09:00", "--db", db, env=TZ) == []
    # Three weeks later the same database is in its fourth week: four regions.
    rows = simulate(SAMPLE_DAY, "--start", "2026-03-23T09:00", "--db", db, env=TZ)
    assert regions(rows) == set(catalog.REGIONS[:4])
    # The same day without that history is a first week again.
    assert regions(simulate(SAMPLE_DAY, "--start", "2026-03-23T09:00", env=TZ)) == {"hands"}


# ------------------------------------------------------------------ --db and mmctl stats


def trace_counts(path: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    with path.open() as fh:
        for line in fh:
            if line.strip():
                counts[json.loads(line)["kind"]] += 1
    return counts


def stats(db: Path, *extra: str) -> dict[str, object]:
    proc = mmctl("stats", "--db", db, "--json", *extra, env=TZ)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert isinstance(data, dict)
    return data


def test_db_is_read_by_stats_with_exact_counts(tmp_path: Path) -> None:
    db = tmp_path / "day.db"
    proc = mmctl("simulate", SAMPLE_DAY, "--start", "2026-03-02T09:00", "--db", db, env=TZ)
    assert proc.returncode == 0, proc.stderr
    printed = len(parse(proc.stdout))
    assert printed > 0
    counts = trace_counts(SAMPLE_DAY)
    data = stats(db)
    days = data["days"]
    assert isinstance(days, list) and [d["date"] for d in days] == ["2026-03-02"]
    for figures in (days[0], data["totals"]):
        assert isinstance(figures, dict)
        assert figures["keys"] == counts["key"]
        assert figures["clicks"] == counts["click"]
        assert figures["scrolls"] == counts["scroll"]
        assert figures["moves"] == counts["move"]
        assert figures["cues"] == printed
        assert figures["cues_done"] == 0
        assert 0 < figures["typing_s"] <= figures["active_s"]
        assert 0 < figures["mouse_s"] <= figures["active_s"]
        assert 0 < figures["longest_typing_stretch_s"] <= figures["typing_s"]
        assert 0 < figures["longest_mouse_stretch_s"] <= figures["mouse_s"]


def test_default_start_is_today(tmp_path: Path) -> None:
    db = tmp_path / "today.db"
    before = date.today()
    trace = write_trace(tmp_path / "t.jsonl", keys_every(0.5, 1000.0))
    proc = mmctl("simulate", trace, "--db", db)
    after = date.today()
    assert proc.returncode == 0, proc.stderr
    days = stats(db)["days"]
    assert isinstance(days, list) and len(days) == 1
    assert days[0]["date"] in {before.isoformat(), after.isoformat()}
    assert days[0]["keys"] == 2001


def test_explicit_start_sets_the_day(tmp_path: Path) -> None:
    db = tmp_path / "days.db"
    trace = write_trace(tmp_path / "t.jsonl", keys_every(0.5, 1000.0))
    for start in ("2026-03-02T09:00", "2026-03-04T09:00"):
        assert len(simulate(trace, "--start", start, "--db", db, env=TZ)) == 1
    data = stats(db)
    days = data["days"]
    assert isinstance(days, list)
    assert [(d["date"], d["keys"], d["cues"]) for d in days] == [
        ("2026-03-02", 2001, 1),
        ("2026-03-04", 2001, 1),
    ]
    totals = data["totals"]
    assert isinstance(totals, dict) and (totals["keys"], totals["cues"]) == (4002, 2)


def test_start_near_midnight_splits_the_day(tmp_path: Path) -> None:
    # 23:50 local plus 1000 s of typing runs past midnight: two local days.
    db = tmp_path / "late.db"
    trace = write_trace(tmp_path / "t.jsonl", keys_every(0.5, 1000.0))
    simulate(trace, "--start", "2026-03-02T23:50", "--db", db, env=TZ)
    days = stats(db)["days"]
    assert isinstance(days, list)
    assert [d["date"] for d in days] == ["2026-03-02", "2026-03-03"]
    assert sum(d["keys"] for d in days) == 2001
    assert days[0]["keys"] == 1200  # 600 s at two keys a second: t=0 .. 599.5
