"""The XInput2 raw-event backend (adapters/inputs/xi2.py).

Decoding is tested on byte strings laid out as the X server sends them
(the XI2 protocol's raw event: a 32-byte header, the valuator mask, then two
FP32.32 values per set bit); the source itself runs for real on Xvfb with
xdotool's XTEST input: exact key, click, scroll-step and move counts, times
on the daemon's clock, a dead X server noticed at once, and `mmctl run`
choosing it by default and falling back to pynput without XInput.
"""

from __future__ import annotations

import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from _faults import LiveDaemon, counts, db_path, write_config
from desktop import Xvfb, desktop_env, need, xdotool, xvfb_fixture  # noqa: F401
from micromove.adapters.inputs import select
from micromove.adapters.inputs.tap import Tap
from micromove.adapters.inputs.xi2 import (
    RAW_BUTTON_PRESS,
    RAW_KEY_PRESS,
    RAW_MOTION,
    WRAP,
    TimeMap,
    XI2Source,
    decode,
)

E = "<" if sys.byteorder == "little" else ">"


def raw(evtype: int, ms: int, detail: int = 0, axes: tuple[int, ...] = (), key_secret: int = 0) -> bytes:
    """One XI2 raw event as the server sends it (machine byte order)."""
    mask = 0
    for a in axes:
        mask |= 1 << a
    words = [mask] if axes else []
    body = b"".join(struct.pack(E + "I", w) for w in words)
    body += b"".join(struct.pack(E + "iIiI", 1234, 0, 1234, 0) for _ in axes)  # valuator, raw valuator
    head = struct.pack(
        E + "BBHIHHIIHHII",
        35, 131, 0, len(body) // 4, evtype, 2, ms, detail or key_secret, 4, len(words), 0, 0,
    )  # fmt: skip
    assert len(head) == 32
    return head + body


class FixedClock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def drained(buf: bytes, now: float = 100.0, tmap: TimeMap | None = None) -> tuple[list[tuple[float, str, float, int]], bytes, Tap]:
    tap = Tap(FixedClock(now))
    rest, _replies = decode(buf, tap, tmap or TimeMap(), tap.coalesce_s)
    return tap.drain(), rest, tap


def test_decodes_kinds_from_headers_and_masks_only() -> None:
    buf = b"".join([
        raw(RAW_KEY_PRESS, 1000, key_secret=38),
        raw(RAW_KEY_PRESS, 1001, key_secret=39),
        raw(RAW_BUTTON_PRESS, 1300, detail=1),
        raw(RAW_BUTTON_PRESS, 1301, detail=3),
        raw(RAW_BUTTON_PRESS, 1600, detail=4),
        raw(RAW_BUTTON_PRESS, 1601, detail=5),
        raw(RAW_BUTTON_PRESS, 1602, detail=6),
        raw(RAW_BUTTON_PRESS, 1603, detail=7),
        raw(RAW_MOTION, 1900, axes=(0, 1)),
        raw(RAW_MOTION, 1901, axes=(1,)),
        raw(RAW_MOTION, 1902, axes=(2, 3)),  # smooth scrolling axes alone: not a move
        raw(RAW_MOTION, 1903),  # nothing in the mask
        raw(16, 1904, detail=1),  # RawButtonRelease: not counted
        raw(14, 1905),  # RawKeyRelease
        bytes([2]) + bytes(31),  # a core KeyPress (32 bytes, not a generic event): skipped
    ])  # fmt: skip
    events, rest, tap = drained(buf)
    assert rest == b""
    assert [(k, n) for _t, k, _px, n in events] == [("key", 2), ("click", 2), ("scroll", 4), ("move", 2)]
    assert all(px == 0.0 for _t, _k, px, _n in events)  # no distance from xi2
    assert tap.totals == {"key": 2, "click": 2, "scroll": 4, "move": 2}


def test_an_event_split_between_reads_waits_for_its_rest() -> None:
    whole = raw(RAW_KEY_PRESS, 10) + raw(RAW_MOTION, 20, axes=(0, 1))
    tmap = TimeMap()
    tap = Tap(FixedClock(5.0))
    rest, _n = decode(whole[:50], tap, tmap, 0.2)
    assert rest == whole[32:50] and tap.totals["key"] == 1 and tap.totals["move"] == 0
    rest, _n = decode(rest + whole[50:], tap, tmap, 0.2)
    assert rest == b"" and tap.totals["move"] == 1


def test_server_times_map_onto_the_daemon_clock_keeping_their_spacing() -> None:
    tmap = TimeMap()
    # Keys 1 s apart by the server's clock, read at engine time 100.
    events, _rest, _tap = drained(raw(RAW_KEY_PRESS, 5000) + raw(RAW_KEY_PRESS, 6000), 100.0, tmap)
    assert [round(t, 3) for t, *_ in events] == [99.0, 100.0]
    # A later batch read 0.3 s after its event happened keeps the earlier anchor.
    events, _rest, _tap = drained(raw(RAW_KEY_PRESS, 9000), 103.3, tmap)
    assert [round(t, 3) for t, *_ in events] == [103.0]
    # Read sooner than ever (less latency): the anchor moves to the better estimate,
    # and no event is ever after its read.
    events, _rest, _tap = drained(raw(RAW_KEY_PRESS, 10000), 103.9, tmap)
    assert [round(t, 3) for t, *_ in events] == [103.9]
    # A read far later than the anchor allows (the machine slept, the X server's
    # clock stood still): re-anchored, not an event minutes in the past.
    events, _rest, _tap = drained(raw(RAW_KEY_PRESS, 10500), 400.0, tmap)
    assert [round(t, 3) for t, *_ in events] == [400.0]


def test_server_time_wraps_after_49_days() -> None:
    tmap = TimeMap()
    events, _r, _t = drained(raw(RAW_KEY_PRESS, WRAP - 500), 50.0, tmap)
    events, _r, _t = drained(raw(RAW_KEY_PRESS, 500), 51.0, tmap)
    assert [round(t, 3) for t, *_ in events] == [51.0]
    assert tmap.unwrap(600) == pytest.approx((WRAP + 600) / 1000)


def test_runs_of_one_kind_are_coalesced_with_exact_counts() -> None:
    moves = b"".join(raw(RAW_MOTION, 1000 + i * 10, axes=(0, 1)) for i in range(100))  # 1 s of moves
    events, _r, tap = drained(moves, 10.0)
    assert sum(n for *_x, n in events) == 100 == tap.totals["move"]
    assert 4 <= len(events) <= 6  # one tap entry per 0.2 s, not per report
    # Each entry is reported at its latest event and spans less than 0.2 s, as
    # when events are stamped one by one: the first is at most 0.2 s after the
    # first report, and none is more than 0.2 s (and one report) after the one before.
    times = [t for t, *_ in events]
    first = times[0] - (times[-1] - 0.99)  # the first report's mapped time is the last's - 0.99 s
    assert 0 <= first < 0.2
    assert all(0 < b - a <= 0.21 + 1e-9 for a, b in zip(times, times[1:], strict=False)), times


# ------------------------------------------------------------------ for real, on Xvfb
def wait_totals(tap: Tap, want: dict[str, int], timeout: float = 10.0) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and tap.totals != want:
        time.sleep(0.05)
    return dict(tap.totals)


@pytest.mark.desktop
def test_counts_every_key_click_scroll_step_and_move_on_a_real_x_server(xvfb: str) -> None:
    from micromove.adapters.clock import SystemClock

    clock = SystemClock()
    tap = Tap(clock.now)
    src = XI2Source(xvfb)
    assert src.probe() is None
    src.start(tap)
    try:
        t0 = clock.now()
        xdotool(xvfb, "type", "--delay", 2, "--", "the quick brown fox 123")  # 23 presses
        xdotool(xvfb, "click", "--repeat", 5, "--delay", 5, 1)
        xdotool(xvfb, "click", "--repeat", 2, "--delay", 5, 3)
        xdotool(xvfb, "click", "--repeat", 3, "--delay", 5, 4)
        xdotool(xvfb, "click", "--repeat", 4, "--delay", 5, 5)
        xdotool(xvfb, *[a for i in range(200) for a in ("mousemove_relative", "--", 4 - 8 * (i % 2), 4)])
        xdotool(xvfb, "mousemove", 17, 23)  # a warp: a program moving the pointer, not input
        want = {"key": 23, "click": 7, "scroll": 7, "move": 200}
        assert wait_totals(tap, want) == want
        assert src.alive() and src.failure() is None
        t1 = clock.now()
        events = tap.drain()
        assert all(t0 - 0.1 <= t <= t1 for t, *_ in events), (t0, t1, events[:3])
        assert [t for t, *_ in events] == sorted(t for t, *_ in events)
        assert src.reads < 23 + 7 + 7 + 200  # read in batches
        # Stopped right after input: what the server made before the stop is handed over.
        xdotool(xvfb, "type", "--delay", 1, "--", "abcdefghijklmnopqrst")
    finally:
        src.stop()
    assert not src.alive()
    assert tap.totals == {**want, "key": 43}


@pytest.mark.desktop
def test_the_x_server_going_away_is_noticed_at_once_with_the_reason() -> None:
    x = Xvfb()
    display = x.start()
    pokes: list[bool] = []  # alive() as the loop woken by each poke sees it
    src = XI2Source(display)
    tap = Tap(time.monotonic, lambda: pokes.append(src.alive()))
    try:
        src.start(tap)
        xdotool(display, "key", "a")
        assert wait_totals(tap, {"key": 1, "move": 0, "click": 0, "scroll": 0}) ["key"] == 1
        tap.drain()
        pokes.clear()
    finally:
        x.stop()
    deadline = time.monotonic() + 10
    while src.alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not src.alive() and pokes, "the reader did not notice"
    assert pokes[-1] is False, "the pass woken by the reader's end still saw it alive"
    assert "the X server closed the connection" in (src.failure() or "")
    src.stop()


@pytest.mark.desktop
def test_auto_uses_xinput2_when_there_and_falls_back_to_pynput(xvfb: str, tmp_path: Path) -> None:
    # (Xvfb cannot be started without XInput: it is built into every X server
    # today. A display that does not answer is what makes the probe fail here.)
    assert select("auto", env={"DISPLAY": xvfb}, platform="linux").name == "x11 via XInput2"
    assert select("xi2", env={"DISPLAY": xvfb}, platform="linux").name == "x11 via XInput2"
    assert select("x11", env={"DISPLAY": xvfb}, platform="linux").name == "x11 via pynput"
    assert select("pynput", env={"DISPLAY": xvfb}, platform="linux").name == "x11 via pynput"
    free = ":987"
    assert "cannot open the X display" in (XI2Source(free).probe() or "")
    assert select("auto", env={"DISPLAY": free}, platform="linux").name == "x11 via pynput"
    # Forced, it says what is wrong and what to do, in one line.
    write_config(tmp_path, "input: {backend: xi2}\n")
    p = subprocess.run(
        [sys.executable, "-m", "micromove", "run"], env=desktop_env(free, None, tmp_path),
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert p.returncode == 1, p.stderr
    (line,) = [x for x in p.stderr.splitlines() if x.startswith("ERROR")]
    assert "cannot watch input: cannot open the X display" in line and "DISPLAY" in line, line
    assert "Traceback" not in p.stderr


@pytest.mark.desktop
def test_mmctl_run_picks_xinput2_by_default_and_counts_exactly(xvfb: str, tmp_path: Path) -> None:
    need("xdotool")
    env = desktop_env(xvfb, None, tmp_path)
    with LiveDaemon(env) as daemon:
        daemon.started()
        xdotool(xvfb, "type", "--delay", 3, "--", "abcdefghij" * 5)
        xdotool(xvfb, "click", "--repeat", 3, "--delay", 5, 2)
        xdotool(xvfb, "click", "--repeat", 6, "--delay", 5, 5)
        xdotool(xvfb, *[a for i in range(40) for a in ("mousemove_relative", "--", 0, 5 - 10 * (i % 2))])
        time.sleep(0.3)
        assert daemon.stop() == 0, daemon.stderr
    assert "input backend: x11 via XInput2 (input.backend: auto)" in daemon.stderr
    assert counts(db_path(tmp_path)) == {"keys": 50, "clicks": 3, "scrolls": 6, "moves": 40}


@pytest.mark.desktop
def test_an_x_server_that_wants_a_cookie_gets_the_one_in_xauthority(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import secrets

    cookie = secrets.token_bytes(16)
    auth = tmp_path / "Xauthority"

    def entry(family: int, number: bytes) -> bytes:
        fields = [b"", number, b"MIT-MAGIC-COOKIE-1", cookie]
        return struct.pack(">H", family) + b"".join(struct.pack(">H", len(f)) + f for f in fields)

    auth.write_bytes(entry(0xFFFF, b""))  # FamilyWild, any display: what Xvfb -auth reads too
    os.chmod(auth, 0o600)
    monkeypatch.setenv("XAUTHORITY", str(auth))  # for the harness's own check that Xvfb answers
    with Xvfb(extra=("-auth", str(auth))) as display:
        monkeypatch.setenv("XAUTHORITY", str(tmp_path / "none"))
        refused = XI2Source(display).probe() or ""
        assert "refused the connection" in refused, refused
        monkeypatch.setenv("XAUTHORITY", str(auth))
        assert XI2Source(display).probe() is None
        tap = Tap(time.monotonic)
        src = XI2Source(display)
        src.start(tap)
        try:
            subprocess.run(["xdotool", "key", "a", "b"], env={**os.environ, "DISPLAY": display, "XAUTHORITY": str(auth)},
                           check=True, timeout=30)  # fmt: skip
            assert wait_totals(tap, {"key": 2, "move": 0, "click": 0, "scroll": 0})["key"] == 2
        finally:
            src.stop()
