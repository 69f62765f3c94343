"""Quiet hours: local-time ranges in which no cue goes out (config `quiet.hours`).

Pure: a range is parsed from text, and asked about a wall time (UTC epoch
seconds) that the caller passes in, interpreted in the process's local time
zone (as the session's days are). The daemon and `mmctl simulate` both use it
through the session, on their own clocks.

A range is "HH:MM-HH:MM": from its start (included) to its end (excluded),
in local time. An end at or before the start runs past midnight
("22:00-07:00"). "00:00-24:00" is the whole day; a range whose start equals
its end is refused (it is unclear whether it means nothing or everything).
On a DST day a range keeps its clock times: "01:00-03:00" is one hour long on
the night the clocks skip 02:00-03:00, three on the night 02:00 repeats.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

_RANGE = re.compile(r"([0-9]{1,2}):([0-9]{2})\s*-\s*([0-9]{1,2}):([0-9]{2})")


@dataclass(frozen=True, slots=True)
class HoursRange:
    start_min: int  # minutes after local midnight, 0..1439
    end_min: int  # 1..1440; <= start_min: ends the next day

    @property
    def text(self) -> str:
        return f"{self.start_min // 60:02d}:{self.start_min % 60:02d}-{self.end_min // 60:02d}:{self.end_min % 60:02d}"


def parse_range(text: str) -> HoursRange:
    """'22:00-07:00' -> HoursRange; ValueError with a short reason otherwise."""
    m = _RANGE.fullmatch(text.strip())
    if m is None:
        raise ValueError('must be "HH:MM-HH:MM", e.g. "22:00-07:00"')
    sh, sm, eh, em = (int(g) for g in m.groups())
    if sh > 23 or sm > 59 or em > 59 or eh > 24 or (eh == 24 and em):
        raise ValueError("not a time of day (00:00 to 23:59; 24:00 only as an end)")
    start, end = sh * 60 + sm, eh * 60 + em
    if start == end or (start == 0 and end == 0):
        raise ValueError("starts and ends at the same time")
    return HoursRange(start, end)


def _local(day: date, minutes: int) -> float:
    """UTC epoch seconds of local `day` + `minutes` (minutes may reach 1440 and beyond)."""
    d = day + timedelta(days=minutes // 1440)
    m = minutes % 1440
    return datetime(d.year, d.month, d.day, m // 60, m % 60).timestamp()


def _spans(r: HoursRange, day: date) -> tuple[float, float]:
    """The range's span that starts on local `day` (wall seconds)."""
    end = r.end_min if r.end_min > r.start_min else r.end_min + 1440
    return _local(day, r.start_min), _local(day, end)


class QuietHours:
    """A set of ranges; `inside(wall)` and `next_change(wall)`."""

    def __init__(self, ranges: Iterable[HoursRange] = ()) -> None:
        self.ranges: tuple[HoursRange, ...] = tuple(ranges)

    @classmethod
    def parse(cls, texts: Sequence[str]) -> QuietHours:
        return cls(parse_range(t) for t in texts)

    def __bool__(self) -> bool:
        return bool(self.ranges)

    def _candidates(self, wall: float) -> list[tuple[float, float]]:
        today = datetime.fromtimestamp(wall).date()
        out = []
        for r in self.ranges:
            for k in (-1, 0, 1):
                a, b = _spans(r, today + timedelta(days=k))
                if b > a:
                    out.append((a, b))
        return sorted(out)

    def until(self, wall: float) -> float | None:
        """If `wall` is inside quiet hours: when they end (overlapping ranges joined); else None."""
        if not self.ranges:
            return None
        end: float | None = None
        for _ in range(8):  # joined ranges can chain over a few days at most
            spans = self._candidates(wall if end is None else end)
            at = wall if end is None else end
            hit = [b for a, b in spans if a <= at < b]
            if not hit:
                return end
            end = max(hit)
        return end

    def next_start(self, wall: float) -> float | None:
        """The first start of quiet hours after `wall` (None: there are no ranges)."""
        if not self.ranges:
            return None
        starts = [a for a, _b in self._candidates(wall) if a > wall]
        if not starts:
            starts = [a for a, _b in self._candidates(wall + 86400.0) if a > wall]
        return min(starts) if starts else None
