"""Progressive integration: one body region the first week, one more each week.

Pure: dates in, regions out. The order of regions is `catalog.REGIONS`.
"""

from __future__ import annotations

from datetime import date

from .catalog import BY_ID, REGIONS


def week_number(start: date, today: date) -> int:
    """1 for the first seven days from `start`, 2 for the next seven, and so on."""
    return max(0, (today - start).days) // 7 + 1


def active_regions(start: date, today: date) -> tuple[str, ...]:
    return REGIONS[: min(len(REGIONS), week_number(start, today))]


def is_active(cue_id: str, start: date | None, today: date) -> bool:
    """Whether progression lets a cue run today (`start` None: progression off)."""
    if start is None:
        return True
    return BY_ID[cue_id].region in active_regions(start, today)
