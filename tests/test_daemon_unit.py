"""The daemon's loop on a virtual clock: a scripted input source, a fake notifier,
a real Store. The fakes stand behind the project's own interfaces (InputSource,
Notifier, Clock, the Waker's wait/sleep); the loop, session, engine and store
are the real ones."""

from __future__ import annotations

import logging
import math
import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from fakes import START, WALL0, FakeClock, FakeSource, local_time_zone
from micromove import config as config_mod
from micromove.adapters.inputs.tap import Tap
from micromove.adapters.store import Store
from micromove.config import Config
from micromove.core import catalog
from micromove.core.session import Delivered
from micromove.daemon import AlreadyRunning, Daemon, acquire_lock, release_lock


def short_config(extra: str = "", **cues: tuple[float, str]) -> Config:
    cues = cues or {"hands.wrist_pulse": (0.05, "typing"), "hands.grip_modulation": (0.05, "mouse")}
    lines = [
        "pause: {min_s: 1, max_defer_s: 30}",
        "activity: {break_s: 20}",
        "notify: {min_gap_s: 0}",
        "progression: {enabled: false}",
        "cues:",
    ]
    for cid in catalog.IDS:
        key = cid.replace(".", "__")
        if key in cues or cid in cues:
            every, trig = cues.get(key) or cues[cid]
            lines.append(f"  {cid}: {{enabled: true, every_min: {every}, trigger: {trig}}}")
        else:
            lines.append(f"  {cid}: {{enabled: false}}")
    return config_mod.from_text("\n".join(lines) + "\n" + extra, "test.yaml")


class ScriptedWaker:
    """The loop's wait/sleep on the virtual clock, running scripted actions as time passes."""

    def __init__(self, clock: FakeClock, end: float) -> None:
        self.clock = clock
        self.end = end
        self.script: list[tuple[float, Callable[[], None]]] = []
        self.flag = False
        self.waits: list[tuple[float, float | None]] = []  # (when, timeout)
        self.on_end: Callable[[], None] = lambda: None
        self.ended = False

    def at(self, t: float, fn: Callable[[], None]) -> None:
        self.script.append((t, fn))
        self.script.sort(key=lambda a: a[0])

    def wake(self) -> None:
        self.flag = True

    def _run_until(self, limit: float) -> None:
        while self.script and self.script[0][0] <= limit and not self.flag:
            at, fn = self.script.pop(0)
            self.clock.t = max(self.clock.t, at)
            fn()

    def wait(self, timeout: float | None) -> bool:
        self.waits.append((self.clock.t, timeout))
        if self.ended and not self.flag:  # shutting down: time just passes
            self.clock.t += timeout or 0.0
            return False
        if self.flag:
            self.flag = False
            return True
        limit = math.inf if timeout is None else self.clock.t + timeout
        self._run_until(min(limit, self.end))
        if self.flag:
            self.flag = False
            return True
        if limit > self.end:
            self.clock.t = max(self.clock.t, self.end)
            if not self.ended:
                self.ended = True
                self.on_end()
            self.flag = False
            return True
        self.clock.t = limit
        return False

    def sleep(self, seconds: float) -> None:
        limit = self.clock.t + seconds
        while self.script and self.script[0][0] <= limit:
            at, fn = self.script.pop(0)
            self.clock.t = max(self.clock.t, at)
            fn()
        self.clock.t = limit


class FakeNotifier:
    """Answers at once (ok, or an error), or never (answer later with `answer_all`)."""

    def __init__(self, clock: FakeClock, ok: bool | None = True, error: str | None = None) -> None:
        self.clock = clock
        self.ok = ok
        self.error = error
        self.sent: list[tuple[float, str, str]] = []
        self.waiting: list[Callable[..., None]] = []

    def submit(self, title: str, body: str, on_result: Callable[..., None]) -> None:
        self.sent.append((self.clock.t, title, body))
        if self.ok is None:
            self.waiting.append(on_result)
        else:
            on_result(self.ok, self.error)


class RecordingStore:
    """A real Store, with the times of its flushes noted."""

    def __init__(self, store: Store, clock: FakeClock) -> None:
        self._s = store
        self.clock = clock
        self.flushes: list[float] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self._s, name)

    @property
    def pending(self) -> bool:
        return self._s.pending

    def flush(self) -> None:
        self.flushes.append(self.clock.t)
        self._s.flush()


def fmt(dv: Delivered) -> tuple[str, str]:
    return "cues", "\n".join(c.cue for c in dv.delivery.cues)


class Harness:
    def __init__(
        self,
        tmp: Path,
        cfg: Config | None = None,
        end: float = START + 300,
        offset: float = WALL0,
        **kw: object,
    ) -> None:
        self.clock = FakeClock(offset=offset)
        self.waker = ScriptedWaker(self.clock, end)
        self.source = FakeSource()
        self.notifier = FakeNotifier(self.clock)
        self.db = tmp / "m.db"
        self.store = RecordingStore(Store.open(self.db), self.clock)
        self.daemon = Daemon(
            cfg or short_config(),
            store=self.store,  # type: ignore[arg-type]
            source=self.source,
            notifier=self.notifier,
            clock=self.clock,
            waker=self.waker,  # type: ignore[arg-type]
            formatter=fmt,
            **kw,  # type: ignore[arg-type]
        )
        self.waker.on_end = lambda: self.daemon.request_stop("test end")
        self.inputs: list[tuple[float, str]] = []

    def at(self, t: float, fn: Callable[[], None]) -> None:
        self.waker.at(START + t, fn)

    def keys(self, t0: float, t1: float, every: float = 0.2) -> float:
        t = t0
        last = t0
        while t <= t1 + 1e-9:
            self.at(t, lambda: self.tap.key())
            self.inputs.append((START + t, "key"))
            last = t
            t = round(t + every, 6)
        return START + last

    def moves(self, t0: float, t1: float, every: float = 0.1, px: float = 10.0) -> float:
        t = t0
        last = t0
        while t <= t1 + 1e-9:
            self.at(t, lambda: self.tap.move(px))
            self.inputs.append((START + t, "move"))
            last = t
            t = round(t + every, 6)
        return START + last

    @property
    def tap(self) -> Tap:
        return self.daemon.tap

    def run(self) -> int:
        self.daemon.start()
        rc = self.daemon.run()
        self.store._s.close()
        return rc

    def rows(self, sql: str) -> list[tuple[object, ...]]:
        conn = sqlite3.connect(self.db)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()


def test_cue_arrives_at_the_natural_pause_after_typing_never_during(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    last = h.keys(10, 20)  # 10 s of typing; wrist pulse every 3 s of typing
    assert h.run() == 0
    assert len(h.notifier.sent) == 1
    t, _title, body = h.notifier.sent[0]
    assert body == "hands.wrist_pulse"
    assert t == pytest.approx(last + 1.0)  # latest key + pause.min_s
    assert not any(START + 10 <= t < last for t, *_ in h.notifier.sent)
    assert h.rows("SELECT delivered, error, reason FROM deliveries") == [(1, None, "pause")]
    assert h.rows("SELECT sum(keys) FROM activity") == [(len([i for i in h.inputs if i[1] == "key"]),)]


def test_mouse_stretch_gets_grip_modulation(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    last = h.moves(5, 12)
    assert h.run() == 0
    assert [s[2] for s in h.notifier.sent] == ["hands.grip_modulation"]
    assert h.notifier.sent[0][0] == pytest.approx(last + 1.0)
    moves, px = h.rows("SELECT sum(moves), sum(distance_px) FROM activity")[0]
    assert moves == len(h.inputs) and px == pytest.approx(10.0 * len(h.inputs))


def test_flushes_at_most_flush_s_after_data_and_never_while_idle(tmp_path: Path) -> None:
    h = Harness(tmp_path, end=START + 600)
    h.keys(10, 14)
    h.keys(100, 101)
    assert h.run() == 0
    # Each flush comes at most 10 s after the data it writes began waiting.
    assert h.store.flushes, "nothing was flushed"
    first_input = START + 10
    assert first_input < h.store.flushes[0] <= first_input + 10.0 + 1e-6
    # Idle (everything flushed, nothing due): the loop waits with no timeout at
    # all, so nothing wakes it until input comes (no periodic wake-ups). Two of
    # the wake-ups are the cue set's answer (back-off): the instant it would be
    # likely done, and its answer window closing.
    gap = [w for w in h.waker.waits if START + 14 < w[0] < START + 100]
    assert gap[-1][1] is None and len(gap) <= 10, gap
    assert h.waker.waits[-1][1] is None or h.waker.ended
    idle_before_end = [w for w in h.waker.waits if START + 140 < w[0] < START + 600]
    assert idle_before_end == [], idle_before_end
    assert h.rows("SELECT sum(keys) FROM activity") == [(len(h.inputs),)]


def test_input_wakeups_are_batched_but_times_kept(tmp_path: Path) -> None:
    h = Harness(tmp_path, cfg=short_config(hands__wrist_pulse=(0.05, "typing")))
    last = h.keys(10, 20, every=0.01)  # 100 keys a second
    assert h.run() == 0
    n = len(h.inputs)
    assert h.daemon.passes < n / 5  # batched (about 10 passes a second)
    assert h.rows("SELECT sum(keys) FROM activity") == [(n,)]
    assert h.notifier.sent[0][0] == pytest.approx(last + 1.0)


def test_failed_delivery_is_recorded_and_counting_goes_on(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.notifier.ok, h.notifier.error = False, "no notification server on the session bus"
    h.keys(10, 20)
    h.keys(45, 45.6)  # too short to make the cue due before its pause
    assert h.run() == 0
    assert h.rows("SELECT delivered, error FROM deliveries") == [
        (0, "no notification server on the session bus")
    ]
    assert h.rows("SELECT sum(keys) FROM activity") == [(len(h.inputs),)]


def test_a_notifier_that_raises_does_not_stop_the_daemon(tmp_path: Path) -> None:
    h = Harness(tmp_path)

    def boom(*_a: object) -> None:
        raise RuntimeError("bus exploded")

    h.notifier.submit = boom  # type: ignore[method-assign]
    h.keys(10, 20)
    h.keys(45, 45.6)
    assert h.run() == 0
    assert h.rows("SELECT delivered, error FROM deliveries") == [(0, "RuntimeError: bus exploded")]
    assert h.rows("SELECT sum(keys) FROM activity") == [(len(h.inputs),)]


def test_late_answers_are_recorded_and_unanswered_ones_at_exit(tmp_path: Path) -> None:
    h = Harness(tmp_path, end=START + 100)
    h.notifier.ok = None  # answers only when told
    h.keys(10, 20)
    h.at(30, lambda: h.notifier.waiting.pop(0)(True, None))
    h.keys(50, 60)  # a second cue set, never answered
    assert h.run() == 0
    got = h.rows("SELECT delivered, error FROM deliveries ORDER BY id")
    assert got[0] == (1, None)
    assert got[1][0] == 0 and "stopped before" in str(got[1][1])


def test_sighup_reload_keeps_the_old_config_when_the_new_one_is_bad(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cfg_file = tmp_path / "c.yaml"
    cfg_file.write_text("pause: {min_s: 1}\n")
    h = Harness(tmp_path, reload=lambda: config_mod.load(cfg_file))
    h.keys(5, 6)

    def bad() -> None:
        cfg_file.write_text("pause: {min_s: -1}\n")
        h.daemon.request_reload()

    h.at(20, bad)
    last = h.keys(30, 40)
    with caplog.at_level(logging.INFO, logger="micromove"):
        assert h.run() == 0
    assert any("config not reloaded" in r.getMessage() and "pause.min_s" in r.getMessage() for r in caplog.records)
    assert any("keeping the previous config" in r.getMessage() for r in caplog.records)
    # Still the short config: the cue came at the 1 s pause after typing.
    assert [s[0] for s in h.notifier.sent] == [pytest.approx(last + 1.0)]


def test_sighup_reload_applies_a_good_config(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cfg_file = tmp_path / "c.yaml"
    h = Harness(tmp_path, reload=lambda: config_mod.load(cfg_file))

    def good() -> None:
        # Longer natural pauses from now on.
        text = "\n".join(
            ["pause: {min_s: 5, max_defer_s: 30}", "activity: {break_s: 20}", "notify: {min_gap_s: 0}",
             "progression: {enabled: false}", "cues:"]
            + [
                f"  {c}: {{enabled: {'true' if c == 'hands.wrist_pulse' else 'false'}, every_min: 0.05}}"
                for c in catalog.IDS
            ]
        )
        cfg_file.write_text(text + "\n")
        h.daemon.request_reload()

    h.at(5, good)
    last = h.keys(10, 20)
    with caplog.at_level(logging.INFO, logger="micromove"):
        assert h.run() == 0
    assert any("config reloaded" in r.getMessage() for r in caplog.records)
    assert [s[0] for s in h.notifier.sent] == [pytest.approx(last + 5.0)]


def test_a_dead_input_source_makes_the_daemon_flush_and_exit_nonzero(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    h = Harness(tmp_path)
    h.keys(5, 8)
    h.at(9, lambda: h.source.die("XError: display connection closed"))
    with caplog.at_level(logging.INFO, logger="micromove"):
        assert h.run() == 1
    msg = " ".join(r.getMessage() for r in caplog.records)
    assert "display connection closed" in msg and "restart" in msg
    # Noticed at once: the loop did not wait for a timer.
    assert h.clock.t == pytest.approx(START + 9)
    assert h.rows("SELECT sum(keys) FROM activity") == [(len(h.inputs),)]


def test_wall_clock_change_rebases_and_suspend_is_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    h = Harness(tmp_path, end=START + 5000)
    h.keys(5, 6)

    def set_clock_forward() -> None:
        h.clock.offset += 3600.0
        h.tap.key()

    def suspend() -> None:
        h.clock.slept += 1800.0  # the boot clock ran on; the awake clock did not
        h.tap.key()

    h.at(100, set_clock_forward)
    h.at(2100, suspend)
    with caplog.at_level(logging.INFO, logger="micromove"):
        assert h.run() == 0
    msgs = [r.getMessage() for r in caplog.records]
    assert any("wall clock moved by +3600 s" in m for m in msgs), msgs
    assert any("resumed after suspend of 1800 s" in m for m in msgs), msgs
    # Minute buckets follow the new wall clock after the change.
    minutes = [m for (m,) in h.rows("SELECT minute FROM activity ORDER BY minute")]
    assert minutes[0] == int((WALL0 + START + 5) // 60)
    assert int((WALL0 + 3600 + START + 100) // 60) in minutes


def test_cue_set_decided_long_after_its_time_is_recorded_not_shown(tmp_path: Path) -> None:
    h = Harness(tmp_path, end=START + 5000)
    h.keys(10, 20)
    # The machine slept right after typing: the loop's timer stopped with it and
    # it wakes long after the pause instant.
    real_wait = h.waker.wait

    def sleepy_wait(timeout: float | None) -> bool:
        if timeout is not None and not h.waker.script and h.clock.t < START + 22:
            h.clock.t += 3000.0
            h.clock.slept += 3000.0
            return False
        return real_wait(timeout)

    h.waker.wait = sleepy_wait  # type: ignore[method-assign]
    assert h.run() == 0
    assert h.notifier.sent == []
    (row,) = h.rows("SELECT delivered, error FROM deliveries")
    assert row[0] == 0 and "asleep" in str(row[1])


def test_stop_flushes_everything(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.keys(5, 7)
    h.at(7.5, lambda: h.daemon.request_stop("SIGTERM"))
    assert h.run() == 0
    assert h.rows("SELECT sum(keys) FROM activity") == [(len(h.inputs),)]
    assert h.rows("SELECT kind FROM stretches ORDER BY kind") == [("active",), ("typing",)]
    assert h.source.stopped


def test_stop_writes_the_counts_before_it_waits_for_the_notifier(tmp_path: Path) -> None:
    h = Harness(tmp_path, end=START + 100)
    h.notifier.ok = None  # the cue set's notification never answers
    last = h.keys(10, 20)
    h.at(25, lambda: h.daemon.request_stop("SIGTERM"))
    assert h.run() == 0
    assert len(h.notifier.sent) == 1
    # Written at the stop, before the wait for the notifier (a second signal
    # or a SIGKILL then costs nothing), and once more after it.
    assert h.store.flushes[-2:] == [pytest.approx(START + 25), pytest.approx(START + 25 + 4.0)]
    assert h.rows("SELECT sum(keys) FROM activity") == [(len(h.inputs),)]
    (row,) = h.rows("SELECT t, delivered, error FROM deliveries")
    assert row[0] == pytest.approx(WALL0 + last + 1.0)
    assert row[1] == 0 and "stopped before the notifier answered" in str(row[2])


def test_lock_file_one_daemon_per_user(tmp_path: Path) -> None:
    lock = tmp_path / "run" / "micromove" / "daemon.lock"
    fd = acquire_lock(lock)
    try:
        assert lock.read_text().strip() == str(os.getpid())
        assert oct(lock.parent.stat().st_mode & 0o777) == "0o700"
        with pytest.raises(AlreadyRunning) as exc:
            acquire_lock(lock)
        assert str(exc.value) == f"micromove is already running (pid {os.getpid()})"
    finally:
        release_lock(fd, lock)
    fd2 = acquire_lock(lock)  # free again once released
    release_lock(fd2, lock)


# ---------------------------------------------------------------- time: suspend, clock changes, midnight
def suspend_at(h: Harness, after: float, seconds: float) -> None:
    """The machine sleeps `seconds` at the loop's first wait from START + `after` on:
    the boot clock (engine time) runs on, the awake clock stops, the loop's
    timer (which counts awake time) fires late."""
    real_wait = h.waker.wait
    done: list[bool] = []

    def wait(timeout: float | None) -> bool:
        if not done and h.clock.t >= START + after:
            done.append(True)
            h.clock.t += seconds
            h.clock.slept += seconds
        return real_wait(timeout)

    h.waker.wait = wait  # type: ignore[method-assign]


def test_a_suspend_is_logged_and_is_a_gap_in_input_not_activity(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # No cue comes into it (every 5 min): this is about what is counted.
    h = Harness(tmp_path, cfg=short_config(hands__wrist_pulse=(5.0, "typing")), end=START + 4000)
    h.keys(10, 12.4)
    suspend_at(h, 12.5, 3600.0)  # the lid is closed (the loop's next wait: at 20, after a flush)
    h.keys(3625, 3627)  # typing again after resuming
    with caplog.at_level(logging.INFO, logger="micromove"):
        assert h.run() == 0
    msgs = [r.getMessage() for r in caplog.records]
    assert any("resumed after suspend of 3600 s" in m for m in msgs), msgs
    # Two stretches of their real lengths: the sleep was a break (longer than
    # activity.break_s), neither activity nor a pause the stretch ran through.
    typing = h.rows("SELECT start, end FROM stretches WHERE kind = 'typing' ORDER BY start")
    assert [round(float(e) - float(s), 6) for s, e in typing] == [2.4, 2.0]  # type: ignore[arg-type]
    assert float(typing[1][0]) - float(typing[0][1]) == pytest.approx(3612.6)  # type: ignore[arg-type]
    active = h.rows("SELECT sum(end - start) FROM stretches WHERE kind = 'active'")
    assert active == [(pytest.approx(4.4),)]
    assert h.notifier.sent == [] and h.rows("SELECT count(*) FROM deliveries") == [(0,)]
    # Counted only in the minutes that had input.
    minutes = [m for (m,) in h.rows("SELECT minute FROM activity WHERE keys > 0")]
    assert all(
        int((WALL0 + START + 10) // 60) <= int(m) <= int((WALL0 + START + 12.4) // 60)  # type: ignore[call-overload]
        or int((WALL0 + START + 3625) // 60) <= int(m) <= int((WALL0 + START + 3627) // 60)  # type: ignore[call-overload]
        for m in minutes
    ), minutes
    assert h.rows("SELECT sum(keys) FROM activity") == [(len(h.inputs),)]


def test_wall_clock_set_back_mid_stretch_keeps_one_stretch_of_its_real_length(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    h = Harness(tmp_path, flush_s=5.0)  # the stretch is written before the change too

    def set_clock_back() -> None:
        h.clock.offset -= 3600.0
        h.tap.key()
        h.inputs.append((h.clock.t, "key"))

    h.keys(10, 19.9)
    h.at(20.05, set_clock_back)
    last = h.keys(20.1, 30)
    length = last - (START + 10)
    with caplog.at_level(logging.INFO, logger="micromove"):
        assert h.run() == 0
    assert any("wall clock moved by -3600 s" in r.getMessage() for r in caplog.records)
    for kind in ("typing", "active"):
        rows = h.rows(f"SELECT start, end FROM stretches WHERE kind = '{kind}'")
        assert len(rows) == 1, (kind, rows)  # not a second copy on the new clock
        (start, end), = rows
        assert float(end) - float(start) == pytest.approx(length, abs=1e-5)  # type: ignore[arg-type]
        assert float(start) == pytest.approx(WALL0 + START + 10)  # type: ignore[arg-type]
    assert h.rows("SELECT count(*) FROM stretches WHERE end < start") == [(0,)]
    assert h.rows("SELECT sum(keys) FROM activity") == [(len(h.inputs),)]
    # The cue that went out after the change was still measured in engine time.
    assert h.rows("SELECT stretch_s FROM delivery_cues") == [(pytest.approx(length),)]


@pytest.fixture()
def cet() -> Iterator[None]:
    """Local time is Central European (a POSIX rule: no tz database needed)."""
    with local_time_zone("CET-1CEST,M3.5.0,M10.5.0/3"):
        yield


def test_the_day_rolls_over_at_local_midnight(tmp_path: Path, cet: None) -> None:
    from datetime import datetime

    from micromove.report import stats

    midnight = datetime(2026, 3, 3).timestamp()  # local midnight, 2026-03-02 -> 03
    cues = [
        "  hands.wrist_pulse: {every_min: 0.05, trigger: typing}",
        "  eyes.far_focus: {every_min: 0.05, trigger: active}",
    ] + [f"  {c}: {{enabled: false}}" for c in catalog.IDS if c not in ("hands.wrist_pulse", "eyes.far_focus")]
    cfg = config_mod.from_text(
        "\n".join(
            ["pause: {min_s: 1, max_defer_s: 30}", "activity: {break_s: 20}", "notify: {min_gap_s: 0}",
             "progression: {enabled: true}", "cues:", *cues]
        )
        + "\n",
        "test.yaml",
    )
    # Engine time START + 30 is local midnight; progression began six days
    # before 2026-03-02, so the eyes join the hands on 2026-03-03 (week 2).
    h = Harness(tmp_path, cfg=cfg, offset=midnight - (START + 30))
    h.store._s.set_state("progression_start", "2026-02-24")
    before = h.keys(10, 25)  # pause at 26: hands only
    h.keys(28.1, 39.9)  # runs through midnight
    assert h.run() == 0
    sent = [(t, body.split("\n")) for t, _title, body in h.notifier.sent]
    assert sent[0] == (pytest.approx(before + 1.0), ["hands.wrist_pulse"])
    assert any("eyes.far_focus" in cues for t, cues in sent if t > START + 30)
    assert not any("eyes.far_focus" in cues for t, cues in sent if t < START + 30)
    conn = sqlite3.connect(h.db)
    try:
        days = stats.report(conn)["days"]
    finally:
        conn.close()
    keys_before = sum(1 for t, _ in h.inputs if t < START + 30)
    assert [(d["date"], d["keys"]) for d in days] == [
        ("2026-03-02", keys_before),
        ("2026-03-03", len(h.inputs) - keys_before),
    ]
    assert days[1]["typing_s"] == pytest.approx(9.9)  # the stretch is split at midnight


# ---------------------------------------------------------------- logging never carries input
@pytest.fixture()
def daemon_logging() -> Iterator[None]:
    """logsetup.setup changes process-wide loggers: put them back afterwards."""
    saved = {}
    for name in ("micromove", "pynput"):
        lg = logging.getLogger(name)
        saved[name] = (list(lg.handlers), lg.level, lg.propagate)
    yield
    for name, (handlers, level, propagate) in saved.items():
        lg = logging.getLogger(name)
        lg.handlers[:] = handlers
        lg.setLevel(level)
        lg.propagate = propagate


SECRET = "q7xz-s3cr3t"


def test_describe_exception_keeps_only_messages_about_files_and_connections() -> None:
    from micromove.logsetup import describe_exception

    assert describe_exception(KeyError(SECRET)) == "KeyError"
    assert describe_exception(ValueError(f"bad keysym {SECRET}")) == "ValueError"
    assert describe_exception(OSError(19, "No such device")) == "OSError: [Errno 19] No such device"
    assert describe_exception(BrokenPipeError(32, "Broken\npipe")) == "BrokenPipeError: [Errno 32] Broken pipe"


def test_pynput_logging_and_thread_deaths_never_print_input(
    daemon_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    import threading

    from micromove import logsetup
    from micromove.commands.run import _thread_excepthook

    class Keep(logging.Handler):
        def __init__(self) -> None:
            super().__init__(logging.DEBUG)
            self.records: list[logging.LogRecord] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.records.append(record)

    root_seen = Keep()  # whatever else configures logging (a root handler) sees nothing either
    logging.getLogger().addHandler(root_seen)
    log = logsetup.setup()
    # pynput logs a traceback when a listener callback raises, under loggers
    # such as "pynput.keyboard.Listener" (and our listener subclasses' names).
    try:
        raise KeyError(SECRET)
    except KeyError:
        logging.getLogger("pynput.keyboard.Listener").exception("Unhandled exception in listener callback")
        logging.getLogger("pynput.keyboard.Watched").critical("key %s", SECRET)
        log.error("a callback failed", exc_info=True)
    hook = _thread_excepthook(log)
    old = threading.excepthook
    threading.excepthook = hook
    try:
        def boom() -> None:
            raise ValueError(f"unknown key {SECRET!r} at (512, 384)")

        t = threading.Thread(target=boom, name="micromove-test")
        t.start()
        t.join()
    finally:
        threading.excepthook = old
        logging.getLogger().removeHandler(root_seen)
    assert [r.name for r in root_seen.records] == []
    err = capsys.readouterr().err
    assert SECRET not in err and "384" not in err, err
    assert err.splitlines() == [
        "ERROR a callback failed: KeyError",
        "ERROR thread micromove-test ended: ValueError",
    ]
