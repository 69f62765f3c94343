"""Config: defaults in one place, the example equals them, every error reported with FILE:LINE."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from micromove import config
from micromove.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config" / "micromove.example.yaml"


def errors_of(text: str, source: str = "c.yaml") -> list[str]:
    with pytest.raises(ConfigError) as info:
        config.from_text(text, source)
    return info.value.errors


def test_example_equals_builtin_defaults() -> None:
    loaded = config.load(EXAMPLE)
    assert loaded == config.Config(source=str(EXAMPLE))
    assert yaml.safe_load(EXAMPLE.read_text()) == config.DEFAULTS.as_dict()


def test_packaged_example_is_the_same_file() -> None:
    packaged = ROOT / "daemon" / "micromove" / "data" / "micromove.example.yaml"
    assert packaged.read_bytes() == EXAMPLE.read_bytes()


def test_empty_file_and_empty_sections_are_defaults() -> None:
    assert config.from_text("", "c") == config.Config(source="c")
    assert config.from_text("# only a comment\n", "c") == config.Config(source="c")
    assert config.from_text("pause:\ncues:\n", "c") == config.Config(source="c")


def test_values_are_read_fractions_allowed() -> None:
    cfg = config.from_text(
        "pause:\n  min_s: 1.5\nnotify:\n  min_gap_s: 0\ncues:\n"
        "  hands.wrist_pulse:\n    every_min: 0.5\n    trigger: active\n    enabled: false\n",
        "c",
    )
    assert cfg.pause_min_s == 1.5 and cfg.min_gap_s == 0
    assert cfg.cues["hands.wrist_pulse"] == config.CueSettings(False, 0.5, "active")
    assert cfg.cues["hands.finger_piano"] == config.DEFAULTS.cues["hands.finger_piano"]
    rules = {r.id: r for r in cfg.engine_config().cues}
    assert "hands.wrist_pulse" not in rules  # disabled
    assert rules["hands.finger_piano"].every_s == 15 * 60
    assert config.DEFAULTS.snooze_min == 15
    assert config.from_text("notify:\n  snooze_min: 0.25\n", "c").snooze_min == 0.25


def test_every_error_at_once_with_lines() -> None:
    text = (
        "pause:\n"                      # 1
        "  min_s: 200\n"                # 2
        "  max_defr_s: 10\n"            # 3
        "notify:\n"                     # 4
        "  min_gap_s: -1\n"             # 5
        "  timeout_s: true\n"           # 6
        "cues:\n"                       # 7
        "  hands.wrist_pulse:\n"        # 8
        "    every_min: 0\n"            # 9
        "    trigger: feet\n"           # 10
        "  hands.wrist_puls: {}\n"      # 11
        "progresion:\n"                 # 12
        "  enabled: true\n"             # 13
    )
    assert errors_of(text) == [
        "c.yaml:2: pause.min_s: must be below activity.break_s (200 is not below 120)",
        "c.yaml:3: pause.max_defr_s: unknown key (did you mean 'max_defer_s'?)",
        "c.yaml:5: notify.min_gap_s: must be 0 or more, not -1",
        "c.yaml:6: notify.timeout_s: must be a number, not true",
        "c.yaml:9: cues.hands.wrist_pulse.every_min: must be greater than 0, not 0",
        "c.yaml:10: cues.hands.wrist_pulse.trigger: must be typing, mouse or active, not \"feet\"",
        "c.yaml:11: cues.hands.wrist_puls: unknown cue id (did you mean 'hands.wrist_pulse'?)",
        "c.yaml:12: progresion: unknown key (did you mean 'progression'?)",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pause:\n  min_s: true\n", "c.yaml:2: pause.min_s: must be a number, not true"),
        ("notify:\n  snooze_min: 0\n", "c.yaml:2: notify.snooze_min: must be greater than 0 and at most 10080 (7 days), not 0"),
        ("notify:\n  snooze_min: \"x\"\n", "c.yaml:2: notify.snooze_min: must be a number, not \"x\""),
        ("notify:\n  snooze_mins: 5\n", "c.yaml:2: notify.snooze_mins: unknown key (did you mean 'snooze_min'?)"),
        ("pause:\n  min_s: .nan\n", "c.yaml:2: pause.min_s: must be a number, not NaN"),
        ("activity:\n  break_s: 0\n", "c.yaml:2: activity.break_s: must be greater than 0, not 0"),
        ("pause: 3\n", "c.yaml:1: pause: must be a mapping of keys to values"),
        ("- 1\n", "c.yaml:1: must be a mapping of keys to values"),
        ("pause:\n  min_s: 1\n  min_s: 2\n", "c.yaml:3: pause.min_s: given twice"),
        ("progression:\n  enabled: 1\n", "c.yaml:2: progression.enabled: must be true or false, not 1"),
        ("input:\n  backend: wayland\n", 'c.yaml:2: input.backend: must be one of auto, x11, xi2, pynput, evdev, wayland-idle, gnome, not "wayland"'),
        ("cues:\n  hands.wrist_pulse:\n    often: 1\n", "c.yaml:3: cues.hands.wrist_pulse.often: unknown key"),
        ("activity:\n  break_s: 2\n", "c.yaml:2: pause.min_s: must be below activity.break_s (3 is not below 2)"),
        ("pause: {min_s: 1\n", "c.yaml:2: not valid YAML: expected ',' or '}', but got '<stream end>'"),
    ],
)
def test_single_errors(text: str, expected: str) -> None:
    assert errors_of(text) == [expected]


def test_cli_reports_config_errors_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("pause:\n  min_s: -1\n  max_defer: 5\n")
    trace = tmp_path / "t.jsonl"
    trace.write_text('{"t": 0, "kind": "key"}\n')
    proc = subprocess.run(
        [sys.executable, "-m", "micromove", "simulate", str(trace), "--config", str(bad)],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [
        f"mmctl: {bad}:2: pause.min_s: must be greater than 0, not -1",
        f"mmctl: {bad}:3: pause.max_defer: unknown key (did you mean 'max_defer_s'?)",
    ]
    assert "Traceback" not in proc.stderr


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        config.load(tmp_path / "nope.yaml")
    assert info.value.errors == [f"{tmp_path / 'nope.yaml'}: no such file"]
    assert config.load(None) is config.DEFAULTS


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_parses_or_is_a_config_error(text: str) -> None:
    try:
        first = config.from_text(text, "f")
    except ConfigError as exc:
        assert exc.errors and all(e.startswith("f:") and e.isprintable() for e in exc.errors)
        with pytest.raises(ConfigError) as again:
            config.from_text(text, "f")
        assert again.value.errors == exc.errors
    else:
        assert config.from_text(text, "f") == first
