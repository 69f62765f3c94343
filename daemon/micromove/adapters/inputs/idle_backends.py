"""The presence-only input backends (compositor idle interfaces), as registry entries.

Each entry: a name (an `input.backend` value), its data quality
("presence": activity and pauses, no counts, no kinds), a one-line summary
for `mmctl doctor`, and a factory taking the environment and `pause.min_s`
(the idle timeout). Every source has `probe() -> None | why-not`.

`auto` on Wayland tries these, in this order, when evdev cannot read the
input devices: the Wayland idle protocol on the compositor's socket
(wlroots, KDE, Hyprland), then GNOME's Mutter IdleMonitor on the session bus
(Mutter offers no idle protocol on its socket).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Backend:
    name: str
    quality: str  # "counts" | "presence"
    summary: str
    make: Callable[[Mapping[str, str], float], Any]


def _wayland(env: Mapping[str, str], pause_min_s: float) -> Any:
    from .wayland_idle import WaylandIdleSource

    return WaylandIdleSource(pause_min_s, env=env)


def _gnome(env: Mapping[str, str], pause_min_s: float) -> Any:
    from .mutter import MutterIdleSource

    return MutterIdleSource(pause_min_s, env=env)


IDLE_BACKENDS: tuple[Backend, ...] = (
    Backend(
        "wayland-idle",
        "presence",
        "the compositor's idle protocol (ext-idle-notify-v1 or org_kde_kwin_idle: sway, KDE, Hyprland, ...)",
        _wayland,
    ),
    Backend("gnome", "presence", "GNOME's org.gnome.Mutter.IdleMonitor on the session bus", _gnome),
)
BY_NAME = {b.name: b for b in IDLE_BACKENDS}


def first_usable(env: Mapping[str, str], pause_min_s: float) -> tuple[Any | None, list[str]]:
    """The first presence source whose probe passes, and why each earlier one did not."""
    why: list[str] = []
    for b in IDLE_BACKENDS:
        if b.name == "gnome" and not env.get("DBUS_SESSION_BUS_ADDRESS"):
            why.append(f"{b.name}: no session bus (DBUS_SESSION_BUS_ADDRESS is not set)")
            continue
        if b.name == "wayland-idle" and not env.get("WAYLAND_DISPLAY"):
            why.append(f"{b.name}: WAYLAND_DISPLAY is not set")
            continue
        src = b.make(env, pause_min_s)
        problem = src.probe()
        if problem is None:
            return src, why
        why.append(f"{b.name}: {problem}")
    return None, why
