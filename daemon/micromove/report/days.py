"""Report buckets from `day_sums` (schema 5): one row per local day of the writer.

Standard library only (`mmctl stats` starts fast). A bucket (a day, or a
week of days) is filled from the day rows inside it; one that a day row
straddles (an hour; a day of another time zone than the writer's) is left
for the quarter-hour tables (stats.aggregate), so the figures are exact in
any zone.
"""

from __future__ import annotations

import sqlite3

from ..adapters.rollups import REGION_FIELDS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

_DAY_SQL = (
    "SELECT start, end, minutes, keys, clicks, scrolls, moves, distance_px, typing_s, mouse_s, active_s,"
    " longest_typing, longest_mouse, longest_active, cues, done, likely, dismissed, undelivered, regions"
    " FROM day_sums WHERE start >= ? AND start < ?"
)


def from_days(conn: sqlite3.Connection, edges: Sequence[float], out: list[dict[str, Any]]) -> list[int]:
    """Fill the buckets that are whole days of day_sums (or runs of
    them); return the numbers of the others: those a day row straddles."""
    import bisect

    n = len(edges) - 1
    lo_all, hi_all = edges[0], edges[-1]
    acc: dict[int, dict[str, Any]] = {}
    bad: set[int] = set()
    # A local day is at most 26 hours long: rows from 2 days before can reach in.
    rows = conn.execute(_DAY_SQL, (lo_all - 2 * 86400, hi_all)).fetchall()
    for (start, end, minutes, keys, clicks, scrolls, moves, px, typing, mouse, active, l_typing, l_mouse,
         l_active, cues, done, likely, dismissed, undelivered, _text), regions in zip(
        rows, _regions([row[-1] for row in rows]), strict=True
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
                "regions": regions,
            }  # fmt: skip
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
        for name, r in regions.items():  # a week of days
            have = o["regions"].get(name)
            if have is None:
                o["regions"][name] = r
            else:
                for k in REGION_KEYS:
                    have[k] += r[k]
    for i, o in acc.items():
        if i not in bad:
            if o["active_minutes"] and not (o["keys"] or o["clicks"] or o["scrolls"] or o["moves"]):
                # Only presence-only minutes have no count at all: not recorded.
                for f in ("keys", "clicks", "scrolls", "moves", "distance_px"):
                    o[f] = None
            out[i] = o
    return sorted(bad)


# Per region, each delivered cue counts once: done, else likely, else dismissed, else ignored.
REGION_KEYS = (*REGION_FIELDS, "ignored")


def _regions(texts: list[str]) -> list[dict[str, dict[str, int]]]:
    """The day rows' regions JSON texts as dicts, each region with `dismissed`
    and the derived `ignored`: one `loads` for all (a year of days costs one
    parse, not 250)."""
    if all(t == "{}" for t in texts):
        return [{} for _ in texts]
    from json import loads

    parsed: list[dict[str, dict[str, int]]] = loads("[" + ",".join(texts) + "]")
    for regions in parsed:
        for r in regions.values():
            dismissed = r.get("dismissed")
            if dismissed is None:
                r["dismissed"] = dismissed = 0
            r["ignored"] = r["cues"] - r["done"] - r["likely"] - dismissed
    return parsed
