"""Handing work to the daemon's main loop from any other thread.

The engine and the store are touched on the main thread only. A thread that
wants something done there (the control socket's connection threads, a
notification's button) `submit`s a function; the inbox queues it and wakes
the loop (the daemon's Waker), which runs every queued function between two
passes (`run`), with the pass's engine time. The caller waits on the `Call`
it got back, or gives up: a call nobody waits for any more is skipped,
never half done.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger("micromove")


class Stopping(Exception):
    """The daemon is exiting: the call was not run."""


class Call:
    """One function for the loop, and its outcome."""

    __slots__ = ("fn", "result", "error", "event", "lock", "state")

    def __init__(self, fn: Callable[[float], Any]) -> None:
        self.fn = fn
        self.result: Any = None
        self.error: BaseException | None = None
        self.event = threading.Event()
        self.lock = threading.Lock()
        self.state = "queued"  # queued -> running -> done, or queued -> cancelled

    def take(self) -> bool:
        """The loop starts on it (False: the asker gave up waiting)."""
        with self.lock:
            if self.state != "queued":
                return False
            self.state = "running"
            return True

    def cancel(self) -> bool:
        """The asker gives up; True if the loop had not started on it."""
        with self.lock:
            if self.state == "queued":
                self.state = "cancelled"
                return True
            return False

    def finish(self, result: Any = None, error: BaseException | None = None) -> None:
        with self.lock:
            if self.state not in ("queued", "running"):
                return
            self.result, self.error = result, error
            self.state = "done"
        self.event.set()


class Inbox:
    def __init__(self, wake: Callable[[], None]) -> None:
        self._queue: queue.SimpleQueue[Call] = queue.SimpleQueue()
        self._wake = wake
        self._closed = False

    def submit(self, fn: Callable[[float], Any]) -> Call:
        """From any thread: queue `fn(now)` for the loop and wake it."""
        call = Call(fn)
        if self._closed:
            call.finish(error=Stopping("micromove is stopping"))
            return call
        self._queue.put(call)
        self._wake()
        return call

    def waiting(self) -> bool:
        """Calls are queued (the loop should not wait for its batch interval)."""
        return not self._queue.empty()

    def run(self, now: float) -> None:
        """On the loop's thread: run every queued call."""
        while True:
            try:
                call = self._queue.get_nowait()
            except queue.Empty:
                return
            if not call.take():
                continue
            try:
                call.finish(call.fn(now))
            except Exception as exc:  # noqa: BLE001 - a call never stops the daemon
                log.warning("a request failed: %s: %s", type(exc).__name__, exc)
                call.finish(error=exc)

    def close(self) -> None:
        """At exit: refuse new calls, and answer the queued ones with Stopping."""
        self._closed = True
        while True:
            try:
                call = self._queue.get_nowait()
            except queue.Empty:
                return
            call.finish(error=Stopping("micromove is stopping"))
