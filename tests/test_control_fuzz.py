"""Fuzzing the control socket of ONE live daemon (issue 8 item 6).

Hypothesis generates messages — random bytes, random text, broken JSON, JSON of
every shape, requests with wrong types, unknown commands and fields, unknown cue
ids, and well-formed requests — and pipelines them, many per connection, to a
real `mmctl run` on a real desktop. Every line gets exactly one reply, in order;
every malformed one is answered with an error; oversized lines are cut off
(error reply, then the connection closes); silent and half-sent connections
time out; connections beyond the limit are turned away. Afterwards the daemon
still answers, still counts input, and logged no traceback.

The oracle `well_formed` below is the protocol as docs/control-protocol.md writes
it, restated independently.
"""

from __future__ import annotations

import contextlib
import json
import math
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from desktop import (  # noqa: F401
    Desktop,
    desktop_fixture,
    notify_server_fixture,
    session_bus_fixture,
    xvfb_fixture,
)
from micromove.core import catalog
from test_control import Live

MAX_LINE = 4096
COMMANDS = ("status", "pause", "resume", "snooze", "done")
FIELDS = {"status": set(), "pause": {"for_s"}, "resume": set(), "snooze": {"for_s"}, "done": {"cues"}}
MALFORMED_CODES = {"bad_request", "unknown_cue"}
TARGET = 10_000


# ====================================================================== the oracle
def _num(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


def well_formed(line: bytes) -> bool:
    """Whether `line` (no newline) is a valid request by the protocol's text."""
    if len(line) > MAX_LINE:
        return False
    try:
        msg = json.loads(line.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return False
    if not isinstance(msg, dict) or not isinstance(msg.get("cmd"), str) or msg["cmd"] not in COMMANDS:
        return False
    cmd = msg["cmd"]
    if set(msg) - {"cmd"} - FIELDS[cmd]:
        return False
    if "for_s" in msg:
        v = msg["for_s"]
        null_pause = v is None and cmd == "pause"
        if not null_pause and (not _num(v) or not (0 < v <= 7 * 86400) or (isinstance(v, float) and not math.isfinite(v))):
            return False
    if "cues" in msg:
        v = msg["cues"]
        if not isinstance(v, list) or not v or len(v) > 64:
            return False
        if not all(isinstance(c, str) and c in catalog.BY_ID for c in v):
            return False
    return True


# ====================================================================== strategies
def _no_newline(b: bytes) -> bytes:
    return b.replace(b"\n", b" ")


json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(list(COMMANDS) + list(catalog.IDS[:4]) + ["", "Status", "cmd", "for_s", "cues"])
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
field_value = (
    json_value
    | st.integers(min_value=-5, max_value=8 * 86400)
    | st.floats(min_value=-10, max_value=1e7)
    | st.lists(st.sampled_from(catalog.IDS) | st.text(max_size=20), max_size=70)
)
cmd_value = st.sampled_from(COMMANDS) | st.sampled_from(["Status", "status ", "", "reboot", "__init__"]) | json_value


@st.composite
def request_like(draw: st.DrawFn) -> bytes:
    msg: dict[str, Any] = {"cmd": draw(cmd_value)}
    for key in draw(st.lists(st.sampled_from(["for_s", "cues", "extra", "CMD", "for"]), max_size=2, unique=True)):
        msg[key] = draw(field_value)
    if draw(st.integers(0, 9)) == 0:
        msg.pop("cmd", None)
    return json.dumps(msg).encode()


valid_request = st.one_of(
    st.just({"cmd": "status"}),
    st.builds(lambda s: {"cmd": "snooze", "for_s": s}, st.integers(1, 3600)),
    st.just({"cmd": "snooze"}),
    st.builds(lambda s: {"cmd": "pause", "for_s": s}, st.floats(0.5, 7200) | st.none()),
    st.just({"cmd": "pause"}),
    st.just({"cmd": "resume"}),
    st.just({"cmd": "done"}),
    st.builds(lambda c: {"cmd": "done", "cues": c}, st.lists(st.sampled_from(catalog.IDS), min_size=1, max_size=3)),
).map(lambda m: json.dumps(m).encode())


@st.composite
def broken(draw: st.DrawFn) -> bytes:
    """A valid-looking request, truncated or with a byte changed."""
    raw = draw(valid_request | request_like())
    if not raw:
        return raw
    i = draw(st.integers(0, len(raw) - 1))
    if draw(st.booleans()):
        return raw[:i]
    return raw[:i] + bytes([draw(st.integers(0, 255))]) + raw[i + 1 :]


message = st.one_of(
    st.binary(max_size=300),
    st.binary(max_size=40),
    st.text(max_size=200).map(lambda s: s.encode("utf-8", "surrogatepass")),
    json_value.map(lambda v: json.dumps(v).encode()),
    request_like(),
    broken(),
    broken(),
    st.sampled_from([b"", b" ", b"\r", b"{}", b"[]", b"null", b'{"cmd":"status"}\r', b"[" * 1500 + b"]" * 1500]),
).map(_no_newline)


# ====================================================================== a connection
class Conn:
    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(20)
        self.sock.connect(path)
        self.buf = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def line(self) -> bytes | None:
        while b"\n" not in self.buf:
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                return None
            self.buf += chunk
        out, _, self.buf = self.buf.partition(b"\n")
        return out

    def closed(self) -> bool:
        """True when the server has closed its end (EOF or reset, nothing more to read)."""
        return self.line() is None

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(name="live", scope="function")
def live_fixture(desktop: Desktop) -> Iterator[Live]:
    lv = Live(desktop).start()
    try:
        yield lv
    finally:
        if lv.proc is not None:
            assert lv.stop() == 0, lv.log
        assert not any("Traceback" in line for line in lv.log), lv.log
        assert not any("connection ended by" in line for line in lv.log), lv.log


@pytest.mark.slow
def test_fuzzed_messages_never_hurt_the_daemon(live: Live) -> None:
    path = str(live.socket)
    keys_before = live.status()["today"]["keys"]
    counts = {"messages": 0, "malformed": 0, "ok": 0, "oversized": 0}
    conn: list[Conn] = [Conn(path)]

    def exchange(batch: list[bytes]) -> None:
        c = conn[0]
        c.send(b"".join(m + b"\n" for m in batch))
        for m in batch:
            raw = c.line()
            assert raw is not None, ("no reply to", m[:200])
            reply = json.loads(raw)
            counts["messages"] += 1
            if well_formed(m):
                counts["ok"] += 1
                assert reply["ok"] is True or reply.get("code") == "nothing", (m[:200], reply)
            else:
                counts["malformed"] += 1
                assert reply["ok"] is False, (m[:200], reply)
                assert reply["code"] in MALFORMED_CODES, (m[:200], reply)
                assert isinstance(reply["error"], str) and reply["error"] and "\n" not in reply["error"]

    # No shrinking: each step would talk to the live daemon (a failure names its message).
    quick = {"deadline": None, "database": None, "derandomize": True,
             "suppress_health_check": list(HealthCheck), "phases": [Phase.explicit, Phase.generate]}

    @settings(max_examples=130, **quick)
    @given(
        st.lists(message, min_size=75, max_size=90),
        st.lists(valid_request, min_size=1, max_size=10),
        st.randoms(use_true_random=False),
    )
    def pipelined(batch: list[bytes], valid: list[bytes], rnd: Any) -> None:
        for v in valid:  # well-formed requests mixed in among the rest
            batch.insert(rnd.randrange(len(batch) + 1), v)
        exchange(batch)

    pipelined()

    @settings(max_examples=25, **quick)
    @given(st.integers(MAX_LINE + 1, 300_000), st.booleans(), st.lists(message, max_size=3))
    def oversized(size: int, newline: bool, before: list[bytes]) -> None:
        c = Conn(path)
        try:
            if before:
                c.send(b"".join(m + b"\n" for m in before))
                for _ in before:
                    assert c.line() is not None
            big = b'{"cmd": "status", "pad": "' + b"x" * size + b'"}'
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                c.send(big + (b"\n" if newline else b""))  # may be cut off while sending
            reply = json.loads(c.line() or b"null")
            assert reply == {"ok": False, "error": reply["error"], "code": "too_long"}
            assert c.closed()
            counts["messages"] += 1 + len(before)
            counts["oversized"] += 1
        finally:
            c.close()

    oversized()
    conn[0].close()
    assert counts["messages"] >= TARGET, counts
    assert counts["malformed"] > TARGET * 0.7 and counts["ok"] > 500 and counts["oversized"] == 25, counts

    # The daemon is fine: it answers, it still counts input, it is not left paused.
    assert live.proc is not None and live.proc.poll() is None
    live.mm("resume")
    live.type(0.5)
    st_ = live.wait_status(lambda s: s["today"]["keys"] > keys_before)
    assert st_["today"]["keys"] > keys_before and st_["hold"] is None
    print(f"\nfuzz: {counts}")


def test_silent_half_sent_and_surplus_connections(live: Live) -> None:
    path = str(live.socket)
    # A half-sent message times out with an error; a silent connection is just closed.
    half = Conn(path)
    half.send(b'{"cmd": "sta')
    silent = Conn(path)
    t0 = time.monotonic()
    reply = json.loads(half.line() or b"null")
    assert reply["ok"] is False and reply["code"] == "timeout"
    assert half.closed() and silent.closed()
    assert time.monotonic() - t0 < 10  # closed by the read time-out, not by us
    half.close()
    silent.close()
    # At most 8 connections at once: the 9th is turned away with an error line.
    held = [Conn(path) for _ in range(8)]
    try:
        for c in held:  # each one is served (so each holds a slot)
            c.send(b'{"cmd": "status"}\n')
            assert json.loads(c.line() or b"null")["ok"] is True
        extra = Conn(path)
        reply = json.loads(extra.line() or b"null")
        assert reply["ok"] is False and reply["code"] == "busy"
        extra.close()
    finally:
        for c in held:
            c.close()
    # The slots come back: a new connection is served again.
    deadline = time.monotonic() + 10
    while True:
        c = Conn(path)
        c.send(b'{"cmd": "status"}\n')
        reply = json.loads(c.line() or b"null")
        c.close()
        if reply["ok"] or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert reply["ok"] is True and reply["running"] is True
    # A last message without a newline, then end of input: still answered.
    c = Conn(path)
    c.send(b'{"cmd": "status"}')
    c.sock.shutdown(socket.SHUT_WR)
    assert json.loads(c.line() or b"null")["ok"] is True
    assert c.closed()
    c.close()
