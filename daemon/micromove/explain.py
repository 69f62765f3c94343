"""Why didn't a cue come? The verbose log (`mmctl run -v`) follows each due cue.

After each pass of the daemon's loop, `CueLog.after_pass(now)` compares the
engine's due cues with those of the previous pass and logs, at debug level:
- a cue became due (with its trigger's stretch), and what it waits for: a
  natural pause (from when, and until when at the latest), or a hold;
- a cue was held at a decision, and by what: snooze, pause, the min gap
  between notifications, or a quiet time (which one), and until when;
- a hold ended and the cue waits for a natural pause again;
- a cue left without a notification: its stretch ended at a break (dropped).
Delivered or not delivered is logged by the daemon at info level when the
notifier answers. Only cue ids, triggers and times appear: never a key,
text or a position. Nothing is computed when debug logging is off.
"""

from __future__ import annotations

import logging
import math
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .core.session import Session

log = logging.getLogger("micromove")

INF = math.inf

def hold_words(name: str) -> str:
    from .adapters.quiet import WORDS

    if name.startswith("quiet."):
        return "quiet time: " + WORDS.get(name[6:], name[6:])
    return {"pause": "pause (mmctl pause)", "snooze": "snooze"}.get(name, name)


def _fmt_len(s: float) -> str:
    s = max(0, int(round(s)))
    m, s = divmod(s, 60)
    return f"{m} min {s} s" if m else f"{s} s"


class CueLog:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._seen: dict[str, float] = {}  # cue -> due_at last pass

    def _clock(self, t: float) -> str:
        if t == INF:
            return "until released"
        return time.strftime("%H:%M:%S", time.localtime(t + self.session.wall_offset))

    def _why_held(self, now: float) -> str:
        s = self.session
        holds = s.holds_at(now)
        if holds:
            parts = []
            for name, until in holds.items():
                parts.append(f"{hold_words(name)} ({'until released' if until is None else 'until ' + self._clock(until)})")
            return ", ".join(parts)
        last = s.engine.last_delivery
        if last is not None and last + s.config.min_gap_s > now:
            return f"min gap between notifications ({_fmt_len(s.config.min_gap_s)}, until {self._clock(last + s.config.min_gap_s)})"
        return "a hold"

    def _waiting(self, due_at: float, cap_at: float, now: float) -> str:
        cfg = self.session.config
        return (
            f"waits for a natural pause ({cfg.pause_min_s:g} s without input) from {self._clock(due_at)}, "
            f"at the latest {self._clock(cap_at)}"
        )

    def after_pass(self, now: float) -> None:
        if not log.isEnabledFor(logging.DEBUG):
            self._seen.clear()
            return
        engine = self.session.engine
        current: dict[str, float] = {}
        for p in engine.pending():
            current[p.cue] = p.due_at
            before = self._seen.get(p.cue)
            if before is None:
                st = engine.stretch(p.trigger)
                length = f", {p.trigger} stretch {_fmt_len(st.length)}" if st is not None else ""
                if p.due_at > now or self.session.holding(now):
                    log.debug("cue due: %s%s; held by %s", p.cue, length, self._why_held(now))
                else:
                    log.debug("cue due: %s%s; %s", p.cue, length, self._waiting(p.due_at, p.cap_at, now))
            elif p.due_at > before:
                log.debug("cue not sent, held: %s, by %s", p.cue, self._why_held(now))
            elif p.due_at < before:
                log.debug("cue %s: hold over; %s", p.cue, self._waiting(p.due_at, p.cap_at, now))
        self._seen = current
