"""`python3 -m bench.wayland`: idle wakeups of `mmctl run` on real Wayland compositors.

    python3 -m bench.wayland [--seconds N] [--out DIR]

Goal: at most 0.1 wakeups a second while nobody types (the same goal as the
X11 idle figure of `python3 -m bench`). For each of headless sway 1.7
(micromove watches org_kde_kwin_idle) and headless mutter 43 (it watches
org.gnome.Mutter.IdleMonitor), started as the tests start them
(tests/wayland.py), with no readable input device and the default config:
start `mmctl run`, type a little (so that a stretch, a flush and an idle
report have happened), wait 15 s for the flush to settle, then count the
daemon's context switches (voluntary + involuntary, every thread) over N
seconds (default 60) without input. Needs root (sway runs as a test user).
Prints a table; writes DIR/wayland.json (default bench/out/) and
bench/RESULTS-wayland.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(HERE.parent))

from bench import proc  # noqa: E402

GOAL = 0.1


def _mmctl() -> list[str]:
    venv = ROOT / ".venv" / "bin" / "mmctl"
    return [str(venv)] if venv.exists() else [sys.executable, "-m", "micromove.cli"]


def _env(home: Path, bus: str, socket: str) -> dict[str, str]:
    from desktop import desktop_env

    nodev = home / "no-input-devices"
    nodev.mkdir(parents=True, exist_ok=True)
    env = desktop_env(None, bus, home, {"MICROMOVE_EVDEV_DEVICES": str(nodev / "event*")})
    env["WAYLAND_DISPLAY"] = socket
    env["XDG_SESSION_TYPE"] = "wayland"
    return env


def _measure(name: str, env: dict[str, str], type_some: Any, seconds: float) -> dict[str, Any]:
    log = Path(env["HOME"]) / "run.log"
    with open(log, "w") as err:
        p = subprocess.Popen([*_mmctl(), "run"], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + 30
        while "watching input" not in log.read_text():
            if p.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name}: mmctl run did not start: {log.read_text()}")
            time.sleep(0.1)
        watching = next(ln for ln in log.read_text().splitlines() if "watching input" in ln)
        type_some()
        time.sleep(15.0)  # the idle report, the flush (at most 10 s later)
        before = proc.sample(p.pid)
        time.sleep(seconds)
        after = proc.sample(p.pid)
        dt = after.t - before.t
        return {
            "compositor": name,
            "watching": watching.split("watching input ", 1)[-1],
            "seconds": round(dt, 1),
            "wakeups": after.wakeups - before.wakeups,
            "wakeups_per_s": round((after.wakeups - before.wakeups) / dt, 4),
            "cpu_s": round(after.cpu_s - before.cpu_s, 3),
            "rss_mb": round(proc.memory(p.pid)["rss"] / 2**20, 1),
        }
    finally:
        p.terminate()
        p.wait(30)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m bench.wayland", description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--out", type=Path, default=HERE / "out")
    args = ap.parse_args(argv)
    from desktop import SessionBus
    from wayland import Mutter, RemoteDesktop, Sway

    rows = []
    with tempfile.TemporaryDirectory(prefix="mm-bench-wl-") as tmp:
        sway = Sway().start()
        bus = SessionBus()
        try:
            address = bus.start()
            rows.append(_measure("sway 1.7 (org_kde_kwin_idle)", _env(Path(tmp) / "sway", address, sway.socket),
                                 lambda: sway.wtype("hello world", 100), args.seconds))  # fmt: skip
        finally:
            bus.stop()
            sway.stop()
        mutter = Mutter().start()
        try:
            sock = str(Path(mutter.dir or "") / "run" / mutter.display)

            def type_mutter() -> None:
                rd = RemoteDesktop(mutter.bus)
                try:
                    rd.type_for(1.5, 0.1)
                finally:
                    rd.close()

            rows.append(_measure("mutter 43 (Mutter IdleMonitor)", _env(Path(tmp) / "mutter", mutter.bus, sock),
                                 type_mutter, args.seconds))  # fmt: skip
        finally:
            mutter.stop()
    met = all(r["wakeups_per_s"] <= GOAL for r in rows)
    args.out.mkdir(parents=True, exist_ok=True)
    result = {"goal": f"<= {GOAL} wakeups/s idle", "met": met, "machine": platform.platform(), "rows": rows}
    (args.out / "wayland.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        "# Idle wakeups on Wayland compositors (`python3 -m bench.wayland`)",
        "",
        f"Goal: at most {GOAL} wakeups/s while nobody types. Machine: {result['machine']}.",
        "",
        "| compositor | micromove watches | idle s | wakeups | per s | CPU s | RSS MB |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['compositor']} | {r['watching']} | {r['seconds']:.0f} | {r['wakeups']} | "
            f"{r['wakeups_per_s']:.3f} | {r['cpu_s']:.3f} | {r['rss_mb']} |"
        )
    lines += ["", f"Goal met: {'yes' if met else 'NO'}.", ""]
    (HERE / "RESULTS-wayland.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
