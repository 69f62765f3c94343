"""The control protocol, with no I/O: lines in, typed requests out; service
results in, reply lines out (docs/control-protocol.md describes it).

Like h11, it only parses and encodes: `LineReader` is told which bytes
arrived and says what they make (a line, a line too long, more data
needed); `parse_request` turns one line into a `Request` or a
`ProtocolError`; `reply_for` turns a service result into the reply object,
`encode` into the reply line. The socket server (server.py) and the client
(client.py) do the reading and writing.

Also the durations people type (`parse_duration`: 30s, 10m, 1h30m, 2d).
"""

from __future__ import annotations

import difflib
import json
import math
import re
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from ..errors import UsageError

if TYPE_CHECKING:
    from ..service import DoneResult, HoldResult, HoldView, ResumeResult, Status

MAX_LINE = 4096  # bytes in one request line, newline excluded
MAX_HOLD_S = 7 * 86400.0
SNOOZE_DEFAULT_S = 600.0
MAX_CUES = 64
COMMANDS = ("status", "pause", "resume", "snooze", "done")
_FIELDS: dict[str, tuple[str, ...]] = {
    "status": (),
    "pause": ("for_s",),
    "resume": (),
    "snooze": ("for_s",),
    "done": ("cues",),
}


# ====================================================================== durations
_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def parse_duration(text: str, what: str = "DURATION") -> float:
    """'30s', '10m', '1h', '1h30m', '2d' -> seconds. UsageError for anything else."""
    t = text.strip().lower()
    m = _DURATION.fullmatch(t)
    if not t or m is None or not any(m.groups()):
        why = "add a unit:" if re.fullmatch(r"\d+(\.\d+)?", t) else "e.g."
        raise UsageError(f"{what}: not a duration: {text!r} ({why} 30s, 10m, 1h, 1h30m)")
    d, h, mi, s = (int(g) if g else 0 for g in m.groups())
    seconds = float(((d * 24 + h) * 60 + mi) * 60 + s)
    if seconds <= 0:
        raise UsageError(f"{what}: must be more than 0: {text!r}")
    if seconds > MAX_HOLD_S:
        raise UsageError(f"{what}: at most 7 days: {text!r}")
    return seconds


# ====================================================================== requests
class ProtocolError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Request:
    cmd: str
    for_s: float | None = None  # pause / snooze
    cues: tuple[str, ...] | None = None  # done


def suggest_cue(cue: str) -> str:
    """' (did you mean hands.wrist_pulse?)' or ''."""
    from ..core.catalog import IDS

    close = difflib.get_close_matches(cue, IDS, n=1, cutoff=0.6)
    if not close:
        short = {i.split(".", 1)[1]: i for i in IDS}
        close = [short[c] for c in difflib.get_close_matches(cue, list(short), n=1, cutoff=0.6)]
    return f" (did you mean {close[0]}?)" if close else ""


def unknown_cue_message(cue: str) -> str:
    return f"unknown cue id {cue!r}{suggest_cue(cue)}; `mmctl cues` lists them"


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def _number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def parse_request(line: bytes) -> Request:
    """One request line (without its newline) -> Request, or ProtocolError."""
    from ..core.catalog import BY_ID

    if len(line) > MAX_LINE:
        raise ProtocolError("too_long", f"message longer than {MAX_LINE} bytes")
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError("bad_request", "not UTF-8 text") from None
    if not text.strip():
        raise ProtocolError("bad_request", "empty message")
    try:
        msg = json.loads(text, parse_constant=_no_constants)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError("bad_request", f"not JSON: {str(exc)[:100]}") from None
    if not isinstance(msg, dict):
        raise ProtocolError("bad_request", "not a JSON object (expected {\"cmd\": ...})")
    cmd = msg.get("cmd")
    if cmd is None:
        raise ProtocolError("bad_request", "no \"cmd\"")
    if not isinstance(cmd, str):
        raise ProtocolError("bad_request", "\"cmd\" is not a string")
    if cmd not in _FIELDS:
        raise ProtocolError("bad_request", f"unknown cmd {cmd[:40]!r} (one of {', '.join(COMMANDS)})")
    allowed = _FIELDS[cmd]
    for k in msg:
        if k != "cmd" and k not in allowed:
            raise ProtocolError("bad_request", f"unknown field {k[:40]!r} for {cmd}")
    for_s: float | None = None
    if "for_s" in msg:
        v = msg["for_s"]
        if v is None and cmd == "pause":
            for_s = None
        elif not _number(v):
            raise ProtocolError("bad_request", "\"for_s\" is not a number of seconds")
        elif not (0 < v <= MAX_HOLD_S):  # ints of any size compare fine
            raise ProtocolError("bad_request", f"\"for_s\" must be more than 0 and at most {MAX_HOLD_S:.0f}")
        else:
            for_s = float(v)
            if not math.isfinite(for_s):
                raise ProtocolError("bad_request", "\"for_s\" is not finite")
    elif cmd == "snooze":
        for_s = SNOOZE_DEFAULT_S
    cues: tuple[str, ...] | None = None
    if "cues" in msg:
        v = msg["cues"]
        if not isinstance(v, list) or not all(isinstance(c, str) for c in v):
            raise ProtocolError("bad_request", "\"cues\" is not a list of cue ids")
        if not v:
            raise ProtocolError("bad_request", "\"cues\" is empty (leave it out to mark the last cue set)")
        if len(v) > MAX_CUES:
            raise ProtocolError("bad_request", f"more than {MAX_CUES} cues")
        for c in v:
            if c not in BY_ID:
                raise ProtocolError("unknown_cue", unknown_cue_message(c[:60]))
        cues = tuple(dict.fromkeys(v))
    return Request(cmd, for_s, cues)


# ====================================================================== framing
@dataclass(frozen=True, slots=True)
class Line:
    data: bytes  # without its newline


@dataclass(frozen=True, slots=True)
class TooLong:
    limit: int


class NeedData:
    """No complete line yet."""


class Closed:
    """The peer closed after its last line."""


NEED_DATA, CLOSED = NeedData(), Closed()
Event = Line | TooLong | NeedData | Closed


class LineReader:
    """Request lines from received bytes: told what arrived, says what it makes.

    A line ends at "\\n"; at the end of the stream a last line without its
    newline counts too. A line (or a line's start) longer than `limit`
    bytes is `TooLong`, after which the connection is to be closed.
    """

    def __init__(self, limit: int = MAX_LINE) -> None:
        self.limit = limit
        self._buf = bytearray()
        self._eof = False
        self._scanned = 0  # bytes of _buf known to hold no newline

    def receive(self, data: bytes) -> None:
        """Bytes from the peer; b"" means the peer closed its side."""
        if not data:
            self._eof = True
        else:
            self._buf += data

    @property
    def pending(self) -> bool:
        """Part of a line has arrived."""
        return bool(self._buf)

    def next_event(self) -> Event:
        buf = self._buf
        nl = buf.find(b"\n", self._scanned)
        if nl < 0:
            self._scanned = len(buf)
            if len(buf) > self.limit:
                return TooLong(self.limit)
            if not self._eof:
                return NEED_DATA
            if not buf:
                return CLOSED
            line = bytes(buf)  # a last message without its newline
            buf.clear()
            self._scanned = 0
            return Line(line)
        line = bytes(buf[:nl])
        del buf[: nl + 1]
        self._scanned = 0
        if len(line) > self.limit:
            return TooLong(self.limit)
        return Line(line)


# ====================================================================== replies
def encode(reply: dict[str, Any]) -> bytes:
    return json.dumps(reply, separators=(",", ":"), allow_nan=False).encode("utf-8") + b"\n"


def error(code: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": message, "code": code}


def hold_json(h: HoldView | None) -> dict[str, Any] | None:
    """The person's hold, as `pause`, `snooze` and `status` show it."""
    if h is None:
        return None
    return {"kind": h.name, "since": h.since, "until": h.until}


def reply_for(result: HoldResult | ResumeResult | DoneResult | Status) -> dict[str, Any]:
    """A service result -> its reply object."""
    kind = type(result).__name__
    if kind == "HoldResult":
        r: Any = result
        return {"ok": True, "hold": hold_json(r.hold), "was": r.was, "due": list(r.due)}
    if kind == "ResumeResult":
        r = result
        if r.was is None:
            return {"ok": True, "was": None}
        return {"ok": True, "was": r.was, "due": list(r.due)}
    if kind == "DoneResult":
        r = result
        return {"ok": True, "marked": [asdict(m) for m in r.marked]}
    if kind == "Status":
        return status_json(result)  # type: ignore[arg-type]
    raise TypeError(f"no reply for {kind}")


def status_json(s: Status) -> dict[str, Any]:
    return {
        "ok": True,
        "running": True,
        "pid": s.pid,
        "version": s.version,
        "since": s.since,
        "now": s.now,
        "backend": s.backend,
        "input_quality": s.input_quality,
        "config": s.config,
        "db": s.db,
        "socket": s.socket,
        "idle_s": s.idle_s,
        "stretches": {k: (None if v is None else asdict(v)) for k, v in s.stretches.items()},
        "due": [asdict(d) for d in s.due],
        "next_pause": s.next_pause,
        "upcoming": [asdict(u) for u in s.upcoming],
        "hold": hold_json(s.hold),
        "holds": [asdict(h) for h in s.holds],
        "progression": {**asdict(s.progression), "regions": list(s.progression.regions)},
        "last_set": None if s.last_set is None else {
            **asdict(s.last_set), "cues": list(s.last_set.cues), "done": list(s.last_set.done)
        },
        "checkin_reminder": {"enabled": s.reminder_enabled, "next": s.reminder_next},
        "settings": dict(s.settings),
    }
