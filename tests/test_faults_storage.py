"""Storage faults (issue 8, fault 4), through a live `mmctl run` and through Store.open.

Real parts: real SQLite files, Xvfb + xdotool input, a real tmpfs filled to
the last byte (or, where mounting is not allowed, a real per-process file
size limit set on the running daemon with prlimit), a real unprivileged
user (a forked child that drops to uid 65534) or the immutable flag.

- A damaged database (garbage bytes, cut short, a page overwritten inside an
  otherwise valid file): moved aside to `NAME.corrupt-YYYYmmddTHHMMSS`, kept
  byte for byte, a WARNING line says so and where it went, a fresh database
  is started and the daemon counts into it. Never a silent delete.
- Disk full while the daemon runs: it keeps running and counting, logs one
  line per failed write saying the data is kept in memory, and writes all of
  it once there is room again (exact counts after).
- Wrong permissions: a database or folder the daemon's user may not write is
  a one-line error naming the path and what to do (exit 2, nothing touched);
  loose modes on the daemon's own folder and files are tightened to 0700/0600.
- A database from a newer micromove: refused with exit 2 and a line naming
  both versions; the file is left byte for byte as it was, with no -wal or
  -shm beside it.
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import shutil
import sqlite3
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from _faults import LiveDaemon, counts, db_path, integrity, query
from desktop import desktop_env, type_text, xvfb_fixture  # noqa: F401
from micromove.adapters.dbfile import APPLICATION_ID
from micromove.adapters.store import SCHEMA_VERSION, Store
from micromove.errors import StoreError

pytestmark = [pytest.mark.desktop]

ASIDE = re.compile(r"^micromove\.db\.corrupt-\d{8}T\d{6}(-\d+)?$")


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def filled_db(db: Path, minutes: int = 3000) -> None:
    s = Store.open(db)
    s.add_counts({m: [m, 1, 1, 1, 1.0] for m in range(minutes)})
    s.close()


def damage(db: Path, how: str) -> bytes:
    if how == "garbage":
        db.write_bytes(os.urandom(40_000))
    else:
        filled_db(db)
        data = bytearray(db.read_bytes())
        if how == "truncated":
            del data[len(data) // 2 :]
        elif how == "page":  # a b-tree page in the middle overwritten; the header intact
            data[5 * 4096 : 5 * 4096 + 300] = b"\x55" * 300
        db.write_bytes(bytes(data))
    return db.read_bytes()


# ------------------------------------------------------------------ damaged files
@pytest.mark.parametrize("how", ["garbage", "truncated", "page"])
def test_a_damaged_database_is_moved_aside_and_the_daemon_counts_into_a_fresh_one(
    how: str, xvfb: str, tmp_path: Path
) -> None:
    env = desktop_env(xvfb, None, tmp_path)
    db = db_path(tmp_path)
    db.parent.mkdir(parents=True, mode=0o700)
    damaged = damage(db, how)
    with LiveDaemon(env) as daemon:
        err = daemon.started().stderr
        type_text(xvfb, "fresh", delay_ms=2)
        assert daemon.stop() == 0, daemon.stderr
    aside = [p for p in db.parent.iterdir() if ".corrupt-" in p.name and not p.name.endswith(("-wal", "-shm"))]
    assert len(aside) == 1 and ASIDE.match(aside[0].name), list(db.parent.iterdir())
    assert aside[0].read_bytes() == damaged  # kept, byte for byte
    assert mode(aside[0]) == 0o600
    warning = [line for line in err.splitlines() if " is damaged (" in line]
    assert len(warning) == 1 and warning[0].startswith("WARNING"), err
    assert str(db) in warning[0] and f"moved it to {aside[0]}" in warning[0]
    assert "Traceback" not in daemon.stderr
    assert integrity(db) == [("ok",)]
    assert counts(db)["keys"] == 5


def test_store_open_moves_a_damaged_page_aside_in_one_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # (garbage, truncated and short files through Store.open: tests/test_store.py)
    db = tmp_path / "micromove.db"
    damaged = damage(db, "page")
    with caplog.at_level("WARNING", logger="micromove"):
        Store.open(db).close()
    (aside,) = [p for p in tmp_path.iterdir() if ASIDE.match(p.name)]
    assert aside.read_bytes() == damaged
    (msg,) = [r.getMessage() for r in caplog.records]
    assert "\n" not in msg and "moved it to" in msg, msg


# ------------------------------------------------------------------ disk full
@contextlib.contextmanager
def tiny_filesystem(where: Path, size_kb: int) -> Iterator[bool]:
    """Mount a tmpfs of `size_kb` at `where`; yields False where mounting is not allowed."""
    where.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k,mode=0700", "tmpfs", str(where)],
        capture_output=True, text=True, check=False,
    )
    if r.returncode != 0:
        yield False
        return
    try:
        yield True
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(folder: Path) -> Path:
    """Write a filler file until the file system is full."""
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as f:
        with contextlib.suppress(OSError):
            while True:
                f.write(b"\0" * 4096)
        with contextlib.suppress(OSError):
            while True:
                f.write(b"\0")
    return filler


def test_disk_full_keeps_counting_in_memory_and_writes_once_there_is_room(
    xvfb: str, tmp_path: Path
) -> None:
    env = desktop_env(xvfb, None, tmp_path)
    folder = tmp_path / "small"
    db = folder / "micromove.db"
    with tiny_filesystem(folder, 1024) as mounted:
        filled_db(db, minutes=10)  # an existing database, as after a day of use
        base = counts(db)["keys"]
        with LiveDaemon(env, "--db", str(db)) as daemon:
            daemon.started()
            type_text(xvfb, "before", delay_ms=2)
            if mounted:
                filler = fill(folder)
            else:  # no mount here: a file size limit on the daemon stops its writes instead
                resource.prlimit(daemon.pid, resource.RLIMIT_FSIZE, (1, resource.RLIM_INFINITY))
            # The flush (at most daemon.FLUSH_S after the keys) fails; the daemon goes on.
            err = daemon.wait_for("kept in memory, will retry", timeout=30)
            line = next(line for line in err.splitlines() if "kept in memory" in line)
            assert line.startswith("WARNING") and str(db) in line
            assert daemon.proc.poll() is None
            type_text(xvfb, "during", delay_ms=2)
            assert counts(db)["keys"] == base  # nothing written while full
            # Room again; SIGTERM's final flush (a retry like any other) writes it all.
            if mounted:
                filler.unlink()
            else:
                resource.prlimit(daemon.pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY,) * 2)
            type_text(xvfb, "after", delay_ms=2)
            assert daemon.stop() == 0, daemon.stderr
        assert "Traceback" not in daemon.stderr
        assert counts(db)["keys"] == base + len("before") + len("during") + len("after")
        assert integrity(db) == [("ok",)]


# ------------------------------------------------------------------ permissions
def open_error(db: Path) -> str:
    """Store.open(db): 'ok', or the StoreError's text."""
    try:
        Store.open(db).close()
    except StoreError as exc:
        return "StoreError: " + str(exc)
    return "ok"


def as_other_user(db: Path) -> str:
    """open_error(db) as a user who does not own the files.

    As root (which ignores modes) that is a forked child that drops to uid and
    gid 65534; as anyone else it is the caller itself, the files' modes set so
    that their owner may not write.
    """
    if os.geteuid() != 0:
        return open_error(db)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: no pytest machinery from here on
        os.close(r)
        try:
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            out = open_error(db)
        except BaseException as exc:  # noqa: BLE001
            out = f"{type(exc).__name__}: {exc}"
        os.write(w, out.encode())
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        text = f.read().decode()
    os.waitpid(pid, 0)
    return text


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder others may look into (pytest's own tmp folders are closed to them)."""
    d = Path(tempfile.mkdtemp(prefix="mm-perm-"))
    d.chmod(0o755)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_a_database_or_folder_the_user_may_not_write_is_a_one_line_error(shared_dir: Path) -> None:
    root = os.geteuid() == 0
    tmp_path = shared_dir
    folder = tmp_path / "data"
    folder.mkdir()
    folder.chmod(0o777 if root else 0o700)  # the folder is not the problem here
    db = folder / "micromove.db"
    filled_db(db)
    db.chmod(0o644 if root else 0o444)  # writable only by another user
    before = db.read_bytes()
    closed = tmp_path / "closed"
    closed.mkdir()
    closed.chmod(0o755 if root else 0o500)
    try:
        file_err = as_other_user(db)
        folder_err = as_other_user(closed / "micromove.db")
    finally:
        db.chmod(0o600)
        closed.chmod(0o700)
    assert "\n" not in file_err and "\n" not in folder_err
    assert re.fullmatch(
        r"StoreError: cannot write .*micromove\.db: permission denied \(fix its owner or mode.*", file_err
    ), file_err
    assert folder_err.startswith(f"StoreError: cannot write in {closed}: permission denied"), folder_err
    assert db.read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == ["micromove.db"]  # nothing moved aside, no -wal
    assert list(closed.iterdir()) == []


def test_the_daemon_refuses_a_folder_it_may_not_write_with_exit_2(xvfb: str, tmp_path: Path) -> None:
    env = desktop_env(xvfb, None, tmp_path)
    folder = db_path(tmp_path).parent
    folder.mkdir(parents=True, mode=0o700)
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(folder)], check=True)  # stops root too
    else:
        folder.chmod(0o500)
    try:
        with LiveDaemon(env) as daemon:
            rc = daemon.wait(timeout=30)
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        folder.chmod(0o700)
    assert rc == 2, daemon.stderr
    errors = [line for line in daemon.stderr.splitlines() if line.startswith("mmctl:")]
    assert len(errors) == 1 and f"cannot write in {folder}: permission denied" in errors[0], daemon.stderr
    assert "Traceback" not in daemon.stderr and "watching input" not in daemon.stderr
    assert list(folder.iterdir()) == []


def test_loose_modes_are_tightened_by_the_daemon(xvfb: str, tmp_path: Path) -> None:
    env = desktop_env(xvfb, None, tmp_path)
    db = db_path(tmp_path)
    db.parent.mkdir(parents=True)
    db.parent.chmod(0o755)
    filled_db(db, minutes=5)
    db.chmod(0o644)
    with LiveDaemon(env) as daemon:
        daemon.started()
        for p in (db.parent, db, Path(f"{db}-wal"), Path(f"{db}-shm")):
            assert mode(p) == (0o700 if p.is_dir() else 0o600), (p, oct(mode(p)))
        assert daemon.stop() == 0
    assert mode(db) == 0o600 and mode(db.parent) == 0o700


# ------------------------------------------------------------------ newer schema
@pytest.mark.parametrize("journal", ["wal", "delete"])
def test_a_database_from_a_newer_micromove_is_refused_and_left_untouched(
    journal: str, xvfb: str, tmp_path: Path
) -> None:
    env = desktop_env(xvfb, None, tmp_path)
    db = db_path(tmp_path)
    db.parent.mkdir(parents=True, mode=0o700)
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA journal_mode = {journal}")
    conn.execute("CREATE TABLE activity_v9 (minute INTEGER PRIMARY KEY, keys INTEGER)")
    conn.execute("INSERT INTO activity_v9 VALUES (1, 2)")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 8}")
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")  # micromove's mark, whatever its tables
    conn.commit()
    conn.close()
    before = db.read_bytes()
    st = db.stat()
    with LiveDaemon(env) as daemon:
        rc = daemon.wait(timeout=30)
    assert rc == 2, daemon.stderr
    errors = [line for line in daemon.stderr.splitlines() if line.startswith("mmctl:")]
    assert len(errors) == 1, daemon.stderr
    assert f"schema version {SCHEMA_VERSION + 8}" in errors[0] and f"({SCHEMA_VERSION})" in errors[0]
    assert "upgrade micromove" in errors[0] and "untouched" in errors[0]
    assert "Traceback" not in daemon.stderr and "watching input" not in daemon.stderr
    assert db.read_bytes() == before
    assert db.stat().st_mtime_ns == st.st_mtime_ns and mode(db) == stat.S_IMODE(st.st_mode)
    assert sorted(p.name for p in db.parent.iterdir()) == ["micromove.db"]
    assert query(db, "SELECT * FROM activity_v9") == [(1, 2)]
