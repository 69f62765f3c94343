"""X11 input from XInput2 raw events, read off the X connection in batches.

The X server is asked once (over this module's own connection, xconn.py:
no python-xlib) for XI_RawKeyPress, XI_RawButtonPress and XI_RawMotion on
the root window for all master devices: what every keyboard and pointer
does, whichever window has the focus. From then on no request is made: one
reader thread waits for the connection's socket, lets a burst gather for
`batch_s`, reads everything there is, and walks the 32-byte event headers
(a generic event is 32 + 4 * length bytes). It decodes only:

- the event type (key press, button press, motion);
- the server time in the header (milliseconds, 32 bits), mapped onto the
  daemon's clock (`TimeMap`), so an event keeps the time it happened at,
  however late the batch is read;
- for a button press, the button number: 4 to 7 are scroll steps (up, down,
  left, right), the others clicks;
- for motion, the valuator mask only: a report that moves axis 0 or 1 (the
  pointer's x and y) is one move; a report of scroll axes alone is not.

The key code (the `detail` of a key event) and the valuator values are never
read: raw valuators are device units (unaccelerated mouse counts), and for
absolute devices (tablets, touch screens, a virtual machine's pointer, XTEST
absolute motion) they are positions. So this backend counts moves as motion
reports and keeps no distance (docs/schema.md). Key releases, button
releases and pointer warps (a program moving the pointer) are not input.

Reading every `batch_s` (0.2 s) instead of at each event is what makes this
cheap: a burst costs one wake-up. An event reaches the engine at most that
late, with its own time (the daemon moves a time its loop has already passed
up to that moment, so by at most as much); the engine's decisions (a natural
pause is 3 s without input) are that much less prompt at worst, and `mmctl
status` that much behind.

Supervision: when the X server closes the connection (it went away, or
killed this client) or the reader fails, the thread records why and pokes
the tap, so the main loop notices at once and the daemon exits 1.
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
import time
from typing import Any

from ...logsetup import describe_exception
from .base import InputError, ReaderSource
from .tap import Tap

GENERIC_EVENT = 35
RAW_KEY_PRESS, RAW_BUTTON_PRESS, RAW_MOTION = 13, 15, 17
SCROLL_BUTTONS = (4, 5, 6, 7)
BATCH_S = 0.2  # how long a burst may gather before one read
LAST_READ_S = 1.0  # at stop, the longest wait for the X server's last events
RESYNC_S = 1.0  # a read this much later than the best seen re-anchors the time map
WRAP = 1 << 32  # X server time is a 32-bit count of milliseconds


class TimeMap:
    """X server milliseconds -> engine time.

    Events are read after they happen, so `read_time - server_time` is at
    least the true offset between the clocks; the smallest value seen is the
    best estimate. It is re-anchored when a read comes `RESYNC_S` later than
    that (the clocks drifted, the machine was suspended: the X server's clock
    may stop while ours runs on). A mapped time is never after the read.
    """

    __slots__ = ("_offset", "_last_ms", "_wraps")

    def __init__(self) -> None:
        self._offset: float | None = None
        self._last_ms = -1
        self._wraps = 0

    def unwrap(self, ms: int) -> float:
        """Server milliseconds (32 bits, in arrival order) -> seconds, never wrapping."""
        if self._last_ms >= 0 and ms < self._last_ms - WRAP // 2:
            self._wraps += 1
        self._last_ms = ms
        return (ms + self._wraps * WRAP) / 1000.0

    def anchor(self, read_t: float, latest_s: float) -> float:
        """The offset to add to unwrapped server seconds, given a read at `read_t`
        whose latest event is at `latest_s`."""
        cand = read_t - latest_s
        off = self._offset
        if off is None or cand < off or cand - off > RESYNC_S:
            self._offset = off = cand
        return off


def _open(display: str | None) -> Any:
    from .xconn import XError, connect

    try:
        return connect(display if display is not None else os.environ.get("DISPLAY", ""))
    except XError as exc:
        raise InputError(
            f"cannot open the X display ({exc}); check that DISPLAY names a running X server you may use"
        ) from None


def _xi2(conn: Any) -> tuple[int, int] | None:
    """(XInput opcode, version as major * 100 + minor), or None without XInput."""
    from .xconn import xi_version

    return xi_version(conn)


class XI2Source(ReaderSource):
    name = "x11 via XInput2"
    ended = "the XInput2 reader ended"

    def __init__(self, display: str | None = None, batch_s: float = BATCH_S) -> None:
        super().__init__()
        self.display = display
        self.batch_s = batch_s
        self._d: Any = None
        self._sock: Any = None
        self._buf = b""
        self._tmap = TimeMap()
        self.reads = 0  # batches read (tests, benchmarks)

    # ------------------------------------------------------------ probing
    def probe(self) -> str | None:
        """None when the X server offers XInput 2.0 or later; else why not, in words."""
        try:
            d = _open(self.display)
        except InputError as exc:
            return str(exc)
        try:
            found = _xi2(d)
        except Exception as exc:  # noqa: BLE001
            return f"cannot ask the X server for XInput: {describe_exception(exc)}"
        finally:
            d.close()
        if found is None:
            return "the X server has no XInput extension"
        if found[1] < 200:
            return f"the X server offers XInput {found[1] // 100}.{found[1] % 100}, not 2.0 or later"
        return None

    # ------------------------------------------------------------ lifecycle
    def start(self, tap: Tap) -> None:
        self._tap = tap
        from .xconn import xi_select_raw

        d = _open(self.display)
        try:
            found = _xi2(d)
            if found is None or found[1] < 200:
                raise InputError(
                    "the X server does not offer XInput 2.0 or later; set input.backend: pynput "
                    "(or auto) to watch input through the RECORD extension instead"
                )
            xi_select_raw(d, found[0], (RAW_KEY_PRESS, RAW_BUTTON_PRESS, RAW_MOTION))
        except InputError:
            d.close()
            raise
        except Exception as exc:  # noqa: BLE001
            d.close()
            raise InputError(f"cannot select XInput2 raw events: {describe_exception(exc)}") from None
        # From here on only raw reads of the socket (and one round trip at stop).
        self._d = d
        self._sock = d.sock
        self._sock.setblocking(False)
        self._start_reader(self._read_loop, "micromove-xi2")

    def _read_all(self) -> bool:
        """Append what the socket holds to the buffer; False when the server closed it."""
        recv = self._sock.recv
        chunks = [self._buf]
        alive = True
        while True:
            try:
                data = recv(1 << 16)
            except BlockingIOError:
                break
            except InterruptedError:
                continue
            if not data:
                alive = False
                break
            chunks.append(data)
        self._buf = b"".join(chunks)
        return alive

    def _read_loop(self) -> None:
        assert self._tap is not None
        tap = self._tap
        sock, stop_r = self._sock, self._stop_r
        tmap = self._tmap
        why = "the reader stopped"
        try:
            while True:
                ready, _, _ = select.select([sock, stop_r], [], [])
                if stop_r not in ready and self.batch_s > 0:  # let a burst gather: one read per batch
                    ready, _, _ = select.select([stop_r], [], [], self.batch_s)
                if stop_r in ready:
                    self._last_events(tap)
                    return
                alive = self._read_all()
                self.reads += 1
                self._buf, _replies = decode(self._buf, tap, tmap, tap.coalesce_s)
                if not alive:
                    why = "the X server closed the connection (it went away, or dropped this client)"
                    return
        except BaseException as exc:  # noqa: BLE001
            why = describe_exception(exc)
        finally:
            self._died(why)

    def _last_events(self, tap: Tap) -> None:
        """At stop: hand over every event the X server made before now.

        One GetInputFocus request (a round trip, as XSync does): the server
        sends every event it generated before handling the request ahead of
        the reply, so once the reply is in, nothing that happened is left.
        """
        try:
            self._sock.sendall(bytes([43, 0]) + (1).to_bytes(2, _ORDER))  # GetInputFocus, 1 word
        except OSError:
            return
        deadline = time.monotonic() + LAST_READ_S
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self._sock], [], [], left)
            if not ready:
                return
            alive = self._read_all()
            self._buf, replies = decode(self._buf, tap, self._tmap, tap.coalesce_s)
            if replies or not alive:
                return

    def _close(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(Exception):
                self._sock.close()


_ORDER = sys.byteorder  # the connection speaks the machine's byte order (xconn.py)
_KIND_OF_TYPE = {RAW_KEY_PRESS: "key", RAW_BUTTON_PRESS: "click", RAW_MOTION: "move"}


def decode(buf: bytes, tap: Tap, tmap: TimeMap, coalesce_s: float) -> tuple[bytes, int]:
    """Hand the whole events in `buf` to the tap; return the incomplete rest and
    how many replies (to our one request at stop) went by.

    Runs of one kind closer than `coalesce_s` (from the run's first) go to the
    tap as one call carrying their number and first and latest times (the tap
    reports a run at its latest, as it does for events stamped one by one).
    """
    frombytes = int.from_bytes
    order = _ORDER
    kinds = _KIND_OF_TYPE
    low = 0 if order == "little" else 3  # the byte of a CARD32 holding its bits 0-7
    found: list[tuple[int, str]] = []  # (server ms, kind), in arrival order
    replies = 0
    i, n = 0, len(buf)
    while i + 32 <= n:
        size = 32
        code = buf[i] & 0x7F
        if code == 1:  # a reply: 32 + 4 * length bytes
            size += 4 * frombytes(buf[i + 4 : i + 8], order)
            if i + size > n:
                break
            replies += 1
        elif code == GENERIC_EVENT:
            size += 4 * frombytes(buf[i + 4 : i + 8], order)
            if i + size > n:
                break
            kind = kinds.get(frombytes(buf[i + 8 : i + 10], order))
            if kind is not None:
                if kind == "click":
                    if frombytes(buf[i + 16 : i + 20], order) in SCROLL_BUTTONS:
                        kind = "scroll"
                elif kind == "move" and not (
                    frombytes(buf[i + 22 : i + 24], order) and buf[i + 32 + low] & 3
                ):  # no mask words, or neither axis 0 nor axis 1 set in the first one
                    kind = None
                if kind is not None:
                    found.append((frombytes(buf[i + 12 : i + 16], order), kind))
        i += size
    rest = buf[i:]
    if not found:
        return rest, replies
    unwrap = tmap.unwrap
    times = [unwrap(ms) for ms, _k in found]
    read_t = tap.now()
    off = tmap.anchor(read_t, max(times))
    add_run = tap.add_run
    run_kind = ""
    run_first = run_last = 0.0
    run_n = 0
    for (_ms, kind), ts in zip(found, times, strict=True):
        t = ts + off
        if t > read_t:
            t = read_t
        if kind == run_kind and t - run_first < coalesce_s:
            run_last = t if t > run_last else run_last
            run_n += 1
            continue
        if run_n:
            add_run(run_first, run_last, run_kind, run_n)
        run_kind, run_first, run_last, run_n = kind, t, t, 1
    if run_n:
        add_run(run_first, run_last, run_kind, run_n)
    return rest, replies
