"""Per-quarter-hour rollups of stretches and cues, kept by the writer (schema 5, 6).

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
  `dismissed` with a `dismissed` one and neither, `undelivered` the rest
  (failed or never answered).

(`activity_quarter`, schema 2, does the same for the per-minute counts, with
triggers.)

- `day_sums` (start, end): the same figures per local day of the writer's
  time zone, [start, end) in UTC epoch seconds: the activity sums, each
  stretch kind's seconds inside the day and longest whole stretch begun in
  it, the cue figures, and per region as a JSON object in the form `mmctl
  stats --json` shows it (schema 6: regions by name, each with `cues`,
  `done`, `likely`, `dismissed` and `ignored`, regions with cues shown
  only: {"hands":{"cues":4,"done":1,"likely":2,"dismissed":0,"ignored":1}}),
  which a report copies as it is. A
  report's day (or week) is the sum of the day rows inside it when no day
  row straddles one of its edges: the reader's zone is the writer's, as
  almost always. Where a row does (hours; another zone; a zone change), that
  bucket is read from the quarters, so the figures are exact either way. These are kept in the writer's own transaction (`Store.flush`),
not by triggers: a stretch spans any number of quarters, and a cue's figures
depend on its delivery and its confirmations together, so the flush works
out what its writes change: for stretches the piece between the old and the
new end (a stretch only ever grows), for cues the figures of each touched
cue set read before and after the writes. Standard library only.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

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


def local_day(t: float) -> tuple[int, int]:
    """[start, end) in UTC epoch seconds of the local day (this process's zone) holding t."""
    d = datetime.fromtimestamp(t).date()
    n = d + timedelta(days=1)
    return int(datetime(d.year, d.month, d.day).timestamp()), int(datetime(n.year, n.month, n.day).timestamp())


# SQL for the same, in the migrating process's zone (SQLite's 'localtime').
_DAY_LO = "CAST(strftime('%s', date({x}, 'unixepoch', 'localtime'), 'utc') AS INTEGER)"
_DAY_HI = "CAST(strftime('%s', date({x}, 'unixepoch', 'localtime', '+1 day'), 'utc') AS INTEGER)"
_DAY_ACTIVITY = (
    "INSERT INTO day_sums (start, end, minutes, keys, clicks, scrolls, moves, distance_px)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (start, end) DO UPDATE SET"
    " minutes = minutes + excluded.minutes, keys = keys + excluded.keys, clicks = clicks + excluded.clicks,"
    " scrolls = scrolls + excluded.scrolls, moves = moves + excluded.moves,"
    " distance_px = distance_px + excluded.distance_px"
)
_DAY_STRETCH = {
    kind: f"INSERT INTO day_sums (start, end, {kind}_s, longest_{kind}) VALUES (?, ?, ?, ?)"
    f" ON CONFLICT (start, end) DO UPDATE SET {kind}_s = {kind}_s + excluded.{kind}_s,"
    f" longest_{kind} = max(longest_{kind}, excluded.longest_{kind})"
    for kind in ("typing", "mouse", "active")
}
# A day row's regions JSON: region name -> these figures, in this order
# (schema 6; before it, the first four only). `ignored` is derived: cues
# shown and neither done, likely done nor dismissed.
REGION_FIELDS = ("cues", "done", "likely", "dismissed", "ignored")


def region_figures(cues: int, done: int, likely: int, dismissed: int) -> dict[str, int]:
    """One region's figures in that form (REGION_FIELDS, `ignored` derived)."""
    return {"cues": cues, "done": done, "likely": likely, "dismissed": dismissed,
            "ignored": cues - done - likely - dismissed}  # fmt: skip

_DAY_CUES = (
    "INSERT INTO day_sums (start, end, cues, done, likely, dismissed, undelivered, regions)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (start, end) DO UPDATE SET cues = cues + excluded.cues, done = done + excluded.done,"
    " likely = likely + excluded.likely, dismissed = dismissed + excluded.dismissed,"
    " undelivered = undelivered + excluded.undelivered,"
    " regions = excluded.regions"
)


class Days:
    """local_day, remembered (a flush asks for the same few days again and again)."""

    __slots__ = ("_known",)

    def __init__(self) -> None:
        self._known: list[tuple[int, int]] = []

    def of(self, t: float) -> tuple[int, int]:
        for lo, hi in self._known:
            if lo <= t < hi:
                return lo, hi
        day = local_day(t)
        if len(self._known) > 64:
            self._known.clear()
        self._known.append(day)
        return day


# Migration 5 (store.MIGRATIONS[4]): the tables, filled from what is there.
MIGRATION = f"""
    CREATE TABLE stretch_quarter (
        quarter INTEGER NOT NULL,                 -- UTC epoch seconds // 900
        kind    TEXT NOT NULL,                    -- typing | mouse | active
        seconds REAL NOT NULL DEFAULT 0,          -- stretch time inside the quarter
        longest REAL NOT NULL DEFAULT 0,          -- longest whole stretch begun in it
        PRIMARY KEY (kind, quarter)               -- a kind's quarters: one range per bucket
    ) WITHOUT ROWID;
    CREATE TABLE cue_quarter (
        quarter     INTEGER NOT NULL,             -- of the cue set's delivery time
        region      TEXT NOT NULL,                -- cue_id before the dot
        cues        INTEGER NOT NULL DEFAULT 0,
        done        INTEGER NOT NULL DEFAULT 0,
        likely      INTEGER NOT NULL DEFAULT 0,
        dismissed   INTEGER NOT NULL DEFAULT 0,
        undelivered INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (region, quarter)             -- a region's quarters: one range per bucket
    ) WITHOUT ROWID;
    CREATE TABLE day_sums (
        start       INTEGER NOT NULL,             -- local midnight (the writer's zone), UTC epoch s
        end         INTEGER NOT NULL,             -- the next local midnight
        minutes     INTEGER NOT NULL DEFAULT 0,   -- as activity_quarter
        keys        INTEGER NOT NULL DEFAULT 0,
        clicks      INTEGER NOT NULL DEFAULT 0,
        scrolls     INTEGER NOT NULL DEFAULT 0,
        moves       INTEGER NOT NULL DEFAULT 0,
        distance_px REAL    NOT NULL DEFAULT 0,
        typing_s    REAL    NOT NULL DEFAULT 0,   -- as stretch_quarter.seconds
        mouse_s     REAL    NOT NULL DEFAULT 0,
        active_s    REAL    NOT NULL DEFAULT 0,
        longest_typing REAL NOT NULL DEFAULT 0,   -- as stretch_quarter.longest
        longest_mouse  REAL NOT NULL DEFAULT 0,
        longest_active REAL NOT NULL DEFAULT 0,
        cues        INTEGER NOT NULL DEFAULT 0,   -- as cue_quarter, all regions
        done        INTEGER NOT NULL DEFAULT 0,
        likely      INTEGER NOT NULL DEFAULT 0,
        dismissed   INTEGER NOT NULL DEFAULT 0,
        undelivered INTEGER NOT NULL DEFAULT 0,
        regions     TEXT    NOT NULL DEFAULT '{{}}', -- JSON: region -> cues, done, likely, dismissed (6: ignored)
        PRIMARY KEY (start, end)
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
        ON CONFLICT (kind, quarter) DO UPDATE SET longest = excluded.longest;
    INSERT INTO cue_quarter (quarter, region, cues, done, likely, dismissed, undelivered)
        SELECT q, r, sum(ok), sum(ok AND dn), sum(ok AND NOT dn AND lk), sum(ok AND NOT dn AND NOT lk AND dm),
               sum(NOT ok) FROM (
            SELECT {_QUARTER_OF.format(x="d.t")} AS q, {_REGION_OF.format(c="c.cue_id")} AS r,
                   coalesce(d.delivered = 1, 0) AS ok,
                   EXISTS (SELECT 1 FROM confirmations k WHERE k.delivery_id = c.delivery_id
                           AND k.cue_id = c.cue_id AND k.kind = 'done') AS dn,
                   EXISTS (SELECT 1 FROM confirmations k WHERE k.delivery_id = c.delivery_id
                           AND k.cue_id = c.cue_id AND k.kind = 'likely') AS lk,
                   EXISTS (SELECT 1 FROM confirmations k WHERE k.delivery_id = c.delivery_id
                           AND k.cue_id = c.cue_id AND k.kind = 'dismissed') AS dm
            FROM deliveries d JOIN delivery_cues c ON c.delivery_id = d.id
        ) GROUP BY q, r;
    INSERT INTO day_sums (start, end, minutes, keys, clicks, scrolls, moves, distance_px)
        SELECT {_DAY_LO.format(x="quarter * 900")}, {_DAY_HI.format(x="quarter * 900")},
               sum(minutes), sum(keys), sum(clicks), sum(scrolls), sum(moves), sum(distance_px)
        FROM activity_quarter WHERE minutes > 0 GROUP BY 1, 2;
    INSERT INTO day_sums (start, end, cues, done, likely, dismissed, undelivered, regions)
        SELECT lo, hi, sum(c), sum(d), sum(l), sum(m), sum(u),
               json_group_object(region, json_object('cues', c, 'done', d, 'likely', l, 'dismissed', m))
                   FILTER (WHERE c > 0)
        FROM (SELECT {_DAY_LO.format(x="quarter * 900")} AS lo, {_DAY_HI.format(x="quarter * 900")} AS hi, region,
                     sum(cues) AS c, sum(done) AS d, sum(likely) AS l,
                     sum(dismissed) AS m, sum(undelivered) AS u
              FROM cue_quarter GROUP BY 1, 2, 3 ORDER BY 1, 2, 3)
        WHERE true GROUP BY lo, hi
        ON CONFLICT (start, end) DO UPDATE SET cues = excluded.cues, done = excluded.done,
            likely = excluded.likely, dismissed = excluded.dismissed, undelivered = excluded.undelivered,
            regions = excluded.regions;
    CREATE TEMP TABLE day_stretch AS
        WITH RECURSIVE piece (kind, lo, hi, start, end) AS (
            SELECT kind, {_DAY_LO.format(x="start")}, {_DAY_HI.format(x="start")}, start, end
            FROM stretches WHERE end > start
            UNION ALL
            SELECT kind, hi, {_DAY_HI.format(x="hi")}, start, end FROM piece WHERE hi < end
        )
        SELECT lo, hi, kind, sum(min(end, hi) - max(start, lo)) AS seconds, 0.0 AS longest
        FROM piece GROUP BY lo, hi, kind
        UNION ALL
        SELECT {_DAY_LO.format(x="start")}, {_DAY_HI.format(x="start")}, kind, 0.0, max(end - start)
        FROM stretches GROUP BY 1, 2, 3;
    INSERT INTO day_sums (start, end, typing_s, mouse_s, active_s, longest_typing, longest_mouse, longest_active)
        SELECT lo, hi,
               sum(CASE kind WHEN 'typing' THEN seconds ELSE 0 END),
               sum(CASE kind WHEN 'mouse' THEN seconds ELSE 0 END),
               sum(CASE kind WHEN 'active' THEN seconds ELSE 0 END),
               max(CASE kind WHEN 'typing' THEN longest ELSE 0 END),
               max(CASE kind WHEN 'mouse' THEN longest ELSE 0 END),
               max(CASE kind WHEN 'active' THEN longest ELSE 0 END)
        FROM day_stretch WHERE true GROUP BY lo, hi
        ON CONFLICT (start, end) DO UPDATE SET typing_s = excluded.typing_s, mouse_s = excluded.mouse_s,
            active_s = excluded.active_s, longest_typing = excluded.longest_typing,
            longest_mouse = excluded.longest_mouse, longest_active = excluded.longest_active;
    DROP TABLE day_stretch;
"""

# Migration 6: the day rows' regions in the form above (by name, each with
# the five figures in order, ignored derived), from what schema 5 stored;
# and `day_regions`, the same figures as rows (region, day), which a report
# sums over the days it shows for its totals without reading any JSON.
MIGRATION_6 = """
    UPDATE day_sums SET regions = (
        SELECT coalesce(json_group_object(name, json_object(
                   'cues', c, 'done', d, 'likely', l, 'dismissed', m, 'ignored', c - d - l - m)), '{}')
        FROM (SELECT key AS name,
                     coalesce(json_extract(value, '$.cues'), 0) AS c,
                     coalesce(json_extract(value, '$.done'), 0) AS d,
                     coalesce(json_extract(value, '$.likely'), 0) AS l,
                     coalesce(json_extract(value, '$.dismissed'), 0) AS m
              FROM json_each(day_sums.regions) ORDER BY key)
        WHERE c > 0
    ) WHERE regions <> '{}';
    CREATE TABLE day_regions (
        region    TEXT    NOT NULL,               -- as cue_quarter
        start     INTEGER NOT NULL,               -- the day row's start and end
        end       INTEGER NOT NULL,
        cues      INTEGER NOT NULL DEFAULT 0,     -- as day_sums.regions, for this region
        done      INTEGER NOT NULL DEFAULT 0,
        likely    INTEGER NOT NULL DEFAULT 0,
        dismissed INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (region, start, end)          -- a region's days: one range for totals
    ) WITHOUT ROWID;
    INSERT INTO day_regions (region, start, end, cues, done, likely, dismissed)
        SELECT j.key, d.start, d.end, json_extract(j.value, '$.cues'), json_extract(j.value, '$.done'),
               json_extract(j.value, '$.likely'), json_extract(j.value, '$.dismissed')
        FROM day_sums d, json_each(d.regions) j;
"""
_DAY_REGION = (
    "INSERT INTO day_regions (region, start, end, cues, done, likely, dismissed) VALUES (?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (region, start, end) DO UPDATE SET cues = excluded.cues, done = excluded.done,"
    " likely = excluded.likely, dismissed = excluded.dismissed"
)


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


def add_stretches(
    conn: sqlite3.Connection, changes: Iterable[tuple[str, float, float, float | None]], days: Days
) -> None:
    """Apply what `stretch_changes` found to stretch_quarter and day_sums."""
    seconds: dict[tuple[int, str], float] = {}
    longest: dict[tuple[int, str], float] = {}
    day_rows: dict[tuple[int, int, str], list[float]] = {}  # (start, end, kind) -> [seconds, longest]
    for kind, start, end, old in changes:
        lo = start if old is None else max(start, old)
        for q, s in pieces(lo, end).items():
            seconds[(q, kind)] = seconds.get((q, kind), 0.0) + s
        k = (quarter(start), kind)
        longest[k] = max(longest.get(k, 0.0), end - start)
        d_lo, d_hi = days.of(start)
        row = day_rows.setdefault((d_lo, d_hi, kind), [0.0, 0.0])
        row[1] = max(row[1], end - start)
        t = lo
        while t < end:  # the new piece, split at the local midnights
            d_lo, d_hi = days.of(t)
            row = day_rows.setdefault((d_lo, d_hi, kind), [0.0, 0.0])
            row[0] += min(end, d_hi) - t
            t = d_hi
    for kind, sql in _DAY_STRETCH.items():
        conn.executemany(sql, [(lo, hi, *v) for (lo, hi, k), v in day_rows.items() if k == kind])
    rows = [(q, k, seconds.get((q, k), 0.0), longest.get((q, k), 0.0)) for q, k in seconds.keys() | longest.keys()]
    conn.executemany(
        "INSERT INTO stretch_quarter (quarter, kind, seconds, longest) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (kind, quarter) DO UPDATE SET seconds = seconds + excluded.seconds, "
        "longest = max(longest, excluded.longest)",
        rows,
    )


# ------------------------------------------------------------------ cues
def cue_figures(conn: sqlite3.Connection, delivery_ids: Iterable[int]) -> dict[tuple[int, str], list[int]]:
    """(quarter, region) -> [cues, done, likely, dismissed, undelivered] of these cue sets, now."""
    out: dict[tuple[int, str], list[int]] = {}
    ids = sorted(set(delivery_ids))
    for off in range(0, len(ids), 500):
        chunk = ids[off : off + 500]
        marks = ",".join("?" * len(chunk))
        for t, delivered, cue_id, dn, lk, dm in conn.execute(
            "SELECT d.t, d.delivered, c.cue_id,"
            " EXISTS (SELECT 1 FROM confirmations k WHERE k.delivery_id = c.delivery_id"
            "         AND k.cue_id = c.cue_id AND k.kind = 'done'),"
            " EXISTS (SELECT 1 FROM confirmations k WHERE k.delivery_id = c.delivery_id"
            "         AND k.cue_id = c.cue_id AND k.kind = 'likely'),"
            " EXISTS (SELECT 1 FROM confirmations k WHERE k.delivery_id = c.delivery_id"
            "         AND k.cue_id = c.cue_id AND k.kind = 'dismissed')"
            f" FROM deliveries d JOIN delivery_cues c ON c.delivery_id = d.id WHERE d.id IN ({marks})",
            chunk,
        ):
            key = (quarter(t), region(cue_id))
            row = out.get(key)
            if row is None:
                row = out[key] = [0, 0, 0, 0, 0]
            if delivered == 1:
                row[0] += 1
                row[1] += bool(dn)
                row[2] += bool(lk and not dn)
                row[3] += bool(dm and not dn and not lk)
            else:
                row[4] += 1
    return out


def apply_cues(
    conn: sqlite3.Connection,
    before: Mapping[tuple[int, str], list[int]],
    after: Mapping[tuple[int, str], list[int]],
    days: Days,
) -> None:
    """Add (after - before) to cue_quarter and day_sums."""
    zero = [0, 0, 0, 0, 0]
    rows = []
    day_rows: dict[tuple[int, int, str], list[int]] = {}
    for key in before.keys() | after.keys():
        a, b = after.get(key, zero), before.get(key, zero)
        d = [a[i] - b[i] for i in range(5)]
        if any(d):
            rows.append((*key, *d))
            lo, hi = days.of(key[0] * Q)
            acc = day_rows.setdefault((lo, hi, key[1]), [0, 0, 0, 0, 0])
            for i in range(5):
                acc[i] += d[i]
    if day_rows:
        _day_cues(conn, day_rows)
    if rows:
        conn.executemany(
            "INSERT INTO cue_quarter (quarter, region, cues, done, likely, dismissed, undelivered)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (region, quarter) DO UPDATE SET cues = cues + excluded.cues, done = done + excluded.done, "
            "likely = likely + excluded.likely, dismissed = dismissed + excluded.dismissed, "
            "undelivered = undelivered + excluded.undelivered",
            rows,
        )


def _day_cues(conn: sqlite3.Connection, changes: Mapping[tuple[int, int, str], list[int]]) -> None:
    """Add per-(day, region) changes to day_sums (the sums, and its regions
    JSON: read, changed, written back; a region without cues shown leaves it)
    and to day_regions, which holds the same per-region figures as rows."""
    import json

    per_day: dict[tuple[int, int], dict[str, list[int]]] = {}
    for (lo, hi, name), d in changes.items():
        per_day.setdefault((lo, hi), {})[name] = d
    rows = []
    region_rows = []
    gone = []
    for (lo, hi), regions in per_day.items():
        row = conn.execute("SELECT regions FROM day_sums WHERE start = ? AND end = ?", (lo, hi)).fetchone()
        have: dict[str, dict[str, int]] = json.loads(row[0]) if row else {}
        total = [0, 0, 0, 0, 0]
        for name, d in regions.items():
            for i in range(5):
                total[i] += d[i]
            r = have.get(name, {})
            cues, done, likely, dismissed = (r.get(k, 0) + d[i] for i, k in enumerate(REGION_FIELDS[:4]))
            if cues:
                have[name] = region_figures(cues, done, likely, dismissed)
                region_rows.append((name, lo, hi, cues, done, likely, dismissed))
            else:
                have.pop(name, None)
                gone.append((name, lo, hi))
        # Regions by name, each one's figures in the documented order: the
        # form the reader shows, so that it copies the text as it is.
        have = dict(sorted(have.items()))
        rows.append((lo, hi, *total, json.dumps(have, separators=(",", ":"))))
    conn.executemany(_DAY_CUES, rows)
    conn.executemany(_DAY_REGION, region_rows)
    conn.executemany("DELETE FROM day_regions WHERE region = ? AND start = ? AND end = ?", gone)


# ------------------------------------------------------------------ activity
def add_activity(conn: sqlite3.Connection, counts: Mapping[int, list[float]], days: Days) -> None:
    """Add pending per-minute counts to day_sums; read BEFORE the minutes are
    written (a minute already there adds its counts, not a minute)."""
    minutes = sorted(counts)
    known: set[int] = set()
    for off in range(0, len(minutes), 500):
        chunk = minutes[off : off + 500]
        marks = ",".join("?" * len(chunk))
        known.update(m for (m,) in conn.execute(f"SELECT minute FROM activity WHERE minute IN ({marks})", chunk))
    day_rows: dict[tuple[int, int], list[float]] = {}
    for m in minutes:
        row = counts[m]
        lo, hi = days.of(m * 60)
        acc = day_rows.setdefault((lo, hi), [0, 0, 0, 0, 0, 0.0])
        acc[0] += m not in known
        for i in range(5):
            acc[1 + i] += row[i]
    conn.executemany(_DAY_ACTIVITY, [(lo, hi, *v) for (lo, hi), v in day_rows.items()])
