"""Traces: JSON Lines of input events (contracts section 1).

    {"t": 0.00, "kind": "key"}
    {"t": 0.21, "kind": "move", "px": 14}

A trace is read whole and validated before anything runs, so a bad line is an
error naming its line and nothing is half-processed. Blank lines are skipped.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from typing import NamedTuple, TypeGuard

from .errors import TraceError

KINDS = frozenset(("key", "move", "click", "scroll"))


class Event(NamedTuple):
    t: float
    kind: str
    px: float | None = None


def _number(value: object) -> TypeGuard[int | float]:
    """A finite JSON number (booleans are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        return False


def parse_lines(lines: Iterable[str | bytes], source: str = "<trace>") -> Iterator[Event]:
    """Yield the events of a trace, raising TraceError at the first bad line."""
    last = -math.inf
    loads = json.loads
    for n, line in enumerate(lines, 1):
        try:
            obj = loads(line)
        except RecursionError:
            raise TraceError(source, n, "not valid JSON (nested too deeply)") from None
        except ValueError as exc:
            if not line.strip():
                continue
            if isinstance(exc, json.JSONDecodeError):
                msg = exc.msg
            elif isinstance(exc, UnicodeDecodeError):
                msg = "not UTF-8 text"
            else:
                msg = str(exc)
            raise TraceError(source, n, f"not valid JSON ({msg})") from None
        if type(obj) is not dict:
            raise TraceError(source, n, "not a JSON object")
        t = obj.get("t")
        if not _number(t):
            if "t" not in obj:
                raise TraceError(source, n, 'missing "t"')
            raise TraceError(source, n, f'"t" is not a number: {json.dumps(t)}')
        if t < last:
            raise TraceError(source, n, f'time goes backwards: "t" {t} after {last}')
        last = t
        kind = obj.get("kind")
        if not isinstance(kind, str) or kind not in KINDS:
            if "kind" not in obj:
                raise TraceError(source, n, 'missing "kind"')
            if not isinstance(kind, str):
                raise TraceError(source, n, f'"kind" is not a string: {json.dumps(kind)}')
            raise TraceError(
                source, n, f'unknown "kind" {json.dumps(kind)} (expected key, move, click or scroll)'
            )
        px = obj.get("px")
        if px is not None or "px" in obj:
            if not _number(px):
                raise TraceError(source, n, f'"px" is not a number: {json.dumps(px)}')
            if px < 0:
                raise TraceError(source, n, f'"px" is negative: {px}')
        yield Event(float(t), kind, None if px is None else float(px))


def read(path: str) -> list[Event]:
    """Read and validate a whole trace file ('-' for standard input)."""
    import sys

    if path == "-":
        return list(parse_lines(sys.stdin.buffer, "<stdin>"))
    try:
        with open(path, "rb") as fh:
            return list(parse_lines(fh, path))
    except FileNotFoundError:
        raise TraceError(path, None, "no such file") from None
    except IsADirectoryError:
        raise TraceError(path, None, "is a folder, not a trace file") from None
    except PermissionError:
        raise TraceError(path, None, "permission denied") from None
