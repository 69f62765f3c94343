"""Is the daemon running, and asking it to re-read its config (SIGHUP).

The daemon holds an exclusive flock on its lock file (paths.lock_path) for
as long as it runs and writes its pid there. A reader tells a live daemon
from a stale file by trying a shared lock without waiting: it fails only
while the daemon holds the lock. So a leftover pid is never signalled.
"""

from __future__ import annotations

import os
from pathlib import Path


def daemon_pid(lock: Path | None = None) -> int | None:
    """The pid of this user's running daemon, or None when none runs."""
    import fcntl

    from . import paths

    path = lock or paths.lock_path()
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            return int(text) if text.isdigit() and int(text) > 0 else None
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def ask_reload() -> tuple[bool, str]:
    """Send SIGHUP to the running daemon: (sent, a sentence for the person)."""
    import signal

    pid = daemon_pid()
    if pid is None:
        return False, "micromove is not running: the change applies when it next starts"
    try:
        os.kill(pid, signal.SIGHUP)
    except OSError as exc:
        return False, f"could not ask micromove (pid {pid}) to reload: {exc.strerror}; restart it to apply the change"
    return True, f"asked the running micromove (pid {pid}) to reload its config"
