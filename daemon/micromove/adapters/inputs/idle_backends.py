"""The presence-only backends' registry hooks: `wayland-idle` and `gnome` (registry.py registers them).

Both watch a compositor's idle interface (presence.py): activity and its
pauses, no counts, no kinds. In a Wayland session `auto` tries them after
evdev (which keeps the counts): first the Wayland idle protocol on the
compositor's socket (wlroots, KDE, Hyprland), then GNOME's Mutter
IdleMonitor on the session bus (Mutter offers no idle protocol on its
socket). Their probes ask the compositor itself: there is no cheaper way to
know whether it offers the interface.

The sources are made with the default idle timeout; the daemon sets it to
`pause.min_s` (`set_idle_timeout`) before starting them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import EVDEV_PERMISSION_HINT, NOTE, PROBLEM, Finding

Env = Mapping[str, str]
DEFAULT_TIMEOUT_S = 3.0


def _linux(platform: str, name: str) -> str | None:
    return None if platform.startswith("linux") else f"input.backend {name} works on Linux only"


# ------------------------------------------------------------------ wayland-idle
def wayland_requires(env: Env, platform: str) -> str | None:
    why = _linux(platform, "wayland-idle")
    if why is None and not env.get("WAYLAND_DISPLAY"):
        why = "input.backend wayland-idle: WAYLAND_DISPLAY is not set; run micromove inside your Wayland session"
    return why


def wayland_create(env: Env, platform: str) -> Any:
    from .wayland_idle import WaylandIdleSource

    return WaylandIdleSource(DEFAULT_TIMEOUT_S, env=env)


# ------------------------------------------------------------------ gnome
def gnome_requires(env: Env, platform: str) -> str | None:
    why = _linux(platform, "gnome")
    if why is None and not env.get("DBUS_SESSION_BUS_ADDRESS"):
        why = "input.backend gnome: no session bus (DBUS_SESSION_BUS_ADDRESS is not set); run micromove inside your GNOME session"
    return why


def gnome_create(env: Env, platform: str) -> Any:
    from .mutter import MutterIdleSource

    return MutterIdleSource(DEFAULT_TIMEOUT_S, env=env)


# ------------------------------------------------------------------ shared
def probe_of(create: Any) -> Any:
    def probe(env: Env, platform: str) -> tuple[bool, str]:
        problem = create(env, platform).probe()
        return (problem is None, problem or "")

    return probe


def doctor_of(create: Any) -> Any:
    """Doctor's check: which source, what it sees, why evdev was not used, what the input group adds."""

    def doctor(env: Env, platform: str) -> Finding:
        src = create(env, platform)
        problem = src.probe()
        if problem is not None:
            return Finding(PROBLEM, problem, "run micromove inside that desktop session, or set input.backend: auto")
        from .evdev import DEV_GLOB, EvdevSource

        evdev_problem = EvdevSource(env.get("MICROMOVE_EVDEV_DEVICES") or DEV_GLOB).probe()
        why = (
            f" (evdev cannot read the input devices: {evdev_problem})"
            if evdev_problem
            else " (evdev could read the input devices and keep the counts: input.backend auto would use it)"
        )
        return Finding(
            NOTE,
            f"{src.name}: the compositor reports activity and pauses, so cues come at natural pauses; "
            f"keys, clicks and scrolls are not counted, and typing and mouse cues follow all activity{why}",
            "optional: to count keys and clicks and tell typing from the mouse, let micromove read "
            f"/dev/input through evdev: {EVDEV_PERMISSION_HINT}",
        )

    return doctor
