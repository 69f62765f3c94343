"""Control of the running daemon (issue 5 items 2-4): `mmctl status | pause | resume |
snooze | done`, "likely done", the weekly check-in reminder.

Unit tests drive the real Session, Store and Service on synthetic times (fakes
only behind the project's interfaces: clock, input source, notifier). Live tests
run the real `mmctl run` on a real desktop (Xvfb, xdotool, a private session bus,
the project's notification server) and the real `mmctl` client in subprocesses.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from _mmctl import config_yaml, mmctl, mmctl_command, one_error_line
from desktop import (  # noqa: F401
    Desktop,
    desktop_fixture,
    notify_server_fixture,
    session_bus_fixture,
    type_text,
    xvfb_fixture,
)
from fakes import WALL0, FakeClock, FakeSource
from fakes import FakeNotifier as Notifier
from micromove import config as config_mod
from micromove.adapters.store import Store
from micromove.commands.run import wire
from micromove.control import protocol as control
from micromove.control.server import peer_uid
from micromove.core import catalog, reminder
from micromove.core.confirm import LIKELY_MIN_S, Confirmations, NothingToMark
from micromove.core.session import Session
from micromove.errors import UsageError
from micromove.service import Service


def cfg_text(cues: dict[str, float], *, pause: float = 1, break_s: float = 60, max_defer: float = 60,
             min_gap: float = 0, extra: str = "") -> str:
    """A config with only `cues` enabled (id -> every_min), progression off."""
    return config_yaml(cues, min_s=pause, max_defer_s=max_defer, break_s=break_s, min_gap_s=min_gap, extra=extra)


def rows(db: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


# ====================================================================== durations, protocol
@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("10m", 600), ("1h", 3600), ("1h30m", 5400), ("2d", 172800), ("1h0m5s", 3605), ("7d", 604800)],
)
def test_durations(text: str, seconds: float) -> None:
    assert control.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "0s", "30", "1.5h", "10x", "m", "1m1h", "-5m", "8d", " ", "1 h"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(UsageError) as err:
        control.parse_duration(text)
    assert "\n" not in str(err.value)


def test_parse_request_accepts_the_protocol() -> None:
    p = control.parse_request
    assert p(b'{"cmd": "status"}') == control.Request("status")
    assert p(b'{"cmd": "pause"}') == control.Request("pause", None)
    assert p(b'{"cmd": "pause", "for_s": null}') == control.Request("pause", None)
    assert p(b'{"cmd": "pause", "for_s": 90}') == control.Request("pause", 90.0)
    assert p(b'{"cmd": "snooze"}') == control.Request("snooze", control.SNOOZE_DEFAULT_S)
    assert p(b'{"cmd": "snooze", "for_s": 0.5}\r') == control.Request("snooze", 0.5)
    assert p(b'{"cmd": "done", "cues": ["hands.wrist_pulse", "hands.wrist_pulse"]}') == control.Request(
        "done", None, ("hands.wrist_pulse",)
    )


@pytest.mark.parametrize(
    ("line", "code"),
    [
        (b"", "bad_request"),
        (b"   ", "bad_request"),
        (b"\xff\xfe", "bad_request"),
        (b"{", "bad_request"),
        (b"[]", "bad_request"),
        (b'"status"', "bad_request"),
        (b"{}", "bad_request"),
        (b'{"cmd": 1}', "bad_request"),
        (b'{"cmd": "reboot"}', "bad_request"),
        (b'{"cmd": "status", "x": 1}', "bad_request"),
        (b'{"cmd": "resume", "for_s": 1}', "bad_request"),
        (b'{"cmd": "pause", "for_s": true}', "bad_request"),
        (b'{"cmd": "pause", "for_s": "10m"}', "bad_request"),
        (b'{"cmd": "pause", "for_s": 0}', "bad_request"),
        (b'{"cmd": "pause", "for_s": -1}', "bad_request"),
        (b'{"cmd": "pause", "for_s": NaN}', "bad_request"),
        (b'{"cmd": "pause", "for_s": 1e999}', "bad_request"),
        (b'{"cmd": "pause", "for_s": 1' + b"0" * 400 + b"}", "bad_request"),
        (b'{"cmd": "snooze", "for_s": null}', "bad_request"),
        (b'{"cmd": "done", "cues": "hands.wrist_pulse"}', "bad_request"),
        (b'{"cmd": "done", "cues": []}', "bad_request"),
        (b'{"cmd": "done", "cues": [1]}', "bad_request"),
        (b'{"cmd": "done", "cues": ["hands.wrist_puls"]}', "unknown_cue"),
        (b"[" * 2000 + b"]" * 2000, "bad_request"),
        (b"x" * (control.MAX_LINE + 1), "too_long"),
    ],
)
def test_parse_request_refuses_malformed(line: bytes, code: str) -> None:
    with pytest.raises(control.ProtocolError) as err:
        control.parse_request(line)
    assert err.value.code == code
    assert "\n" not in str(err.value)


def test_unknown_cue_names_the_closest() -> None:
    assert "did you mean hands.wrist_pulse?" in control.unknown_cue_message("hands.wrist_puls")
    assert "did you mean hands.grip_modulation?" in control.unknown_cue_message("grip_modulation")
    assert "did you mean" not in control.unknown_cue_message("zzzz")


def test_peer_uid_of_a_socketpair_is_ours() -> None:
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with a, b:
        assert peer_uid(a) == os.geteuid()
        assert peer_uid(b) == os.geteuid()


# ====================================================================== likely done
def _session(tmp_path: Path, every_min: float = 1.0) -> tuple[Session, Store]:
    cfg = config_mod.from_text(cfg_text({"hands.wrist_pulse": every_min}, pause=3, break_s=120), "t.yaml")
    store = Store.open(tmp_path / "s.db")
    s = Session(cfg, wall_offset=WALL0, store=store, assume_delivered=True)
    s.start(0.0)
    return s, store


def _type(s: Session, start: float, end: float, step: float = 0.5) -> None:
    t = start
    while t <= end + 1e-9:
        s.input(round(t, 6), "key")
        t += step


def _confirmations(s: Session, store: Store) -> list[tuple[float, str, int, str]]:
    s.flush()
    store.flush()
    return rows(store.path, "SELECT t, cue_id, delivery_id, kind FROM confirmations ORDER BY id")


def _deliveries(store: Store) -> list[tuple[int, float]]:
    return rows(store.path, "SELECT id, t FROM deliveries ORDER BY id")


# wrist pulse: 20 s in the catalog -> a gap of max(10, 0.6 * 20) = 12 s is needed
NEED = max(LIKELY_MIN_S, 0.6 * catalog.BY_ID["hands.wrist_pulse"].seconds)


def test_a_gap_right_after_the_cue_is_likely_done(tmp_path: Path) -> None:
    s, store = _session(tmp_path)
    _type(s, 0, 61)  # due at 60, delivered at the pause 61 + 3 = 64
    s.input(80.0, "key")  # idle from 64 (delivery) to 80: 16 s >= 12
    got = _confirmations(s, store)
    (did, t), = _deliveries(store)
    assert t == pytest.approx(WALL0 + 64)
    assert got == [(pytest.approx(WALL0 + 64 + NEED), "hands.wrist_pulse", did, "likely")]
    store.close()


def test_a_gap_later_within_the_window_counts(tmp_path: Path) -> None:
    s, store = _session(tmp_path)
    _type(s, 0, 61)
    _type(s, 66, 100)  # back to typing, then a 15 s gap starting 36 s after the cue
    s.input(115.0, "key")
    got = _confirmations(s, store)
    assert [(k, c) for _, c, _, k in got] == [("likely", "hands.wrist_pulse")]
    assert got[0][0] == pytest.approx(WALL0 + 100 + NEED)
    store.close()


def test_short_gaps_and_late_gaps_are_not_likely_done(tmp_path: Path) -> None:
    s, store = _session(tmp_path)
    _type(s, 0, 61)
    _type(s, 70, 125, step=5.0)  # 5 s gaps: too short; then the window (64 + 60) is over
    s.input(140.0, "key")  # a 15 s gap, but it began at 125: too late for the first set
    s.advance(200.0)
    got = _confirmations(s, store)
    first, second = _deliveries(store)  # typing went on: the next wrist pulse went out at 128
    assert second[1] == pytest.approx(WALL0 + 128)
    assert [(did, k) for _, _, did, k in got] == [(second[0], "likely")]  # the gap was right after it
    store.close()


def test_a_gap_just_shorter_than_needed_is_not_enough(tmp_path: Path) -> None:
    s, store = _session(tmp_path)
    _type(s, 0, 61)
    s.input(64 + NEED - 0.01, "key")
    _type(s, 77, 130)
    assert _confirmations(s, store) == []
    store.close()


def test_done_first_means_no_likely_and_done_is_linked(tmp_path: Path) -> None:
    s, store = _session(tmp_path)
    _type(s, 0, 61)
    s.advance(65.0)  # the cue set went out at 64
    assert s.confirm is not None
    marked = s.confirm.done(None, 65.0)
    assert [(c, already) for _, c, already in marked] == [("hands.wrist_pulse", False)]
    again = s.confirm.done(["hands.wrist_pulse"], 66.0)
    assert [already for _, _, already in again] == [True]
    s.input(90.0, "key")
    got = _confirmations(s, store)
    (did, _), = _deliveries(store)
    assert got == [(WALL0 + 65.0, "hands.wrist_pulse", did, "done")]
    store.close()


def test_done_after_likely_is_still_recorded(tmp_path: Path) -> None:
    s, store = _session(tmp_path)
    _type(s, 0, 61)
    s.input(90.0, "key")
    assert s.confirm is not None
    s.confirm.done(None, 91.0)
    assert [k for *_, k in _confirmations(s, store)] == ["likely", "done"]
    store.close()


def test_a_set_that_was_not_shown_is_neither_likely_nor_markable(tmp_path: Path) -> None:
    s, store = _session(tmp_path)
    _type(s, 0, 61)
    s.advance(64.0)
    assert s.confirm is not None
    did = s.confirm.recent[-1].delivery_id
    s.not_delivered(did)
    s.input(90.0, "key")
    assert _confirmations(s, store) == []
    with pytest.raises(NothingToMark):
        s.confirm.done(None, 91.0)
    with pytest.raises(NothingToMark):
        s.confirm.done(["hands.wrist_pulse"], 91.0)
    store.close()


def test_named_cues_take_the_latest_set_that_held_them(tmp_path: Path) -> None:
    cfg = config_mod.from_text(
        cfg_text({"hands.wrist_pulse": 1.0, "hands.grip_modulation": 1.0}, pause=3, break_s=30), "t.yaml"
    )
    store = Store.open(tmp_path / "s.db")
    s = Session(cfg, wall_offset=WALL0, store=store, assume_delivered=True)
    s.start(0.0)
    _type(s, 0, 61)  # wrist pulse at 64
    t = 64.5
    while t < 130:  # mouse only (typing ended at 91): grip modulation due at 124.5, out at the pause
        s.input(t, "move", 5.0)
        t += 0.5
    s.advance(135.0)
    assert s.confirm is not None
    sets = list(s.confirm.recent)
    assert [x.cues for x in sets] == [("hands.wrist_pulse",), ("hands.grip_modulation",)]
    marked = s.confirm.done(["hands.wrist_pulse"], 140.0)
    assert [(x.delivery_id, c) for x, c, _ in marked] == [(sets[0].delivery_id, "hands.wrist_pulse")]
    with pytest.raises(NothingToMark):
        s.confirm.done(["hands.finger_piano"], 141.0)
    store.close()


def test_likely_done_needs_no_clock_and_runs_per_event() -> None:
    got: list[tuple[float, str, int, str]] = []
    c = Confirmations(lambda t, cue, did, kind, _src: got.append((t, cue, did, kind)), lambda _c: 100.0)
    c.delivered(7, 10.0, ["a", "b"])  # 2 x 100 s -> 120 s needed
    c.input(11.0)
    c.advance(130.0)
    assert got == []
    c.advance(131.0)
    assert got == [(131.0, "a", 7, "likely"), (131.0, "b", 7, "likely")]
    c.advance(500.0)  # once
    assert len(got) == 2


def test_simulate_db_records_likely_done(tmp_path: Path) -> None:
    """`mmctl simulate --db` runs the same Session: likely done lands in the database,
    and `mmctl stats --json` counts it apart from done."""
    trace = tmp_path / "t.jsonl"
    lines = [json.dumps({"t": round(i * 0.5, 3), "kind": "key"}) for i in range(0, 123)]  # 0 .. 61 s
    lines.append(json.dumps({"t": 100.0, "kind": "key"}))
    trace.write_text("\n".join(lines) + "\n")
    conf = tmp_path / "c.yaml"
    conf.write_text(cfg_text({"hands.wrist_pulse": 1.0}, pause=3, break_s=60))  # one cue set only
    db = tmp_path / "sim.db"
    r = mmctl("simulate", trace, "--config", conf, "--db", db, "--start", "2026-03-02T09:00")
    assert r.returncode == 0, r.stderr
    assert [json.loads(x)["cue"] for x in r.stdout.splitlines()] == ["hands.wrist_pulse"]
    got = rows(db, "SELECT cue_id, kind, delivery_id FROM confirmations")
    (did,), = rows(db, "SELECT id FROM deliveries")
    assert got == [("hands.wrist_pulse", "likely", did)]
    again = tmp_path / "sim2.db"
    mmctl("simulate", trace, "--config", conf, "--db", again, "--start", "2026-03-02T09:00")
    assert rows(again, "SELECT t, cue_id, kind FROM confirmations") == rows(db, "SELECT t, cue_id, kind FROM confirmations")
    st = mmctl("stats", "--db", db, "--json")
    assert st.returncode == 0, st.stderr
    totals = json.loads(st.stdout)["totals"]
    assert totals["cues"] == 1 and totals["cues_done"] == 0
    if "cues_likely_done" in totals:
        assert totals["cues_likely_done"] == 1


# ====================================================================== check-in reminder
@pytest.fixture(name="loop")
def loop_fixture(tmp_path: Path) -> Iterator[Any]:
    """A real Daemon (real Session, Store, Service) on a fake clock, driven pass by pass."""
    from micromove.daemon import Daemon

    cfg = config_mod.from_text(cfg_text({}, pause=3, break_s=120), "t.yaml")
    store = Store.open(tmp_path / "d.db")
    clock, notifier = FakeClock(1000.0), Notifier()
    d = Daemon(cfg, store=store, source=FakeSource(), notifier=notifier, clock=clock, batch_s=0)
    svc = wire(d, store, notifier, None)
    d.start()

    class Loop:
        pass

    lp = Loop()
    lp.d, lp.clock, lp.notifier, lp.store, lp.svc = d, clock, notifier, store, svc  # type: ignore[attr-defined]

    def at(t: float, key: bool = False) -> None:
        clock.t = t
        if key:
            d.tap.add("key")
        d._pass()

    lp.at = at  # type: ignore[attr-defined]
    yield lp
    store.close()


DAY = 86400.0


def test_reminder_weekly_at_a_natural_pause(loop: Any) -> None:
    d, n = loop.d, loop.notifier
    t0 = loop.clock.t
    loop.at(t0 + 6 * DAY, key=True)
    loop.at(t0 + 6 * DAY + 10)
    assert n.sent == []  # not a week yet
    week = t0 + 7 * DAY + 5
    loop.at(week, key=True)
    assert n.sent == []  # typing: no pause yet
    assert loop.svc.next_deadline() == pytest.approx(week + 3.0)  # the loop wakes at the natural pause
    assert d._timeout() == pytest.approx(3.0)
    loop.at(week + 1, key=True)
    loop.at(week + 3.5)
    assert n.sent == []  # 2.5 s without input: not a pause yet
    loop.at(week + 4)
    assert len(n.sent) == 1
    assert "mmctl checkin" in n.sent[0][1]
    loop.at(week + 5)  # the result is taken on the loop's thread
    assert loop.svc.reminder.sent == 1
    d.store.flush()
    (anchor,), = rows(d.store.path, "SELECT value FROM state WHERE key = ?", reminder.ANCHOR_KEY)
    assert float(anchor) == pytest.approx(WALL0 + week + 4)
    for day in range(1, 7):  # not again within the week
        loop.at(week + day * DAY, key=True)
        loop.at(week + day * DAY + 10)
    assert len(n.sent) == 1
    loop.at(week + 7 * DAY + 10, key=True)
    loop.at(week + 7 * DAY + 20)
    assert len(n.sent) == 2


def test_reminder_waits_for_presence_and_quiet(loop: Any) -> None:
    d, n = loop.d, loop.notifier
    t0 = loop.clock.t
    loop.at(t0 + 8 * DAY)  # due, but nobody at the desk: nothing, and no wake-up for it
    assert n.sent == [] and loop.svc.next_deadline() is None
    loop.svc.pause(None, d._t)
    loop.at(t0 + 8 * DAY + 100, key=True)
    loop.at(t0 + 8 * DAY + 110)
    assert n.sent == []  # paused: no reminder either
    loop.svc.resume(d._t)
    loop.at(t0 + 8 * DAY + 120, key=True)
    loop.at(t0 + 8 * DAY + 130)
    assert len(n.sent) == 1


def test_a_checkin_restarts_the_week_and_failures_retry(loop: Any) -> None:
    d, n = loop.d, loop.notifier
    t0 = loop.clock.t
    d.store.add_checkin("2026-01-05", WALL0 + t0 + 5 * DAY, False, False, True)
    d.store.flush()
    loop.at(t0 + 8 * DAY, key=True)
    loop.at(t0 + 8 * DAY + 10)
    assert n.sent == []  # checked in 3 days ago
    n.ok = False
    loop.at(t0 + 12 * DAY + 60, key=True)
    loop.at(t0 + 12 * DAY + 70)
    loop.at(t0 + 12 * DAY + 71)
    assert len(n.sent) == 1 and loop.svc.reminder.sent == 0
    loop.at(t0 + 12 * DAY + 600, key=True)
    loop.at(t0 + 12 * DAY + 610)
    assert len(n.sent) == 1  # retried only an hour later
    n.ok = True
    loop.at(t0 + 12 * DAY + 3700, key=True)
    loop.at(t0 + 12 * DAY + 3710)
    loop.at(t0 + 12 * DAY + 3711)
    assert len(n.sent) == 2 and loop.svc.reminder.sent == 1


def test_reminder_off_by_config(tmp_path: Path) -> None:
    sent: list[str] = []
    r = reminder.CheckinReminder(
        enabled=False, get_state=lambda k: None, set_state=lambda k, v: None,
        last_checkin=lambda: None, submit=lambda t, b, cb: sent.append(t),
    )
    r.start(WALL0, None)
    assert not r.maybe_send(WALL0 + 30 * DAY, at_pause=True, quiet=True)
    assert sent == [] and r.next_due() is None


def restarted(loop: Any, t: float) -> Service:
    """Another service on the same daemon, as after a restart."""
    d = loop.d
    svc = Service(d.session, d.store, loop.notifier, d.clock)
    svc.start(t)
    return svc


def person_hold(svc: Service, t: float) -> str | None:
    names = [h.name for h in svc.holds(t) if h.name in ("pause", "snooze")]
    return names[0] if names else None


def test_pause_is_kept_across_a_restart_of_the_service(loop: Any) -> None:
    d = loop.d
    reply = loop.svc.pause(None, d._t)
    assert reply.hold.name == "pause" and reply.hold.until is None
    c2 = restarted(loop, d._t + 50)
    assert person_hold(c2, d._t + 50) == "pause"
    assert c2.resume(d._t + 60).was == "pause"
    c3 = restarted(loop, d._t + 70)
    assert person_hold(c3, d._t + 70) is None
    loop.svc.snooze(100, d._t)  # over by the time it restarts: forgotten
    c4 = restarted(loop, d._t + 200)
    assert person_hold(c4, d._t + 200) is None


def test_a_pause_kept_in_the_older_single_hold_form_is_still_restored(loop: Any) -> None:
    d = loop.d
    since = WALL0 + d._t
    d.store.set_state("control.hold", json.dumps({"kind": "pause", "since": since, "until": None}))
    d.store.flush()
    c2 = restarted(loop, d._t + 10)
    assert person_hold(c2, d._t + 10) == "pause"
    assert d.session.engine.holds() == {"pause": None}
    c2.resume(d._t + 20)  # written back in the named form
    c2.snooze(600, d._t + 20)
    d.store.flush()
    (raw,), = rows(d.store.path, "SELECT value FROM state WHERE key = 'control.hold'")
    saved = json.loads(raw)["holds"]
    assert list(saved) == ["snooze"] and saved["snooze"]["until"] == pytest.approx(WALL0 + d._t + 620)
    for bad in ('{"kind": "nap", "since": 1, "until": null}', '{"holds": {"pause": {"since": "x"}}}', "[1]"):
        d.store.set_state("control.hold", bad)
        c3 = restarted(loop, d._t + 30)  # not understood: ignored, with a warning
        assert person_hold(c3, d._t + 30) is None


# ====================================================================== live: mmctl run
CONFIG = cfg_text({"hands.wrist_pulse": 0.05}, pause=1, break_s=60, max_defer=60)  # due after 3 s of typing


class Live:
    """`mmctl run` on the test desktop; stderr collected in a thread."""

    def __init__(self, desktop: Desktop, config: str = CONFIG, env: dict[str, str] | None = None) -> None:
        self.desktop = desktop
        self.env = dict(desktop.env, **(env or {}))
        self.config = desktop.home / "config.yaml"
        self.config.write_text(config)
        self.proc: subprocess.Popen[str] | None = None
        self.log: list[str] = []

    @property
    def db(self) -> Path:
        return Path(self.env["XDG_DATA_HOME"]) / "micromove" / "micromove.db"

    @property
    def socket(self) -> Path:
        return Path(self.env["XDG_RUNTIME_DIR"]) / "micromove" / "control.sock"

    def start(self) -> Live:
        self.log = []
        proc = subprocess.Popen(
            [*mmctl_command(), "run", "--config", str(self.config)],
            env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        self.proc = proc
        ready = threading.Event()

        def read() -> None:
            assert proc.stderr is not None
            for line in proc.stderr:
                self.log.append(line.rstrip("\n"))
                if "watching input" in line:
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        assert ready.wait(30), self.log
        assert proc.poll() is None, self.log
        return self

    def stop(self) -> int:
        proc, self.proc = self.proc, None
        if proc is None:
            return 0
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise

    def mm(self, *args: str) -> subprocess.CompletedProcess[str]:
        return mmctl(*args, env=self.env, timeout=30)

    def status(self) -> dict[str, Any]:
        r = self.mm("status", "--json")
        assert r.returncode == 0, (r.stdout, r.stderr, self.log)
        out = json.loads(r.stdout)
        assert isinstance(out, dict)
        return out

    def wait_status(self, pred: Any, timeout: float = 15.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            st = self.status()
            if pred(st) or time.monotonic() > deadline:
                return st
            time.sleep(0.2)

    def type(self, seconds: float) -> None:
        """About `seconds` of continuous typing (12 ms a key)."""
        type_text(self.desktop.display, "typing along " * max(1, int(seconds / 0.16)))


@pytest.fixture(name="live")
def live_fixture(desktop: Desktop) -> Iterator[Live]:
    lv = Live(desktop)
    try:
        yield lv
    finally:
        if lv.proc is not None:
            lv.stop()
        assert not any("Traceback" in line for line in lv.log), lv.log


def test_status_shows_the_running_daemon(live: Live) -> None:
    # a socket file left by a killed daemon is replaced
    live.socket.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(live.socket))
    stale.close()
    r = live.mm("status")
    assert r.returncode == 1 and "not running" in r.stdout
    live.start()
    assert any("replaced a stale control socket" in line for line in live.log)
    mode = live.socket.stat().st_mode & 0o777
    assert mode == 0o600 and live.socket.parent.stat().st_mode & 0o777 == 0o700
    st = live.status()
    assert st["running"] is True and st["pid"] == live.proc.pid  # type: ignore[union-attr]
    assert "x11" in st["backend"] and st["input_quality"] == "counts"  # from the backend registry
    assert st["holds"] == []
    assert st["stretches"]["typing"] is None
    assert st["hold"] is None and st["due"] == []
    assert st["progression"]["regions"] == list(catalog.REGIONS)  # progression off: all
    typed = len("typing along ") * max(1, int(1.0 / 0.16))
    live.type(1.0)
    # Input reaches the daemon in batches (XInput2: at most 0.2 s late): wait for all of it.
    st = live.wait_status(lambda s: s["stretches"]["typing"] and s["today"]["keys"] >= typed)
    assert st["stretches"]["typing"]["length_s"] > 0.3
    assert st["stretches"]["active"]["length_s"] >= st["stretches"]["typing"]["length_s"]
    assert st["today"]["keys"] > 20 and st["idle_s"] is not None
    human = live.mm("status")
    assert human.returncode == 0 and human.stderr == ""
    assert "micromove is running" in human.stdout and "typing:" in human.stdout and "stretch since" in human.stdout
    assert live.stop() == 0
    assert not live.socket.exists()  # removed at exit
    r = live.mm("status")
    assert r.returncode == 1 and "micromove is not running" in r.stdout and r.stderr == ""
    r = live.mm("status", "--json")
    assert r.returncode == 1 and json.loads(r.stdout)["running"] is False


def test_pause_holds_cues_resume_lets_them_out_and_done_marks_them(live: Live) -> None:
    server = live.desktop.server
    live.start()
    r = live.mm("pause")
    assert r.returncode == 0 and "paused until `mmctl resume`" in r.stdout, r
    live.type(4.5)  # the wrist pulse falls due after 3 s of typing
    st = live.wait_status(lambda s: s["due"])
    time.sleep(2.0)  # a natural pause (1 s) goes by
    st = live.status()
    assert [d["cue"] for d in st["due"]] == ["hands.wrist_pulse"]
    assert st["due"][0]["not_before"] is None  # held back until resume
    assert st["hold"]["kind"] == "pause" and st["hold"]["until"] is None
    assert server.records() == []  # nothing shown while paused
    assert "held back until `mmctl resume`" in live.mm("status").stdout
    r = live.mm("done")
    assert r.returncode == 1 and "no cue set" in r.stderr and len(r.stderr.splitlines()) == 1
    r = live.mm("resume")
    assert r.returncode == 0 and "cueing again" in r.stdout and "hands.wrist_pulse" in r.stdout
    live.type(0.3)  # back at the keys; the next natural pause lets the held cue out
    recs = server.wait_records(1, timeout=15)
    assert len(recs) == 1 and "Wrist pulse" in recs[0]["body"]
    st = live.wait_status(lambda s: s["last_set"] and s["last_set"]["delivered"] is True)
    did = st["last_set"]["delivery_id"]
    r = live.mm("done")
    assert r.returncode == 0 and "marked done: Wrist pulse (hands.wrist_pulse)" in r.stdout
    r = live.mm("done", "hands.wrist_pulse")
    assert r.returncode == 0 and "already marked done" in r.stdout
    r = live.mm("done", "hands.grip_modulation")
    assert r.returncode == 1 and "has not been cued" in r.stderr
    assert "did you mean hands.wrist_pulse?" in one_error_line(live.mm("done", "hands.wrist_puls"))
    # pause survives a restart of the daemon
    assert live.mm("pause", "2h").returncode == 0
    assert live.stop() == 0
    got = rows(live.db, "SELECT cue_id, delivery_id, kind FROM confirmations WHERE kind = 'done'")
    assert got == [("hands.wrist_pulse", did, "done")]
    (cue,), = rows(live.db, "SELECT cue_id FROM delivery_cues WHERE delivery_id = ?", did)
    assert cue == "hands.wrist_pulse"
    live.start()
    assert any("still paused" in line for line in live.log)
    st = live.status()
    assert st["hold"]["kind"] == "pause" and st["hold"]["until"] == pytest.approx(time.time() + 7200, abs=120)
    assert live.mm("resume").returncode == 0
    assert live.status()["hold"] is None


def test_snooze_pushes_back_what_is_due(live: Live) -> None:
    server = live.desktop.server
    live.start()
    before = time.time()
    r = live.mm("snooze")  # default 10 minutes
    assert r.returncode == 0 and "snoozed until" in r.stdout
    st = live.status()
    assert st["hold"]["kind"] == "snooze"
    assert st["hold"]["until"] == pytest.approx(before + 600, abs=30)
    live.type(4.5)
    st = live.wait_status(lambda s: s["due"])
    time.sleep(2.0)
    st = live.status()
    assert server.records() == []
    (due,) = st["due"]
    assert due["cue"] == "hands.wrist_pulse"
    assert due["not_before"] >= st["hold"]["until"] - 0.01  # pushed back to the snooze's end
    assert due["at_latest"] == pytest.approx(due["not_before"] + 60, abs=0.01)
    r = live.mm("snooze", "1s")  # a shorter snooze replaces the long one
    assert r.returncode == 0
    time.sleep(1.5)
    live.type(0.3)
    recs = server.wait_records(1, timeout=15)
    assert len(recs) == 1 and "Wrist pulse" in recs[0]["body"]


def test_not_running_and_bad_arguments() -> None:
    for args in (["pause"], ["resume"], ["snooze", "5m"], ["done"]):
        r = mmctl(*args)
        assert r.returncode == 1, (args, r)
        assert r.stdout == "" and r.stderr.startswith("mmctl: micromove is not running")
        assert len(r.stderr.splitlines()) == 1
    r = mmctl("status")
    assert r.returncode == 1 and r.stdout.startswith("micromove is not running") and "Traceback" not in r.stderr
    for args, says in (
        (["pause", "10x"], "not a duration"),
        (["pause", "0s"], "more than 0"),
        (["snooze", "30"], "add a unit"),
        (["snooze", "8d"], "at most 7 days"),
        (["done", "hands.wrist_puls"], "did you mean hands.wrist_pulse?"),
        (["done", "hands.wrist_pulse", "nope"], 'unknown cue id "nope"'),
        (["status", "extra"], "unrecognized arguments"),
        (["resume", "10m"], "unrecognized arguments"),
    ):
        assert says in one_error_line(mmctl(*args)), args


def test_help_documents_exit_statuses() -> None:
    for cmd in ("status", "pause", "resume", "snooze", "done"):
        r = mmctl(cmd, "--help")
        assert r.returncode == 0 and "exit status: 0" in r.stdout and "1 micromove is not running" in r.stdout


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to connect as another uid")
def test_a_connection_from_another_uid_is_refused(desktop: Desktop) -> None:
    # A runtime folder that uid 65534 can traverse (pytest's own tmp folders are 0700).
    base = Path(tempfile.mkdtemp(prefix="mm-xuid-"))
    try:
        run = base / "run"
        run.mkdir(mode=0o700)
        live = Live(desktop, env={"XDG_RUNTIME_DIR": str(run)})
        live.start()
        try:
            assert live.socket.exists()
            for p in (base, run, live.socket.parent):
                p.chmod(0o711)
            live.socket.chmod(0o666)  # only the peer check stands in the way now
            nobody = 65534
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child: become another user, then connect
                code = 1
                try:
                    os.close(r)
                    os.setgroups([])
                    os.setgid(nobody)
                    os.setuid(nobody)
                    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    s.settimeout(5)
                    s.connect(str(live.socket))
                    with contextlib.suppress(OSError):
                        s.sendall(b'{"cmd": "pause"}\n')
                    data = b""
                    while b"\n" not in data:  # the reply line comes before any reset
                        chunk = s.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                    os.write(w, data or b"EOF")
                    code = 0
                except BaseException as exc:  # noqa: BLE001
                    os.write(w, f"ERROR {exc!r}".encode())
                finally:
                    os._exit(code)
            os.close(w)
            with os.fdopen(r, "rb") as f:
                out = f.read()
            _, status = os.waitpid(pid, 0)
            assert os.WEXITSTATUS(status) == 0, out
            reply = json.loads(out.splitlines()[0])
            assert reply == {"ok": False, "error": reply["error"], "code": "denied"}
            # The daemon logs it before it answers, but its stderr reaches live.log through a
            # reader thread: give that thread a moment instead of racing it.
            deadline = time.monotonic() + 10
            while not any("refused a connection from uid 65534" in line for line in live.log):
                assert time.monotonic() < deadline, live.log
                time.sleep(0.05)
            st = live.status()  # the refused peer changed nothing, and we still get in
            assert st["hold"] is None
        finally:
            assert live.stop() == 0
        assert not any("Traceback" in line for line in live.log)
    finally:
        shutil.rmtree(base, ignore_errors=True)
