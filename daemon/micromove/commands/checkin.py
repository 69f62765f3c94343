"""`mmctl checkin`: the weekly self-check (see micromove/checkin.py for what and why).

On a terminal with no answer flags it asks the questions (y/n). With flags
(--tightness, --noise, --natural, --pain: yes|no) it asks nothing: for
scripts. The answers are stored with today's date. When the cues have become
noise it offers changes; --change fewer|rest picks one, --yes makes it
without asking (required when there is no terminal to confirm on).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from ..errors import UsageError
from ._common import add_config_arg, add_db_arg

if TYPE_CHECKING:
    from ..checkin import Answers, Change

_YES = ("yes", "y", "true")
_NO = ("no", "n", "false")


def yes_no(value: str) -> bool:
    v = value.strip().lower()
    if v in _YES:
        return True
    if v in _NO:
        return False
    raise argparse.ArgumentTypeError(f"say yes or no, not {value!r}")


def configure(p: argparse.ArgumentParser, name: str) -> None:
    g = p.add_argument_group("answers (any of them: no questions are asked)")
    g.add_argument("--tightness", type=yes_no, metavar="yes|no", help="tightness that persists after a full day?")
    g.add_argument("--noise", type=yes_no, metavar="yes|no", help="have the cues become background noise?")
    g.add_argument("--natural", type=yes_no, metavar="yes|no", help="do the new movements feel natural yet?")
    g.add_argument(
        "--pain", type=yes_no, metavar="yes|no",
        help="pain that persists, swelling, numbness or loss of range of motion?",
    )  # fmt: skip
    c = p.add_argument_group("changing the cues")
    c.add_argument(
        "--change",
        choices=("fewer", "rest"),
        help="fewer: every interval 1.5x as long; rest: switch off the region moved least after its cues",
    )
    c.add_argument("--region", metavar="REGION", help="with --change rest: the region to rest (default: chosen from your data)")
    c.add_argument("--yes", "-y", action="store_true", help="make the change without asking")
    add_config_arg(p)
    add_db_arg(p)
    p.epilog = (
        "Without answer flags, on a terminal, it asks. The answers are stored with the date; "
        "nothing typed is stored. A change is written to your config file (comments kept) and the "
        "running daemon is asked to reload it. Exit status: 0 ok, 1 cancelled or the change could not "
        "be written, 2 bad usage (no terminal and no answers, --change without --yes and no terminal, "
        "a bad config file or database)."
    )


def _ask(question: str, choices: str = "y/n") -> str | None:
    """One answer from the terminal; None at end of input."""
    while True:
        sys.stdout.write(f"{question} [{choices}] ")
        sys.stdout.flush()
        line = sys.stdin.readline()
        if not line:
            sys.stdout.write("\n")
            return None
        answer = line.strip().lower()
        if answer:
            return answer


def _ask_yes_no(question: str) -> bool | None:
    while True:
        answer = _ask(question)
        if answer is None:
            return None
        if answer in _YES or answer in _NO:
            return answer in _YES
        print("please answer y or n")


def _interview() -> Answers | None:
    from ..checkin import PAIN_QUESTION, QUESTIONS, Answers

    print("Weekly check-in: three questions, then one about warning signs. Answer y or n.")
    got: dict[str, bool] = {}
    for i, (key, _flag, question) in enumerate(QUESTIONS, 1):
        answer = _ask_yes_no(f"{i}. {question}")
        if answer is None:
            return None
        got[key] = answer
    pain = _ask_yes_no(f"{len(QUESTIONS) + 1}. {PAIN_QUESTION}")
    if pain is None:
        return None
    return Answers(got["tight"], got["noise"], got["natural"], pain)


def _show_change(n: int | None, ch: Change) -> None:
    print(f"  {f'{n}) ' if n else ''}{ch.summary}")
    shown = ch.details[:6]
    for d in shown:
        print(f"       {d}")
    if len(ch.details) > len(shown):
        print(f"       ... and {len(ch.details) - len(shown)} more")


def _apply(ch: Change, config_arg: str | None) -> int:
    from pathlib import Path

    from .. import configedit, paths
    from ..running import ask_reload

    path = paths.config_path() if config_arg is None else Path(config_arg).expanduser()
    try:
        kept = configedit.apply(path, ch.edits)
    except OSError as exc:
        print(f"mmctl: checkin: cannot write {path}: {exc.strerror or exc}; nothing changed", file=sys.stderr)
        return 1
    print(f"changed {path}" + ("" if kept else " (its layout could not be kept: comments were dropped)"))
    _sent, msg = ask_reload()
    print(msg)
    return 0


def run(args: argparse.Namespace) -> int:
    import time
    from datetime import date

    from .. import checkin
    from ..checkin import Answers
    from ..report import progress, readmodel
    from ._common import db_file, load_config

    flags = Answers(args.tightness, args.noise, args.natural, bool(args.pain))
    given = any(v is not None for v in (args.tightness, args.noise, args.natural, args.pain))
    tty = sys.stdin.isatty()
    interactive = not given and args.change is None
    if interactive and not tty:
        raise UsageError(
            "checkin: no terminal to ask on: give the answers, e.g. "
            "--tightness no --noise yes --natural no [--pain no]"
        )
    if args.change and not args.yes and not tty:
        raise UsageError(f"checkin --change {args.change}: no terminal to confirm on: add --yes to make the change")
    if args.region is not None and args.change != "rest":
        raise UsageError("checkin: --region goes with --change rest")
    if args.yes and not args.change and not tty:
        raise UsageError("checkin: --yes goes with --change fewer|rest")
    db = db_file(args.db)
    if args.db and not db.is_file():  # a typo must not start a new database somewhere
        raise UsageError(f"checkin: no database at {db}" + (" (a folder)" if db.is_dir() else ""))

    def offers() -> tuple[list[Change], str | None]:
        cfg, _path = load_config(args.config)
        conn = readmodel.open_if_exists(db)
        try:
            start = readmodel.progression_start(conn) if cfg.progression_enabled else None
            recent = readmodel.recent_regions(conn)
        finally:
            if conn is not None:
                conn.close()
        return checkin.propose(cfg, progress.progress(cfg.progression_enabled, start), recent, args.region)

    chosen: Change | None = None
    if args.change:  # everything checked before anything is stored
        changes, note = offers()
        chosen = next((c for c in changes if c.name == args.change), None)
        if chosen is None:
            raise UsageError(f"checkin --change {args.change}: not possible: {note}")

    answers = _interview() if interactive else flags
    if answers is None:
        print("check-in cancelled; nothing saved", file=sys.stderr)
        return 1
    if given or interactive:  # `--pain no` alone is an answer too
        today = date.today().isoformat()
        checkin.save(db, answers, time.time(), today)
        print(f"check-in saved for {today}")
        for line in checkin.advice(answers):
            print(line)

    if chosen is not None:
        print("The change:")
        _show_change(None, chosen)
        if not args.yes:
            ok = _ask_yes_no("Make it?")
            if not ok:
                print("nothing changed")
                return 0
        return _apply(chosen, args.config)

    if not answers.noise:
        return 0
    from ..errors import ConfigError

    try:
        changes, note = offers()
    except ConfigError as exc:
        print(f"Changes cannot be offered until the config is valid: {exc.lines()[0]} (see `mmctl config check`)")
        return 0
    print("Changes that help:")
    for i, ch in enumerate(changes, 1):
        _show_change(i, ch)
    if note:
        print(f"  (resting a region is not offered: {note})")
    if not tty:
        names = "|".join(c.name for c in changes)
        print(f"To make one: mmctl checkin --change {names} --yes")
        return 0
    keys = "/".join(str(i) for i in range(1, len(changes) + 1))
    while True:
        pick = _ask("Make one of them?", f"{keys}/n")
        if pick is None or pick in _NO:
            print("nothing changed")
            return 0
        if pick.isdigit() and 1 <= int(pick) <= len(changes):
            return _apply(changes[int(pick) - 1], args.config)
        print(f"please answer {keys} or n")
