"""The live daemon: real input in, one Session, notifications out, SQLite behind.

Wiring: an input source (inputs/) stamps events into a `Tap` from its own
threads; the main loop drains the tap and runs them through one `Session`
exactly as `mmctl simulate` does (the engine decides everything); cue sets
the session delivers go to the notifier, whose answers come back through a
queue so that only the main thread ever touches the store.

The loop is event-driven. It sleeps in `select` on a self-pipe until one of:
- the first input event after the previous drain (the tap writes the pipe);
- the engine's next deadline (a natural pause, a max_defer cap, a cue becoming
  due, a stretch ending, the end of a min-gap hold);
- the batch flush, at most `flush_s` after data became unflushed;
- a notifier result, a signal (signal.set_wakeup_fd), a backend dying;
- a call handed in from another thread through the inbox (inbox.py: the
  control socket's status, pause, ...; run between passes on this thread,
  without the batch wait), or a deadline of one of the loop's hooks (the
  service's: the natural pause the weekly check-in reminder waits for).
Idle with everything flushed and nothing due, it does not wake at all.
While input streams in, passes are at most one per `batch_s`: events keep
their own times, so batching changes no decision.

Hooks (`add_hook`): what else runs on the loop's thread, each pass, after
the session: the service (service.py) and the control socket's endpoint,
wired in commands/run.py. The daemon knows them only by the `LoopHook`
protocol below.

Time: engine time is the boot-time clock (clock.py), which keeps running
through a suspend, so a suspend is a gap in input like any other. A wall
clock change moves `wall_offset` and rebases the session.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import queue
import select
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from .adapters.clock import Clock, ClockWatch, SystemClock
from .adapters.inputs import InputSource
from .adapters.inputs.tap import Tap
from .config import Config
from .core.session import Delivered, Session, StoreWriter
from .errors import ConfigError, StoreError
from .inbox import Inbox

log = logging.getLogger("micromove")

FLUSH_S = 10.0  # the most data may wait in memory before it is written
BATCH_S = 0.1  # the least time between two passes while input streams in
STALE_S = 60.0  # a cue set decided this late (asleep meanwhile) is recorded, not shown
RESULT_WAIT_S = 4.0  # at exit, how long to wait for notifications in flight


class DaemonStore(StoreWriter, Protocol):
    """What the daemon needs from the store (micromove.adapters.store.Store): what a
    session writes, plus the notifier's answers and whether data waits."""

    def set_delivered(self, delivery_id: int, delivered: bool, error: str | None = None) -> None: ...

    @property
    def pending(self) -> bool: ...


OnResult = Callable[[bool, "str | None"], None]


class Notifier(Protocol):
    """What the daemon needs from the notifier (micromove.adapters.notify.AsyncNotifier).

    `submit` returns at once; `on_result(ok, error)` is called later from
    another thread, within the notifier's own hard time limit.
    """

    def submit(self, title: str, body: str, on_result: OnResult) -> None: ...


Formatter = Callable[[Delivered], tuple[str, str]]


class LoopHook(Protocol):
    """Something that runs on the loop's thread (the service, the control endpoint)."""

    def start(self, now: float) -> None: ...
    def on_pass(self, now: float) -> None: ...
    def next_deadline(self) -> float | None:
        """Engine time at which the loop should look again (None: no need)."""
        ...

    def stop(self) -> None: ...


def default_formatter(dv: Delivered) -> tuple[str, str]:
    from .adapters.notify import format_cue_set

    return format_cue_set([c.cue for c in dv.delivery.cues])


# ---------------------------------------------------------------- waking up
class Waker:
    """A self-pipe: `wake()` from any thread or signal handler; `wait(timeout)` in the loop."""

    def __init__(self) -> None:
        self.r, self.w = os.pipe()
        os.set_blocking(self.r, False)
        os.set_blocking(self.w, False)

    def wake(self) -> None:
        with contextlib.suppress(OSError):  # full pipe: a wake-up is pending anyway
            os.write(self.w, b"\0")

    def wait(self, timeout: float | None) -> bool:
        """Sleep until woken or `timeout` seconds pass; True when woken."""
        ready, _, _ = select.select([self.r], [], [], timeout)
        if not ready:
            return False
        with contextlib.suppress(OSError):
            while os.read(self.r, 4096):
                pass
        return True

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def close(self) -> None:
        for fd in (self.r, self.w):
            with contextlib.suppress(OSError):
                os.close(fd)


# ---------------------------------------------------------------- one per user
class AlreadyRunning(Exception):
    def __init__(self, pid: int | None) -> None:
        super().__init__(
            f"micromove is already running (pid {pid})" if pid else "micromove is already running"
        )
        self.pid = pid


def acquire_lock(path: Path) -> int:
    """Take the per-user daemon lock (flock) and write our pid; returns the fd to keep open."""
    from .paths import ensure_private_dir

    ensure_private_dir(path.parent)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        try:
            text = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
            pid = int(text) if text.isdigit() else None
        finally:
            os.close(fd)
        raise AlreadyRunning(pid) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def release_lock(fd: int, path: Path) -> None:
    with contextlib.suppress(OSError):
        os.ftruncate(fd, 0)
    with contextlib.suppress(OSError):
        os.close(fd)


# ---------------------------------------------------------------- the daemon
class Daemon:
    def __init__(
        self,
        config: Config,
        *,
        store: DaemonStore,
        source: InputSource,
        notifier: Notifier,
        clock: Clock | None = None,
        waker: Waker | None = None,
        formatter: Formatter = default_formatter,
        reload: Callable[[], Config] | None = None,
        flush_s: float = FLUSH_S,
        batch_s: float = BATCH_S,
        stale_s: float = STALE_S,
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self.waker = waker or Waker()
        # Calls from other threads, run on the loop's thread between passes.
        self.inbox = Inbox(self.waker.wake)
        self.hooks: list[LoopHook] = []
        self.store = store
        self.source = source
        self.notifier = notifier
        self.formatter = formatter
        self.reload_config = reload
        self.flush_s = flush_s
        self.batch_s = batch_s
        self.stale_s = stale_s
        self.tap = Tap(self.clock.now, self.waker.wake)
        self.watch = ClockWatch(self.clock)
        self.session = Session(config, wall_offset=self.watch.offset, store=store, deliver=self._deliver)
        self.results: queue.SimpleQueue[tuple[int | None, bool, str | None]] = queue.SimpleQueue()
        self.in_flight: dict[int | None, tuple[str, ...]] = {}
        self._stop_reason: str | None = None
        self._reload_requested = False
        self._t = self.clock.now()  # engine time reached so far
        self._last_pass = -float("inf")
        self._dirty_since: float | None = None
        self.passes = 0  # how many times the loop did work (tests, benchmarks)

    # ----------------------------------------------------------- requests
    def request_stop(self, reason: str = "SIGTERM") -> None:
        """Ask the loop to flush and exit 0 (safe from a signal handler)."""
        self._stop_reason = reason
        self.waker.wake()

    def request_reload(self) -> None:
        """Ask the loop to reload the config (SIGHUP)."""
        self._reload_requested = True
        self.waker.wake()

    def add_hook(self, hook: LoopHook) -> None:
        """Run `hook` on the loop's thread (before `start`; hooks start in order)."""
        self.hooks.append(hook)

    # ----------------------------------------------------------- lifecycle
    def start(self) -> None:
        """Start watching input (InputError if impossible), the session and the hooks."""
        self.source.start(self.tap)
        self._t = max(self._t, self.clock.now())
        self.session.start(self._t)
        for hook in self.hooks:
            hook.start(self._t)
        log.info("watching input (%s)", self.source.name)

    def run(self) -> int:
        """The loop. Returns the exit status (0 after a stop request)."""
        rc = 0
        try:
            while self._stop_reason is None:
                timeout = self._timeout()
                woke = self.waker.wait(timeout)
                calls_wait = self.inbox.waiting()
                if woke and self.batch_s > 0 and self._stop_reason is None and not calls_wait:
                    hold = self.batch_s - (self.clock.now() - self._last_pass)
                    if timeout is not None:
                        hold = min(hold, timeout)
                    if hold > 0:
                        self.waker.sleep(hold)
                status = self._pass()
                if status is not None:
                    rc = status
                    break
        finally:
            rc = self._shutdown(rc)
        return rc

    def _timeout(self) -> float | None:
        now = self.clock.now()
        best: float | None = None
        d = self.session.next_deadline()
        if d is not None:
            best = d - now
        if self._dirty_since is not None:
            f = self._dirty_since + self.flush_s - now
            best = f if best is None else min(best, f)
        for hook in self.hooks:
            c = hook.next_deadline()
            if c is not None:
                best = c - now if best is None else min(best, c - now)
        return None if best is None else max(0.0, best)

    # ----------------------------------------------------------- one pass
    def _pass(self) -> int | None:
        self.passes += 1
        clock = self.clock
        now = clock.now()
        change = self.watch.check()
        if change is not None:
            if change.suspended_s:
                log.info("resumed after suspend of %.0f s", change.suspended_s)
            if change.offset_jump_s:
                log.info("wall clock moved by %+.0f s; times rebased", change.offset_jump_s)
                self.session.rebase(change.wall_offset, self._t)
        self._feed()
        now = max(now, self._t)
        self.session.advance(now)
        self._t = now
        self._last_pass = now
        if self._reload_requested:
            self._reload_requested = False
            self._reload(now)
        self._take_results()
        self.inbox.run(now)
        for hook in self.hooks:
            hook.on_pass(now)
        if not self.source.alive():
            log.error(
                "input is no longer watched (%s): flushing and exiting so that the service "
                "manager restarts micromove",
                self.source.failure(),
            )
            return 1
        self._maybe_flush(now)
        return None

    def _feed(self) -> None:
        events = self.tap.drain()
        if not events:
            return
        session_input = self.session.input
        t_last = self._t
        for t, kind, px, n in events:
            if t < t_last:
                t = t_last  # stamped a hair before the previous pass's clock read
            session_input(t, kind, px or None, n)
            t_last = t
        self._t = t_last

    def _maybe_flush(self, now: float) -> None:
        dirty = bool(self.session.counts) or self.store.pending
        if not dirty:
            self._dirty_since = None
            return
        if self._dirty_since is None:
            self._dirty_since = now
        if now - self._dirty_since >= self.flush_s:
            self._flush(now)

    def _flush(self, now: float) -> bool:
        try:
            self.session.flush()
        except StoreError as exc:
            log.warning("%s", exc)
            self._dirty_since = now  # retry in flush_s
            return False
        self._dirty_since = None
        return True

    def _reload(self, now: float) -> None:
        if self.reload_config is None:
            log.info("SIGHUP: no config file to reload")
            return
        try:
            cfg = self.reload_config()
        except ConfigError as exc:
            for line in exc.lines():
                log.error("config not reloaded: %s", line)
            log.error("keeping the previous config")
            return
        except Exception as exc:  # noqa: BLE001 - keep running on the old config
            log.error("config not reloaded: %s; keeping the previous config", exc)
            return
        if cfg.input_backend != self.session.config.input_backend:
            log.warning("input.backend changes take effect when micromove restarts")
        self.session.reconfigure(cfg, now)
        log.info("config reloaded from %s", cfg.source)

    # ----------------------------------------------------------- deliveries
    def _deliver(self, dv: Delivered) -> None:
        """Called by the session (main thread) for each cue set."""
        cues = tuple(c.cue for c in dv.delivery.cues)
        did = dv.delivery_id
        late = self.clock.now() - dv.delivery.t
        if late > self.stale_s:
            why = f"not shown: due {late:.0f} s ago while the machine was asleep"
            log.info("cue set %s %s", ", ".join(cues), why)
            if did is not None:
                self.store.set_delivered(did, False, why)
                self.session.not_delivered(did)
            return
        try:
            title, body = self.formatter(dv)
        except Exception as exc:  # noqa: BLE001
            self._record(did, cues, False, f"cannot format the notification: {exc}")
            return
        results, wake = self.results, self.waker.wake

        def on_result(ok: bool, error: str | None = None) -> None:
            results.put((did, bool(ok), error))
            wake()

        self.in_flight[did] = cues
        try:
            self.notifier.submit(title, body, on_result)
        except Exception as exc:  # noqa: BLE001 - never let the notifier stop counting
            self.in_flight.pop(did, None)
            self._record(did, cues, False, f"{type(exc).__name__}: {exc}")

    def _take_results(self) -> None:
        while True:
            try:
                did, ok, error = self.results.get_nowait()
            except queue.Empty:
                return
            cues = self.in_flight.pop(did, ())
            self._record(did, cues, ok, error)

    def _record(self, did: int | None, cues: tuple[str, ...], ok: bool, error: str | None) -> None:
        if ok:
            log.info("cue set delivered: %s", ", ".join(cues))
        else:
            log.warning("cue set not delivered (%s): %s", error or "no reason given", ", ".join(cues))
        if did is not None:
            self.store.set_delivered(did, ok, None if ok else (error or "not delivered"))
            if not ok:
                self.session.not_delivered(did)

    # ----------------------------------------------------------- exit
    def _shutdown(self, rc: int) -> int:
        if self._stop_reason:
            log.info("%s: flushing and exiting", self._stop_reason)
        for hook in self.hooks:
            try:
                hook.stop()  # the control endpoint removes its socket
            except Exception as exc:  # noqa: BLE001
                log.warning("stopping %s: %s", type(hook).__name__, exc)
        self.inbox.close()  # what is still queued is answered: stopping
        try:
            self.source.stop()
        except Exception as exc:  # noqa: BLE001
            log.warning("stopping the input source: %s", exc)
        self._feed()  # what came in until the source stopped
        now = max(self.clock.now(), self._t)
        self.session.advance(now)
        self._t = now
        self._take_results()
        clock = self.clock
        if self.in_flight:
            # Counts first: a second signal or a SIGKILL while we wait for
            # the notifier must not cost what was already counted.
            self._flush(now)
            deadline = clock.now() + RESULT_WAIT_S
            while self.in_flight and clock.now() < deadline:
                self.waker.wait(max(0.0, deadline - clock.now()))
                self._take_results()
        for did, cues in list(self.in_flight.items()):
            self._record(did, cues, False, "micromove stopped before the notifier answered")
        self.in_flight.clear()
        if self.tap.errors:
            log.warning("%d input callback errors were ignored", self.tap.errors)
        if not self._flush(now):
            log.error("could not write the last data to the database")
            return rc or 1
        return rc
