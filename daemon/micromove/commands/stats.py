"""`mmctl stats`: activity, stretches and cues per local day (docs/stats.md).

Reads the database read-only with the standard library (works while the
daemon writes) and imports nothing heavy: no yaml, no input backend.

Missing database: with an explicit --db it is an error (one line, exit 2);
at the default place it only means micromove has recorded nothing yet (a
friendly line, exit 0; with --json/--csv an empty report on stdout and the
line on stderr). A file that is not a database or comes from a newer
micromove is an error (exit 2).
"""

from __future__ import annotations

import argparse
import sys
from datetime import date

from ..errors import StoreError, UsageError

TYPE_CHECKING = False  # typing is not imported at run time: `mmctl stats` starts fast
if TYPE_CHECKING:
    from typing import Any


def configure(p: argparse.ArgumentParser, name: str) -> None:
    p.add_argument("--db", metavar="FILE", help="database to read (default: the daemon's)")
    p.add_argument("--since", metavar="DATE", help="first local day to include, YYYY-MM-DD")
    p.add_argument("--until", metavar="DATE", help="last local day to include, YYYY-MM-DD")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="one JSON object; its fields: docs/stats.md")
    fmt.add_argument("--csv", action="store_true", help="CSV, one row per day (hour, week)")
    p.add_argument(
        "--by",
        choices=("hour", "day", "week"),
        default="day",
        help="bucket size: local hours, local days (default) or ISO weeks",
    )
    p.epilog = (
        "Without --json/--csv: today and the 6 days before it (or the latest recorded week), "
        "an hour-by-day heatmap and the trend of cues done per day. Exit status: 0 ok (also "
        "when nothing is recorded yet), 2 bad arguments, a missing --db FILE or an unusable database. "
        "What each figure and JSON field means: docs/stats.md (in micromove's source)."
    )


def _date(flag: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{flag}: not a date: {value!r} (use YYYY-MM-DD, e.g. 2026-03-02)") from None


def run(args: argparse.Namespace) -> int:
    from ..adapters.store import open_readonly
    from ..report import stats

    since = _date("--since", args.since)
    until = _date("--until", args.until)
    if since and until and since > until:
        raise UsageError(f"--since {since} is after --until {until}")
    if args.db is not None:
        path = args.db
    else:
        from ..paths import db_path

        path = str(db_path())
        import os

        if not os.path.exists(path):
            print(
                f"no data yet: nothing recorded at {path} (micromove records once `mmctl run` is watching input)",
                file=sys.stderr if (args.json or args.csv) else sys.stdout,
            )
            if args.json or args.csv:
                _emit(stats.report_empty(args.by), args)
            return 0
    conn = open_readonly(path)
    try:
        try:
            rep = stats.report(conn, since, until, by=args.by)
        except Exception as exc:  # sqlite3.Error: damaged or foreign database
            import sqlite3

            if isinstance(exc, sqlite3.Error):
                raise StoreError(f"cannot read {path}: {exc}") from None
            raise
        if args.json or args.csv:
            _emit(rep, args)
            return 0
        sys.stdout.write(stats.render_human(conn, rep, path, since, until, args.by))
    finally:
        conn.close()
    return 0


def _write_json(rep: dict[str, Any], out: Any) -> None:
    """`rep` as one line of compact JSON (as json.dumps), a list's items
    written one by one: a year of days never becomes one big string, whose
    pieces a fresh process would have to get from the system page by page."""
    import json

    encode = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode
    sep = "{"
    for key, value in rep.items():
        out.write(sep + encode(key) + ":")
        sep = ","
        if isinstance(value, list):
            out.write("[")
            for i, item in enumerate(value):
                out.write(("," if i else "") + encode(item))
            out.write("]")
        else:
            out.write(encode(value))
    out.write("}\n" if rep else "{}\n")


def _emit(rep: dict[str, Any], args: argparse.Namespace) -> None:
    if args.json:
        _write_json(rep, sys.stdout)
        return
    import csv

    from ..report.stats import fields

    key = {"day": "date", "week": "week", "hour": "hour"}[args.by]
    listed = next(k for k in rep if k != "totals")
    w = csv.writer(sys.stdout, lineterminator="\n")
    cols = fields(args.by)
    w.writerow([key, *cols])
    for row in rep[listed]:
        w.writerow([row[key], *(row[f] for f in cols)])

