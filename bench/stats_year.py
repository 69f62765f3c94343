"""Figure 7: `mmctl stats --json` on a year of data vs a bare `python -c pass`.

Goal (issue 5): at most 5x the bare interpreter start, measured side by side
in one run (`python3 -m bench --only stats`). The year database is built
through the daemon's own Store (deterministic, under a second): about 250
working days x 8 h of per-minute counts, stretches, cue sets and
confirmations. Both commands run with the bytecode cache on (bench.timing),
as an installed micromove does.
"""

from __future__ import annotations

import random
import sqlite3
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

from bench import timing

CUES = {
    "typing": ["hands.wrist_pulse", "hands.finger_piano"],
    "mouse": ["hands.grip_modulation"],
    "active": ["eyes.far_focus", "back.scapular_squeeze", "neck.chin_tuck", "core.abdominal_brace", "hips.pelvic_tilt"],
}


def build(path: Path, days_wanted: int = 250, seed: int = 7) -> dict[str, int]:
    from micromove.adapters.store import Store

    rng = random.Random(seed)
    if path.exists():
        for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            p.unlink(missing_ok=True)
    store = Store.open(path)
    day = date(2025, 1, 6)
    days = 0
    totals = {"keys": 0, "moves": 0, "cues": 0}
    while days < days_wanted:
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


TABLES = ("activity", "stretches", "deliveries", "delivery_cues", "confirmations")


def measure(db: Path, env: dict[str, str], runs: int, days: int = 250) -> dict[str, object]:
    """Build the database (`days` working days), then time both commands side by side."""
    build(db, days)
    with sqlite3.connect(db) as c:
        rows = {t: c.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
    c.close()
    stats_cmd = [*timing.mmctl(), "stats", "--json", "--db", str(db)]
    bare = [sys.executable, "-c", "pass"]
    r = timing.side_by_side({"stats": stats_cmd, "bare": bare}, env, runs, warmup=3 if runs > 3 else 1)
    ratio = r["stats"]["cpu_s"] / r["bare"]["cpu_s"]
    return {
        "db_bytes": db.stat().st_size,
        "working_days": days,
        "rows": rows,
        "stats": r["stats"],
        "bare_python": r["bare"],
        "ratio_cpu": ratio,
        "ratio_wall": r["stats"]["wall_s"] / r["bare"]["wall_s"],
        "goal": "<= 5x python -c pass (CPU)",
        "met": ratio <= 5,
    }
