"""Small read-only look-ups in the database for `mmctl cues`, `checkin` and `doctor`.

Standard library only; every connection comes from `store.open_readonly`
(`mode=ro`: never a migration, never a write, works while the daemon writes).
A database at schema version 0 (created but empty) answers like an empty one.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from ..adapters.store import open_readonly
from ..core import progression
from ..core.catalog import REGIONS

PROGRESSION_KEY = "progression_start"  # the key session.py writes


def open_if_exists(path: Path | str) -> sqlite3.Connection | None:
    """A read-only connection, or None when no file is there (StoreError: unusable file)."""
    p = Path(path).expanduser()
    if not p.exists():
        return None
    return open_readonly(p)


def _has_schema(conn: sqlite3.Connection) -> bool:
    return bool(conn.execute("PRAGMA user_version").fetchone()[0])


def state(conn: sqlite3.Connection, key: str) -> str | None:
    if not _has_schema(conn):
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


@dataclass(frozen=True)
class Progress:
    """Where progression stands today."""

    enabled: bool  # config progression.enabled
    start: date | None  # None: the daemon has not run yet (or progression is off)
    week: int | None
    active_regions: tuple[str, ...]
    next_region: str | None
    next_date: date | None

    def describe(self) -> str:
        if not self.enabled:
            return "progression is off (progression.enabled: false): every enabled cue is active"
        if self.start is None:
            return (
                "progression has not started: it starts when the daemon first runs "
                f"(week 1: {REGIONS[0]} only, then one more region each week)"
            )
        text = f"progression week {self.week}, since {self.start}: active regions {', '.join(self.active_regions)}"
        if self.next_region is not None and self.next_date is not None:
            text += f"; {self.next_region} joins on {self.next_date}"
        return text


def progress(enabled: bool, start: date | None, today: date | None = None) -> Progress:
    today = today or date.today()
    if not enabled:
        return Progress(False, None, None, REGIONS, None, None)
    if start is None:
        return Progress(True, None, None, (), REGIONS[0], None)
    week = progression.week_number(start, today)
    active = progression.active_regions(start, today)
    if len(active) < len(REGIONS):
        return Progress(True, start, week, active, REGIONS[len(active)], start + timedelta(days=7 * week))
    return Progress(True, start, week, active, None, None)


def recent_regions(conn: sqlite3.Connection | None, days: int = 14, now: float | None = None) -> dict[str, tuple[int, int]]:
    """Region -> (cues shown, of those done or likely done) over the last `days` days."""
    if conn is None or not _has_schema(conn):
        return {}
    import time

    since = (time.time() if now is None else now) - days * 86400.0
    out: dict[str, tuple[int, int]] = {}
    for region, cues, moved in conn.execute(
        "SELECT substr(c.cue_id, 1, instr(c.cue_id || '.', '.') - 1), count(*),"
        " sum(EXISTS (SELECT 1 FROM confirmations k WHERE k.delivery_id = c.delivery_id AND k.cue_id = c.cue_id))"
        " FROM deliveries d JOIN delivery_cues c ON c.delivery_id = d.id"
        " WHERE d.t >= ? AND d.delivered = 1 GROUP BY 1",
        (since,),
    ):
        out[str(region)] = (int(cues), int(moved or 0))
    return out


def last_checkin(conn: sqlite3.Connection | None) -> str | None:
    """The local date (YYYY-MM-DD) of the latest check-in, or None."""
    if conn is None or not _has_schema(conn):
        return None
    row = conn.execute("SELECT date FROM checkins ORDER BY t DESC LIMIT 1").fetchone()
    return None if row is None else str(row[0])
