"""Answers on a cue notification: the pure confirmations, and the daemon's loop taking them.

The loop runs on the virtual clock of test_daemon_unit (real session, engine
and store); the notifier is a fake behind the project's own interface (the
AsyncNotifier's `submit_cue` and `set_answer_sink`), whose answers are fed
exactly as the real notifier's reader thread feeds them.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from fakes import START, FakeClock
from micromove.adapters.notify_dbus import Answer
from micromove.answers import Answers
from micromove.commands.run import wire
from micromove.core.confirm import Confirmations, NothingToMark
from test_daemon_unit import FakeNotifier, Harness


# ------------------------------------------------------------------ pure
def make() -> tuple[Confirmations, list[tuple[float, str, int, str, str]]]:
    got: list[tuple[float, str, int, str, str]] = []
    c = Confirmations(lambda *row: got.append(row), lambda _c: 100.0)
    return c, got


def test_done_set_marks_every_cue_of_that_set_with_its_source() -> None:
    c, got = make()
    c.delivered(1, 10.0, ["hands.wrist_pulse", "eyes.far_focus"])
    c.delivered(2, 20.0, ["neck.chin_tuck"])
    marked = c.done_set(1, 25.0)
    assert [(s.delivery_id, cue, already) for s, cue, already in marked] == [
        (1, "hands.wrist_pulse", False), (1, "eyes.far_focus", False),
    ]  # fmt: skip
    assert got == [(25.0, "hands.wrist_pulse", 1, "done", "button"), (25.0, "eyes.far_focus", 1, "done", "button")]
    assert [a for _s, _c, a in c.done_set(1, 26.0)] == [True, True]  # twice: written once
    assert len(got) == 2
    s1 = c.find(1)
    assert s1 is not None and s1.answer() == "done" and s1.done_by == "button"
    c.done(None, 27.0)  # `mmctl done`: the last set, from the CLI
    assert got[-1] == (27.0, "neck.chin_tuck", 2, "done", "cli")
    with pytest.raises(NothingToMark):
        c.done_set(99, 28.0)
    c.failed(2)
    with pytest.raises(NothingToMark):
        c.done_set(2, 29.0)


def test_dismissed_is_recorded_once_never_for_done_cues_and_is_not_a_done() -> None:
    c, got = make()
    c.delivered(1, 10.0, ["hands.wrist_pulse", "eyes.far_focus"])
    c.done(["eyes.far_focus"], 11.0)
    s = c.dismissed(1, 12.0)
    assert s is not None and s.answer() == "done"  # a done cue outranks the dismissal
    assert got[-1] == (12.0, "hands.wrist_pulse", 1, "dismissed", "button")
    assert c.dismissed(1, 13.0) is None and len(got) == 2
    c.delivered(2, 20.0, ["neck.chin_tuck"])
    s2 = c.dismissed(2, 21.0)
    assert s2 is not None and s2.answer() == "dismissed" and not s2.done
    assert c.dismissed(7, 22.0) is None


def test_a_likely_done_gap_after_a_dismissal_counts_and_outranks_it() -> None:
    c, got = make()  # every movement 100 s: a likely-done gap is 60 s or more
    c.delivered(1, 10.0, ["hands.wrist_pulse"])
    c.input(12.0)
    s1 = c.dismissed(1, 13.0)  # closed first, then moved: a gap of 187 s
    assert s1 is not None and s1.answer() == "dismissed"
    c.advance(200.0)
    assert [row[3] for row in got] == ["dismissed", "likely"]
    assert s1.answer() == "likely"
    c.delivered(2, 300.0, ["eyes.far_focus"])
    c.input(301.0)
    c.input(305.0)  # typing on: no gap long enough
    assert c.dismissed(2, 306.0) is not None
    c.input(310.0)
    s2 = c.find(2)
    assert s2 is not None and s2.answer() == "dismissed" and [row[3] for row in got][-1] == "dismissed"


# ------------------------------------------------------------------ the loop
class ButtonNotifier(FakeNotifier):
    """FakeNotifier that takes cues with buttons and hands answers to the daemon's sink."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        self.sink: Any = None
        self.cues: list[tuple[int, tuple[tuple[str, str], ...]]] = []

    def set_answer_sink(self, sink: Any) -> bool:
        self.sink = sink
        return True

    def submit_cue(self, title: str, body: str, on_result: Any, tag: int, actions: Any) -> None:
        self.cues.append((tag, tuple(actions)))
        self.submit(title, body, on_result)


def test_the_loop_takes_done_snooze_dismissed_and_ignores_the_rest(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    h = Harness(tmp_path, end=START + 300)
    n = ButtonNotifier(h.clock)
    h.notifier = n
    h.daemon.notifier = n
    h.daemon.answers = Answers(h.daemon)
    assert h.daemon.answers.buttons
    wire(h.daemon, h.store, n, None)  # the service, as `mmctl run` wires it

    def answer(t: float, a: Answer) -> None:
        h.at(t, lambda: n.sink(a))

    h.keys(10, 20)  # cue set 1 at ~21
    answer(22, Answer(1, "action", key="done"))
    h.keys(30, 40)  # cue set 2 at ~41
    answer(42, Answer(2, "closed", reason=2))
    answer(42.5, Answer(2, "closed", reason=2))  # again: recorded once
    answer(43, Answer(2, "closed", reason=1))  # expired: neither
    answer(44, Answer(99, "action", key="done"))  # a set this run does not know
    h.keys(50, 60)  # cue set 3 at ~61
    answer(62, Answer(3, "action", key="default"))  # the body: not a done
    answer(62.5, Answer(3, "action", key="bogus"))
    answer(63, Answer(3, "action", key="snooze"))  # 15 min: nothing more goes out
    h.keys(70, 80)  # due again during the snooze: held
    with caplog.at_level(logging.INFO, logger="micromove"):
        assert h.run() == 0
    assert [tag for tag, _a in n.cues] == [1, 2, 3]
    assert n.cues[0][1] == (("done", "Done"), ("snooze", "Snooze 15 min"))
    rows = h.rows("SELECT delivery_id, kind, source FROM confirmations ORDER BY id")
    assert rows == [(1, "done", "button"), (2, "dismissed", "button"), (3, "likely", "inferred")]
    text = caplog.text
    assert "marked done (Done on the notification): hands.wrist_pulse" in text
    assert "cue set 99 is not one micromove showed" in text
    assert text.count("cue notification dismissed") == 1
    assert "cue notification clicked (not a Done" in text
    assert "ignored an unknown notification action 'bogus'" in text
    assert "snoozed for 15 min" in text
