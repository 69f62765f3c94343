"""Schema 3: quarter-hour rollups of stretches and cues (adapters/rollups.py).

Derived data, held to what it derives from on real SQLite files:
- after any sequence of writes and flushes (Hypothesis: new and growing
  stretches, cue sets delivered, failed or pending, later outcomes,
  confirmations done/likely, repeated or for no set), the rollup tables equal
  a computation from the raw rows, and equal what the migration step builds
  from the same rows;
- a version-2 database is migrated (with its history) to the same tables;
- `mmctl stats` gives the same report from the rollups as from the raw rows
  (a reader of a version-2 file), in zones whose hours start at :00, :30, :45;
- `--by hour` rows leave the longest-stretch columns out (issue 11).
"""

from __future__ import annotations

import csv
import io
import json
import math
import shutil
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _mmctl import SAMPLE_DAY, mmctl
from fakes import local_time_zone
from micromove.adapters import store as store_mod
from micromove.adapters.store import SCHEMA_VERSION, Store
from micromove.commands.stats import write_json
from micromove.report import stats

BASE = 1_772_000_000.0  # 2026-02-25, a quarter hour boundary
CUES = ("hands.wrist_pulse", "hands.grip_modulation", "eyes.far_focus", "neck.chin_tuck", "oddcue")
ROLLUPS = ("stretch_quarter", "cue_quarter")


# ------------------------------------------------------------------ references from the raw rows
def stretch_reference(conn: sqlite3.Connection) -> dict[tuple[int, str], tuple[float, float]]:
    seconds: dict[tuple[int, str], float] = {}
    longest: dict[tuple[int, str], float] = {}
    for kind, start, end in conn.execute("SELECT kind, start, end FROM stretches"):
        for q in range(math.floor(start / 900), math.floor(end / 900) + 1):
            part = min(end, (q + 1) * 900) - max(start, q * 900)
            if part > 0:
                seconds[(q, kind)] = seconds.get((q, kind), 0.0) + part
        k = (math.floor(start / 900), kind)
        longest[k] = max(longest.get(k, 0.0), end - start)
    keys = seconds.keys() | longest.keys()
    return {k: (round(seconds.get(k, 0.0), 6), round(longest.get(k, 0.0), 6)) for k in keys}


def cue_reference(conn: sqlite3.Connection) -> dict[tuple[int, str], tuple[int, int, int, int, int]]:
    confirmed = {
        (did, cid, kind) for did, cid, kind in conn.execute("SELECT delivery_id, cue_id, kind FROM confirmations")
    }
    out: dict[tuple[int, str], list[int]] = {}
    for did, t, delivered, cid in conn.execute(
        "SELECT d.id, d.t, d.delivered, c.cue_id FROM deliveries d JOIN delivery_cues c ON c.delivery_id = d.id"
    ):
        row = out.setdefault((math.floor(t / 900), cid.split(".")[0]), [0, 0, 0, 0, 0])
        done = (did, cid, "done") in confirmed
        likely = (did, cid, "likely") in confirmed and not done
        if delivered == 1:
            row[0] += 1
            row[1] += done
            row[2] += likely
            row[3] += (did, cid, "dismissed") in confirmed and not done and not likely
        else:
            row[4] += 1
    return {k: (a, b, c, d, e) for k, (a, b, c, d, e) in out.items() if any((a, b, c, d, e))}


def stretch_table(conn: sqlite3.Connection) -> dict[tuple[int, str], tuple[float, float]]:
    return {
        (q, k): (round(s, 6), round(lg, 6))
        for q, k, s, lg in conn.execute("SELECT quarter, kind, seconds, longest FROM stretch_quarter")
        if round(s, 6) or round(lg, 6)
    }


def cue_table(conn: sqlite3.Connection) -> dict[tuple[int, str], tuple[int, int, int, int, int]]:
    return {
        (q, r): (a, b, c, d, e)
        for q, r, a, b, c, d, e in conn.execute(
            "SELECT quarter, region, cues, done, likely, dismissed, undelivered FROM cue_quarter"
        )
        if any((a, b, c, d, e))
    }


def local_day(t: float) -> tuple[int, int]:
    d = datetime.fromtimestamp(t).date()
    n = d + timedelta(days=1)
    return int(datetime(d.year, d.month, d.day).timestamp()), int(datetime(n.year, n.month, n.day).timestamp())


def day_reference(conn: sqlite3.Connection) -> dict[tuple[int, int, str], tuple[float, ...]]:
    """day_sums computed from the raw rows, in this process's zone."""
    out: dict[tuple[int, int, str], list[float]] = {}

    def row(t: float, series: str) -> list[float]:
        return out.setdefault((*local_day(t), series), [0.0] * 6)

    for m, *counts in conn.execute("SELECT minute, keys, clicks, scrolls, moves, distance_px FROM activity"):
        r = row(m * 60, "activity")
        r[0] += 1
        for i, v in enumerate(counts):
            r[1 + i] += v
    for kind, start, end in conn.execute("SELECT kind, start, end FROM stretches"):
        r = row(start, kind)
        r[1] = max(r[1], end - start)
        t = start
        while t < end:
            lo, hi = local_day(t)
            row(t, kind)[0] += min(end, hi) - t
            t = hi
    regions: dict[tuple[int, int], dict[str, dict[str, int]]] = {}
    for (q, region), figures in cue_reference(conn).items():
        r = row(q * 900, "cues")
        for i, v in enumerate(figures):
            r[i] += v
        if figures[0]:
            rs = regions.setdefault(local_day(q * 900), {}).setdefault(
                region, {"cues": 0, "done": 0, "likely": 0, "dismissed": 0, "ignored": 0}
            )
            for k, v in zip(("cues", "done", "likely", "dismissed"), figures, strict=False):
                rs[k] += v
            rs["ignored"] += figures[0] - figures[1] - figures[2] - figures[3]
    got: dict[Any, Any] = {k: tuple(round(v, 6) for v in r) for k, r in out.items() if any(round(v, 6) for v in r)}
    for day, rs in regions.items():
        if rs:
            # Stored in name order, each region's figures in the documented order.
            got[(*day, "regions")] = json.dumps(dict(sorted(rs.items())), separators=(",", ":"))
            got[(*day, "region rows")] = {name: tuple(r.values())[:4] for name, r in rs.items()}
    return got


def day_table(conn: sqlite3.Connection) -> dict[tuple[int, int, str], tuple[float, ...]]:
    """day_sums, as day_reference lays it out."""
    out: dict[tuple[int, int, str], tuple[float, ...]] = {}
    for lo, hi, *v in conn.execute(
        "SELECT start, end, minutes, keys, clicks, scrolls, moves, distance_px, typing_s, longest_typing,"
        " mouse_s, longest_mouse, active_s, longest_active FROM day_sums"
    ):
        out[(lo, hi, "activity")] = tuple(v[:6])
        for j, kind in enumerate(("typing", "mouse", "active")):
            out[(lo, hi, kind)] = (v[6 + 2 * j], v[7 + 2 * j], 0, 0, 0, 0)
    regions: dict[Any, Any] = {}
    for lo, hi, *v, text in conn.execute(
        "SELECT start, end, cues, done, likely, dismissed, undelivered, regions FROM day_sums"
    ):
        out[(lo, hi, "cues")] = (*v, 0)
        if text != "{}":
            regions[(lo, hi, "regions")] = text
    for name, lo, hi, *v in conn.execute("SELECT region, start, end, cues, done, likely, dismissed FROM day_regions"):
        regions.setdefault((lo, hi, "region rows"), {})[name] = tuple(v)
    got: dict[Any, Any] = {k: tuple(round(x, 6) for x in r) for k, r in out.items() if any(round(x, 6) for x in r)}
    got.update(regions)
    return got


def nonzero(ref: dict[Any, Any]) -> dict[Any, Any]:
    return {k: v for k, v in ref.items() if any(v)}


def downgrade_to_v2(db: Path) -> None:
    """What a micromove before rollups (schema 4) would have written: the same rows, no rollups."""
    conn = sqlite3.connect(db)
    conn.executescript(
        "DROP TABLE stretch_quarter; DROP TABLE cue_quarter; DROP TABLE day_sums; DROP TABLE day_regions;"
        " PRAGMA user_version = 4;"
    )
    conn.close()


def rebuilt_by_migration(db: Path, tmp: Path) -> sqlite3.Connection:
    copy = tmp / "rebuilt.db"
    shutil.copy(db, copy)
    downgrade_to_v2(copy)
    conn = sqlite3.connect(copy)
    for step in store_mod.MIGRATIONS[4:]:
        conn.executescript(step)
    return conn


def reports(conn: sqlite3.Connection, zones: tuple[str, ...]) -> dict[tuple[str, str], Any]:
    out = {}
    for tz in zones:
        with local_time_zone(tz):
            for by in ("day", "hour", "week"):
                rep = out[(tz, by)] = stats.report(conn, by=by)
                # `stats --json` asks for the stored regions (copied as text): the same JSON.
                text = io.StringIO()
                write_json(stats.report(conn, by=by, stored=True), text)
                assert text.getvalue() == json.dumps(rep, separators=(",", ":")) + "\n"
    return out


def assert_same_reports(a: dict[Any, Any], b: dict[Any, Any]) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert json.loads(json.dumps(a[k])) == approx_tree(json.loads(json.dumps(b[k]))), k


def approx_tree(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: approx_tree(v) for k, v in x.items()}
    if isinstance(x, list):
        return [approx_tree(v) for v in x]
    if isinstance(x, float):
        return pytest.approx(x, abs=2e-3)
    return x


# ------------------------------------------------------------------ any sequence of writes
times = st.one_of(
    st.integers(0, 4 * 3600 // 300).map(lambda n: BASE + n * 300.0),  # on quarter and 5-minute edges
    st.floats(0, 4 * 3600, allow_nan=False).map(lambda x: BASE + x),
)
ops = st.lists(
    st.one_of(
        st.tuples(st.just("stretch"), st.sampled_from(("typing", "mouse", "active")), times,
                  st.floats(0, 5000, allow_nan=False)),
        st.tuples(st.just("grow"), st.sampled_from(("typing", "mouse", "active")), st.floats(-100, 3000, allow_nan=False)),
        st.tuples(st.just("delivery"), times, st.lists(st.sampled_from(CUES), min_size=1, max_size=4, unique=True),
                  st.sampled_from((True, False, None))),
        st.tuples(st.just("outcome"), st.integers(0, 30), st.booleans()),
        st.tuples(st.just("confirm"), st.integers(0, 30), st.integers(0, 4), st.sampled_from(("done", "likely", "dismissed")),
                  st.booleans()),
        st.tuples(st.just("flush")),
    ),
    max_size=40,
)  # fmt: skip


def play(s: Store, program: list[tuple[Any, ...]]) -> None:
    started: dict[str, tuple[float, float]] = {}
    sets: list[tuple[int, list[str]]] = []
    for op in program:
        if op[0] == "stretch":
            _, kind, start, length = op
            s.put_stretch(kind, start, start + length)
            started[kind] = (start, start + length)
        elif op[0] == "grow" and op[1] in started:
            start, end = started[op[1]]
            s.put_stretch(op[1], start, end + op[2])  # a shorter end changes nothing
            started[op[1]] = (start, max(end, end + op[2]))
        elif op[0] == "delivery":
            _, t, cues, delivered = op
            sets.append((s.add_delivery(t, "pause", [(c, "typing", 60.0) for c in cues], delivered), cues))
        elif op[0] == "outcome" and sets:
            s.set_delivered(sets[op[1] % len(sets)][0], op[2])
        elif op[0] == "confirm" and sets:
            did, cues = sets[op[1] % len(sets)]
            cue = CUES[op[2]] if op[2] % 2 else cues[op[2] % len(cues)]  # sometimes a cue not in the set
            s.add_confirmation(BASE, cue, did if op[4] else None, op[3])
        elif op[0] == "flush":
            s.flush()


@settings(max_examples=80, deadline=None)
@given(program=ops)
def test_rollups_equal_the_raw_rows_after_any_writes(tmp_path_factory, program) -> None:  # type: ignore[no-untyped-def]
    # The writer's zone: half-hour offset, DST (its day rows are that zone's days).
    with local_time_zone("America/St_Johns"):
        check_any_writes(tmp_path_factory.mktemp("rollups"), program)


def check_any_writes(tmp: Path, program: list[tuple[Any, ...]]) -> None:
    db = tmp / "r.db"
    s = Store.open(db)
    try:
        play(s, program)
    finally:
        s.close()
    conn = sqlite3.connect(db)
    assert stretch_table(conn) == nonzero(stretch_reference(conn))
    assert cue_table(conn) == cue_reference(conn)
    assert day_table(conn) == day_reference(conn)
    rebuilt = rebuilt_by_migration(db, tmp)
    assert stretch_table(rebuilt) == stretch_table(conn)
    assert cue_table(rebuilt) == cue_table(conn)
    assert day_table(rebuilt) == day_table(conn)
    rebuilt.close()
    # The same report from the rollups as from the raw rows (a version-2 file).
    ro = store_mod.open_readonly(db)
    with_rollups = reports(ro, ("America/St_Johns", "UTC", "Asia/Kathmandu"))
    ro.close()
    conn.close()
    downgrade_to_v2(db)
    ro = store_mod.open_readonly(db)
    assert_same_reports(with_rollups, reports(ro, ("America/St_Johns", "UTC", "Asia/Kathmandu")))
    ro.close()


# ------------------------------------------------------------------ migration and the same report
@pytest.fixture
def cue_db(tmp_path: Path) -> Path:
    """The sample day replayed (cues, likely confirmations), plus cue sets of every
    outcome and a stretch over a midnight and a DST change, spread over weeks."""
    db = tmp_path / "day.db"
    r = mmctl("simulate", SAMPLE_DAY, "--start", "2026-03-27T09:00", "--db", db, env={"TZ": "Europe/Berlin"})
    assert r.returncode == 0, r.stderr
    with local_time_zone("Europe/Berlin"):  # the writer's zone, as simulate's
        write_more(db)
    return db


def write_more(db: Path) -> None:
    s = Store.open(db)
    t0 = 1_774_700_000.0  # 2026-03-28 12:13 UTC (Saturday): the night of 29 March is 23 hours in Berlin
    s.put_stretch("typing", t0, t0 + 20 * 3600)
    s.put_stretch("mouse", t0 + 30 * 86400, t0 + 30 * 86400 + 7000)
    for i in range(60):
        did = s.add_delivery(t0 + i * 7919.0, "pause", [(CUES[i % 5], "typing", 1.0), (CUES[(i + 2) % 5], "active", 1.0)],
                             (True, False, None)[i % 3])  # fmt: skip
        if i % 4 == 0:
            s.add_confirmation(t0 + i * 7919.0 + 5, CUES[i % 5], did, "done")
        if i % 5 == 0:
            s.add_confirmation(t0 + i * 7919.0 + 6, CUES[i % 5], did, "likely")
        if i % 7 == 0:
            s.set_delivered(did, True)
    s.close()


ZONES = ("Europe/Berlin", "Asia/Kolkata", "America/St_Johns", "Asia/Kathmandu", "Pacific/Chatham")


def test_a_version_2_database_is_migrated_and_reports_the_same(cue_db: Path, tmp_path: Path) -> None:
    conn = sqlite3.connect(cue_db)
    written = (stretch_table(conn), cue_table(conn), day_table(conn))
    conn.close()
    assert written[0] and written[1]
    ro = store_mod.open_readonly(cue_db)
    want = reports(ro, ZONES)
    ro.close()
    assert sum(d["cues"] for d in want[("Europe/Berlin", "day")]["days"]) > 60

    v2 = tmp_path / "v2.db"
    shutil.copy(cue_db, v2)
    downgrade_to_v2(v2)
    ro = store_mod.open_readonly(v2)  # a reader never migrates: it reads the raw rows
    assert ro.execute("PRAGMA user_version").fetchone() == (4,)
    assert_same_reports(reports(ro, ZONES), want)
    ro.close()

    with local_time_zone("Europe/Berlin"):
        Store.open(v2).close()  # the daemon migrates, in its zone
    conn = sqlite3.connect(v2)
    assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,) == (6,)
    assert (stretch_table(conn), cue_table(conn), day_table(conn)) == written
    conn.close()
    ro = store_mod.open_readonly(v2)
    got = reports(ro, ZONES)
    ro.close()
    assert_same_reports(got, want)
    # And through the CLI, as a person runs it.
    for db in (cue_db, v2):
        p = mmctl("stats", "--db", db, "--json", env={"TZ": "Asia/Kathmandu"})
        assert p.returncode == 0, p.stderr
        assert json.loads(p.stdout) == approx_tree(json.loads(json.dumps(want[("Asia/Kathmandu", "day")])))


def downgrade_to_v5(db: Path) -> None:
    """What micromove wrote at schema 5: no day_regions, and each day row's
    regions without `ignored`, in whatever order an earlier writer left them
    (here: names reversed, `dismissed` first or missing)."""
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT start, end, regions FROM day_sums WHERE regions <> '{}'").fetchall()
    for n, (lo, hi, text) in enumerate(rows):
        old = {}
        for name, r in reversed(json.loads(text).items()):
            old[name] = {"dismissed": r["dismissed"], "cues": r["cues"], "done": r["done"], "likely": r["likely"]}
            if n % 2 and not r["dismissed"]:
                del old[name]["dismissed"]  # as before schema 4
        conn.execute("UPDATE day_sums SET regions = ? WHERE start = ? AND end = ?", (json.dumps(old), lo, hi))
    conn.executescript("DROP TABLE day_regions; PRAGMA user_version = 5;")
    conn.close()


def test_a_version_5_database_is_migrated_and_stats_prints_the_same(cue_db: Path, tmp_path: Path) -> None:
    conn = sqlite3.connect(cue_db)
    written = day_table(conn)
    conn.close()
    assert any(k[2] == "region rows" for k in written)
    env = {"TZ": "Europe/Berlin"}
    want = mmctl("stats", "--db", cue_db, "--json", env=env)
    assert want.returncode == 0, want.stderr
    assert '"ignored":' in want.stdout

    v5 = tmp_path / "v5.db"
    shutil.copy(cue_db, v5)
    downgrade_to_v5(v5)
    for by in ("day", "week", "hour"):  # a reader of the version-5 file: the same report
        a = mmctl("stats", "--db", v5, "--json", "--by", by, env=env)
        b = mmctl("stats", "--db", cue_db, "--json", "--by", by, env=env)
        assert a.returncode == b.returncode == 0, a.stderr + b.stderr
        assert a.stdout == b.stdout, by
    with local_time_zone("Europe/Berlin"):
        Store.open(v5).close()  # the daemon migrates
    conn = sqlite3.connect(v5)
    assert conn.execute("PRAGMA user_version").fetchone() == (6,)
    assert day_table(conn) == written  # the regions texts as the writer stores them, day_regions filled
    conn.close()
    got = mmctl("stats", "--db", v5, "--json", env=env)
    assert got.returncode == 0, got.stderr
    assert got.stdout == want.stdout


def test_day_rows_written_in_two_zones_report_the_same_as_the_raw_rows(tmp_path: Path) -> None:
    # A person who travels: half the data written in Berlin, then in Kolkata.
    db = tmp_path / "travel.db"
    assert mmctl("simulate", SAMPLE_DAY, "--start", "2026-03-27T09:00", "--db", db, env={"TZ": "Europe/Berlin"}).returncode == 0
    with local_time_zone("Asia/Kolkata"):
        write_more(db)
    conn = sqlite3.connect(db)
    starts = {s for (s,) in conn.execute("SELECT DISTINCT start FROM day_sums")}
    conn.close()
    assert len(starts) > 3
    ro = store_mod.open_readonly(db)
    want = reports(ro, ZONES)
    ro.close()
    v2 = tmp_path / "v2.db"
    shutil.copy(db, v2)
    downgrade_to_v2(v2)
    ro = store_mod.open_readonly(v2)
    assert_same_reports(reports(ro, ZONES), want)
    ro.close()


def test_stats_reads_only_the_rollup_rows_of_the_days_shown(cue_db: Path) -> None:
    # With the raw cue and stretch rows gone, a v3 report still has its cues and
    # stretch time: they come from the rollups alone.
    ro = store_mod.open_readonly(cue_db)
    with local_time_zone("Europe/Berlin"):
        want = stats.report(ro)
    ro.close()
    conn = sqlite3.connect(cue_db)
    conn.executescript("DELETE FROM delivery_cues; DELETE FROM confirmations; DELETE FROM stretches"
                       " WHERE start > (SELECT min(start) FROM stretches);")  # fmt: skip
    conn.close()
    ro = store_mod.open_readonly(cue_db)
    with local_time_zone("Europe/Berlin"):
        got = stats.report(ro)
    ro.close()
    assert got["totals"]["cues"] == want["totals"]["cues"] > 0
    assert got["totals"]["typing_s"] == want["totals"]["typing_s"] > 0


# ------------------------------------------------------------------ issue 11: longest in hour rows
def test_hour_rows_leave_the_longest_stretch_out(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    s = Store.open(db)
    t = 1_772_438_400.0  # 2026-03-02 09:00 Berlin
    s.put_stretch("typing", t + 1800, t + 1800 + 4260)  # 09:30 -> 10:41, 1h11m
    s.add_counts({int(t // 60) + 40: [5, 0, 0, 0, 0.0]})
    s.close()
    env = {"TZ": "Europe/Berlin"}
    p = mmctl("stats", "--db", db, "--json", "--by", "hour", env=env)
    assert p.returncode == 0, p.stderr
    rep = json.loads(p.stdout)
    assert [h["hour"] for h in rep["hours"]] == ["2026-03-02T09", "2026-03-02T10"]
    for h in rep["hours"]:
        assert not [k for k in h if k.startswith("longest_")], h
        assert h["typing_s"] <= 3600
    assert [h["typing_s"] for h in rep["hours"]] == [1800, 2460]
    # The whole stretch is still the longest of the range, and of its day.
    assert rep["totals"]["longest_typing_stretch_s"] == 4260
    days = json.loads(mmctl("stats", "--db", db, "--json", env=env).stdout)["days"]
    assert days[0]["longest_typing_stretch_s"] == 4260
    p = mmctl("stats", "--db", db, "--csv", "--by", "hour", env=env)
    header = next(csv.reader(io.StringIO(p.stdout)))
    assert "longest_typing_stretch_s" not in header and "typing_s" in header
    p = mmctl("stats", "--db", db, "--by", "hour", env=env)
    assert p.returncode == 0, p.stderr
    assert "longest" not in p.stdout, p.stdout
    assert [line.split()[2] for line in p.stdout.splitlines() if line.startswith("2026-03-02T")] == ["30m", "41m"]
