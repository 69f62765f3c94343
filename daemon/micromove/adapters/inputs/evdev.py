"""Input from /dev/input through python-evdev: Wayland sessions and consoles (Linux).

Opens every keyboard (a device with letter keys) and pointer (relative
motion or mouse buttons) under /dev/input, read-only and never grabbed, and
reads them on one select-based thread. Reading the devices needs the `input`
group; without it the error names the device and says what to do.

Decoding (`Decoder`), one event at a time:
- EV_KEY value 1 (a press; 0 is a release, 2 an auto-repeat) with a mouse
  button code (BTN_LEFT..BTN_TASK) -> a click; with a keyboard key code -> a
  key; other BTN_* codes (touch, tool, joystick, digitizer) are ignored;
- EV_REL REL_X / REL_Y -> summed per SYN_REPORT frame into a move; sub-3-px
  jitter is summed until it reaches 3 px (tap.RelativeJitterFilter); the
  distance is in device counts, which is what a relative pointer reports;
- EV_REL REL_WHEEL / REL_HWHEEL -> |value| scroll steps (the high-resolution
  REL_*_HI_RES duplicates are ignored, so a step counts once).
Which key it was is never kept: the code is only compared with ranges.
Touchpads that report absolute positions (EV_ABS) are not counted as moves.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import logging
import os
import select
from typing import Any

from ...logsetup import describe_exception
from .base import EVDEV_PERMISSION_HINT, InputError, ReaderSource
from .tap import RelativeJitterFilter, Tap

log = logging.getLogger("micromove")

EV_SYN, EV_KEY, EV_REL = 0x00, 0x01, 0x02
SYN_REPORT = 0
REL_X, REL_Y, REL_HWHEEL, REL_WHEEL = 0x00, 0x01, 0x06, 0x08
BTN_MISC, BTN_MOUSE, BTN_TASK, KEY_OK = 0x100, 0x110, 0x117, 0x160
BTN_TRIGGER_HAPPY1, BTN_TRIGGER_HAPPY40 = 0x2C0, 0x2E7
KEY_A, KEY_SPACE = 30, 57

DEV_GLOB = "/dev/input/event*"


def is_keyboard_code(code: int) -> bool:
    if BTN_MISC <= code < KEY_OK:
        return False
    return not BTN_TRIGGER_HAPPY1 <= code <= BTN_TRIGGER_HAPPY40


class Decoder:
    """Turns evdev events (type, code, value) into tap calls. One per device."""

    __slots__ = ("tap", "_dx", "_dy", "_jitter")

    def __init__(self, tap: Tap) -> None:
        self.tap = tap
        self._dx = 0
        self._dy = 0
        self._jitter = RelativeJitterFilter(3.0)

    def handle(self, ev: Any) -> None:
        etype, code, value = ev.type, ev.code, ev.value
        if etype == EV_KEY:
            if value != 1:
                return
            if BTN_MOUSE <= code <= BTN_TASK:
                self.tap.click()
            elif is_keyboard_code(code):
                self.tap.key()
        elif etype == EV_REL:
            if code == REL_X:
                self._dx += value
            elif code == REL_Y:
                self._dy += value
            elif code in (REL_WHEEL, REL_HWHEEL):
                self.tap.scroll(abs(value))
        elif etype == EV_SYN and code == SYN_REPORT and (self._dx or self._dy):
            px = self._jitter.step(self._dx, self._dy)
            self._dx = self._dy = 0
            if px:
                self.tap.move(px)


def _wanted(caps: dict[int, list[Any]]) -> bool:
    keys = set(caps.get(EV_KEY, ()))
    rels = set(caps.get(EV_REL, ()))
    keyboard = KEY_A in keys or KEY_SPACE in keys
    pointer = REL_X in rels or REL_WHEEL in rels or any(BTN_MOUSE <= k <= BTN_TASK for k in keys)
    return keyboard or pointer


class EvdevSource(ReaderSource):
    name = "evdev"
    ended = "the evdev reader ended"

    def __init__(self, pattern: str = DEV_GLOB, opener: Any = None) -> None:
        super().__init__()
        self.pattern = pattern
        self._opener = opener  # default: evdev.InputDevice
        self._devices: list[Any] = []

    def _paths(self) -> list[str]:
        return sorted(glob.glob(self.pattern), key=lambda p: (len(p), p))

    def _open(self) -> list[Any]:
        """Open the keyboards and pointers; InputError says what is missing."""
        opener = self._opener
        if opener is None:
            try:
                import evdev
            except ImportError:
                raise InputError("the evdev backend needs python-evdev (pip install evdev)") from None
            opener = evdev.InputDevice
        paths = self._paths()
        if not paths:
            folder = os.path.dirname(self.pattern)
            raise InputError(
                f"no input devices under {folder}: run micromove on the machine the keyboard "
                f"and mouse are attached to (not in a container), and to read them "
                f"{EVDEV_PERMISSION_HINT}"
            )
        opened: list[Any] = []
        for path in paths:
            try:
                dev = opener(path)
            except PermissionError:
                for d in opened:
                    d.close()
                raise InputError(f"cannot read {path}: {EVDEV_PERMISSION_HINT}") from None
            except OSError:
                continue  # gone meanwhile, or not an input device
            try:
                caps = dev.capabilities()
            except OSError:
                dev.close()
                continue
            if _wanted(caps):
                opened.append(dev)
            else:
                dev.close()
        if not opened:
            raise InputError(f"no keyboard or pointer found under {os.path.dirname(self.pattern)}")
        return opened

    def probe(self) -> str | None:
        """None when the devices can be opened; else the problem, in words."""
        try:
            for d in self._open():
                d.close()
        except InputError as exc:
            return str(exc)
        return None

    def start(self, tap: Tap) -> None:
        self._tap = tap
        self._devices = self._open()
        self._start_reader(self._read_loop, "micromove-evdev")
        log.debug("evdev: reading %d devices", len(self._devices))

    def _read_loop(self) -> None:
        assert self._tap is not None
        tap = self._tap
        decoders = {d.fd: (d, Decoder(tap)) for d in self._devices}
        why = "the reader stopped"
        try:
            while decoders:
                ready, _, _ = select.select([self._stop_r, *decoders], [], [])
                if self._stop_r in ready:
                    return
                for fd in ready:
                    dev, dec = decoders[fd]
                    try:
                        for ev in dev.read():
                            try:
                                dec.handle(ev)
                            except Exception:  # noqa: BLE001 - never die on one event
                                tap.errors += 1
                    except BlockingIOError:
                        continue
                    except OSError as exc:
                        if exc.errno in (errno.ENODEV, errno.EIO, errno.EBADF):
                            del decoders[fd]  # unplugged
                            continue
                        raise
            why = "every input device went away"
        except BaseException as exc:  # noqa: BLE001
            why = describe_exception(exc)
        finally:
            self._died(why)

    def _close(self) -> None:
        for d in self._devices:
            with contextlib.suppress(OSError):
                d.close()
