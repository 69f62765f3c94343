"""Benchmark: `mmctl stats --json` on a year of data vs a bare `python -c pass`.

Goal (issue 5): at most 5x the bare interpreter start, measured side by side
in one run. Builds the year database through the daemon's Store if it is
missing (deterministic: about 250 working days x 8 h of per-minute counts,
stretches, cue sets and confirmations), then alternates the two commands,
takes medians and prints the ratio.

    python bench/stats_year.py [--db bench/out/year.db] [--runs 21] [--rebuild]

Both commands run with the bytecode cache on (in a private prefix under the
output folder), as an installed micromove does; the environment here sets
PYTHONDONTWRITEBYTECODE, which would make every run recompile micromove.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CUES = {
    "typing": ["hands.wrist_pulse", "hands.finger_piano"],
    "mouse": ["hands.grip_modulation"],
    "active": ["eyes.far_focus", "back.scapular_squeeze", "neck.chin_tuck", "core.abdominal_brace", "hips.pelvic_tilt"],
}


def build(path: Path, seed: int = 7) -> dict[str, int]:
    sys.path.insert(0, str(ROOT / "daemon"))
    from micromove.store import Store

    rng = random.Random(seed)
    if path.exists():
        for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            p.unlink(missing_ok=True)
    store = Store.open(path)
    day = date(2025, 1, 6)
    days = 0
    totals = {"keys": 0, "moves": 0, "cues": 0}
    while days < 250:
        if day.weekday() < 5:
            days += 1
            start = datetime(day.year, day.month, day.day, 9).timestamp()
            counts: dict[int, list[float]] = {}
            for i in range(480):
                m = int(start // 60) + i
                keys = rng.randrange(0, 120)
                moves = rng.randrange(0, 200)
                counts[m] = [keys, rng.randrange(0, 8), rng.randrange(0, 15), moves, moves * 9.5]
                totals["keys"] += keys
                totals["moves"] += moves
            store.add_counts(counts)
            t = start
            while t < start + 8 * 3600:
                length = rng.uniform(300, 3000)
                kind = rng.choice(("typing", "mouse"))
                store.put_stretch(kind, t, t + length)
                store.put_stretch("active", t, t + length)
                at = t + length / 2
                trig = kind if rng.random() < 0.6 else "active"
                cues = rng.sample(CUES[trig], k=min(len(CUES[trig]), rng.randint(1, 3)))
                did = store.add_delivery(at, "pause", [(c, trig, length / 2) for c in cues], True)
                totals["cues"] += len(cues)
                for c in cues:
                    r = rng.random()
                    if r < 0.3:
                        store.add_confirmation(at + 30, c, did, "done")
                    elif r < 0.5:
                        store.add_confirmation(at + 20, c, did, "likely")
                t += length + rng.uniform(130, 900)
            store.flush()
        day += timedelta(days=1)
    store.close()
    return totals


def timed(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, default=HERE / "out" / "year.db")
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--rebuild", action="store_true")
    args = ap.parse_args()
    args.db.parent.mkdir(parents=True, exist_ok=True)
    if args.rebuild or not args.db.exists():
        t0 = time.perf_counter()
        figures = build(args.db)
        print(f"built {args.db} in {time.perf_counter() - t0:.1f}s: {figures}")
    mmctl = Path(sys.executable).parent / "mmctl"
    stats_cmd = [str(mmctl)] if mmctl.exists() else [sys.executable, "-m", "micromove"]
    stats_cmd += ["stats", "--json", "--db", str(args.db)]
    bare = [sys.executable, "-c", "pass"]
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    cache = args.db.parent / "pycache"
    shutil.rmtree(cache, ignore_errors=True)
    env["PYTHONPYCACHEPREFIX"] = str(cache)
    for _ in range(3):  # warm up: file cache, bytecode cache
        timed(stats_cmd, env)
        timed(bare, env)
    s_times: list[float] = []
    b_times: list[float] = []
    for _ in range(args.runs):
        b_times.append(timed(bare, env))
        s_times.append(timed(stats_cmd, env))
    s = statistics.median(s_times)
    b = statistics.median(b_times)
    rows = subprocess.run(
        [sys.executable, "-c", f"import sqlite3;c=sqlite3.connect({str(args.db)!r});"
         "print(*[c.execute(f'select count(*) from {t}').fetchone()[0] for t in "
         "('activity','stretches','deliveries','delivery_cues','confirmations')])"],
        capture_output=True, text=True, check=True,
    ).stdout.split()
    print(f"database: {args.db} ({args.db.stat().st_size / 1e6:.1f} MB; activity, stretches, deliveries, "
          f"delivery_cues, confirmations rows: {' '.join(rows)})")
    print(f"python -c pass:        median {b * 1000:.1f} ms over {args.runs} runs")
    print(f"mmctl stats --json:    median {s * 1000:.1f} ms over {args.runs} runs")
    print(f"ratio: {s / b:.2f}x (goal: at most 5x)")
    return 0 if s / b <= 5 else 1


if __name__ == "__main__":
    sys.exit(main())
