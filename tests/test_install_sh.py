"""`./install.sh` as a new user runs it: a fresh HOME whose PATH lacks ~/.local/bin.

The real script, the real `python3 -m venv` and pip (from the same package
index the test environment was installed from), the real `mmctl` it installs.
No systemd user manager is reachable here, so `mmctl install` writes the unit
and prints what to run (tests/test_install.py covers the manager's calls).

Then, as the person would: follow the printed PATH advice (append the line
to the named rc file and start a new interactive shell), run `mmctl install`
again through PATH (it must say the unit is unchanged: one stable ExecStart),
`mmctl uninstall` (it names the environment and the link it keeps) and
`mmctl uninstall --purge --yes` (it deletes them).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from _mmctl import ROOT

SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
LINE = 'export PATH="$HOME/.local/bin:$PATH"'


def user_env(home: Path, **extra: str) -> dict[str, str]:
    """A login-like environment: HOME, SHELL, a system PATH without ~/.local/bin, pip's settings."""
    env = {k: v for k, v in os.environ.items() if k.startswith("PIP_") or k in ("LANG", "TMPDIR")}
    env.update(HOME=str(home), PATH=SYSTEM_PATH, SHELL="/bin/bash", USER="you")
    env.update(extra)
    return env


def run(argv: list[str], env: dict[str, str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600, **kw  # type: ignore[call-overload]
    )


def exec_start(unit: Path) -> str:
    (line,) = [ln for ln in unit.read_text().splitlines() if ln.startswith("ExecStart=")]
    return line


@pytest.mark.slow
def test_install_sh_without_local_bin_on_path(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = user_env(home)
    proc = run(["bash", str(ROOT / "install.sh")], env, cwd=tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "command not found" not in out and "Traceback" not in out, out
    link = home / ".local" / "bin" / "mmctl"
    venv = home / ".local" / "lib" / "micromove"
    assert link.is_symlink() and os.path.realpath(link) == str(venv / "bin" / "mmctl")
    # Exactly what to add, and where; the absolute path until then.
    assert f"{home}/.local/bin is not on your PATH" in proc.stdout, out
    assert f"add this line to {home}/.bashrc (your shell is bash)" in proc.stdout, out
    assert f"    {LINE}\n" in proc.stdout, out
    assert f"until then, run it as {link}" in proc.stdout, out
    unit = home / ".config" / "systemd" / "user" / "micromove.service"
    first = exec_start(unit)
    assert first == f"ExecStart={venv}/bin/mmctl run", first

    # The person follows the advice: a new interactive bash finds `mmctl`.
    with (home / ".bashrc").open("a") as f:
        f.write(f"\n{LINE}\n")
    found = run(["bash", "-ic", "command -v mmctl"], env)
    assert found.stdout.strip() == str(link), found.stdout + found.stderr

    # `mmctl install` again, through PATH (the link): unchanged, nothing to restart.
    again = run(["bash", "-ic", "mmctl install"], env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"already installed, up to date: {unit}" in again.stdout, again.stdout
    assert "updated" not in again.stdout
    assert exec_start(unit) == first

    # Uninstall keeps the program and says how to remove it.
    kept = run([str(link), "uninstall"], env)
    assert kept.returncode == 0, kept.stderr
    assert f"kept the program: {venv} and {link}" in kept.stdout, kept.stdout
    assert f"rm -r {venv} {link}" in kept.stdout, kept.stdout
    assert venv.is_dir() and link.is_symlink() and not unit.exists()

    # --purge lists them with the data, and deletes them.
    assert run([str(link), "install"], env).returncode == 0
    gone = run([str(link), "uninstall", "--purge", "--yes"], env)
    assert gone.returncode == 0, gone.stdout + gone.stderr
    assert f"deleted {link}" in gone.stdout and f"deleted {venv}" in gone.stdout, gone.stdout
    assert not venv.exists() and not link.is_symlink() and not unit.exists()
    refused = run([shutil.which("bash") or "/bin/bash", "-ic", "mmctl uninstall"], env)
    assert "command not found" in refused.stderr  # really gone


def advice(home: Path, shell: str, path: str = SYSTEM_PATH, **extra: str) -> str:
    """install.sh's PATH advice for `shell`, from the script itself (sourced: main does not run)."""
    env = user_env(home, SHELL=shell, **extra)
    env["PATH"] = path
    proc = run(["bash", "-c", f'source {ROOT / "install.sh"} && path_advice "$HOME/.local/bin"'], env)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    return proc.stdout


@pytest.mark.parametrize(
    ("shell", "rc", "line"),
    [
        ("/usr/bin/zsh", ".zshrc", LINE),
        ("/usr/bin/fish", ".config/fish/config.fish", "fish_add_path $HOME/.local/bin"),
        ("/bin/dash", ".profile", LINE),
        ("/bin/bash", ".bashrc", LINE),
    ],
)
def test_path_advice_names_the_shells_own_file(tmp_path: Path, shell: str, rc: str, line: str) -> None:
    out = advice(tmp_path, shell)
    name = os.path.basename(shell)
    assert f"add this line to {tmp_path}/{rc} (your shell is {name})" in out, out
    assert f"\n    {line}\n" in out, out


def test_path_advice_follows_zdotdir_and_xdg(tmp_path: Path) -> None:
    assert f"{tmp_path}/zdot/.zshrc" in advice(tmp_path, "/bin/zsh", ZDOTDIR=str(tmp_path / "zdot"))
    assert f"{tmp_path}/cfg/fish/config.fish" in advice(tmp_path, "/bin/fish", XDG_CONFIG_HOME=str(tmp_path / "cfg"))


def test_no_advice_when_local_bin_is_on_path(tmp_path: Path) -> None:
    bin_ = tmp_path / ".local" / "bin"
    assert advice(tmp_path, "/bin/bash", path=f"{bin_}:{SYSTEM_PATH}") == ""
    other = tmp_path / "other"
    other.mkdir()
    (other / "mmctl").write_text("#!/bin/sh\n")
    (other / "mmctl").chmod(0o755)
    note = advice(tmp_path, "/bin/bash", path=f"{other}:{bin_}:{SYSTEM_PATH}")
    assert f"another mmctl comes first on your PATH ({other}/mmctl)" in note, note
