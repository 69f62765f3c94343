"""`mmctl cues`: the catalog as configured, and what progression has made active."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from _mmctl import SAMPLE_DAY, mmctl, one_error_line
from micromove.core import catalog


def cues_json(*args: str | Path) -> dict:  # type: ignore[type-arg]
    proc = mmctl("cues", "--json", *args)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def week2_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database written by `mmctl simulate --db` whose day is 8 days ago: progression week 2."""
    db = tmp_path_factory.mktemp("cues") / "day.db"
    start = (date.today() - timedelta(days=8)).isoformat() + "T09:00"
    proc = mmctl("simulate", SAMPLE_DAY, "--db", db, "--start", start)
    assert proc.returncode == 0, proc.stderr
    return db


def test_before_the_daemon_ever_ran() -> None:
    rep = cues_json()
    assert rep["database"] is None and rep["config"] is None
    assert rep["progression"] == {
        "enabled": True, "start": None, "week": None, "active_regions": [],
        "next_region": "hands", "next_date": None,
    }  # fmt: skip
    assert [c["id"] for c in rep["cues"]] == list(catalog.IDS)
    assert not any(c["active"] for c in rep["cues"])
    by = {c["id"]: c for c in rep["cues"]}
    assert by["hands.wrist_pulse"]["region_week"] == 1 and by["breath.box_shift"]["region_week"] == 8
    text = mmctl("cues").stdout
    assert "starts when the daemon first runs" in text
    assert "from the first run" in text and "in week 2" in text


def test_progression_read_from_the_database(week2_db: Path) -> None:
    rep = cues_json("--db", week2_db)
    start = date.today() - timedelta(days=8)
    assert rep["progression"]["start"] == start.isoformat()
    assert rep["progression"]["week"] == 2
    assert rep["progression"]["active_regions"] == ["hands", "eyes"]
    assert rep["progression"]["next_region"] == "back"
    assert rep["progression"]["next_date"] == (start + timedelta(days=14)).isoformat()
    by = {c["id"]: c for c in rep["cues"]}
    assert by["hands.grip_modulation"]["active"] and by["eyes.far_focus"]["active"]
    assert not by["back.scapular_clock"]["active"]
    assert by["back.scapular_clock"]["region_from"] == (start + timedelta(days=14)).isoformat()
    m = catalog.BY_ID["hands.wrist_pulse"]
    assert (by[m.id]["region"], by[m.id]["dose"], by[m.id]["every_min"], by[m.id]["trigger"]) == (
        m.region, m.dose, m.every_min, m.trigger,
    )  # fmt: skip
    text = mmctl("cues", "--db", week2_db).stdout
    assert "Progression week 2" in text and "back joins on" in text
    assert "hands.wrist_pulse" in text and "4-6 cycles" in text and "20 min" in text


def test_config_disables_and_retimes(week2_db: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("cues:\n  eyes.far_focus:\n    enabled: false\n  hands.wrist_pulse:\n    every_min: 25\n    trigger: active\n")
    rep = cues_json("--db", week2_db, "--config", cfg)
    by = {c["id"]: c for c in rep["cues"]}
    assert by["eyes.far_focus"]["enabled"] is False and by["eyes.far_focus"]["active"] is False
    assert (by["hands.wrist_pulse"]["every_min"], by["hands.wrist_pulse"]["trigger"]) == (25, "active")
    assert rep["config"] == str(cfg)
    assert "no (disabled)" in mmctl("cues", "--db", week2_db, "--config", cfg).stdout
    cfg.write_text("progression:\n  enabled: false\n")
    rep = cues_json("--db", week2_db, "--config", cfg)
    assert all(c["active"] for c in rep["cues"])
    assert rep["progression"]["enabled"] is False


def test_bad_config_and_missing_db(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("cues:\n  hands.wrist_pulse:\n    every_min: soon\n")
    assert one_error_line(mmctl("cues", "--config", cfg)).startswith(f"mmctl: {cfg}:3: cues.hands.wrist_pulse.every_min:")
    assert "no database at" in one_error_line(mmctl("cues", "--db", tmp_path / "none.db"))
