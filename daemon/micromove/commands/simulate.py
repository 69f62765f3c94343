"""`mmctl simulate TRACE`: replay a trace through the daemon's engine (docs/trace-format.md)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime

from ..errors import UsageError


def configure(p: argparse.ArgumentParser, name: str) -> None:
    p.add_argument("trace", metavar="TRACE", help="JSON Lines trace of input events ('-' for stdin)")
    p.add_argument("--config", metavar="FILE", help="config file (default: built-in defaults)")
    p.add_argument(
        "--start",
        metavar="ISO-8601-LOCAL-TIME",
        help="local wall-clock time of t=0, e.g. 2026-03-02T09:00 (default: today at 09:00)",
    )
    p.add_argument("--db", metavar="FILE", help="also write what the daemon would write to this SQLite file")
    p.epilog = (
        "Prints one JSON line per delivered cue: t, cue, trigger, reason (pause or max_defer), "
        "stretch_s. The trace format, the output and the errors: docs/trace-format.md; when "
        "cues fall due and go out: docs/how-cues-are-timed.md (in micromove's source). "
        "Exit status: 0 ok, 2 bad input (a trace line, the config, an argument)."
    )


def parse_start(value: str | None) -> float:
    """UTC epoch seconds of the trace's t=0."""
    if value is None:
        now = datetime.now()
        return now.replace(hour=9, minute=0, second=0, microsecond=0).timestamp()
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--start: not an ISO-8601 local time: {value!r} (e.g. 2026-03-02T09:00)") from None
    # A time without an offset is local; one with an offset means that instant.
    return dt.timestamp()


def run(args: argparse.Namespace) -> int:
    from .. import config as config_mod
    from ..core import trace
    from ..simulate import simulate

    start = parse_start(args.start)
    cfg = config_mod.load(args.config) if args.config else config_mod.DEFAULTS
    events = trace.read(args.trace)  # validated whole before anything runs
    deliveries = simulate(events, cfg, start=start, db=args.db)
    out = sys.stdout
    for d in deliveries:
        for c in d.cues:
            out.write(
                json.dumps(
                    {
                        "t": round(d.t, 6),
                        "cue": c.cue,
                        "trigger": c.trigger,
                        "reason": d.reason,
                        "stretch_s": round(c.stretch_s, 6),
                    }
                )
                + "\n"
            )
    out.flush()
    return 0
