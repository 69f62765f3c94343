"""A real desktop for end-to-end tests: Xvfb, a private session bus, a notification server.

Everything here starts real programs (Xvfb, xdotool, a private dbus-daemon, a notification server):

- `Xvfb` runs `Xvfb :N -screen 0 1920x1080x24 -nolisten tcp -noreset` on a
  free display and waits until `xdpyinfo` answers. `-noreset`: without it the
  server resets whenever its last client disconnects (measured: a pointer
  moved by one `xdotool mousemove` was back at the centre for the next
  `xdotool getmouselocation`), so state would depend on who is connected;
- `SessionBus` runs a private `dbus-daemon` with NO service activation (no
  servicedir), so nothing installed on the machine is auto-started;
- `NotifyServer` runs tests/notify_server.py, the project's own notification
  server, which owns org.freedesktop.Notifications on that bus and records
  every Notify call as a JSON line.

Test modules import the fixtures they use (tests/ is on sys.path under
pytest's default import mode). Each fixture function is named NAME_fixture and
registered under NAME, so a test's parameter `xvfb` shadows no import (ruff
F811):

    from desktop import xvfb_fixture, session_bus_fixture, notify_server_fixture  # noqa: F401

    def test_x(xvfb: str, session_bus: str, notify_server: NotifyServer) -> None: ...

(`from desktop import xvfb` works too: plain aliases exist at the bottom.)

Fixtures:
    xvfb / xvfb_module                                 -> display string, e.g. ":57"
    session_bus / session_bus_module                  -> bus address
    notify_server (function scope, needs session_bus)  -> NotifyServer, mode "ok"
        (indirect parametrisation picks the mode:
         @pytest.mark.parametrize("notify_server", ["hang"], indirect=True))
    notify_server_factory -> start(mode="ok", bus=None) -> NotifyServer
    desktop (function scope) -> Desktop(display, bus, server, home, env)

A missing program (Xvfb, dbus-daemon, ...) skips the test; conftest.py turns
that skip into a failure under CI=true.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
NOTIFY_SERVER = HERE / "notify_server.py"
START_TIMEOUT_S = 15.0


def need(program: str) -> str:
    """The path of `program`, or skip the test (a failure under CI=true)."""
    path = shutil.which(program)
    if path is None:
        pytest.skip(f"{program} is not installed (apt-get install the desktop test packages)")
    return path


# ------------------------------------------------------------------ X server
def end_process(proc: subprocess.Popen[Any]) -> None:
    """SIGTERM, then SIGKILL if it has not gone within 5 s; reaped either way."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def _display_taken(n: int) -> bool:
    return Path(f"/tmp/.X11-unix/X{n}").exists() or Path(f"/tmp/.X{n}-lock").exists()


def _xdpyinfo_ok(display: str) -> bool:
    try:
        r = subprocess.run(
            ["xdpyinfo", "-display", display],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=5,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return False
    return r.returncode == 0


class Xvfb:
    """A virtual X server on a free display. Use as a context manager or start()/stop()."""

    def __init__(
        self, width: int = 1920, height: int = 1080, depth: int = 24, extra: tuple[str, ...] = ()
    ) -> None:
        self.screen = f"{width}x{height}x{depth}"
        self.extra = extra  # more Xvfb arguments, e.g. ("-extension", "XInputExtension")
        self.proc: subprocess.Popen[bytes] | None = None
        self.display = ""

    def start(self) -> str:
        xvfb = need("Xvfb")
        need("xdpyinfo")
        # Start somewhere random so parallel test runs rarely race for a number;
        # a lost race shows as Xvfb exiting at once, and the next number is tried.
        first = random.randrange(100, 800)
        for n in range(first, first + 200):
            if _display_taken(n):
                continue
            display = f":{n}"
            proc = subprocess.Popen(
                [xvfb, display, "-screen", "0", self.screen, "-nolisten", "tcp", "-noreset", *self.extra],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            deadline = time.monotonic() + START_TIMEOUT_S
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    break  # display taken after all, or a real failure: try the next
                if _xdpyinfo_ok(display):
                    self.proc, self.display = proc, display
                    return display
                time.sleep(0.02)
            err = b""
            if proc.poll() is None:
                proc.kill()
            with contextlib.suppress(Exception):
                _, err = proc.communicate(timeout=5)
            if time.monotonic() >= deadline:
                raise RuntimeError(f"Xvfb {display} did not answer within {START_TIMEOUT_S} s: {err[-500:]!r}")
        raise RuntimeError("no free X display number found")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        end_process(proc)
        if proc.stderr is not None:
            proc.stderr.close()

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def running_xvfb() -> Iterator[str]:
    x = Xvfb()
    try:
        yield x.start()
    finally:
        x.stop()


@pytest.fixture(name="xvfb")
def xvfb_fixture() -> Iterator[str]:
    """A fresh X display for this test: ':N'."""
    with running_xvfb() as display:
        yield display


@pytest.fixture(scope="module", name="xvfb_module")
def xvfb_module_fixture() -> Iterator[str]:
    """One X display shared by a test module."""
    with running_xvfb() as display:
        yield display


# ------------------------------------------------------------------ session bus
BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir={tmpdir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


class SessionBus:
    """A private session bus without service activation (no <servicedir>)."""

    def __init__(self) -> None:
        self.dir: Path | None = None
        self.address = ""
        self.pid: int | None = None

    def start(self) -> str:
        daemon = need("dbus-daemon")
        self.dir = Path(tempfile.mkdtemp(prefix="mm-bus-"))
        conf = self.dir / "bus.conf"
        conf.write_text(BUS_CONFIG.format(tmpdir=self.dir), encoding="utf-8")
        r = subprocess.run(
            [daemon, f"--config-file={conf}", "--fork", "--print-address=1", "--print-pid=1"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_S,
            check=False,
        )
        lines = r.stdout.split()
        if r.returncode != 0 or len(lines) < 2:
            raise RuntimeError(f"dbus-daemon did not start (exit {r.returncode}): {r.stderr.strip()}")
        self.address, self.pid = lines[0], int(lines[1])
        return self.address

    def stop(self) -> None:
        pid, self.pid = self.pid, None
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            _wait_gone(pid)
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _alive(pid: int) -> bool:
    """True while `pid` runs (a zombie waiting for init to reap it counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


def _wait_gone(pid: int, timeout: float = 5.0) -> None:
    """Wait for a process that is not our child (dbus-daemon --fork) to go; then SIGKILL."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return
        time.sleep(0.01)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def running_bus() -> Iterator[str]:
    b = SessionBus()
    try:
        yield b.start()
    finally:
        b.stop()


@pytest.fixture(name="session_bus")
def session_bus_fixture() -> Iterator[str]:
    """A private session bus for this test: its address (unix:path=...,guid=...)."""
    with running_bus() as address:
        yield address


@pytest.fixture(scope="module", name="session_bus_module")
def session_bus_module_fixture() -> Iterator[str]:
    with running_bus() as address:
        yield address


# ------------------------------------------------------------------ notification server
class NotifyServer:
    """tests/notify_server.py on a bus; `records()` lists the Notify calls it got."""

    def __init__(self, bus: str, record: Path, mode: str = "ok", actions: bool = False) -> None:
        self.bus = bus
        self.record = record
        self.mode = mode
        self.actions = actions  # list the "actions" capability (buttons)
        self.proc: subprocess.Popen[str] | None = None

    def start(self, mode: str | None = None) -> NotifyServer:
        if self.proc is not None:
            raise RuntimeError("the notification server is already running")
        if mode is not None:
            self.mode = mode
        self.record.touch()
        env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=self.bus)
        proc = subprocess.Popen(
            [sys.executable, str(NOTIFY_SERVER), "--address", self.bus,
             "--record", str(self.record), "--mode", self.mode, *(["--actions"] if self.actions else [])],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], START_TIMEOUT_S)
        # "ready" once it owns the name; "" if it died
        line = proc.stdout.readline() if ready else ""
        if line.strip() != "ready":
            proc.kill()
            _, err = proc.communicate(timeout=5)
            raise RuntimeError(f"notification server did not start: {err.strip()[-500:]}")
        self.proc = proc
        return self

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        end_process(proc)
        for f in (proc.stdout, proc.stderr):
            if f is not None:
                f.close()
        _wait_name_released(self.bus)

    def restart(self, mode: str | None = None) -> NotifyServer:
        self.stop()
        return self.start(mode)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def records(self) -> list[dict[str, Any]]:
        """Every Notify call received so far (all modes but hang-all record)."""
        if not self.record.exists():
            return []
        out = []
        for line in self.record.read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append(json.loads(line))
        return out

    def _test_call(self, member: str, sig: str, body: tuple[Any, ...]) -> None:
        """Call the server's own test interface (see tests/notify_server.py)."""
        from jeepney import DBusAddress, MessageType, new_method_call
        from jeepney.io.blocking import open_dbus_connection

        addr = DBusAddress("/org/micromove/Test", bus_name="org.freedesktop.Notifications",
                           interface="org.micromove.Test")
        with open_dbus_connection(bus=self.bus) as conn:
            r = conn.send_and_get_reply(new_method_call(addr, member, sig, body), timeout=5)
        if r.header.message_type == MessageType.error:
            raise RuntimeError(f"notify_server {member}: {r.body!r}")

    def invoke(self, nid: int, key: str, broadcast: bool = False) -> None:
        """The person pressed the button `key` (ActionInvoked(nid, key))."""
        self._test_call("Invoke", "usb", (nid, key, broadcast))

    def close_note(self, nid: int, reason: int, broadcast: bool = False) -> None:
        """NotificationClosed(nid, reason): 1 expired, 2 dismissed, 3 closed by the app."""
        self._test_call("Close", "uub", (nid, reason, broadcast))

    def flood(self, n: int, nid: int, key: str, broadcast: bool = False) -> None:
        """`n` ActionInvoked(nid, key) signals at once (key "*": n distinct keys)."""
        self._test_call("Flood", "uusb", (n, nid, key, broadcast))

    def wait_records(self, n: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Poll until at least `n` records are there (or `timeout` passes); return them."""
        deadline = time.monotonic() + timeout
        while True:
            recs = self.records()
            if len(recs) >= n or time.monotonic() >= deadline:
                return recs
            time.sleep(0.02)


def _wait_name_released(bus: str, timeout: float = 5.0) -> None:
    """After the server dies, wait until the bus no longer lists it as the owner."""
    from jeepney import MessageType
    from jeepney.bus_messages import message_bus
    from jeepney.io.blocking import open_dbus_connection

    deadline = time.monotonic() + timeout
    try:
        with open_dbus_connection(bus=bus) as conn:
            while time.monotonic() < deadline:
                r = conn.send_and_get_reply(
                    message_bus.NameHasOwner("org.freedesktop.Notifications"), timeout=2
                )
                if r.header.message_type == MessageType.error or not r.body[0]:
                    return
                time.sleep(0.01)
    except (OSError, TimeoutError, RuntimeError):
        return  # bus gone: nothing owns anything


def _mode_of(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "ok"))


@pytest.fixture(name="notify_server")
def notify_server_fixture(
    session_bus: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[NotifyServer]:
    """The project's notification server on `session_bus`, in mode "ok" unless
    parametrised indirectly with another mode."""
    record = tmp_path_factory.mktemp("notify") / "notifications.jsonl"
    server = NotifyServer(session_bus, record, _mode_of(request)).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(name="notify_server_factory")
def notify_server_factory_fixture(
    session_bus: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """start(mode="ok", bus=None, actions=False) -> NotifyServer (on `session_bus` unless
    told; `actions`: it lists the "actions" capability); all stopped after."""
    started: list[NotifyServer] = []

    def start(mode: str = "ok", bus: str | None = None, actions: bool = False) -> NotifyServer:
        record = tmp_path_factory.mktemp("notify") / "notifications.jsonl"
        server = NotifyServer(bus or session_bus, record, mode, actions)
        started.append(server)
        return server.start()

    try:
        yield start
    finally:
        for s in started:
            s.stop()


# ------------------------------------------------------------------ input injection
def xdotool(display: str, *args: str | int, timeout: float = 60.0) -> str:
    """Run `xdotool ARGS` against `display`; its stdout. Raises on failure."""
    exe = need("xdotool")
    env = {"DISPLAY": display, "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    r = subprocess.run(
        [exe, *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if r.returncode != 0:
        raise RuntimeError(f"xdotool {' '.join(map(str, args))} failed ({r.returncode}): {r.stderr.strip()}")
    return r.stdout


def type_text(display: str, text: str, delay_ms: int = 12) -> None:
    """Type `text` (one key press per character; capitals add a Shift press)."""
    xdotool(display, "type", "--delay", delay_ms, "--", text)


def key(display: str, *keys: str) -> None:
    """Press and release keysyms, e.g. key(d, "Return")."""
    xdotool(display, "key", "--", *keys)


def move(display: str, x: int, y: int) -> None:
    """Move the pointer to (x, y) on screen 0."""
    xdotool(display, "mousemove", x, y)


def click(display: str, button: int = 1, repeat: int = 1, delay_ms: int = 20) -> None:
    """Click `button` (1 left, 2 middle, 3 right) `repeat` times."""
    xdotool(display, "click", "--repeat", repeat, "--delay", delay_ms, button)


def scroll(display: str, n: int, delay_ms: int = 20) -> None:
    """Scroll |n| steps: n > 0 down (button 5), n < 0 up (button 4)."""
    if n:
        click(display, 5 if n > 0 else 4, repeat=abs(n), delay_ms=delay_ms)


# ------------------------------------------------------------------ environments
_PASS_THROUGH = (
    "PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "PYTHONPATH", "VIRTUAL_ENV",
    "PYENV_ROOT", "PYENV_VERSION", "COVERAGE_PROCESS_START", "TMPDIR", "CI",
)


def desktop_env(
    display: str | None,
    bus: str | None,
    home: Path | str,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment for a child such as `mmctl run` on this desktop.

    Built from scratch (never the ambient desktop's variables): DISPLAY and
    DBUS_SESSION_BUS_ADDRESS as given (left out when None: a test of "no
    display" / "no bus"), HOME and the XDG folders inside `home` (the runtime
    folder made 0700), PATH and a few interpreter variables passed through.
    Never WAYLAND_DISPLAY or XDG_SESSION_TYPE.
    """
    home = Path(home)
    run = home / "run"
    run.mkdir(mode=0o700, parents=True, exist_ok=True)
    env = {k: os.environ[k] for k in _PASS_THROUGH if k in os.environ}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        XDG_RUNTIME_DIR=str(run),
        PYTHONUNBUFFERED="1",
    )
    if display is not None:
        env["DISPLAY"] = display
    if bus is not None:
        env["DBUS_SESSION_BUS_ADDRESS"] = bus
    if extra:
        env.update(extra)
    for k in ("WAYLAND_DISPLAY", "XDG_SESSION_TYPE"):
        env.pop(k, None)
    return env


@dataclass
class Desktop:
    display: str
    bus: str
    server: NotifyServer
    home: Path
    env: dict[str, str]


@pytest.fixture(name="desktop")
def desktop_fixture(
    xvfb: str, session_bus: str, notify_server: NotifyServer, tmp_path: Path
) -> Desktop:
    """X display + private bus + notification server ("ok") + a private HOME, with its env."""
    home = tmp_path / "home"
    home.mkdir()
    return Desktop(xvfb, session_bus, notify_server, home, desktop_env(xvfb, session_bus, home))


# Plain aliases, for `from desktop import xvfb`. Prefer importing the
# `*_fixture` names: a test parameter called `xvfb` then shadows nothing (ruff F811).
xvfb = xvfb_fixture
xvfb_module = xvfb_module_fixture
session_bus = session_bus_fixture
session_bus_module = session_bus_module_fixture
notify_server = notify_server_fixture
notify_server_factory = notify_server_factory_fixture
desktop = desktop_fixture
