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
from .base import InputError
from .tap import JitterFilter, Tap

log = logging.getLogger("micromove")

READY_TIMEOUT_S = 10.0


class PynputSource:
    def __init__(self, macos: bool = False) -> None:
        self.macos = macos
        self.name = "macOS via pynput" if macos else "x11 via pynput"
        self._listeners: list[Any] = []
        self._failure: str | None = None
        self._stopping = False
        self._tap: Tap | None = None

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
                def run(self) -> None:
                    try:
                        super().run()
                    except BaseException as exc:  # noqa: BLE001
                        source._died(describe_exception(exc))
                        return
                    source._died("the listener stopped")

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
        """Wait until both listeners are ready, or fail clearly if one died."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        for lst in self._listeners:
            waiter = threading.Thread(target=lst.wait, daemon=True, name="micromove-ready")
            waiter.start()
            while waiter.is_alive():
                waiter.join(0.02)
                if not lst.is_alive() and waiter.is_alive():
                    why = self._failure or "the listener ended at start"
                    raise InputError(
                        f"pynput could not watch input ({why}); "
                        "check that DISPLAY names a running X server with the RECORD extension"
                    )
                if time.monotonic() > deadline:
                    raise InputError("pynput did not become ready within 10 s; is the X server responding?")

    def _died(self, why: str) -> None:
        if self._stopping:
            return
        if self._failure is None:
            self._failure = why
        if self._tap is not None:
            self._tap.poke()

    def stop(self) -> None:
        self._stopping = True
        for lst in self._listeners:
            if not self.macos and getattr(lst, "_context", None) is None:
                # No RECORD context yet (the listener died at start, e.g. an X
                # server without RECORD, or is not ready): pynput's stop() would
                # wait for it to become ready, for ever. Nothing to disable.
                continue
            with contextlib.suppress(Exception):  # already gone
                lst.stop()
            # pynput's X11 stop sends the disable request on the busy record
            # connection without flushing it, so the listener only ends at the
            # next input event; send it on the control connection, flushed.
            try:
                ctl = getattr(lst, "_display_stop", None)
                ctx = getattr(lst, "_context", None)
                if ctl is not None and ctx is not None:
                    ctl.record_disable_context(ctx)
                    ctl.flush()
            except Exception:  # noqa: BLE001 - display already gone
                pass
        for lst in self._listeners:
            if lst.is_alive() and lst is not threading.current_thread():
                threading.Thread.join(lst, 2.0)

    def alive(self) -> bool:
        if self._stopping:
            return False
        return bool(self._listeners) and all(lst.is_alive() for lst in self._listeners)

    def failure(self) -> str | None:
        if self.alive():
            return None
        return self._failure or "a listener thread ended"
