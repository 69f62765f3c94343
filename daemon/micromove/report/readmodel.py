"""The read model: every read-only query micromove asks of its database.

`mmctl stats`, `status` (today's figures), `doctor`, `cues`, `checkin` and
the check-in reminder all read through here, so each question is written
once: does the database have a schema, what a state key holds, today's
figures, which delivered cues were done or likely done, the latest
check-in, what doctor reports about the file.

Every connection comes from `store.open_readonly` (`mode=ro`: never a
migration, never a write, works while the daemon writes). A database at
schema version 0 (created but empty) answers like an empty one.

Standard library only, and little of it: `mmctl stats` imports this and
has to start fast (no typing, pathlib or dataclasses at import).
"""

from __future__ import annotations

import os
import sqlite3
from datetime import date

from ..timefmt import local_date, today_start

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

PROGRESSION_KEY = "progression_start"  # the key core/session.py writes


# ------------------------------------------------------------------ opening
def open_db(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """A read-only connection (StoreError: missing, foreign, newer or unusable file)."""
    from ..adapters.store import open_readonly

    return open_readonly(path)


def open_if_exists(path: str | os.PathLike[str]) -> sqlite3.Connection | None:
    """A read-only connection, or None when no file is there (StoreError: unusable file)."""
    p = os.path.expanduser(os.fspath(path))
    if not os.path.exists(p):
        return None
    return open_db(p)


def has_schema(conn: sqlite3.Connection) -> bool:
    """The database has micromove's tables (schema version above 0)."""
    return bool(schema_version(conn))


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def has_table(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None


# ------------------------------------------------------------------ state
def regions_in(conn: sqlite3.Connection, table: str) -> list[str]:
    """The regions `table` (cue_quarter, day_regions: keyed by region
    first) has rows for, in name order: one index seek each."""
    names: list[str] = []
    row = conn.execute(f"SELECT min(region) FROM {table}").fetchone()
    while row is not None and row[0] is not None:
        names.append(row[0])
        row = conn.execute(f"SELECT min(region) FROM {table} WHERE region > ?", (row[0],)).fetchone()
    return names


def state(conn: sqlite3.Connection, key: str) -> str | None:
    if not has_schema(conn):
        return None
    row = conn.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def progression_start(conn: sqlite3.Connection | None) -> date | None:
    """The day progression began (the daemon's first run), or None if not recorded."""
    if conn is None:
        return None
    value = state(conn, PROGRESSION_KEY)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


# ------------------------------------------------------------------ cues and their outcome
def back_off(conn: sqlite3.Connection | None) -> dict[str, Any]:
    """Each cue's back-off (core/backoff.py) as the daemon last wrote it: {cue: CueBackOff}.

    {} when there is none, or when the stored state is not understood (the
    daemon says so in its log and starts it again).
    """
    from ..core import backoff

    if conn is None:
        return {}
    raw = state(conn, backoff.STATE_KEY)
    if not raw:
        return {}
    try:
        return dict(backoff.parse(raw))
    except ValueError:
        return {}


def cue_outcomes(
    conn: sqlite3.Connection, lo: float, hi: float
) -> Iterator[tuple[float, bool, str, bool, bool, bool]]:
    """(t, shown, cue id, done, likely, dismissed) for every cue of the cue sets delivered in [lo, hi).

    `shown`: the notification reached the server (delivered = 1). `done`: the
    person confirmed it; `likely`: inferred from input and not confirmed done;
    `dismissed`: the person closed its notification, and it is neither done
    nor likely done (a cue counts once: done, then likely, then dismissed).
    The one definition stats, status and checkin count by.
    """
    # (A plain join plus a set lookup: half the time of joining the
    # confirmations in SQL. All of them: there is at most one per cue shown.)
    done_set: set[tuple[int, str]] = set()
    likely_set: set[tuple[int, str]] = set()
    dismissed_set: set[tuple[int, str]] = set()
    sets = {"done": done_set, "likely": likely_set, "dismissed": dismissed_set}
    for did, cid, kind in conn.execute(
        "SELECT delivery_id, cue_id, kind FROM confirmations WHERE delivery_id IS NOT NULL"
    ):
        into = sets.get(kind)
        if into is not None:
            into.add((did, cid))
    for t, delivered, did, cue_id in conn.execute(
        "SELECT v.t, v.delivered, c.delivery_id, c.cue_id"
        " FROM deliveries v JOIN delivery_cues c ON c.delivery_id = v.id WHERE v.t >= ? AND v.t < ?",
        (lo, hi),
    ):
        key = (did, cue_id)
        done = key in done_set
        likely = (key in likely_set) and not done
        yield t, delivered == 1, cue_id, done, likely, (key in dismissed_set) and not done and not likely


def recent_regions(conn: sqlite3.Connection | None, days: int = 14, now: float | None = None) -> dict[str, tuple[int, int]]:
    """Region -> (cues shown, of those done or likely done) over the last `days` days."""
    if conn is None or not has_schema(conn):
        return {}
    import time

    since = (time.time() if now is None else now) - days * 86400.0
    out: dict[str, tuple[int, int]] = {}
    for _t, shown, cue_id, done, likely, _dismissed in cue_outcomes(conn, since, float("inf")):
        if not shown:
            continue
        region = cue_id.partition(".")[0]
        cues, moved = out.get(region, (0, 0))
        out[region] = (cues + 1, moved + (done or likely))
    return dict(sorted(out.items()))


# ------------------------------------------------------------------ today
def today_figures(db: str | os.PathLike[str], now_wall: float) -> dict[str, Any] | None:
    """Counts since local midnight (what `mmctl stats` would say for today); None: no schema."""
    lo = today_start(now_wall)
    conn = open_db(db)
    try:
        if not has_schema(conn):
            return None
        keys, clicks, scrolls, moves = conn.execute(
            "SELECT coalesce(sum(keys), 0), coalesce(sum(clicks), 0), coalesce(sum(scrolls), 0),"
            " coalesce(sum(moves), 0) FROM activity WHERE minute >= ?",
            (int(lo // 60),),
        ).fetchone()
        cues = done = likely = dismissed = 0
        for _t, shown, _cue, d, lk, dm in cue_outcomes(conn, lo, float("inf")):
            if shown:
                cues += 1
                done += d
                likely += lk
                dismissed += dm
    finally:
        conn.close()
    return {
        "date": local_date(now_wall).isoformat(),
        "keys": int(keys),
        "clicks": int(clicks),
        "scrolls": int(scrolls),
        "moves": int(moves),
        "cues": cues,
        "done": done,
        "likely": likely,
        "dismissed": dismissed,
    }


# ------------------------------------------------------------------ check-ins
def last_checkin_date(conn: sqlite3.Connection | None) -> str | None:
    """The local date (YYYY-MM-DD) of the latest check-in, or None."""
    if conn is None or not has_schema(conn):
        return None
    row = conn.execute("SELECT date FROM checkins ORDER BY t DESC LIMIT 1").fetchone()
    return None if row is None else str(row[0])


def last_checkin_time(db: str | os.PathLike[str]) -> float | None:
    """UTC epoch seconds of the latest check-in, or None."""
    conn = open_db(db)
    try:
        if not has_schema(conn):
            return None
        row = conn.execute("SELECT max(t) FROM checkins").fetchone()
        return None if row is None or row[0] is None else float(row[0])
    finally:
        conn.close()


# ------------------------------------------------------------------ for doctor
def health(conn: sqlite3.Connection) -> tuple[int, list[Any], int]:
    """(schema version, PRAGMA quick_check rows, local days with activity recorded)."""
    version = schema_version(conn)
    rows = conn.execute("PRAGMA quick_check").fetchall()
    days = 0
    if version and rows == [("ok",)]:
        days = conn.execute("SELECT count(DISTINCT minute / 1440) FROM activity").fetchone()[0]
    return version, rows, int(days)
