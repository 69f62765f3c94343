"""Input backends: where the daemon's key, move, click and scroll events come from.

Every backend is an `InputSource`: `start(tap)` begins watching and hands
events to the tap (inputs/tap.py) from its own thread(s); `stop()` ends
that; `alive()` says whether it still watches, and `failure()` why not.
A backend pokes the tap when it dies, so the main loop notices at once
without any periodic polling.

Backends, chosen by `input.backend` (`select`):
- `x11`: pynput's X11 backend (x11.py; pynput is imported there only). On
  macOS the same module drives pynput's own (Quartz) backend: a thin path,
  not tested on this project's CI.
- `evdev`: /dev/input through python-evdev (evdev.py): Wayland and consoles;
  needs read access to the devices (the `input` group).
- `wayland-idle`: the compositor's idle protocol, ext-idle-notify-v1 or
  org_kde_kwin_idle (wayland_idle.py): wlroots compositors, KDE, Hyprland.
  Presence only: activity and pauses, no counts (presence.py).
- `gnome`: GNOME's org.gnome.Mutter.IdleMonitor on the session bus
  (mutter.py). Presence only.
- `auto`: macOS -> pynput; an X11 session (DISPLAY set, not Wayland) -> x11;
  a Wayland session -> evdev if the devices can be read (it keeps the
  counts), else the compositor's idle interface (wayland-idle, then gnome:
  idle_backends.py), else one error that says what was tried and what to do
  (pynput sees nothing from native Wayland windows, and we never pretend to
  watch).

Each source has `quality`: "counts" (x11, evdev) or "presence"; the daemon
runs the engine in presence mode for the latter.

`MICROMOVE_EVDEV_DEVICES` (a glob, default /dev/input/event*) names the
devices the evdev backend considers: for tests, and for machines that put
their input devices elsewhere.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from .tap import Tap

if TYPE_CHECKING:
    from .evdev import EvdevSource

EVDEV_PERMISSION_HINT = "add yourself to the 'input' group (sudo usermod -aG input $USER) and log in again"


class InputError(Exception):
    """Input cannot be watched; the message says why and what to do."""


class InputSource(Protocol):
    name: str  # e.g. "x11 via pynput"
    # quality: "counts" or "presence" (an optional attribute; "counts" when absent)

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


def is_wayland(env: Mapping[str, str]) -> bool:
    return bool(env.get("WAYLAND_DISPLAY")) or env.get("XDG_SESSION_TYPE", "").lower() == "wayland"


def select(
    backend: str,
    env: Mapping[str, str] | None = None,
    platform: str | None = None,
    evdev_source: EvdevSource | None = None,
    pause_min_s: float = 3.0,
) -> InputSource:
    """The input source for `backend` (auto | x11 | evdev | wayland-idle | gnome); InputError if none fits.

    `evdev_source` replaces the EvdevSource that would be tried (tests);
    `pause_min_s` is the idle timeout of a presence-only source.
    """
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform

    if platform == "darwin":
        if backend == "evdev":
            raise InputError("input.backend evdev works on Linux only; use auto or x11 on macOS")
        from .x11 import PynputSource

        return PynputSource(macos=True)

    if backend == "x11":
        if not env.get("DISPLAY"):
            raise InputError(
                "no X display: DISPLAY is not set; run micromove inside your graphical session "
                "(the user service gets DISPLAY from it), or set input.backend: evdev"
            )
        from .x11 import PynputSource

        return PynputSource()

    if backend == "evdev":
        return evdev_source or _evdev(env)

    from .idle_backends import BY_NAME, first_usable

    if backend in BY_NAME:
        if platform != "linux" and not platform.startswith("linux"):
            raise InputError(f"input.backend {backend} works on Linux only")
        src = BY_NAME[backend].make(env, pause_min_s)
        problem = src.probe()
        if problem is not None:
            raise InputError(f"input.backend {backend}: {problem}")
        return src  # type: ignore[no-any-return]

    if backend != "auto":
        raise InputError(
            f"input.backend: unknown backend {backend!r} (auto, x11, evdev, wayland-idle or gnome)"
        )

    if is_wayland(env):
        src = evdev_source or _evdev(env)
        problem = src.probe()
        if problem is None:
            return src
        idle, why = first_usable(env, pause_min_s)
        if idle is not None:
            return idle  # type: ignore[no-any-return]
        raise InputError(
            "Wayland session: X11 input (pynput) sees nothing from native Wayland windows, "
            f"the evdev backend cannot be used ({problem}), and no compositor idle interface "
            f"answers ({'; '.join(why)}). Fix one of them and restart micromove "
            "(systemctl --user restart micromove); or set input.backend: x11 in the config "
            "to count only what X11 (XWayland) windows see"
        )
    if env.get("DISPLAY"):
        from .x11 import PynputSource

        return PynputSource()
    src = evdev_source or _evdev(env)
    if src.probe() is None:
        return src
    raise InputError(
        "no display: neither DISPLAY nor WAYLAND_DISPLAY is set; start micromove from your "
        "graphical session (`mmctl install` sets up a user service bound to it), or set "
        "input.backend: evdev and " + EVDEV_PERMISSION_HINT
    )


__all__ = ["InputError", "InputSource", "Tap", "select", "is_wayland", "EVDEV_PERMISSION_HINT"]
