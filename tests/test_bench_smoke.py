"""The benchmark command cannot rot: `python -m bench --smoke` runs every figure at a tiny size.

Asserts only that it completes and writes every figure to JSON, never
anything about speed (bench/RESULTS.md holds the figures of a full run).
It starts its own Xvfb, session bus, notification server, daemons, a bare
pynput listener and the XI2 counter.

Workrave is a comparator of the full benchmark only: `python3 -m bench`
installs it itself (bench/deps.py) and ./scripts/test does not. The smoke run
here says `--without workrave`, and the test checks that every figure then
records Workrave as left out (JSON "without", "not run" in the table) rather
than silently missing; the Workrave code path runs in a full benchmark run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIGURES = {"engine", "idle", "input", "memory", "storage", "latency", "stats"}
WATCHERS = {"daemon", "bare", "xi2"}  # and Workrave, in a full run


def _numbers(d: object) -> list[float]:
    if isinstance(d, bool):
        return []
    if isinstance(d, int | float):
        return [float(d)]
    if isinstance(d, dict):
        return [x for v in d.values() for x in _numbers(v)]
    if isinstance(d, list):
        return [x for v in d for x in _numbers(v)]
    return []


@pytest.mark.slow
@pytest.mark.desktop
def test_bench_smoke_writes_every_figure(tmp_path: Path) -> None:
    results_md = ROOT / "bench" / "RESULTS.md"
    before = results_md.read_bytes() if results_md.exists() else None
    # A `workrave` first on PATH that only records being started: the smoke run must not need it.
    trap = tmp_path / "trap-bin"
    trap.mkdir()
    trap_log = tmp_path / "workrave-started"
    (trap / "workrave").write_text(f"#!/bin/sh\necho \"$@\" >> {trap_log}\nexit 1\n")
    (trap / "workrave").chmod(0o755)
    env = dict(os.environ, PATH=f"{trap}{os.pathsep}{os.environ.get('PATH', '')}")
    r = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--without", "workrave", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=170, stdin=subprocess.DEVNULL, env=env,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert res["mode"] == "smoke" and res["without"] == ["workrave"]
    assert not [ln for ln in r.stderr.splitlines() if "installing" in ln and "workrave" in ln], r.stderr
    assert not trap_log.exists(), trap_log.read_text()  # Workrave was never started
    assert set(res["figures"]) == FIGURES
    for name, fig in res["figures"].items():
        assert isinstance(fig["met"], bool), name
        assert fig["goal"], name
        assert _numbers(fig), name
    figs = res["figures"]
    for name in ("idle", "input", "memory"):
        assert set(figs[name]) >= WATCHERS, name
        assert "workrave" not in figs[name] and figs[name]["without"] == ["workrave"], name
    assert r.stdout.count("Workrave not run (--without workrave)") == 4, r.stdout  # idle, 2 x input, memory
    assert figs["engine"]["trace"]["events"] == 20_000
    assert figs["latency"]["samples"] == len(figs["latency"]["ms"]) == 2
    # every watcher saw the injected key presses (the same input reached all of them)
    injected = figs["input"]["injected"]["key"]
    for name in ("daemon", "bare", "xi2"):
        assert figs["input"]["seen"][name]["key"] == injected, name
    for key in ("nproc", "cpu", "ram_gb", "kernel", "python"):
        assert res["machine"][key], key
    # the people's table names every figure; a smoke run leaves RESULTS.md alone
    for n in range(1, 8):
        assert f"\n{n} " in "\n" + r.stdout, r.stdout
    assert (results_md.read_bytes() if results_md.exists() else None) == before
