"""`mmctl stats` for a person: tables, an hour-by-day heatmap and the trend of
cues done per day, from the report (stats.report) (docs/stats.md).

Standard library only, as stats: `mmctl stats` has to start fast.
"""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta

from ..adapters.rollups import REGION_FIELDS
from ..timefmt import format_duration, local_date
from .readmodel import has_schema
from .stats import BY, data_span, report

TYPE_CHECKING = False  # typing is not imported at run time: `mmctl stats` starts fast
if TYPE_CHECKING:
    from typing import Any

_BLOCKS = " ▁▂▃▄▅▆▇█"
_SPARK = "▁▂▃▄▅▆▇█"


def fmt_duration(s: float) -> str:
    return format_duration(s, compact=True)


NOT_RECORDED = "n/r"
PRESENCE_NOTE = (
    f"{NOT_RECORDED}: counts not recorded: input was watched through the compositor's idle "
    "interface (presence only), which sees activity but not keys or clicks"
)


def _num(n: float | None) -> str:
    return NOT_RECORDED if n is None else f"{int(n):,}"


def _table(rows: list[tuple[str, dict[str, Any] | None]], longest: bool = True) -> list[str]:
    head: tuple[str, ...] = ("", "active", "typing", "mouse", "keys", "clicks", "scrolls", "longest typing", "longest mouse", "cues", "done", "likely", "dismissed")
    if not longest:
        head = head[:7] + head[9:]
    body: list[tuple[str, ...]] = []
    for label, b in rows:
        if b is None:
            body.append((label, "-", *([""] * (len(head) - 2))))
            continue
        cells = [
            label,
            fmt_duration(b["active_s"]),
            fmt_duration(b["typing_s"]),
            fmt_duration(b["mouse_s"]),
            _num(b["keys"]),
            _num(b["clicks"]),
            _num(b["scrolls"]),
        ]
        if longest:
            cells += [fmt_duration(b["longest_typing_stretch_s"]), fmt_duration(b["longest_mouse_stretch_s"])]
        cells += [_num(b["cues"]), _num(b["cues_done"]), _num(b["cues_likely_done"]), _num(b["cues_dismissed"])]
        body.append(tuple(cells))
    widths = [max(len(r[i]) for r in (head, *body)) for i in range(len(head))]
    lines = []
    for r in (head, *body):
        cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)]
        lines.append("  ".join(cells).rstrip())
    return lines


def _regions_line(regions: dict[str, dict[str, int]]) -> str:
    if not regions:
        return "Cues by region: none delivered"
    parts = []
    for name, r in regions.items():
        extra = [f"{r['done']} done"] if r["done"] else []
        if r["likely"]:
            extra.append(f"{r['likely']} likely")
        parts.append(f"{name} {r['cues']}" + (f" ({', '.join(extra)})" if extra else ""))
    return "Cues by region: " + ", ".join(parts)


def _moved(r: dict[str, int]) -> float | None:
    """Share of a region's cues answered (done or likely done), None without cues."""
    return (r["done"] + r["likely"]) / r["cues"] if r["cues"] else None


def region_trend(now: dict[str, int], before: dict[str, int] | None) -> str:
    """How the share answered moved since the period before: '55% ↑ from 40%'."""
    m = _moved(now)
    if m is None:
        return "-"
    was = _moved(before) if before else None
    if was is None:
        return f"{m:.0%} (new)"
    arrow = "↑" if m > was + 0.05 else "↓" if m < was - 0.05 else "="
    return f"{m:.0%} {arrow} from {was:.0%}"


def _regions_table(
    regions: dict[str, dict[str, int]],
    today: dict[str, dict[str, int]] | None,
    period: str,
    before: dict[str, dict[str, int]] | None = None,
) -> list[str]:
    """Per body region: cues delivered, answered (done), likely done, dismissed,
    ignored, the share answered and its trend against the period before (and
    today's cues, done and likely, when shown)."""
    if not regions and not today:
        return ["Cues by region: none delivered"]
    names = sorted(set(regions) | set(today or {}))
    head = ["Cues by region", f"{period}: cues", "done", "likely", "dismissed", "ignored", "answered, trend"]
    if today is not None:
        head += ["today: cues", "done", "likely"]
    zero = dict.fromkeys(REGION_FIELDS, 0)
    body = []
    for name in names:
        r = regions.get(name, zero)
        row = [
            f"  {name}", _num(r["cues"]), _num(r["done"]), _num(r["likely"]), _num(r["dismissed"]),
            _num(r["ignored"]), region_trend(r, (before or {}).get(name)),
        ]  # fmt: skip
        if today is not None:
            t = today.get(name, zero)
            row += [_num(t["cues"]), _num(t["done"]), _num(t["likely"])]
        body.append(row)
    widths = [max(len(r[i]) for r in (head, *body)) for i in range(len(head))]
    return [
        "  ".join([r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)]).rstrip()
        for r in (head, *body)
    ]


def _heatmap(conn: sqlite3.Connection, first: date, last: date) -> list[str]:
    hours = report(conn, first, last, by="hour")["hours"]
    per: dict[str, dict[int, int]] = {}
    for h in hours:
        d, hh = h["hour"].split("T")
        per.setdefault(d, {})[int(hh)] = h["active_minutes"]
    lines = [
        "Activity by hour (minutes with input in the hour: '·' none, '▁' a few ... '█' all 60)",
        "            " + "".join(f"{h:<3d}" for h in range(0, 24, 3)).rstrip(),
    ]
    d = first
    while d <= last:
        row = per.get(d.isoformat(), {})
        cells = "".join(
            _BLOCKS[min(8, -(-row[h] * 8 // 60))] if row.get(h) else "·" for h in range(24)
        )
        lines.append(f"{d.strftime('%a')} {d.strftime('%m-%d')}   {cells}")
        d += timedelta(days=1)
    return lines


def _trend(days: list[dict[str, Any]]) -> str:
    if not days:
        return "Cues done per day: no days recorded"
    vals = [d["cues_done"] for d in days]
    top = max(vals)
    spark = "".join(_SPARK[(v * 7) // top] if top else _SPARK[0] for v in vals)
    n = len(vals)
    if n >= 2:
        xs = range(n)
        mx = (n - 1) / 2
        my = sum(vals) / n
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, vals, strict=True)) / sum((x - mx) ** 2 for x in xs)
        word = "rising" if slope > 0.05 else "falling" if slope < -0.05 else "steady"
        how = f"{word} ({slope:+.2f} a day)"
    else:
        how = "one day so far"
    return f"Cues done per day ({days[0]['date']} to {days[-1]['date']}): {spark}  {' '.join(map(str, vals))}  {how}"


def render_human(
    conn: sqlite3.Connection,
    rep: dict[str, Any],
    path: str,
    since: date | None,
    until: date | None,
    by: str = "day",
) -> str:
    """The same figures as the report, for a person."""
    span = data_span(conn) if has_schema(conn) else None
    if span is None:
        return f"no data yet in {path}: micromove records once `mmctl run` is watching input\n"
    out = [f"micromove stats: {path}"]
    if by != "day":
        key = BY[by][0]
        listed = rep[key + "s"]
        if not listed:
            return out[0] + "\nnothing recorded in that range\n"
        table = _table([(r[key], r) for r in listed] + [("total", rep["totals"])], longest=by != "hour")
        if any(r["keys"] is None for r in listed):
            table.append(PRESENCE_NOTE)
        return "\n".join([*out, "", *table, "", _regions_line(rep["totals"]["regions"])]) + "\n"

    today = date.today()
    if since is None and until is None:
        end = today
        first = end - timedelta(days=6)
        if not report(conn, first, end)["days"]:
            end = min(local_date(span[1]), today)
            first = end - timedelta(days=6)
        week = report(conn, first, end)
        by_date = {d["date"]: d for d in week["days"]}
        rows: list[tuple[str, dict[str, Any] | None]] = []
        d = first
        while d <= end:
            label = "today" if d == today else f"{d.strftime('%a')} {d.isoformat()}"
            rows.append((label, by_date.get(d.isoformat())))
            d += timedelta(days=1)
        rows.append(("7 days", week["totals"]))
        title = f"Last 7 days, {first} to {end}" + ("" if end == today else f" (latest recorded; today is {today})")
        regions = _regions_table(
            week["totals"]["regions"],
            by_date[today.isoformat()]["regions"] if today.isoformat() in by_date else ({} if end == today else None),
            "7 days",
            report(conn, first - timedelta(days=7), first - timedelta(days=1))["totals"]["regions"],
        )
        trend_days = report(conn, end - timedelta(days=13), end)["days"]
    else:
        days = rep["days"]
        if not days:
            return out[0] + "\nnothing recorded in that range\n"
        rows = [(f"{date.fromisoformat(x['date']).strftime('%a')} {x['date']}", x) for x in days]
        rows.append((f"{len(days)} day" + ("s" if len(days) != 1 else ""), rep["totals"]))
        end = date.fromisoformat(days[-1]["date"])
        first = end - timedelta(days=6)
        title = f"{days[0]['date']} to {days[-1]['date']}"
        span_days = (end - date.fromisoformat(days[0]["date"])).days + 1
        lo = date.fromisoformat(days[0]["date"])
        regions = _regions_table(
            rep["totals"]["regions"], None, rows[-1][0],
            report(conn, lo - timedelta(days=span_days), lo - timedelta(days=1))["totals"]["regions"],
        )  # fmt: skip
        trend_days = days
    out += ["", title, *_table(rows)]
    if any(b is not None and b["keys"] is None for _, b in rows):
        out.append(PRESENCE_NOTE)
    out += ["", *regions, ""]
    out += _heatmap(conn, first, end)
    out += ["", _trend(trend_days)]
    return "\n".join(out) + "\n"
