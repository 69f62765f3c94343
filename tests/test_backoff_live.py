"""Back-off live: `mmctl run` on Xvfb with dunst, input typed with xdotool, three
cue notifications dismissed in dunst: the cue comes less often afterwards, and
`mmctl cues` says so; the check-in puts it back through the running daemon.

Config: the wrist pulse every 0.05 min (3 s) of typing, natural pause 0.5 s,
no gap between notifications. Each cue set's answer window closes when the
next one goes out; typing goes on in bursts with gaps well under the 12 s
that would make the set "likely done", so every dismissed set is unanswered.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from _faults import LiveDaemon, db_path, query, write_config
from _mmctl import config_yaml, mmctl
from desktop import desktop_env, session_bus_fixture, type_text, xvfb_fixture  # noqa: F401 - fixtures
from dunst import Dunst

pytestmark = [pytest.mark.desktop, pytest.mark.slow]

EVERY_MIN = 0.05  # 3 s
PAUSE_S = 0.5
BURST = "abcdefgh"  # 8 keys, 60 ms apart


def deliveries(home: Path) -> list[float]:
    return [float(t) for (t,) in query(db_path(home), "SELECT t FROM deliveries ORDER BY id")]  # type: ignore[arg-type]


def status(env: dict[str, str]) -> dict[str, Any]:
    proc = mmctl("status", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def wrist(env: dict[str, str]) -> dict[str, Any]:
    proc = mmctl("cues", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    return next(c for c in json.loads(proc.stdout)["cues"] if c["id"] == "hands.wrist_pulse")  # type: ignore[no-any-return]


def type_until_delivered(display: str, daemon: LiveDaemon, n: int, timeout: float = 30.0) -> None:
    """Bursts of typing (gaps of a second or so) until the n-th cue set is out."""
    deadline = time.monotonic() + timeout
    while daemon.stderr.count("cue set delivered") < n:
        assert time.monotonic() < deadline, daemon.stderr
        type_text(display, BURST, delay_ms=60)
        time.sleep(PAUSE_S + 0.3)


def next_due_after_last(env: dict[str, str], home: Path) -> float:
    """When the wrist pulse falls due next, counted from its latest delivery."""
    up = {u["cue"]: u["due_at"] for u in status(env)["upcoming"]}
    assert "hands.wrist_pulse" in up, status(env)
    return float(up["hands.wrist_pulse"]) - deliveries(home)[-1]


def test_a_cue_dismissed_three_times_comes_less_often(xvfb: str, session_bus: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    write_config(home, config_yaml(
        {"hands.wrist_pulse": (EVERY_MIN, "typing")}, min_s=PAUSE_S, max_defer_s=30, break_s=60, min_gap_s=0,
        timeout_s=2, reminder=False,
    ))  # fmt: skip
    env = desktop_env(xvfb, session_bus, home)
    with Dunst(xvfb, session_bus, tmp_path / "dunst") as dunst, LiveDaemon(env) as daemon:
        daemon.started()
        type_until_delivered(xvfb, daemon, 1)
        # Before any answer: due 3 s (its configured interval) after its delivery.
        assert next_due_after_last(env, home) == pytest.approx(EVERY_MIN * 60, abs=0.01)
        for n in (1, 2, 3):
            assert dunst.wait_displayed(1)
            dunst.close()
            daemon.wait_for("cue notification dismissed (not a done)", timeout=10, count=n)
            type_until_delivered(xvfb, daemon, n + 1)  # the next set closes this one's window
        daemon.wait_for("hands.wrist_pulse went unanswered 3 times in a row", timeout=10)
        # Rarer: now due 1.5 times its interval after its latest delivery.
        assert next_due_after_last(env, home) == pytest.approx(1.5 * EVERY_MIN * 60, abs=0.01)
        # And `mmctl cues` says so, once the daemon has written it (at most 10 s later).
        deadline = time.monotonic() + 20
        while (w := wrist(env))["current_every_min"] == EVERY_MIN:
            assert time.monotonic() < deadline, w
            type_text(xvfb, "ab", delay_ms=60)  # keep the stretch (and nothing else) going
            time.sleep(1.0)
        assert w["configured_every_min"] == EVERY_MIN and w["current_every_min"] == pytest.approx(1.5 * EVERY_MIN)
        assert "3 cues went unanswered, 3 dismissed" in w["why"], w
        assert w["back_off"]["unanswered"] == 3 and w["back_off"]["dismissed"] == 3, w
        text = mmctl("cues", env=env).stdout
        assert "hands.wrist_pulse: every 0.075 min instead of 0.05" in text, text
        # The check-in puts it back, through the running daemon.
        back = mmctl("checkin", "--change", "back", "--yes", env=env)
        assert back.returncode == 0, back.stderr
        assert "hands.wrist_pulse" in back.stdout and "the running micromove put them back" in back.stdout, back.stdout
        daemon.wait_for("back to their configured interval (check-in): hands.wrist_pulse", timeout=10)
        w = wrist(env)
        assert w["current_every_min"] == EVERY_MIN and w["why"] is None, w
        assert daemon.stop() == 0, daemon.stderr
    assert "Traceback" not in daemon.stderr
    kinds = query(db_path(home), "SELECT kind, count(*) FROM confirmations GROUP BY kind")
    assert kinds == [("dismissed", 3)], kinds
