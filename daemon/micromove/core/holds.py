"""Named holds: several reasons not to cue, each held and released on its own.

Names: "pause" and "snooze" (the person's own), "quiet.<source>" (quiet
times: "quiet.lock", "quiet.dnd", "quiet.fullscreen", "quiet.camera",
"quiet.microphone", "quiet.sleep", "quiet.hours"). Each hold lasts until a
time (engine time) or, with `until=None`, until it is released; holding a
name again replaces it. Pure, like the engine it drives.

The engine combines them: no cue set goes out while any indefinite hold
exists or before the latest timed one ends; what falls due meanwhile is held,
not dropped (unless its stretch ends), and goes out at the first natural
pause that begins at or after the combined hold ends. `pause.max_defer_s`
does not break through a hold. This module keeps the names and gives the
engine their combination.
"""

from __future__ import annotations

import math
from typing import Protocol

INF = math.inf


class EngineHold(Protocol):
    def hold(self, until: float) -> None: ...
    def release(self, t: float) -> None: ...


class Holds:
    def __init__(self, engine: EngineHold) -> None:
        self.engine = engine
        self._holds: dict[str, float] = {}

    def combined(self) -> float:
        """When the holds end together (INF: some is indefinite; -INF: none)."""
        return max(self._holds.values(), default=-INF)

    def hold(self, name: str, until: float | None, t: float) -> None:
        """Hold `name` until `until` (None: until released), from time `t`."""
        old = self.combined()
        self._holds[name] = INF if until is None else until
        self._apply(old, t)

    def release(self, name: str, t: float) -> None:
        """End the hold `name` at `t` (nothing if it is not held)."""
        if name not in self._holds:
            return
        old = self.combined()
        del self._holds[name]
        self._apply(old, t)

    def holds(self, t: float | None = None) -> dict[str, float | None]:
        """name -> until (None: until released); with `t`, only those still holding at `t`."""
        return {
            n: (None if u == INF else u)
            for n, u in sorted(self._holds.items())
            if t is None or u > t
        }

    def holding(self, t: float) -> bool:
        return self.combined() > t

    def _apply(self, old: float, t: float) -> None:
        new = self.combined()
        if new < old:
            # Shorter (or gone): what was held counts as due from t, then the
            # remaining holds are set again.
            self.engine.release(t)
        if new > -INF:
            self.engine.hold(new)
