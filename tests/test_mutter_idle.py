"""GNOME's org.gnome.Mutter.IdleMonitor as micromove's input source, on a real headless mutter 43.

Input goes in through org.gnome.Mutter.RemoteDesktop. Idle inhibition (a
video playing) comes from tests/session_manager.py, a stand-in for
gnome-session's `InhibitedActions` property, which Mutter follows.
"""

from __future__ import annotations

import logging
import time

import pytest

from desktop import session_bus_fixture  # noqa: F401 - fixture by name
from micromove.adapters.inputs.mutter import MutterIdleSource
from micromove.adapters.inputs.tap import Tap
from session_manager import SessionManager
from wayland import Mutter, RemoteDesktop, mutter_fixture  # noqa: F401 - fixture by name

pytestmark = [pytest.mark.desktop, pytest.mark.slow]
TIMEOUT_S = 0.5


def drain(tap: Tap) -> list[tuple[float, str]]:
    return [(t, k) for t, k, _, _ in tap.drain()]


def wait_for(tap: Tap, n: int, timeout: float) -> list[tuple[float, str]]:
    got: list[tuple[float, str]] = []
    deadline = time.monotonic() + timeout
    while len(got) < n and time.monotonic() < deadline:
        got += drain(tap)
        time.sleep(0.02)
    return got


def settle(tap: Tap, quiet_s: float = TIMEOUT_S + 0.4, at_most_s: float = 10.0) -> None:
    """Let the source's start-up reports (busy, then idle after the timeout)
    all arrive, however slow the machine: drain until nothing came for
    `quiet_s`."""
    end = time.monotonic() + at_most_s
    last = time.monotonic()
    while time.monotonic() < end and time.monotonic() - last < quiet_s:
        if drain(tap):
            last = time.monotonic()
        time.sleep(0.02)


def test_active_and_idle_times_are_exact(mutter: Mutter) -> None:
    src = MutterIdleSource(TIMEOUT_S, env={"DBUS_SESSION_BUS_ADDRESS": mutter.bus})
    assert src.probe() is None
    tap = Tap(time.monotonic)
    src.start(tap)
    rd = RemoteDesktop(mutter.bus)
    try:
        settle(tap)  # mutter's own start
        rd.key()
        began = time.monotonic()
        for _ in range(12):  # input every 0.1 s: well inside the idle timeout, even on a loaded machine
            time.sleep(0.1)
            rd.move()
        last = time.monotonic()
        got = wait_for(tap, 2, 5.0)
        assert [k for _, k in got] == ["busy", "idle"], got
        (b, _), (i, _) = got
        assert abs(b - began) < 0.05 and abs(i - last) < 0.05, (b - began, i - last)
        # The active watch is armed again: the next input is seen too.
        rd.key()
        again = time.monotonic()
        ((b2, k2),) = wait_for(tap, 1, 3.0)
        assert k2 == "busy" and abs(b2 - again) < 0.05
    finally:
        rd.close()
        src.stop()
    assert not src.alive()


def test_a_pause_is_found_while_idle_is_inhibited(mutter: Mutter, caplog: pytest.LogCaptureFixture) -> None:
    """Mutter's idle watch does not fire while idle is inhibited; GetIdletime
    still counts, so the source asks it (only while input goes on)."""
    caplog.set_level(logging.DEBUG, logger="micromove")  # a failure shows what the watcher saw
    sm = SessionManager(mutter.bus).start()
    src = MutterIdleSource(TIMEOUT_S, env={"DBUS_SESSION_BUS_ADDRESS": mutter.bus}, check_s=1.0)
    tap = Tap(time.monotonic)
    src.start(tap)
    rd = RemoteDesktop(mutter.bus)
    try:
        settle(tap)
        sm.set_inhibited(8)  # a video plays
        time.sleep(0.3)
        rd.key()
        time.sleep(0.3)
        rd.key()
        last = time.monotonic()
        (_b, bk), (i, ik) = wait_for(tap, 2, 1.0 + TIMEOUT_S + 3.0)
        assert (bk, ik) == ("busy", "idle")
        assert abs(i - last) < 0.05, i - last  # exact, though found by asking
        # Idle and still inhibited: the next input is still seen.
        rd.key()
        ((_, k),) = wait_for(tap, 1, 3.0)
        assert k == "busy"
    finally:
        rd.close()
        src.stop()
        sm.close()


def test_no_idle_monitor_on_the_bus(session_bus: str) -> None:
    src = MutterIdleSource(1.0, env={"DBUS_SESSION_BUS_ADDRESS": session_bus})
    assert src.probe() == "org.gnome.Mutter.IdleMonitor is not on the session bus (not a GNOME session)"
    assert MutterIdleSource(1.0, env={}).probe() == "no session bus: DBUS_SESSION_BUS_ADDRESS is not set"
