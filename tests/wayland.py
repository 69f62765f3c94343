"""Real Wayland compositors for tests, headless: mutter 43 and sway 1.7 (Debian 12).

- `Mutter` starts a private session bus (policy `<allow user="*"/>`, no
  service activation) and `mutter --headless --wayland --no-x11
  --sm-disable --virtual-monitor 1024x768` on it, and waits until
  `org.gnome.Mutter.IdleMonitor` answers. `RemoteDesktop` injects keys and
  pointer motion through `org.gnome.Mutter.RemoteDesktop` (Mutter's idle
  monitor counts them as input).
- `Sway` runs sway as an unprivileged user that the test setup creates
  (sway refuses root): `env -i ... WLR_BACKENDS=headless
  WLR_LIBINPUT_NO_DEVICES=1 WLR_RENDERER=pixman sway -c CONF`, in a 0700
  runtime folder owned by that user, and waits for its socket, which root
  can use (WAYLAND_DISPLAY may be its absolute path). Keys go in through
  `wtype` (the virtual keyboard protocol), motion through the wlroots
  virtual pointer protocol (pywayland: `VirtualPointer`).

A missing program skips the test (conftest turns that into a failure under CI=true).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop import BUS_CONFIG, _wait_gone, need

START_TIMEOUT_S = 30.0
TEST_USER = "mmwayland"


def _wait(pred: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


# ------------------------------------------------------------------ mutter
class Mutter:
    def __init__(self) -> None:
        self.dir: Path | None = None
        self.bus = ""
        self.bus_pid: int | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self.display = ""

    def start(self) -> Mutter:
        mutter = need("mutter")
        daemon = need("dbus-daemon")
        self.dir = Path(tempfile.mkdtemp(prefix="mm-mutter-"))
        conf = self.dir / "bus.conf"
        conf.write_text(BUS_CONFIG.format(tmpdir=self.dir), encoding="utf-8")
        r = subprocess.run(
            [daemon, f"--config-file={conf}", "--fork", "--print-address=1", "--print-pid=1"],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=START_TIMEOUT_S, check=False,
        )  # fmt: skip
        lines = r.stdout.split()
        if r.returncode != 0 or len(lines) < 2:
            raise RuntimeError(f"dbus-daemon did not start: {r.stderr.strip()}")
        self.bus, self.bus_pid = lines[0], int(lines[1])
        run = self.dir / "run"
        run.mkdir(mode=0o700)
        self.display = f"mm-mutter-{os.getpid()}-{id(self) % 10000}"
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(self.dir),
            "XDG_RUNTIME_DIR": str(run),
            "DBUS_SESSION_BUS_ADDRESS": self.bus,
        }
        self.log = self.dir / "mutter.log"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [mutter, "--headless", "--wayland", "--no-x11", "--sm-disable",
                 f"--wayland-display={self.display}", "--virtual-monitor", "1024x768"],
                env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        _wait(self._answers, START_TIMEOUT_S, "mutter's IdleMonitor on the bus")
        return self

    def _answers(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(f"mutter exited ({self.proc.returncode}): {self.log.read_text(errors='replace')[-800:]}")
        try:
            idle_ms(self.bus)
        except Exception:  # noqa: BLE001 - not up yet
            return False
        return True

    def kill(self) -> None:
        """The compositor goes away (SIGKILL)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        pid, self.bus_pid = self.bus_pid, None
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            _wait_gone(pid)
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)


def _call(bus: str, path: str, iface: str, dest: str, method: str, sig: str | None = None, *args: Any) -> Any:
    from jeepney import DBusAddress, MessageType, new_method_call
    from jeepney.io.blocking import open_dbus_connection

    with contextlib.closing(open_dbus_connection(bus=bus)) as conn:
        addr = DBusAddress(path, bus_name=dest, interface=iface)
        msg = new_method_call(addr, method, sig, args) if sig else new_method_call(addr, method)
        reply = conn.send_and_get_reply(msg, timeout=5)
        if reply.header.message_type == MessageType.error:
            raise RuntimeError(f"{method}: {reply.body}")
        return reply.body


def idle_ms(bus: str) -> int:
    (ms,) = _call(bus, "/org/gnome/Mutter/IdleMonitor/Core", "org.gnome.Mutter.IdleMonitor",
                  "org.gnome.Mutter.IdleMonitor", "GetIdletime")  # fmt: skip
    return int(ms)


class RemoteDesktop:
    """Input through org.gnome.Mutter.RemoteDesktop (one session, one connection)."""

    DEST = "org.gnome.Mutter.RemoteDesktop"

    def __init__(self, bus: str) -> None:
        from jeepney import DBusAddress, new_method_call
        from jeepney.io.blocking import open_dbus_connection

        self._new = new_method_call
        self._addr = DBusAddress
        self.conn = open_dbus_connection(bus=bus)
        rd = DBusAddress("/org/gnome/Mutter/RemoteDesktop", bus_name=self.DEST, interface=self.DEST)
        (self.path,) = self._call(rd, "CreateSession")
        self.session = DBusAddress(self.path, bus_name=self.DEST, interface=self.DEST + ".Session")
        self._call(self.session, "Start")

    def _call(self, addr: Any, method: str, sig: str | None = None, *args: Any) -> Any:
        from jeepney import MessageType

        msg = self._new(addr, method, sig, args) if sig else self._new(addr, method)
        reply = self.conn.send_and_get_reply(msg, timeout=5)
        if reply.header.message_type == MessageType.error:
            raise RuntimeError(f"{method}: {reply.body}")
        return reply.body

    def key(self, keycode: int = 30) -> None:  # evdev KEY_A
        self._call(self.session, "NotifyKeyboardKeycode", "ub", keycode, True)
        self._call(self.session, "NotifyKeyboardKeycode", "ub", keycode, False)

    def move(self, dx: float = 5.0, dy: float = 0.0) -> None:
        self._call(self.session, "NotifyPointerMotionRelative", "dd", dx, dy)

    def type_for(self, seconds: float, every_s: float = 0.25) -> tuple[float, float]:
        """A key every `every_s` for `seconds`: (wall time of the first, of the last)."""
        end = time.monotonic() + seconds
        first = last = time.time()
        while time.monotonic() < end:
            self.key()
            last = time.time()
            time.sleep(every_s)
        return first, last

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._call(self.session, "Stop")
        with contextlib.suppress(Exception):
            self.conn.close()


@pytest.fixture(name="mutter")
def mutter_fixture() -> Iterator[Mutter]:
    m = Mutter()
    try:
        yield m.start()
    finally:
        m.stop()


# ------------------------------------------------------------------ sway
def test_user() -> pwd.struct_passwd:
    """An unprivileged user for sway (created once; sway refuses to run as root)."""
    try:
        return pwd.getpwnam(TEST_USER)
    except KeyError:
        pass
    if os.geteuid() != 0:
        pytest.skip("creating the sway test user needs root")
    useradd = need("useradd")
    subprocess.run([useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", TEST_USER],
                   check=True, capture_output=True, timeout=30)  # fmt: skip
    return pwd.getpwnam(TEST_USER)


class Sway:
    def __init__(self) -> None:
        self.dir: Path | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self.socket = ""

    def start(self) -> Sway:
        sway = need("sway")
        user = test_user()
        if os.geteuid() != 0 and os.geteuid() != user.pw_uid:
            pytest.skip("running sway as its test user needs root")
        self.dir = Path(tempfile.mkdtemp(prefix="mm-sway-"))
        os.chmod(self.dir, 0o755)
        run = self.dir / "run"
        run.mkdir(mode=0o700)
        os.chown(run, user.pw_uid, user.pw_gid)
        conf = self.dir / "sway.conf"
        conf.write_text("output HEADLESS-1 resolution 1024x768\n", encoding="utf-8")
        os.chmod(conf, 0o644)
        self.log = self.dir / "sway.log"
        env = {
            "PATH": "/usr/bin:/bin", "HOME": str(self.dir), "XDG_RUNTIME_DIR": str(run),
            "WLR_BACKENDS": "headless", "WLR_LIBINPUT_NO_DEVICES": "1", "WLR_RENDERER": "pixman",
            "WLR_HEADLESS_OUTPUTS": "1",
        }  # fmt: skip
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [sway, "-c", str(conf)], env=env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
                user=user.pw_uid, group=user.pw_gid, extra_groups=[],
            )  # fmt: skip
        _wait(lambda: self._socket(run), START_TIMEOUT_S, "sway's Wayland socket")
        return self

    def _socket(self, run: Path) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(f"sway exited ({self.proc.returncode}): {self.log.read_text(errors='replace')[-800:]}")
        socks = sorted(p for p in run.glob("wayland-*") if not p.name.endswith(".lock"))
        if not socks:
            return False
        self.socket = str(socks[0])
        return True

    def wtype(self, text: str, delay_ms: int = 150) -> None:
        wtype = need("wtype")
        subprocess.run([wtype, "-d", str(delay_ms), text], env={"PATH": "/usr/bin:/bin", "WAYLAND_DISPLAY": self.socket},
                       check=True, capture_output=True, timeout=120)  # fmt: skip

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)


class VirtualPointer:
    """Pointer motion through zwlr_virtual_pointer_manager_v1 (pywayland; sway offers it)."""

    def __init__(self, socket: str) -> None:
        from pywayland.client import Display

        from wlr_virtual_pointer import ZwlrVirtualPointerManagerV1

        self.display = Display(socket)
        self.display.connect()
        found: dict[str, Any] = {}
        registry = self.display.get_registry()

        def on_global(reg: Any, name: int, interface: str, version: int) -> None:
            if interface == "zwlr_virtual_pointer_manager_v1":
                found["mgr"] = reg.bind(name, ZwlrVirtualPointerManagerV1, 1)

        registry.dispatcher["global"] = on_global
        self.display.roundtrip()
        self.pointer = found["mgr"].create_virtual_pointer(None)
        self.t0 = time.monotonic()

    def move(self, dx: float = 5.0, dy: float = 0.0) -> None:
        ms = int((time.monotonic() - self.t0) * 1000)
        self.pointer.motion(ms, dx, dy)
        self.pointer.frame()
        self.display.flush()
        self.display.roundtrip()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.display.disconnect()


@pytest.fixture(name="sway")
def sway_fixture() -> Iterator[Sway]:
    s = Sway()
    try:
        yield s.start()
    finally:
        s.stop()
