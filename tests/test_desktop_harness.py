"""The real-desktop harness itself works: X server, private bus, notification server.

These prove the parts the daemon's end-to-end tests stand on, using only
outside programs (xdpyinfo, xdotool, notify-send, dbus-daemon) and jeepney,
never micromove's own notifier.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from jeepney import DBusAddress, MessageType, new_method_call
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection

from desktop import (  # noqa: F401 - fixtures are used by name
    Desktop,
    NotifyServer,
    desktop_env,
    desktop_fixture,
    move,
    notify_server_factory_fixture,
    notify_server_fixture,
    session_bus_fixture,
    xdotool,
    xvfb_fixture,
)

pytestmark = pytest.mark.desktop

NOTIFICATIONS = DBusAddress(
    "/org/freedesktop/Notifications",
    bus_name="org.freedesktop.Notifications",
    interface="org.freedesktop.Notifications",
)


def notify_send(env: dict[str, str], *args: str, timeout: float = 10) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["notify-send", *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_the_x_server_answers_and_offers_xtest_and_record(xvfb: str) -> None:
    r = subprocess.run(
        ["xdpyinfo", "-display", xvfb], capture_output=True, text=True, timeout=10, check=True
    )
    assert "1920x1080 pixels" in r.stdout
    assert "XTEST" in r.stdout and "RECORD" in r.stdout


def test_xdotool_moves_the_pointer_on_that_display(xvfb: str) -> None:
    move(xvfb, 321, 123)
    assert "x:321 y:123" in xdotool(xvfb, "getmouselocation")
    move(xvfb, 17, 1001)
    assert "x:17 y:1001" in xdotool(xvfb, "getmouselocation")


def test_notify_send_reaches_the_test_server_and_is_recorded(desktop: Desktop) -> None:
    r = notify_send(desktop.env, "--app-name=micromove", "Hello there", "line one\nline two")
    assert r.returncode == 0, r.stderr
    recs = desktop.server.wait_records(1)
    assert len(recs) == 1
    rec = recs[0]
    assert rec["app_name"] == "micromove"
    assert rec["summary"] == "Hello there"
    assert rec["body"] == "line one\nline two"
    assert rec["expire_timeout"] == -1
    assert isinstance(rec["t"], float)


def test_desktop_env_is_built_from_scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    monkeypatch.setenv("XDG_SESSION_TYPE", "wayland")
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/elsewhere")
    env = desktop_env(":99", "unix:path=/x", tmp_path)
    assert env["DISPLAY"] == ":99"
    assert env["DBUS_SESSION_BUS_ADDRESS"] == "unix:path=/x"
    assert env["HOME"] == str(tmp_path)
    assert env["XDG_RUNTIME_DIR"] == str(tmp_path / "run")
    assert (tmp_path / "run").stat().st_mode & 0o777 == 0o700
    assert "WAYLAND_DISPLAY" not in env and "XDG_SESSION_TYPE" not in env
    none = desktop_env(None, None, tmp_path)
    assert "DISPLAY" not in none and "DBUS_SESSION_BUS_ADDRESS" not in none


@pytest.mark.parametrize("notify_server", ["error"], indirect=True)
def test_error_mode_refuses_with_a_dbus_error(
    session_bus: str, notify_server: NotifyServer, tmp_path: Path
) -> None:
    assert notify_server.mode == "error"
    r = notify_send(desktop_env(None, session_bus, tmp_path), "refused", "body")
    assert r.returncode != 0
    assert "test server refuses notifications" in r.stderr
    assert [x["summary"] for x in notify_server.wait_records(1)] == ["refused"]


@pytest.mark.parametrize("notify_server", ["hang"], indirect=True)
def test_hang_mode_never_answers_notify_but_answers_the_rest(
    session_bus: str, notify_server: NotifyServer, tmp_path: Path
) -> None:
    p = subprocess.Popen(
        ["notify-send", "stuck", "body"],
        env=desktop_env(None, session_bus, tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            p.wait(timeout=2)
    finally:
        p.kill()
        p.wait()
    assert [x["summary"] for x in notify_server.wait_records(1)] == ["stuck"]
    with open_dbus_connection(bus=session_bus) as conn:
        reply = conn.send_and_get_reply(
            new_method_call(NOTIFICATIONS, "GetServerInformation"), timeout=2
        )
    assert reply.body[0] == "micromove-test-server"


@pytest.mark.parametrize("notify_server", ["hang-all"], indirect=True)
def test_hang_all_mode_answers_nothing(session_bus: str, notify_server: NotifyServer) -> None:
    with open_dbus_connection(bus=session_bus) as conn:
        owned = conn.send_and_get_reply(message_bus.NameHasOwner(NOTIFICATIONS.bus_name), timeout=2)
        assert owned.body == (True,)
        with pytest.raises(TimeoutError):
            conn.send_and_get_reply(new_method_call(NOTIFICATIONS, "GetServerInformation"), timeout=1)


def test_the_bus_never_starts_a_server_by_activation(session_bus: str, tmp_path: Path) -> None:
    with open_dbus_connection(bus=session_bus) as conn:
        names = conn.send_and_get_reply(message_bus.ListActivatableNames(), timeout=2)
        assert NOTIFICATIONS.bus_name not in names.body[0]
        start = conn.send_and_get_reply(message_bus.StartServiceByName(NOTIFICATIONS.bus_name), timeout=2)
        assert start.header.message_type == MessageType.error
        owned = conn.send_and_get_reply(message_bus.NameHasOwner(NOTIFICATIONS.bus_name), timeout=2)
        assert owned.body == (False,)
    r = notify_send(desktop_env(None, session_bus, tmp_path), "nobody", "home")
    assert r.returncode != 0
    assert "ServiceUnknown" in r.stderr


def test_a_second_server_cannot_take_the_name_and_restart_hands_it_over(
    notify_server: NotifyServer, notify_server_factory: Callable[..., NotifyServer], tmp_path: Path
) -> None:
    with pytest.raises(RuntimeError, match="did not start"):
        notify_server_factory("ok")
    notify_server.restart("ok")
    r = notify_send(desktop_env(None, notify_server.bus, tmp_path), "after restart", "b")
    assert r.returncode == 0, r.stderr
    assert [x["summary"] for x in notify_server.wait_records(1)] == ["after restart"]


def test_a_stopped_bus_is_gone(tmp_path: Path) -> None:
    from desktop import SessionBus

    bus = SessionBus()
    address = bus.start()
    path = address.split("path=", 1)[1].split(",", 1)[0]
    assert os.path.exists(path)
    bus.stop()
    with pytest.raises(OSError):
        open_dbus_connection(bus=address)
