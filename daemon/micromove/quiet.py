"""Quiet times in the live daemon: each source (adapters/quiet/) is one named hold.

Runs on the daemon's main thread, once per pass (`before_pass`, before the
pass feeds input and advances the engine). Each switched-on source is one
hold "quiet.<name>" (the session's named holds; the engine keeps every held
cue, and sends it at the first natural pause that begins at or after the
quiet time ends; max_defer does not break through):

- event-driven sources call `changed()` from their own threads; that only
  sets a flag and wakes the loop (the Waker), which then asks each of them
  `holding()` and holds or releases;
- checked sources are asked at a cue decision: when a cue is due and a
  natural pause has begun (or its cap has come), before the engine would
  send it. One that holds is held until a later check finds it over: the
  next natural pause after new input, while something waits. With nobody
  at the desk there is no input, so there is no check (and the break drops
  the waiting cue in the end).
Quiet hours are not here: they are the session's (core), so that `mmctl
simulate` applies them too.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Protocol

from .adapters.quiet import NAMES, QuietSource, make

if TYPE_CHECKING:
    from .config import Config
    from .core.session import Session

log = logging.getLogger("micromove")


class HoldPort(Protocol):
    """Where the holds go (service.Service): "quiet.<source>", until a wall time or None."""

    def hold(self, name: str, until: float | None, now: float) -> None: ...
    def release(self, name: str, now: float) -> None: ...


class QuietWatch:
    """A loop hook (start, on_pass, next_deadline, stop), plus `before_pass`."""

    def __init__(
        self,
        session: Session,
        wake: Callable[[], None],
        sources: list[QuietSource] | None = None,
        holds: HoldPort | None = None,
    ) -> None:
        self.session = session
        self.wake = wake
        self.holds_port: HoldPort = holds if holds is not None else _SessionHolds(session)
        self.sources: list[QuietSource] = sources if sources is not None else []
        self._flag = threading.Event()
        self._checked_at: float | None = None  # last input time at the latest check
        self._holding: set[str] = set()

    @classmethod
    def from_config(
        cls,
        config: Config,
        session: Session,
        wake: Callable[[], None],
        env: Mapping[str, str] | None = None,
        holds: HoldPort | None = None,
    ) -> QuietWatch:
        env = os.environ if env is None else env
        sources = []
        for name in NAMES:
            if not config.quiet_on(name):
                continue
            try:
                sources.append(make(name, env))
            except Exception as exc:  # noqa: BLE001 - a source that cannot load is just off
                log.warning("quiet time %s off: %s: %s", name, type(exc).__name__, exc)
        return cls(session, wake, sources, holds)

    # ------------------------------------------------------------ life
    def start(self, now: float | None = None) -> None:
        for src in self.sources:
            try:
                src.start(self.changed)
            except Exception as exc:  # noqa: BLE001 - never stop the daemon for a quiet time
                log.warning("quiet time %s not watched: %s: %s", src.name, type(exc).__name__, exc)
        if self.sources:
            log.info("quiet times watched: %s", ", ".join(s.name for s in self.sources))

    def stop(self) -> None:
        for src in self.sources:
            try:
                src.stop()
            except Exception as exc:  # noqa: BLE001
                log.debug("quiet: stopping %s: %s", src.name, exc)

    def on_pass(self, now: float) -> None:
        """Everything happens in before_pass (it must come before the engine decides)."""

    def changed(self) -> None:
        """From any thread: some event-driven source flipped."""
        self._flag.set()
        self.wake()

    def reconfigure(self, config: Config, now: float, env: Mapping[str, str] | None = None) -> None:
        """SIGHUP: start what was switched on, stop (and release) what was switched off."""
        want = {n for n in NAMES if config.quiet_on(n)}
        for src in list(self.sources):
            if src.name not in want:
                src.stop()
                self.sources.remove(src)
                self._set(src, False, now)
        have = {s.name for s in self.sources}
        new = [n for n in NAMES if n in want and n not in have]
        if new:
            fresh = QuietWatch.from_config(config, self.session, self.wake, env, self.holds_port)
            for src in fresh.sources:
                if src.name in new:
                    self.sources.append(src)
                    src.start(self.changed)

    # ------------------------------------------------------------ each pass
    def before_pass(self, now: float) -> None:
        if self._flag.is_set():
            self._flag.clear()
            for src in self.sources:
                if src.event_driven:
                    self._set(src, self._ask(src), now)
        at = self._decision(now)
        if at is not None:
            self._checked_at = self.session.engine.last_input
            for src in self.sources:
                if src.checked:
                    self._set(src, self._ask(src), at)

    def next_deadline(self) -> float | None:
        """When a checked source that holds must be looked at again (a natural pause)."""
        if not any(s.checked and s.name in self._holding for s in self.sources):
            return None
        engine = self.session.engine
        last = engine.last_input
        if last is None or last == self._checked_at or not engine.pending():
            return None
        return last + self.session.config.pause_min_s

    def holding(self) -> list[str]:
        return sorted(self._holding)

    # ------------------------------------------------------------ insides
    def _decision(self, now: float) -> float | None:
        """The instant of a cue decision that is due by `now`, if any."""
        if not any(s.checked for s in self.sources):
            return None
        engine = self.session.engine
        pending = engine.pending()
        if not pending:
            return None
        last = engine.last_input
        pause = None if last is None else last + self.session.config.pause_min_s
        # A natural pause that began since the latest check: a decision if a
        # cue is due by then, or a recheck of a checked source that holds.
        if (
            pause is not None
            and pause <= now
            and last != self._checked_at
            and (
                any(p.due_at <= pause for p in pending)
                or any(s.checked and s.name in self._holding for s in self.sources)
            )
        ):
            return pause
        cap = min(p.cap_at for p in pending)
        if cap <= now:
            return cap  # a cue waited max_defer_s: a decision too
        return None

    @staticmethod
    def _ask(src: QuietSource) -> bool:
        try:
            return bool(src.holding())
        except Exception as exc:  # noqa: BLE001 - a failing check never holds
            log.debug("quiet: %s check failed: %s", src.name, type(exc).__name__)
            return False

    def _set(self, src: QuietSource, holds: bool, t: float) -> None:
        name = f"quiet.{src.name}"
        if holds and src.name not in self._holding:
            self._holding.add(src.name)
            self.holds_port.hold(name, None, t)
            log.info("quiet time: %s: cues wait", src.what)
        elif not holds and src.name in self._holding:
            self._holding.discard(src.name)
            self.holds_port.release(name, t)
            log.info("quiet time over (was: %s)", src.what)


class _SessionHolds:
    """Holds straight on the session's engine (tests, and wherever no service runs)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def hold(self, name: str, until: float | None, now: float) -> None:
        self.session.hold(name, None if until is None else until - self.session.wall_offset, now)

    def release(self, name: str, now: float) -> None:
        self.session.release(name, now)
