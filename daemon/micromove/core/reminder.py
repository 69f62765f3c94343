"""The weekly check-in reminder: one notification a week asking for `mmctl checkin`.

With `checkin.reminder: true` (the default) the daemon reminds the person
once a week to answer the three check-in questions. The week counts from an
anchor kept in the database's state table (`checkin.reminder_anchor`, UTC
epoch seconds): set when the daemon first runs (to the progression start,
when there is one, else to that moment), and moved to the moment of each
reminder that reached the notification server. A check-in (`mmctl checkin`,
a row in `checkins`) also restarts the week. So the first reminder comes a
week after micromove started, and never more than one a week.

It goes out at a natural pause (no input for `pause.min_s` while a presence
stretch is still going, so the person is at the desk), and never while cues
are due or held back (pause, snooze), nor within `QUIET_AFTER_CUES_S` of a
cue set. A reminder the notifier could not deliver is tried again an hour
later (`RETRY_S`).

Pure apart from the callbacks it is given: times in, a notification out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime

log = logging.getLogger("micromove")

ANCHOR_KEY = "checkin.reminder_anchor"
WEEK_S = 7 * 86400.0
RETRY_S = 3600.0
QUIET_AFTER_CUES_S = 60.0
TITLE = "micromove: the weekly check-in"
BODY = (
    "Three quick questions about your week (tightness, noise, new movements): "
    "run `mmctl checkin` in a terminal."
)

Submit = Callable[[str, str, Callable[[bool, "str | None"], None]], None]


class CheckinReminder:
    def __init__(
        self,
        *,
        enabled: bool,
        get_state: Callable[[str], str | None],
        set_state: Callable[[str, str], None],
        last_checkin: Callable[[], float | None],
        submit: Submit,
        week_s: float = WEEK_S,
        retry_s: float = RETRY_S,
    ) -> None:
        self.enabled = enabled
        self._get_state = get_state
        self._set_state = set_state
        self._last_checkin = last_checkin
        self._submit = submit
        self.week_s = week_s
        self.retry_s = retry_s
        self.anchor: float | None = None
        self._retry_after = -float("inf")
        self.in_flight: float | None = None  # wall time a reminder was submitted
        self.sent = 0  # reminders that reached a server (tests, status)
        # Set by the notifier's thread, taken on the main thread (take_result).
        self.pending_result: tuple[bool, str | None] | None = None
        self.on_result_hook: Callable[[], None] | None = None  # wakes the main loop

    def start(self, wall: float, progression_start: date | None) -> None:
        """Read (or set) the week's anchor."""
        stored = self._get_state(ANCHOR_KEY)
        anchor: float | None = None
        if stored is not None:
            try:
                anchor = float(stored)
            except ValueError:
                log.warning("check-in reminder anchor %r in the database is not a time; restarting it", stored)
        if anchor is None or anchor != anchor or anchor > wall + self.week_s:
            anchor = wall
            if progression_start is not None:
                anchor = min(wall, datetime(progression_start.year, progression_start.month,
                                            progression_start.day).timestamp())
            self._set_state(ANCHOR_KEY, repr(anchor))
        self.anchor = anchor

    def next_due(self) -> float | None:
        """Wall time from which a reminder is due (None when off or not started)."""
        if not self.enabled or self.anchor is None:
            return None
        return max(self.anchor + self.week_s, self._retry_after)

    def due(self, wall: float) -> bool:
        d = self.next_due()
        return d is not None and self.in_flight is None and wall >= d

    def maybe_send(self, wall: float, *, at_pause: bool, quiet: bool) -> bool:
        """Send the reminder if it is due and the moment fits; True when submitted.

        `at_pause`: a natural pause is going on while the person is present.
        `quiet`: no cue is due or held back and none went out just now.
        """
        if not (at_pause and quiet and self.due(wall)):
            return False
        last = self._checked_in()
        if last is not None and last + self.week_s > wall:
            self.anchor = max(self.anchor or last, last)  # a check-in restarted the week
            return False
        self.in_flight = wall
        try:
            self._submit(TITLE, BODY, self._on_result)
        except Exception as exc:  # noqa: BLE001 - a reminder never stops the daemon
            self._on_result(False, f"{type(exc).__name__}: {exc}")
        return True

    def _checked_in(self) -> float | None:
        try:
            return self._last_checkin()
        except Exception as exc:  # noqa: BLE001 - the database is read for a hint only
            log.debug("check-in reminder: cannot read the last check-in: %s", exc)
            return None

    # The notifier calls this on its own thread; the daemon hands it to
    # `result` on the main thread (see service.Service).
    def _on_result(self, ok: bool, error: str | None = None) -> None:
        self.pending_result = (bool(ok), error)
        if self.on_result_hook is not None:
            self.on_result_hook()

    def take_result(self, wall: float) -> None:
        """On the main thread: settle a reminder the notifier has answered."""
        r = self.pending_result
        if r is None or self.in_flight is None:
            return
        self.pending_result = None
        ok, error = r
        sent_at = self.in_flight
        self.in_flight = None
        if ok:
            self.anchor = sent_at
            self.sent += 1
            self._set_state(ANCHOR_KEY, repr(sent_at))
            log.info("check-in reminder shown (next one in a week at the earliest)")
        else:
            self._retry_after = wall + self.retry_s
            log.warning("check-in reminder not delivered (%s); trying again in an hour", error or "no reason given")
