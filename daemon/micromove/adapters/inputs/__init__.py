"""Input backends: where the daemon's key, move, click and scroll events come from.

Every backend is an `InputSource`: `start(tap)` begins watching and hands
events to the tap (inputs/tap.py) from its own thread(s); `stop()` ends
that; `alive()` says whether it still watches, and `failure()` why not.
A backend pokes the tap when it dies, so the main loop notices at once
without any periodic polling.

Backends, chosen by `input.backend` (`select`):
- `xi2`: XInput2 raw events read straight off the X connection in batches
  (xi2.py): the cheapest way to watch X input; needs XInput 2.0 or later.
- `pynput`: pynput's X11 backend through the RECORD extension (x11.py;
  pynput is imported there only). On macOS the same module drives pynput's
  own (Quartz) backend: a thin path, not tested on this project's CI.
- `x11`: X11, the best way there is: `xi2` when the X server offers XInput
  2.0 or later, else `pynput`.
- `evdev`: /dev/input through python-evdev (evdev.py): Wayland and consoles;
  needs read access to the devices (the `input` group).
- `auto`: macOS -> pynput; an X11 session (DISPLAY set, not Wayland) -> x11
  (xi2, else pynput);
  a Wayland session -> evdev if the devices can be read, else an error that
  says what to do (pynput sees nothing from native Wayland windows, and we
  never pretend to watch).

`MICROMOVE_EVDEV_DEVICES` (a glob, default /dev/input/event*) names the
devices the evdev backend considers: for tests, and for machines that put
their input devices elsewhere.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from .tap import Tap

if TYPE_CHECKING:
    from .evdev import EvdevSource

log = logging.getLogger("micromove")

EVDEV_PERMISSION_HINT = "add yourself to the 'input' group (sudo usermod -aG input $USER) and log in again"


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


def _evdev(env: Mapping[str, str]) -> EvdevSource:
    from .evdev import DEV_GLOB, EvdevSource

    return EvdevSource(env.get("MICROMOVE_EVDEV_DEVICES") or DEV_GLOB)


def _x11(env: Mapping[str, str], xi2: bool = True, pynput: bool = True) -> InputSource:
    """An X11 source for env's DISPLAY: XInput2 when usable (and allowed), else pynput."""
    if not env.get("DISPLAY"):
        raise InputError(
            "no X display: DISPLAY is not set; run micromove inside your graphical session "
            "(the user service gets DISPLAY from it), or set input.backend: evdev"
        )
    if xi2:
        from .xi2 import XI2Source

        src = XI2Source(env["DISPLAY"])
        if not pynput:
            return src  # start() says what is wrong, if anything
        problem = src.probe()
        if problem is None:
            return src
        log.info("XInput2 cannot be used (%s): falling back to pynput", problem)
    from .x11 import PynputSource

    return PynputSource()


def is_wayland(env: Mapping[str, str]) -> bool:
    return bool(env.get("WAYLAND_DISPLAY")) or env.get("XDG_SESSION_TYPE", "").lower() == "wayland"


def select(
    backend: str,
    env: Mapping[str, str] | None = None,
    platform: str | None = None,
    evdev_source: EvdevSource | None = None,
) -> InputSource:
    """The input source for `backend` (auto | x11 | evdev); InputError if none fits.

    `evdev_source` replaces the EvdevSource that would be tried (tests).
    """
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform

    if platform == "darwin":
        if backend in ("evdev", "xi2"):
            raise InputError(f"input.backend {backend} works on Linux only; use auto or pynput on macOS")
        from .x11 import PynputSource

        return PynputSource(macos=True)

    if backend == "x11":
        return _x11(env)
    if backend == "xi2":
        return _x11(env, pynput=False)
    if backend == "pynput":
        return _x11(env, xi2=False)

    if backend == "evdev":
        return evdev_source or _evdev(env)

    if backend != "auto":
        raise InputError(f"input.backend: unknown backend {backend!r} (auto, x11, xi2, pynput or evdev)")

    if is_wayland(env):
        src = evdev_source or _evdev(env)
        problem = src.probe()
        if problem is None:
            return src
        raise InputError(
            "Wayland session: X11 input (pynput) sees nothing from native Wayland windows, "
            f"and the evdev backend cannot be used: {problem}. Fix that and restart micromove "
            "(systemctl --user restart micromove); or set input.backend: x11 in the config "
            "to count only what X11 (XWayland) windows see"
        )
    if env.get("DISPLAY"):
        return _x11(env)
    src = evdev_source or _evdev(env)
    if src.probe() is None:
        return src
    raise InputError(
        "no display: neither DISPLAY nor WAYLAND_DISPLAY is set; start micromove from your "
        "graphical session (`mmctl install` sets up a user service bound to it), or set "
        "input.backend: evdev and " + EVDEV_PERMISSION_HINT
    )


__all__ = ["InputError", "InputSource", "Tap", "select", "is_wayland", "EVDEV_PERMISSION_HINT"]
