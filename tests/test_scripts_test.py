"""./scripts/test's set-up: quiet, and only what the suite needs.

The real script (`--setup-only`: install, run nothing) on a PATH where none
of the suite's programs are found, so it must install all of them, with
apt-get and sudo replaced by small recorders that print as much as dpkg does.
On success none of that output reaches the terminal; on failure all of it
does. Workrave, the benchmark's comparator, is never asked for.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from _mmctl import ROOT

NOISE = "Selecting previously unselected package libfoo3:amd64."
RECORDER = """#!{python}
import json, os, sys
with open(os.environ["CALLS"], "a") as f:
    f.write(json.dumps([os.path.basename(sys.argv[0]), *sys.argv[1:]]) + "\\n")
for i in range(40):
    print("{noise}", i)
sys.exit(int(os.environ.get("APT_RC", "0")) if "install" in sys.argv else 0)
"""
SUDO = """#!/bin/sh
[ "$1" = -n ] && shift
exec "$@"
"""
# What the script itself uses; nothing of the suite's own programs.
TOOLS = ("bash", "sh", "env", "python3", "sha256sum", "cut", "cat", "mktemp", "rm", "id", "uname", "dirname")


def setup(tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess[str], list[list[str]]]:
    bin_ = tmp_path / "bin"
    bin_.mkdir(exist_ok=True)
    for tool in TOOLS:
        found = shutil.which(tool, path="/usr/local/bin:/usr/bin:/bin")
        assert found, tool
        if not (bin_ / tool).exists():
            (bin_ / tool).symlink_to(found)
    (bin_ / "apt-get").write_text(RECORDER.format(python=sys.executable, noise=NOISE))
    (bin_ / "apt-get").chmod(0o755)
    (bin_ / "sudo").write_text(SUDO)
    (bin_ / "sudo").chmod(0o755)
    calls = tmp_path / "calls.jsonl"
    calls.unlink(missing_ok=True)
    full = {
        "PATH": str(bin_),
        "HOME": os.environ["HOME"],
        "CALLS": str(calls),
        "TMPDIR": str(tmp_path),
        # the suite's own environment: its stamp matches, so no pip run
        "MICROMOVE_TEST_VENV": str(Path(sys.prefix)),
        **env,
    }
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts" / "test"), "--setup-only"],
        env=full, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL, cwd=tmp_path,
    )  # fmt: skip
    recorded = [json.loads(line) for line in calls.read_text().splitlines()] if calls.exists() else []
    return proc, recorded


def test_setup_is_quiet_and_asks_only_for_what_the_suite_needs(tmp_path: Path) -> None:
    proc, calls = setup(tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert NOISE not in proc.stdout + proc.stderr, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) <= 3, proc.stderr  # "installing Debian packages: ...", "set up: ..."
    (install,) = [c for c in calls if "install" in c]
    assert install[:5] == ["apt-get", "install", "-y", "-qq", "--no-install-recommends"], install
    wanted = set(install[5:])
    assert {"xvfb", "xdotool", "x11-utils", "dbus", "libnotify-bin", "gcc", "systemd"} <= wanted
    # The benchmark's comparator (bench/deps.py installs it) and programs no test runs.
    assert not wanted & {"workrave", "xprintidle", "dbus-x11"}, wanted
    assert not list(tmp_path.glob("micromove-test-setup.*"))  # the log of a good run is removed


def test_a_failing_install_shows_everything_it_said(tmp_path: Path) -> None:
    proc, _ = setup(tmp_path, APT_RC="100")
    assert proc.returncode == 1
    assert proc.stderr.count(NOISE) == 80, proc.stderr  # apt-get update's and install's, all of it
    assert "test: FAILED:" in proc.stderr and "apt-get install" in proc.stderr.splitlines()[-1]
