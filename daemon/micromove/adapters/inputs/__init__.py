"""Input backends: where the daemon's key, move, click and scroll events come from.

Every backend is an `InputSource` (base.py): `start(tap)` begins watching
and hands events to the tap (tap.py) from its own thread(s); `stop()` ends
that; `alive()` says whether it still watches, and `failure()` why not. A
backend pokes the tap when it dies, so the main loop notices at once without
any periodic polling.

The backends, what `input.backend` may name, how `auto` picks one and what
`mmctl doctor` checks for each, are listed in one place: registry.py.
"""

from __future__ import annotations

from .base import EVDEV_PERMISSION_HINT, InputError, InputSource, is_wayland
from .registry import select
from .tap import Tap

__all__ = ["InputError", "InputSource", "Tap", "select", "is_wayland", "EVDEV_PERMISSION_HINT"]
