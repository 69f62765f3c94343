"""The name to bind or connect a Unix socket by, even for a long path."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

_MAX_SUN_PATH = 100  # sun_path is 108 bytes on Linux, 104 on macOS


@contextlib.contextmanager
def address(path: Path) -> Iterator[str]:
    """A name for bind/connect: the path, or for a path too long for sun_path on
    Linux, /proc/self/fd/N/NAME through an open descriptor of its folder."""
    raw = os.fsencode(path)
    if len(raw) <= _MAX_SUN_PATH:
        yield str(path)
        return
    if not sys.platform.startswith("linux"):
        raise OSError(f"the socket path {path} is too long for a Unix socket; set XDG_RUNTIME_DIR to a shorter folder")
    fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        yield f"/proc/self/fd/{fd}/{path.name}"
    finally:
        os.close(fd)
