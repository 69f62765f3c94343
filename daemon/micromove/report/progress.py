"""Where progression stands today, for `mmctl cues` and `checkin` (the day it
began comes from the database: report/readmodel.progression_start)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from ..core import progression
from ..core.catalog import REGIONS


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
