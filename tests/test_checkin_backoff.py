"""The weekly check-in names the cues that backed off and puts them back on request
(without a daemon: straight into the database; with one: tests/test_backoff_live.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from _mmctl import mmctl
from test_backoff import steady, write


def default_db() -> Path:
    return Path(os.environ["XDG_DATA_HOME"]) / "micromove" / "micromove.db"


def cues_json() -> dict[str, dict[str, object]]:
    proc = mmctl("cues", "--json")
    assert proc.returncode == 0, proc.stderr
    return {c["id"]: c for c in json.loads(proc.stdout)["cues"]}


def test_checkin_names_the_backed_off_cues_and_puts_them_back(tmp_path: Path) -> None:
    db = default_db()
    trace = write(tmp_path / "steady.jsonl", steady()[: 112 * 150])  # 2.5 hours, no answers
    sim = mmctl("simulate", trace, "--db", db)
    assert sim.returncode == 0, sim.stderr
    before = cues_json()
    wrist = before["hands.wrist_pulse"]
    assert wrist["configured_every_min"] == 20 and wrist["current_every_min"] == 30, wrist
    assert "unanswered" in str(wrist["why"])
    assert before["hands.grip_modulation"]["why"] is None  # never cued: nothing to back off

    # No terminal: the check-in names them and says how to put them back.
    proc = mmctl("checkin", "--tightness", "no", "--noise", "no", "--natural", "yes")
    assert proc.returncode == 0, proc.stderr
    assert "hands.wrist_pulse: every 30 min instead of 20" in proc.stdout, proc.stdout
    assert "mmctl checkin --change back --yes" in proc.stdout
    assert cues_json()["hands.wrist_pulse"]["current_every_min"] == 30  # nothing changed unasked

    proc = mmctl("checkin", "--change", "back", "--yes")
    assert proc.returncode == 0, proc.stderr
    assert "back to their configured intervals: hands.finger_piano, hands.wrist_pulse" in proc.stdout, proc.stdout
    assert "not running" in proc.stdout
    after = cues_json()
    assert all(c["current_every_min"] == c["configured_every_min"] and c["why"] is None for c in after.values())

    proc = mmctl("checkin", "--change", "back", "--yes")
    assert proc.returncode == 0 and "nothing to put back" in proc.stdout, proc.stdout


def test_back_needs_yes_without_a_terminal() -> None:
    proc = mmctl("checkin", "--change", "back")
    assert proc.returncode == 2 and "--yes" in proc.stderr, proc.stderr
