"""What every input backend is: the `InputSource` protocol, its error, and `ReaderSource`."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from .tap import Tap

EVDEV_PERMISSION_HINT = "add yourself to the 'input' group (sudo usermod -aG input $USER) and log in again"


OK, PROBLEM, NOTE = "ok", "problem", "note"


@dataclass(frozen=True, slots=True)
class Finding:
    """What a backend's doctor check found: status ok | problem | note."""

    status: str
    detail: str
    fix: str | None = None


class InputError(Exception):
    """Input cannot be watched; the message says why and what to do."""


class InputSource(Protocol):
    name: str  # e.g. "x11 via pynput"

    def start(self, tap: Tap) -> None:
        """Begin watching; raise InputError when that is impossible."""
        ...

    def stop(self) -> None: ...

    def alive(self) -> bool: ...

    def failure(self) -> str | None:
        """Why the source stopped watching (None while alive)."""
        ...


def is_wayland(env: Mapping[str, str]) -> bool:
    return bool(env.get("WAYLAND_DISPLAY")) or env.get("XDG_SESSION_TYPE", "").lower() == "wayland"


class ReaderSource:
    """What the sources that read input on a thread of their own share.

    The thread sleeps in `select` on what it reads and on `_stop_r`, and ends
    by calling `_died(why)`. That sets the reason *before* it wakes the main
    loop, so from that moment `alive()` is False, although the thread is
    still finishing: a loop woken by the poke that tested only `is_alive()`
    could find the thread still running and then sleep for ever, with no
    input watched. `stop()` wakes the thread (`_wake_reader`), joins it and
    then `_close()` releases what the source holds.
    """

    ended = "the reader ended"  # failure() when the thread ended with no reason given

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None
        self._stop_r, self._stop_w = -1, -1
        self._failure: str | None = None
        self._stopping = False
        self._tap: Tap | None = None

    def _start_reader(self, target: Callable[[], None], name: str, stop_pipe: bool = True) -> None:
        """Start the reader thread; `stop_pipe` False for one whose `_wake_reader` needs none."""
        if stop_pipe:
            self._stop_r, self._stop_w = os.pipe()
        self._thread = threading.Thread(target=target, name=name, daemon=True)
        self._thread.start()

    def _running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def alive(self) -> bool:
        return not self._stopping and self._failure is None and self._running()

    def failure(self) -> str | None:
        if self.alive():
            return None
        return self._failure or self.ended

    def _died(self, why: str) -> None:
        """The reader thread's last act (also for a failure seen elsewhere). Never raises."""
        if self._stopping:
            return
        if self._failure is None:
            self._failure = why
        if self._tap is not None:
            self._tap.poke()

    def _wake_reader(self) -> None:
        if self._stop_w >= 0:
            with contextlib.suppress(OSError):
                os.write(self._stop_w, b"x")

    def _close(self) -> None:
        """Release what the source holds (devices, connections); after the thread ended."""

    def stop(self) -> None:
        self._stopping = True
        self._wake_reader()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(2.0)
        self._close()
        for fd in (self._stop_r, self._stop_w):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._stop_r = self._stop_w = -1
