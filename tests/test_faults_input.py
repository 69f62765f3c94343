"""Input faults of a live `mmctl run` (issue 8, fault 3). Never a silently deaf daemon.

Real parts: Xvfb, xdotool, the daemon's pynput listeners, and the X server's
own XKillClient to kill one listener's connection from outside.

- DISPLAY names no X server (a free display number, or a malformed name):
  exit 1 at once, one clear ERROR line that names DISPLAY, no traceback.
- An X server without the RECORD extension (pynput's listener thread dies
  while starting): exit 1 at once with a line naming RECORD, never a hang
  (pynput's own stop() waits for ever for a listener that died before it was
  ready; inputs/x11.py does not call it then).
- One listener's RECORD connection killed by the X server (`xkill -id`, the
  way a server drops a client): that listener's thread ends, the daemon
  notices at once, writes what it counted and exits 1 so that the service
  manager restarts it, with a line that says why. Xlib's raw protocol-error
  dumps stay out of the log.

The X server going away as a whole is tests/test_daemon_e2e.py's.
"""

from __future__ import annotations

import contextlib
import random
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from _faults import LiveDaemon, counts, db_path, write_config
from _mmctl import mmctl_command
from desktop import (  # noqa: F401
    _display_taken,
    _xdpyinfo_ok,
    desktop_env,
    need,
    type_text,
    xvfb_fixture,
)

pytestmark = [pytest.mark.desktop]


def run_once(env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*mmctl_command(), "run"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def free_display() -> str:
    n = random.randrange(850, 950)
    while _display_taken(n):
        n += 1
    return f":{n}"


@contextlib.contextmanager
def xvfb_with(*args: str) -> Iterator[str]:
    """An Xvfb started with extra arguments (e.g. without an extension)."""
    exe = need("Xvfb")
    need("xdpyinfo")
    for _ in range(20):
        display = free_display()
        proc = subprocess.Popen(
            [exe, display, "-screen", "0", "800x600x24", "-nolisten", "tcp", "-noreset", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while proc.poll() is None and time.monotonic() < deadline and not _xdpyinfo_ok(display):
            time.sleep(0.02)
        if proc.poll() is None and _xdpyinfo_ok(display):
            try:
                yield display
            finally:
                proc.terminate()
                proc.wait(10)
            return
        proc.kill()
        proc.wait(10)
    raise RuntimeError("could not start Xvfb")


def assert_clean_error(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 1, proc.stderr
    for needle in needles:
        assert needle in errors[0], errors[0]
    assert "watching input" not in proc.stderr
    return errors[0]


@pytest.mark.parametrize("display", ["free", "garbage!"])
def test_a_display_without_an_x_server_is_a_clear_exit_1(display: str, tmp_path: Path) -> None:
    if display == "free":
        display = free_display()
    env = desktop_env(display, None, tmp_path)
    line = assert_clean_error(run_once(env), "cannot watch input", "DISPLAY")
    assert display in line


def test_an_x_server_without_record_is_a_clear_exit_1_not_a_hang(tmp_path: Path) -> None:
    write_config(tmp_path, "input: {backend: pynput}\n")
    with xvfb_with("-extension", "RECORD") as display:
        env = desktop_env(display, None, tmp_path)
        assert_clean_error(run_once(env, timeout=30), "cannot watch input", "RECORD")


def record_clients(display: str, pid: int) -> list[int]:
    """Resource bases of `pid`'s X clients that own a resource (pynput's RECORD connections)."""
    from Xlib import display as xdisplay
    from Xlib.ext import res

    d = xdisplay.Display(display)
    try:
        assert d.has_extension("X-Resource")
        ids = d.res_query_client_ids([{"client": 0, "mask": res.LocalClientPIDMask}])
        mine = sorted({c.spec.client for c in ids.ids if c.value and c.value[0] == pid})
        return [c for c in mine if d.res_query_client_resources(c).types]
    finally:
        d.close()


@pytest.mark.parametrize("which", [0, 1])
def test_a_listener_whose_x_connection_is_killed_makes_the_daemon_exit_1_after_writing(
    which: int, xvfb: str, tmp_path: Path
) -> None:
    write_config(tmp_path, "input: {backend: pynput}\n")
    env = desktop_env(xvfb, None, tmp_path)
    with LiveDaemon(env) as daemon:
        daemon.started()
        type_text(xvfb, "before1234", delay_ms=2)
        victims = record_clients(xvfb, daemon.pid)
        assert len(victims) == 2, [hex(v) for v in victims]  # keyboard and mouse listener
        subprocess.run(
            ["xkill", "-display", xvfb, "-id", hex(victims[which])],
            capture_output=True, check=True, timeout=10,
        )
        rc = daemon.wait(timeout=20)  # it exits by itself
    err = daemon.stderr
    assert rc == 1, err
    assert "Traceback" not in err
    assert "input is no longer watched" in err and "restart" in err
    assert "X protocol error" not in err and "Xlib.error" not in err, err
    assert counts(db_path(tmp_path))["keys"] == 10
