"""Is this file micromove's database? Decided before anything opens it for writing.

`identify(path)` looks at a file without changing it: it reads the first 100
bytes (the SQLite header) with a plain read-only `open`, and, when the header
is SQLite's, the table names through an `immutable=1` read-only connection,
which takes no lock and creates no `-wal`, `-shm` or `-journal` file. The
verdicts:

- ``new``: no file, or an empty (0-byte) one: a database may be created there.
- ``empty``: a valid SQLite database with no tables and user_version 0.
- ``ours``: micromove's database: its header carries micromove's application
  id (sound or damaged: the writer's integrity check tells), or it has
  micromove's tables.
- ``damaged``: a file at micromove's own default location (a file only
  micromove writes) that is not readable SQLite. The writer moves it aside,
  as it does an ``ours`` file that fails its integrity check.
- ``foreign``: anything else (a text file, another program's SQLite file, an
  unreadable SQLite file not recognisably micromove's): never written,
  renamed, chmod-ed or recovered.

Light (the standard library and micromove.errors): readers (`mmctl stats`) call it too.
"""

from __future__ import annotations

import os
import sqlite3

from ..errors import ForeignDatabase, StoreError

HEADER = b"SQLite format 3\x00"
HEADER_SIZE = 100
# PRAGMA application_id (header offset 68): b"mmov". The writer sets it.
APPLICATION_ID = 0x6D6D6F76
# The tables of schema version 1, present in every micromove database since.
CORE_TABLES = frozenset({"activity", "stretches", "deliveries", "delivery_cues", "confirmations", "checkins", "state"})

NEW, EMPTY, OURS, DAMAGED, FOREIGN = "new", "empty", "ours", "damaged", "foreign"

_URI_ESCAPES = {"%": "%25", "?": "%3f", "#": "%23"}


def ro_uri(path: str, *, immutable: bool = False) -> str:
    """A `file:` URI opening `path` read-only (`immutable`: no lock, no side files)."""
    quoted = "".join(_URI_ESCAPES.get(ch, ch) for ch in os.path.abspath(path))
    return f"file:{quoted}?mode=ro" + ("&immutable=1" if immutable else "")


def _tables(path: str) -> set[str]:
    """Table names, read without locking or creating anything (DatabaseError if unreadable)."""
    conn = sqlite3.connect(ro_uri(path, immutable=True), uri=True, check_same_thread=False)
    try:
        return {str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()


def _tables_with_wal(path: str) -> set[str]:
    """Table names as the file and its `-wal` together hold them, read from private copies.

    (Opening the original with its log would take locks and create `-shm`.)
    """
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory(prefix="micromove-dbcheck-") as tmp:
        copy = os.path.join(tmp, "db")
        if os.path.exists(path):
            shutil.copyfile(path, copy)
        shutil.copyfile(f"{path}-wal", f"{copy}-wal")
        conn = sqlite3.connect(ro_uri(copy), uri=True, check_same_thread=False)
        try:
            return {str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            conn.close()


def _wal_has_data(path: str) -> bool:
    try:
        return os.path.getsize(f"{path}-wal") > 0
    except OSError:
        return False


def _describe(tables: set[str]) -> str:
    names = sorted(tables)
    shown = ", ".join(repr(n) for n in names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return f"an SQLite database without micromove's tables; its tables: {shown}"


def identify(path: str | os.PathLike[str], *, default_location: bool = False) -> tuple[str, str]:
    """(verdict, why) for the file at `path`; see the module docstring. Changes nothing.

    `default_location`: `path` is micromove's own default database file.
    OSError when the file exists but cannot be read (permission denied...).
    """
    p = os.fspath(path)
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        return (NEW, "") if not _wal_has_data(p) else _by_tables(p, default_location, 0)
    try:
        import stat

        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return FOREIGN, "not a regular file"
        head = os.read(fd, HEADER_SIZE)
    finally:
        os.close(fd)
    if not head:
        return (NEW, "") if not _wal_has_data(p) else _by_tables(p, default_location, 0)
    if not head.startswith(HEADER) or len(head) < HEADER_SIZE:
        why = "not an SQLite file" if not HEADER.startswith(head[: len(HEADER)]) else "a cut-short SQLite file"
        return (DAMAGED if default_location else FOREIGN), why
    app_id = int.from_bytes(head[68:72], "big")
    if app_id not in (0, APPLICATION_ID):
        return FOREIGN, f"an SQLite database of another program (application id {app_id:#010x})"
    if app_id == APPLICATION_ID:
        # Marked as micromove's: ours, sound or not (the writer's integrity check
        # decides; it moves a damaged one aside). Its schema is not read here, so a
        # reader never races the daemon's writes.
        return OURS, ""
    version = int.from_bytes(head[60:64], "big")
    return _by_tables(p, default_location, version)


def is_default_location(path: str | os.PathLike[str]) -> bool:
    """`path` is micromove's own default database file."""
    from ..paths import db_path

    return os.path.realpath(path) == os.path.realpath(db_path())


def check(path: str | os.PathLike[str]) -> tuple[str, str]:
    """`identify` for micromove's writers and readers: ForeignDatabase (one line) for a file
    that is not micromove's, StoreError for one that cannot be read; else (verdict, why)."""
    p = os.fspath(path)
    try:
        verdict, why = identify(p)
        if verdict == FOREIGN and is_default_location(p):  # (pathlib is loaded only for a bad file)
            verdict, why = identify(p, default_location=True)
    except OSError as exc:
        raise StoreError(f"cannot read {p}: {exc.strerror}") from None
    if verdict == FOREIGN:
        raise ForeignDatabase(
            f"{p} is not a micromove database ({why}); it was left untouched: "
            "give the path of a micromove database, or of a new or empty file"
        )
    return verdict, why


def _by_tables(p: str, default_location: bool, version: int) -> tuple[str, str]:
    """The verdict on an unmarked file (or a missing/empty one with a `-wal` beside it)."""
    problem = ""
    tables: set[str] = set()
    for attempt in range(2):  # a checkpoint rewriting page 1 at that instant: read again
        try:
            tables = _tables(p) if os.path.exists(p) else set()
            problem = ""
            break
        except sqlite3.DatabaseError as exc:
            problem = str(exc)
            if attempt == 0:
                import time

                time.sleep(0.05)
    if not problem and not tables and _wal_has_data(p):
        # Everything may still be in the write-ahead log beside it.
        try:
            tables = _tables_with_wal(p)
        except (OSError, sqlite3.DatabaseError) as exc:
            problem = f"its write-ahead log cannot be read: {exc}"
    if problem:
        return (DAMAGED, problem) if default_location else (FOREIGN, f"an SQLite file that cannot be read: {problem}")
    if not tables:
        if version == 0:
            return EMPTY, ""
        return FOREIGN, f"an SQLite database of schema version {version} with no tables"
    if tables >= CORE_TABLES:
        return OURS, ""
    return FOREIGN, _describe(tables)
