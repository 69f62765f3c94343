"""`mmctl status` tells when a due cue really goes out (issue 11 item 10).

A cue held back (a snooze, the gap after the last notification) can never go
out "at the latest HH:MM:SS" when its stretch's break comes first: the break
drops it. The status must say that, and the daemon must then really drop it.
A real Daemon (Session, engine, Store, Controller) on a fake clock; fakes only
behind the project's interfaces (clock, input source, notifier).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fakes import WALL0, FakeClock, FakeSource
from micromove import config as config_mod
from micromove.adapters.store import Store
from micromove.commands.control import _show_status
from micromove.commands.run import wire
from micromove.control.protocol import status_json
from test_control import Notifier, cfg_text


@pytest.fixture(name="daemon")
def daemon_fixture(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    from micromove.daemon import Daemon

    # The wrist pulse falls due after 3 s of typing; a stretch ends after 60 s without keys.
    max_defer = getattr(request, "param", 600)
    cfg = config_mod.from_text(
        cfg_text({"hands.wrist_pulse": 0.05}, pause=1, break_s=60, max_defer=max_defer), "t.yaml"
    )
    store = Store.open(tmp_path / "d.db")
    clock, notifier = FakeClock(1000.0), Notifier()
    d = Daemon(cfg, store=store, source=FakeSource(), notifier=notifier, clock=clock, batch_s=0)
    svc = wire(d, store, notifier, None)
    d.start()

    def at(t: float, key: bool = False) -> None:
        clock.t = t
        if key:
            d.tap.add("key")
        d._pass()

    d.test_at, d.test_notifier, d.test_svc = at, notifier, svc  # type: ignore[attr-defined]
    yield d
    store.close()


def status(d: Any) -> dict[str, Any]:
    """What `mmctl status --json` gets from the daemon."""
    return status_json(d.test_svc.status(d._t))


def _clock(t: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(t))


def test_a_cue_the_break_drops_is_not_promised_for_later(daemon: Any) -> None:
    d, at = daemon, daemon.test_at
    t0 = d._t
    d.test_svc.snooze(120, t0)  # held until t0 + 120; the stretch would end at t0 + 5 + 60
    for i in range(11):
        at(t0 + i * 0.5, key=True)  # 5 s of typing: the wrist pulse is due at t0 + 3
    at(t0 + 7)
    r = status(d)
    (due,) = r["due"]
    assert due["cue"] == "hands.wrist_pulse"
    ends = WALL0 + t0 + 5 + 60
    assert due["stretch_ends"] == pytest.approx(ends, abs=0.01)
    assert due["at_latest"] > ends  # what the old status promised, after the break
    text = _show_status(r, as_json=False)
    (line,) = [x for x in text.splitlines() if "due:" in x]
    assert "at the latest" not in line, line
    assert f"if you keep typing; dropped at {_clock(ends)} unless you type again before then" in line, line
    # ... and it is what happens: no keys, the stretch ends, the cue is gone, nothing shown.
    at(t0 + 5 + 60 + 0.5)
    at(t0 + 200)
    assert status(d)["due"] == [] and d.test_notifier.sent == []


@pytest.mark.parametrize("daemon", [20], indirect=True)  # waits at most 20 s for a pause
def test_a_cue_whose_cap_comes_first_keeps_its_latest_time(daemon: Any) -> None:
    d, at = daemon, daemon.test_at
    t0 = d._t
    d.test_svc.snooze(10, t0)  # ends long before the stretch could
    for i in range(11):
        at(t0 + i * 0.5, key=True)
    r = status(d)
    (due,) = r["due"]
    assert due["at_latest"] < due["stretch_ends"]
    text = _show_status(r, as_json=False)
    (line,) = [x for x in text.splitlines() if "due:" in x]
    assert f"at the latest {_clock(due['at_latest'])}" in line and "dropped" not in line, line


def test_a_paused_cue_says_the_break_will_drop_it(daemon: Any) -> None:
    d, at = daemon, daemon.test_at
    t0 = d._t
    d.test_svc.pause(None, t0)
    for i in range(11):
        at(t0 + i * 0.5, key=True)
    r = status(d)
    text = _show_status(r, as_json=False)
    (line,) = [x for x in text.splitlines() if "due:" in x]
    assert "held back until `mmctl resume`" in line and "dropped at" in line, line
