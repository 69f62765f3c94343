"""Logging for the daemon: short lines on stderr, journald-friendly.

One line per message, `LEVEL message`, no timestamps (journald and
launchd stamp each line themselves). Under systemd (JOURNAL_STREAM names our
stderr) each line also starts with the syslog priority, `<6>`, so the
journal keeps the level. Messages never carry key identities, typed text or
pointer positions: the daemon only ever logs counts, times, paths and reasons.
"""

from __future__ import annotations

import logging
import os
import sys

_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3, logging.CRITICAL: 2}


def _stderr_is_journal() -> bool:
    stream = os.environ.get("JOURNAL_STREAM", "")
    if not stream or ":" not in stream:
        return False
    try:
        st = os.fstat(sys.stderr.fileno())
    except (OSError, ValueError):
        return False
    dev, _, ino = stream.partition(":")
    return f"{st.st_dev}:{st.st_ino}" == f"{dev}:{ino}"


class _Formatter(logging.Formatter):
    def __init__(self, journal: bool) -> None:
        super().__init__()
        self.journal = journal

    def format(self, record: logging.LogRecord) -> str:
        msg = record.getMessage()
        if record.exc_info:
            # Never a traceback's locals; the exception's type and message only.
            exc = record.exc_info[1]
            msg = f"{msg}: {type(exc).__name__}: {exc}"
        line = f"{record.levelname} {msg}".replace("\n", " | ")
        if self.journal:
            line = f"<{_PRIORITY.get(record.levelno, 6)}>{line}"
        return line


def setup(verbose: bool = False) -> logging.Logger:
    """Configure the `micromove` logger for the daemon; returns it."""
    logger = logging.getLogger("micromove")
    for h in list(logger.handlers):
        if getattr(h, "_micromove", False):
            logger.removeHandler(h)
    handler = logging.StreamHandler(sys.stderr)
    handler._micromove = True  # type: ignore[attr-defined]
    handler.setFormatter(_Formatter(_stderr_is_journal()))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    logger.propagate = False
    # pynput logs tracebacks of callback errors under its own name; ours never raise.
    logging.getLogger("pynput").setLevel(logging.CRITICAL)
    return logger
