"""The service (micromove/service.py) through its typed API, on a real Daemon,
Session and Store driven pass by pass on a fake clock; the inbox that hands
it calls from other threads; the control protocol's pure framing."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fakes import WALL0, FakeClock, FakeNotifier, FakeSource
from micromove import config as config_mod
from micromove.adapters.store import Store
from micromove.commands.run import wire
from micromove.control import protocol
from micromove.control.server import ControlEndpoint
from micromove.daemon import Daemon
from micromove.inbox import Inbox, Stopping
from micromove.service import ServiceError
from test_control import cfg_text, rows

WRIST = "hands.wrist_pulse"


class Rig:
    def __init__(self, tmp_path: Path) -> None:
        cfg = config_mod.from_text(cfg_text({WRIST: 0.05}, pause=1, break_s=60, max_defer=60), "t.yaml")
        self.store = Store.open(tmp_path / "d.db")
        self.clock, self.notifier = FakeClock(1000.0), FakeNotifier()
        self.d = Daemon(cfg, store=self.store, source=FakeSource(), notifier=self.notifier, clock=self.clock,
                        batch_s=0)  # fmt: skip
        self.svc = wire(self.d, self.store, self.notifier, None)
        self.d.start()

    def at(self, t: float, key: bool = False) -> None:
        self.clock.t = t
        if key:
            self.d.tap.add("key")
        self.d._pass()

    def type(self, start: float, end: float) -> None:
        t = start
        while t <= end:
            self.at(t, key=True)
            t += 0.5


@pytest.fixture(name="rig")
def rig_fixture(tmp_path: Path) -> Iterator[Rig]:
    r = Rig(tmp_path)
    yield r
    r.store.close()


def test_quiet_holds_stay_through_resume_and_status_lists_holds_by_name(rig: Rig) -> None:
    svc, t0 = rig.svc, rig.clock.t
    svc.hold("quiet.lock", None, t0)
    svc.pause(None, t0)
    names = [h.name for h in svc.holds(t0)]
    assert names == ["pause", "quiet.lock"]
    rig.type(t0, t0 + 5)  # the wrist pulse falls due after 3 s
    rig.at(t0 + 8)  # a natural pause: held
    assert rig.notifier.sent == []
    r = svc.resume(t0 + 8)
    assert r.was == "pause" and r.due == (WRIST,)
    assert [h.name for h in svc.holds(t0 + 8)] == ["quiet.lock"]  # resume lifts only the person's
    st = svc.status(t0 + 8)
    assert st.hold is None and [h.name for h in st.holds] == ["quiet.lock"]
    assert st.due[0].not_before is None  # still held until the lock ends
    rig.type(t0 + 9, t0 + 10)
    rig.at(t0 + 12)
    assert rig.notifier.sent == []  # the lock still holds it
    svc.release("quiet.lock", t0 + 12)
    rig.type(t0 + 13, t0 + 14)
    rig.at(t0 + 16)
    assert len(rig.notifier.sent) == 1 and "Wrist pulse" in rig.notifier.sent[0][1]
    with pytest.raises(ValueError):
        svc.hold("pause", None, t0)  # the person's names are not for quiet-time sources
    with pytest.raises(ValueError):
        svc.release("snooze", t0)


def test_a_timed_quiet_hold_ends_by_itself_and_is_not_kept(rig: Rig) -> None:
    svc, t0 = rig.svc, rig.clock.t
    svc.hold("quiet.hours", WALL0 + t0 + 30, t0)
    assert [(h.name, h.until) for h in svc.holds(t0)] == [("quiet.hours", pytest.approx(WALL0 + t0 + 30))]
    rig.store.flush()
    assert rows(rig.store.path, "SELECT value FROM state WHERE key = 'control.hold'") in ([], [("",)])
    rig.at(t0 + 31)
    assert svc.holds(t0 + 31) == ()


def test_done_by_delivery_id_with_a_source(rig: Rig) -> None:
    svc, t0 = rig.svc, rig.clock.t
    rig.type(t0, t0 + 4)
    rig.at(t0 + 6)
    assert len(rig.notifier.sent) == 1
    rig.at(t0 + 7)
    st = svc.status(t0 + 7)
    assert st.last_set is not None and st.last_set.delivered is True
    did = st.last_set.delivery_id
    got = svc.done(now=t0 + 8, delivery_id=did, source="button")
    assert got.source == "button" and [(m.cue, m.delivery_id, m.already) for m in got.marked] == [(WRIST, did, False)]
    again = svc.done((WRIST,), now=t0 + 9)
    assert [m.already for m in again.marked] == [True]
    with pytest.raises(ServiceError) as exc:
        svc.done(now=t0 + 9, delivery_id=did + 100)
    assert exc.value.code == "nothing"
    rig.store.flush()
    assert rows(rig.store.path, "SELECT cue_id, delivery_id, kind FROM confirmations WHERE kind = 'done'") == [
        (WRIST, did, "done")
    ]


def test_the_endpoint_encodes_what_the_service_answers(rig: Rig) -> None:
    ep = ControlEndpoint(Path("/nonexistent"), rig.svc, rig.d.inbox)
    t0 = rig.clock.t
    rig.svc.hold("quiet.dnd", None, t0)
    reply = ep.execute(protocol.Request("pause", 60.0), t0)
    assert reply["ok"] and reply["hold"]["kind"] == "pause" and reply["was"] is None
    st = ep.execute(protocol.Request("status"), t0)
    assert st["hold"]["kind"] == "pause"
    assert [h["name"] for h in st["holds"]] == ["pause", "quiet.dnd"]
    assert [h["until"] for h in st["holds"]] == [pytest.approx(WALL0 + t0 + 60), None]
    json.dumps(st, allow_nan=False)  # every value is plain JSON
    assert ep.execute(protocol.Request("resume"), t0)["was"] == "pause"
    assert ep.execute(protocol.Request("resume"), t0) == {"ok": True, "was": None}
    assert ep.execute(protocol.Request("done"), t0)["code"] == "nothing"


def test_calls_from_another_thread_run_on_the_loop_between_passes(rig: Rig) -> None:
    seen: list[tuple[str, float]] = []
    call = rig.d.inbox.submit(lambda now: seen.append((threading.current_thread().name, now)) or "ok")
    assert rig.d.inbox.waiting() and seen == []
    rig.at(rig.clock.t + 1)
    assert call.event.is_set() and call.result == "ok" and seen == [(threading.current_thread().name, rig.clock.t)]
    late = rig.d.inbox.submit(lambda now: seen.append(("late", now)))
    assert late.cancel()  # the asker gave up: never run
    rig.at(rig.clock.t + 1)
    assert len(seen) == 1


def test_an_inbox_at_exit_answers_stopping() -> None:
    woken: list[int] = []
    inbox = Inbox(lambda: woken.append(1))
    queued = inbox.submit(lambda now: 1)
    inbox.close()
    assert isinstance(queued.error, Stopping) and woken == [1]
    after = inbox.submit(lambda now: 2)
    assert isinstance(after.error, Stopping)
    failing = Inbox(lambda: None)
    c = failing.submit(lambda now: 1 / 0)
    failing.run(0.0)
    assert isinstance(c.error, ZeroDivisionError)  # a failing call never stops the loop


# ---------------------------------------------------------------- framing
def events(reader: protocol.LineReader) -> list[Any]:
    out = []
    while True:
        e = reader.next_event()
        out.append(e)
        if not isinstance(e, protocol.Line):
            return out


def test_line_reader_splits_lines_and_keeps_a_partial_one() -> None:
    r = protocol.LineReader(10)
    r.receive(b'{"a":1}\n{"b"')
    assert events(r) == [protocol.Line(b'{"a":1}'), protocol.NEED_DATA]
    assert r.pending
    r.receive(b":2}\n")
    assert events(r) == [protocol.Line(b'{"b":2}'), protocol.NEED_DATA]
    r.receive(b"tail")
    r.receive(b"")  # the peer closed: a last line without its newline still counts
    assert events(r) == [protocol.Line(b"tail"), protocol.CLOSED]


def test_line_reader_too_long_with_or_without_newline() -> None:
    r = protocol.LineReader(4)
    r.receive(b"12345")
    assert r.next_event() == protocol.TooLong(4)
    r = protocol.LineReader(4)
    r.receive(b"1234\n12345\n")
    assert r.next_event() == protocol.Line(b"1234")
    assert r.next_event() == protocol.TooLong(4)
    r = protocol.LineReader(4)
    r.receive(b"")
    assert r.next_event() is protocol.CLOSED


def test_mmctl_status_lists_the_holds_in_force_by_name(rig: Rig) -> None:
    from micromove.commands.control import _show_status

    ep = ControlEndpoint(Path("/nonexistent"), rig.svc, rig.d.inbox)
    t0 = rig.clock.t
    rig.svc.hold("quiet.lock", None, t0)
    rig.type(t0, t0 + 5)
    rig.at(t0 + 8)
    text = _show_status(ep.execute(protocol.Request("status"), t0 + 8), False)
    assert "  holds:     quiet.lock (until it ends)\n" in text
    assert "held back until the end of quiet.lock" in text
    ep.execute(protocol.Request("pause"), t0 + 8)
    text = _show_status(ep.execute(protocol.Request("status"), t0 + 8), False)
    assert "  holds:     pause (until `mmctl resume`), quiet.lock (until it ends)\n" in text
    assert "held back until `mmctl resume` and the end of quiet.lock" in text
    ep.execute(protocol.Request("resume"), t0 + 8)
    rig.svc.release("quiet.lock", t0 + 8)
    text = _show_status(ep.execute(protocol.Request("status"), t0 + 8), False)
    assert "holds:" not in text and "held back" not in text
