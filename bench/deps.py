"""What the benchmarks need, installed when missing (standard library only).

1. Debian packages (apt-get, as root or through `sudo -n`): Xvfb, xdotool,
   xdpyinfo, dbus-daemon, Workrave; python3-venv when a venv must be made.
2. The project's virtual environment, .venv, as ./scripts/test makes it
   (micromove installed editable with its test tools). When this Python
   lacks micromove or pynput, the benchmark restarts itself under
   .venv/bin/python, creating the venv first if there is none.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
# Debian package -> a program that proves it is installed
PACKAGES = {
    "xvfb": "Xvfb",
    "xdotool": "xdotool",
    "x11-utils": "xdpyinfo",
    "dbus": "dbus-daemon",
    "workrave": "workrave",
}
REEXEC = "MICROMOVE_BENCH_REEXEC"
PYTHON_MODULES = ("micromove", "pynput", "jeepney", "yaml", "Xlib", "pytest")


class DepsError(Exception):
    pass


def say(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def _as_root(cmd: list[str]) -> None:
    if os.geteuid() != 0:
        if shutil.which("sudo") is None:
            raise DepsError(f"needs root for: {' '.join(cmd)} (run as root, or install sudo)")
        cmd = ["sudo", "-n", *cmd]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    # apt and dpkg talk a lot even with -qq: their output is shown only when they fail.
    r = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
    if r.returncode != 0:
        sys.stderr.write(r.stdout + r.stderr)
        raise DepsError(f"{' '.join(cmd)} failed (exit {r.returncode}; its output is above)")


def ensure_packages(with_venv: bool = False, without: tuple[str, ...] = ()) -> list[str]:
    """Install the missing Debian packages (but not those `without` names); the names installed.

    Workrave is the benchmark's own comparator: ./scripts/test does not install it.
    """
    need = [pkg for pkg, prog in PACKAGES.items() if pkg not in without and shutil.which(prog) is None]
    if with_venv and importlib.util.find_spec("ensurepip") is None:
        need.append("python3-venv")
    if not need:
        return []
    if platform.system() != "Linux" or shutil.which("apt-get") is None:
        raise DepsError(f"missing {', '.join(need)}: the benchmarks install them with apt-get (Debian, Ubuntu)")
    say(f"installing Debian packages: {' '.join(need)}")
    _as_root(["apt-get", "update", "-qq"])
    _as_root(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *need])
    say(f"installed {' '.join(need)}")
    return need


def _have_python_deps() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in PYTHON_MODULES)


def ensure_venv(argv: list[str]) -> None:
    """Return when this Python has what the benchmarks import; else re-run under .venv."""
    if _have_python_deps():
        return
    py = VENV / "bin" / "python"
    if os.environ.get(REEXEC):
        raise DepsError(f"{sys.executable} lacks micromove or pynput even in {VENV}; run ./scripts/test once")
    if not py.exists():
        ensure_packages(with_venv=True)
        say(f"creating {VENV}")
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    check = "import importlib.util as u, sys; sys.exit(not all(u.find_spec(m) for m in sys.argv[1:]))"
    if subprocess.run([str(py), "-c", check, *PYTHON_MODULES], check=False).returncode != 0:
        say(f"installing micromove and its test tools into {VENV}")
        subprocess.run(
            [str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-e", ".[test]"],
            cwd=ROOT, check=True, stdin=subprocess.DEVNULL,
        )
    say(f"restarting under {py}")
    os.environ[REEXEC] = "1"
    os.chdir(ROOT)
    os.execv(str(py), [str(py), "-m", "bench", *argv])
