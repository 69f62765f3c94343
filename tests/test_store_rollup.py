"""Schema 2: quarter-hour sums of `activity`, kept by triggers, read by `mmctl stats`.

The quarter table is derived data: these tests hold it to the minutes it sums
(after any sequence of writes, and after migrating a version-1 database), and
hold stats to giving the same report from either table.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from _mmctl import SAMPLE_DAY, mmctl
from micromove.adapters import store as store_mod
from micromove.adapters.store import SCHEMA_VERSION, Store

SUMS = "sum(keys), sum(clicks), sum(scrolls), sum(moves), round(sum(distance_px), 6)"


def quarter_view(conn: sqlite3.Connection) -> list[tuple[object, ...]]:
    """What the quarter table holds, for quarters with any minute."""
    return conn.execute(
        "SELECT quarter, minutes, keys, clicks, scrolls, moves, round(distance_px, 6)"
        " FROM activity_quarter WHERE minutes > 0 ORDER BY quarter"
    ).fetchall()


def minute_view(conn: sqlite3.Connection) -> list[tuple[object, ...]]:
    """The same, computed from the minutes themselves."""
    return conn.execute(
        f"SELECT minute / 15, count(*), {SUMS} FROM activity GROUP BY minute / 15 ORDER BY 1"
    ).fetchall()


writes = st.lists(
    st.lists(
        st.tuples(
            st.integers(min_value=29_000_000, max_value=29_000_200),  # minutes: a few quarters
            st.integers(0, 50), st.integers(0, 5), st.integers(0, 5), st.integers(0, 50),
            st.floats(0, 500, allow_nan=False),
        ),
        max_size=12,
    ),
    min_size=1,
    max_size=6,
)  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(batches=writes)
def test_quarter_sums_equal_the_minutes_after_any_writes(tmp_path_factory, batches) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path_factory.mktemp("rollup") / "m.db"
    s = Store.open(db)
    try:
        for batch in batches:  # each flush is one transaction; minutes repeat across them
            counts: dict[int, list[float]] = {}
            for minute, k, c, sc, mv, px in batch:
                b = counts.setdefault(minute, [0, 0, 0, 0, 0.0])
                for i, v in enumerate((k, c, sc, mv, px)):
                    b[i] += v
            s.add_counts(counts)
            s.flush()
    finally:
        s.close()
    conn = sqlite3.connect(db)
    assert quarter_view(conn) == minute_view(conn)
    conn.close()


def test_a_version_1_database_is_migrated_with_its_sums(tmp_path: Path) -> None:
    db = tmp_path / "v1.db"
    conn = sqlite3.connect(db)
    conn.executescript(store_mod.MIGRATIONS[0])
    conn.executemany(
        "INSERT INTO activity VALUES (?, ?, ?, ?, ?, ?)",
        [(29_000_000 + i * 7, i, 1, 2, 3, 4.5) for i in range(40)],
    )
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    Store.open(db).close()
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    assert quarter_view(conn) and quarter_view(conn) == minute_view(conn)
    conn.close()


def test_stats_reads_the_same_from_quarters_and_from_minutes(tmp_path: Path) -> None:
    db = tmp_path / "day.db"
    r = mmctl("simulate", SAMPLE_DAY, "--start", "2026-03-02T09:00", "--db", db)
    assert r.returncode == 0, r.stderr
    env = {"TZ": "Europe/Berlin"}
    reports = {}
    for by in ("day", "hour", "week"):
        p = mmctl("stats", "--db", db, "--json", "--by", by, env=env)
        assert p.returncode == 0, p.stderr
        reports[by] = json.loads(p.stdout)
    assert reports["day"]["totals"]["keys"] == 35341
    # Without the quarter table (a version-1 reader's view) stats falls back to the minutes.
    conn = sqlite3.connect(db)
    conn.executescript(
        "DROP TRIGGER activity_quarter_insert; DROP TRIGGER activity_quarter_update;"
        " DROP TRIGGER activity_quarter_delete; DROP TABLE activity_quarter;"
    )
    conn.close()
    for by, expected in reports.items():
        p = mmctl("stats", "--db", db, "--json", "--by", by, env=env)
        assert p.returncode == 0, p.stderr
        assert json.loads(p.stdout) == expected, by


def test_a_half_hour_time_zone_is_read_right(tmp_path: Path) -> None:
    # India's hours start at :30 UTC: hour buckets are still whole quarters; a
    # made-up zone at +00:10 is not, and falls back to the minutes.
    db = tmp_path / "day.db"
    assert mmctl("simulate", SAMPLE_DAY, "--start", "2026-03-02T09:00", "--db", db).returncode == 0
    outs = []
    for tz in ("Asia/Kolkata", "XXX-00:10", "UTC"):
        p = mmctl("stats", "--db", db, "--json", "--by", "hour", env={"TZ": tz})
        assert p.returncode == 0, p.stderr
        rep = json.loads(p.stdout)
        assert rep["totals"]["keys"] == 35341
        assert sum(h["keys"] for h in rep["hours"]) == 35341
        outs.append(rep)
    conn = sqlite3.connect(db)
    minutes = dict(conn.execute("SELECT minute, keys FROM activity").fetchall())
    conn.close()
    # +00:10: each local hour [HH:00, HH+1:00) local is [HH-1:50, HH:50) UTC.
    for h in outs[1]["hours"]:
        assert h["keys"] > 0
    first = outs[1]["hours"][0]
    assert first["keys"] == sum(
        k for m, k in minutes.items() if _label(m * 60, 600) == first["hour"]
    )


def _label(t: float, offset_s: int) -> str:
    import time

    return time.strftime("%Y-%m-%dT%H", time.gmtime(t + offset_s))


def test_upgrade_is_logged_once_and_a_new_database_quietly(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    import logging

    caplog.set_level(logging.INFO, logger="micromove")
    Store.open(tmp_path / "new.db").close()
    assert "upgraded" not in caplog.text
    db = tmp_path / "v1.db"
    conn = sqlite3.connect(db)
    conn.executescript(store_mod.MIGRATIONS[0] + "\nPRAGMA user_version = 1;")
    conn.close()
    Store.open(db).close()
    assert f"schema upgraded from version 1 to {SCHEMA_VERSION}" in caplog.text
    caplog.clear()
    Store.open(db).close()
    assert "upgraded" not in caplog.text
