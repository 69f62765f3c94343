"""Each quiet-time source against real desktop parts (quiet_parts.py): the real
source classes of adapters/quiet, told by real D-Bus signals, real settings,
a real window manager and a real process holding a device node."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop import running_bus, session_bus_fixture, xvfb_fixture  # noqa: F401 - fixtures by name
from micromove.adapters.quiet import NAMES, make
from micromove.adapters.quiet.devices import MicrophoneSource, camera_in_use
from micromove.adapters.quiet.dnd import DndSource
from micromove.adapters.quiet.fullscreen import FullscreenSource
from micromove.adapters.quiet.lock import LockSource
from micromove.adapters.quiet.sleep import SleepSource
from quiet_parts import (
    Dunst,
    FullscreenWindow,
    Openbox,
    Screensaver,
    VideoUser,
    Xfconfd,
    gsettings_env,
    gsettings_set_banners,
    logind,
    wait_for,
)

pytestmark = [pytest.mark.desktop]


class Changes:
    """The `changed` callback a source gets: counts calls (from any thread)."""

    def __init__(self) -> None:
        self.n = 0
        self.lock = threading.Lock()

    def __call__(self) -> None:
        with self.lock:
            self.n += 1


def test_every_source_is_found_by_name() -> None:
    for name in NAMES:
        src = make(name, {})
        assert src.name == name and isinstance(src.what, str)
    with pytest.raises(ValueError):
        make("nonsense", {})


# ------------------------------------------------------------------ lock: logind
@pytest.mark.parametrize("by", ["XDG_SESSION_ID", "user display"])
def test_lock_follows_logind_lockedhint(session_bus: str, by: str) -> None:
    with logind("7") as ld:
        env = {"DBUS_SYSTEM_BUS_ADDRESS": ld.address, "DBUS_SESSION_BUS_ADDRESS": session_bus}
        if by == "XDG_SESSION_ID":
            env["XDG_SESSION_ID"] = "7"
        ld.lock(True)  # locked before micromove starts: seen at start
        src = LockSource(env)
        ch = Changes()
        src.start(ch)
        try:
            assert src.wait_ready()
            wait_for(src.holding, 5, "locked at start")
            assert src.session == "/org/freedesktop/login1/session/_37"
            ld.lock(False)
            wait_for(lambda: not src.holding(), 5, "unlocked")
            n = ch.n
            ld.lock(True)
            wait_for(lambda: ch.n > n, 5, "changed() called")
            assert src.holding()
        finally:
            src.stop()


def test_lock_without_logind_never_holds(session_bus: str, tmp_path: Path) -> None:
    env = {"DBUS_SYSTEM_BUS_ADDRESS": f"unix:path={tmp_path}/nothing", "DBUS_SESSION_BUS_ADDRESS": session_bus}
    src = LockSource(env)
    src.start(Changes())
    try:
        assert src.wait_ready()
        assert not src.holding()
        assert src.offer().detail.startswith("logind: not reachable") or "not watched" in src.offer().detail
    finally:
        src.stop()


# ------------------------------------------------------------------ lock: screensavers
@pytest.mark.parametrize("name", ["org.gnome.ScreenSaver", "org.freedesktop.ScreenSaver", "org.mate.ScreenSaver"])
def test_lock_follows_a_screensaver(session_bus: str, tmp_path: Path, name: str) -> None:
    saver = Screensaver(session_bus, name)
    try:
        env = {"DBUS_SYSTEM_BUS_ADDRESS": f"unix:path={tmp_path}/none", "DBUS_SESSION_BUS_ADDRESS": session_bus}
        src = LockSource(env)
        ch = Changes()
        src.start(ch)
        try:
            assert src.wait_ready()
            assert not src.holding()
            saver.active(True)
            wait_for(src.holding, 5, "screensaver active")
            saver.active(False)
            wait_for(lambda: not src.holding(), 5, "screensaver off")
            assert ch.n == 2
        finally:
            src.stop()
    finally:
        saver.stop()


def test_a_screensaver_that_quits_while_active_stops_holding(session_bus: str, tmp_path: Path) -> None:
    saver = Screensaver(session_bus, "org.gnome.ScreenSaver")
    env = {"DBUS_SYSTEM_BUS_ADDRESS": f"unix:path={tmp_path}/none", "DBUS_SESSION_BUS_ADDRESS": session_bus}
    src = LockSource(env)
    src.start(Changes())
    try:
        assert src.wait_ready()
        saver.active(True)
        wait_for(src.holding, 5, "active")
        saver.stop()  # gone while active (a crash, a logout)
        wait_for(lambda: not src.holding(), 5, "no longer held by a screensaver that is gone")
    finally:
        src.stop()
        saver.stop()


def test_logind_that_goes_away_while_locked_stops_holding(session_bus: str) -> None:
    with logind("7") as ld:
        src = LockSource({"DBUS_SYSTEM_BUS_ADDRESS": ld.address, "DBUS_SESSION_BUS_ADDRESS": session_bus,
                          "XDG_SESSION_ID": "7"})  # fmt: skip
        src.start(Changes())
        try:
            assert src.wait_ready()
            ld.lock(True)
            wait_for(src.holding, 5, "locked")
            ld.stop()
            wait_for(lambda: not src.holding(), 5, "logind gone: no longer held")
        finally:
            src.stop()


# ------------------------------------------------------------------ sleep
def test_sleep_follows_prepare_for_sleep() -> None:
    with logind() as ld:
        src = SleepSource({"DBUS_SYSTEM_BUS_ADDRESS": ld.address})
        ch = Changes()
        src.start(ch)
        try:
            assert src.wait_ready()
            assert src.watching == "logind PrepareForSleep"
            ld.sleep(True)
            wait_for(src.holding, 5, "going to sleep")
            ld.sleep(False)
            wait_for(lambda: not src.holding(), 5, "awake")
        finally:
            src.stop()


# ------------------------------------------------------------------ do not disturb
def test_dnd_follows_dunst_paused(xvfb: str, session_bus: str, tmp_path: Path) -> None:
    dunst = Dunst(xvfb, session_bus, tmp_path)
    try:
        src = DndSource({"DBUS_SESSION_BUS_ADDRESS": session_bus, "PATH": "/nonexistent"})  # no gsettings
        ch = Changes()
        src.start(ch)
        try:
            assert src.wait_ready()
            assert not src.holding()
            dunst.paused(True)
            wait_for(lambda: ch.n == 1, 5, "changed() on dunst's signal")
            assert src.holding()
            dunst.paused(False)
            wait_for(lambda: not src.holding(), 5, "dunst unpaused")
            assert "dunst paused (signals)" in src.parts.values()
        finally:
            src.stop()
    finally:
        dunst.stop()


def test_dnd_reads_dunst_paused_at_start(xvfb: str, session_bus: str, tmp_path: Path) -> None:
    dunst = Dunst(xvfb, session_bus, tmp_path)
    try:
        dunst.paused(True)
        src = DndSource({"DBUS_SESSION_BUS_ADDRESS": session_bus, "PATH": "/nonexistent"})
        src.start(Changes())
        try:
            assert src.wait_ready()
            wait_for(src.holding, 5, "paused at start")
        finally:
            src.stop()
    finally:
        dunst.stop()


def test_dnd_follows_kde_style_inhibited(session_bus: str, tmp_path: Path) -> None:
    from desktop import NotifyServer
    from quiet_parts import dbus_send

    server = NotifyServer(session_bus, tmp_path / "n.jsonl").start()
    try:
        src = DndSource({"DBUS_SESSION_BUS_ADDRESS": session_bus, "PATH": "/nonexistent"})
        src.start(Changes())
        try:
            assert src.wait_ready()
            assert not src.holding() and "kde" in src.parts

            def inhibit(on: bool) -> None:
                dbus_send(session_bus, "org.freedesktop.Notifications", "/org/freedesktop/Notifications",
                          "org.micromove.Test.SetInhibited", f"boolean:{'true' if on else 'false'}")  # fmt: skip

            inhibit(True)
            wait_for(src.holding, 5, "Inhibited true")
            inhibit(False)
            wait_for(lambda: not src.holding(), 5, "Inhibited false")
        finally:
            src.stop()
    finally:
        server.stop()


def test_dnd_reads_a_restarted_notification_server_again(xvfb: str, session_bus: str, tmp_path: Path) -> None:
    dunst = Dunst(xvfb, session_bus, tmp_path)
    src = DndSource({"DBUS_SESSION_BUS_ADDRESS": session_bus, "PATH": "/nonexistent"})
    src.start(Changes())
    try:
        assert src.wait_ready()
        dunst.paused(True)
        wait_for(src.holding, 5, "paused")
        dunst.stop()  # the server goes away: its do-not-disturb with it
        wait_for(lambda: not src.holding(), 5, "server gone")
        dunst = Dunst(xvfb, session_bus, tmp_path)
        dunst.paused(True)
        wait_for(src.holding, 5, "the new server paused")
    finally:
        src.stop()
        dunst.stop()


def test_dnd_follows_gnome_show_banners_with_the_real_gsettings(tmp_path: Path) -> None:
    env = {**os.environ, **gsettings_env(tmp_path)}
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    src = DndSource(env)
    src.start(Changes())
    try:
        assert src.gnome and src.checked, "GNOME's schema (gsettings-desktop-schemas) must be installed"
        assert not src.holding()
        gsettings_set_banners(env, False)
        assert src.holding()
        gsettings_set_banners(env, True)
        assert not src.holding()
    finally:
        src.stop()


def test_dnd_follows_xfce_do_not_disturb(session_bus: str, tmp_path: Path) -> None:
    xf = Xfconfd(session_bus, tmp_path)
    try:
        src = DndSource({"DBUS_SESSION_BUS_ADDRESS": session_bus, "PATH": "/nonexistent"})
        ch = Changes()
        src.start(ch)
        try:
            assert src.wait_ready()
            assert not src.holding()
            xf.dnd(True)
            wait_for(src.holding, 5, "xfce do-not-disturb on")
            xf.dnd(False)
            wait_for(lambda: not src.holding(), 5, "xfce do-not-disturb off")
        finally:
            src.stop()
    finally:
        xf.stop()


# ------------------------------------------------------------------ fullscreen
@pytest.fixture()
def openbox(xvfb: str, tmp_path: Path) -> Iterator[str]:
    wm = Openbox(xvfb, tmp_path)
    try:
        yield xvfb
    finally:
        wm.stop()


def test_fullscreen_follows_a_real_window_under_openbox(openbox: str) -> None:
    src = FullscreenSource({"DISPLAY": openbox})
    src.start(Changes())
    win = FullscreenWindow(openbox)
    try:
        assert not src.holding()
        win.fullscreen(True)
        assert src.holding()
        win.fullscreen(False)
        assert not src.holding()
    finally:
        win.close()
        src.stop()


def test_fullscreen_on_gnome_wayland_follows_the_session_managers_inhibitors(session_bus: str) -> None:
    from quiet_parts import Standin, dbus_send

    gs = Standin("gnome-session", session_bus)
    try:
        src = FullscreenSource({"DBUS_SESSION_BUS_ADDRESS": session_bus, "WAYLAND_DISPLAY": "wayland-0"})
        src.start(Changes())
        assert src.gnome and not src.holding()

        def inhibit(flags: int) -> None:
            dbus_send(session_bus, "org.gnome.SessionManager", "/org/gnome/SessionManager",
                      "org.micromove.Test.SetInhibited", f"uint32:{flags}")  # fmt: skip

        inhibit(8)  # idle: a fullscreen video, a presentation
        assert src.holding()
        inhibit(4)  # suspend only (a download): not a reason for quiet
        assert not src.holding()
        assert "GNOME session-manager inhibitors" in src.offer().detail
    finally:
        gs.stop()


def test_fullscreen_without_a_display_never_holds() -> None:
    src = FullscreenSource({})
    src.start(Changes())
    assert not src.holding()


# ------------------------------------------------------------------ camera, microphone
@pytest.mark.machine_wide  # a video device every process sees
def test_camera_in_use_while_a_process_holds_a_video_node() -> None:
    cam = make("camera", {})
    user = VideoUser()
    try:
        assert not cam.holding()
        user.start()
        assert cam.holding()
        user.end()
        assert not cam.holding()
    finally:
        user.remove()


def test_camera_scan_skips_our_own_process(tmp_path: Path) -> None:
    node = tmp_path / "dev" / "video0"
    node.parent.mkdir()
    node.write_text("")
    fd_dir = tmp_path / "proc" / "42" / "fd"
    fd_dir.mkdir(parents=True)
    (fd_dir / "3").symlink_to(node)
    assert camera_in_use(str(tmp_path))
    assert not camera_in_use(str(tmp_path), skip_pid=42)


def test_microphone_in_use_when_a_capture_substream_runs(tmp_path: Path) -> None:
    sub = tmp_path / "proc" / "asound" / "card0" / "pcm0c" / "sub0"
    sub.mkdir(parents=True)
    play = tmp_path / "proc" / "asound" / "card0" / "pcm0p" / "sub0"
    play.mkdir(parents=True)
    (play / "status").write_text("state: RUNNING\n")  # playback does not count
    (sub / "status").write_text("closed\n")
    mic = MicrophoneSource({}, root=str(tmp_path))
    assert not mic.holding()
    (sub / "status").write_text("state: RUNNING\nowner_pid   : 4242\n")
    assert mic.holding()
    (sub / "status").write_text("state: PREPARED\n")
    assert not mic.holding()
    assert mic.offer().available


# ------------------------------------------------------------------ doctor
def test_doctor_says_which_sources_this_desktop_offers(xvfb: str, session_bus: str, tmp_path: Path) -> None:
    import json

    from _mmctl import mmctl
    from desktop import desktop_env

    dunst = Dunst(xvfb, session_bus, tmp_path)
    try:
        with logind("7") as ld:
            env = desktop_env(xvfb, session_bus, tmp_path / "home",
                              {"DBUS_SYSTEM_BUS_ADDRESS": ld.address, "XDG_SESSION_ID": "7", "PATH": "/usr/bin:/bin"})  # fmt: skip
            cfg = tmp_path / "c.yaml"
            cfg.write_text('quiet:\n  camera: false\n  hours: ["22:00-07:00"]\n')
            proc = mmctl("doctor", "--json", "--config", cfg, env=env, timeout=60)
    finally:
        dunst.stop()
    checks = {c["name"]: c for c in json.loads(proc.stdout)["checks"]}
    assert checks["quiet time lock"]["status"] == "ok" and "logind LockedHint" in checks["quiet time lock"]["detail"]
    assert checks["quiet time sleep"]["status"] == "ok"
    assert checks["quiet time dnd"]["status"] == "ok" and "dunst paused" in checks["quiet time dnd"]["detail"]
    assert checks["quiet time fullscreen"]["status"] == "ok" and "X11 EWMH" in checks["quiet time fullscreen"]["detail"]
    assert checks["quiet time camera"] == {
        "name": "quiet time camera", "status": "note", "detail": "switched off in the config (quiet.camera: false)",
        "fix": None,
    }  # fmt: skip
    assert checks["quiet hours"]["detail"] == "22:00-07:00"
    assert all(c["status"] != "problem" for n, c in checks.items() if n.startswith("quiet"))


def test_malformed_signals_change_nothing_and_stop_nothing(session_bus: str, tmp_path: Path) -> None:
    import subprocess

    from desktop import need

    saver = Screensaver(session_bus, "org.gnome.ScreenSaver")
    env = {"DBUS_SYSTEM_BUS_ADDRESS": f"unix:path={tmp_path}/none", "DBUS_SESSION_BUS_ADDRESS": session_bus}
    src = LockSource(env)
    dnd = DndSource({"DBUS_SESSION_BUS_ADDRESS": session_bus, "PATH": "/nonexistent"})
    src.start(Changes())
    dnd.start(Changes())
    try:
        assert src.wait_ready() and dnd.wait_ready()

        def emit(path: str, member: str, *args: str) -> None:
            r = subprocess.run([need("dbus-send"), f"--bus={session_bus}", "--type=signal", path, member, *args],
                               capture_output=True, text=True, timeout=10, check=False)  # fmt: skip
            assert r.returncode == 0, r.stderr

        emit("/org/gnome/ScreenSaver", "org.gnome.ScreenSaver.ActiveChanged", "string:yes")
        emit("/org/gnome/ScreenSaver", "org.gnome.ScreenSaver.ActiveChanged", "boolean:true", "boolean:true")
        emit("/org/freedesktop/Notifications", "org.freedesktop.DBus.Properties.PropertiesChanged",
             "string:org.dunstproject.cmd0", "dict:string:string:paused,yes", "array:string:")  # fmt: skip
        emit("/org/freedesktop/Notifications", "org.freedesktop.DBus.Properties.PropertiesChanged", "int32:7")
        emit("/org/xfce/Xfconf", "org.xfce.Xfconf.PropertyChanged", "string:xfce4-notifyd", "string:/do-not-disturb")
        # Nothing held, and both still listen: a well-formed signal is still seen.
        saver.active(True)
        wait_for(src.holding, 5, "a real ActiveChanged after the bad ones")
        assert not dnd.holding()
    finally:
        src.stop()
        dnd.stop()
        saver.stop()
