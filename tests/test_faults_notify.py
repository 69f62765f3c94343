"""Notification faults against a live `mmctl run` (issue 8, fault 2).

Real parts: Xvfb + xdotool input, a private session bus, the project's own
notification server (tests/notify_server.py) in each of its modes, the
daemon's real notifier. A config makes the wrist pulse due after 0.6 s of
typing, so each burst of typing followed by a pause is one cue set.

For every fault — no server on the bus, a server answering with an error, a
server that never answers Notify, a frozen server — the daemon:
- says in its log that the cue set was not delivered, and why, while it runs
  (a hung server is given up on by the notifier's own time limit,
  `notify.timeout_s`, not by the daemon's exit);
- records the cue set as undelivered, with the reason, in the database, and
  `mmctl stats --json` counts it under `cues_undelivered`, never under `cues`;
- never stops counting: every key typed, before, during and after the
  fault, is in the database exactly.
A server that goes away and comes back gets the next cue set.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from _faults import LiveDaemon, counts, db_path, query, short_config_text, write_config
from _mmctl import mmctl
from desktop import (  # noqa: F401
    NotifyServer,
    desktop_env,
    notify_server_factory_fixture,
    session_bus_fixture,
    type_text,
    xvfb_fixture,
)

pytestmark = [pytest.mark.desktop]

TIMEOUT_S = 0.5  # notify.timeout_s in the config below
BURST = "abcdefghijklmnop"  # 16 keys, 60 ms apart: 0.9 s of typing


def burst(display: str) -> int:
    """Type long enough for the wrist pulse to come due; the pause after it delivers."""
    type_text(display, BURST, delay_ms=60)
    return len(BURST)


def setup_home(tmp_path: Path, display: str, bus: str) -> tuple[dict[str, str], Path]:
    home = tmp_path / "home"
    home.mkdir()
    write_config(home, short_config_text({"hands.wrist_pulse": (0.01, "typing")}, timeout_s=TIMEOUT_S))
    return desktop_env(display, bus, home), home


def stats(home: Path, env: dict[str, str]) -> dict:  # type: ignore[type-arg]
    proc = mmctl("stats", "--json", "--db", db_path(home), env=env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


FAULTS = {
    # mode: (how the server is set up, what the reason must say)
    "absent": "no notification server on the session bus",
    "error": "refused it: org.freedesktop.Notifications.Error.Test",
    "hang": f"the notification server did not answer within {TIMEOUT_S} s",
    "hang-all": f"the notification server did not answer within {TIMEOUT_S} s",
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_an_undelivered_cue_set_is_logged_recorded_honestly_and_counting_goes_on(
    fault: str, xvfb: str, session_bus: str, notify_server_factory: object, tmp_path: Path
) -> None:
    env, home = setup_home(tmp_path, xvfb, session_bus)
    server = None if fault == "absent" else notify_server_factory(fault)  # type: ignore[operator]
    reason = FAULTS[fault]
    typed = 0
    with LiveDaemon(env) as daemon:
        daemon.started()
        typed += burst(xvfb)
        if fault == "hang":
            # Type while the daemon's Notify call hangs in the server.
            assert server is not None and len(server.wait_records(1)) == 1
            typed += burst(xvfb)
        # The failure is known while the daemon runs: the notifier's time limit
        # ended the call (not the daemon's exit, which would say "stopped before").
        err = daemon.wait_for("cue set not delivered", timeout=15)
        assert reason in err, err
        # Counting never stalled: type on after the failure; the next cue set is tried too.
        typed += burst(xvfb)
        daemon.wait_for("cue set not delivered", timeout=15, count=2)
        rc = daemon.stop()
    assert rc == 0, daemon.stderr
    assert "Traceback" not in daemon.stderr
    assert "cue set delivered" not in daemon.stderr
    db = db_path(home)
    assert counts(db)["keys"] == typed
    rows = query(db, "SELECT delivered, error FROM deliveries ORDER BY id")
    assert len(rows) >= 2
    assert all(d == 0 and reason in str(e) for d, e in rows), rows
    totals = stats(home, env)["totals"]
    assert totals["cues"] == 0
    assert totals["cues_undelivered"] == len(rows)
    assert totals["keys"] == typed
    if server is not None:
        # The server did get the Notify calls it then failed (hang-all reads nothing).
        assert len(server.records()) == (0 if fault == "hang-all" else len(rows))


def test_a_server_that_goes_away_and_comes_back_gets_the_next_cue_set(
    xvfb: str, session_bus: str, notify_server_factory: object, tmp_path: Path
) -> None:
    env, home = setup_home(tmp_path, xvfb, session_bus)
    server: NotifyServer = notify_server_factory("ok")  # type: ignore[operator]
    typed = 0
    with LiveDaemon(env) as daemon:
        daemon.started()
        typed += burst(xvfb)
        daemon.wait_for("cue set delivered", timeout=15)
        assert len(server.wait_records(1)) == 1
        server.stop()
        typed += burst(xvfb)
        err = daemon.wait_for("cue set not delivered", timeout=15)
        assert FAULTS["absent"] in err
        server.start()  # the same server back on the bus
        typed += burst(xvfb)
        daemon.wait_for("cue set delivered", timeout=15, count=2)
        rc = daemon.stop()
    assert rc == 0, daemon.stderr
    recs = server.records()
    assert len(recs) == 2 and all(r["app_name"] == "micromove" for r in recs)
    assert all(r["summary"].startswith("Micro-move") for r in recs)
    db = db_path(home)
    rows = query(db, "SELECT delivered, error FROM deliveries ORDER BY id")
    assert [d for d, _e in rows] == [1, 0, 1], rows
    assert rows[0][1] is None and FAULTS["absent"] in str(rows[1][1]) and rows[2][1] is None
    assert counts(db)["keys"] == typed
    totals = stats(home, env)["totals"]
    assert (totals["cues"], totals["cues_undelivered"]) == (2, 1)


def test_a_hung_server_replaced_by_a_working_one_gets_the_next_cue_set(
    xvfb: str, session_bus: str, notify_server_factory: object, tmp_path: Path
) -> None:
    env, home = setup_home(tmp_path, xvfb, session_bus)
    hung: NotifyServer = notify_server_factory("hang")  # type: ignore[operator]
    with LiveDaemon(env) as daemon:
        daemon.started()
        burst(xvfb)
        daemon.wait_for("cue set not delivered", timeout=15)
        hung.stop()  # the hung server is restarted, working this time
        ok: NotifyServer = notify_server_factory("ok")  # type: ignore[operator]
        burst(xvfb)
        daemon.wait_for("cue set delivered", timeout=15)
        assert daemon.stop() == 0, daemon.stderr
    assert len(hung.records()) == 1 and len(ok.records()) == 1
    rows = query(db_path(home), "SELECT delivered FROM deliveries ORDER BY id")
    assert rows == [(0,), (1,)]
