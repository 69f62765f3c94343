"""The SQLite store on real database files."""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from micromove import paths
from micromove.adapters.store import SCHEMA_VERSION, Store, open_readonly
from micromove.errors import StoreError


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "data" / "m.db")
    yield s
    s._conn.close()


def test_new_database_is_private_wal_and_versioned(tmp_path: Path) -> None:
    db = tmp_path / "new" / "m.db"
    s = Store.open(db)
    s.add_counts({100: [1, 0, 0, 0, 0.0]})
    s.flush()
    assert mode(db.parent) == 0o700
    for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        assert p.exists(), p
        assert mode(p) == 0o600, (p, oct(mode(p)))
    assert rows(db, "PRAGMA journal_mode") == [("wal",)]
    assert rows(db, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    s.close()
    assert mode(db) == 0o600


def test_default_folder_and_existing_files_are_tightened(tmp_path: Path) -> None:
    folder = paths.data_dir()
    folder.mkdir(parents=True, mode=0o755)
    folder.chmod(0o755)
    db = paths.db_path()
    Store.open(db).close()
    db.chmod(0o644)
    Store.open(db).close()
    assert mode(folder) == 0o700
    assert mode(db) == 0o600


def test_migrations_run_from_an_older_version(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    sqlite3.connect(db).close()  # version 0: an empty database
    Store.open(db).close()
    tables = {r[0] for r in rows(db, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"activity", "stretches", "deliveries", "delivery_cues", "confirmations", "checkins", "state"} <= tables
    assert rows(db, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    # Opening again runs nothing new and keeps the data.
    s = Store.open(db)
    s.set_state("k", "v")
    s.close()
    s = Store.open(db)
    assert s.get_state("k") == "v"
    s.close()


def test_newer_schema_is_refused_untouched(tmp_path: Path) -> None:
    db = tmp_path / "newer.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE future (x)")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 3}")
    conn.commit()
    conn.close()
    before = db.read_bytes()
    with pytest.raises(StoreError) as exc:
        Store.open(db)
    msg = str(exc.value)
    assert str(SCHEMA_VERSION + 3) in msg and str(SCHEMA_VERSION) in msg and "\n" not in msg
    assert db.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if "corrupt" in p.name] == []
    with pytest.raises(StoreError, match="newer"):
        open_readonly(db)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "short"])
def test_damaged_file_is_moved_aside(tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture) -> None:
    db = tmp_path / "m.db"
    if damage == "garbage":
        db.write_bytes(b"this is not a database at all\n" * 200)
    else:
        s = Store.open(db)
        s.add_counts({m: [m, 1, 1, 1, 1.0] for m in range(5000)})
        s.close()
        data = db.read_bytes()
        db.write_bytes(data[: len(data) // 2] if damage == "truncated" else data[:10])
    damaged = db.read_bytes()
    with caplog.at_level(logging.WARNING, logger="micromove"):
        s = Store.open(db)
    s.add_counts({1: [1, 0, 0, 0, 0.0]})
    s.close()
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("m.db.corrupt-")]
    assert len(aside) == 1, list(tmp_path.iterdir())
    assert aside[0].read_bytes() == damaged  # kept, byte for byte
    assert any("moved it to" in r.getMessage() for r in caplog.records)
    assert rows(db, "SELECT minute, keys FROM activity") == [(1, 1)]


def _make_unwritable(p: Path) -> None:
    if os.geteuid() == 0:  # root ignores modes: an immutable flag is what stops it
        subprocess.run(["chattr", "+i", str(p)], check=True)
    else:
        p.chmod(0o500 if p.is_dir() else 0o400)


def _undo_unwritable(p: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(p)], check=True)
    p.chmod(0o700 if p.is_dir() else 0o600)


def test_unwritable_folder_is_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    _make_unwritable(folder)
    try:
        with pytest.raises(StoreError, match="cannot write in .*ro: permission denied"):
            Store.open(folder / "m.db")
    finally:
        _undo_unwritable(folder)


def test_unwritable_file_is_a_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    Store.open(db).close()
    _make_unwritable(db)
    try:
        with pytest.raises(StoreError, match="cannot write .*m.db: permission denied"):
            Store.open(db)
    finally:
        _undo_unwritable(db)


def test_counts_add_across_flushes_and_opens(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    s = Store.open(db)
    s.add_counts({10: [1, 2, 3, 4, 5.5]})
    s.add_counts({10: [1, 0, 0, 1, 0.5], 11: [7, 0, 0, 0, 0.0]})
    s.flush()
    s.add_counts({10: [100, 0, 0, 0, 0.0]})
    s.close()
    s = Store.open(db)
    s.add_counts({11: [1, 1, 1, 1, 1.0]})
    s.close()
    assert rows(db, "SELECT * FROM activity ORDER BY minute") == [(10, 102, 2, 3, 5, 6.0), (11, 8, 1, 1, 1, 1.0)]


def test_stretch_upsert_extends_the_end(store: Store) -> None:
    store.put_stretch("typing", 100.0, 150.0)
    store.flush()
    store.put_stretch("typing", 100.0, 300.0)
    store.put_stretch("typing", 100.0, 200.0)  # an older view never shortens it
    store.put_stretch("mouse", 100.0, 120.0)
    store.flush()
    store.put_stretch("typing", 100.0, 250.0)
    store.flush()
    got = store._conn.execute("SELECT kind, start, end FROM stretches ORDER BY kind").fetchall()
    assert got == [("mouse", 100.0, 120.0), ("typing", 100.0, 300.0)]
    with pytest.raises(ValueError):
        store.put_stretch("dancing", 1.0, 2.0)


def test_deliveries_pending_then_delivered(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    s = Store.open(db)
    a = s.add_delivery(1000.0, "pause", [("hands.wrist_pulse", "typing", 1200.5), ("eyes.far_focus", "active", 900.0)], None)
    b = s.add_delivery(2000.0, "max_defer", [("hands.grip_modulation", "mouse", 600.0)], None)
    assert b == a + 1
    s.set_delivered(a, True)  # still pending in memory
    s.flush()
    s.set_delivered(b, False, "no notification server")  # already written
    s.add_confirmation(1010.0, "hands.wrist_pulse", a, "done")
    s.close()
    assert rows(db, "SELECT id, t, reason, delivered, error FROM deliveries ORDER BY id") == [
        (a, 1000.0, "pause", 1, None),
        (b, 2000.0, "max_defer", 0, "no notification server"),
    ]
    assert rows(db, "SELECT delivery_id, cue_id, trigger, stretch_s FROM delivery_cues ORDER BY cue_id") == [
        (a, "eyes.far_focus", "active", 900.0),
        (b, "hands.grip_modulation", "mouse", 600.0),
        (a, "hands.wrist_pulse", "typing", 1200.5),
    ]
    assert rows(db, "SELECT cue_id, delivery_id, kind FROM confirmations") == [("hands.wrist_pulse", a, "done")]
    # Ids go on after a reopen.
    s = Store.open(db)
    assert s.add_delivery(3000.0, "pause", [], True) == b + 1
    s.close()


def test_state_reads_pending_and_stored(store: Store) -> None:
    assert store.get_state("progression_start") is None
    store.set_state("progression_start", "2026-03-02")
    assert store.get_state("progression_start") == "2026-03-02"
    store.flush()
    store.set_state("progression_start", "2026-03-09")
    store.flush()
    assert store.get_state("progression_start") == "2026-03-09"


def test_failed_flush_keeps_everything_and_retries(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    s = Store.open(db)
    s.add_counts({1: [1, 0, 0, 0, 0.0]})
    s.flush()
    pages = s._conn.execute("PRAGMA page_count").fetchone()[0]
    s._conn.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full
    big = {m: [1, 1, 1, 1, 1.5] for m in range(2, 20002)}
    s.add_counts(big)
    did = s.add_delivery(50.0, "pause", [("hands.wrist_pulse", "typing", 10.0)], None)
    s.put_stretch("typing", 5.0, 9.0)
    s.set_state("progression_start", "2026-03-02")
    with pytest.raises(StoreError) as exc:
        s.flush()
    assert "full" in str(exc.value) and "kept in memory" in str(exc.value)
    assert "\n" not in str(exc.value)
    assert rows(db, "SELECT count(*) FROM activity") == [(1,)]  # nothing half-written
    # New data merges into what is pending; a second failure loses nothing either.
    s.add_counts({1: [10, 0, 0, 0, 0.0], 2: [1, 0, 0, 0, 0.0]})
    s.set_delivered(did, True)
    s.put_stretch("typing", 5.0, 12.0)
    with pytest.raises(StoreError):
        s.flush()
    s._conn.execute("PRAGMA max_page_count = 1073741823")  # space again
    s.close()
    assert rows(db, "SELECT keys FROM activity WHERE minute = 1") == [(11,)]
    assert rows(db, "SELECT keys, moves FROM activity WHERE minute = 2") == [(2, 1)]
    assert rows(db, "SELECT count(*), sum(keys), sum(distance_px) FROM activity") == [(20001, 11 + 20001, 30000.0)]
    assert rows(db, "SELECT id, delivered FROM deliveries") == [(did, 1)]
    assert rows(db, "SELECT kind, start, end FROM stretches") == [("typing", 5.0, 12.0)]
    assert rows(db, "SELECT value FROM state WHERE key = 'progression_start'") == [("2026-03-02",)]


def test_readers_read_while_the_writer_holds_a_transaction(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    s = Store.open(db)
    s.add_counts({1: [5, 0, 0, 0, 0.0]})
    s.flush()
    s._conn.execute("BEGIN IMMEDIATE")
    s._conn.execute("UPDATE activity SET keys = 99")
    reader = open_readonly(db)
    try:
        assert reader.execute("SELECT keys FROM activity").fetchall() == [(5,)]
        with pytest.raises(sqlite3.OperationalError):
            reader.execute("INSERT INTO state VALUES ('x', 'y')")
    finally:
        reader.close()
    s._conn.execute("ROLLBACK")
    s.close()


def test_open_readonly_errors(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no database at .*nothing.db yet: run `mmctl run`"):
        open_readonly(tmp_path / "nothing.db")
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"\x00garbage" * 1000)
    with pytest.raises(StoreError, match="not a micromove database"):
        open_readonly(junk)
    assert junk.read_bytes() == b"\x00garbage" * 1000


def test_nothing_private_is_stored(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    s = Store.open(db)
    s.add_counts({1: [3, 0, 0, 0, 0.0]})
    s.close()
    cols = {r[1] for t in ("activity", "stretches", "deliveries", "delivery_cues") for r in rows(db, f"PRAGMA table_info({t})")}
    assert not cols & {"key", "keycode", "text", "x", "y", "position"}


def test_migration_3_keeps_confirmations_and_gives_them_a_source(tmp_path: Path) -> None:
    """A version-2 database (done and likely rows) gains `source` and kind `dismissed`."""
    from micromove.adapters.store import MIGRATIONS

    db = tmp_path / "v2.db"
    conn = sqlite3.connect(db)
    for v, step in enumerate(MIGRATIONS[:2]):
        conn.executescript(f"BEGIN;\n{step}\nPRAGMA user_version = {v + 1};\nCOMMIT;")
    conn.execute("INSERT INTO deliveries (id, t, reason, delivered) VALUES (1, 1000, 'pause', 1)")
    conn.execute("INSERT INTO confirmations (t, cue_id, delivery_id, kind) VALUES (1010, 'hands.wrist_pulse', 1, 'done')")
    conn.execute("INSERT INTO confirmations (t, cue_id, delivery_id, kind) VALUES (1020, 'eyes.far_focus', 1, 'likely')")
    conn.commit()
    with pytest.raises(sqlite3.IntegrityError):  # version 2 has no `dismissed`
        conn.execute("INSERT INTO confirmations (t, cue_id, delivery_id, kind) VALUES (1, 'x', 1, 'dismissed')")
    conn.close()
    s = Store.open(db)
    s.add_confirmation(1030, "hands.wrist_pulse", 1, "dismissed")
    s.add_confirmation(1040, "eyes.far_focus", 1, "done", "button")
    with pytest.raises(ValueError):
        s.add_confirmation(1050, "eyes.far_focus", 1, "done", "somebody")
    s.close()
    assert rows(db, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert rows(db, "SELECT t, cue_id, kind, source FROM confirmations ORDER BY t") == [
        (1010.0, "hands.wrist_pulse", "done", "cli"),
        (1020.0, "eyes.far_focus", "likely", "inferred"),
        (1030.0, "hands.wrist_pulse", "dismissed", "button"),
        (1040.0, "eyes.far_focus", "done", "button"),
    ]
    idx = {r[0] for r in rows(db, "SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"confirmations_by_delivery", "confirmations_by_t"} <= idx
    with pytest.raises(sqlite3.IntegrityError):
        c = sqlite3.connect(db)
        try:
            c.execute("INSERT INTO confirmations (t, cue_id, delivery_id, kind, source) VALUES (1, 'x', 1, 'done', 'x')")
        finally:
            c.close()
