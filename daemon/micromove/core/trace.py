"""Traces: JSON Lines of input events and the person's answers (docs/trace-format.md).

    {"t": 0.00, "kind": "key"}
    {"t": 0.21, "kind": "move", "px": 14}
    {"t": 1260.5, "kind": "done"}          Done pressed on the latest cue set before t
    {"t": 1900.0, "kind": "dismiss"}       that set's notification dismissed

Answers are not input: they feed no stretch and end no pause (and carry no
"px").

A trace is read whole and validated before anything runs, so a bad line is an
error naming its line and nothing is half-processed. Blank lines are skipped.
"""

from __future__ import annotations

import json
import json.scanner
import math
from collections.abc import Iterable, Iterator
from typing import NamedTuple, TypeGuard

from ..errors import TraceError

KINDS = frozenset(("key", "move", "click", "scroll"))
ANSWERS = frozenset(("done", "dismiss"))


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
    """Yield the events of a trace, raising TraceError at the first bad line.

    Lines are UTF-8 (a byte-order mark before the first line is allowed).
    The common case, a finite float time, is checked inline: parsing is most
    of what `mmctl simulate` costs.
    """
    last = -math.inf
    decoder = json.JSONDecoder()
    decode = decoder.decode  # str in; json.loads(bytes) would sniff each line's encoding
    # The common line, an object from its first character to the newline, goes
    # to the decoder's scanner directly; anything else (leading blanks, a blank
    # line, trailing text, an error) through decode, which says what is wrong.
    scan = json.scanner.make_scanner(decoder)  # type: ignore[arg-type]  # (typeshed names the wrong type)
    kinds = KINDS
    answers = ANSWERS
    for n, raw in enumerate(lines, 1):
        try:
            line = raw if isinstance(raw, str) else raw.decode("utf-8")
            if n == 1 and line.startswith("\ufeff"):
                line = line[1:]
            try:
                obj, end = scan(line, 0)
            except StopIteration:
                obj = decode(line)
            else:
                if end != len(line) and line[end:].strip(" \t\n\r"):  # JSON's blanks only
                    obj = decode(line)
        except RecursionError:
            raise TraceError(source, n, "not valid JSON (nested too deeply)") from None
        except ValueError as exc:
            if not raw.strip():
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
        # x - x == 0.0 exactly when a float is finite (inf - inf and nan are nan).
        if not (type(t) is float and t - t == 0.0) and not _number(t):
            if "t" not in obj:
                raise TraceError(source, n, 'missing "t"')
            raise TraceError(source, n, f'"t" is not a number: {json.dumps(t)}')
        if t < last:
            raise TraceError(source, n, f'time goes backwards: "t" {t} after {last}')
        last = t
        kind = obj.get("kind")
        if type(kind) is not str or kind not in kinds:
            if type(kind) is str and kind in answers:
                if "px" in obj:
                    raise TraceError(source, n, f'"px" goes with input events, not with "{kind}"')
                yield Event(float(t), kind, None)
                continue
            if "kind" not in obj:
                raise TraceError(source, n, 'missing "kind"')
            if not isinstance(kind, str):
                raise TraceError(source, n, f'"kind" is not a string: {json.dumps(kind)}')
            raise TraceError(
                source, n, f'unknown "kind" {json.dumps(kind)} (expected key, move, click, scroll, done or dismiss)'
            )
        px = obj.get("px")
        if px is None:
            if "px" in obj:
                raise TraceError(source, n, f'"px" is not a number: {json.dumps(px)}')
            yield Event(float(t), kind, None)
            continue
        if not (type(px) is float and px - px == 0.0) and not _number(px):
            raise TraceError(source, n, f'"px" is not a number: {json.dumps(px)}')
        if px < 0:
            raise TraceError(source, n, f'"px" is negative: {px}')
        yield Event(float(t), kind, float(px))


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
