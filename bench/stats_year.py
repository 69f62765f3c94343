"""Figure 7: `mmctl stats --json` on a year of data vs a bare `python -c pass`
and vs the same command on one week.

Goals (issues 5 and 16): at most 5x the bare interpreter start, and at most
1.3x what it costs on a database holding one week: stats must cost what the
shown days cost, not what the history holds. Measured side by side in one
run (`python3 -m bench --only stats`). Both databases are built through the
daemon's own Store (deterministic): 250 (or 5) working days x 8 h of
per-minute counts, stretches, a cue set about every 5 minutes of a stretch
(about 90,000 delivered cues in the year) and their confirmations. Every
command runs with the bytecode cache on (bench.timing), as an installed
micromove does.
"""

from __future__ import annotations

import random
import sqlite3
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

from bench import timing

CUES = {
    "typing": ["hands.wrist_pulse", "hands.finger_piano", "eyes.far_focus", "neck.chin_tuck"],
    "mouse": ["hands.grip_modulation", "eyes.far_focus", "back.scapular_squeeze"],
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
                at = t + rng.uniform(100, 400)
                while at < t + length:  # a cue set about every 5 minutes of the stretch
                    trig = kind if rng.random() < 0.6 else "active"
                    cues = rng.sample(CUES[trig], k=min(len(CUES[trig]), rng.randint(3, 5)))
                    did = store.add_delivery(at, "pause", [(c, trig, at - t) for c in cues], True)
                    totals["cues"] += len(cues)
                    for c in cues:
                        r = rng.random()
                        if r < 0.3:
                            store.add_confirmation(at + 30, c, did, "done")
                        elif r < 0.5:
                            store.add_confirmation(at + 20, c, did, "likely")
                    at += rng.uniform(140, 280)
                t += length + rng.uniform(130, 900)
            store.flush()
        day += timedelta(days=1)
    store.close()
    return totals


TABLES = ("activity", "stretches", "deliveries", "delivery_cues", "confirmations")


def measure(db: Path, env: dict[str, str], runs: int, days: int = 250) -> dict[str, object]:
    """Build the year (`days` working days) and a one-week database, then time
    `stats --json` on each and `python -c pass`, alternating, side by side."""
    made = build(db, days)
    week_db = db.with_name("week.db")
    build(week_db, 5)
    with sqlite3.connect(db) as c:
        rows = {t: c.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
        delivered = c.execute(
            "SELECT count(*) FROM delivery_cues c JOIN deliveries d ON d.id = c.delivery_id WHERE d.delivered = 1"
        ).fetchone()[0]
    c.close()
    stats_cmd = [*timing.mmctl(), "stats", "--json", "--db", str(db)]
    week_cmd = [*timing.mmctl(), "stats", "--json", "--db", str(week_db)]
    bare = [sys.executable, "-c", "pass"]
    r = timing.side_by_side(
        {"stats": stats_cmd, "week": week_cmd, "bare": bare}, env, runs, warmup=3 if runs > 3 else 1
    )
    ratio = timing.paired_ratio(r, "stats", "bare")
    ratio_week = timing.paired_ratio(r, "stats", "week")
    return {
        "db_bytes": db.stat().st_size,
        "working_days": days,
        "rows": rows,
        "delivered_cues": delivered,
        "built_cues": made["cues"],
        "stats": r["stats"],
        "stats_week": r["week"],
        "bare_python": r["bare"],
        "ratio_cpu": ratio,
        "ratio_wall": r["stats"]["wall_s"] / r["bare"]["wall_s"],
        "ratio_week_cpu": ratio_week,
        "goal": "<= 5x python -c pass and <= 1.3x one week (CPU)",
        "met": ratio <= 5 and ratio_week <= 1.3,
    }
