"""`mmctl` itself: help, version, usage errors, and every command's --help."""

from __future__ import annotations

import importlib.util

import pytest

from _mmctl import mmctl, one_error_line
from micromove import __version__, cli

AVAILABLE = sorted(cli.COMMANDS)


def test_every_command_has_its_module() -> None:
    for name, (mod, _help) in cli.COMMANDS.items():
        assert importlib.util.find_spec(f"micromove.commands.{mod}") is not None, name


def test_running_one_command_builds_only_its_parser() -> None:
    # `mmctl stats` must start fast: the other commands' parsers are not built.
    sub = next(a for a in cli.build_parser("stats")._actions if a.dest == "command")
    assert sorted(sub.choices) == ["stats"]  # type: ignore[attr-defined]
    sub = next(a for a in cli.build_parser(None)._actions if a.dest == "command")
    assert sorted(sub.choices) == AVAILABLE  # type: ignore[attr-defined]


def test_top_level_help_before_a_command_lists_every_command() -> None:
    proc = mmctl("-h", "stats")
    assert proc.returncode == 0
    for name in AVAILABLE:
        assert f"\n    {name}" in proc.stdout, name


def test_help_lists_every_available_command() -> None:
    proc = mmctl("--help")
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout.startswith("usage: mmctl")
    for name in AVAILABLE:
        assert f"\n    {name}" in proc.stdout, name


def test_version() -> None:
    proc = mmctl("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"mmctl {__version__}"


def test_no_arguments_is_a_usage_error() -> None:
    proc = mmctl()
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.startswith("usage: mmctl")
    assert "simulate" in proc.stderr


@pytest.mark.parametrize(
    "args", [["frobnicate"], ["--frobnicate"], ["simulate", "--frobnicate", "x"]]
)
def test_unknown_command_or_option(args: list[str]) -> None:
    line = one_error_line(mmctl(*args))
    assert line.startswith("mmctl"), line
    assert "frobnicate" in line, line


def test_version_of_the_package_is_the_cli_version() -> None:
    from importlib.metadata import version

    assert version("micromove") == __version__


@pytest.mark.parametrize("name", AVAILABLE)
def test_every_command_has_help(name: str) -> None:
    proc = mmctl(name, "--help")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout.startswith(f"usage: mmctl {name}"), proc.stdout
