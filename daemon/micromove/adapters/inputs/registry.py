"""The input backends, in one table: what `input.backend` may name, how `auto`
picks one, and what `mmctl doctor` checks for each.

Each `Backend` brings:
- `name`: its `input.backend` value;
- `quality`: "counts" (keys, moves, clicks and scroll steps, each counted) or
  "presence" (only that someone is using the machine, from an idle monitor);
- `sessions`: the sessions `auto` may pick it for ("x11", "wayland",
  "console", "macos"), and `rank`, its preference there (lower first);
- `requires(env, platform)`: why it cannot even be tried here (None: it can),
  checked for an explicit choice too;
- `probe(env, platform) -> (usable, why_not)`: can it watch input here, now?
  (`auto` takes the first usable one; cheap, imports no backend library);
- `create(env, platform)`: the `InputSource` (its library loads in `start`);
- `doctor(env, platform) -> Finding`: what `mmctl doctor` says about it.

Adding a backend is one `register(Backend(...))` call here (plus its module);
config validation, `auto` and doctor follow from the table.

`auto`: on macOS pynput's own backend; in a Wayland session the Wayland
candidates (evdev: X11 input sees nothing from native Wayland windows); in
an X11 session (DISPLAY set, not Wayland) the X11 candidates: xi2 (XInput2
raw events) when the X server offers XInput 2.0, else x11 (pynput); with no
display at all the console candidates. None usable: an InputError that says
what to do (we never pretend to watch).

`MICROMOVE_EVDEV_DEVICES` (a glob, default /dev/input/event*) names the
devices the evdev backend considers: for tests, and for machines that put
their input devices elsewhere.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from .base import EVDEV_PERMISSION_HINT, OK, PROBLEM, Finding, InputError, InputSource, is_wayland

if TYPE_CHECKING:
    from .evdev import EvdevSource

Env = Mapping[str, str]
Quality = Literal["counts", "presence"]
Session = Literal["x11", "wayland", "console", "macos"]
@dataclass(frozen=True, slots=True)
class Backend:
    name: str
    summary: str
    quality: Quality
    sessions: tuple[Session, ...]
    rank: int
    requires: Callable[[Env, str], str | None]
    probe: Callable[[Env, str], tuple[bool, str]]
    create: Callable[[Env, str], InputSource]
    doctor: Callable[[Env, str], Finding]


REGISTRY: dict[str, Backend] = {}


def register(backend: Backend) -> None:
    """Add (or replace) a backend in the table."""
    REGISTRY[backend.name] = backend


def names() -> tuple[str, ...]:
    """Every value `input.backend` accepts: auto, then the backends."""
    return ("auto", *REGISTRY)


def session_of(env: Env, platform: str) -> Session:
    if platform == "darwin":
        return "macos"
    if is_wayland(env):
        return "wayland"
    if env.get("DISPLAY"):
        return "x11"
    return "console"


def candidates(session: Session) -> list[Backend]:
    """The backends `auto` tries in `session`, best first."""
    return sorted((b for b in REGISTRY.values() if session in b.sessions), key=lambda b: b.rank)


# ------------------------------------------------------------------ choosing
_SESSION_HELP = {
    "wayland": (
        "Wayland session: X11 input (pynput) sees nothing from native Wayland windows, and {reasons}. "
        "Fix that and restart micromove (systemctl --user restart micromove); or set input.backend: x11 "
        "in the config to count only what X11 (XWayland) windows see"
    ),
    "console": (
        "no display: neither DISPLAY nor WAYLAND_DISPLAY is set; start micromove from your graphical "
        "session (`mmctl install` sets up a user service bound to it), or set input.backend: evdev and "
        + EVDEV_PERMISSION_HINT
    ),
}


def choose(
    backend: str,
    env: Env | None = None,
    platform: str | None = None,
    overrides: Mapping[str, Backend] | None = None,
) -> Backend:
    """The registry entry for `backend` (auto or a name) here; InputError if none fits."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    table = dict(REGISTRY, **(overrides or {}))
    if backend != "auto":
        b = table.get(backend)
        if b is None:
            raise InputError(f"input.backend: unknown backend {backend!r} ({_one_of()})")
        why = b.requires(env, platform)
        if why is not None:
            raise InputError(why)
        return b
    session = session_of(env, platform)
    tried: list[tuple[Backend, str]] = []
    for b in sorted((b for b in table.values() if session in b.sessions), key=lambda b: b.rank):
        if b.requires(env, platform) is not None:
            continue
        usable, why = b.probe(env, platform)
        if usable:
            return b
        tried.append((b, why))
    reasons = "; ".join(f"the {b.name} backend cannot be used: {why}" for b, why in tried) or "no backend can watch it"
    help_ = _SESSION_HELP.get(session, "no input backend can watch input here: {reasons}")
    raise InputError(help_.format(reasons=reasons))


def select(
    backend: str,
    env: Env | None = None,
    platform: str | None = None,
    evdev_source: EvdevSource | None = None,
) -> InputSource:
    """The input source for `backend` (auto or a registered name); InputError if none fits.

    `evdev_source` replaces the EvdevSource that would be tried (tests).
    """
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    overrides = {} if evdev_source is None else {"evdev": _evdev_from(evdev_source)}
    return choose(backend, env, platform, overrides).create(env, platform)


def _one_of() -> str:
    n = names()
    return ", ".join(n[:-1]) + " or " + n[-1]


# ------------------------------------------------------------------ x11 (pynput)
def _x11_requires(env: Env, platform: str) -> str | None:
    if platform == "darwin" or env.get("DISPLAY"):
        return None
    return (
        "no X display: DISPLAY is not set; run micromove inside your graphical session "
        "(the user service gets DISPLAY from it), or set input.backend: evdev"
    )


def _x11_probe(env: Env, platform: str) -> tuple[bool, str]:
    why = _x11_requires(env, platform)
    return (why is None, why or "")


def _x11_create(env: Env, platform: str) -> InputSource:
    from .x11 import PynputSource

    return PynputSource(macos=platform == "darwin")


def _x11_doctor(env: Env, platform: str) -> Finding:
    from .x11check import check_pynput

    return check_pynput(env, platform)


register(Backend(
    name="x11",
    summary="X11 through pynput (on macOS: pynput's own backend)",
    quality="counts",
    sessions=("x11", "macos"),
    rank=50,
    requires=_x11_requires,
    probe=_x11_probe,
    create=_x11_create,
    doctor=_x11_doctor,
))  # fmt: skip


# ------------------------------------------------------------------ xi2 (XInput2 raw events)
def _xi2_requires(env: Env, platform: str) -> str | None:
    if not platform.startswith("linux"):
        return "input.backend xi2 works on Linux (X11) only; use auto or pynput here"
    return _x11_requires(env, platform)


def _xi2_probe(env: Env, platform: str) -> tuple[bool, str]:
    why = _xi2_requires(env, platform)
    if why is not None:
        return False, why
    from .xi2 import XI2Source

    problem = XI2Source(env["DISPLAY"]).probe()
    return problem is None, problem or ""


def _xi2_create(env: Env, platform: str) -> InputSource:
    from .xi2 import XI2Source

    return XI2Source(env.get("DISPLAY"))


def _xi2_doctor(env: Env, platform: str) -> Finding:
    display = env.get("DISPLAY", "")
    usable, why = _xi2_probe(env, platform)
    if not usable:
        return Finding(
            PROBLEM, f"x11 via XInput2 on display {display}: {why}",
            "set input.backend: auto (it falls back to pynput when XInput2 cannot be used), or fix the X server",
        )  # fmt: skip
    return Finding(OK, f"x11 via XInput2: display {display} answers, XInput 2.0 or later present")


register(Backend(
    name="xi2",
    summary="X11 through XInput2 raw events, read off the X connection in batches (the default on X11)",
    quality="counts",
    sessions=("x11",),
    rank=10,  # before pynput: a fraction of its cost
    requires=_xi2_requires,
    probe=_xi2_probe,
    create=_xi2_create,
    doctor=_xi2_doctor,
))  # fmt: skip
# `pynput` names the x11 backend too, for a config that wants to say which library.
register(dataclasses.replace(REGISTRY["x11"], name="pynput", summary="the same as x11: X11 through pynput", sessions=()))


# ------------------------------------------------------------------ evdev
def _evdev_source(env: Env) -> EvdevSource:
    from .evdev import DEV_GLOB, EvdevSource

    return EvdevSource(env.get("MICROMOVE_EVDEV_DEVICES") or DEV_GLOB)


def _evdev_requires(env: Env, platform: str) -> str | None:
    if platform == "darwin":
        return "input.backend evdev works on Linux only; use auto or x11 on macOS"
    return None


def _probe_source(src: EvdevSource) -> tuple[bool, str]:
    problem = src.probe()
    return (problem is None, problem or "")


def _evdev_doctor_of(src: EvdevSource) -> Finding:
    ok, problem = _probe_source(src)
    if not ok:
        return Finding(PROBLEM, f"evdev: {problem}", EVDEV_PERMISSION_HINT)
    return Finding(OK, f"{src.name}: input devices readable")


_EVDEV = Backend(
    name="evdev",
    summary="/dev/input through python-evdev (Wayland, consoles; needs the 'input' group)",
    quality="counts",
    sessions=("wayland", "console"),
    rank=50,
    requires=_evdev_requires,
    probe=lambda env, platform: _probe_source(_evdev_source(env)),
    create=lambda env, platform: _evdev_source(env),
    doctor=lambda env, platform: _evdev_doctor_of(_evdev_source(env)),
)
register(_EVDEV)


def _evdev_from(src: EvdevSource) -> Backend:
    """The evdev entry, on a given source."""
    return dataclasses.replace(
        _EVDEV,
        probe=lambda env, platform: _probe_source(src),
        create=lambda env, platform: src,
        doctor=lambda env, platform: _evdev_doctor_of(src),
    )


# ------------------------------------------------------------------ compositor idle interfaces
# Presence only (presence.py, idle_backends.py): tried after evdev on Wayland.
def _idle_backends() -> None:
    from . import idle_backends as ib

    register(Backend(
        name="wayland-idle",
        summary="the compositor's idle protocol, ext-idle-notify-v1 or org_kde_kwin_idle (KDE, sway, Hyprland, ...); presence only",
        quality="presence",
        sessions=("wayland",),
        rank=60,
        requires=ib.wayland_requires,
        probe=ib.probe_of(ib.wayland_create),
        create=ib.wayland_create,
        doctor=ib.doctor_of(ib.wayland_create),
    ))  # fmt: skip
    register(Backend(
        name="gnome",
        summary="GNOME's org.gnome.Mutter.IdleMonitor on the session bus; presence only",
        quality="presence",
        sessions=("wayland",),
        rank=70,
        requires=ib.gnome_requires,
        probe=ib.probe_of(ib.gnome_create),
        create=ib.gnome_create,
        doctor=ib.doctor_of(ib.gnome_create),
    ))  # fmt: skip


_idle_backends()
