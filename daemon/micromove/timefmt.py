"""Local time and lengths of time for people: the one place for both.

Local dates and midnights use the system time zone (TZ honoured), DST-aware:
a 23- or 25-hour day is as long as it was on the wall clock. Standard
library only, and little of it (`mmctl stats` imports this and must start
fast).
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta


def local_date(wall: float) -> date:
    """The local calendar date at UTC epoch seconds `wall`."""
    return datetime.fromtimestamp(wall).date()


def local_midnight(d: date) -> float:
    """UTC epoch seconds of the local midnight that starts `d`."""
    return datetime(d.year, d.month, d.day).timestamp()


def today_start(wall: float) -> float:
    """UTC epoch seconds of the local midnight that began the day of `wall`."""
    return local_midnight(local_date(wall))


def next_local_midnight(wall: float) -> float:
    """UTC epoch seconds of the next local midnight after `wall`."""
    return local_midnight(local_date(wall) + timedelta(days=1))


def clock(wall: float | None, now: float | None = None) -> str:
    """'14:05:09', or '2026-03-02 14:05' when `wall` is on another day than `now`."""
    if wall is None:
        return "?"
    lt = time.localtime(wall)
    if now is not None and time.localtime(now)[:3] != lt[:3]:
        return time.strftime("%Y-%m-%d %H:%M", lt)
    return time.strftime("%H:%M:%S", lt)


def format_duration(seconds: float, compact: bool = False) -> str:
    """A length for a person.

    Spelled out (status, pause, logs): '45 s', '12 min 5 s', '1 h 05 min',
    '2 d 3 h'. Compact (the columns of `mmctl stats`): '45s', '12m', '1h05m'.
    """
    s = max(0, int(round(seconds)))
    if compact:
        if s < 60:
            return f"{s}s"
        h, m = divmod(s // 60, 60)
        return f"{h}h{m:02d}m" if h else f"{m}m"
    if s < 60:
        return f"{s} s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m} min {s} s" if s else f"{m} min"
    h, m = divmod(m, 60)
    if h < 24:
        return f"{h} h {m:02d} min"
    d, h = divmod(h, 24)
    return f"{d} d {h} h"
