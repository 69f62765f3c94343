"""`mmctl run` on real Wayland compositors, headless, without any readable input device.

Each test starts its own compositor:
- mutter 43 (`--headless --wayland --virtual-monitor`) on a private session
  bus: micromove watches `org.gnome.Mutter.IdleMonitor`; input goes in
  through `org.gnome.Mutter.RemoteDesktop` (keys and relative motion);
- sway 1.7 (`WLR_BACKENDS=headless`), run as an unprivileged user the test
  setup creates: micromove watches `org_kde_kwin_idle` on its socket; keys go
  in through `wtype`, motion through the wlroots virtual pointer.
(`ext-idle-notify-v1`, which no Debian 12 compositor offers, is covered by
the same client code against a protocol-level test double: test_wayland_idle.py.)

`MICROMOVE_EVDEV_DEVICES` points at an empty folder: no input device can be
read, as for a person outside the `input` group, and the default backend
`auto` must find the compositor's idle interface by itself. Short intervals:
the wrist pulse (a `typing` cue) every 0.05 min = 3 s, a natural pause 1 s.
"""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from _mmctl import config_yaml, mmctl
from desktop import NotifyServer, desktop_env, session_bus_fixture  # noqa: F401 - fixture by name
from test_daemon_e2e import (  # noqa: F401 - fixtures by name
    EVERY_MIN,
    PAUSE_S,
    Run,
    deliveries,
    home_fixture,
    query,
    runs_fixture,
    start_run,
    stats,
)
from wayland import Mutter, RemoteDesktop, Sway, VirtualPointer, mutter_fixture, sway_fixture  # noqa: F401

pytestmark = [pytest.mark.desktop, pytest.mark.slow]


BREAK_S = 2.0  # a compositor's own start counts as input: its stretch is over before the test types


def config_text() -> str:
    return config_yaml(
        {"hands.wrist_pulse": EVERY_MIN}, min_s=PAUSE_S, max_defer_s=30, break_s=BREAK_S, min_gap_s=0.5,
        reminder=False,
    )  # fmt: skip


def wayland_env(home: Path, bus: str, socket: str) -> dict[str, str]:
    nodev = home / "no-input-devices"
    nodev.mkdir(exist_ok=True)
    env = desktop_env(None, bus, home, {"MICROMOVE_EVDEV_DEVICES": str(nodev / "event*")})
    env["WAYLAND_DISPLAY"] = socket
    env["XDG_SESSION_TYPE"] = "wayland"
    return env


def active_stretches(home: Path) -> list[tuple[float, float]]:
    return query(home, "SELECT start, end FROM stretches WHERE kind = 'active' ORDER BY start")  # type: ignore[return-value]


def check_cue_at_the_pause(home: Path, run: Run, server: NotifyServer, t_first: float, t_last: float) -> None:
    """The wrist pulse went out at the natural pause after the typing, never during it."""
    server.wait_records(1, timeout=30)
    run.wait_log("cue set delivered")
    assert run.stop(signal.SIGTERM) == 0, run.log  # flushes; SIGTERM exits 0
    assert "Traceback" not in run.log
    (rec,) = server.records()
    assert rec["body"].startswith("Wrist pulse"), rec
    assert rec["t"] > t_last, (rec["t"], t_last)  # never while typing
    ((_, t, reason, delivered, _err, cues),) = deliveries(home)
    assert (cues, reason, delivered) == ("hands.wrist_pulse", "pause", 1)
    ((start, end),) = [s for s in active_stretches(home) if s[1] >= t_first - 1]
    # The stretch is the typing (to the compositor's timer precision; the
    # bounds allow for the injecting tools' own latency on a loaded machine),
    # and the pause is exact: the latest input plus pause.min_s.
    assert abs(start - t_first) < 0.2, (start, t_first)
    assert abs(end - t_last) < 0.3, (end, t_last)
    assert t == pytest.approx(end + PAUSE_S, abs=1e-3)
    (trigger,) = query(home, "SELECT trigger FROM delivery_cues")[0]
    assert trigger == "active"
    print(
        f"stretch start {start - t_first:+.3f} s, end {end - t_last:+.3f} s from the injected input; "
        f"latest input -> notification {rec['t'] - end:.3f} s (pause.min_s {PAUSE_S})"
    )


def check_stats(env: dict[str, str], t_first: float, t_last: float) -> None:
    totals = stats(env)["totals"]
    assert abs(totals["active_s"] - (t_last - t_first)) < 0.5, totals
    assert (totals["keys"], totals["clicks"], totals["scrolls"], totals["moves"]) == (None, None, None, None)
    assert totals["typing_s"] == 0 and totals["cues"] == 1


# ------------------------------------------------------------------ GNOME (mutter)
def test_gnome_typing_gets_the_wrist_pulse_at_the_natural_pause(
    mutter: Mutter, home: Path, runs: list[Run], tmp_path: Path
) -> None:
    server = NotifyServer(mutter.bus, tmp_path / "n.jsonl").start()
    try:
        env = wayland_env(home, mutter.bus, str(Path(mutter.dir or "") / "run" / mutter.display))
        run = start_run(runs, home, env, config_text())
        line = run.wait_log("watching input")
        assert "Mutter IdleMonitor" in line and "presence only" in line, line
        rd = RemoteDesktop(mutter.bus)
        try:
            time.sleep(PAUSE_S + BREAK_S + 0.5)  # past the startup: the person is away
            t_first, t_last = rd.type_for(4.5)
            rd.move()  # the pointer counts as presence too
            t_last = time.time()
        finally:
            rd.close()
        check_cue_at_the_pause(home, run, server, t_first, t_last)
        check_stats(env, t_first, t_last)
    finally:
        server.stop()


def test_gnome_mutter_going_away_ends_the_daemon_non_zero(
    mutter: Mutter, home: Path, runs: list[Run], tmp_path: Path
) -> None:
    env = wayland_env(home, mutter.bus, str(Path(mutter.dir or "") / "run" / mutter.display))
    run = start_run(runs, home, env, config_text())
    mutter.kill()
    rc = run.wait(30)
    assert rc == 1, run.log
    assert "org.gnome.Mutter.IdleMonitor left the session bus" in run.log, run.log
    assert "Traceback" not in run.log


# ------------------------------------------------------------------ wlroots (sway)
def test_sway_typing_gets_the_wrist_pulse_at_the_natural_pause(
    sway: Sway, session_bus: str, home: Path, runs: list[Run], tmp_path: Path
) -> None:
    server = NotifyServer(session_bus, tmp_path / "n.jsonl").start()
    try:
        env = wayland_env(home, session_bus, sway.socket)
        run = start_run(runs, home, env, config_text())
        line = run.wait_log("watching input")
        assert "org_kde_kwin_idle" in line and "presence only" in line, line
        time.sleep(PAUSE_S + BREAK_S + 0.5)
        vp = VirtualPointer(sway.socket)
        try:
            vp.move()
            t_first = time.time()
            sway.wtype("abcdefghijklmnopqrstuvwxyz", 150)  # ~4 s of keys, 150 ms apart
            t_typed = time.time()
        finally:
            vp.close()
        status = mmctl("status", env=env, timeout=30)
        assert status.returncode == 0, status.stderr
        assert "input: Wayland org_kde_kwin_idle, presence only" in status.stdout, status.stdout
        assert "today: counts not recorded (presence only)" in status.stdout, status.stdout
        # wtype waits its delay after the last key as well.
        check_cue_at_the_pause(home, run, server, t_first, t_typed - 0.15)
        check_stats(env, t_first, t_typed - 0.15)
    finally:
        server.stop()


def test_sway_going_away_ends_the_daemon_non_zero(
    sway: Sway, session_bus: str, home: Path, runs: list[Run]
) -> None:
    env = wayland_env(home, session_bus, sway.socket)
    run = start_run(runs, home, env, config_text())
    sway.kill()
    rc = run.wait(30)
    assert rc == 1, run.log
    assert "the Wayland compositor closed the connection" in run.log, run.log
    assert "Traceback" not in run.log


# ------------------------------------------------------------------ doctor, and no interface at all
def doctor_input(env: dict[str, str]) -> dict[str, Any]:
    p = mmctl("doctor", "--json", env=env, timeout=60)
    (check,) = [c for c in json.loads(p.stdout)["checks"] if c["name"] == "input"]
    return check  # type: ignore[no-any-return]


def test_doctor_explains_the_choice_on_both_compositors(
    mutter: Mutter, sway: Sway, session_bus: str, home: Path
) -> None:
    gnome = doctor_input(wayland_env(home, mutter.bus, str(Path(mutter.dir or "") / "run" / mutter.display)))
    wlr = doctor_input(wayland_env(home, session_bus, sway.socket))
    for check, name in ((gnome, "GNOME Mutter IdleMonitor"), (wlr, "Wayland org_kde_kwin_idle")):
        assert check["status"] == "note", check
        assert check["detail"].startswith(f"{name}, presence only"), check
        assert "evdev cannot read the input devices: no input devices under" in check["detail"], check
        assert "not counted" in check["detail"]
        assert "input' group" in check["fix"] and "count keys and clicks" in check["fix"], check


def test_wayland_without_any_idle_interface_is_one_clear_error(mutter: Mutter, home: Path, runs: list[Run]) -> None:
    """Mutter's own socket offers no idle protocol; without its IdleMonitor on the bus
    (a bus of its own here) nothing can watch input: one error line, exit 1."""
    env = wayland_env(home, "unix:path=/nonexistent/bus", str(Path(mutter.dir or "") / "run" / mutter.display))
    r = Run(home, env, config_text())
    runs.append(r)
    assert r.wait(30) == 1, r.log
    (line,) = [ln for ln in r.log.splitlines() if "cannot watch input" in ln]
    assert "the evdev backend cannot be used: no input devices under" in line, line
    assert "the wayland-idle backend cannot be used: the Wayland compositor offers no idle protocol" in line, line
    assert "the gnome backend cannot be used: cannot connect to the session bus" in line, line
    assert "Traceback" not in r.log
