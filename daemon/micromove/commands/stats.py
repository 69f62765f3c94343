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
    from collections.abc import Callable
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
            rep = stats.report(conn, since, until, by=args.by, stored=args.json)
        except Exception as exc:  # sqlite3.Error: damaged or foreign database
            import sqlite3

            if isinstance(exc, sqlite3.Error):
                raise StoreError(f"cannot read {path}: {exc}") from None
            raise
        if args.json or args.csv:
            _emit(rep, args)
            return 0
        from ..report.human import render_human

        sys.stdout.write(render_human(conn, rep, path, since, until, args.by))
    finally:
        conn.close()
    return 0


def write_json(rep: dict[str, Any], out: Any) -> None:
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
            row = row_encoder(encode)
            out.write("[")
            for i, item in enumerate(value):
                out.write(("," if i else "") + row(item))
            out.write("]")
        else:
            out.write(encode(value))
    out.write("}\n" if rep else "{}\n")


def row_encoder(encode: Callable[[Any], str]) -> Callable[[dict[str, Any]], str]:
    """A function giving `encode(row)` (compact JSON) for a report's rows,
    quicker: a row of the usual shape (its label, then numbers, then
    `regions`) is filled into a template made once for that shape, and a
    day's regions stored in the report's form (StoredRegions) are copied as
    stored. Anything else (another shape, a value that is not a plain int
    or float, NaN or infinity) goes through `encode`, so the text is always
    what `encode` gives."""
    from operator import itemgetter

    from ..report.days import StoredRegions

    shapes: dict[tuple[str, ...], tuple[str, Callable[[dict[str, Any]], tuple[Any, ...]]] | None] = {}
    numbers = {int, float}

    def shape_of(keys: tuple[str, ...]) -> tuple[str, Callable[[dict[str, Any]], tuple[Any, ...]]] | None:
        plain = all(k.isascii() and k.isidentifier() for k in keys)
        if len(keys) < 4 or keys[-1] != "regions" or not plain:  # (itemgetter of 2+ keys gives a tuple)
            return None
        middle = "".join(f',"{k}":%r' for k in keys[1:-1])
        if "nan" in middle or "inf" in middle:  # the check below looks for those in the filled text
            return None
        return '{"' + keys[0] + '":%s' + middle, itemgetter(*keys[1:-1])

    def slow(item: dict[str, Any]) -> str:
        if type(item.get("regions")) is StoredRegions:
            import json

            item = {**item, "regions": json.loads(item["regions"])}
        return encode(item)

    def row(item: dict[str, Any]) -> str:
        keys = tuple(item)
        try:
            shape = shapes[keys]
        except KeyError:
            shape = shapes[keys] = shape_of(keys)
        if shape is None:
            return slow(item)
        template, numbers_of = shape
        values = numbers_of(item)
        if not set(map(type, values)) <= numbers:
            return slow(item)
        head = template % (encode(item[keys[0]]), *values)
        if "nan" in head or "inf" in head:  # NaN or infinity: JSON spells them differently
            return slow(item)
        regions = item["regions"]
        return head + ',"regions":' + (regions if type(regions) is StoredRegions else encode(regions)) + "}"

    return row


def _emit(rep: dict[str, Any], args: argparse.Namespace) -> None:
    if args.json:
        write_json(rep, sys.stdout)
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

