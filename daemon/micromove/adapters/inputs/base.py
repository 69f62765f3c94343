"""What every input backend is: the `InputSource` protocol and its error."""

from __future__ import annotations

from collections.abc import Mapping
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
