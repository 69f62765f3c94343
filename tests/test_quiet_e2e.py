"""Quiet times end to end: `mmctl run -v` under Xvfb, input from xdotool, each
quiet-time source switched by its real part (quiet_parts.py). For each: no cue
while it holds, the held cue at the first natural pause after it ends, what the
verbose log and `mmctl status --json` say meanwhile."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from _mmctl import mmctl
from desktop import (  # noqa: F401
    NotifyServer,
    desktop_env,
    running_bus,
    session_bus_module_fixture,
    xvfb_module_fixture,
)
from quiet_parts import (
    Dunst,
    FullscreenWindow,
    Openbox,
    VideoUser,
    Xfconfd,
    gsettings_env,
    gsettings_set_banners,
    logind,
)
from test_daemon_e2e import (  # noqa: F401 - fixtures by name
    PAUSE_S,
    Run,
    config_text,
    deliveries,
    home_fixture,
    last_stretch_end,
    runs_fixture,
    server_factory_fixture,
)
from test_daemon_e2e import type_for as _type_for

pytestmark = [pytest.mark.desktop, pytest.mark.slow]


def type_for(display: str, seconds: float) -> tuple[int, float, float]:
    return _type_for(display, seconds, chunk=40)


@dataclass
class Part:
    """A quiet-time source's real part: on(), off(), the env it needs, its log words."""

    source: str
    what: str
    on: Callable[[], None]
    off: Callable[[], None]
    env: dict[str, str]
    event_driven: bool
    stop: Callable[[], None] = lambda: None


@pytest.fixture()
def part(request: pytest.FixtureRequest, xvfb_module: str, server_factory: Any, home: Path) -> Iterator[tuple[Part, str]]:
    kind = request.param
    bus: str
    stops: list[Callable[[], None]] = []
    if kind == "dnd-dunst":
        with running_bus() as bus:
            dunst = Dunst(xvfb_module, bus, home)  # dunst is the notification server here
            try:
                yield Part("dnd", "do not disturb is on", lambda: dunst.paused(True), lambda: dunst.paused(False), {}, True), bus
            finally:
                dunst.stop()
        return
    server = server_factory("ok")
    bus = server.bus
    if kind == "lock":
        with logind("7") as ld:
            env = {"DBUS_SYSTEM_BUS_ADDRESS": ld.address, "XDG_SESSION_ID": "7"}
            yield Part("lock", "screen locked", lambda: ld.lock(True), lambda: ld.lock(False), env, True), bus
        return
    if kind == "sleep":
        with logind("7") as ld:
            env = {"DBUS_SYSTEM_BUS_ADDRESS": ld.address, "XDG_SESSION_ID": "7"}
            yield Part("sleep", "going to sleep", lambda: ld.sleep(True), lambda: ld.sleep(False), env, True), bus
        return
    if kind == "dnd-xfce":
        xf = Xfconfd(bus, home)
        try:
            yield Part("dnd", "do not disturb is on", lambda: xf.dnd(True), lambda: xf.dnd(False), {}, True), bus
        finally:
            xf.stop()
        return
    if kind == "dnd-gnome":
        env = gsettings_env(home)
        yield Part("dnd", "do not disturb is on", lambda: gsettings_set_banners(env, False),
                   lambda: gsettings_set_banners(env, True), env, False), bus  # fmt: skip
        return
    if kind == "fullscreen":
        wm = Openbox(xvfb_module, home)
        stops.append(wm.stop)
        win = FullscreenWindow(xvfb_module)
        stops.append(win.close)
        try:
            yield Part("fullscreen", "a fullscreen window is in front", lambda: win.fullscreen(True),
                       lambda: win.fullscreen(False), {}, False), bus  # fmt: skip
        finally:
            for s in reversed(stops):
                s()
        return
    if kind == "camera":
        user = VideoUser()
        try:
            yield Part("camera", "camera in use", user.start, user.end, {}, False), bus
        finally:
            user.remove()
        return
    raise AssertionError(kind)


def no_other_source(home: Path) -> dict[str, str]:
    """Sources this test does not drive cannot reach anything real."""
    return {"DBUS_SYSTEM_BUS_ADDRESS": f"unix:path={home}/no-system-bus"}


@pytest.mark.parametrize(
    "part",
    ["lock", "sleep", "dnd-dunst", "dnd-xfce", "dnd-gnome", "fullscreen",
     pytest.param("camera", marks=pytest.mark.machine_wide)],  # a video device every process sees
    indirect=True,
)  # fmt: skip
def test_cue_held_while_quiet_and_sent_at_the_first_pause_after(
    part: tuple[Part, str], xvfb_module: str, home: Path, runs: list[Run]
) -> None:
    p, bus = part
    env = desktop_env(xvfb_module, bus, home, {**no_other_source(home), **p.env})
    run = Run(home, env, config_text("hands.wrist_pulse"), "-v")
    runs.append(run)
    run.started()
    run.wait_log("quiet times watched")
    if p.event_driven:
        time.sleep(0.5)  # the source's thread has subscribed by now (it logs nothing)
    p.on()
    if p.event_driven:
        run.wait_log(f"quiet time: {p.what}: cues wait")
    type_for(xvfb_module, 4.0)  # due after 3 s of typing; the natural pause 1 s after the last key
    held = run.wait_log("cue not sent, held: hands.wrist_pulse", timeout=20)
    assert "quiet time:" in held, held
    if not p.event_driven:
        run.wait_log(f"quiet time: {p.what}: cues wait")
    status = mmctl("status", "--json", env=env, timeout=30)
    assert status.returncode == 0, status.stderr
    quiet = json.loads(status.stdout)["quiet"]
    assert quiet == [{"source": p.source, "until": None}]
    text = mmctl("status", env=env, timeout=30).stdout
    assert "  holds:     quiet time: " in text and "held back until the end of quiet time: " in text, text
    time.sleep(1.0)
    assert deliveries(home) == []  # nothing while it holds, even after the pause
    p.off()
    t_off = time.time()
    if p.event_driven:
        run.wait_log("quiet time over")
    type_for(xvfb_module, 1.5)  # same typing stretch (break_s 20 s)
    run.wait_log("cue set delivered: hands.wrist_pulse", timeout=20)
    assert run.stop() == 0, run.log
    ((_id, t, reason, delivered, _err, cues),) = deliveries(home)
    assert (reason, delivered, cues) == ("pause", 1, "hands.wrist_pulse")
    assert t > t_off
    assert t == pytest.approx(last_stretch_end(home, "typing") + PAUSE_S, abs=1e-3)
    assert "quiet time over" in run.log
    # What the log says: which quiet time, never which program, key or window.
    for bad in ("python", "openbox", "quiet-test", "dunst "):
        assert bad not in run.log.lower().replace("dunst paused", ""), bad


def test_quiet_hours_live_and_lifted_by_a_reload(xvfb_module: str, server_factory: Any, home: Path, runs: list[Run]) -> None:
    server = server_factory("ok")
    env = desktop_env(xvfb_module, server.bus, home, no_other_source(home))
    cfg = config_text("hands.wrist_pulse", extra='quiet:\n  hours: ["00:00-24:00"]\n')
    run = Run(home, env, cfg, "-v")
    runs.append(run)
    run.started()
    run.wait_log("quiet hours until")
    type_for(xvfb_module, 4.0)
    run.wait_log("cue not sent, held: hands.wrist_pulse, by quiet time: quiet hours", timeout=20)
    status = json.loads(mmctl("status", "--json", env=env, timeout=30).stdout)
    assert [q["source"] for q in status["quiet"]] == ["hours"] and status["quiet"][0]["until"] is not None
    assert server.records() == []
    run.config.write_text(config_text("hands.wrist_pulse"))
    n = len(run.lines)
    run.proc.send_signal(signal.SIGHUP)
    run.wait_log("config reloaded", start=n)
    type_for(xvfb_module, 1.5)
    recs = server.wait_records(1, timeout=20)
    assert run.stop() == 0, run.log
    assert len(recs) == 1
    assert recs[0]["urgency"] == 1  # normal, never critical (2): GNOME shows critical through do-not-disturb
    ((_id, t, reason, _d, _e, _c),) = deliveries(home)
    assert reason == "pause" and t == pytest.approx(last_stretch_end(home, "typing") + PAUSE_S, abs=1e-3)


def _wakeups(pid: int) -> int:
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/status") as f:
            for line in f:
                if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                    total += int(line.split()[1])
    return total


def test_idle_daemon_with_quiet_sources_does_not_wake(xvfb_module: str, server_factory: Any, home: Path,
                                                      runs: list[Run]) -> None:  # fmt: skip
    server = server_factory("ok")
    with logind("7") as ld:
        env = desktop_env(xvfb_module, server.bus, home, {"DBUS_SYSTEM_BUS_ADDRESS": ld.address, "XDG_SESSION_ID": "7"})
        run = Run(home, env, config_text("hands.wrist_pulse"))
        runs.append(run)
        run.started()
        run.wait_log("quiet times watched")
        time.sleep(3.0)  # settle: sources subscribed, the first flush done
        before = _wakeups(run.proc.pid)
        time.sleep(5.0)
        woke = _wakeups(run.proc.pid) - before
        ld.lock(True)
        run.wait_log("quiet time: screen locked")
        assert run.stop() == 0, run.log
    assert woke <= 2, f"the idle daemon woke {woke} times in 5 s"
