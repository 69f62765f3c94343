"""The cue notifier with buttons (adapters/notify_dbus.py) against real parts.

A private session bus (no service activation) and the project's own
notification server (tests/notify_server.py), which lists the `actions`
capability when asked to and sends ActionInvoked / NotificationClosed to
the connection that sent the notification, as GNOME Shell and dunst do.
The notifier is driven exactly as the daemon's worker thread drives it;
answers land in a list standing in for the daemon's queue.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from desktop import (  # noqa: F401 - fixtures are used by name
    NotifyServer,
    SessionBus,
    notify_server_factory_fixture,
    session_bus_fixture,
)
from micromove.adapters.notify_dbus import CATEGORY, EXPIRE_MS, ActionNotifier, Answer, cue_actions

pytestmark = [pytest.mark.desktop]

TIMEOUT = 1.0
ACTIONS = cue_actions(15)


class Sink:
    def __init__(self) -> None:
        self.got: list[Answer] = []
        self.cond = threading.Condition()

    def __call__(self, a: Answer) -> None:
        with self.cond:
            self.got.append(a)
            self.cond.notify_all()

    def wait(self, pred: Callable[[list[Answer]], bool], timeout: float = 5.0) -> list[Answer]:
        with self.cond:
            self.cond.wait_for(lambda: pred(self.got), timeout)
            return list(self.got)


def wait_until(pred: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.01)
    return pred()


@pytest.fixture
def notifier(session_bus: str) -> Any:
    n = ActionNotifier(TIMEOUT, address=session_bus)
    sink = Sink()
    n.set_answer_sink(sink)
    n.sink = sink  # type: ignore[attr-defined]
    try:
        yield n
    finally:
        n.close()


def test_a_cue_carries_done_and_snooze_and_a_done_click_comes_back_with_its_set(
    notifier: Any, notify_server_factory: Any
) -> None:
    server: NotifyServer = notify_server_factory("ok", actions=True)
    r = notifier.notify_cue("Micro-move: Hands", "Wrist pulse", 7, ACTIONS)
    assert r.ok, r.error
    (rec,) = server.records()
    assert rec["actions"] == ["done", "Done", "snooze", "Snooze 15 min"]
    assert rec["hints"] == {"urgency": 1, "category": CATEGORY}
    assert rec["expire_timeout"] == EXPIRE_MS and rec["replaces_id"] == 0
    server.invoke(rec["id"], "done")
    got = notifier.sink.wait(lambda g: len(g) >= 2)
    # Done, then micromove closes the notification itself (reason 3: neither done nor dismissed).
    assert got == [Answer(7, "action", key="done"), Answer(7, "closed", reason=3)]
    # A second click on a closed notification is nobody's answer.
    server.invoke(rec["id"], "done", broadcast=True)
    assert wait_until(lambda: notifier.ignored == 1)
    assert len(notifier.sink.got) == 2


def test_the_next_cue_replaces_the_previous_one_and_answers_go_to_the_newest_set(
    notifier: Any, notify_server_factory: Any
) -> None:
    server: NotifyServer = notify_server_factory("ok", actions=True)
    assert notifier.notify_cue("a", "b", 1, ACTIONS).ok
    assert notifier.notify_cue("c", "d", 2, ACTIONS).ok
    first, second = server.records()
    assert second["replaces_id"] == first["id"] == second["id"]
    server.close_note(second["id"], 2)
    assert notifier.sink.wait(lambda g: len(g) >= 1) == [Answer(2, "closed", reason=2)]


def test_a_server_without_actions_gets_no_buttons(notifier: Any, notify_server_factory: Any) -> None:
    server: NotifyServer = notify_server_factory("ok", actions=False)
    assert notifier.notify_cue("t", "b", 1, ACTIONS).ok
    assert server.records()[0]["actions"] == []


def test_signals_for_ids_it_did_not_send_are_ignored_and_counted(
    notifier: Any, notify_server_factory: Any, caplog: pytest.LogCaptureFixture
) -> None:
    server: NotifyServer = notify_server_factory("ok", actions=True)
    assert notifier.notify_cue("t", "b", 3, ACTIONS).ok
    nid = server.records()[0]["id"]
    with caplog.at_level(logging.DEBUG, logger="micromove"):
        server.invoke(nid + 100, "done", broadcast=True)  # an earlier run's, another program's
        server.close_note(nid + 101, 2, broadcast=True)
        assert wait_until(lambda: notifier.ignored == 2)
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO and "ignored" in r.getMessage()]
    assert len(lines) == 1 and f"notification {nid + 100}" in lines[0], lines
    assert notifier.sink.got == []


def test_a_flood_of_signals_gives_each_answer_once(notifier: Any, notify_server_factory: Any) -> None:
    server: NotifyServer = notify_server_factory("ok", actions=True)
    assert notifier.notify_cue("t", "b", 4, ACTIONS).ok
    nid = server.records()[0]["id"]
    server.flood(3000, nid + 50, "done", broadcast=True)  # not ours
    server.flood(3000, nid, "*")  # 3000 different keys on ours
    assert wait_until(lambda: notifier.ignored == 3000, timeout=20)
    server.invoke(nid, "done")  # still heard after the flood
    got = notifier.sink.wait(lambda g: any(a.key == "done" for a in g), timeout=10)
    keys = [a.key for a in got if a.kind == "action"]
    assert len(keys) <= 4 and keys.count("k0") == 1, keys
    assert ("done" in keys) == (len(keys) < 4)  # at most 4 distinct keys per notification


def test_a_server_restart_between_notify_and_click_drops_the_old_ids(
    notifier: Any, notify_server_factory: Any, caplog: pytest.LogCaptureFixture
) -> None:
    server: NotifyServer = notify_server_factory("ok", actions=True)
    assert notifier.notify_cue("t", "b", 5, ACTIONS).ok
    nid = server.records()[0]["id"]
    with caplog.at_level(logging.INFO, logger="micromove"):
        server.restart()
        assert wait_until(lambda: "restarted" in caplog.text or "went away" in caplog.text)
        server.invoke(nid, "done", broadcast=True)  # the new server's id 1 is not our cue
        assert wait_until(lambda: notifier.ignored == 1)
    assert notifier.sink.got == []
    assert notifier.notify_cue("t", "b", 6, ACTIONS).ok  # the new server gets buttons too
    rec = server.records()[-1]
    assert rec["actions"][0] == "done" and rec["replaces_id"] == 0
    server.invoke(rec["id"], "snooze")
    assert notifier.sink.wait(lambda g: len(g) >= 1)[0] == Answer(6, "action", key="snooze")


def test_a_hung_server_fails_within_the_time_limit_and_the_connection_stays_usable(
    notifier: Any, notify_server_factory: Any
) -> None:
    hung: NotifyServer = notify_server_factory("hang", actions=True)
    t0 = time.monotonic()
    r = notifier.notify_cue("t", "b", 1, ACTIONS)
    took = time.monotonic() - t0
    assert not r.ok and "did not answer within" in str(r.error)
    assert took < TIMEOUT + 0.5
    hung.stop()
    ok: NotifyServer = notify_server_factory("ok", actions=True)
    assert notifier.notify_cue("t", "b", 2, ACTIONS).ok
    assert ok.records()[0]["actions"][0] == "done"
    assert notifier.stats["reconnects"] == 0


def test_a_bus_restart_reconnects_with_backoff_and_meanwhile_sends_without_buttons(
    session_bus: str, notify_server_factory: Any, caplog: pytest.LogCaptureFixture
) -> None:
    bus = SessionBus()
    first = bus.start()
    n = ActionNotifier(TIMEOUT, address=first)
    try:
        s1: NotifyServer = notify_server_factory("ok", bus=first, actions=True)
        assert n.notify_cue("t", "b", 1, ACTIONS).ok
        fds = len(os.listdir("/proc/self/fd"))
        with caplog.at_level(logging.INFO, logger="micromove"):
            s1.stop()
            bus.stop()  # the bus goes away under the open connection
            assert wait_until(lambda: "lost the notification connection" in caplog.text)
            r = n.notify_cue("t", "b", 2, ACTIONS)  # nothing to reach: an honest failure
            assert not r.ok
            assert "cannot open the notification connection" in caplog.text
        # The bus is back (elsewhere): within the back-off, a cue still goes out, without buttons.
        n._address = session_bus
        s2: NotifyServer = notify_server_factory("ok", actions=True)
        assert n.notify_cue("t", "b", 3, ACTIONS).ok
        assert s2.records()[-1]["actions"] == []
        time.sleep(1.1)  # the first back-off is 1 s
        assert n.notify_cue("t", "b", 4, ACTIONS).ok
        assert s2.records()[-1]["actions"][0] == "done"
        assert n.stats["reconnects"] == 1
        # The broken connection's socket and pipe were closed (s1's pipes gave way to s2's).
        assert len(os.listdir("/proc/self/fd")) == fds
    finally:
        n.close()
        bus.stop()
