"""`mmctl doctor` on a real desktop (Xvfb, private bus, notification server) and broken ones."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path

from _faults import LiveDaemon
from _mmctl import mmctl_command
from desktop import (  # noqa: F401 - fixtures
    Desktop,
    desktop_env,
    desktop_fixture,
    notify_server_fixture,
    session_bus_fixture,
    xvfb_fixture,
)
from micromove import doctor
from micromove.adapters.store import Store


def mmctl(*args: str | Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """mmctl with exactly `env` (nothing inherited: no stray DISPLAY or bus from outside)."""
    return subprocess.run(
        [*mmctl_command(), *map(str, args)], env=env, capture_output=True, text=True,
        stdin=subprocess.DEVNULL, timeout=120,
    )  # fmt: skip


def lines_by_check(out: str) -> dict[str, str]:
    """{check name: its line} (the last line of a name wins)."""
    got = {}
    for line in out.splitlines():
        status, _, rest = line.partition(" ")
        name, sep, _detail = rest.strip().partition(":")
        if sep and status in ("ok", "PROBLEM", "note"):
            got[name] = line
    return got


def test_all_ok_on_a_working_desktop(desktop: Desktop) -> None:
    env = desktop.env
    # No systemd user manager here: the unit file is still written (without the private bus,
    # where systemctl would look for a manager that never comes).
    installed = mmctl("install", env={k: v for k, v in env.items() if k != "DBUS_SESSION_BUS_ADDRESS"})
    assert installed.returncode == 0, installed.stderr
    with LiveDaemon(env) as daemon:
        daemon.started()
        proc = mmctl("doctor", env=env)
        as_json = mmctl("doctor", "--json", env=env)
        assert daemon.stop() == 0
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.rstrip().endswith("all ok")
    got = lines_by_check(proc.stdout)
    assert "PROBLEM" not in proc.stdout
    assert got["input"].startswith("ok") and f"x11 via XInput2: display {desktop.display} answers" in got["input"]
    assert "micromove-test-server 1.0 (micromove)" in got["notifications"]  # asked who it is
    assert "it shows no buttons" in got["notifications"]  # the test server, without --actions
    assert "sound (quick_check ok)" in got["database"]
    assert f"micromove is running (pid {daemon.pid})" in got["daemon"]
    assert "not reachable here" in got["daemon"]  # says so instead of guessing
    assert got["service"].startswith("ok") and "micromove.service" in got["service"]
    rep = json.loads(as_json.stdout)
    assert as_json.returncode == 0 and rep["ok"] is True
    assert {c["name"] for c in rep["checks"]} >= {"config", "input", "notifications", "database", "service", "daemon"}


def test_no_display_and_no_bus(tmp_path: Path) -> None:
    env = desktop_env(None, None, tmp_path)
    proc = mmctl("doctor", env=env)
    assert proc.returncode == 1
    got = lines_by_check(proc.stdout)
    assert got["input"].startswith("PROBLEM") and "no display" in got["input"] and "-> fix: " in got["input"]
    assert got["notifications"].startswith("PROBLEM") and "DBUS_SESSION_BUS_ADDRESS is not set" in got["notifications"]
    assert got["service"].startswith("PROBLEM") and got["service"].endswith("-> fix: mmctl install")
    assert got["daemon"].startswith("PROBLEM") and "not running" in got["daemon"]
    assert got["config"].startswith("ok") and "built-in defaults" in got["config"]
    assert got["database"].startswith("ok") and "no database yet" in got["database"]
    assert proc.stdout.rstrip().endswith("4 problems found")
    rep = json.loads(mmctl("doctor", "--json", env=env).stdout)
    assert rep["ok"] is False
    bad = {c["name"]: c for c in rep["checks"] if c["status"] == "problem"}
    assert set(bad) == {"input", "notifications", "service", "daemon"}
    assert all(c["fix"] for c in bad.values())


def test_display_that_does_not_answer_and_bus_without_server(tmp_path: Path, session_bus: str) -> None:
    free = next(n for n in range(990, 1100) if not Path(f"/tmp/.X11-unix/X{n}").exists())
    env = desktop_env(f":{free}", session_bus, tmp_path)
    got = lines_by_check(mmctl("doctor", env=env).stdout)
    assert got["input"].startswith("PROBLEM") and f"X display :{free} does not answer" in got["input"]
    assert got["notifications"].startswith("PROBLEM") and "no notification server on the session bus" in got["notifications"]
    # Without xdpyinfo on PATH the X11 handshake is used instead.
    env["PATH"] = str(tmp_path / "empty-bin")
    got = lines_by_check(mmctl("doctor", env=env).stdout)
    assert f"X display :{free} does not answer" in got["input"]


def test_x11_handshake_without_xdpyinfo(xvfb: str, tmp_path: Path) -> None:
    assert doctor.x_handshake(xvfb) == (True, "answers")
    env = desktop_env(xvfb, None, tmp_path)
    env["PATH"] = str(tmp_path / "empty-bin")  # no xdpyinfo, no systemctl
    got = lines_by_check(mmctl("doctor", env=env).stdout)
    assert got["input"].startswith("ok") and f"display {xvfb} answers" in got["input"]
    assert "systemd user manager is not reachable" in got["daemon"]


def test_bad_permissions_and_damaged_database(tmp_path: Path) -> None:
    env = desktop_env(None, None, tmp_path)
    data = tmp_path / ".local" / "share" / "micromove"
    db = data / "micromove.db"
    Store.open(db).close()
    os.chmod(data, 0o755)
    os.chmod(db, 0o644)
    got = lines_by_check(mmctl("doctor", env=env).stdout)
    db_lines = [line for line in mmctl("doctor", env=env).stdout.splitlines() if " database:" in line]
    assert any(f"-> fix: chmod 700 {data}" in line for line in db_lines), db_lines
    assert any(f"-> fix: chmod 600 {db}" in line for line in db_lines), db_lines
    assert got["database"].startswith("ok") and "quick_check ok" in got["database"]  # sound, only too open

    os.chmod(data, 0o700)
    os.chmod(db, 0o600)
    db.write_bytes(b"this is not a database at all" * 200)
    proc = mmctl("doctor", env=env)
    got = lines_by_check(proc.stdout)
    assert proc.returncode == 1
    assert got["database"].startswith("PROBLEM") and "is damaged (not an SQLite file)" in got["database"]
    assert "moves the damaged file aside" in got["database"]  # its own default file: damaged, not foreign
    assert db.read_bytes().startswith(b"this is not")  # doctor only reads


def test_damaged_pages_fail_quick_check(tmp_path: Path) -> None:
    env = desktop_env(None, None, tmp_path)
    db = tmp_path / "x.db"
    conn = sqlite3.connect(db)
    conn.executescript(
        "PRAGMA page_size=1024; CREATE TABLE t (a TEXT); CREATE INDEX ti ON t (a);"
        "PRAGMA user_version=1;"
    )
    conn.executemany("INSERT INTO t VALUES (?)", [(f"row {i} " * 20,) for i in range(400)])
    conn.commit()
    conn.close()
    raw = bytearray(db.read_bytes())
    for off in range(1024 * 5, 1024 * 9):  # scribble over a few pages in the middle
        raw[off] = 0x55
    db.write_bytes(bytes(raw))
    got = lines_by_check(mmctl("doctor", "--db", db, env=env).stdout)
    assert got["database"].startswith("PROBLEM"), got["database"]


def test_invalid_config_is_a_problem(tmp_path: Path) -> None:
    env = desktop_env(None, None, tmp_path)
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("pause:\n  min_s: -1\n  max_defer: 3\n")
    proc = mmctl("doctor", "--config", cfg, env=env)
    got = lines_by_check(proc.stdout)
    assert proc.returncode == 1
    assert got["config"].startswith("PROBLEM") and f"{cfg}:2: pause.min_s" in got["config"]
    assert "(and 1 more)" in got["config"] and f"mmctl config check {cfg}" in got["config"]


def test_doctor_never_imports_pynput(tmp_path: Path, xvfb: str) -> None:
    env = desktop_env(xvfb, None, tmp_path)
    code = (
        "import sys; from micromove.cli import main; rc = main(['doctor']);"
        "print('PYNPUT' if 'pynput' in sys.modules else 'CLEAN')"
    )
    proc = subprocess.run(
        [os.environ.get("PYTHON", __import__("sys").executable), "-c", code],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert proc.stdout.rstrip().endswith("CLEAN"), proc.stdout + proc.stderr
