"""Real desktop parts for the quiet-time tests: each can be switched on and off.

- `SystemBus` + `Standin`: a private bus named by DBUS_SYSTEM_BUS_ADDRESS with
  the logind stand-in (tests/desktop_standins.py), or a screensaver stand-in
  on the session bus; driven with `dbus-send`;
- `Dunst`: the real dunst on the session bus (needs an X display), its
  do-not-disturb switched with `dunstctl set-paused`;
- `Xfconfd`: the real xfconf daemon on the session bus, `/do-not-disturb` of
  channel xfce4-notifyd set through its D-Bus API;
- GNOME's show-banners through the real `gsettings` with the keyfile backend;
- `Openbox` + `FullscreenWindow`: a real window manager and a real X window
  asking it for fullscreen (EWMH _NET_WM_STATE client message);
- `VideoUser`: a real process holding a character device node named
  /dev/video-micromove-test-PID open.
"""

from __future__ import annotations

import contextlib
import glob
import os
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from desktop import need, running_bus

HERE = Path(__file__).resolve().parent
STANDINS = HERE / "desktop_standins.py"


def dbus_send(address: str, dest: str, path: str, method: str, *args: str) -> str:
    r = subprocess.run(
        [need("dbus-send"), f"--bus={address}", "--print-reply", f"--dest={dest}", path, method, *args],
        capture_output=True, text=True, timeout=10, check=False,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    return r.stdout


def wait_for(pred: Any, timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.02)
    raise AssertionError(f"{what}: not within {timeout} s")


class Standin:
    """tests/desktop_standins.py ROLE on a bus."""

    def __init__(self, role: str, address: str, *args: str) -> None:
        self.role = role
        self.address = address
        self.proc = subprocess.Popen(
            [sys.executable, str(STANDINS), role, "--address", address, *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], 15)
        line = self.proc.stdout.readline() if ready else ""
        if line.strip() != "ready":
            self.stop()
            raise RuntimeError(f"stand-in {role} did not start")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        for f in (self.proc.stdout, self.proc.stderr):
            if f is not None:
                f.close()


class Logind(Standin):
    def __init__(self, address: str, session_id: str = "7") -> None:
        super().__init__("logind", address, "--session-id", session_id)

    def lock(self, on: bool) -> None:
        dbus_send(self.address, "org.freedesktop.login1", "/org/freedesktop/login1",
                  "org.micromove.Test.SetLocked", f"boolean:{'true' if on else 'false'}")  # fmt: skip

    def sleep(self, on: bool) -> None:
        dbus_send(self.address, "org.freedesktop.login1", "/org/freedesktop/login1",
                  "org.micromove.Test.Sleep", f"boolean:{'true' if on else 'false'}")  # fmt: skip


class Screensaver(Standin):
    def __init__(self, address: str, name: str) -> None:
        super().__init__("screensaver", address, "--name", name)
        self.name = name

    def active(self, on: bool) -> None:
        dbus_send(self.address, self.name, "/", "org.micromove.Test.SetActive", f"boolean:{'true' if on else 'false'}")


@contextlib.contextmanager
def logind(session_id: str = "7") -> Iterator[Logind]:
    """A private "system bus" with the logind stand-in; its address is standin.address."""
    with running_bus() as address:
        s = Logind(address, session_id)
        try:
            yield s
        finally:
            s.stop()


class Dunst:
    def __init__(self, display: str, bus: str, home: Path) -> None:
        self.env = dict(os.environ, DISPLAY=display, DBUS_SESSION_BUS_ADDRESS=bus, HOME=str(home),
                        XDG_CONFIG_HOME=str(home / ".config"))  # fmt: skip
        self.proc = subprocess.Popen([need("dunst")], env=self.env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        wait_for(lambda: self._ctl("is-paused").returncode == 0, 15, "dunst answering")

    def _ctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([need("dunstctl"), *args], env=self.env, capture_output=True, text=True,
                              timeout=10, check=False)  # fmt: skip

    def paused(self, on: bool) -> None:
        r = self._ctl("set-paused", "true" if on else "false")
        assert r.returncode == 0, r.stderr
        assert self._ctl("is-paused").stdout.strip() == ("true" if on else "false")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(5)


def xfconfd_path() -> str:
    found = sorted(glob.glob("/usr/lib/*/xfce4/xfconf/xfconfd")) + sorted(glob.glob("/usr/lib/xfce4/xfconf/xfconfd"))
    if not found:
        import pytest

        pytest.skip("xfconfd is not installed (apt-get install xfconf)")
    return found[0]


class Xfconfd:
    def __init__(self, bus: str, home: Path) -> None:
        self.bus = bus
        env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=bus, HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"))
        self.proc = subprocess.Popen([xfconfd_path()], env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        wait_for(self._answers, 15, "xfconfd answering")

    def _answers(self) -> bool:
        r = subprocess.run([need("dbus-send"), f"--bus={self.bus}", "--print-reply", "--dest=org.xfce.Xfconf",
                            "/org/xfce/Xfconf", "org.xfce.Xfconf.ListChannels"],
                           capture_output=True, text=True, timeout=5, check=False)  # fmt: skip
        return r.returncode == 0

    def dnd(self, on: bool) -> None:
        dbus_send(self.bus, "org.xfce.Xfconf", "/org/xfce/Xfconf", "org.xfce.Xfconf.SetProperty",
                  "string:xfce4-notifyd", "string:/do-not-disturb", f"variant:boolean:{'true' if on else 'false'}")  # fmt: skip

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(5)


def gsettings_env(home: Path) -> dict[str, str]:
    return {"GSETTINGS_BACKEND": "keyfile", "XDG_CONFIG_HOME": str(home / ".config")}


def gsettings_set_banners(env: Mapping[str, str], show: bool) -> None:
    r = subprocess.run([need("gsettings"), "set", "org.gnome.desktop.notifications", "show-banners",
                        "true" if show else "false"], env={**os.environ, **env}, capture_output=True,
                       text=True, timeout=10, check=False)  # fmt: skip
    assert r.returncode == 0, r.stderr


# ------------------------------------------------------------------ X11 fullscreen
class Openbox:
    def __init__(self, display: str, home: Path) -> None:
        env = dict(os.environ, DISPLAY=display, HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"))
        self.proc = subprocess.Popen([need("openbox"), "--sm-disable"], env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        from Xlib import X
        from Xlib import display as xdisplay

        d = xdisplay.Display(display)
        try:
            check = d.intern_atom("_NET_SUPPORTING_WM_CHECK")
            wait_for(lambda: d.screen().root.get_full_property(check, X.AnyPropertyType) is not None, 15,
                     "openbox managing the display")  # fmt: skip
        finally:
            d.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(5)


class FullscreenWindow:
    """A real X window (python-xlib) that asks the window manager for fullscreen."""

    def __init__(self, display: str) -> None:
        from Xlib import X
        from Xlib import display as xdisplay

        self.d = xdisplay.Display(display)
        root = self.d.screen().root
        self.win = root.create_window(50, 50, 300, 200, 0, self.d.screen().root_depth, X.InputOutput,
                                      X.CopyFromParent, background_pixel=self.d.screen().white_pixel)  # fmt: skip
        self.win.set_wm_name("quiet-test")  # what micromove must never read
        self.win.map()
        self.d.sync()
        active = self.d.intern_atom("_NET_ACTIVE_WINDOW")

        def focused() -> bool:
            p = root.get_full_property(active, X.AnyPropertyType)
            return p is not None and bool(p.value) and int(p.value[0]) == self.win.id

        try:
            wait_for(focused, 3, "the window focused by the window manager")
        except AssertionError:
            # Mapped while the window manager was still starting up: ask it to
            # activate the window, as a taskbar would (EWMH _NET_ACTIVE_WINDOW).
            subprocess.run([need("xdotool"), "windowactivate", str(self.win.id)], env={**os.environ, "DISPLAY": display},
                           capture_output=True, timeout=10, check=False)  # fmt: skip
            wait_for(focused, 15, "the window focused by the window manager")

    def fullscreen(self, on: bool) -> None:
        from Xlib import X
        from Xlib.protocol import event

        d = self.d
        state = d.intern_atom("_NET_WM_STATE")
        fs = d.intern_atom("_NET_WM_STATE_FULLSCREEN")
        ev = event.ClientMessage(window=self.win, client_type=state, data=(32, [1 if on else 0, fs, 0, 1, 0]))
        d.screen().root.send_event(ev, event_mask=X.SubstructureRedirectMask | X.SubstructureNotifyMask)
        d.sync()

        def applied() -> bool:
            p = self.win.get_full_property(state, X.AnyPropertyType)
            has = p is not None and fs in set(p.value)
            return has == on

        wait_for(applied, 15, f"fullscreen {'on' if on else 'off'}")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.win.destroy()
            self.d.close()


# ------------------------------------------------------------------ camera
class VideoUser:
    """A process holding a character device node /dev/video-micromove-test-PID open."""

    def __init__(self) -> None:
        self.node = Path(f"/dev/video-micromove-test-{os.getpid()}")
        if not self.node.exists():
            try:
                os.mknod(self.node, 0o600 | 0o020000, os.makedev(1, 3))  # a char device like /dev/null
            except (PermissionError, OSError):
                import pytest

                pytest.skip("cannot create a device node under /dev here (needs root)")
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        code = "import sys, time\nf = open(sys.argv[1], 'rb')\nprint('open', flush=True)\ntime.sleep(600)\n"
        self.proc = subprocess.Popen([sys.executable, "-c", code, str(self.node)], stdout=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL, text=True)  # fmt: skip
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline().strip() == "open"

    def end(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(5)
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()
        self.proc = None

    def remove(self) -> None:
        self.end()
        with contextlib.suppress(OSError):
            self.node.unlink()


def have(program: str) -> bool:
    return shutil.which(program) is not None
