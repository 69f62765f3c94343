"""Timing commands side by side: alternate runs, medians, wall and CPU time.

Each run is a fresh process; its CPU time (user + system, from wait4's
rusage) is the figure the ratios use, as other work on a shared machine
stretches wall time but hardly CPU time. Wall time is reported beside it.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def mmctl() -> list[str]:
    """The `mmctl` installed beside this Python (the venv's), as a person runs it."""
    beside = Path(sys.executable).parent / "mmctl"
    return [str(beside)] if beside.exists() else [sys.executable, "-m", "micromove"]


def bytecode_env(cache: Path, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """An environment with the bytecode cache on, in a fresh private prefix.

    An installed micromove runs from cached bytecode; PYTHONDONTWRITEBYTECODE
    (set in some environments) would make every run recompile it.
    """
    env = dict(os.environ if base is None else base)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    shutil.rmtree(cache, ignore_errors=True)
    env["PYTHONPYCACHEPREFIX"] = str(cache)
    return env


def timed(cmd: Sequence[str], env: Mapping[str, str]) -> tuple[float, float]:
    """Run `cmd` to its end: (wall seconds, CPU seconds). Raises on a non-zero exit."""
    t0 = time.perf_counter()
    p = subprocess.Popen(
        list(cmd), env=dict(env), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert p.stderr is not None
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    p.stderr.close()
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}: {err.decode(errors='replace')[-500:]}")
    return wall, usage.ru_utime + usage.ru_stime


def side_by_side(
    cmds: Mapping[str, Sequence[str]], env: Mapping[str, str], runs: int, warmup: int = 1
) -> dict[str, dict[str, float]]:
    """Run every command `runs` times, interleaved; medians per command.

    Returns {name: {"wall_s": median, "cpu_s": median, "runs": n,
    "cpu_runs": [CPU seconds of each round]}}; `paired_ratio` compares two.
    """
    for _ in range(warmup):  # file cache, bytecode cache
        for cmd in cmds.values():
            timed(cmd, env)
    walls: dict[str, list[float]] = {name: [] for name in cmds}
    cpus: dict[str, list[float]] = {name: [] for name in cmds}
    for _ in range(runs):
        for name, cmd in cmds.items():
            wall, cpu = timed(cmd, env)
            walls[name].append(wall)
            cpus[name].append(cpu)
    return {
        name: {
            "wall_s": statistics.median(walls[name]),
            "cpu_s": statistics.median(cpus[name]),
            "runs": runs,
            "cpu_runs": cpus[name],
        }
        for name in cmds
    }


def paired_ratio(r: Mapping[str, Mapping[str, Any]], a: str, b: str) -> float:
    """The median over rounds of a's CPU time / b's in the same round. The
    two ran one right after the other, so a machine that slows down or
    speeds up between rounds (these machines do, by 20% and more within a
    minute) moves both alike; a ratio of the two medians would take it in."""
    return statistics.median(x / y for x, y in zip(r[a]["cpu_runs"], r[b]["cpu_runs"], strict=True))
