"""`mmctl run` end to end, with real parts only (README "Run the daemon", issue 4).

One Xvfb and one private session bus (no service activation) serve the whole
module; each test gets its own HOME (database, lock, config) and starts the
project's notification server (tests/notify_server.py) on that bus in the
mode it needs, or none. Input is injected with xdotool; `mmctl run` and
`mmctl stats` run as subprocesses of the installed console script, as the
service unit and a person run them. The daemon watches the whole display,
so tests here never overlap: each one stops its daemon before it ends.

Configs use short intervals (a cue every 0.05 min = 3 s of typing or
mousing, natural pause 1 s) and switch progression and the weekly check-in
reminder off, so that only the cues under test can fire.

The engine's decisions are checked exactly where the database holds exact
times: a stretch's `end` is the daemon's own stamp of its latest event, and a
cue set delivered at the natural pause has `t == end + pause.min_s`. The
notification server stamps each call when it receives it.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from _mmctl import config_yaml, mmctl, mmctl_command
from desktop import (  # noqa: F401 - fixtures are used by name
    NotifyServer,
    Xvfb,
    click,
    desktop_env,
    scroll,
    session_bus_module_fixture,
    type_text,
    xdotool,
    xvfb_module_fixture,
)

pytestmark = [pytest.mark.desktop, pytest.mark.slow]

PAUSE_S = 1.0
EVERY_MIN = 0.05  # 3 s
START_TIMEOUT_S = 30.0  # the machine has two cores and other suites run beside this one

LETTERS = "abcdefghijklmnopqrstuvwxyz"


def config_text(*cues: str, pause_s: float = PAUSE_S, extra: str = "") -> str:
    """A config where only `cues` run, each every EVERY_MIN of its catalog trigger."""
    return config_yaml(
        dict.fromkeys(cues, EVERY_MIN), min_s=pause_s, max_defer_s=30, break_s=20, min_gap_s=0.5,
        reminder=False, extra=extra,
    )  # fmt: skip


def text_of(n: int) -> str:
    """`n` lowercase letters and spaces: exactly one key press each."""
    return "".join(LETTERS[i % 26] if i % 7 else " " for i in range(1, n + 1))


# ------------------------------------------------------------------ the daemon under test
class Run:
    """`mmctl run` as a subprocess, its stderr collected line by line."""

    def __init__(self, home: Path, env: dict[str, str], config: str | None, *args: str) -> None:
        self.home = home
        self.env = env
        self.config = home / "config.yaml"
        if config is not None:
            self.config.write_text(config, encoding="utf-8")
        cmd = [*mmctl_command(), "run"]
        if config is not None:
            cmd += ["--config", str(self.config)]
        self.proc = subprocess.Popen(
            [*cmd, *args],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    @property
    def log(self) -> str:
        with self._cond:
            return "\n".join(self.lines)

    def wait_log(self, needle: str, timeout: float = START_TIMEOUT_S, start: int = 0) -> str:
        """The first log line (from line `start` on) containing `needle`; fails after `timeout`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.lines[start:]:
                    if needle in line:
                        return line
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    break
                self._cond.wait(min(left, 0.5))
        raise AssertionError(f"no log line with {needle!r} within {timeout} s:\n{self.log}")

    def started(self) -> Run:
        self.wait_log("watching input")
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.wait(timeout)

    def wait(self, timeout: float) -> int:
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            raise AssertionError(f"mmctl run did not exit within {timeout} s:\n{self.log}") from None
        self._reader.join(10)
        assert self.proc.stdout is not None
        out = self.proc.stdout.read()
        assert out == "", f"mmctl run wrote to stdout: {out!r}"
        return rc

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture(name="home")
def home_fixture(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    return h


@pytest.fixture(name="runs")
def runs_fixture() -> Iterator[list[Run]]:
    """Daemons started by a test; any still running at its end are killed (and the test fails)."""
    started: list[Run] = []
    yield started
    alive = [r for r in started if r.proc.poll() is None]
    for r in alive:
        r.kill()
    assert not alive, "a test left mmctl run running"


@pytest.fixture(name="server_factory")
def server_factory_fixture(session_bus_module: str, tmp_path: Path) -> Iterator[Any]:
    """start(mode) -> a NotifyServer on the module's bus; stopped after the test."""
    servers: list[NotifyServer] = []

    def start(mode: str = "ok") -> NotifyServer:
        s = NotifyServer(session_bus_module, tmp_path / f"notifications-{len(servers)}.jsonl", mode)
        servers.append(s)
        return s.start()

    yield start
    for s in servers:
        s.stop()


def start_run(runs: list[Run], home: Path, env: dict[str, str], config: str | None) -> Run:
    r = Run(home, env, config)
    runs.append(r)
    return r.started()


def db_path(home: Path) -> Path:
    return home / ".local" / "share" / "micromove" / "micromove.db"


def query(home: Path, sql: str) -> list[tuple[Any, ...]]:
    """Read the daemon's database read-only (as a person's sqlite3 would)."""
    conn = sqlite3.connect(f"file:{db_path(home)}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def stats(env: dict[str, str]) -> dict[str, Any]:
    p = mmctl("stats", "--json", env=env, timeout=60)
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert isinstance(data, dict)
    return data


def type_for(display: str, seconds: float, chunk: int = 200, delay_ms: int = 40) -> tuple[int, float, float]:
    """Type lowercase text without a pause for at least `seconds`, in one xdotool
    call per `chunk` keys (about 20 ms a key); (keys typed, start, end) in wall time."""
    n = 0
    t0 = time.time()
    while True:
        type_text(display, text_of(chunk), delay_ms)
        n += chunk
        if time.time() - t0 >= seconds:
            return n, t0, time.time()


def mouse_for(display: str, seconds: float, clicks_every: int = 10) -> tuple[int, int, float, float]:
    """Move the pointer (40 px steps through the XTEST pointer, every 50 ms: input,
    not a warp) and click button 1 every `clicks_every` moves, without a pause,
    for at least `seconds`; (clicks, moves, start, end)."""
    t0 = time.time()
    clicks = 0
    i = 0
    while time.time() - t0 < seconds:
        args: list[str | int] = []
        for _ in range(20):
            i += 1
            step = 40 if i % 2 else -40
            args += ["mousemove_relative", "--", step, step, "sleep", "0.05"]
            if i % clicks_every == 0:
                args += ["click", 1]
                clicks += 1
        xdotool(display, *args)
    return clicks, i, t0, time.time()


def last_stretch_end(home: Path, kind: str) -> float:
    rows = query(home, f"SELECT max(end) FROM stretches WHERE kind = '{kind}'")
    assert rows and rows[0][0] is not None, f"no {kind} stretch recorded"
    return float(rows[0][0])


def deliveries(home: Path) -> list[tuple[int, float, str, int | None, str | None, str]]:
    """(id, t, reason, delivered, error, cue ids comma-joined) per delivered cue set."""
    return query(
        home,
        "SELECT d.id, d.t, d.reason, d.delivered, d.error, group_concat(c.cue_id, ',') "
        "FROM deliveries d JOIN delivery_cues c ON c.delivery_id = d.id GROUP BY d.id ORDER BY d.id",
    )


# ------------------------------------------------------------------ cues at natural pauses
def test_a_typing_stretch_gets_its_cue_at_the_natural_pause_never_while_typing(
    xvfb_module: str, server_factory: Any, home: Path, runs: list[Run]
) -> None:
    server = server_factory("ok")
    env = desktop_env(xvfb_module, server.bus, home)
    run = start_run(runs, home, env, config_text("hands.wrist_pulse", "hands.finger_piano"))
    keys, t_start, t_typed = type_for(xvfb_module, 4.0)  # the cues become due after 3 s
    recs = server.wait_records(1, timeout=20)
    run.wait_log("cue set delivered")
    assert run.stop() == 0, run.log

    assert len(recs) == 1, recs
    rec = recs[0]
    assert rec["app_name"] == "micromove"
    assert rec["summary"] == "Micro-moves: Hands and wrists"
    assert [line.split(" \u2014 ")[0] for line in rec["body"].splitlines()] == ["Wrist pulse", "Finger piano"]
    # Never while typing: nothing arrived before the typing ended ...
    assert rec["t"] > t_typed, (rec["t"], t_typed)
    # ... and the engine chose the pause: the latest key plus pause.min_s, exactly.
    last_key = last_stretch_end(home, "typing")
    assert t_start < last_key <= t_typed + 0.05
    ((_, t, reason, delivered, error, cues),) = deliveries(home)
    assert (reason, delivered, error) == ("pause", 1, None)
    assert sorted(cues.split(",")) == ["hands.finger_piano", "hands.wrist_pulse"]
    assert t == pytest.approx(last_key + PAUSE_S, abs=1e-3)
    assert rec["t"] >= t - 0.05  # shown no earlier than decided
    totals = stats(env)["totals"]
    assert (totals["keys"], totals["clicks"], totals["scrolls"], totals["cues"]) == (keys, 0, 0, 2)
    print(f"typing: {keys} keys in {t_typed - t_start:.2f} s; last key -> notification {rec['t'] - last_key:.3f} s")


def test_a_mouse_stretch_gets_grip_modulation(
    xvfb_module: str, server_factory: Any, home: Path, runs: list[Run]
) -> None:
    server = server_factory("ok")
    env = desktop_env(xvfb_module, server.bus, home)
    run = start_run(runs, home, env, config_text("hands.wrist_pulse", "hands.grip_modulation"))
    clicks, moves, t_start, t_moved = mouse_for(xvfb_module, 4.0)
    recs = server.wait_records(1, timeout=20)
    run.wait_log("cue set delivered")
    assert run.stop() == 0, run.log

    assert len(recs) == 1, recs
    assert recs[0]["summary"] == "Micro-move: Hands and wrists"
    assert recs[0]["body"].startswith("Grip modulation \u2014 ")
    assert recs[0]["t"] > t_moved
    last_event = last_stretch_end(home, "mouse")
    ((_, t, reason, delivered, _err, cues),) = deliveries(home)
    assert (cues, reason, delivered) == ("hands.grip_modulation", "pause", 1)
    assert t == pytest.approx(last_event + PAUSE_S, abs=1e-3)
    totals = stats(env)["totals"]
    assert (totals["keys"], totals["clicks"], totals["scrolls"]) == (0, clicks, 0)
    # XInput2 (the default): one move per motion report, and no distance (docs/schema.md).
    assert run.log.count("input backend: x11 via XInput2") == 1, run.log
    assert (totals["moves"], totals["distance_px"]) == (moves, 0), totals
    assert query(home, "SELECT count(*) FROM stretches WHERE kind = 'typing'") == [(0,)]
    print(f"mouse: {clicks} clicks, {totals['moves']} moves; last event -> notification {recs[0]['t'] - last_event:.3f} s")


# ------------------------------------------------------------------ counting, stopping, one per user
def test_counts_are_exact_and_sigterm_right_after_input_loses_nothing(
    xvfb_module: str, server_factory: Any, home: Path, runs: list[Run]
) -> None:
    server = server_factory("ok")
    env = desktop_env(xvfb_module, server.bus, home)
    run = start_run(runs, home, env, config_text())  # no cues: only counting
    type_text(xvfb_module, text_of(123), 10)
    click(xvfb_module, 1, repeat=7, delay_ms=10)
    scroll(xvfb_module, 5, delay_ms=10)
    scroll(xvfb_module, -4, delay_ms=10)
    type_text(xvfb_module, text_of(17), 10)
    xdotool(xvfb_module, *[a for i in range(30) for a in ("mousemove_relative", "--", 4 - 8 * (i % 2), 0)])
    rc = run.stop()  # at once: nothing was flushed yet (flushes are up to 10 s apart)
    assert rc == 0, run.log
    assert "SIGTERM: flushing and exiting" in run.log
    assert "Traceback" not in run.log
    totals = stats(env)["totals"]
    assert (totals["keys"], totals["clicks"], totals["scrolls"], totals["moves"]) == (140, 7, 9, 30), totals
    assert query(home, "SELECT sum(keys), sum(clicks), sum(scrolls), sum(moves) FROM activity") == [(140, 7, 9, 30)]
    assert server.records() == []
    print("counts after SIGTERM:", {k: totals[k] for k in ("keys", "clicks", "scrolls")})


def test_a_second_daemon_exits_2_naming_the_running_one(
    xvfb_module: str, server_factory: Any, home: Path, runs: list[Run]
) -> None:
    server = server_factory("ok")
    env = desktop_env(xvfb_module, server.bus, home)
    first = start_run(runs, home, env, config_text())
    second = mmctl("run", env=env, timeout=60)
    assert second.returncode == 2, (second.stdout, second.stderr)
    assert second.stderr == f"mmctl: micromove is already running (pid {first.proc.pid})\n"
    assert second.stdout == ""
    assert first.proc.poll() is None
    assert first.stop(signal.SIGINT) == 0, first.log
    assert "SIGINT: flushing and exiting" in first.log


# ------------------------------------------------------------------ SIGHUP
def test_sighup_applies_a_good_config_and_keeps_the_old_one_when_the_new_is_bad(
    xvfb_module: str, server_factory: Any, home: Path, runs: list[Run]
) -> None:
    server = server_factory("ok")
    env = desktop_env(xvfb_module, server.bus, home)
    run = start_run(runs, home, env, config_text("hands.wrist_pulse"))
    cfg = run.config
    # A good new config: natural pauses of 2 s from now on.
    cfg.write_text(config_text("hands.wrist_pulse", pause_s=2.0), encoding="utf-8")
    n = len(run.lines)
    run.proc.send_signal(signal.SIGHUP)
    assert run.wait_log("config reloaded", start=n).endswith(f"config reloaded from {cfg}")
    # A bad one: reported with FILE:LINE, and the 2 s config stays.
    cfg.write_text("pause:\n  min_s: -1\n", encoding="utf-8")
    n = len(run.lines)
    run.proc.send_signal(signal.SIGHUP)
    bad = run.wait_log("config not reloaded", start=n)
    assert f"{cfg}:2: pause.min_s: " in bad, bad
    run.wait_log("keeping the previous config", start=n)
    assert run.proc.poll() is None

    type_for(xvfb_module, 4.0)
    server.wait_records(1, timeout=20)
    run.wait_log("cue set delivered")
    assert run.stop() == 0, run.log
    ((_, t, reason, delivered, _err, cues),) = deliveries(home)
    assert (cues, reason, delivered) == ("hands.wrist_pulse", "pause", 1)
    assert t == pytest.approx(last_stretch_end(home, "typing") + 2.0, abs=1e-3)


# ------------------------------------------------------------------ notification failures
def test_without_a_notification_server_it_keeps_counting_and_records_the_cue_undelivered(
    xvfb_module: str, session_bus_module: str, home: Path, runs: list[Run]
) -> None:
    env = desktop_env(xvfb_module, session_bus_module, home)  # nobody owns the name
    run = start_run(runs, home, env, config_text("hands.wrist_pulse"))
    keys, _, _ = type_for(xvfb_module, 4.0)
    line = run.wait_log("cue set not delivered", timeout=20)
    assert "no notification server on the session bus" in line and "hands.wrist_pulse" in line
    type_text(xvfb_module, text_of(30), 10)  # still counting
    assert run.stop() == 0, run.log
    rows = deliveries(home)
    assert [(r[3], r[4], r[5]) for r in rows] == [
        (0, "no notification server on the session bus", "hands.wrist_pulse")
    ]
    totals = stats(env)["totals"]
    assert totals["keys"] == keys + 30
    assert (totals["cues"], totals["cues_undelivered"]) == (0, 1), totals  # "cues" counts shown ones


def test_a_hung_notification_server_does_not_stall_counting(
    xvfb_module: str, server_factory: Any, home: Path, runs: list[Run]
) -> None:
    server = server_factory("hang")  # records Notify, never answers it
    env = desktop_env(xvfb_module, server.bus, home)
    run = start_run(runs, home, env, config_text("hands.wrist_pulse"))
    keys, _, _ = type_for(xvfb_module, 4.0)
    assert len(server.wait_records(1, timeout=20)) == 1
    t_sent = time.monotonic()
    type_text(xvfb_module, text_of(40), 10)  # while the call hangs
    line = run.wait_log("cue set not delivered", timeout=20)
    t_failed = time.monotonic()
    assert "the notification server did not answer within 3 s" in line, line
    assert run.stop() == 0, run.log
    ((_, _t, reason, delivered, error, cues),) = deliveries(home)
    assert (cues, reason, delivered) == ("hands.wrist_pulse", "pause", 0)
    assert error == "the notification server did not answer within 3 s"
    assert query(home, "SELECT sum(keys) FROM activity") == [(keys + 40,)]
    print(f"hung server: gave up {t_failed - t_sent:.2f} s after the server got the call; keys {keys + 40}")


# ------------------------------------------------------------------ losing the display
@pytest.mark.parametrize("backend", ["xi2", "pynput"])
def test_when_the_display_goes_away_it_says_why_and_exits_nonzero(backend: str, home: Path, runs: list[Run]) -> None:
    x = Xvfb()
    display = x.start()
    try:
        env = desktop_env(display, None, home)
        run = start_run(runs, home, env, config_text(extra=f"input: {{backend: {backend}}}\n"))
        type_text(display, text_of(25), 10)
        # Nothing outside shows when RECORD has handed the keys over (it takes
        # about 0.1 ms); give it a moment before pulling the display away.
        time.sleep(0.5)
    finally:
        x.stop()
    rc = run.wait(60)
    assert rc == 1, run.log
    line = run.wait_log("input is no longer watched", timeout=1)
    if backend == "xi2":
        assert "the X server closed the connection" in line, line
    else:
        assert "Display connection closed" in line or "ConnectionClosedError" in line, line
    assert "restarts micromove" in line
    assert "Traceback" not in run.log
    assert query(home, "SELECT sum(keys) FROM activity") == [(25,)]


# ------------------------------------------------------------------ no usable backend
def test_wayland_without_readable_input_devices_says_what_to_do(home: Path, tmp_path: Path) -> None:
    empty = tmp_path / "input"
    empty.mkdir()
    env = desktop_env(
        None,
        None,
        home,
        {"WAYLAND_DISPLAY": "wayland-0", "MICROMOVE_EVDEV_DEVICES": f"{empty}/event*"},
    )
    env["WAYLAND_DISPLAY"] = "wayland-0"  # desktop_env never passes it on by itself
    p = mmctl("run", env=env, timeout=60)
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert "Traceback" not in p.stderr
    (error,) = [line for line in p.stderr.splitlines() if line.startswith("ERROR")]
    assert "Wayland session" in error
    assert "add yourself to the 'input' group (sudo usermod -aG input $USER) and log in again" in error
    assert "input.backend: x11" in error
    assert not db_path(home).exists() or query(home, "SELECT count(*) FROM activity") == [(0,)]


def test_x11_backend_without_a_display_says_so(home: Path) -> None:
    env = desktop_env(None, None, home)
    cfg = home / "config.yaml"
    cfg.write_text("input: {backend: x11}\n", encoding="utf-8")
    p = mmctl("run", "--config", cfg, env=env, timeout=60)
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert "Traceback" not in p.stderr
    (error,) = [line for line in p.stderr.splitlines() if line.startswith("ERROR")]
    assert error.startswith("ERROR cannot watch input: no X display: DISPLAY is not set")
    assert "graphical session" in error

