"""`ext-idle-notify-v1`: micromove's Wayland idle client against a protocol-level test double.

No Debian 12 compositor offers ext-idle-notify-v1 (sway 1.7 offers only
org_kde_kwin_idle, which test_wayland_e2e.py runs against a real sway), so
the very same client code (adapters/inputs/wayland_idle.py, through
pywayland's libwayland-client) is run here against tests/idle_double.py, a
Wayland server written on the wire protocol that offers `wl_seat` and
`ext_idle_notifier_v1` version 2 or 1 and behaves as the protocol says.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop import NotifyServer, session_bus_fixture  # noqa: F401 - fixture by name
from idle_double import IdleDouble
from micromove.adapters.inputs.tap import Tap
from micromove.adapters.inputs.wayland_idle import WaylandIdleSource
from test_daemon_e2e import PAUSE_S, Run, deliveries, start_run
from test_wayland_e2e import check_stats, config_text, home_fixture, runs_fixture, wayland_env  # noqa: F401

TIMEOUT_S = 0.4


@pytest.fixture(name="double", params=[2, 1], ids=["v2", "v1"])
def double_fixture(request: pytest.FixtureRequest) -> Iterator[IdleDouble]:
    d = IdleDouble(request.param)
    yield d
    d.close()


def watch(double: IdleDouble) -> tuple[WaylandIdleSource, Tap, float]:
    src = WaylandIdleSource(TIMEOUT_S, env={"WAYLAND_DISPLAY": double.path})
    assert src.probe() is None
    tap = Tap(time.monotonic)
    src.start(tap)
    return src, tap, time.monotonic()


def test_binds_the_input_only_notification_where_offered(double: IdleDouble) -> None:
    src, _tap, _t0 = watch(double)
    try:
        if double.version >= 2:
            assert src.protocol == "ext-idle-notify-v1 (input only)"
            assert double.requests[-1] == "get_input_idle_notification"
        else:
            assert src.protocol == "ext-idle-notify-v1"
            assert double.requests[-1] == "get_idle_notification"
        assert double.timers() == [(TIMEOUT_S, double.version >= 2)]  # the timeout is pause.min_s
        assert src.name.endswith("presence only")
    finally:
        src.stop()


def test_reports_when_input_began_and_the_latest_input_exactly(double: IdleDouble) -> None:
    src, tap, _t0 = watch(double)
    try:
        time.sleep(TIMEOUT_S + 0.3)  # the first idle after start says nothing: no input yet
        assert tap.drain() == []
        double.input()
        began = time.monotonic()
        for _ in range(4):
            time.sleep(0.1)
            double.input()
        last = time.monotonic()
        time.sleep(TIMEOUT_S + 0.3)
        (b, bk, _, _), (i, ik, _, _) = tap.drain()
        assert (bk, ik) == ("busy", "idle")
        assert abs(b - began) < 0.05 and abs(i - last) < 0.05, (b - began, i - last)
        assert src.alive() and src.failure() is None
    finally:
        src.stop()
    assert not src.alive()


def test_input_from_the_start_counts_from_the_start(double: IdleDouble) -> None:
    """No event comes before the first idle: a late first idle means input went
    on from (within one timeout of) the start until its time minus the timeout."""
    src, tap, t0 = watch(double)
    try:
        for _ in range(5):
            double.input()
            time.sleep(0.1)
        last = time.monotonic() - 0.1
        time.sleep(TIMEOUT_S + 0.3)
        (b, bk, _, _), (i, ik, _, _) = tap.drain()
        assert (bk, ik) == ("busy", "idle")
        assert t0 - 0.05 < b <= t0 and abs(i - last) < 0.05, (b - t0, i - last)
    finally:
        src.stop()


def test_an_inhibitor_hides_pauses_only_from_version_1(double: IdleDouble) -> None:
    src, tap, _t0 = watch(double)
    try:
        time.sleep(TIMEOUT_S + 0.2)  # idle since the start
        double.inhibit(True)  # a video plays
        double.input()
        time.sleep(TIMEOUT_S + 0.4)
        kinds = [k for _, k, _, _ in tap.drain()]
        # v2's input-only notification ignores inhibitors: the pause is seen.
        assert kinds == (["busy", "idle"] if double.version >= 2 else ["busy"]), kinds
    finally:
        src.stop()


def test_the_compositor_going_away_is_a_failure_with_a_reason(double: IdleDouble) -> None:
    src, tap, _t0 = watch(double)
    woke: list[bool] = []
    tap._wake = lambda: woke.append(src.alive())  # noqa: SLF001 - the daemon's wake-up, seen as it sees it
    double.close()
    deadline = time.monotonic() + 5
    while src.alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not src.alive()
    assert src.failure() == "the Wayland compositor closed the connection"
    # The main loop was poked at once, and the pass it woke for (while the
    # watcher thread is still finishing) already sees the source dead.
    assert woke and woke[-1] is False, woke
    src.stop()


def test_probe_without_an_idle_protocol_or_socket(tmp_path: Path) -> None:
    missing = WaylandIdleSource(1.0, env={"WAYLAND_DISPLAY": str(tmp_path / "nothing")})
    assert (missing.probe() or "").startswith("cannot connect to the Wayland compositor at ")
    assert WaylandIdleSource(1.0, env={}).probe() == "no Wayland display: WAYLAND_DISPLAY is not set"


@pytest.mark.desktop
@pytest.mark.slow
def test_mmctl_run_end_to_end_on_ext_idle_notify(
    session_bus: str, home: Path, runs: list[Run], tmp_path: Path
) -> None:
    """Typing (the double's input) makes the wrist pulse due; it goes out at the pause."""
    double = IdleDouble(2)
    server = NotifyServer(session_bus, tmp_path / "n.jsonl").start()
    try:
        env = wayland_env(home, session_bus, double.path)
        run = start_run(runs, home, env, config_text())
        line = run.wait_log("watching input")
        assert "ext-idle-notify-v1 (input only), presence only" in line, line
        time.sleep(PAUSE_S + 0.5)  # the double's first idle: away since the start
        t_first = time.time()
        double.input()
        while time.time() - t_first < 4.5:
            time.sleep(0.2)
            double.input()
        t_last = time.time()
        server.wait_records(1, timeout=30)
        run.wait_log("cue set delivered")
        assert run.stop() == 0, run.log
        (rec,) = server.records()
        assert rec["body"].startswith("Wrist pulse") and rec["t"] > t_last
        ((_, t, reason, delivered, _err, cues),) = deliveries(home)
        assert (cues, reason, delivered) == ("hands.wrist_pulse", "pause", 1)
        assert t == pytest.approx(t_last + PAUSE_S, abs=0.1)
        check_stats(env, t_first, t_last)
        # And the compositor going away ends a second run non-zero.
        run2 = start_run(runs, home, env, config_text())
        double.close()
        assert run2.wait(30) == 1, run2.log
        assert "the Wayland compositor closed the connection" in run2.log
    finally:
        server.stop()
        double.close()
