"""The notifier against a real notification server on a private session bus.

No D-Bus mocks: tests/notify_server.py owns org.freedesktop.Notifications on a
dbus-daemon of the test's own, in each of its modes. Time bounds asserted here
are the notifier's HARD limit (a correctness property), with generous slack.
"""

from __future__ import annotations

import os
import queue
import signal
import threading
import time
from collections.abc import Callable

import pytest

from desktop import (  # noqa: F401 - fixtures are used by name
    NotifyServer,
    SessionBus,
    notify_server_factory_fixture,
    notify_server_fixture,
    session_bus_fixture,
)
from micromove.adapters.notify import (
    NO_BUS,
    NO_SERVER,
    AsyncNotifier,
    DBusNotifier,
    NotifyResult,
    format_cue_set,
    make_notifier,
    server_info,
)
from micromove.config import DEFAULTS
from micromove.core import catalog

pytestmark = pytest.mark.desktop

TIMEOUT = 1.0
SLACK = 2.0  # scheduling slack on a loaded 2-core machine; the limit itself is TIMEOUT


def timed(f: Callable[[], NotifyResult]) -> tuple[NotifyResult, float]:
    t0 = time.monotonic()
    r = f()
    return r, time.monotonic() - t0


def test_ok_delivers_exactly_the_title_and_body(session_bus: str, notify_server: NotifyServer) -> None:
    title, body = format_cue_set(["hands.wrist_pulse", "eyes.far_focus"])
    r = DBusNotifier(TIMEOUT, address=session_bus).notify(title, body)
    assert r == NotifyResult(True, None, "micromove-test-server")
    [rec] = notify_server.wait_records(1)
    assert rec["app_name"] == "micromove"
    assert rec["summary"] == title
    assert rec["body"] == body


def test_the_bus_address_comes_from_the_environment(
    session_bus: str, notify_server: NotifyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", session_bus)
    n = make_notifier(TIMEOUT)
    assert isinstance(n, DBusNotifier)
    r = n.notify("env title", "env body")
    assert r.ok and r.server == "micromove-test-server"
    assert notify_server.wait_records(1)[0]["summary"] == "env title"
    assert server_info() == ("micromove-test-server", "micromove", "1.0")


def test_no_server_on_the_bus_is_a_failure_not_a_success(session_bus: str) -> None:
    n = DBusNotifier(TIMEOUT, address=session_bus)
    r, took = timed(lambda: n.notify("t", "b"))
    assert r == NotifyResult(False, NO_SERVER, None)
    assert took < TIMEOUT + SLACK
    assert n.server_info() is None
    assert not n.check().ok


@pytest.mark.parametrize("notify_server", ["error"], indirect=True)
def test_an_error_reply_is_a_failure_with_the_error(session_bus: str, notify_server: NotifyServer) -> None:
    r = DBusNotifier(TIMEOUT, address=session_bus).notify("t", "b")
    assert not r.ok
    assert r.error is not None
    assert "org.freedesktop.Notifications.Error.Test" in r.error
    assert "test server refuses notifications" in r.error
    assert len(notify_server.wait_records(1)) == 1  # it got there, and said no


@pytest.mark.parametrize("mode", ["hang", "hang-all"])
def test_a_hung_server_fails_within_the_limit(
    session_bus: str, notify_server_factory: Callable[..., NotifyServer], mode: str
) -> None:
    notify_server_factory(mode)
    n = DBusNotifier(TIMEOUT, address=session_bus)
    r, took = timed(lambda: n.notify("t", "b"))
    assert not r.ok
    assert r.error == f"the notification server did not answer within {TIMEOUT:g} s"
    assert TIMEOUT * 0.9 <= took < TIMEOUT + SLACK


def test_a_frozen_bus_daemon_cannot_break_the_limit() -> None:
    bus = SessionBus()
    address = bus.start()
    assert bus.pid is not None
    os.kill(bus.pid, signal.SIGSTOP)
    try:
        r, took = timed(lambda: DBusNotifier(TIMEOUT, address=address).notify("t", "b"))
    finally:
        os.kill(bus.pid, signal.SIGCONT)
        bus.stop()
    assert not r.ok
    assert r.error == f"the session bus did not answer within {TIMEOUT:g} s"
    assert took < TIMEOUT + SLACK


def test_no_session_bus_address_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    r = DBusNotifier(TIMEOUT).notify("t", "b")
    assert r == NotifyResult(False, "no session bus (DBUS_SESSION_BUS_ADDRESS is not set)", None)
    assert r.error == NO_BUS
    assert server_info() is None


def test_a_bus_address_that_leads_nowhere_is_a_failure(tmp_path: object) -> None:
    r = DBusNotifier(TIMEOUT, address="unix:path=/nonexistent/micromove-bus").notify("t", "b")
    assert not r.ok and r.error is not None and "cannot reach the session bus" in r.error
    r = DBusNotifier(TIMEOUT, address="tcp:host=localhost,port=1").notify("t", "b")
    assert not r.ok and r.error is not None and "session bus address" in r.error


def test_the_time_limit_is_at_most_three_seconds_and_defaults_to_the_config() -> None:
    assert DBusNotifier().timeout_s == DEFAULTS.notify_timeout_s <= 3.0
    for bad in (0, -1, 3.5):
        with pytest.raises(ValueError):
            DBusNotifier(bad)


# ------------------------------------------------------------------ AsyncNotifier
class Results:
    def __init__(self) -> None:
        self.q: queue.Queue[tuple[NotifyResult, str]] = queue.Queue()

    def cb(self) -> Callable[[NotifyResult], None]:
        caller = threading.current_thread().name

        def on_result(r: NotifyResult) -> None:
            assert threading.current_thread().name != caller
            self.q.put((r, threading.current_thread().name))

        return on_result

    def get(self, timeout: float) -> NotifyResult:
        return self.q.get(timeout=timeout)[0]


def test_async_submit_never_blocks_and_survives_a_hung_server(
    session_bus: str, notify_server: NotifyServer
) -> None:
    notify_server.restart("hang")
    an = AsyncNotifier(DBusNotifier(TIMEOUT, address=session_bus))
    res = Results()
    try:
        t0 = time.monotonic()
        an.submit("first", "b", res.cb())
        an.submit("second", "b", res.cb())
        assert time.monotonic() - t0 < 0.5  # submit hands over, it does not call
        first = res.get(TIMEOUT + SLACK)
        assert not first.ok and first.error is not None and "did not answer" in first.error
        second = res.get(TIMEOUT + SLACK)  # queued behind the hung one: one more limit at most
        assert not second.ok
        notify_server.restart("ok")
        an.submit("third", "delivered at last", res.cb())
        third = res.get(TIMEOUT + SLACK)
        assert third == NotifyResult(True, None, "micromove-test-server")
        recs = notify_server.records()
        assert [(x["summary"], x["body"]) for x in recs][-1] == ("third", "delivered at last")
        assert [x["summary"] for x in recs] == ["first", "second", "third"]
    finally:
        assert an.close(timeout=TIMEOUT + SLACK)


class SlowUnbounded:
    """A notifier that breaks the contract (no `bounded`): hangs until released."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self.release = threading.Event()
        self.calls = 0

    def notify(self, title: str, body: str) -> NotifyResult:
        self.calls += 1
        if title == "hang":
            self.release.wait(30)
        if title == "raise":
            raise RuntimeError("boom")
        return NotifyResult(True, None, "slow")


def test_async_abandons_an_unbounded_call_and_caps_the_abandoned() -> None:
    n = SlowUnbounded(0.3)
    an = AsyncNotifier(n)
    res = Results()
    try:
        an.submit("hang", "b", res.cb())
        r = res.get(5)
        assert not r.ok and r.error is not None and "within 0.3 s" in r.error
        an.submit("fine", "b", res.cb())
        assert res.get(5).ok
        an.submit("raise", "b", res.cb())
        r = res.get(5)
        assert not r.ok and r.error == "RuntimeError: boom"
        an.submit("hang", "b", res.cb())
        assert not res.get(5).ok
        calls = n.calls
        an.submit("fine", "b", res.cb())  # two abandoned threads still hung: refuse at once
        r = res.get(5)
        assert not r.ok and r.error is not None and "still stuck" in r.error
        assert n.calls == calls
    finally:
        n.release.set()
        assert an.close(timeout=5)


def test_a_broken_callback_does_not_stop_the_worker(
    session_bus: str, notify_server: NotifyServer
) -> None:
    an = AsyncNotifier(DBusNotifier(TIMEOUT, address=session_bus))
    res = Results()

    def bad(r: NotifyResult) -> None:
        raise ValueError("callback bug")

    try:
        an.submit("one", "b", bad)
        an.submit("two", "b", res.cb())
        assert res.get(TIMEOUT + SLACK).ok
    finally:
        an.close(timeout=TIMEOUT + SLACK)
    after: list[NotifyResult] = []
    an.submit("after close", "b", after.append)  # answered at once, on the caller's thread
    assert after == [NotifyResult(False, "the notifier is closed", None)]
    assert [x["summary"] for x in notify_server.records()] == ["one", "two"]


def test_close_answers_what_it_could_not_send() -> None:
    n = SlowUnbounded(0.5)
    an = AsyncNotifier(n)
    res = Results()
    an.submit("hang", "b", res.cb())
    an.submit("queued", "b", res.cb())
    time.sleep(0.05)
    assert an.close(timeout=0.1)  # the hung call ends at its limit; the queued one is not sent
    first, second = res.get(5), res.get(5)
    n.release.set()
    assert not first.ok
    assert second == NotifyResult(False, "micromove stopped before the notification was sent", None)
    assert n.calls == 1


# ------------------------------------------------------------------ the text
@pytest.mark.parametrize("region", catalog.REGIONS)
def test_format_cue_set_for_each_region(region: str) -> None:
    moves = [m for m in catalog.MOVEMENTS if m.region == region]
    title, body = format_cue_set([m.id for m in moves[:1]])
    assert title == f"Micro-move: {catalog.REGION_NAMES[region]}"
    m = moves[0]
    assert body == f"{m.title} \u2014 {m.instruction} ({m.dose})"
    title, body = format_cue_set([(m.id, m.trigger, 1200.0) for m in moves])
    assert title == ("Micro-moves: " if len(moves) > 1 else "Micro-move: ") + catalog.REGION_NAMES[region]
    assert body.splitlines() == [f"{m.title} \u2014 {m.instruction} ({m.dose})" for m in moves]


def test_format_cue_set_names_every_region_in_catalog_order() -> None:
    title, body = format_cue_set(["eyes.far_focus", "hands.wrist_pulse", "eyes.far_focus"])
    assert title == "Micro-moves: Hands and wrists, Eyes"
    assert len(body.splitlines()) == 2  # the duplicate is shown once
    with pytest.raises(ValueError, match="unknown cue id 'hands.nope'"):
        format_cue_set(["hands.nope"])
    with pytest.raises(ValueError, match="empty"):
        format_cue_set([])


def test_catalog_text_carries_no_notification_markup() -> None:
    # Servers with body-markup would read these as markup; the catalog has none.
    for cid in catalog.IDS:
        title, body = format_cue_set([cid])
        assert not set("<>&") & set(title + body), cid


def test_a_callback_taking_ok_and_error_gets_them(session_bus: str) -> None:
    # micromove.daemon's callback is on_result(ok, error=None): no NotifyResult object.
    got: queue.Queue[tuple[bool, str | None]] = queue.Queue()

    def on_result(ok: bool, error: str | None = None) -> None:
        got.put((ok, error))

    an = AsyncNotifier(DBusNotifier(TIMEOUT, address=session_bus))
    try:
        an.submit("t", "b", on_result)
        assert got.get(timeout=TIMEOUT + SLACK) == (False, NO_SERVER)
    finally:
        an.close(timeout=TIMEOUT + SLACK)


def test_the_notify_py_fallback_delivers_within_its_limit(
    session_bus: str, notify_server: NotifyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The macOS/fallback adapter, exercised here through notify-py's Linux path.
    from micromove.adapters.notify import NotifyPyNotifier

    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", session_bus)
    r = NotifyPyNotifier(3.0).notify("via notify-py", "body")
    assert r.ok, r.error
    [rec] = notify_server.wait_records(1)
    assert (rec["app_name"], rec["summary"], rec["body"]) == ("micromove", "via notify-py", "body")
