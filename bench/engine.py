"""Figures 1 and 5: the engine's speed, and the database's size per active hour.

The trace is working days from tools/make_sample_day.py (the generator of the
sample day), one after another a calendar day apart, each day with its own
seed, cut at the number of events asked for (about 61,000 a day).

1. `mmctl simulate TRACE` vs a bare parse of the same lines (json.loads per
   line, nothing else), side by side; goal <= 2x.
5. `mmctl simulate TRACE --db F` writes what the daemon would write for those
   days; bytes of F (WAL included) per active hour as `mmctl stats --json`
   counts them (totals.active_s); goal <= 50 KB/h.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

from bench import timing

ROOT = Path(__file__).resolve().parent.parent
DAY_S = 86400.0
BARE_PARSE = "import json, sys\nfor line in open(sys.argv[1], encoding='utf-8'):\n    json.loads(line)\n"


def _sample_day_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("make_sample_day", ROOT / "tools" / "make_sample_day.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def make_trace(path: Path, events: int) -> dict[str, object]:
    """Write a trace of `events` events (whole days, the last one cut); its make-up."""
    gen = _sample_day_module()
    lines: list[str] = []
    kinds: dict[str, int] = {}
    n = day = 0
    while n < events:
        evs = gen.Day(gen.SEED + day).build()[: events - n]
        for _, kind, _ in evs:
            kinds[kind] = kinds.get(kind, 0) + 1
        lines.append(gen.render([(t + day * DAY_S, kind, px) for t, kind, px in evs]))
        n += len(evs)
        day += 1
    text = "".join(lines)
    path.write_text(text, encoding="utf-8")
    return {"events": n, "kinds": kinds, "days": day, "bytes": len(text)}


def measure_engine(trace: Path, env: dict[str, str], runs: int) -> dict[str, object]:
    r = timing.side_by_side(
        {
            "simulate": [*timing.mmctl(), "simulate", str(trace)],
            "bare_parse": [sys.executable, "-c", BARE_PARSE, str(trace)],
        },
        env,
        runs,
    )
    ratio = timing.paired_ratio(r, "simulate", "bare_parse")
    return {
        "simulate": r["simulate"],
        "bare_parse": r["bare_parse"],
        "ratio_cpu": ratio,
        "ratio_wall": r["simulate"]["wall_s"] / r["bare_parse"]["wall_s"],
        "goal": "<= 2x a bare parse (CPU)",
        "met": ratio <= 2,
    }


def db_bytes(db: Path) -> int:
    return sum(p.stat().st_size for p in (db, Path(f"{db}-wal")) if p.exists())


def _mmctl_out(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [*timing.mmctl(), *args], env=env, check=True, capture_output=True, text=True,
        stdin=subprocess.DEVNULL,
    ).stdout


def measure_storage(trace: Path, db: Path, env: dict[str, str]) -> dict[str, object]:
    for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        p.unlink(missing_ok=True)
    _mmctl_out(env, "simulate", str(trace), "--db", str(db))
    size = db_bytes(db)
    stats = json.loads(_mmctl_out(env, "stats", "--json", "--db", str(db)))
    totals = stats["totals"]
    active_h = totals["active_s"] / 3600
    per_h = size / active_h
    return {
        "db_bytes": size,
        "days": len(stats["days"]),
        "active_h": active_h,
        "events": {k: totals[k] for k in ("keys", "moves", "clicks", "scrolls")},
        "cues": totals["cues"],
        "bytes_per_active_h": per_h,
        "goal": "<= 50 KB per active hour",
        "met": per_h <= 50_000,
    }
