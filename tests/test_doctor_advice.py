"""Advice that fits the machine (issue 11 item 10): `mmctl doctor` and `mmctl
status` offer `systemctl --user start` only when the service is installed
(otherwise `mmctl install`), and `config init --force` only for the default
config file (for another `--config`: fix that file). Through the installed
`mmctl`, with an environment built from scratch (no systemd user manager here).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from _mmctl import mmctl_command
from desktop import desktop_env


def run(*args: str | Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*mmctl_command(), *map(str, args)], env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=120)  # fmt: skip


def checks(env: dict[str, str], *args: str | Path) -> dict[str, dict[str, str]]:
    proc = run("doctor", "--json", *args, env=env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    return {c["name"]: c for c in json.loads(proc.stdout)["checks"]}


def test_not_installed_means_install_not_systemctl(tmp_path: Path) -> None:
    env = desktop_env(None, None, tmp_path)
    got = checks(env)
    assert got["service"]["fix"] == "mmctl install"
    daemon = got["daemon"]
    assert daemon["status"] == "problem" and "not running" in daemon["detail"]
    assert "mmctl install" in daemon["fix"] and "systemctl" not in daemon["fix"], daemon
    status = run("status", env=env)
    assert status.returncode == 1 and "start it: `mmctl install`" in status.stdout, status.stdout
    assert "systemctl" not in status.stdout


def test_installed_but_stopped_means_start_the_service(tmp_path: Path) -> None:
    env = desktop_env(None, None, tmp_path)
    assert run("install", env=env).returncode == 0  # no user manager reachable: the file is written
    daemon = checks(env)["daemon"]
    assert daemon["fix"].startswith("systemctl --user start micromove.service"), daemon
    status = run("status", env=env)
    assert "start it: `systemctl --user start micromove.service`" in status.stdout, status.stdout


def test_a_bad_default_config_may_be_started_again(tmp_path: Path) -> None:
    env = desktop_env(None, None, tmp_path)
    default = Path(env["XDG_CONFIG_HOME"]) / "micromove" / "config.yaml"
    default.parent.mkdir(parents=True)
    default.write_text("pause:\n  min_s: -1\n")
    for args in ((), ("--config", str(default))):
        fix = checks(env, *args)["config"]["fix"]
        assert f"mmctl config check {default}" in fix and "`mmctl config init --force`" in fix, fix


def test_a_bad_other_config_is_to_be_fixed_not_replaced(tmp_path: Path) -> None:
    env = desktop_env(None, None, tmp_path)
    mine = tmp_path / "mine.yaml"
    mine.write_text("pause:\n  min_s: -1\n")
    fix = checks(env, "--config", mine)["config"]["fix"]
    assert "init --force" not in fix and fix.endswith(f"fix them in {mine}"), fix


def test_status_without_xdg_runtime_dir_says_where_it_looked(tmp_path: Path) -> None:
    env = desktop_env(None, None, tmp_path)
    del env["XDG_RUNTIME_DIR"]
    env["TMPDIR"] = str(tmp_path)
    status = run("status", env=env)
    assert status.returncode == 1
    assert f"nothing listens on {tmp_path}/micromove-{os.getuid()}/control.sock" in status.stdout, status.stdout
    assert "XDG_RUNTIME_DIR is not set here" in status.stdout
    with_it = run("status", env=desktop_env(None, None, tmp_path / "other"))
    assert "XDG_RUNTIME_DIR is not set" not in with_it.stdout
