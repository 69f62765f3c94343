"""Quiet times in the daemon's loop, on the virtual clock: sources behind the
project's own QuietSource interface (adapters/quiet), the real QuietWatch,
Session (named holds), engine and Store. The real desktop parts are driven in
test_quiet_desktop.py."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from fakes import START
from micromove.adapters.quiet import Offer
from micromove.quiet import QuietWatch
from test_daemon_unit import Harness, short_config


class Switch:
    """A quiet-time source the test flips: event-driven, or checked at decisions."""

    def __init__(self, name: str, event_driven: bool) -> None:
        self.name = name
        self.what = f"{name} on"
        self.event_driven = event_driven
        self.checked = not event_driven
        self.on = False
        self.asked: list[float] = []
        self.clock: Callable[[], float] = lambda: 0.0
        self._changed: Callable[[], None] = lambda: None

    def start(self, changed: Callable[[], None]) -> None:
        self._changed = changed

    def stop(self) -> None:
        pass

    def holding(self) -> bool:
        self.asked.append(self.clock())
        return self.on

    def offer(self) -> Offer:
        return Offer(True, "test")

    def set(self, on: bool) -> None:
        self.on = on
        if self.event_driven:
            self._changed()


def harness(tmp: Path, *sources: Switch, end: float = 200.0, **kw: object) -> Harness:
    """The daemon wired as `mmctl run` wires it: the service, then the quiet-time sources
    (holding through the service)."""
    from micromove.commands.run import wire

    h = Harness(tmp, end=START + end, **kw)
    h.service = wire(h.daemon, h.store, h.notifier, None)  # type: ignore[attr-defined]
    h.daemon.add_quiet(QuietWatch(h.daemon.session, h.waker.wake, list(sources), holds=h.service))  # type: ignore[attr-defined]
    for s in sources:
        s.clock = h.clock.now
    return h


def sent_at(h: Harness) -> list[float]:
    return [round(t - START, 3) for t, *_ in h.notifier.sent]


def test_event_source_holds_cues_and_they_go_out_at_the_first_pause_after(tmp_path: Path) -> None:
    lock = Switch("lock", event_driven=True)
    h = harness(tmp_path, lock)
    h.at(5, lambda: lock.set(True))
    h.keys(10, 20)  # wrist pulse due at 13; pauses at 21
    h.at(40, lambda: lock.set(False))
    h.keys(41, 45)  # still the same typing stretch (break_s 20); pause at 46
    assert h.run() == 0
    assert sent_at(h) == [46.0]
    assert h.daemon.session.engine.holds() == {}


def test_a_pause_that_began_before_the_end_does_not_count(tmp_path: Path) -> None:
    lock = Switch("lock", event_driven=True)
    h = harness(tmp_path, lock)
    h.at(5, lambda: lock.set(True))
    h.keys(10, 20)
    h.at(22, lambda: lock.set(False))  # the pause began at 21, before the lock ended
    h.keys(30, 33)
    assert h.run() == 0
    assert sent_at(h) == [34.0]


def test_max_defer_does_not_break_through_and_a_break_drops(tmp_path: Path) -> None:
    dnd = Switch("dnd", event_driven=True)
    h = harness(tmp_path, dnd)
    h.at(1, lambda: dnd.set(True))
    h.keys(5, 100)  # continuous typing: caps (max_defer 30 s) come and go
    assert h.run() == 0
    assert h.notifier.sent == []  # held all along; the break at 120 drops it
    assert h.rows("SELECT count(*) FROM deliveries") == [(0,)]


def test_checked_source_asked_at_the_decision_and_at_later_pauses_only(tmp_path: Path) -> None:
    cam = Switch("camera", event_driven=False)
    cam.on = True
    h = harness(tmp_path, cam, end=400.0)
    h.keys(10, 20)  # due 13, pause 21: asked
    h.keys(25, 26)  # pause 27: asked again (still on)
    h.at(28, lambda: setattr(cam, "on", False))
    h.keys(30, 31)  # pause 32: asked, off: the cue goes out at that pause
    assert h.run() == 0
    assert sent_at(h) == [32.0]
    assert [round(t - START, 3) for t in cam.asked] == [21.0, 27.0, 32.0]


def test_checked_source_never_polled_while_nobody_is_there(tmp_path: Path) -> None:
    fs = Switch("fullscreen", event_driven=False)
    fs.on = True
    h = harness(tmp_path, fs, end=600.0)
    h.keys(10, 20)  # asked once at 21; then nobody types: the break drops the cue
    assert h.run() == 0
    assert [round(t - START, 3) for t in fs.asked] == [21.0]
    assert h.notifier.sent == []
    # Idle after the break: the loop waits with no timeout (no periodic wake-ups).
    idle = [w for w in h.waker.waits if START + 60 < w[0] < START + 600]
    assert all(timeout is None for _t, timeout in idle), idle
    assert len(idle) <= 2, idle


def test_checked_source_off_costs_nothing_and_delivers_as_usual(tmp_path: Path) -> None:
    mic = Switch("microphone", event_driven=False)
    h = harness(tmp_path, mic)
    h.keys(10, 20)
    assert h.run() == 0
    assert sent_at(h) == [21.0]
    assert [round(t - START, 3) for t in mic.asked] == [21.0]  # once, at the decision


def test_resume_lifts_the_persons_pause_but_not_a_quiet_time(tmp_path: Path) -> None:
    lock = Switch("lock", event_driven=True)
    h = harness(tmp_path, lock)

    def pause() -> None:
        h.service.pause(None, h.clock.now())  # type: ignore[attr-defined]

    def resume() -> None:
        h.service.resume(h.clock.now())  # type: ignore[attr-defined]

    h.at(2, pause)
    h.at(3, lambda: lock.set(True))
    h.keys(10, 20)
    h.at(25, resume)
    h.keys(26, 28)  # the lock still holds at the pause at 29
    h.at(30, lambda: lock.set(False))
    h.keys(31, 33)
    assert h.run() == 0
    assert sent_at(h) == [34.0]


def test_status_names_the_quiet_times_holding(tmp_path: Path) -> None:
    from micromove.control.protocol import reply_for

    lock = Switch("lock", event_driven=True)
    cfg = short_config('quiet:\n  hours: ["00:00-24:00"]\n')
    h = harness(tmp_path, lock, cfg=cfg)
    seen: list[object] = []

    def look() -> None:
        seen.append(reply_for(h.service.status(h.clock.now()))["quiet"])  # type: ignore[attr-defined]

    h.at(5, lambda: lock.set(True))
    h.at(6, look)
    h.at(8, lambda: lock.set(False))
    h.at(9, look)
    assert h.run() == 0
    hours_until = seen[0][0]["until"]  # type: ignore[index]
    assert isinstance(hours_until, float) and hours_until > h.clock.wall()
    assert seen == [
        [{"source": "hours", "until": hours_until}, {"source": "lock", "until": None}],
        [{"source": "hours", "until": hours_until}],
    ]


def test_quiet_time_logged_with_what_not_who(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cam = Switch("camera", event_driven=False)
    cam.what = "camera in use"
    cam.on = True
    h = harness(tmp_path, cam)
    h.keys(10, 20)
    h.at(22, lambda: setattr(cam, "on", False))
    h.keys(25, 26)
    with caplog.at_level(logging.INFO, logger="micromove"):
        assert h.run() == 0
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "quiet time: camera in use: cues wait" in text, text
    assert "quiet time over (was: camera in use)" in text
    assert sent_at(h) == [27.0]


def test_sighup_switching_a_source_off_releases_it(tmp_path: Path) -> None:
    lock = Switch("lock", event_driven=True)
    off = short_config("quiet: {lock: false}\n")
    h = harness(tmp_path, lock, reload=lambda: off)
    h.at(3, lambda: lock.set(True))
    h.keys(10, 20)
    h.at(25, h.daemon.request_reload)
    h.keys(26, 28)
    assert h.run() == 0
    assert sent_at(h) == [29.0]


# ------------------------------------------------------------------ the verbose log (mmctl run -v)
def debug_lines(h: Harness, caplog: pytest.LogCaptureFixture) -> list[str]:
    with caplog.at_level(logging.DEBUG, logger="micromove"):
        assert h.run() == 0
    return [r.getMessage() for r in caplog.records]


def test_verbose_log_explains_due_waiting_and_delivered(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    h = harness(tmp_path)
    h.keys(10, 20)
    lines = debug_lines(h, caplog)
    due = [x for x in lines if x.startswith("cue due: hands.wrist_pulse")]
    assert due, lines
    assert "typing stretch 3 s" in due[0] and "waits for a natural pause (1 s without input)" in due[0]
    assert "at the latest" in due[0]
    assert "cue set goes out: hands.wrist_pulse (at a natural pause)" in lines
    assert "cue set delivered: hands.wrist_pulse" in lines


def test_verbose_log_says_which_hold_held_a_cue(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    lock = Switch("lock", event_driven=True)
    h = harness(tmp_path, lock)
    h.at(15, lambda: lock.set(True))  # the cue is due at 13, waiting; the lock comes at 15
    h.keys(10, 20)
    h.at(30, lambda: lock.set(False))
    h.keys(31, 33)
    lines = debug_lines(h, caplog)
    held = [x for x in lines if x.startswith("cue not sent, held: hands.wrist_pulse")]
    assert held == ["cue not sent, held: hands.wrist_pulse, by quiet time: screen locked (until released)"], lines
    over = [x for x in lines if x.startswith("cue hands.wrist_pulse: hold over; waits for a natural pause")]
    assert len(over) == 1, lines
    assert sent_at(h) == [34.0]


def test_verbose_log_names_snooze_and_min_gap(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cfg = dataclasses.replace(short_config(), min_gap_s=30.0)
    h = harness(tmp_path, cfg=cfg, end=300.0)
    h.keys(10, 20)  # delivered at 21
    h.keys(22, 30)  # due again at 24; the pause at 31 is inside the min gap (until 51)
    h.at(40, lambda: h.daemon.session.hold("snooze", START + 70, h.clock.now()))
    h.keys(50, 55)  # pause at 56: snoozed until 70
    lines = debug_lines(h, caplog)
    held = [x for x in lines if x.startswith("cue not sent, held: hands.wrist_pulse")]
    assert held[0].startswith("cue not sent, held: hands.wrist_pulse, by min gap between notifications (30 s, until "), held
    assert held[1].startswith("cue not sent, held: hands.wrist_pulse, by snooze (until "), held


def test_verbose_log_says_when_a_break_drops_a_cue(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    lock = Switch("lock", event_driven=True)
    h = harness(tmp_path, lock)
    h.at(5, lambda: lock.set(True))
    h.keys(10, 20)  # held; nobody comes back: the break (20 s) ends the stretch at 40
    lines = debug_lines(h, caplog)
    assert "cue dropped at a break (its typing stretch ended): hands.wrist_pulse" in lines
    assert h.notifier.sent == []


def test_verbose_log_never_names_keys_or_positions(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    h = harness(tmp_path)
    h.keys(10, 20)
    h.moves(30, 40)
    lines = debug_lines(h, caplog)
    text = "\n".join(lines)
    for bad in ("Key.", "'a'", "x=", "y=", "position", "char"):
        assert bad not in text
