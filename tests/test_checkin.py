"""`mmctl checkin`: answers stored with the date, advice, fewer cues on request, the daemon reloaded."""

from __future__ import annotations

import os
import pty
import select
import sqlite3
import subprocess
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from _faults import LiveDaemon
from _mmctl import ROOT, mmctl, mmctl_command, one_error_line
from desktop import desktop_env, xvfb_fixture  # noqa: F401 - fixture
from micromove import config
from micromove.adapters.store import Store

EXAMPLE = ROOT / "daemon" / "micromove" / "data" / "micromove.example.yaml"
TODAY = date.today().isoformat()


def default_db() -> Path:
    return Path(os.environ["XDG_DATA_HOME"]) / "micromove" / "micromove.db"


def default_config() -> Path:
    return Path(os.environ["XDG_CONFIG_HOME"]) / "micromove" / "config.yaml"


def checkins(db: Path) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT date, tight, noise, natural, note FROM checkins ORDER BY id").fetchall()
    finally:
        conn.close()


def test_flags_store_the_answers_with_the_date() -> None:
    db = default_db()
    proc = mmctl("checkin", "--tightness", "no", "--noise", "no", "--natural", "yes")
    assert proc.returncode == 0, proc.stderr
    assert f"check-in saved for {TODAY}" in proc.stdout
    assert "physiotherapist" not in proc.stdout
    assert checkins(db) == [(TODAY, 0, 0, 1, None)]
    assert db.stat().st_mode & 0o777 == 0o600  # a new database is private like the daemon's
    proc = mmctl("checkin", "--natural", "no")  # unanswered questions stay NULL
    assert proc.returncode == 0
    assert checkins(db)[1] == (TODAY, None, None, 0, None)
    assert not default_config().exists()  # nothing to change
    assert mmctl("checkin", "--pain", "no").returncode == 0
    assert checkins(db)[2] == (TODAY, None, None, None, None)


@pytest.mark.parametrize("flags", [["--tightness", "yes"], ["--pain", "yes", "--tightness", "no"]])
def test_tightness_or_warning_signs_send_to_a_professional(flags: list[str]) -> None:
    proc = mmctl("checkin", *flags)
    assert proc.returncode == 0, proc.stderr
    assert "physiotherapist or your occupational health service" in proc.stdout
    assert "never diagnoses" in proc.stdout
    row = checkins(default_db())[0]
    assert row[4] == ("pain" if "--pain" in flags else None)


def test_noise_offers_changes_without_making_them_unasked() -> None:
    proc = mmctl("checkin", "--noise", "yes")
    assert proc.returncode == 0, proc.stderr
    assert "fewer cues: every interval 1.5 times as long" in proc.stdout
    assert "mmctl checkin --change fewer" in proc.stdout
    assert "resting a region is not offered: only one region is active so far" in proc.stdout
    assert not default_config().exists()


def test_fewer_edits_the_config_keeping_comments() -> None:
    assert mmctl("config", "init").returncode == 0
    cfg = default_config()
    proc = mmctl("checkin", "--noise", "yes", "--change", "fewer", "--yes")
    assert proc.returncode == 0, proc.stderr
    assert f"changed {cfg}" in proc.stdout
    assert "micromove is not running: the change applies when it next starts" in proc.stdout
    text = cfg.read_text()
    assert "  hands.wrist_pulse:  # Wrist pulse: 4-6 cycles\n    enabled: true\n    every_min: 30\n" in text
    assert text.count("\n") == EXAMPLE.read_text().count("\n")  # every comment line kept
    new = config.load(cfg)
    assert new.cues["hands.wrist_pulse"].every_min == 30
    assert new.cues["hands.finger_piano"].every_min == 23  # 15 * 1.5, whole minutes up
    assert new.cues["hands.grip_modulation"].every_min == 15
    assert new.pause_min_s == 3  # nothing else touched
    assert cfg.stat().st_mode & 0o777 == 0o600
    assert checkins(default_db()) == [(TODAY, None, 1, None, None)]


def _week3_db(db: Path) -> None:
    """Progression in week 3 (hands, eyes, back); eyes cues were let pass, hands and back done."""
    s = Store.open(db)
    s.set_state("progression_start", (date.today() - timedelta(days=15)).isoformat())
    now = time.time()
    for i in range(6):
        t = now - 3600 * (i + 1)
        d = s.add_delivery(t, "pause", [("hands.wrist_pulse", "typing", 1200.0), ("eyes.far_focus", "active", 900.0)], True)
        s.add_confirmation(t + 30, "hands.wrist_pulse", d, "done" if i % 2 else "likely")
        if i == 0:
            s.add_confirmation(t + 30, "eyes.far_focus", d, "done")
    d = s.add_delivery(now - 60, "pause", [("back.scapular_clock", "active", 3600.0)], True)
    s.add_confirmation(now - 30, "back.scapular_clock", d, "likely")
    s.close()


def test_rest_switches_off_the_region_moved_least(tmp_path: Path) -> None:
    db = tmp_path / "w3.db"
    _week3_db(db)
    cfg = tmp_path / "mine.yaml"
    cfg.write_text("# my settings\npause:\n  min_s: 4  # a bit longer\n")
    offer = mmctl("checkin", "--db", db, "--config", cfg, "--noise", "yes")
    assert "give eyes a rest (moved after 1 of its 6 cues in the last 14 days); hands, back carry on" in offer.stdout
    proc = mmctl("checkin", "--db", db, "--config", cfg, "--change", "rest", "--yes")
    assert proc.returncode == 0, proc.stderr
    assert "switch off eyes.far_focus" in proc.stdout
    assert checkins(db) == [(TODAY, None, 1, None, None)]  # the answer; a change alone records nothing
    text = cfg.read_text()
    assert text.startswith("# my settings\npause:\n  min_s: 4  # a bit longer\n")
    assert config.load(cfg).cues["eyes.far_focus"].enabled is False
    assert config.load(cfg).cues["hands.wrist_pulse"].enabled is True
    # A region that is not active is refused before anything happens; an active one is rested.
    line = one_error_line(mmctl("checkin", "--db", db, "--config", cfg, "--change", "rest", "--region", "feet", "--yes", "--noise", "yes"))
    assert "feet is not an active region" in line
    assert len(checkins(db)) == 1
    assert mmctl("checkin", "--db", db, "--config", cfg, "--change", "rest", "--region", "back", "--yes").returncode == 0
    assert config.load(cfg).cues["back.scapular_clock"].enabled is False
    # Now only the hands carry on: resting them too would leave nothing.
    line = one_error_line(mmctl("checkin", "--db", db, "--config", cfg, "--change", "rest", "--yes"))
    assert "only one active region has cues switched on" in line


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ([], "no terminal to ask on"),
        (["--noise", "maybe"], "say yes or no, not 'maybe'"),
        (["--noise", "yes", "--change", "fewer"], "no terminal to confirm on: add --yes"),
        (["--change", "rest", "--yes"], "not possible: only one region is active so far"),
        (["--region", "eyes", "--noise", "yes"], "--region goes with --change rest"),
        (["--yes", "--noise", "yes"], "--yes goes with --change"),
        (["--change", "less"], "invalid choice"),
    ],
)
def test_bad_usage_changes_nothing(args: list[str], needle: str) -> None:
    assert needle in one_error_line(mmctl("checkin", *args))
    assert not default_db().exists() and not default_config().exists()


def test_newer_or_damaged_database_is_refused_untouched(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    Store.open(db).close()
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    before = db.read_bytes()
    assert "upgrade micromove" in one_error_line(mmctl("checkin", "--db", db, "--natural", "yes"))
    assert db.read_bytes() == before
    assert "no database at" in one_error_line(mmctl("checkin", "--db", tmp_path / "typo.db", "--natural", "yes"))
    assert not (tmp_path / "typo.db").exists()
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"junk" * 1000)
    assert "junk.db" in one_error_line(mmctl("checkin", "--db", junk, "--natural", "yes"))
    assert junk.read_bytes() == b"junk" * 1000  # never moved aside by the CLI


def test_waits_for_a_writer_holding_the_database(tmp_path: Path) -> None:
    """The daemon's flush holds the write lock briefly: the check-in waits for it, both land."""
    db = tmp_path / "busy.db"
    Store.open(db).close()
    writer = sqlite3.connect(db, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO state (key, value) VALUES ('x', 'y')")
    proc = subprocess.Popen(
        [*mmctl_command(), "checkin", "--db", str(db), "--natural", "yes"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    time.sleep(0.5)  # let it reach the lock and wait (it must not fail meanwhile)
    assert proc.poll() is None, proc.communicate()
    writer.execute("COMMIT")
    writer.close()
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert checkins(db) == [(TODAY, None, None, 1, None)]


def test_interactive_on_a_terminal(tmp_path: Path) -> None:
    assert mmctl("config", "init").returncode == 0
    main, sub = pty.openpty()
    proc = subprocess.Popen(
        [*mmctl_command(), "checkin"], stdin=sub, stdout=sub, stderr=sub, close_fds=True,
    )  # fmt: skip
    os.close(sub)
    seen = b""

    def read_until(needle: bytes, timeout: float = 20.0) -> None:
        nonlocal seen
        deadline = time.monotonic() + timeout
        while needle not in seen:
            ready, _, _ = select.select([main], [], [], max(0.0, deadline - time.monotonic()))
            assert ready, seen.decode(errors="replace")
            try:
                chunk = os.read(main, 4096)
            except OSError:  # the child closed the terminal
                break
            seen += chunk
        assert needle in seen, seen.decode(errors="replace")

    def say(text: str) -> None:
        os.write(main, text.encode() + b"\n")

    try:
        read_until(b"does not go away? [y/n]")
        say("maybe")
        read_until(b"please answer y or n")
        say("n")
        read_until(b"background noise")
        say("y")
        read_until(b"natural yet? [y/n]")
        say("no")
        read_until(b"loss of range of motion? [y/n]")
        say("n")
        read_until(b"Make one of them? [1/n]")
        say("1")
        read_until(b"the change applies when it next starts")
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(main)
    assert checkins(default_db()) == [(TODAY, 0, 1, 0, None)]
    assert config.load(default_config()).cues["hands.wrist_pulse"].every_min == 30


def test_a_running_daemon_reloads_the_change(xvfb: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = desktop_env(xvfb, None, home)
    init = subprocess.run([*mmctl_command(), "config", "init"], env=env, capture_output=True, text=True, timeout=60)
    assert init.returncode == 0, init.stderr
    with LiveDaemon(env) as daemon:
        daemon.started()
        proc = subprocess.run(
            [*mmctl_command(), "checkin", "--noise", "yes", "--change", "fewer", "--yes"],
            env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert f"asked the running micromove (pid {daemon.pid}) to reload its config" in proc.stdout
        daemon.wait_for("config reloaded from")
        assert daemon.stop() == 0
    db = home / ".local" / "share" / "micromove" / "micromove.db"
    assert checkins(db) == [(TODAY, None, 1, None, None)]  # written beside the daemon's own writes
    # A lock file left behind by a daemon that is gone: nobody is signalled.
    proc = subprocess.run(
        [*mmctl_command(), "checkin", "--change", "fewer", "--yes"],
        env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert "micromove is not running" in proc.stdout


def test_lock_held_by_another_process_is_signalled(tmp_path: Path) -> None:
    """daemon_pid trusts the pid only while the lock is held (flock), never a stale file."""
    from micromove import paths
    from micromove.daemon import acquire_lock, release_lock
    from micromove.running import daemon_pid

    lock = paths.lock_path()
    assert daemon_pid() is None
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text("1\n")  # stale: pid 1 must never get a SIGHUP
    assert daemon_pid() is None
    fd = acquire_lock(lock)
    got: list[int | None] = []
    t = threading.Thread(target=lambda: got.append(daemon_pid()))
    t.start()
    t.join()
    release_lock(fd, lock)
    assert got == [os.getpid()]
