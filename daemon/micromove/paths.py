"""Where micromove keeps its files. XDG variables honoured (the platform's
usual folders on macOS); README.md's "Files" section lists them."""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP = "micromove"


def _xdg(var: str, fallback: str) -> Path:
    value = os.environ.get(var, "")
    # The XDG spec: relative paths are invalid and must be ignored.
    if value and os.path.isabs(value):
        return Path(value)
    return Path.home() / fallback


def config_dir() -> Path:
    if sys.platform == "darwin" and "XDG_CONFIG_HOME" not in os.environ:
        return Path.home() / "Library" / "Application Support" / APP
    return _xdg("XDG_CONFIG_HOME", ".config") / APP


def config_path() -> Path:
    return config_dir() / "config.yaml"


def data_dir() -> Path:
    if sys.platform == "darwin" and "XDG_DATA_HOME" not in os.environ:
        return Path.home() / "Library" / "Application Support" / APP
    return _xdg("XDG_DATA_HOME", ".local/share") / APP


def db_path() -> Path:
    return data_dir() / "micromove.db"


# For help texts: where the control socket and the lock are, and the fallback.
RUNTIME_HELP = (
    "The control socket and the lock are in $XDG_RUNTIME_DIR/micromove/; where "
    "XDG_RUNTIME_DIR is not set (an SSH login, cron, some containers) in "
    "$TMPDIR/micromove-UID/ (/tmp/micromove-UID/ without TMPDIR; on macOS "
    "~/Library/Caches/micromove/run/), UID being your numeric user id. The daemon "
    "and mmctl find each other only when both see the same XDG_RUNTIME_DIR."
)


def runtime_dir() -> Path:
    """Control socket and lock: $XDG_RUNTIME_DIR/micromove, else (unset or
    not absolute) $TMPDIR/micromove-UID (/tmp without TMPDIR), or on macOS
    ~/Library/Caches/micromove/run. RUNTIME_HELP says the same for people."""
    value = os.environ.get("XDG_RUNTIME_DIR", "")
    if value and os.path.isabs(value):
        return Path(value) / APP
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / APP / "run"
    return Path(os.environ.get("TMPDIR", "/tmp")) / f"{APP}-{os.getuid()}"


def socket_path() -> Path:
    return runtime_dir() / "control.sock"


def lock_path() -> Path:
    return runtime_dir() / "daemon.lock"


def ensure_private_dir(path: Path) -> Path:
    """Create `path` (and parents) with mode 0700; tighten it if it exists."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


def replace_file(path: Path, text: str, mode: int) -> None:
    """Write `text` to `path` atomically (a temporary file beside it, synced,
    then renamed over it), with permissions `mode`. The folder must exist.
    OSError for a failure; nothing half-written is left behind."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)  # the umask may have narrowed it
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
