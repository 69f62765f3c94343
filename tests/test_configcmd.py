"""`mmctl config check|show|init`."""

from __future__ import annotations

import json
import os
from pathlib import Path

from _mmctl import ROOT, mmctl, one_error_line

EXAMPLE = ROOT / "daemon" / "micromove" / "data" / "micromove.example.yaml"


def default_config() -> Path:
    return Path(os.environ["XDG_CONFIG_HOME"]) / "micromove" / "config.yaml"


def test_check_ok_and_every_error_with_its_line(tmp_path: Path) -> None:
    proc = mmctl("config", "check")
    assert proc.returncode == 0 and proc.stdout.startswith("ok: no config file at")
    good = tmp_path / "good.yaml"
    good.write_text("pause:\n  min_s: 5\n")
    proc = mmctl("config", "check", good)
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout == f"ok: {good} is valid (1 of 74 settings given in it)\n"
    bad = tmp_path / "bad.yaml"
    bad.write_text("pause:\n  min_s: 0\nnotify:\n  min_gap: 3\ncues:\n  hands.wrist_pulse:\n    trigger: feet\n")
    proc = mmctl("config", "check", bad)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines() == [
        f"mmctl: {bad}:2: pause.min_s: must be greater than 0, not 0",
        f"mmctl: {bad}:4: notify.min_gap: unknown key (did you mean 'min_gap_s'?)",
        f"mmctl: {bad}:7: cues.hands.wrist_pulse.trigger: must be typing, mouse or active, not \"feet\"",
    ]
    assert "no such file" in one_error_line(mmctl("config", "check", tmp_path / "none.yaml"))


def test_show_says_where_each_value_came_from(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text("# mine\npause:\n  max_defer_s: 60\ncues:\n  neck.head_tilt:\n    enabled: false\n")
    proc = mmctl("config", "show", "--config", f)
    assert proc.returncode == 0, proc.stderr
    rows = {line.split()[0]: line.split()[1:] for line in proc.stdout.splitlines()[1:]}
    assert rows["pause.max_defer_s"] == ["60", f"{f}:3"]
    assert rows["cues.neck.head_tilt.enabled"] == ["false", f"{f}:6"]
    assert rows["pause.min_s"] == ["3", "default"]
    assert rows["cues.hands.wrist_pulse.every_min"] == ["20", "default"]
    assert len(rows) == 74
    rep = json.loads(mmctl("config", "show", "--config", f, "--json").stdout)
    assert rep["file"] == str(f)
    assert rep["values"]["pause.max_defer_s"] == {"value": 60.0, "from": f"{f}:3"}
    assert rep["values"]["input.backend"] == {"value": "auto", "from": "default"}
    # No file: every value is a default.
    none = json.loads(mmctl("config", "show", "--json").stdout)
    assert none["file"] is None and {v["from"] for v in none["values"].values()} == {"default"}
    f.write_text("pause:\n  min_s: 500\n")
    line = one_error_line(mmctl("config", "show", "--config", f))
    assert line.startswith(f"mmctl: {f}:2: pause.min_s: must be below activity.break_s")


def test_init_writes_the_example_privately_and_never_overwrites() -> None:
    target = default_config()
    proc = mmctl("config", "init")
    assert proc.returncode == 0, proc.stderr
    assert str(target) in proc.stdout
    assert target.read_text() == EXAMPLE.read_text()
    assert target.stat().st_mode & 0o777 == 0o600
    assert target.parent.stat().st_mode & 0o777 == 0o700
    assert mmctl("config", "check").stdout.startswith(f"ok: {target} is valid")
    target.write_text("pause:\n  min_s: 4\n")
    line = one_error_line(mmctl("config", "init"))
    assert "already exists" in line and "--force" in line and str(target) in line
    assert target.read_text() == "pause:\n  min_s: 4\n"  # untouched
    proc = mmctl("config", "init", "--force")
    assert proc.returncode == 0 and target.read_text() == EXAMPLE.read_text()


def test_init_to_a_named_file_and_usage_errors(tmp_path: Path) -> None:
    f = tmp_path / "new" / "deeper" / "c.yaml"
    assert mmctl("config", "init", f).returncode == 0
    assert f.read_text() == EXAMPLE.read_text() and f.parent.stat().st_mode & 0o777 == 0o700
    assert "required" in one_error_line(mmctl("config"))
    assert "unknown action: frob" in one_error_line(mmctl("config", "frob"))
    assert "is a folder" in one_error_line(mmctl("config", "init", tmp_path))
