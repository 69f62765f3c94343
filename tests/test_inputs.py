"""Input side: the tap (coalescing, exact counts, never raising), jitter filters,
evdev decoding on real python-evdev InputEvent objects, the evdev reader thread,
and backend selection (what `auto` picks, and what it says when nothing fits).

/dev/uinput does not exist on the machines this suite was written on, so the
evdev backend is tested on synthetic events and on a device stand-in behind
the backend's own `opener` seam; the X11 backend runs for real in
test_daemon_e2e.py.
"""

from __future__ import annotations

import errno
import os
import threading
import time
from pathlib import Path

import evdev
import pytest
from evdev import ecodes

from micromove.adapters.inputs import EVDEV_PERMISSION_HINT, InputError, is_wayland, select
from micromove.adapters.inputs.evdev import Decoder, EvdevSource
from micromove.adapters.inputs.tap import JitterFilter, RelativeJitterFilter, Tap


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def make_tap() -> tuple[Tap, Clock, list[int]]:
    clock = Clock()
    wakes: list[int] = []
    return Tap(clock, lambda: wakes.append(1)), clock, wakes


# ----------------------------------------------------------------- the tap
def test_tap_coalesces_close_events_of_one_kind_and_keeps_exact_counts() -> None:
    tap, clock, wakes = make_tap()
    for t, px in ((0.0, 5.0), (0.05, 4.0), (0.15, 3.0), (0.25, 7.0)):
        clock.t = t
        tap.move(px)
    clock.t = 0.26
    tap.key()
    clock.t = 0.27
    tap.key()
    clock.t = 0.3
    tap.scroll(3)
    tap.scroll(0)  # no step, no event
    got = tap.drain()
    assert got == [
        (0.15, "move", 12.0, 3),  # three moves within 0.2 s of the first: one event, latest time
        (0.25, "move", 7.0, 1),
        (0.27, "key", 0.0, 2),
        (0.3, "scroll", 0.0, 3),
    ]
    assert tap.totals == {"key": 2, "move": 4, "click": 0, "scroll": 3}
    assert wakes == [1]  # only the first event after a drain wakes the loop
    assert tap.drain() == []
    tap.click()
    assert wakes == [1, 1] and tap.drain() == [(0.3, "click", 0.0, 1)]


def test_a_different_kind_in_between_breaks_coalescing() -> None:
    tap, clock, _ = make_tap()
    tap.key()
    clock.t = 0.01
    tap.click()
    clock.t = 0.02
    tap.key()
    assert [e[1] for e in tap.drain()] == ["key", "click", "key"]


def test_tap_callbacks_never_raise() -> None:
    def broken_clock() -> float:
        raise RuntimeError("clock broke")

    def broken_wake() -> None:
        raise OSError("pipe gone")

    tap = Tap(broken_clock)
    tap.key()
    tap.move(4.0)
    assert tap.errors == 2
    tap2 = Tap(lambda: 1.0, broken_wake)
    tap2.key()  # the wake fails, the event is kept
    tap2.poke()
    tap2.add("no-such-kind")
    assert tap2.errors == 3
    assert tap2.totals["key"] == 1


def test_tap_is_thread_safe_and_exact_under_concurrent_callbacks() -> None:
    tap = Tap(time.monotonic)
    n = 20_000

    def hammer(kind: str) -> None:
        for _ in range(n):
            tap.add(kind, 1.0 if kind == "move" else 0.0)

    drained: list[tuple[float, str, float, int]] = []
    stop = threading.Event()

    def drainer() -> None:
        while not stop.is_set():
            drained.extend(tap.drain())

    threads = [threading.Thread(target=hammer, args=(k,)) for k in ("key", "move", "click")]
    d = threading.Thread(target=drainer)
    d.start()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    stop.set()
    d.join()
    drained.extend(tap.drain())
    for kind in ("key", "move", "click"):
        assert sum(e[3] for e in drained if e[1] == kind) == n
    assert sum(e[2] for e in drained) == n


# ----------------------------------------------------------------- jitter
def test_jitter_filter_ignores_sub_3px_wobble_and_measures_from_the_last_counted_point() -> None:
    f = JitterFilter(3.0)
    assert f.step(100, 100) == 0.0  # the first position is only a reference
    assert f.step(101, 101) == 0.0
    assert f.step(102, 100) == 0.0
    assert f.step(103, 104) == pytest.approx(5.0)  # from (100, 100)
    assert f.step(104, 104) == 0.0
    assert f.step(103, 101) == pytest.approx(3.0)  # from (103, 104)


def test_relative_jitter_filter_sums_small_deltas() -> None:
    f = RelativeJitterFilter(3.0)
    assert f.step(1, 0) == 0.0
    assert f.step(1, 0) == 0.0
    assert f.step(1, 0) == pytest.approx(3.0)
    assert f.step(-3, 4) == pytest.approx(5.0)


# ----------------------------------------------------------------- evdev decoding
def ev(etype: int, code: int, value: int) -> evdev.InputEvent:
    return evdev.InputEvent(1, 0, etype, code, value)


def syn() -> evdev.InputEvent:
    return ev(ecodes.EV_SYN, ecodes.SYN_REPORT, 0)


def test_evdev_decoding_of_keys_buttons_motion_and_wheels() -> None:
    tap, _, _ = make_tap()
    dec = Decoder(tap)
    events = [
        ev(ecodes.EV_KEY, ecodes.KEY_A, 1), syn(),  # key press
        ev(ecodes.EV_KEY, ecodes.KEY_A, 2), syn(),  # auto-repeat: not a press
        ev(ecodes.EV_KEY, ecodes.KEY_A, 0), syn(),  # release
        ev(ecodes.EV_KEY, ecodes.KEY_LEFTSHIFT, 1), syn(),
        ev(ecodes.EV_KEY, ecodes.KEY_VOLUMEUP, 1), syn(),
        ev(ecodes.EV_KEY, ecodes.BTN_LEFT, 1), syn(),  # click
        ev(ecodes.EV_KEY, ecodes.BTN_LEFT, 0), syn(),
        ev(ecodes.EV_KEY, ecodes.BTN_RIGHT, 1), syn(),
        ev(ecodes.EV_KEY, ecodes.BTN_TOUCH, 1), syn(),  # touch contact: not a click
        ev(ecodes.EV_KEY, ecodes.BTN_TOOL_FINGER, 1), syn(),
        ev(ecodes.EV_KEY, ecodes.BTN_SOUTH, 1), syn(),  # gamepad: ignored
        ev(ecodes.EV_REL, ecodes.REL_X, 1), ev(ecodes.EV_REL, ecodes.REL_Y, 1), syn(),  # jitter
        ev(ecodes.EV_REL, ecodes.REL_X, 2), syn(),  # summed: (3, 1) -> a move
        ev(ecodes.EV_REL, ecodes.REL_X, -6), ev(ecodes.EV_REL, ecodes.REL_Y, 8), syn(),
        ev(ecodes.EV_REL, ecodes.REL_WHEEL, -2), ev(ecodes.EV_REL, ecodes.REL_WHEEL_HI_RES, -240), syn(),
        ev(ecodes.EV_REL, ecodes.REL_HWHEEL, 1), ev(ecodes.EV_REL, ecodes.REL_HWHEEL_HI_RES, 120), syn(),
        ev(ecodes.EV_MSC, ecodes.MSC_SCAN, 30),
    ]
    for e in events:
        dec.handle(e)
    assert tap.totals == {"key": 3, "click": 2, "move": 2, "scroll": 3}
    moves = [e for e in tap.drain() if e[1] == "move"]
    assert sum(m[2] for m in moves) == pytest.approx(10**0.5 + 10.0)


class StandInDevice:
    """What EvdevSource needs of an evdev.InputDevice, fed through a real pipe."""

    def __init__(self, path: str, caps: dict[int, list[int]]) -> None:
        self.path = path
        self._caps = caps
        self.fd, self._w = os.pipe()
        os.set_blocking(self.fd, False)
        self.queue: list[evdev.InputEvent] = []
        self.lock = threading.Lock()
        self.closed = False

    def capabilities(self) -> dict[int, list[int]]:
        return self._caps

    def emit(self, *events: evdev.InputEvent) -> None:
        with self.lock:
            self.queue.extend(events)
        os.write(self._w, b"x")

    def read(self) -> list[evdev.InputEvent]:
        if os.read(self.fd, 4096) == b"":  # writer closed: like an unplugged device
            raise OSError(errno.ENODEV, "No such device")
        with self.lock:
            out, self.queue = self.queue, []
        return out

    def unplug(self) -> None:
        os.close(self._w)

    def close(self) -> None:
        self.closed = True


def test_evdev_source_reads_keyboards_and_pointers_on_its_thread(tmp_path: Path) -> None:
    for name in ("event0", "event1", "event2"):
        (tmp_path / name).touch()
    caps = {
        "event0": {ecodes.EV_KEY: [ecodes.KEY_A, ecodes.KEY_SPACE]},  # keyboard
        "event1": {ecodes.EV_KEY: [ecodes.BTN_LEFT], ecodes.EV_REL: [ecodes.REL_X, ecodes.REL_Y]},
        "event2": {ecodes.EV_KEY: [ecodes.KEY_POWER]},  # power button: not watched
    }
    devices: dict[str, StandInDevice] = {}

    def opener(path: str) -> StandInDevice:
        d = devices[Path(path).name] = StandInDevice(path, caps[Path(path).name])
        return d

    woke = threading.Event()
    tap = Tap(time.monotonic, woke.set)
    src = EvdevSource(str(tmp_path / "event*"), opener=opener)
    src.start(tap)
    try:
        assert src.alive() and devices["event2"].closed
        devices["event0"].emit(ev(ecodes.EV_KEY, ecodes.KEY_A, 1), syn(), ev(ecodes.EV_KEY, ecodes.KEY_A, 0))
        devices["event1"].emit(ev(ecodes.EV_REL, ecodes.REL_X, 30), syn(), ev(ecodes.EV_KEY, ecodes.BTN_LEFT, 1))
        assert woke.wait(5)
        deadline = time.monotonic() + 5
        while sum(tap.totals.values()) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert tap.totals == {"key": 1, "move": 1, "click": 1, "scroll": 0}
        # Unplugging every device ends the reader, and says so; the pass the
        # poke wakes (the thread is still finishing) already sees it dead.
        seen: list[bool] = []
        tap._wake = lambda: seen.append(src.alive())  # noqa: SLF001 - the daemon's wake-up
        devices["event0"].unplug()
        devices["event1"].unplug()
        deadline = time.monotonic() + 5
        while src.alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not src.alive()
        assert src.failure() == "every input device went away"
        assert seen and seen[-1] is False, seen
    finally:
        src.stop()


def test_evdev_permission_error_says_exactly_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "event3").touch()

    def opener(path: str) -> object:
        raise PermissionError(13, "Permission denied", path)

    src = EvdevSource(str(tmp_path / "event*"), opener=opener)
    with pytest.raises(InputError) as exc:
        src.start(Tap(time.monotonic))
    assert str(exc.value) == (
        f"cannot read {tmp_path}/event3: add yourself to the 'input' group "
        "(sudo usermod -aG input $USER) and log in again"
    )


# ----------------------------------------------------------------- backend selection
def test_is_wayland() -> None:
    assert is_wayland({"WAYLAND_DISPLAY": "wayland-0"})
    assert is_wayland({"XDG_SESSION_TYPE": "wayland", "DISPLAY": ":0"})
    assert not is_wayland({"DISPLAY": ":0", "XDG_SESSION_TYPE": "x11"})


def test_auto_picks_x11_in_an_x_session_and_evdev_for_evdev() -> None:
    assert select("auto", env={"DISPLAY": ":7"}, platform="linux").name == "x11 via pynput"
    assert select("x11", env={"DISPLAY": ":7"}, platform="linux").name == "x11 via pynput"
    assert select("evdev", env={}, platform="linux").name == "evdev"
    assert select("auto", env={}, platform="darwin").name == "macOS via pynput"


def test_wayland_without_readable_devices_says_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "event0").touch()

    def opener(path: str) -> object:
        raise PermissionError(13, "Permission denied", path)

    src = EvdevSource(str(tmp_path / "event*"), opener=opener)
    with pytest.raises(InputError) as exc:
        select("auto", env={"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}, platform="linux", evdev_source=src)
    msg = str(exc.value)
    assert msg.startswith("Wayland session: X11 input (pynput) sees nothing from native Wayland windows")
    assert f"cannot read {tmp_path}/event0: {EVDEV_PERMISSION_HINT}" in msg
    assert "input.backend: x11" in msg


def test_wayland_with_readable_devices_uses_evdev(tmp_path: Path) -> None:
    (tmp_path / "event0").touch()
    src = EvdevSource(
        str(tmp_path / "event*"),
        opener=lambda p: StandInDevice(p, {ecodes.EV_KEY: [ecodes.KEY_A]}),
    )
    assert select("auto", env={"XDG_SESSION_TYPE": "wayland"}, platform="linux", evdev_source=src) is src


def test_no_display_at_all_says_what_to_do(tmp_path: Path) -> None:
    src = EvdevSource(str(tmp_path / "event*"))  # no devices there
    with pytest.raises(InputError) as exc:
        select("auto", env={}, platform="linux", evdev_source=src)
    assert "neither DISPLAY nor WAYLAND_DISPLAY is set" in str(exc.value)
    with pytest.raises(InputError) as exc:
        select("x11", env={}, platform="linux")
    assert "DISPLAY is not set" in str(exc.value)


def test_evdev_reader_failure_says_what_failed_but_never_an_unknown_errors_text(tmp_path: Path) -> None:
    secret = "q7xz-s3cr3t"
    for name in ("event0", "event1"):
        (tmp_path / name).touch()

    class Broken(StandInDevice):
        def __init__(self, path: str, exc: BaseException) -> None:
            super().__init__(path, {ecodes.EV_KEY: [ecodes.KEY_A]})
            self.exc = exc

        def read(self) -> list[evdev.InputEvent]:
            super().read()
            raise self.exc

    for exc, why in (
        (ValueError(f"bad event for key {secret!r}"), "ValueError"),
        (PermissionError(errno.EACCES, "Permission denied"), "PermissionError: [Errno 13] Permission denied"),
    ):
        devices: list[Broken] = []

        def opener(path: str, exc: BaseException = exc, devices: list[Broken] = devices) -> Broken:
            devices.append(Broken(path, exc))
            return devices[-1]

        woke = threading.Event()
        src = EvdevSource(str(tmp_path / "event*"), opener=opener)
        src.start(Tap(time.monotonic, woke.set))
        try:
            devices[0].emit(ev(ecodes.EV_KEY, ecodes.KEY_A, 1))
            assert woke.wait(5)
            deadline = time.monotonic() + 5
            while src.alive() and time.monotonic() < deadline:
                time.sleep(0.01)
            assert src.failure() == why
        finally:
            src.stop()


def test_evdev_devices_can_be_pointed_elsewhere_and_none_there_says_what_to_do(tmp_path: Path) -> None:
    env = {"WAYLAND_DISPLAY": "wayland-0", "MICROMOVE_EVDEV_DEVICES": f"{tmp_path}/event*"}
    with pytest.raises(InputError) as exc:
        select("auto", env=env, platform="linux")
    msg = str(exc.value)
    assert f"no input devices under {tmp_path}: run micromove on the machine the keyboard" in msg
    assert EVDEV_PERMISSION_HINT in msg and "restart micromove" in msg
    src = select("evdev", env=env, platform="linux")
    assert isinstance(src, EvdevSource) and src.pattern == f"{tmp_path}/event*"
