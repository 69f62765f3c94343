"""Errors as a person meets them at the prompt (issue 11 items 1 and 10).

Every error is one line on stderr that starts with `mmctl`, exit status 2, no
traceback; whatever it names that came from outside (a config key, a file
name, an argument) is printed quoted and escaped when it holds a newline, tab,
CR, escape or other unprintable character, so one error is one line and shows
what is really there. Through the installed `mmctl`, in subprocesses.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from _mmctl import mmctl, one_error_line
from micromove import config


def test_a_key_holding_newlines_is_one_quoted_line(tmp_path: Path) -> None:
    # The case: `mmctl config check` printed `nl.yaml:1: activity.` / `: unknown key`.
    nl = tmp_path / "nl.yaml"
    nl.write_text("activity: {? '\n\n    ' : null}\n")
    assert one_error_line(mmctl("config", "check", nl)) == f'mmctl: {nl}:1: "activity.\\n": unknown key'


@pytest.mark.parametrize(
    ("yaml_key", "shown"),
    [
        ('"min_s\\t"', '"pause.min_s\\t"'),
        ('"a\\rb"', '"pause.a\\rb"'),
        ('"\\e[31mred"', '"pause.\\x1b[31mred"'),
        ('"x\\u2028y"', '"pause.x\\u2028y"'),
        ('"min_s "', '"pause.min_s "'),
    ],
    ids=["tab", "cr", "escape-sequence", "line-separator", "trailing-space"],
)
def test_control_characters_in_keys_are_escaped(tmp_path: Path, yaml_key: str, shown: str) -> None:
    f = tmp_path / "c.yaml"
    f.write_text(f"pause:\n  {yaml_key}: 3\n")
    line = one_error_line(mmctl("config", "check", f))
    assert line.startswith(f"mmctl: {f}:2: {shown}: unknown key"), line


def test_values_with_control_characters_are_escaped(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text('input: {backend: "x11\\nevdev"}\n')
    line = one_error_line(mmctl("config", "check", f))
    choices = ", ".join(config.backends())
    assert line == f'mmctl: {f}:1: input.backend: must be one of {choices}, not "x11\\nevdev"', line


def test_file_names_with_control_characters_stay_on_one_line(tmp_path: Path) -> None:
    odd = tmp_path / "my\ntrace\x1b.jsonl"
    line = one_error_line(mmctl("simulate", odd))
    assert line == f'mmctl: "{tmp_path}/my\\ntrace\\x1b.jsonl": no such file', line
    odd.write_text('{"t": 0, "kind": "key"}\n{"t": 1, "kind": "typed"}\n')
    line = one_error_line(mmctl("simulate", odd))
    assert line.startswith(f'mmctl: "{tmp_path}/my\\ntrace\\x1b.jsonl":2: unknown "kind" "typed"'), line
    cfg = tmp_path / "con\tfig.yaml"
    line = one_error_line(mmctl("config", "check", cfg))
    assert line == f'mmctl: "{tmp_path}/con\\tfig.yaml": no such file', line


def test_arguments_with_control_characters_are_escaped() -> None:
    line = one_error_line(mmctl("stats", "a\nb", "--jsno"))
    assert line.startswith('mmctl stats: unrecognized arguments: "a\\nb" --jsno'), line
    line = one_error_line(mmctl("stats", "--by", "ho\rur"))
    assert '"ho\\rur"' in line, line


# ---------------------------------------------------------------------- item 10
def test_every_error_line_says_mmctl(tmp_path: Path) -> None:
    assert one_error_line(mmctl("simulate", "missing.jsonl")) == "mmctl: missing.jsonl: no such file"
    bad = tmp_path / "bad.yaml"
    bad.write_text("pause:\n  min_s: 0\nnotify:\n  min_gap: 3\n")
    proc = mmctl("config", "check", bad)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines() == [
        f"mmctl: {bad}:2: pause.min_s: must be greater than 0, not 0",
        f"mmctl: {bad}:4: notify.min_gap: unknown key (did you mean 'min_gap_s'?)",
    ]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["stats", "--jsno"], "mmctl stats: unrecognized arguments: --jsno (did you mean --json?) (`mmctl stats --help` lists what it takes)"),
        (["doctor", "--confg", "x"], "mmctl doctor: unrecognized arguments: --confg x (did you mean --config?)"),
        (["config", "check", "a", "b"], "mmctl config check: unrecognized arguments: b"),
        (["simulate", "t.jsonl", "extra"], "mmctl simulate: unrecognized arguments: extra"),
        (["--frobnicate"], "mmctl: unrecognized arguments: --frobnicate"),
    ],
)
def test_unrecognized_arguments_name_the_subcommand(args: list[str], expected: str) -> None:
    assert one_error_line(mmctl(*args)).startswith(expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["stat"], "mmctl: unknown command: stat (did you mean `mmctl stats`?); `mmctl --help` lists them"),
        (["simulat", "x"], "mmctl: unknown command: simulat (did you mean `mmctl simulate`?)"),
        (["config", "chek"], "mmctl config: unknown action: chek (did you mean `mmctl config check`?)"),
        (["stats", "--by", "hours"], "mmctl stats: --by: invalid choice: hours (did you mean hour?); choose from hour, day, week"),
        (["frobnicate"], "mmctl: unknown command: frobnicate; `mmctl --help` lists them"),
    ],
)
def test_a_mistyped_command_gets_a_did_you_mean(args: list[str], expected: str) -> None:
    assert one_error_line(mmctl(*args)).startswith(expected)


def test_the_daemons_log_lines_are_one_line_each() -> None:
    # The daemon logs a bad config on SIGHUP, a socket's complaint, a path: one record, one line.
    import logging

    from micromove.logsetup import _Formatter

    rec = logging.LogRecord("micromove", logging.WARNING, __file__, 1, "config not reloaded: %s", ("c\r.yaml\x1b[2J: x\ny",), None)
    line = _Formatter(journal=False).format(rec)
    assert line == "WARNING config not reloaded: c\\r.yaml\\x1b[2J: x | y", line
