"""Helpers for the fault and privacy suites: a live `mmctl run`, its database, a short config.

`LiveDaemon` starts `mmctl run` as the service would (a subprocess with the
desktop's environment), reads its stderr on a thread, and lets a test wait for
a log line, signal it, or kill it. `counts(db)` reads the database the way
`mmctl stats` does (read-only, while the daemon may still be writing).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from _mmctl import config_yaml, mmctl_command

START_TIMEOUT_S = 20.0


def db_path(home: Path) -> Path:
    return home / ".local" / "share" / "micromove" / "micromove.db"


def config_path(home: Path) -> Path:
    return home / ".config" / "micromove" / "config.yaml"


def short_config_text(
    cues: Mapping[str, tuple[float, str]] | None = None,
    *,
    min_s: float = 0.5,
    max_defer_s: float = 30,
    break_s: float = 30,
    min_gap_s: float = 0,
    timeout_s: float | None = None,
) -> str:
    """A config whose cues come due within seconds (every other cue disabled)."""
    return config_yaml(
        dict(cues if cues is not None else {"hands.wrist_pulse": (0.02, "typing")}),
        min_s=min_s, max_defer_s=max_defer_s, break_s=break_s, min_gap_s=min_gap_s, timeout_s=timeout_s,
    )  # fmt: skip


def write_config(home: Path, text: str) -> Path:
    p = config_path(home)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
    return p


class LiveDaemon:
    """`mmctl run ARGS` in a subprocess; stderr collected line by line."""

    def __init__(self, env: Mapping[str, str], *args: str) -> None:
        self.proc = subprocess.Popen(
            [*mmctl_command(), "run", *args],
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self._err: list[bytes] = []
        self._out: list[bytes] = []
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._read, args=(self.proc.stderr, self._err), daemon=True),
            threading.Thread(target=self._read, args=(self.proc.stdout, self._out), daemon=True),
        ]
        for t in self._threads:
            t.start()

    def _read(self, stream: object, into: list[bytes]) -> None:
        assert stream is not None
        for line in iter(stream.readline, b""):  # type: ignore[attr-defined]
            with self._lock:
                into.append(line)

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def stderr_bytes(self) -> bytes:
        with self._lock:
            return b"".join(self._err)

    @property
    def stdout_bytes(self) -> bytes:
        with self._lock:
            return b"".join(self._out)

    @property
    def stderr(self) -> str:
        return self.stderr_bytes.decode("utf-8", "replace")

    def wait_for(self, needle: str, timeout: float = START_TIMEOUT_S, count: int = 1) -> str:
        """Wait until `needle` has appeared `count` times on stderr; the stderr so far.

        Fails early, with the stderr, if the daemon exits first.
        """
        deadline = time.monotonic() + timeout
        while True:
            err = self.stderr
            if err.count(needle) >= count:
                return err
            if self.proc.poll() is not None:
                self._drain()
                err = self.stderr
                if err.count(needle) >= count:
                    return err
                raise AssertionError(f"mmctl run exited {self.proc.returncode} before {needle!r}:\n{err}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {needle!r} within {timeout} s:\n{err}")
            time.sleep(0.02)

    def started(self) -> LiveDaemon:
        self.wait_for("watching input")
        return self

    def _drain(self) -> None:
        for t in self._threads:
            t.join(5)

    def wait(self, timeout: float = 30.0) -> int:
        rc = self.proc.wait(timeout)
        self._drain()
        return rc

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        """Send `sig` and wait for the exit status."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.proc.pid, sig)
        return self.wait(timeout)

    def kill9(self) -> int:
        return self.stop(signal.SIGKILL)

    def close(self) -> None:
        """Make sure it is gone (a test that failed half-way)."""
        if self.proc.poll() is None:
            self.proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(10)
        self._drain()
        for f in (self.proc.stdout, self.proc.stderr):
            if f is not None:
                f.close()

    def __enter__(self) -> LiveDaemon:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _ro(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)


def counts(db: Path) -> dict[str, int]:
    """Summed counts in the database ({} when it has none yet)."""
    if not db.exists():
        return {}
    conn = _ro(db)
    try:
        row = conn.execute(
            "SELECT coalesce(sum(keys), 0), coalesce(sum(clicks), 0), coalesce(sum(scrolls), 0), "
            "coalesce(sum(moves), 0) FROM activity"
        ).fetchone()
    except sqlite3.OperationalError:  # no table yet
        return {}
    finally:
        conn.close()
    return dict(zip(("keys", "clicks", "scrolls", "moves"), (int(x) for x in row), strict=True))


def query(db: Path, sql: str) -> list[tuple[object, ...]]:
    conn = _ro(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def integrity(db: Path) -> list[tuple[object, ...]]:
    """`PRAGMA integrity_check` on a copy-free read-write connection (recovers a hot WAL)."""
    conn = sqlite3.connect(db, timeout=5)
    try:
        return conn.execute("PRAGMA integrity_check").fetchall()
    finally:
        conn.close()


def wait_until(pred: object, timeout: float, step: float = 0.05) -> bool:
    """Poll `pred()` until true or `timeout` seconds pass; its last value."""
    deadline = time.monotonic() + timeout
    while True:
        if pred():  # type: ignore[operator]
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
