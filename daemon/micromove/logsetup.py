"""Logging for the daemon: short lines on stderr, journald-friendly.

One line per message, `LEVEL message`, no timestamps (journald and
launchd stamp each line themselves). Under systemd (JOURNAL_STREAM names our
stderr) each line also starts with the syslog priority, `<6>`, so the
journal keeps the level. Messages never carry key identities, typed text or
pointer positions: the daemon only ever logs counts, times, paths and reasons.

Exceptions are the one way foreign text could reach a log line: an error
raised inside an input library (pynput, python-xlib, python-evdev) may carry
a key's character or a position in its message. `describe_exception` is how
every exception is put into words here (the formatter's exc_info, thread
deaths, input backends' failures): its type always, its message only for
kinds whose messages are about files and connections (OSError, X connection
errors), never a traceback. pynput's own loggers are silenced completely
(pynput logs a traceback when a listener callback raises).
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


# Exceptions whose messages say which file, device or connection failed, and
# nothing of the input that flowed through it.
_TALKATIVE = (OSError, EOFError, ImportError)
_XLIB_CONNECTION_ERRORS = ("ConnectionClosedError", "DisplayError", "DisplayNameError", "DisplayConnectionError")


def describe_exception(exc: BaseException, limit: int = 160) -> str:
    """`Type: message` for OS and connection errors, `Type` alone for anything else."""
    name = type(exc).__name__
    talkative = isinstance(exc, _TALKATIVE) or (
        type(exc).__module__.startswith("Xlib") and name in _XLIB_CONNECTION_ERRORS
    )
    if not talkative:
        return name
    text = " ".join(str(exc).split())[:limit]
    return f"{name}: {text}" if text else name


class _Formatter(logging.Formatter):
    def __init__(self, journal: bool) -> None:
        super().__init__()
        self.journal = journal

    def format(self, record: logging.LogRecord) -> str:
        msg = record.getMessage()
        if record.exc_info:
            # Never a traceback's locals; the exception's type and message only.
            exc = record.exc_info[1]
            if exc is not None:
                msg = f"{msg}: {describe_exception(exc)}"
        from .errors import one_line

        # One record, one line: a newline becomes " | ", any other control
        # character (a CR, an escape sequence in a file name) is escaped.
        line = one_line(f"{record.levelname} {msg}".replace("\n", " | "))
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
    # pynput logs tracebacks of callback errors under its own names
    # (pynput.keyboard.Listener, ...); ours never raise, and nothing of
    # pynput's may reach stderr at any level, whatever else configures logging.
    quiet = logging.getLogger("pynput")
    quiet.setLevel(logging.CRITICAL + 1)
    quiet.propagate = False
    if not any(isinstance(h, logging.NullHandler) for h in quiet.handlers):
        quiet.addHandler(logging.NullHandler())
    return logger
