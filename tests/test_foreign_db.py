"""A `--db` path that is not micromove's database is refused, and the file stays exactly as it was.

Real files, real SQLite, the installed `mmctl` in a subprocess. "Not ours":
a text file, another program's SQLite database (rollback journal or WAL,
cleanly closed or with its write-ahead log still beside it), an unreadable
SQLite file without micromove's mark. Each writer (`run`, `simulate`,
`checkin`) and reader (`stats`, `cues`, `doctor`) refuses it with exit 2 (doctor: a
PROBLEM line) and one line naming the file; its bytes and mtime are the same
after, and no `-wal`, `-shm` or `-journal` file appears beside it.
micromove's own damaged database is still moved aside (tests/test_store.py).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from _mmctl import mmctl, one_error_line
from micromove.adapters import dbfile
from micromove.adapters.store import Store
from micromove.errors import ForeignDatabase

TRACE_LINES = "".join(f'{{"t": {i * 0.5}, "kind": "key"}}\n' for i in range(20))


def snapshot(folder: Path) -> dict[str, tuple[str, int, int]]:
    """Every file in `folder`: (sha256, mtime in ns, mode)."""
    out = {}
    for p in sorted(folder.iterdir()):
        st = p.stat()
        out[p.name] = (hashlib.sha256(p.read_bytes()).hexdigest(), st.st_mtime_ns, st.st_mode)
    return out


def text_file(folder: Path) -> Path:
    p = folder / "notes.txt"
    p.write_text("shopping: milk, eggs\n" * 50)
    return p


def other_sqlite(folder: Path) -> Path:
    p = folder / "contacts.sqlite"
    conn = sqlite3.connect(p)
    conn.executescript("CREATE TABLE people (name TEXT, phone TEXT); INSERT INTO people VALUES ('Ann', '555');")
    conn.commit()
    conn.close()
    return p


def other_sqlite_versioned(folder: Path) -> Path:
    """Another program's database that uses user_version too (and a table named like one of ours)."""
    p = folder / "app.db"
    conn = sqlite3.connect(p)
    conn.executescript("CREATE TABLE state (k, v); CREATE TABLE activity (x); PRAGMA user_version = 1;")
    conn.commit()
    conn.close()
    return p


def other_wal_sqlite(folder: Path) -> Path:
    p = folder / "wal.sqlite"
    conn = sqlite3.connect(p)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.commit()
    conn.close()
    assert not Path(f"{p}-wal").exists()  # closed cleanly: the log is folded in and removed
    return p


def other_wal_sqlite_with_log(folder: Path) -> Path:
    """Another program's WAL database while it runs: its tables are only in the -wal so far."""
    src = folder / "src"
    src.mkdir()
    live = src / "live.sqlite"
    conn = sqlite3.connect(live)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.execute("INSERT INTO notes VALUES ('hello')")
    conn.commit()
    p = folder / "live.sqlite"
    shutil.copyfile(live, p)  # the main file and its log, as a crash would leave them
    shutil.copyfile(f"{live}-wal", f"{p}-wal")
    conn.close()
    shutil.rmtree(src)
    assert os.path.getsize(f"{p}-wal") > 0
    return p


def unreadable_sqlite(folder: Path) -> Path:
    """An SQLite header, then garbage: not recognisably micromove's."""
    p = folder / "broken.sqlite"
    p.write_bytes(other_sqlite(folder).read_bytes()[:100] + os.urandom(8000))
    (folder / "contacts.sqlite").unlink()
    return p


FOREIGN: dict[str, Callable[[Path], Path]] = {
    "text": text_file,
    "sqlite": other_sqlite,
    "sqlite-versioned": other_sqlite_versioned,
    "sqlite-wal": other_wal_sqlite,
    "sqlite-wal-log": other_wal_sqlite_with_log,
    "sqlite-unreadable": unreadable_sqlite,
}


def writers(tmp_path: Path, db: Path) -> dict[str, list[str]]:
    trace = tmp_path / "day.jsonl"
    trace.write_text(TRACE_LINES)
    return {
        "run": ["run", "--db", str(db)],
        "simulate": ["simulate", str(trace), "--db", str(db)],
        "checkin": ["checkin", "--db", str(db), "--natural", "yes"],
        "stats": ["stats", "--db", str(db)],
        "cues": ["cues", "--db", str(db)],
    }


@pytest.mark.parametrize("kind", sorted(FOREIGN))
@pytest.mark.parametrize("command", ["run", "simulate", "checkin", "stats", "cues"])
def test_a_file_that_is_not_a_micromove_database_is_refused_untouched(
    tmp_path: Path, kind: str, command: str
) -> None:
    folder = tmp_path / "files"
    folder.mkdir()
    db = FOREIGN[kind](folder)
    before = snapshot(folder)
    line = one_error_line(mmctl(*writers(tmp_path, db)[command]))
    assert line.startswith(f"mmctl: {db} is not a micromove database ("), line
    assert snapshot(folder) == before  # same names (no -wal, -shm, -journal), bytes, mtimes, modes


@pytest.mark.parametrize("kind", sorted(FOREIGN))
def test_store_open_refuses_before_touching_anything(tmp_path: Path, kind: str) -> None:
    folder = tmp_path / "files"
    folder.mkdir()
    db = FOREIGN[kind](folder)
    before = snapshot(folder)
    with pytest.raises(ForeignDatabase) as exc:
        Store.open(db)
    assert "\n" not in str(exc.value) and str(db) in str(exc.value)
    assert snapshot(folder) == before


def test_doctor_names_a_wrong_path_without_advising_a_restart(tmp_path: Path) -> None:
    db = text_file(tmp_path)
    before = snapshot(tmp_path)
    proc = mmctl("doctor", "--db", db)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    (line,) = [ln for ln in proc.stdout.splitlines() if " database:" in ln]
    assert line.lstrip().startswith("PROBLEM") and f"{db} is not a micromove database" in line, line
    assert "check the --db path" in line, line
    assert "restart" not in line and "start it again" not in line, line
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("kind", ["missing", "zero-bytes", "empty-sqlite"])
def test_a_new_or_empty_file_becomes_a_database(tmp_path: Path, kind: str) -> None:
    db = tmp_path / "day.db"
    if kind == "zero-bytes":
        db.write_bytes(b"")
    elif kind == "empty-sqlite":
        conn = sqlite3.connect(db)
        conn.execute("PRAGMA journal_mode = WAL")  # writes a valid header and no table
        conn.close()
        assert db.stat().st_size > 0
    trace = tmp_path / "day.jsonl"
    trace.write_text(TRACE_LINES)
    proc = mmctl("simulate", trace, "--db", db)
    assert proc.returncode == 0, proc.stderr
    assert dbfile.identify(db) == (dbfile.OURS, "")
    assert not [p for p in tmp_path.iterdir() if ".corrupt-" in p.name]


def test_a_micromove_database_is_recognised_by_its_mark_and_by_its_tables(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    Store.open(db).close()
    head = db.read_bytes()[:100]
    assert int.from_bytes(head[68:72], "big") == dbfile.APPLICATION_ID
    assert dbfile.identify(db) == (dbfile.OURS, "")
    conn = sqlite3.connect(db)  # a database from before the mark: known by its tables
    conn.execute("PRAGMA application_id = 0")
    conn.close()
    assert dbfile.identify(db) == (dbfile.OURS, "")
    Store.open(db).close()  # and marked again by the writer
    assert int.from_bytes(db.read_bytes()[68:72], "big") == dbfile.APPLICATION_ID


def test_a_micromove_database_with_an_unreadable_schema_is_still_ours(tmp_path: Path) -> None:
    """The header survives, the schema page does not: the mark says it is ours, so it is moved aside."""
    db = tmp_path / "m.db"
    s = Store.open(db)
    s.add_counts({m: [1, 0, 0, 0, 0.0] for m in range(3000)})
    s.close()
    raw = bytearray(db.read_bytes())
    raw[100:4096] = os.urandom(4096 - 100)  # the rest of page 1: sqlite_master
    db.write_bytes(bytes(raw))
    assert dbfile.identify(db) == (dbfile.OURS, "")  # by the mark: its schema is not even read
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(db).execute("SELECT name FROM sqlite_master").fetchall()
    damaged = db.read_bytes()
    Store.open(db).close()
    (aside,) = [p for p in tmp_path.iterdir() if p.name.startswith("m.db.corrupt-") and not p.name.endswith(("-wal", "-shm"))]
    assert aside.read_bytes() == damaged
    assert dbfile.identify(db) == (dbfile.OURS, "")
