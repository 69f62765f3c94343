"""Local-day (or hour, or week) figures from the database (docs/stats.md lists them).

Standard library only, and little of it: `mmctl stats` has to start fast.

Every figure is aggregated by SQLite over ranges of the primary key or an
index, one query per kind of figure for all buckets at once: the buckets
(local days, hours or ISO weeks) are a small VALUES table of UTC boundaries
computed here with the system time zone (TZ honoured), so a 23- or 25-hour
DST day is exactly as long as it was on the wall clock.

Where the figures come from (schema 5 and 6, adapters/rollups.py): a day or
week from the writer's day rows (report/days.py, one row per day; from
schema 6 their regions as stored text and their per-region totals from
day_regions); any other bucket (hours, a day of another zone) from range
sums over the quarter-hour tables; a database before schema 5 (or a zone
whose hours are not whole quarter hours) from the raw rows, as described
here. All three agree:

- Counts (keys, clicks, scrolls, moves, distance) are summed from the
  per-minute rows whose minute begins inside a bucket.
- Stretch time (active_s, typing_s, mouse_s) is the summed length, first to
  latest event, of the stretches, each split at bucket boundaries: the part
  in the bucket where it began comes from one grouped query, the rare part
  that runs past the boundary is spread over the following buckets here.
- Presence only: a bucket whose minutes with input all came from a source
  that cannot count (a Wayland compositor's idle interface: schema 3 marks
  them `presence`; they are the only rows with no counts) has its counts
  `None` ("not recorded"), while its stretch time is real. Totals are None
  only when no bucket recorded counts.
- The longest stretch of a day or week is the longest that began in it, with
  its whole length. Hour rows leave it out (see HOUR_FIELDS).
- Cues are counted one by one (a set of three counts three) in the bucket of
  their delivery: `cues` those shown (delivered = 1), `cues_undelivered` those
  that failed or never got an answer, `cues_done` delivered cues confirmed
  done, `cues_likely_done` delivered cues inferred done and not confirmed,
  `cues_dismissed` delivered cues whose notification the person closed and
  that are neither done nor likely done (so done, likely and dismissed never
  overlap).
"""

from __future__ import annotations

import math
import sqlite3
from datetime import date, datetime, timedelta
from operator import itemgetter

from ..adapters.rollups import REGION_FIELDS, region_figures
from ..timefmt import local_date, local_midnight
from .days import StoredRegions
from .readmodel import cue_outcomes, has_schema, regions_in, schema_version
from .readmodel import has_table as _has_table

TYPE_CHECKING = False  # typing is not imported at run time: `mmctl stats` starts fast
if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from typing import Any

# Scalar fields of a bucket, in output order (after its label).
FIELDS: tuple[str, ...] = (
    "active_s",
    "typing_s",
    "mouse_s",
    "keys",
    "clicks",
    "scrolls",
    "moves",
    "distance_px",
    "active_minutes",
    "longest_typing_stretch_s",
    "longest_mouse_stretch_s",
    "longest_active_stretch_s",
    "cues",
    "cues_done",
    "cues_likely_done",
    "cues_dismissed",
    "cues_undelivered",
)
# Hour rows leave the longest stretches out: a stretch is longer than an hour
# as often as not, and its length belongs to no one hour (issue 11).
HOUR_FIELDS: tuple[str, ...] = tuple(f for f in FIELDS if not f.startswith("longest_"))
_LONGEST = {"typing": "longest_typing_stretch_s", "mouse": "longest_mouse_stretch_s", "active": "longest_active_stretch_s"}
_TIME = {"typing": "typing_s", "mouse": "mouse_s", "active": "active_s"}
# Counts a presence-only source cannot record: None in such a bucket.
COUNT_FIELDS: tuple[str, ...] = ("keys", "clicks", "scrolls", "moves", "distance_px")
_CHUNK = 900  # buckets per query (3 parameters each: well under SQLite's limit)


def empty_bucket() -> dict[str, Any]:
    b: dict[str, Any] = dict.fromkeys(FIELDS, 0)
    for f in ("active_s", "typing_s", "mouse_s", "distance_px"):
        b[f] = 0.0
    for f in _LONGEST.values():
        b[f] = 0.0
    b["regions"] = {}
    return b


# ------------------------------------------------------------------ buckets
def day_edges(first: date, last: date) -> tuple[list[str], list[float]]:
    """Labels and n+1 boundaries of the local days first..last."""
    labels: list[str] = []
    edges: list[float] = []
    d = first
    one = timedelta(days=1)
    while d <= last:
        labels.append(d.isoformat())
        edges.append(local_midnight(d))
        d += one
    edges.append(local_midnight(d))
    return labels, edges


def week_edges(first: date, last: date) -> tuple[list[str], list[float]]:
    """ISO weeks (Monday to Sunday) covering first..last."""
    labels: list[str] = []
    edges: list[float] = []
    d = first - timedelta(days=first.weekday())
    week = timedelta(days=7)
    while d <= last:
        y, w, _ = d.isocalendar()
        labels.append(f"{y}-W{w:02d}")
        edges.append(local_midnight(d))
        d += week
    edges.append(local_midnight(d))
    return labels, edges


def hour_edges(first: date, last: date) -> tuple[list[str], list[float]]:
    """Local wall-clock hours of first..last. A skipped hour (spring DST)
    has no bucket; a repeated one (autumn) is one bucket of two hours."""
    labels: list[str] = []
    edges: list[float] = []
    d = first
    one = timedelta(days=1)
    while d <= last:
        for h in range(24):
            t = datetime(d.year, d.month, d.day, h).timestamp()
            if edges and t <= edges[-1]:
                continue
            labels.append(f"{d.isoformat()}T{h:02d}")
            edges.append(t)
        d += one
    edges.append(local_midnight(d))
    return labels, edges


def data_span(conn: sqlite3.Connection) -> tuple[float, float] | None:
    """UTC epoch seconds of the first and latest thing recorded, or None."""
    row = conn.execute(
        "SELECT (SELECT min(minute) FROM activity) * 60, (SELECT max(minute) FROM activity) * 60 + 59,"
        " (SELECT min(start) FROM stretches), (SELECT max(end) FROM stretches),"
        " (SELECT min(t) FROM deliveries), (SELECT max(t) FROM deliveries)"
    ).fetchone()
    lows = [v for v in row[0::2] if v is not None]
    highs = [v for v in row[1::2] if v is not None]
    if not lows:
        return None
    return float(min(lows)), float(max(highs))


# -------------------------------------------------------------- aggregation
def _chunks(edges: Sequence[float], only: Sequence[int] | None = None) -> Iterator[tuple[int, str, list[float]]]:
    """(offset, VALUES sql, params) for the buckets [edges[i], edges[i+1])
    (those numbered in `only`, when given)."""
    todo = range(len(edges) - 1) if only is None else only
    for off in range(0, len(todo), _CHUNK):
        part = todo[off : off + _CHUNK]
        params: list[float] = []
        for i in part:
            params += (i, edges[i], edges[i + 1])
        values = ",".join(["(?,?,?)"] * len(part))
        yield off, f"WITH b(i, lo, hi) AS (VALUES {values}) ", params


def aggregate(conn: sqlite3.Connection, edges: Sequence[float], stored: bool = False) -> list[dict[str, Any]]:
    """One bucket dict per [edges[i], edges[i+1]) (UTC epoch seconds, increasing, contiguous).
    `stored`: see report()."""
    n = len(edges) - 1
    empty = empty_bucket()
    if n <= 0:
        return []
    # Schema 5: whole local days of the writer's zone (and weeks of them)
    # from one row per day and figure; the rest from the quarter hours.
    todo: list[int] | None = None
    filled: list[dict[str, Any] | None] = [None] * n
    if _has_table(conn, "day_sums"):
        from .days import from_days

        todo = from_days(conn, edges, filled, schema_version(conn), stored)
    # The others start empty: no day row, or filled from the quarters below.
    out = [{**empty, "regions": {}} if o is None else o for o in filled]
    if todo == []:
        return _sorted_regions(out)
    # A minute belongs to the bucket its first second falls in. Where every
    # edge is a UTC quarter hour (every real time zone's midnights and hours
    # are) and the database keeps quarter sums (schema 2), read those: a
    # fifteenth of the rows.
    quarters = all(e % 900 == 0 for e in edges)
    if quarters and _has_table(conn, "activity_quarter"):
        table, unit, col, edges_in = "activity_quarter", 900, "quarter", edges
        minutes_sql = "sum(a.minutes)"
    else:
        table, unit, col, edges_in = "activity", 60, "minute", edges
        minutes_sql = "count(*)"
    unit_edges = [float(math.ceil(e / unit)) for e in edges_in]
    # One correlated range sum per bucket: no GROUP BY sort over the rows.
    for _off, head, params in _chunks(unit_edges, todo):
        for i, packed in conn.execute(
            head + f"SELECT b.i, (SELECT {minutes_sql} || ' ' || sum(a.keys) || ' ' || sum(a.clicks) || ' ' ||"
            " sum(a.scrolls) || ' ' || sum(a.moves) || ' ' || sum(a.distance_px)"
            f" FROM {table} a WHERE a.{col} >= b.lo AND a.{col} < b.hi) FROM b",
            params,
        ):
            if packed is None:  # no row in the bucket (the sums are NULL)
                continue
            minutes, keys, clicks, scrolls, moves, px = packed.split(" ")
            if not int(minutes):
                continue
            o = out[i]
            o["active_minutes"] = int(minutes)
            if keys == clicks == scrolls == moves == "0":
                # Only presence-only minutes have no count at all.
                for f in COUNT_FIELDS:
                    o[f] = None
                continue
            o["keys"] = int(keys)
            o["clicks"] = int(clicks)
            o["scrolls"] = int(scrolls)
            o["moves"] = int(moves)
            o["distance_px"] = float(px)

    if quarters and _has_table(conn, "cue_quarter"):  # schema 5: rollups of stretches and cues
        _from_quarters(conn, edges, out, todo)
    else:
        raw = out if todo is None else [empty_bucket() for _ in range(n)]
        _stretches_from_rows(conn, edges, raw)
        _cues_from_rows(conn, edges, raw)
        if raw is not out:
            for i in todo or ():
                for f in (*_TIME.values(), *_LONGEST.values(), "cues", "cues_done", "cues_likely_done",
                          "cues_dismissed", "cues_undelivered", "regions"):  # fmt: skip
                    out[i][f] = raw[i][f]
    return _sorted_regions(out)


def _sorted_regions(out: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for o in out:
        if type(o["regions"]) is not StoredRegions:  # a stored day row's are in order already
            o["regions"] = dict(sorted(o["regions"].items()))
    return out


def _from_quarters(
    conn: sqlite3.Connection, edges: Sequence[float], out: list[dict[str, Any]], only: Sequence[int] | None = None
) -> None:
    """Stretch time, longest stretches and cue figures per bucket from
    stretch_quarter and cue_quarter: for each bucket, one primary-key range
    sum per stretch kind and per region (no sorting, no row in Python)."""
    regions = regions_in(conn, "cue_quarter")
    kinds = tuple(_TIME)
    cols = [
        "(SELECT sum(s.seconds) || ' ' || max(s.longest) FROM stretch_quarter s"
        f" WHERE s.kind = '{k}' AND s.quarter >= b.lo AND s.quarter < b.hi)"
        for k in kinds
    ] + [
        "(SELECT sum(c.cues) || ' ' || sum(c.done) || ' ' || sum(c.likely) || ' ' || sum(c.dismissed)"
        " || ' ' || sum(c.undelivered)"
        " FROM cue_quarter c WHERE c.region = ? AND c.quarter >= b.lo AND c.quarter < b.hi)"
    ] * len(regions)
    nk = len(kinds)
    for _off, head, params in _chunks([e / 900 for e in edges], only):
        for row in conn.execute(head + f"SELECT b.i, {', '.join(cols)} FROM b", [*params, *regions]):
            o = out[row[0]]
            for j in range(nk):
                packed = row[1 + j]
                if packed is not None:
                    seconds, longest = packed.split(" ")
                    o[_TIME[kinds[j]]] += float(seconds)
                    o[_LONGEST[kinds[j]]] = max(o[_LONGEST[kinds[j]]], float(longest))
            for j, name in enumerate(regions):
                packed = row[1 + nk + j]
                if packed is None:
                    continue
                cues, done, likely, dismissed, undelivered = map(int, packed.split(" "))
                o["cues_undelivered"] += undelivered
                if cues:
                    o["cues"] += cues
                    o["cues_done"] += done
                    o["cues_likely_done"] += likely
                    o["cues_dismissed"] += dismissed
                    o["regions"][name] = region_figures(cues, done, likely, dismissed)


def _stretches_from_rows(conn: sqlite3.Connection, edges: Sequence[float], out: list[dict[str, Any]]) -> None:
    """Stretch time and longest stretches per bucket from the stretches themselves
    (a database before schema 5, or buckets that are not whole quarter hours)."""
    n = len(edges) - 1
    spill: list[tuple[int, str, float]] = []
    for _off, head, params in _chunks(edges):
        for i, kind, part, longest in conn.execute(
            head + "SELECT b.i, s.kind, sum(min(s.end, b.hi) - s.start), max(s.end - s.start)"
            " FROM b CROSS JOIN stretches s ON s.start >= b.lo AND s.start < b.hi GROUP BY b.i, s.kind",
            params,
        ):
            if kind in _TIME:
                out[i][_TIME[kind]] += part
                out[i][_LONGEST[kind]] = max(out[i][_LONGEST[kind]], longest)
        spill += conn.execute(
            head + "SELECT b.i, s.kind, s.end FROM b CROSS JOIN stretches s"
            " ON s.start >= b.lo AND s.start < b.hi WHERE s.end > b.hi",
            params,
        ).fetchall()
    # Stretches that began before the first bucket and run into it.
    for kind, end in conn.execute(
        "SELECT kind, end FROM stretches WHERE end > ? AND start < ?", (edges[0], edges[0])
    ):
        spill.append((-1, kind, end))
    for i, kind, end in spill:
        if kind not in _TIME:
            continue
        j = i + 1
        while j < n and end > edges[j]:
            out[j][_TIME[kind]] += min(end, edges[j + 1]) - edges[j]
            j += 1



def _cues_from_rows(conn: sqlite3.Connection, edges: Sequence[float], out: list[dict[str, Any]]) -> None:
    """Cue figures per bucket and region from the deliveries, cue by cue."""
    # Cues: one pass over the delivered cues in the range, in time order,
    # each with whether it was confirmed done / likely done; bucketed here.
    import bisect

    for t, ok, cue_id, done, likely, dismissed in cue_outcomes(conn, edges[0], edges[-1]):
        o = out[bisect.bisect_right(edges, t) - 1]
        if not ok:
            o["cues_undelivered"] += 1
            continue
        o["cues"] += 1
        o["cues_done"] += done
        o["cues_likely_done"] += likely
        o["cues_dismissed"] += dismissed
        region = cue_id.partition(".")[0]
        r = o["regions"].get(region)
        if r is None:
            r = o["regions"][region] = dict.fromkeys(REGION_FIELDS, 0)
        r["cues"] += 1
        r["done"] += done
        r["likely"] += likely
        r["dismissed"] += dismissed
        r["ignored"] += not (done or likely or dismissed)


def _has_data(b: dict[str, Any]) -> bool:
    return bool(
        b["active_minutes"]
        or b["active_s"]
        or b["typing_s"]
        or b["mouse_s"]
        or b["longest_active_stretch_s"]
        or b["longest_typing_stretch_s"]
        or b["longest_mouse_stretch_s"]
        or b["cues"]
        or b["cues_undelivered"]
    )


def _tidy(b: dict[str, Any]) -> dict[str, Any]:
    for f in ("active_s", "typing_s", "mouse_s", *_LONGEST.values()):
        b[f] = round(float(b[f]), 3)
    if b["distance_px"] is not None:
        b["distance_px"] = round(float(b["distance_px"]), 1)
    return b


def totals(buckets: Sequence[dict[str, Any]], regions: dict[str, dict[str, int]] | None = None) -> dict[str, Any]:
    """Sums over the buckets; the longest stretches are the longest of any
    bucket. `regions`: the per-region sums, when the caller has them (else
    summed here)."""
    t = empty_bucket()
    if buckets:
        # Column by column over all buckets at once: a year of days is 250 rows.
        columns = zip(*map(_TOTAL_GET, buckets), strict=True)
        for f, col in zip(FIELDS, columns, strict=True):
            if f in _LONGEST_SET:
                t[f] = max(t[f], *col)
            elif f in _COUNT_SET:
                t[f] = sum([v for v in col if v is not None], t[f])
            else:
                t[f] = sum(col, t[f])
    if regions is None:
        per_region: dict[str, list[dict[str, int]]] = {}
        for b in buckets:
            have = b["regions"]
            if type(have) is StoredRegions:
                from json import loads

                have = loads(have)
            for name, r in have.items():
                rows = per_region.get(name)
                if rows is None:
                    per_region[name] = [r]
                else:
                    rows.append(r)
        regions = {
            name: dict(zip(REGION_FIELDS, map(sum, zip(*map(_REGION_GET, rows), strict=True)), strict=True))
            for name, rows in sorted(per_region.items())
        }
    t["regions"] = regions
    if buckets and all(b["keys"] is None for b in buckets):
        for f in COUNT_FIELDS:
            t[f] = None
    return _tidy(t)


_TOTAL_GET = itemgetter(*FIELDS)
_LONGEST_SET = frozenset(_LONGEST.values())
_COUNT_SET = frozenset(COUNT_FIELDS)
_REGION_GET = itemgetter(*REGION_FIELDS)


BY = {"day": ("date", day_edges), "week": ("week", week_edges), "hour": ("hour", hour_edges)}


def report(
    conn: sqlite3.Connection,
    since: date | None = None,
    until: date | None = None,
    by: str = "day",
    stored: bool = False,
) -> dict[str, Any]:
    """{"days": [DAY, ...], "totals": DAY without its date} (docs/stats.md).

    With by="week" or "hour" the list is "weeks" / "hours" and each entry is
    labelled "week" (ISO, 2026-W10) or "hour" (local, 2026-03-02T09).
    Only buckets with any activity, stretch or cue appear, in time order;
    `since`/`until` are inclusive local dates.

    `stored` (for a JSON writer): a bucket that is one stored day row may
    hold its `regions` as StoredRegions, their JSON text, instead of a dict;
    its JSON is the same.
    """
    key, edges_of = BY[by]
    listed = key + "s" if by != "day" else "days"
    span = data_span(conn) if has_schema(conn) else None
    buckets: list[dict[str, Any]] = []
    if span is not None:
        first = max(local_date(span[0]), since) if since else local_date(span[0])
        last = min(local_date(span[1]), until) if until else local_date(span[1])
        if first <= last:
            labels, edges = edges_of(first, last)
            lo = local_midnight(first)
            hi = local_midnight(last + timedelta(days=1))
            if by == "week":  # clip the outer weeks to since/until
                edges[0], edges[-1] = lo, hi
            for label, b in zip(labels, aggregate(conn, edges, stored), strict=True):
                if _has_data(b):
                    buckets.append({key: label, **_tidy(b)})
    regions = None
    if any(type(b["regions"]) is StoredRegions for b in buckets):
        # Only when no day row straddles a bucket: the day rows in the range are the buckets'.
        from .days import region_totals

        regions = region_totals(conn, edges[0], edges[-1])
    total = totals(buckets, regions)
    if by == "hour":
        for b in buckets:
            for f in _LONGEST.values():
                del b[f]
    return {listed: buckets, "totals": total}


def fields(by: str = "day") -> tuple[str, ...]:
    """The scalar fields of one row of a report by `by`, in output order."""
    return HOUR_FIELDS if by == "hour" else FIELDS


def report_empty(by: str = "day") -> dict[str, Any]:
    """The report of a database with nothing in it."""
    key = BY[by][0]
    return {key + "s" if by != "day" else "days": [], "totals": totals([])}
