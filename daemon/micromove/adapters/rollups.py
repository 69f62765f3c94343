"""Per-quarter-hour rollups of stretches and cues, kept by the writer (schema 3).

`mmctl stats` shows local days, hours and weeks in the reader's time zone.
Every real time zone's offset is a whole number of quarter hours, so each
of those buckets is a range of UTC quarter hours (epoch seconds // 900),
and sums kept per quarter answer any zone with a range sum over few rows:

- `stretch_quarter` (quarter, kind): `seconds`, the stretch time of that kind
  inside the quarter (every stretch split at quarter boundaries, so at every
  local midnight and hour); `longest`, the longest whole stretch of that kind
  that began in the quarter.
- `cue_quarter` (quarter, region): the cues of the cue sets delivered in the
  quarter, one by one: `cues` shown (delivered = 1), `done` of those with a
  `done` confirmation, `likely` with a `likely` one and no `done`,
  `undelivered` the rest (failed or never answered).

(`activity_quarter`, schema 2, does the same for the per-minute counts, with
triggers.) These are kept in the writer's own transaction (`Store.flush`),
not by triggers: a stretch spans any number of quarters, and a cue's figures
depend on its delivery and its confirmations together, so the flush works
out what its writes change: for stretches the piece between the old and the
new end (a stretch only ever grows), for cues the figures of each touched
cue set read before and after the writes. Standard library only.
"""

from __future__ import annotations

import sqlite3

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

Q = 900  # seconds in a quarter hour

# The quarter of UTC epoch seconds X, exactly floor(X / 900) (the correction
# undoes a division that rounded up to the next whole number).
_QUARTER_OF = "(CAST({x} / 900 AS INTEGER) - (CAST({x} / 900 AS INTEGER) * 900 > {x}))"
_REGION_OF = "(CASE WHEN instr({c}, '.') > 0 THEN substr({c}, 1, instr({c}, '.') - 1) ELSE {c} END)"


def quarter(t: float) -> int:
    """floor(t / 900), computed as the migration's SQL does."""
    q = int(t / Q)
    return q - 1 if q * Q > t else q


def region(cue_id: str) -> str:
    return cue_id.partition(".")[0]


# Migration 3 (store.MIGRATIONS[2]): the tables, filled from what is there.
MIGRATION = f"""
    CREATE TABLE stretch_quarter (
        quarter INTEGER NOT NULL,                 -- UTC epoch seconds // 900
        kind    TEXT NOT NULL,                    -- typing | mouse | active
        seconds REAL NOT NULL DEFAULT 0,          -- stretch time inside the quarter
        longest REAL NOT NULL DEFAULT 0,          -- longest whole stretch begun in it
        PRIMARY KEY (quarter, kind)
    ) WITHOUT ROWID;
    CREATE TABLE cue_quarter (
        quarter     INTEGER NOT NULL,             -- of the cue set's delivery time
        region      TEXT NOT NULL,                -- cue_id before the dot
        cues        INTEGER NOT NULL DEFAULT 0,
        done        INTEGER NOT NULL DEFAULT 0,
        likely      INTEGER NOT NULL DEFAULT 0,
        undelivered INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (quarter, region)
    ) WITHOUT ROWID;
    INSERT INTO stretch_quarter (quarter, kind, seconds)
        WITH RECURSIVE piece (kind, q, start, end) AS (
            SELECT kind, {_QUARTER_OF.format(x="start")}, start, end FROM stretches WHERE end > start
            UNION ALL
            SELECT kind, q + 1, start, end FROM piece WHERE (q + 1) * 900 < end
        )
        SELECT q, kind, sum(min(end, (q + 1) * 900.0) - max(start, q * 900.0)) FROM piece GROUP BY q, kind;
    INSERT INTO stretch_quarter (quarter, kind, longest)
        SELECT {_QUARTER_OF.format(x="start")}, kind, max(end - start) FROM stretches WHERE true GROUP BY 1, 2
        ON CONFLICT (quarter, kind) DO UPDATE SET longest = excluded.longest;
    INSERT INTO cue_quarter (quarter, region, cues, done, likely, undelivered)
        SELECT q, r, sum(ok), sum(ok AND dn), sum(ok AND NOT dn AND lk), sum(NOT ok) FROM (
            SELECT {_QUARTER_OF.format(x="d.t")} AS q, {_REGION_OF.format(c="c.cue_id")} AS r,
                   coalesce(d.delivered = 1, 0) AS ok,
                   EXISTS (SELECT 1 FROM confirmations k WHERE k.delivery_id = c.delivery_id
                           AND k.cue_id = c.cue_id AND k.kind = 'done') AS dn,
                   EXISTS (SELECT 1 FROM confirmations k WHERE k.delivery_id = c.delivery_id
                           AND k.cue_id = c.cue_id AND k.kind = 'likely') AS lk
            FROM deliveries d JOIN delivery_cues c ON c.delivery_id = d.id
        ) GROUP BY q, r;
"""


# ------------------------------------------------------------------ stretches
def pieces(start: float, end: float) -> dict[int, float]:
    """Seconds of [start, end) in each quarter it touches."""
    out: dict[int, float] = {}
    if end <= start:
        return out
    q = quarter(start)
    while True:
        hi = (q + 1) * Q
        out[q] = min(end, hi) - max(start, q * Q)
        if hi >= end:
            return out
        q += 1


def stretch_changes(
    conn: sqlite3.Connection, pending: Mapping[tuple[str, float], float]
) -> list[tuple[str, float, float, float | None]]:
    """(kind, start, new end, old end or None) for the pending stretches that
    will change the database; read BEFORE they are written."""
    out = []
    for (kind, start), end in pending.items():
        row = conn.execute("SELECT end FROM stretches WHERE kind = ? AND start = ?", (kind, start)).fetchone()
        old = None if row is None else float(row[0])
        if old is None or end > old:
            out.append((kind, start, end, old))
    return out


def add_stretches(conn: sqlite3.Connection, changes: Iterable[tuple[str, float, float, float | None]]) -> None:
    """Apply what `stretch_changes` found to stretch_quarter."""
    seconds: dict[tuple[int, str], float] = {}
    longest: dict[tuple[int, str], float] = {}
    for kind, start, end, old in changes:
        lo = start if old is None else max(start, old)
        for q, s in pieces(lo, end).items():
            seconds[(q, kind)] = seconds.get((q, kind), 0.0) + s
        k = (quarter(start), kind)
        longest[k] = max(longest.get(k, 0.0), end - start)
    rows = [(q, k, seconds.get((q, k), 0.0), longest.get((q, k), 0.0)) for q, k in seconds.keys() | longest.keys()]
    conn.executemany(
        "INSERT INTO stretch_quarter (quarter, kind, seconds, longest) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (quarter, kind) DO UPDATE SET seconds = seconds + excluded.seconds, "
        "longest = max(longest, excluded.longest)",
        rows,
    )


# ------------------------------------------------------------------ cues
def cue_figures(conn: sqlite3.Connection, delivery_ids: Iterable[int]) -> dict[tuple[int, str], list[int]]:
    """(quarter, region) -> [cues, done, likely, undelivered] of these cue sets, now."""
    out: dict[tuple[int, str], list[int]] = {}
    ids = sorted(set(delivery_ids))
    for off in range(0, len(ids), 500):
        chunk = ids[off : off + 500]
        marks = ",".join("?" * len(chunk))
        for t, delivered, cue_id, dn, lk in conn.execute(
            "SELECT d.t, d.delivered, c.cue_id,"
            " EXISTS (SELECT 1 FROM confirmations k WHERE k.delivery_id = c.delivery_id"
            "         AND k.cue_id = c.cue_id AND k.kind = 'done'),"
            " EXISTS (SELECT 1 FROM confirmations k WHERE k.delivery_id = c.delivery_id"
            "         AND k.cue_id = c.cue_id AND k.kind = 'likely')"
            f" FROM deliveries d JOIN delivery_cues c ON c.delivery_id = d.id WHERE d.id IN ({marks})",
            chunk,
        ):
            key = (quarter(t), region(cue_id))
            row = out.get(key)
            if row is None:
                row = out[key] = [0, 0, 0, 0]
            if delivered == 1:
                row[0] += 1
                row[1] += bool(dn)
                row[2] += bool(lk and not dn)
            else:
                row[3] += 1
    return out


def apply_cues(
    conn: sqlite3.Connection,
    before: Mapping[tuple[int, str], list[int]],
    after: Mapping[tuple[int, str], list[int]],
) -> None:
    """Add (after - before) to cue_quarter."""
    zero = [0, 0, 0, 0]
    rows = []
    for key in before.keys() | after.keys():
        a, b = after.get(key, zero), before.get(key, zero)
        d = [a[i] - b[i] for i in range(4)]
        if any(d):
            rows.append((*key, *d))
    if rows:
        conn.executemany(
            "INSERT INTO cue_quarter (quarter, region, cues, done, likely, undelivered) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (quarter, region) DO UPDATE SET cues = cues + excluded.cues, done = done + excluded.done, "
            "likely = likely + excluded.likely, undelivered = undelivered + excluded.undelivered",
            rows,
        )
