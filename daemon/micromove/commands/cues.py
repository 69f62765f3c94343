"""`mmctl cues`: the movement catalog, as configured, and what progression has made active.

Each cue with its region, dose, interval, trigger, whether the config enables
it and whether it is active today. Progression's start is read from the
database's `state` table, read-only; with no database yet, progression starts
when the daemon first runs (week 1: hands only).
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, timedelta
from typing import Any

from ._common import add_config_arg, add_db_arg, db_file, load_config


def configure(p: argparse.ArgumentParser, name: str) -> None:
    add_config_arg(p)
    add_db_arg(p)
    p.add_argument("--json", action="store_true", help="one JSON object: progression and every cue")
    p.epilog = (
        "A cue runs when it is enabled in the config and its region is active: progression starts "
        "with the hands and adds one region a week. Exit status: 0 ok, 2 a bad config file or database."
    )


def collect(args: argparse.Namespace, today: date | None = None) -> dict[str, Any]:
    from ..core import catalog
    from ..errors import UsageError
    from ..report import progress, readmodel

    cfg, cfg_path = load_config(args.config)
    path = db_file(args.db)
    if args.db and not path.exists():
        raise UsageError(f"no database at {path}")
    conn = readmodel.open_if_exists(path)
    try:
        start = readmodel.progression_start(conn) if cfg.progression_enabled else None
    finally:
        if conn is not None:
            conn.close()
    prog = progress.progress(cfg.progression_enabled, start, today)
    cues = []
    for m in catalog.MOVEMENTS:
        s = cfg.cues[m.id]
        week = catalog.REGIONS.index(m.region) + 1
        joins = None
        if prog.enabled and prog.start is not None:
            joins = (prog.start + timedelta(days=7 * (week - 1))).isoformat()
        cues.append(
            {
                "id": m.id,
                "region": m.region,
                "title": m.title,
                "instruction": m.instruction,
                "dose": m.dose,
                "every_min": s.every_min,
                "trigger": s.trigger,
                "enabled": s.enabled,
                "region_active": m.region in prog.active_regions,
                "active": s.enabled and m.region in prog.active_regions,
                # progression week in which its region joins (1 = from the first run), and that date
                "region_week": week if prog.enabled else None,
                "region_from": joins,
            }
        )
    return {
        "config": str(cfg_path) if cfg_path else None,
        "database": str(path) if path.exists() else None,
        "progression": {
            "enabled": prog.enabled,
            "start": prog.start.isoformat() if prog.start else None,
            "week": prog.week,
            "active_regions": list(prog.active_regions),
            "next_region": prog.next_region,
            "next_date": prog.next_date.isoformat() if prog.next_date else None,
        },
        "cues": cues,
        "_progress": prog,
    }


def _minutes(v: float) -> str:
    return f"{v:g} min"


def _active(c: dict[str, Any]) -> str:
    if not c["enabled"]:
        return "no (disabled)"
    if c["active"]:
        return "yes"
    if c["region_from"]:
        return f"from {c['region_from']}"
    if c["region_week"] == 1:
        return "from the first run"
    return f"in week {c['region_week']}"


def render(info: dict[str, Any]) -> str:
    from ..core.catalog import REGION_NAMES, REGIONS

    trig = {"typing": "of typing", "mouse": "of mouse use", "active": "at the desk"}
    out = [info["_progress"].describe().capitalize() + ".", ""]
    head = ("cue", "dose", "every", "trigger", "enabled", "active")
    order = {r: i for i, r in enumerate(REGIONS)}
    rows = {
        c["id"]: (
            "  " + c["id"],
            c["dose"],
            _minutes(c["every_min"]),
            trig.get(c["trigger"], c["trigger"]),
            "yes" if c["enabled"] else "no",
            _active(c),
        )
        for c in info["cues"]
    }
    widths = [max(len(r[i]) for r in (head, *rows.values())) for i in range(len(head))]

    def line(r: tuple[str, ...]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()

    out.append(line(head))
    for region in sorted({c["region"] for c in info["cues"]}, key=order.__getitem__):
        mine = [c for c in info["cues"] if c["region"] == region]
        state = "active" if mine[0]["region_active"] else "not active yet"
        out.append(f"{REGION_NAMES[region]} ({region}: {state})")
        out += [line(rows[c["id"]]) for c in mine]
    src = info["config"] or "built-in defaults (no config file)"
    out += ["", f"Settings from {src}; `mmctl config show` lists them, `mmctl config init` writes a file to edit."]
    return "\n".join(out) + "\n"


def run(args: argparse.Namespace) -> int:
    info = collect(args)
    if args.json:
        import json

        public = {k: v for k, v in info.items() if not k.startswith("_")}
        sys.stdout.write(json.dumps(public, indent=1) + "\n")
        return 0
    sys.stdout.write(render(info))
    return 0
