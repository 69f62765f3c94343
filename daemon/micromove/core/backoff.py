"""Back-off: a cue that goes unanswered again and again becomes rarer.

**The rule.** A cue whose last `STREAK` (3) deliveries all went unanswered
backs off: its interval becomes `STEP` (1.5) times as long, and again after
each further 3 unanswered deliveries in a row (2.25, 3.375 times), up to
`MAX_FACTOR` (4) times its configured `every_min`. Done or likely done on any
one of its deliveries brings it back to its configured interval at once, and
starts the count again. A dismissed notification is not an answer: a
dismissed delivery that is neither done nor likely done is unanswered.

**When a delivery counts as unanswered.** A delivery's answer is known when
its *answer window* closes: `LIKELY_WINDOW_S + need_s` after it (60 s plus
the set's likely-done length, core/confirm.py: by then a likely done has
either been inferred or can no longer be), or right after the next cue set
goes out, whichever comes first (the next set ends the likely-done watch of
the previous one). At that instant each cue of the set that is neither
marked done nor likely done counts as unanswered (one more miss in a row).
A done brings its cues back the moment it is recorded, whenever that is
(even after the window closed); a likely done the moment it is inferred
(the instant the input gap reaches the set's length, inside the window).
So a window closing only ever stretches intervals, and a done or likely
done only ever shortens them. A set that was never shown (the notifier
failed, the machine slept) counts neither way.

**Order at one instant.** Input first, then answers (done, dismiss, likely
done, a window closing), then the engine's own happenings (core/engine.py):
a change of interval at an instant decides what falls due at it.

`BackOff` holds the per-cue state and the rule; the session (session.py)
feeds it, applies `factor()` to the engine's intervals and keeps the state in
the database (`state` key `backoff`), so a restart keeps it. Pure: no clock,
no I/O.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

STREAK = 3
STEP = 1.5
MAX_FACTOR = 4.0
STATE_KEY = "backoff"


def factor_for(misses: int) -> float:
    """The interval factor after `misses` unanswered deliveries in a row."""
    return min(MAX_FACTOR, STEP ** (max(0, misses) // STREAK))


@dataclass(slots=True)
class CueBackOff:
    misses: int = 0  # unanswered deliveries in a row
    dismissed: int = 0  # of them, dismissed
    since: float | None = None  # wall time its current factor began (None at 1x)

    @property
    def factor(self) -> float:
        return factor_for(self.misses)


class BackOff:
    """Per-cue unanswered streaks and the interval factors they give."""

    def __init__(self) -> None:
        self.cues: dict[str, CueBackOff] = {}

    def factor(self, cue: str) -> float:
        s = self.cues.get(cue)
        return 1.0 if s is None else s.factor

    def miss(self, cue: str, dismissed: bool, wall: float) -> bool:
        """One more unanswered delivery; True when the factor changed."""
        s = self.cues.setdefault(cue, CueBackOff())
        before = s.factor
        s.misses += 1
        s.dismissed += bool(dismissed)
        if s.factor != before:
            s.since = wall
            return True
        return False

    def answer(self, cue: str) -> bool:
        """Done or likely done; True when the factor changed."""
        s = self.cues.pop(cue, None)
        return s is not None and s.factor != 1.0

    def reset(self, cues: list[str] | None = None) -> list[str]:
        """Put cues (None: all) back to their configured interval; those that were backed off."""
        names = list(self.cues) if cues is None else [c for c in cues if c in self.cues]
        out = [c for c in names if self.cues[c].factor != 1.0]
        for c in names:
            del self.cues[c]
        return sorted(out)

    def backed_off(self) -> dict[str, float]:
        return {c: s.factor for c, s in sorted(self.cues.items()) if s.factor != 1.0}

    # -------------------------------------------------------------- storing
    def dumps(self) -> str:
        return json.dumps(
            {
                "v": 1,
                "cues": {
                    c: {"misses": s.misses, "dismissed": s.dismissed, "since": s.since}
                    for c, s in sorted(self.cues.items())
                },
            },
            separators=(",", ":"),
        )

    @classmethod
    def loads(cls, text: str | None) -> BackOff:
        """The state from its stored text; ValueError if it is not understood."""
        bo = cls()
        if not text:
            return bo
        bo.cues = parse(text)
        return bo


def _count(v: object) -> bool:
    return type(v) is int and v >= 0


def parse(text: str) -> dict[str, CueBackOff]:
    """Stored text -> per-cue state (ValueError for anything not understood)."""
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError("not JSON") from None
    if not isinstance(raw, dict) or raw.get("v") != 1 or not isinstance(raw.get("cues"), dict):
        raise ValueError("not a back-off state")
    out: dict[str, CueBackOff] = {}
    for cue, v in raw["cues"].items():
        if not isinstance(v, dict):
            raise ValueError(f"{cue}: not a mapping")
        misses, dismissed, since = v.get("misses"), v.get("dismissed", 0), v.get("since")
        if not (_count(misses) and _count(dismissed)):
            raise ValueError(f"{cue}: bad counts")
        if since is not None and (isinstance(since, bool) or not isinstance(since, (int, float))):
            raise ValueError(f"{cue}: bad time")
        if misses:
            out[str(cue)] = CueBackOff(misses, min(dismissed, misses), None if since is None else float(since))
    return out


def why(s: CueBackOff) -> str:
    """For a person: why a cue's interval is what it is."""
    n = s.misses
    d = f", {s.dismissed} dismissed" if s.dismissed else ""
    if s.factor == 1.0:
        return f"{n} unanswered in a row{d}; it backs off after {STREAK}"
    return f"its last {n} cues went unanswered{d}: {s.factor:g} times its interval until one is done"
