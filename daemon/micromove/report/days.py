"""Report buckets from `day_sums` (schema 5): one row per local day of the writer.

Standard library only (`mmctl stats` starts fast). A bucket (a day, or a
week of days) is filled from the day rows inside it; one that a day row
straddles (an hour; a day of another time zone than the writer's) is left
for the quarter-hour tables (stats.aggregate), so the figures are exact in
any zone.

From schema 6 a day row stores its regions in the very form the report
shows them, and `day_regions` the same figures as rows. A report for the
JSON writer keeps a bucket of one day row's regions as that text
(StoredRegions, copied unparsed) and sums its totals from day_regions: a
year of days costs no JSON parsing at all.
"""

from __future__ import annotations

import sqlite3

from ..adapters.rollups import REGION_FIELDS, region_figures
from .readmodel import regions_in

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

_DAY_SQL = (
    "SELECT start, end, minutes, keys, clicks, scrolls, moves, distance_px, typing_s, mouse_s, active_s,"
    " longest_typing, longest_mouse, longest_active, cues, done, likely, dismissed, undelivered, regions"
    " FROM day_sums WHERE start >= ? AND start < ?"
)


class StoredRegions(str):
    """A day row's regions as stored (schema 6): their compact JSON, in the
    report's form. A report asked for stored regions holds this, in place of
    the parsed dict, for each bucket that is one day row; a JSON writer
    copies it, anything else can `json.loads` it."""

    __slots__ = ()


def from_days(
    conn: sqlite3.Connection, edges: Sequence[float], out: list[dict[str, Any] | None], version: int, stored: bool = False
) -> list[int]:
    """Fill the buckets that are whole days of day_sums (or runs of
    them); return the numbers of the others: those a day row straddles.
    `version`: the schema's; `stored`: a bucket of one day row keeps its
    regions as StoredRegions (schema 6, and only if no day row straddles)."""
    import bisect

    n = len(edges) - 1
    lo_all, hi_all = edges[0], edges[-1]
    acc: dict[int, dict[str, Any]] = {}
    texts: dict[int, list[str]] = {}
    bad: set[int] = set()
    # A local day is at most 26 hours long: rows from 2 days before can reach in.
    for (start, end, minutes, keys, clicks, scrolls, moves, px, typing, mouse, active, l_typing, l_mouse,
         l_active, cues, done, likely, dismissed, undelivered, text) in conn.execute(
        _DAY_SQL, (lo_all - 2 * 86400, hi_all)
    ):  # fmt: skip
        if end <= lo_all:
            continue
        i = bisect.bisect_right(edges, start) - 1
        if i < 0 or end > edges[i + 1]:  # straddles an edge: those buckets come from the quarters
            j = max(i, 0)
            while j < n and edges[j] < end:
                bad.add(j)
                j += 1
            continue
        o = acc.get(i)
        if o is None:  # the common case: one day row per bucket
            acc[i] = {
                "active_s": active, "typing_s": typing, "mouse_s": mouse, "keys": keys, "clicks": clicks,
                "scrolls": scrolls, "moves": moves, "distance_px": px, "active_minutes": minutes,
                "longest_typing_stretch_s": l_typing, "longest_mouse_stretch_s": l_mouse,
                "longest_active_stretch_s": l_active, "cues": cues, "cues_done": done,
                "cues_likely_done": likely, "cues_dismissed": dismissed, "cues_undelivered": undelivered,
                "regions": None,
            }  # fmt: skip
            texts[i] = [text]
            continue
        o["active_minutes"] += minutes
        o["keys"] += keys
        o["clicks"] += clicks
        o["scrolls"] += scrolls
        o["moves"] += moves
        o["distance_px"] += px
        o["typing_s"] += typing
        o["mouse_s"] += mouse
        o["active_s"] += active
        o["longest_typing_stretch_s"] = max(o["longest_typing_stretch_s"], l_typing)
        o["longest_mouse_stretch_s"] = max(o["longest_mouse_stretch_s"], l_mouse)
        o["longest_active_stretch_s"] = max(o["longest_active_stretch_s"], l_active)
        o["cues"] += cues
        o["cues_done"] += done
        o["cues_likely_done"] += likely
        o["cues_dismissed"] += dismissed
        o["cues_undelivered"] += undelivered
        texts[i].append(text)
    keep = stored and version >= 6 and not bad
    parse: list[int] = []
    for i, o in acc.items():
        own = texts[i]
        if keep and len(own) == 1:
            o["regions"] = StoredRegions(own[0])
        elif all(t == "{}" for t in own):
            o["regions"] = {}
        else:
            parse.append(i)
    if parse:  # every text to parse in one loads
        parsed = iter(_regions([t for i in parse for t in texts[i]], version))
        for i in parse:
            merged: dict[str, dict[str, int]] = {}
            for _ in texts[i]:
                for name, r in next(parsed).items():  # a week of days
                    have = merged.get(name)
                    if have is None:
                        merged[name] = r
                    else:
                        for k in REGION_FIELDS:
                            have[k] += r[k]
            acc[i]["regions"] = merged
    for i, o in acc.items():
        if i not in bad:
            if o["active_minutes"] and not (o["keys"] or o["clicks"] or o["scrolls"] or o["moves"]):
                # Only presence-only minutes have no count at all: not recorded.
                for f in ("keys", "clicks", "scrolls", "moves", "distance_px"):
                    o[f] = None
            out[i] = o
    return sorted(bad)


def region_totals(conn: sqlite3.Connection, lo: float, hi: float) -> dict[str, dict[str, int]]:
    """Per region, the sums of the day rows that start in [lo, hi), in name
    order: the totals of a report whose buckets are all whole day rows.
    From day_regions (schema 6): an index seek per region and a range sum
    over the days shown, no JSON."""
    out: dict[str, dict[str, int]] = {}
    for name in regions_in(conn, "day_regions"):
        cues, done, likely, dismissed = conn.execute(
            "SELECT sum(cues), sum(done), sum(likely), sum(dismissed) FROM day_regions"
            " WHERE region = ? AND start >= ? AND start < ?",
            (name, lo, hi),
        ).fetchone()
        if cues:
            out[name] = region_figures(cues, done, likely, dismissed)
    return out


def _regions(texts: list[str], version: int) -> list[dict[str, dict[str, int]]]:
    """The day rows' regions JSON texts as dicts: one `loads` for all (a
    year of days costs one parse, not 250). Before schema 6 each region is
    put in the report's form: `dismissed` (schema 4) and the derived
    `ignored` added, the figures in order."""
    from json import loads

    parsed: list[dict[str, dict[str, int]]] = loads("[" + ",".join(texts) + "]")
    if version < 6:
        for regions in parsed:
            for name, r in regions.items():
                regions[name] = region_figures(r["cues"], r["done"], r["likely"], r.get("dismissed", 0))
    return parsed
