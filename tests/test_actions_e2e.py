"""Done and Snooze on the notification, end to end, with real parts only.

`mmctl run` on Xvfb (input typed with xdotool), a private session bus, and
either dunst (the real server, its buttons pressed through its context menu:
tests/dunst.py) or the project's own server (tests/notify_server.py) for the
fault cases it can stage: a click on an earlier run's notification, an
unknown action key, a body click, a flood of signals, a server that restarts
between Notify and the click, a server without buttons.

Config: the wrist pulse comes due after 0.6 s of typing, a natural pause is
0.5 s, `notify.snooze_min` 0.1 (6 s). Each test stops its daemon soon after
the last answer: an input gap of 10 s after a cue would be inferred as
"likely done", which is not what these tests are about.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from _faults import LiveDaemon, counts, db_path, query, write_config
from _mmctl import config_yaml, mmctl
from desktop import (  # noqa: F401 - fixtures are used by name
    NotifyServer,
    desktop_env,
    notify_server_factory_fixture,
    session_bus_fixture,
    type_text,
    xvfb_fixture,
)
from dunst import Dunst

pytestmark = [pytest.mark.desktop, pytest.mark.slow]

SNOOZE_MIN = 0.1  # 6 s
PAUSE_S = 0.5
BURST = "abcdefghijklmnop"  # 16 keys, 60 ms apart: 0.9 s of typing


def burst(display: str) -> int:
    type_text(display, BURST, delay_ms=60)
    return len(BURST)


def setup_home(tmp_path: Path, display: str, bus: str) -> tuple[dict[str, str], Path]:
    home = tmp_path / "home"
    home.mkdir()
    write_config(home, config_yaml(
        {"hands.wrist_pulse": (0.01, "typing")}, min_s=PAUSE_S, max_defer_s=30, break_s=30, min_gap_s=0,
        timeout_s=2, snooze_min=SNOOZE_MIN, reminder=False,
    ))  # fmt: skip
    return desktop_env(display, bus, home), home


def stats(home: Path, env: dict[str, str]) -> dict[str, Any]:
    proc = mmctl("stats", "--json", "--db", db_path(home), env=env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def confirmations(home: Path) -> list[tuple[object, ...]]:
    return query(db_path(home), "SELECT delivery_id, cue_id, kind, source FROM confirmations ORDER BY id")


def hold_until(home: Path) -> float:
    (raw,) = query(db_path(home), "SELECT value FROM state WHERE key = 'control.hold'")[0]
    return float(json.loads(str(raw))["holds"]["snooze"]["until"])


# ------------------------------------------------------------------ dunst
def test_done_and_snooze_through_dunst(xvfb: str, session_bus: str, tmp_path: Path) -> None:
    env, home = setup_home(tmp_path, xvfb, session_bus)
    typed = 0
    with Dunst(xvfb, session_bus, tmp_path / "dunst") as dunst, LiveDaemon(env) as daemon:
        daemon.started()
        # 1. Typing, then a pause: the cue arrives in dunst with Done and Snooze.
        typed += burst(xvfb)
        daemon.wait_for("cue set delivered", timeout=20)
        assert dunst.wait_displayed(1)
        menu = dunst.press("done")
        assert any(ln.startswith("#Done (Micro-move") and ln.endswith(",done]") for ln in menu), menu
        assert any(ln.startswith(f"#Snooze {SNOOZE_MIN:g} min (") and ln.endswith(",snooze]") for ln in menu), menu
        daemon.wait_for("marked done (Done on the notification): hands.wrist_pulse", timeout=10)
        status = mmctl("status", "--json", env=env)
        assert status.returncode == 0, status.stderr
        last = json.loads(status.stdout)["last_set"]
        assert (last["answer"], last["done_by"], last["done"]) == ("done", "button", ["hands.wrist_pulse"])
        assert "done: hands.wrist_pulse (Done on the notification)" in mmctl("status", env=env).stdout
        # 2. The next cue: Snooze.
        typed += burst(xvfb)
        daemon.wait_for("cue set delivered", timeout=20, count=2)
        assert dunst.wait_displayed(1)
        dunst.press("snooze")
        daemon.wait_for("snoozed for", timeout=10)
        until = hold_until(home)
        # 3. Typing during the snooze: the cue falls due and its pause comes, but it is held.
        typed += burst(xvfb)
        time.sleep(PAUSE_S + 0.3)
        assert time.time() < until, "the machine was too slow to type within the snooze"
        assert daemon.stderr.count("cue set delivered") == 2
        # 4. After the snooze, the first natural pause lets it out.
        time.sleep(max(0.0, until - time.time()) + 0.2)
        assert daemon.stderr.count("cue set delivered") == 2  # no pause began since the end
        typed += burst(xvfb)
        daemon.wait_for("cue set delivered", timeout=20, count=3)
        assert daemon.stop() == 0, daemon.stderr
    assert "Traceback" not in daemon.stderr
    db = db_path(home)
    assert counts(db)["keys"] == typed
    rows = query(db, "SELECT id, t, delivered FROM deliveries ORDER BY id")
    assert [r[2] for r in rows] == [1, 1, 1], rows
    third_t = float(rows[2][1])  # type: ignore[arg-type]
    assert third_t >= until
    # At a natural pause: PAUSE_S after the latest typing before it.
    ends = [float(e) for (e,) in query(db, "SELECT end FROM stretches WHERE kind = 'typing'")]  # type: ignore[arg-type]
    last_end = max(e for e in ends if e <= third_t)
    assert third_t == pytest.approx(last_end + PAUSE_S, abs=0.05)
    assert confirmations(home) == [(rows[0][0], "hands.wrist_pulse", "done", "button")]
    day = stats(home, env)["totals"]
    assert (day["cues"], day["cues_done"], day["cues_dismissed"]) == (3, 1, 0)


def test_dismissing_in_dunst_is_recorded_as_dismissed_never_done(
    xvfb: str, session_bus: str, tmp_path: Path
) -> None:
    env, home = setup_home(tmp_path, xvfb, session_bus)
    with Dunst(xvfb, session_bus, tmp_path / "dunst") as dunst, LiveDaemon(env) as daemon:
        daemon.started()
        burst(xvfb)
        daemon.wait_for("cue set delivered", timeout=20)
        assert dunst.wait_displayed(1)
        dunst.close()
        daemon.wait_for("cue notification dismissed (not a done)", timeout=10)
        status = mmctl("status", env=env)
        assert status.returncode == 0, status.stderr
        assert "notification dismissed" in status.stdout, status.stdout
        doctor = mmctl("doctor", env=env)
        assert "notification server: dunst" in doctor.stdout and "cues carry Done and Snooze buttons" in doctor.stdout
        assert daemon.stop() == 0, daemon.stderr
    assert confirmations(home) == [(1, "hands.wrist_pulse", "dismissed", "button")]
    day = stats(home, env)["totals"]
    assert (day["cues"], day["cues_done"], day["cues_dismissed"]) == (1, 0, 1)
    table = mmctl("stats", "--db", db_path(home), env=env).stdout
    assert "dismissed" in table.splitlines()[0] or "dismissed" in table


# ------------------------------------------------------------------ the project's server: faults
def test_answers_and_faults_with_the_test_server(
    xvfb: str, session_bus: str, notify_server_factory: Any, tmp_path: Path
) -> None:
    env, home = setup_home(tmp_path, xvfb, session_bus)
    server: NotifyServer = notify_server_factory("ok", actions=True)
    typed = 0
    with LiveDaemon(env) as old:  # an earlier run of the daemon
        old.started()
        typed += burst(xvfb)
        old.wait_for("cue set delivered", timeout=20)
        assert old.stop() == 0, old.stderr
    earlier = server.records()[-1]
    with LiveDaemon(env) as daemon:
        daemon.started()
        typed += burst(xvfb)
        daemon.wait_for("cue set delivered", timeout=20)
        rec = server.records()[-1]
        assert rec["actions"] == ["done", "Done", "snooze", f"Snooze {SNOOZE_MIN:g} min"]
        assert rec["hints"]["urgency"] == 1 and rec["sender"] != earlier["sender"]
        # A click on the earlier run's notification: nobody's answer.
        server.invoke(earlier["id"], "done", broadcast=True)
        daemon.wait_for(f"notification {earlier['id']}, which this micromove did not send", timeout=10)
        # The body, and a key nobody defined: neither is a done.
        server.invoke(rec["id"], "default")
        daemon.wait_for("cue notification clicked (not a Done", timeout=10)
        server.invoke(rec["id"], "bogus\x1b[31m")
        line = daemon.wait_for("ignored an unknown notification action", timeout=10)
        assert "\x1b" not in line
        # A flood, while typing goes on: counting never stalls; the real click still counts, once.
        server.flood(5000, rec["id"] + 1000, "done", broadcast=True)
        server.flood(2000, rec["id"], "done")
        typed += burst(xvfb)
        daemon.wait_for("marked done (Done on the notification)", timeout=20)
        daemon.wait_for("cue set delivered", timeout=20, count=2)
        # A server that restarts between Notify and the click.
        server.restart(mode="ok")
        daemon.wait_for("the notification server went away: 1 cue notification", timeout=10)
        server.invoke(1, "done", broadcast=True)  # the new server's id 1: not ours
        time.sleep(0.5)
        typed += burst(xvfb)  # the restarted server gets the next cue, with buttons
        daemon.wait_for("cue set delivered", timeout=20, count=3)
        rec3 = server.records()[-1]
        assert rec3["actions"][:1] == ["done"]
        server.close_note(rec3["id"], 1)  # expired: neither done nor dismissed
        server.close_note(rec3["id"], 2)  # already closed: ignored
        time.sleep(0.3)
        assert daemon.stop() == 0, daemon.stderr
    err = daemon.stderr
    assert "Traceback" not in err
    assert err.count("marked done") == 1
    assert err.count("ignored an unknown notification action") == 1
    assert err.count("which this micromove did not send") == 1  # then only counted
    assert "dismissed" not in err
    db = db_path(home)
    assert counts(db)["keys"] == typed
    assert [(k, s) for _d, _c, k, s in confirmations(home)] == [("done", "button")]
    day = stats(home, env)["totals"]
    assert (day["cues"], day["cues_done"], day["cues_dismissed"]) == (4, 1, 0)


def test_a_server_without_buttons_gets_plain_cues_and_mmctl_done_still_works(
    xvfb: str, session_bus: str, notify_server_factory: Any, tmp_path: Path
) -> None:
    env, home = setup_home(tmp_path, xvfb, session_bus)
    server: NotifyServer = notify_server_factory("ok", actions=False)
    with LiveDaemon(env) as daemon:
        daemon.started()
        burst(xvfb)
        daemon.wait_for("cue set delivered", timeout=20)
        assert "shows no buttons" in daemon.stderr
        assert server.records()[-1]["actions"] == []
        done = mmctl("done", env=env)
        assert done.returncode == 0, done.stderr
        assert daemon.stop() == 0, daemon.stderr
    assert confirmations(home) == [(1, "hands.wrist_pulse", "done", "cli")]
    assert stats(home, env)["totals"]["cues_done"] == 1
