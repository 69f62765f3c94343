"""What `mmctl` imports: never an input backend for commands that do not watch
input, and nothing but the standard library in the pure engine."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from _mmctl import ROOT, SAMPLE_DAY
from micromove import cli

PACKAGE = ROOT / "daemon" / "micromove"
# Platform and notification libraries only the daemon's backends may load.
HEAVY = ("pynput", "Xlib", "evdev", "notifypy", "jeepney", "Quartz", "AppKit")

PROBE = """
import json, sys
from micromove.cli import main
try:
    rc = main(json.loads(sys.argv[1]))
except SystemExit as exc:  # argparse's --help and --version
    rc = exc.code
sys.stdout = sys.__stdout__
loaded = sorted({m.split(".")[0] for m in sys.modules} & set(json.loads(sys.argv[2])))
print("\\nPROBE " + json.dumps({"rc": rc, "loaded": loaded}))
"""


def probe(args: list[str]) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args), json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    last = proc.stdout.rstrip("\n").rsplit("\n", 1)[-1]
    assert last.startswith("PROBE "), proc.stdout[-500:]
    result = json.loads(last[len("PROBE ") :])
    assert isinstance(result, dict)
    return result


def test_importing_the_cli_loads_no_backend() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-c",
            "import micromove.cli; from micromove.cli import main",
        ],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    imported = {
        line.rsplit("|", 1)[-1].strip().split(".")[0]
        for line in proc.stderr.splitlines()
        if "|" in line
    }
    assert "micromove" in imported  # the probe does see imports
    assert not imported & set(HEAVY), imported & set(HEAVY)


def test_simulate_loads_no_backend(tmp_path: Path) -> None:
    result = probe(["simulate", str(SAMPLE_DAY), "--start", "2026-03-02T09:00"])
    assert result == {"rc": 0, "loaded": []}


def test_stats_loads_no_backend(tmp_path: Path) -> None:
    assert probe(["stats", "--help"]) == {"rc": 0, "loaded": []}
    db = tmp_path / "day.db"
    made = probe(["simulate", str(SAMPLE_DAY), "--start", "2026-03-02T09:00", "--db", str(db)])
    assert made == {"rc": 0, "loaded": []}
    assert probe(["stats", "--db", str(db), "--json"]) == {"rc": 0, "loaded": []}
    assert probe(["stats", "--db", str(db)]) == {"rc": 0, "loaded": []}


@pytest.mark.parametrize("name", sorted(cli.COMMANDS))
def test_help_of_every_command_loads_no_backend(name: str) -> None:
    # Even `mmctl run --help` must not load pynput: backends load when input is watched.
    assert probe([name, "--help"]) == {"rc": 0, "loaded": []}


def test_top_level_help_loads_no_backend() -> None:
    assert probe(["--help"]) == {"rc": 0, "loaded": []}


def _imports(path: Path) -> list[tuple[int, str]]:
    """(level, module) of every import statement in a module, nested ones included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(0, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.level, node.module or ""))
    return found


@pytest.mark.parametrize("module", ["engine.py", "catalog.py"])
def test_pure_modules_import_only_the_standard_library(module: str) -> None:
    found = _imports(PACKAGE / "core" / module)
    assert found, "the AST walk should find the module's imports"
    for level, name in found:
        assert level == 0, f"{module} imports .{name}: it must stand alone"
        top = name.split(".")[0]
        assert top == "__future__" or top in sys.stdlib_module_names, f"{module} imports {name}"


# Standard-library modules `mmctl stats --json` has no use for: each costs a
# noticeable share of a bare interpreter's start (bench figure 7).
STATS_NEEDS_NOT = ("typing", "shutil", "bz2", "lzma", "logging", "pathlib", "threading",
                   "subprocess", "yaml", "socket", "tempfile")  # fmt: skip


def test_stats_json_loads_only_what_it_needs(tmp_path: Path) -> None:
    db = tmp_path / "day.db"
    made = probe(["simulate", str(SAMPLE_DAY), "--start", "2026-03-02T09:00", "--db", str(db)])
    assert made["rc"] == 0
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(["stats", "--json", "--db", str(db)]),
         json.dumps(STATS_NEEDS_NOT)],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120,
    )  # fmt: skip
    last = proc.stdout.rstrip("\n").rsplit("\n", 1)[-1]
    assert json.loads(last[len("PROBE ") :]) == {"rc": 0, "loaded": []}
