"""Fakes behind the project's own interfaces (clock.Clock, inputs.InputSource, the notifier), for unit tests.

The daemon takes its clock and input source as parameters; these stand in for
them so a test can drive a real Daemon (real Session, engine, Store) through
virtual time. End-to-end tests never use them.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from typing import Any

from micromove.adapters.inputs.tap import Tap

START = 1_000.0  # engine (boot-clock) time when the daemon starts
WALL0 = 1_767_000_000.0  # wall time at engine time 0


class FakeClock:
    """Engine time t; wall = t + offset; `awake` stops while 'asleep' (`slept` grows)."""

    def __init__(self, t: float = START, offset: float = WALL0) -> None:
        self.t = t
        self.offset = offset
        self.slept = 0.0

    def now(self) -> float:
        return self.t

    def wall(self) -> float:
        return self.t + self.offset

    def awake(self) -> float:
        return self.t - self.slept


class FakeSource:
    """An input source whose events the test adds to `tap` itself; `die(why)` kills it."""

    name = "fake"

    def __init__(self) -> None:
        self.tap: Tap | None = None
        self.dead: str | None = None
        self.stopped = False

    def start(self, tap: Tap) -> None:
        self.tap = tap

    def stop(self) -> None:
        self.stopped = True

    def alive(self) -> bool:
        return self.dead is None and not self.stopped

    def failure(self) -> str | None:
        return self.dead

    def die(self, why: str) -> None:
        self.dead = why
        assert self.tap is not None
        self.tap.poke()


class FakeNotifier:
    """A notifier (daemon.Notifier) that answers at once: delivered while `ok`; `sent` keeps (title, body)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.ok = True

    def submit(self, title: str, body: str, on_result: Any) -> None:
        self.sent.append((title, body))
        on_result(self.ok, None if self.ok else "no server")


@contextlib.contextmanager
def local_time_zone(tz: str) -> Iterator[None]:
    """The process's local time (what the session and stats use) is `tz` meanwhile."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = tz
    time.tzset()
    try:
        yield
    finally:
        if old is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = old
        time.tzset()
