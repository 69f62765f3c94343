"""X11 input through pynput (and, thinly, macOS through pynput's Quartz backend).

pynput is imported here and nowhere else, and only when `start` runs (it
needs a display just to be imported). Two pynput listeners run, keyboard and
mouse, each on its own thread with its own X connections. Their callbacks
only hand kinds, distances and step counts to the tap: the key object and
the pointer position are never kept (the one previous position the jitter
filter needs lives in memory only), never logged, never stored.

Key presses count (not releases; auto-repeat presses count too), button
presses count as clicks (not releases), scroll steps count |dx| + |dy|, and
a pointer move counts once the pointer is at least 3 px from where the last
counted move left it (tap.JitterFilter).

Start and stop lose nothing. pynput marks a listener ready before it sends
RECORD's EnableContext, so `start` instead waits (bounded, on an event, no
polling) for the server's StartOfData reply, which comes once the context is
enabled: the daemon says "watching input" only when a key pressed then is
seen. pynput's `stop` drops recorded events its thread has not handled yet,
so `stop` first disables the context on the control connection and lets the
listener handle everything the server sends up to EndOfData.

Supervision: each listener's thread pokes the tap when it ends for any
reason (X server gone, an error inside pynput), so the main loop notices at
once, with no periodic checks. A callback never raises (an exception there
would stop pynput's listener silently): the tap swallows and counts errors.

macOS (`macos=True`) is a thin path: the same callbacks on pynput's own
backend (needs the Accessibility/Input Monitoring permission); not tested by
this project's CI.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import Any

from ...logsetup import describe_exception
from .base import InputError, ReaderSource
from .tap import JitterFilter, Tap

log = logging.getLogger("micromove")

READY_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 2.0
START_OF_DATA = 4  # Xlib.ext.record.StartOfData: the first reply once a context is enabled


class PynputSource(ReaderSource):
    """pynput's two listener threads (keyboard, mouse) are the readers."""

    ended = "a listener thread ended"

    def __init__(self, macos: bool = False) -> None:
        super().__init__()
        self.macos = macos
        self.name = "macOS via pynput" if macos else "x11 via pynput"
        self._listeners: list[Any] = []
        self._changed = threading.Event()  # a listener started recording, or died

    # ------------------------------------------------------------ lifecycle
    def start(self, tap: Tap) -> None:
        self._tap = tap
        try:
            from pynput import keyboard, mouse
        except ImportError as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InputError(
                f"cannot watch input through pynput: {first}; "
                + (
                    "check that micromove may use Input Monitoring (System Settings > Privacy)"
                    if self.macos
                    else "check that DISPLAY names a running X server you may use (xdpyinfo tells)"
                )
            ) from None

        source = self

        def watched(base: type) -> type:
            class Watched(base):  # type: ignore[misc]
                def __init__(self, *a: Any, **kw: Any) -> None:
                    super().__init__(*a, **kw)
                    self.micromove_recording = threading.Event()

                def run(self) -> None:
                    try:
                        super().run()
                    except BaseException as exc:  # noqa: BLE001
                        source._died(describe_exception(exc))
                        return
                    source._died("the listener stopped")

                if source.macos:

                    def _mark_ready(self) -> None:
                        super()._mark_ready()
                        source._recording(self)

                else:

                    def _handler(self, events: Any) -> Any:
                        # RECORD's first reply to EnableContext, StartOfData, comes
                        # once the server has enabled the context: from then on every
                        # input event is recorded. (pynput's own "ready" comes before
                        # it even sends EnableContext.)
                        if getattr(events, "category", None) == START_OF_DATA:
                            source._recording(self)
                        return super()._handler(events)

            # pynput names each listener's logger after its class's module:
            # keep ours under "pynput" (silenced by logsetup), not "micromove".
            Watched.__module__ = base.__module__
            Watched.__name__ = Watched.__qualname__ = base.__name__
            return Watched

        jitter = JitterFilter(3.0)
        key, click, move, scroll = tap.key, tap.click, tap.move, tap.scroll
        errors = [0]

        def on_press(*_a: Any) -> None:
            key()

        def on_click(_x: Any, _y: Any, _button: Any, pressed: Any, *_a: Any) -> None:
            if pressed:
                click()

        def on_move(x: Any, y: Any, *_a: Any) -> None:
            try:
                px = jitter.step(x, y)
            except Exception:  # noqa: BLE001 - never raise into pynput
                errors[0] += 1
                return
            if px:
                move(px)

        def on_scroll(_x: Any, _y: Any, dx: Any, dy: Any, *_a: Any) -> None:
            try:
                steps = abs(int(dx)) + abs(int(dy))
            except Exception:  # noqa: BLE001
                errors[0] += 1
                return
            scroll(steps)

        try:
            kl = watched(keyboard.Listener)(on_press=on_press)
            ml = watched(mouse.Listener)(on_move=on_move, on_click=on_click, on_scroll=on_scroll)
            self._listeners = [kl, ml]
            for lst in self._listeners:
                lst.start()
            self._wait_ready()
            self._quiet_xlib()
        except InputError:
            self.stop()
            raise
        except Exception as exc:  # noqa: BLE001
            self.stop()
            raise InputError(f"cannot start the pynput listeners: {describe_exception(exc)}") from None

    def _quiet_xlib(self) -> None:
        """Xlib prints protocol errors raw on stderr (e.g. BadRecordContext while a
        listener whose connection the server dropped is stopped): expected, and the
        daemon logs the failure itself, so they are dropped."""
        for lst in self._listeners:
            conn = getattr(lst, "_display_stop", None)
            if conn is not None and hasattr(conn, "set_error_handler"):
                conn.set_error_handler(lambda *_a: None)

    def _wait_ready(self) -> None:
        """Wait until both listeners record input, or fail clearly if one died.

        On X11 "recording" means RECORD's StartOfData reply came: the server has
        enabled the context, so a key pressed from now on is seen. Waits on an
        event set by the listeners (and by a listener's death): no polling.
        """
        t0 = time.monotonic()
        deadline = t0 + READY_TIMEOUT_S
        while True:
            self._changed.clear()
            waiting = [lst for lst in self._listeners if not lst.micromove_recording.is_set()]
            if not waiting:
                log.debug("pynput: recording input %.1f ms after the listeners started", 1e3 * (time.monotonic() - t0))
                return
            if any(not lst.is_alive() for lst in waiting):
                why = self._failure or "the listener ended at start"
                raise InputError(
                    f"pynput could not watch input ({why}); "
                    "check that DISPLAY names a running X server with the RECORD extension"
                )
            left = deadline - time.monotonic()
            if left <= 0:
                raise InputError(
                    f"pynput did not start recording input within {READY_TIMEOUT_S:g} s "
                    + (
                        "(no event tap); is Input Monitoring allowed?"
                        if self.macos
                        else "(no StartOfData from the X RECORD extension); is the X server responding?"
                    )
                )
            self._changed.wait(left)

    def _recording(self, lst: Any) -> None:
        """A listener's thread: `lst` records input from now on. O(1), never raises."""
        lst.micromove_recording.set()
        self._changed.set()

    def _died(self, why: str) -> None:
        self._changed.set()  # a start waiting for this listener stops waiting
        super()._died(why)

    def stop(self) -> None:
        """Stop both listeners; every event the server recorded before this is counted.

        X11: the context is disabled on the control connection (flushed); the
        server then sends what it still holds and EndOfData, and the listener
        handles all of it before its thread ends. Only then is pynput's own stop
        called, which would drop events its thread had not handled yet.
        """
        self._stopping = True
        for lst in self._listeners:
            if self.macos:
                with contextlib.suppress(Exception):
                    lst.stop()
                continue
            ctx = getattr(lst, "_context", None)
            if ctx is None:
                # No RECORD context yet (the listener died at start, e.g. an X
                # server without RECORD, or is not ready): pynput's stop() would
                # wait for it to become ready, for ever. Nothing to disable.
                continue
            try:
                ctl = lst._display_stop
                ctl.record_disable_context(ctx)
                ctl.flush()
            except Exception:  # noqa: BLE001 - display already gone
                pass
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for lst in self._listeners:
            if lst.is_alive() and lst is not threading.current_thread():
                threading.Thread.join(lst, max(0.0, deadline - time.monotonic()))
        for lst in self._listeners:
            if lst.is_alive() and getattr(lst, "_context", None) is not None:
                # Still running (a server that does not answer): pynput's stop,
                # and a last short wait.
                with contextlib.suppress(Exception):
                    lst.stop()
                if lst is not threading.current_thread():
                    threading.Thread.join(lst, 0.5)

    def _running(self) -> bool:
        return bool(self._listeners) and all(lst.is_alive() for lst in self._listeners)
