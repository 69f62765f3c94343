"""The SQLite store: the daemon's one writer, and a read-only opener for readers.

`Store` is the only code that writes the database (docs/schema.md describes
the tables). It keeps writes in memory and puts everything pending into ONE
transaction per `flush()`; if that transaction fails (disk full, read-only
file system, a lock held too long) nothing is lost: the pending data stays in
memory, later writes merge into it, `flush()` raises `StoreError` with a
one-line message and the next `flush()` tries again. Delivery ids are handed
out in memory (from max(id) read at open), so `add_delivery` returns at once.

`Store.open` first decides, without opening anything for writing, whether the
file is micromove's (`dbfile.identify`): a file that is not (a text file,
another program's SQLite database) is refused with `ForeignDatabase` and left
exactly as it was. It then runs the schema migrations (only the writer does),
turns on WAL so readers never block it, keeps the folder 0700 and the files
0600, refuses a database written by a newer micromove (touching nothing), and
moves micromove's own damaged database aside to `NAME.corrupt-YYYYmmddTHHMMSS`
(never a silent delete) before starting a fresh one.

Readers (`mmctl stats`, `status`, `doctor`) use `open_readonly`: standard
library only, `mode=ro`, never a migration.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time

from ..errors import StoreError
from . import dbfile, rollups
from .migrations import MIGRATIONS as MIGRATIONS  # the schema's steps, in order
from .migrations import SCHEMA_VERSION as SCHEMA_VERSION

TYPE_CHECKING = False  # typing is not imported at run time: readers start fast

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

# Readers (`mmctl stats`) import this module too: it keeps its imports light
# (pathlib and logging are loaded by the writer only, when it opens).


def _log_warning(msg: str, *args: object) -> None:
    import logging

    logging.getLogger("micromove").warning(msg, *args)

BUSY_TIMEOUT_S = 5.0
STRETCH_KINDS = ("typing", "mouse", "active")
CONFIRMATION_KINDS = ("done", "likely", "dismissed")
# Who said so: `mmctl done` (cli), a notification's button or its dismissal
# (button), the input itself (inferred: "likely").
CONFIRMATION_SOURCES = ("cli", "button", "inferred")
DEFAULT_SOURCE = {"done": "cli", "likely": "inferred", "dismissed": "button"}

_COUNTS_SQL = (
    "INSERT INTO activity (minute, keys, clicks, scrolls, moves, distance_px, presence) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (minute) DO UPDATE SET keys = keys + excluded.keys, clicks = clicks + excluded.clicks, "
    "scrolls = scrolls + excluded.scrolls, moves = moves + excluded.moves, "
    "distance_px = distance_px + excluded.distance_px, presence = max(presence, excluded.presence)"
)
_STRETCH_SQL = (
    "INSERT INTO stretches (kind, start, end) VALUES (?, ?, ?) "
    "ON CONFLICT (kind, start) DO UPDATE SET end = max(end, excluded.end)"
)


def _db_error(path: Path | str, exc: BaseException) -> str:
    return f"{path}: {exc}"


@contextlib.contextmanager
def _private_umask() -> Iterator[None]:
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


def _siblings(path: Path) -> list[Path]:
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


def _tighten(path: Path) -> None:
    """Files 0600 (only files we own; a failure here is not fatal)."""
    for p in _siblings(path):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            st = p.stat()
            if st.st_mode & 0o077 and st.st_uid == os.geteuid():
                p.chmod(0o600)


def _move_aside(path: Path, why: str) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%S")
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while aside.exists():
        aside = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        n += 1
    try:
        os.rename(path, aside)
        for suffix in ("-wal", "-shm"):
            side = f"{path}{suffix}"
            if os.path.exists(side):
                os.rename(side, f"{aside}{suffix}")
        _tighten(aside)  # it holds the same private data as before
    except OSError as exc:
        raise StoreError(f"{path} is damaged ({why}) and cannot be moved aside: {exc.strerror}") from None
    _log_warning("database %s is damaged (%s): moved it to %s and started a new one", path, why, aside)
    return aside


def _check_writable(path: Path) -> None:
    folder = path.parent
    if path.is_dir():
        raise StoreError(f"{path} is a folder, not a database file")
    if not folder.is_dir():
        raise StoreError(f"cannot create the database folder {folder}: a file is in the way")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise StoreError(
            f"cannot write in {folder}: permission denied (the database needs a writable folder; "
            f"fix its owner or mode, e.g. chmod u+rwx)"
        )
    for p in _siblings(path):
        if p.exists() and not os.access(p, os.R_OK | os.W_OK):
            raise StoreError(f"cannot write {p}: permission denied (fix its owner or mode, e.g. chmod u+rw)")


def _integrity_problem(conn: sqlite3.Connection) -> str | None:
    """None if the file is a sound SQLite database, else what is wrong."""
    try:
        rows = conn.execute("PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    if rows != [("ok",)]:
        first = " ".join(str(rows[0][0]).split()) if rows else "no answer"
        return f"quick_check: {first}"
    return None


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    return conn


class _PendingDelivery:
    __slots__ = ("t", "reason", "cues", "delivered", "error")

    def __init__(
        self, t: float, reason: str, cues: list[tuple[str, str, float]], delivered: int | None, error: str | None
    ) -> None:
        self.t = t
        self.reason = reason
        self.cues = cues
        self.delivered = delivered
        self.error = error


class Store:
    """The one writer. Not thread-safe: the daemon calls it from one thread."""

    def __init__(self, path: Path, conn: sqlite3.Connection, next_id: int) -> None:
        self.path = path
        self._conn = conn
        self._next_id = next_id
        self._counts: dict[int, list[float]] = {}
        self._stretches: dict[tuple[str, float], float] = {}
        self._deliveries: dict[int, _PendingDelivery] = {}
        self._outcomes: dict[int, tuple[int, str | None]] = {}
        self._confirmations: list[tuple[float, str, int | None, str, str]] = []
        self._checkins: list[tuple[str, float, int | None, int | None, int | None, str | None]] = []
        self._state: dict[str, str] = {}
        self._closed = False

    # ------------------------------------------------------------------ open
    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Store:
        from pathlib import Path

        p = Path(path).expanduser()
        from ..paths import ensure_private_dir

        # Decided before anything is created, opened for writing or tightened.
        verdict, why = ("new", "") if p.is_dir() else dbfile.check(p)
        folder = p.parent
        try:
            if not folder.exists():
                with _private_umask():
                    ensure_private_dir(folder)
            elif folder.resolve() == _default_folder():
                ensure_private_dir(folder)
        except OSError as exc:
            raise StoreError(f"cannot create the database folder {folder}: {exc.strerror}") from None
        _check_writable(p)

        conn = cls._open_sound(p, verdict, why)
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{p} has schema version {version}, newer than this micromove understands "
                    f"({SCHEMA_VERSION}): upgrade micromove; the database was left untouched"
                )
            _tighten(p)
            with _private_umask():
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                conn.execute("PRAGMA synchronous = NORMAL")
                if str(mode).lower() != "wal":
                    _log_warning("database %s: WAL mode not available (journal mode %s)", p, mode)
                _migrate(conn, version, p)
            if conn.execute("PRAGMA application_id").fetchone()[0] != dbfile.APPLICATION_ID:
                # micromove's mark in the file header, so that a damaged one is still known as ours
                conn.execute(f"PRAGMA application_id = {dbfile.APPLICATION_ID}")
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            _tighten(p)
            next_id = int(conn.execute("SELECT coalesce(max(id), 0) FROM deliveries").fetchone()[0]) + 1
        except sqlite3.Error as exc:
            conn.close()
            raise StoreError(f"cannot use the database {_db_error(p, exc)}") from None
        except BaseException:
            conn.close()
            raise
        return cls(p, conn, next_id)

    @staticmethod
    def _open_sound(p: Path, verdict: str, damage: str) -> sqlite3.Connection:
        """A connection to a sound database at `p`; micromove's damaged file is moved aside first."""
        why: str | None = (damage or "damaged") if verdict == dbfile.DAMAGED else None
        conn: sqlite3.Connection | None = None
        if why is None:
            try:
                with _private_umask():
                    conn = _connect(p)
                why = _integrity_problem(conn)
            except sqlite3.OperationalError as exc:
                if conn is not None:
                    conn.close()
                raise StoreError(f"cannot open the database {_db_error(p, exc)}") from None
            except sqlite3.DatabaseError as exc:
                why = str(exc)
        if why is None and conn is not None:
            return conn
        if conn is not None:
            conn.close()
        _move_aside(p, why or "damaged")
        try:
            with _private_umask():
                conn = _connect(p)
            conn.execute("PRAGMA user_version").fetchone()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot create a new database {_db_error(p, exc)}") from None
        return conn

    @classmethod
    def open_existing(cls, path: str | os.PathLike[str]) -> Store:
        """A short second writer beside a running daemon (`mmctl checkin`).

        Opens a database that already exists at the current schema version:
        no migration, no journal-mode change, no integrity check and never a
        move aside (the daemon owns those). Its `flush` is one short
        `BEGIN IMMEDIATE` transaction that waits up to BUSY_TIMEOUT_S for the
        daemon's. StoreError for a missing file or another schema version.
        """
        from pathlib import Path

        p = Path(path).expanduser()
        if not p.is_file():
            raise StoreError(f"no database at {p}")
        verdict, why = dbfile.check(p)
        if verdict == dbfile.DAMAGED:
            raise StoreError(
                f"{p} is damaged ({why}): start micromove (`mmctl run`) once: it moves the damaged file "
                "aside and starts a new one; the database was left untouched"
            )
        conn: sqlite3.Connection | None = None
        try:
            with _private_umask():
                conn = _connect(p)
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if version != SCHEMA_VERSION:
                newer = version > SCHEMA_VERSION
                raise StoreError(
                    f"{p} has schema version {version}; "
                    + ("upgrade micromove" if newer else "start micromove (`mmctl run`) once to bring it up to date")
                    + "; the database was left untouched"
                )
            next_id = int(conn.execute("SELECT coalesce(max(id), 0) FROM deliveries").fetchone()[0]) + 1
        except sqlite3.Error as exc:
            if conn is not None:
                conn.close()
            raise StoreError(f"cannot use the database {_db_error(p, exc)}") from None
        except BaseException:
            if conn is not None:
                conn.close()
            raise
        return cls(p, conn, next_id)

    # ---------------------------------------------------------------- writes
    def add_counts(self, counts: dict[int, list[float]]) -> None:
        """Add per-minute counts: minute -> [keys, clicks, scrolls, moves, distance_px(, presence)].

        `presence` (1 or 0, default 0): a presence-only source saw input in
        that minute, whose counts were therefore not recorded.
        """
        pending = self._counts
        for minute, row in counts.items():
            presence = int(row[5]) if len(row) > 5 else 0
            have = pending.get(minute)
            if have is None:
                pending[int(minute)] = [row[0], row[1], row[2], row[3], row[4], presence]
            else:
                for i in range(5):
                    have[i] += row[i]
                have[5] = max(have[5], presence)

    def put_stretch(self, kind: str, start: float, end: float) -> None:
        """Record a stretch (first to latest event); again with a later end extends it."""
        if kind not in STRETCH_KINDS:
            raise ValueError(f"unknown stretch kind {kind!r}")
        key = (kind, float(start))
        have = self._stretches.get(key)
        if have is None or end > have:
            self._stretches[key] = float(end)

    def add_delivery(
        self,
        t: float,
        reason: str,
        cues: list[tuple[str, str, float]],
        delivered: bool | None,
        error: str | None = None,
    ) -> int:
        did = self._next_id
        self._next_id += 1
        self._deliveries[did] = _PendingDelivery(
            float(t),
            reason,
            [(c, trig, float(s)) for c, trig, s in cues],
            None if delivered is None else int(bool(delivered)),
            error,
        )
        return did

    def set_delivered(self, delivery_id: int, delivered: bool, error: str | None = None) -> None:
        row = self._deliveries.get(delivery_id)
        if row is not None:
            row.delivered = int(bool(delivered))
            row.error = error
        else:
            self._outcomes[delivery_id] = (int(bool(delivered)), error)

    def add_confirmation(
        self, t: float, cue_id: str, delivery_id: int | None, kind: str, source: str | None = None
    ) -> None:
        """A confirmation; `source` defaults by kind (done: cli, likely: inferred, dismissed: button)."""
        if kind not in CONFIRMATION_KINDS:
            raise ValueError(f"unknown confirmation kind {kind!r}")
        src = DEFAULT_SOURCE[kind] if source is None else source
        if src not in CONFIRMATION_SOURCES:
            raise ValueError(f"unknown confirmation source {src!r}")
        self._confirmations.append((float(t), cue_id, delivery_id, kind, src))

    def add_checkin(
        self,
        date: str,
        t: float,
        tight: bool | None,
        noise: bool | None,
        natural: bool | None,
        note: str | None = None,
    ) -> None:
        """A weekly check-in (issue 5): answers as 1/0, None when not answered."""

        def b(v: bool | None) -> int | None:
            return None if v is None else int(bool(v))

        self._checkins.append((date, float(t), b(tight), b(noise), b(natural), note))

    def get_state(self, key: str) -> str | None:
        if key in self._state:
            return self._state[key]
        try:
            row = self._conn.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read the database {_db_error(self.path, exc)}") from None
        return None if row is None else str(row[0])

    def set_state(self, key: str, value: str) -> None:
        self._state[key] = str(value)

    @property
    def pending(self) -> bool:
        return bool(
            self._counts
            or self._stretches
            or self._deliveries
            or self._outcomes
            or self._confirmations
            or self._checkins
            or self._state
        )

    def flush(self) -> None:
        """Write everything pending in one transaction; on failure keep it and raise StoreError."""
        if self._closed:
            raise StoreError(f"{self.path}: the store is closed")
        if not self.pending:
            return
        conn = self._conn
        # Cue sets whose figures these writes change (rollups.cue_quarter).
        touched = {*self._deliveries, *self._outcomes, *(c[2] for c in self._confirmations if c[2] is not None)}
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                days = rollups.Days()
                if self._counts:
                    rollups.add_activity(conn, self._counts, days)
                    conn.executemany(_COUNTS_SQL, [(m, *row) for m, row in self._counts.items()])
                if self._stretches:
                    changes = rollups.stretch_changes(conn, self._stretches)
                    conn.executemany(_STRETCH_SQL, [(k, s, e) for (k, s), e in self._stretches.items()])
                    rollups.add_stretches(conn, changes, days)
                cues_before = rollups.cue_figures(conn, touched) if touched else {}
                if self._deliveries:
                    conn.executemany(
                        "INSERT INTO deliveries (id, t, reason, delivered, error) VALUES (?, ?, ?, ?, ?)",
                        [(i, r.t, r.reason, r.delivered, r.error) for i, r in self._deliveries.items()],
                    )
                    conn.executemany(
                        "INSERT OR REPLACE INTO delivery_cues (delivery_id, cue_id, trigger, stretch_s) "
                        "VALUES (?, ?, ?, ?)",
                        [(i, *c) for i, r in self._deliveries.items() for c in r.cues],
                    )
                if self._outcomes:
                    conn.executemany(
                        "UPDATE deliveries SET delivered = ?, error = ? WHERE id = ?",
                        [(d, e, i) for i, (d, e) in self._outcomes.items()],
                    )
                if self._confirmations:
                    conn.executemany(
                        "INSERT INTO confirmations (t, cue_id, delivery_id, kind, source) VALUES (?, ?, ?, ?, ?)",
                        self._confirmations,
                    )
                if touched:
                    rollups.apply_cues(conn, cues_before, rollups.cue_figures(conn, touched), days)
                if self._checkins:
                    conn.executemany(
                        "INSERT INTO checkins (date, t, tight, noise, natural, note) VALUES (?, ?, ?, ?, ?, ?)",
                        self._checkins,
                    )
                if self._state:
                    conn.executemany(
                        "INSERT INTO state (key, value) VALUES (?, ?) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                        list(self._state.items()),
                    )
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            n = self._pending_summary()
            raise StoreError(
                f"cannot write the database {self.path}: {exc} ({n} kept in memory, will retry)"
            ) from None
        self._counts = {}
        self._stretches = {}
        self._deliveries = {}
        self._outcomes = {}
        self._confirmations = []
        self._checkins = []
        self._state = {}

    def _pending_summary(self) -> str:
        parts = []
        if self._counts:
            parts.append(f"{len(self._counts)} minutes of counts")
        if self._stretches:
            parts.append(f"{len(self._stretches)} stretches")
        if self._deliveries or self._outcomes:
            parts.append(f"{len(self._deliveries) + len(self._outcomes)} deliveries")
        if self._confirmations:
            parts.append(f"{len(self._confirmations)} confirmations")
        if self._checkins or self._state:
            parts.append(f"{len(self._checkins) + len(self._state)} other rows")
        return ", ".join(parts) or "nothing"

    def close(self) -> None:
        """Flush and close. If the flush fails the StoreError is raised and the store stays open."""
        if self._closed:
            return
        self.flush()
        self._closed = True
        self._conn.close()
        _tighten(self.path)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _default_folder() -> Path:
    from ..paths import data_dir

    return data_dir().resolve()


def _migrate(conn: sqlite3.Connection, version: int, path: Path) -> None:
    for v in range(version, SCHEMA_VERSION):
        try:
            conn.executescript(f"BEGIN IMMEDIATE;\n{MIGRATIONS[v]}\nPRAGMA user_version = {v + 1};\nCOMMIT;")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            raise StoreError(f"{path}: schema migration {v} -> {v + 1} failed: {exc}") from None
    if 0 < version < SCHEMA_VERSION:  # an older database (a new one is simply created)
        import logging

        logging.getLogger("micromove").info(
            "database %s: schema upgraded from version %d to %d", path, version, SCHEMA_VERSION
        )


# ----------------------------------------------------------------- readers


def open_readonly(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """A read-only connection for readers; never migrates, never creates.

    Raises StoreError for a missing file, a file that is not a database, or a
    database written by a newer micromove. A database at an older version
    (or an empty file: version 0) is returned as it is: check
    `PRAGMA user_version` before relying on a table.
    """
    p = os.path.expanduser(os.fspath(path))
    if not os.path.exists(p):
        raise StoreError(f"no database at {p} yet: run `mmctl run` or `mmctl simulate --db`")
    if os.path.isdir(p):
        raise StoreError(f"{p} is a folder, not a database file")
    verdict, why = dbfile.check(p)
    if verdict == dbfile.DAMAGED:
        raise StoreError(f"{p} is damaged ({why})")
    uri = dbfile.ro_uri(p)
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, check_same_thread=False)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open the database {_db_error(p, exc)}") from None
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        conn.close()
        if "not a database" in str(exc) or "malformed" in str(exc):
            raise StoreError(f"{p} is not a micromove database ({exc})") from None
        raise StoreError(f"cannot read the database {_db_error(p, exc)}") from None
    if version > SCHEMA_VERSION:
        conn.close()
        raise StoreError(
            f"{p} has schema version {version}, newer than this micromove understands "
            f"({SCHEMA_VERSION}): upgrade micromove"
        )
    return conn
