"""`mmctl doctor`: check that everything micromove needs is in place (micromove/doctor.py).

One line per check; a problem's line ends with its fix. Exit status 1 when
any problem was found, 0 when all is well (notes do not count).
"""

from __future__ import annotations

import argparse
import sys

from ._common import add_config_arg, add_db_arg


def configure(p: argparse.ArgumentParser, name: str) -> None:
    add_config_arg(p)
    add_db_arg(p)
    p.add_argument("--json", action="store_true", help="one JSON object: {ok, checks: [{name, status, detail, fix}]}")
    p.epilog = (
        "Checks the config, the display and input backend, the notification server, the database "
        "(place, permissions, integrity), the runtime folder, the service (installed, running), "
        "and which quiet-time sources this desktop offers. "
        "Exit status: 0 all ok, 1 a problem found, 2 bad usage."
    )


def run(args: argparse.Namespace) -> int:
    from ..doctor import PROBLEM, run_checks

    checks = run_checks(args.config, args.db)
    problems = [c for c in checks if c.status == PROBLEM]
    if args.json:
        import json

        out = {"ok": not problems, "checks": [c.as_dict() for c in checks]}
        sys.stdout.write(json.dumps(out, indent=1) + "\n")
        return 1 if problems else 0
    from ..errors import one_line

    label = {"ok": "ok", "problem": "PROBLEM", "note": "note"}
    for c in checks:
        line = f"{label[c.status]:<8} {c.name}: {c.detail}"
        if c.fix and c.status != "ok":
            line += f"  -> fix: {c.fix}"
        print(one_line(line))  # one check, one line, whatever a path in it holds
    n = len(problems)
    print("all ok" if not n else f"{n} problem{'s' if n != 1 else ''} found")
    return 1 if problems else 0
