"""`mmctl stats` on real databases (docs/stats.md)."""

from __future__ import annotations

import collections
import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _mmctl import SAMPLE_DAY, mmctl, one_error_line
from micromove.adapters.store import Store
from micromove.report import stats

BERLIN = {"TZ": "Europe/Berlin"}
CONTRACT_KEYS = {
    "date", "active_s", "typing_s", "mouse_s", "keys", "clicks", "scrolls", "moves",
    "longest_typing_stretch_s", "longest_mouse_stretch_s", "cues", "cues_done",
}  # fmt: skip


def at(iso: str, tz: str = "Europe/Berlin") -> float:
    """UTC epoch seconds of a local wall-clock time in `tz`."""
    return datetime.fromisoformat(iso).replace(tzinfo=ZoneInfo(tz)).timestamp()


def stats_json(db: Path, *args: str, env: dict[str, str] | None = None) -> dict:  # type: ignore[type-arg]
    proc = mmctl("stats", "--db", db, "--json", *args, env=env or BERLIN)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def by_date(rep: dict) -> dict:  # type: ignore[type-arg]
    return {d["date"]: d for d in rep["days"]}


@pytest.fixture
def day_db(tmp_path: Path) -> Path:
    """Monday 2026-03-02 and Tuesday (Berlin): hand-made counts, stretches and cues."""
    db = tmp_path / "d.db"
    s = Store.open(db)
    m9 = int(at("2026-03-02T09:00") // 60)
    s.add_counts({m9: [10, 2, 3, 40, 100.0], m9 + 1: [5, 0, 0, 0, 0.0]})
    s.add_counts({m9: [1, 0, 0, 0, 0.0]})  # a second flush's worth adds
    s.add_counts({int(at("2026-03-03T10:00") // 60): [7, 1, 1, 1, 2.5]})
    # Typing 23:00 -> 01:30: 1 h on Monday, 1.5 h on Tuesday; it BEGAN Monday.
    s.put_stretch("typing", at("2026-03-02T23:00"), at("2026-03-03T01:30"))
    s.put_stretch("typing", at("2026-03-02T09:00"), at("2026-03-02T09:20"))
    s.put_stretch("typing", at("2026-03-03T10:00"), at("2026-03-03T12:00"))  # longest on Tuesday
    s.put_stretch("mouse", at("2026-03-02T14:00"), at("2026-03-02T14:10"))
    s.put_stretch("active", at("2026-03-02T09:00"), at("2026-03-02T09:30"))
    a = s.add_delivery(at("2026-03-02T09:20"), "pause", [("hands.wrist_pulse", "typing", 1200.0), ("eyes.far_focus", "active", 1200.0), ("neck.chin_tuck", "active", 1200.0)], True)
    b = s.add_delivery(at("2026-03-02T15:00"), "max_defer", [("hands.grip_modulation", "mouse", 600.0)], True)
    s.add_delivery(at("2026-03-02T16:00"), "pause", [("hands.wrist_pulse", "typing", 600.0)], False, "no server")
    s.add_confirmation(at("2026-03-02T09:21"), "hands.wrist_pulse", a, "done")
    s.add_confirmation(at("2026-03-02T09:21"), "hands.wrist_pulse", a, "done")  # twice: still one cue
    s.add_confirmation(at("2026-03-02T09:21"), "eyes.far_focus", a, "likely")
    s.add_confirmation(at("2026-03-02T15:01"), "hands.grip_modulation", b, "likely")
    s.add_confirmation(at("2026-03-02T15:02"), "hands.grip_modulation", b, "done")  # done wins
    # Dismissed: counts only where neither done nor likely done.
    s.add_confirmation(at("2026-03-02T09:22"), "neck.chin_tuck", a, "dismissed")
    s.add_confirmation(at("2026-03-02T15:03"), "hands.grip_modulation", b, "dismissed")  # done wins
    s.close()
    return db


def test_done_comes_before_likely_and_likely_before_dismissed(tmp_path: Path) -> None:
    db = tmp_path / "answers.db"
    s = Store.open(db)
    cues = [("hands.wrist_pulse", "typing", 1200.0), ("eyes.far_focus", "active", 1200.0), ("neck.chin_tuck", "active", 1200.0)]
    a = s.add_delivery(at("2026-03-02T09:20"), "pause", cues, True)
    s.add_confirmation(at("2026-03-02T09:21"), "hands.wrist_pulse", a, "likely")
    s.add_confirmation(at("2026-03-02T09:22"), "hands.wrist_pulse", a, "dismissed")  # closed, after moving
    s.add_confirmation(at("2026-03-02T09:21"), "eyes.far_focus", a, "likely")
    s.add_confirmation(at("2026-03-02T09:22"), "neck.chin_tuck", a, "dismissed")
    s.add_confirmation(at("2026-03-02T09:23"), "neck.chin_tuck", a, "done")  # and then did it
    s.close()
    mon = by_date(stats_json(db))["2026-03-02"]
    assert (mon["cues"], mon["cues_done"], mon["cues_likely_done"], mon["cues_dismissed"]) == (3, 1, 2, 0)
    assert mon["regions"]["hands"]["likely"] == 1 and mon["regions"]["neck"]["done"] == 1
    assert (mon["regions"]["eyes"]["cues"], mon["regions"]["eyes"]["likely"]) == (1, 1)


def test_exact_counts_split_and_longest(day_db: Path) -> None:
    rep = stats_json(day_db)
    days = by_date(rep)
    assert list(days) == ["2026-03-02", "2026-03-03"]
    mon, tue = days["2026-03-02"], days["2026-03-03"]
    assert (mon["keys"], mon["clicks"], mon["scrolls"], mon["moves"]) == (16, 2, 3, 40)
    assert mon["distance_px"] == 100.0
    assert (tue["keys"], tue["clicks"], tue["scrolls"], tue["moves"]) == (7, 1, 1, 1)
    assert mon["typing_s"] == pytest.approx(3600 + 1200)
    assert tue["typing_s"] == pytest.approx(5400 + 7200)
    assert mon["mouse_s"] == pytest.approx(600)
    assert mon["active_s"] == pytest.approx(1800)
    # The longest stretch of a day began that day, with its whole length.
    assert mon["longest_typing_stretch_s"] == pytest.approx(9000)
    assert tue["longest_typing_stretch_s"] == pytest.approx(7200)
    assert rep["totals"]["longest_typing_stretch_s"] == pytest.approx(9000)
    assert mon["cues"] == 4 and mon["cues_undelivered"] == 1
    assert mon["cues_done"] == 2 and mon["cues_likely_done"] == 1 and mon["cues_dismissed"] == 1
    assert mon["regions"] == {
        "eyes": {"cues": 1, "done": 0, "likely": 1, "dismissed": 0, "ignored": 0},
        "hands": {"cues": 2, "done": 2, "likely": 0, "dismissed": 0, "ignored": 0},
        "neck": {"cues": 1, "done": 0, "likely": 0, "dismissed": 1, "ignored": 0},
    }
    assert tue["cues"] == 0
    t = rep["totals"]
    assert (t["keys"], t["moves"], t["cues"], t["cues_done"], t["cues_dismissed"]) == (23, 41, 4, 2, 1)
    assert t["typing_s"] == pytest.approx(mon["typing_s"] + tue["typing_s"])
    assert "date" not in t


def test_json_shape_has_every_contract_key(day_db: Path) -> None:
    rep = stats_json(day_db)
    assert set(rep) == {"days", "totals"}
    for d in rep["days"]:
        assert set(d) >= CONTRACT_KEYS
        for k in ("keys", "clicks", "scrolls", "moves", "cues", "cues_done"):
            assert isinstance(d[k], int)
    assert CONTRACT_KEYS - {"date"} <= set(rep["totals"])


def test_since_until_are_inclusive_local_dates(day_db: Path) -> None:
    only_tue = stats_json(day_db, "--since", "2026-03-03")
    assert [d["date"] for d in only_tue["days"]] == ["2026-03-03"]
    # The part of Monday's stretch after midnight still counts on Tuesday.
    assert only_tue["days"][0]["typing_s"] == pytest.approx(5400 + 7200)
    only_mon = stats_json(day_db, "--since", "2026-03-02", "--until", "2026-03-02")
    assert [d["date"] for d in only_mon["days"]] == ["2026-03-02"]
    assert only_mon["totals"]["keys"] == 16
    none = stats_json(day_db, "--since", "2027-01-01")
    assert none["days"] == [] and none["totals"]["keys"] == 0


def test_local_day_follows_tz(day_db: Path) -> None:
    # In New York, Monday 23:00 Berlin is 17:00: the whole stretch is on Monday.
    rep = stats_json(day_db, env={"TZ": "America/New_York"})
    mon = by_date(rep)["2026-03-02"]
    assert mon["typing_s"] == pytest.approx(9000 + 1200)


@pytest.mark.parametrize(("day", "hours"), [("2026-03-29", 23), ("2026-10-25", 25)])
def test_dst_days_are_23_and_25_hours(tmp_path: Path, day: str, hours: int) -> None:
    db = tmp_path / "dst.db"
    s = Store.open(db)
    start = at(f"{day}T00:00") - 3600 * 6  # 18:00 the day before
    end = start + 3600 * (6 + hours + 6)  # 06:00 the day after
    s.add_counts({m: [1, 0, 0, 1, 0.0] for m in range(int(start // 60), int(end // 60))})
    s.put_stretch("typing", start, end)
    s.put_stretch("mouse", at(f"{day}T01:30"), at(f"{day}T04:30"))  # over the change
    s.close()
    rep = stats_json(db)
    days = by_date(rep)
    d = days[day]
    assert d["typing_s"] == pytest.approx(hours * 3600)
    assert d["keys"] == d["moves"] == hours * 60
    assert d["mouse_s"] == pytest.approx((3 + hours - 24) * 3600)  # 2 h in spring, 4 h in autumn
    before, after = sorted(set(days) - {day})
    assert days[before]["typing_s"] == pytest.approx(6 * 3600) and days[before]["keys"] == 360
    assert days[after]["typing_s"] == pytest.approx(6 * 3600) and days[after]["keys"] == 360
    assert days[before]["longest_typing_stretch_s"] == pytest.approx(end - start)
    assert rep["totals"]["keys"] == (12 + hours) * 60
    hours_rep = mmctl("stats", "--db", db, "--json", "--by", "hour", "--since", day, "--until", day, env=BERLIN)
    listed = json.loads(hours_rep.stdout)["hours"]
    assert sum(h["keys"] for h in listed) == hours * 60
    assert len(listed) == (23 if hours == 23 else 24)  # a repeated hour is one bucket


def test_by_week_and_csv(day_db: Path) -> None:
    weeks = json.loads(mmctl("stats", "--db", day_db, "--json", "--by", "week", env=BERLIN).stdout)
    assert [w["week"] for w in weeks["weeks"]] == ["2026-W10"]
    assert weeks["weeks"][0]["keys"] == 23
    proc = mmctl("stats", "--db", day_db, "--csv", env=BERLIN)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("date,active_s,typing_s,mouse_s,keys,clicks,scrolls,moves,")
    assert lines[1].split(",")[:1] == ["2026-03-02"] and len(lines) == 3
    header = lines[0].split(",")
    assert lines[1].split(",")[header.index("keys")] == "16"


def test_human_output_mentions_the_numbers(day_db: Path) -> None:
    proc = mmctl("stats", "--db", day_db, "--until", "2026-03-03", env=BERLIN)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "2026-03-02" in out and "2026-03-03" in out
    assert "16" in out and "1h20m" in out  # Monday: 16 keys, typing 1 h + 20 min
    lines = out.splitlines()
    # The per-region table: cues delivered, done, likely done, dismissed, ignored, the
    # share answered (done or likely) and its trend against the 2 days before (none: new).
    assert lines[lines.index(next(x for x in lines if x.startswith("Cues by region"))) + 1 :][:3] == [
        "  eyes                     1     0       1          0        0       100% (new)",
        "  hands                    2     2       0          0        0       100% (new)",
        "  neck                     1     0       0          1        0         0% (new)",
    ]
    assert "2 days" in out
    # The heatmap: one row per day of the week ending at the last day, 24 hour cells.
    heat = {x[:9]: x[12:] for x in lines if x[:3] in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun") and x[9:12] == "   "}
    assert len(heat) == 7 and all(len(row) == 24 for row in heat.values())
    assert heat["Mon 03-02"][9] == "▁" and heat["Mon 03-02"].count("·") == 23  # 2 minutes at 09:00
    assert heat["Tue 03-03"][10] == "▁" and heat["Wed 02-25"] == "·" * 24
    assert "Cues done per day (2026-03-02 to 2026-03-03): █▁  2 0  falling" in out
    default = mmctl("stats", "--db", day_db, env=BERLIN)
    assert default.returncode == 0 and "Last 7 days" in default.stdout and "16" in default.stdout
    assert "7 days: cues" in default.stdout
    weeks = mmctl("stats", "--db", day_db, "--by", "week", env=BERLIN).stdout
    assert "2026-W10" in weeks and "hands 2 (2 done)" in weeks and "eyes 1 (1 likely)" in weeks


def test_rising_trend_of_cues_done(tmp_path: Path) -> None:
    db = tmp_path / "trend.db"
    s = Store.open(db)
    for day, done in enumerate((0, 1, 1, 3)):
        t = at(f"2026-03-0{day + 2}T10:00")
        s.add_counts({int(t // 60): [1, 0, 0, 0, 0.0]})
        cues = [(cid, "typing", 900.0) for cid in ("hands.wrist_pulse", "hands.finger_piano", "back.scapular_squeeze")]
        d = s.add_delivery(t, "pause", cues, True)
        for cid, _trig, _s in cues[:done]:
            s.add_confirmation(t + 20, cid, d, "done")
    s.close()
    out = mmctl("stats", "--db", db, "--since", "2026-03-01", env=BERLIN).stdout
    assert "Cues done per day (2026-03-02 to 2026-03-05): ▁▃▃█  0 1 1 3  rising (+0.90 a day)" in out
    assert [d["cues_done"] for d in stats_json(db)["days"]] == [0, 1, 1, 3]


def test_reads_while_a_writer_holds_the_database(day_db: Path) -> None:
    """A daemon in the middle of a flush blocks nobody: stats sees what is committed."""
    import sqlite3

    writer = sqlite3.connect(day_db, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("INSERT INTO activity (minute, keys) VALUES (?, 1000)", (int(at("2026-03-02T12:00") // 60),))
        during = stats_json(day_db)
        writer.execute("COMMIT")
    finally:
        writer.close()
    assert by_date(during)["2026-03-02"]["keys"] == 16
    assert by_date(stats_json(day_db))["2026-03-02"]["keys"] == 1016


def test_simulated_day_counts_equal_the_trace(tmp_path: Path) -> None:
    db = tmp_path / "sim.db"
    sim = mmctl("simulate", SAMPLE_DAY, "--db", db, "--start", "2026-03-02T09:00", env=BERLIN)
    assert sim.returncode == 0, sim.stderr
    cues = len(sim.stdout.splitlines())
    kinds = collections.Counter(json.loads(line)["kind"] for line in SAMPLE_DAY.read_text().splitlines() if line.strip())
    rep = stats_json(db)
    assert [d["date"] for d in rep["days"]] == ["2026-03-02"]
    day = rep["days"][0]
    assert day["keys"] == kinds["key"]
    assert day["moves"] == kinds["move"]
    assert day["clicks"] == kinds["click"]
    assert day["scrolls"] == kinds["scroll"]
    assert day["cues"] == cues
    assert 0 < day["typing_s"] <= day["active_s"] < 24 * 3600


def test_missing_and_bad_databases(tmp_path: Path) -> None:
    line = one_error_line(mmctl("stats", "--db", tmp_path / "none.db"))
    assert "no database at" in line and "none.db" in line
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database" * 100)
    assert "not a micromove database" in one_error_line(mmctl("stats", "--db", junk))
    # The default place, nothing recorded yet: said plainly, exit 0.
    proc = mmctl("stats")
    assert proc.returncode == 0 and "no data yet" in proc.stdout
    proc = mmctl("stats", "--json")
    assert proc.returncode == 0 and "no data yet" in proc.stderr
    assert json.loads(proc.stdout)["days"] == []
    empty = tmp_path / "empty.db"
    Store.open(empty).close()
    assert "no data yet" in mmctl("stats", "--db", empty).stdout
    assert stats_json(empty)["days"] == []


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--since", "yesterday"], "--since: not a date"),
        (["--until", "2026-02-30"], "--until: not a date"),
        (["--since", "2026-03-05", "--until", "2026-03-01"], "after --until"),
        (["--by", "month"], "invalid choice"),
        (["--json", "--csv"], "not allowed with"),
    ],
)
def test_bad_arguments_exit_2(day_db: Path, args: list[str], needle: str) -> None:
    assert needle in one_error_line(mmctl("stats", "--db", day_db, *args))


def test_stats_imports_nothing_heavy(day_db: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "micromove", "stats", "--db", str(day_db), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
    assert "micromove.report.stats" in imported
    for heavy in ("yaml", "pynput", "psutil", "micromove.config", "micromove.core.engine", "zoneinfo"):
        assert heavy not in imported, heavy


def test_region_trend_against_the_period_before() -> None:
    from micromove.report.human import region_trend

    now = {"cues": 10, "done": 3, "likely": 3, "dismissed": 2, "ignored": 2}
    assert region_trend(now, {"cues": 10, "done": 1, "likely": 1, "dismissed": 0, "ignored": 8}) == "60% ↑ from 20%"
    assert region_trend(now, {"cues": 5, "done": 5, "likely": 0, "dismissed": 0, "ignored": 0}) == "60% ↓ from 100%"
    assert region_trend(now, {"cues": 5, "done": 3, "likely": 0, "dismissed": 0, "ignored": 2}) == "60% = from 60%"
    assert region_trend(now, None) == "60% (new)"
    assert region_trend(dict.fromkeys(now, 0), None) == "-"


_LABELS = st.one_of(st.sampled_from(("2026-03-02", "2026-W10", "2026-03-02T09")), st.text(max_size=12))
_NUMBER = st.one_of(
    st.integers(-(2**70), 2**70), st.floats(allow_nan=True, allow_infinity=True), st.none(), st.booleans()
)
_REGIONS = st.dictionaries(
    st.text(max_size=8), st.fixed_dictionaries({k: st.integers(0, 10**6) for k in ("cues", "done", "ignored")}),
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(
    label_key=st.sampled_from(("date", "week", "hour", "na\u00efve key")),
    label=_LABELS,
    fields=st.lists(st.sampled_from(stats.FIELDS + ("nan", "info", "x y")), unique=True, max_size=20),
    values=st.lists(_NUMBER, min_size=20, max_size=20),
    regions=_REGIONS,
    stored=st.booleans(),
    last=st.sampled_from(("regions", "other")),
)
def test_a_row_encodes_as_json_dumps_does(label_key, label, fields, values, regions, stored, last) -> None:  # type: ignore[no-untyped-def]
    """The JSON writer's quick path for rows (a template per shape, stored
    regions copied) gives exactly what json.dumps gives, for any row: odd
    labels, NaN and infinities, None, booleans, huge integers, other shapes."""
    from micromove.commands.stats import row_encoder
    from micromove.report.days import StoredRegions

    dumps = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode
    encode = row_encoder(dumps)
    text = dumps(regions)
    row: dict[str, Any] = {label_key: label, **dict(zip(fields, values, strict=False))}
    row[last] = StoredRegions(text) if stored and last == "regions" else regions
    want = dumps({**row, "regions": regions} if last == "regions" else row)
    assert encode(row) == want
    assert encode(dict(row)) == want  # the same shape again: its template, made once


def test_the_streamed_json_is_byte_for_byte_what_json_dumps_makes() -> None:
    """`stats --json` writes a report's list item by item (no year-long
    string); the text is exactly one compact json.dumps line."""
    import io

    from micromove.commands.stats import write_json

    day = {"date": "2026-03-02", "keys": 5, "active_s": 1.5, "regions": {"hands": {"cues": 1, "ignored": 1}},
           "note": "a \"quoted\"\ttab é"}  # fmt: skip
    for rep in (
        {"days": [day, {**day, "date": "2026-03-03", "keys": None}], "totals": {"keys": 5}},
        {"days": [], "totals": {}},
        {"weeks": [day]},
        {},
    ):
        out = io.StringIO()
        write_json(rep, out)
        assert out.getvalue() == json.dumps(rep, separators=(",", ":")) + "\n"
