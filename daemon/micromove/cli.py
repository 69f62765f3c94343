"""`mmctl`: the command line. Thin: it parses arguments and calls the library.

Each command lives in micromove.commands.<module> with `configure(parser)` and
`run(args) -> int`, and is imported only when it is the one being run, so
`mmctl stats` never pays for (or imports) the daemon's input backends.
Usage and input errors print one line each on stderr, each starting with
`mmctl: ` (`mmctl: notes.jsonl: no such file`, `mmctl stats: unrecognized
arguments: --jsno`), and exit 2; there is never a traceback for them.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Sequence

from . import __version__
from .errors import UsageError, quote

TYPE_CHECKING = False  # typing is not imported at run time: `mmctl stats` starts fast
if TYPE_CHECKING:
    from typing import Any

# name -> (module under micromove.commands, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("run", "run the daemon in the foreground (what the service starts)"),
    "simulate": ("simulate", "replay a trace through the engine and print the cues it delivers"),
    "stats": ("stats", "activity, stretches and cues per day"),
    "status": ("control", "what the running daemon is doing now"),
    "pause": ("control", "stop cueing for a while (counting goes on)"),
    "resume": ("control", "cue again after a pause"),
    "snooze": ("control", "push back what is due"),
    "done": ("control", "mark the last cue set, or named cues, as done"),
    "checkin": ("checkin", "the weekly self-check"),
    "cues": ("cues", "the movement catalog and what is active"),
    "config": ("configcmd", "check, show or create the config file"),
    "doctor": ("doctor", "check that everything micromove needs is in place"),
    "install": ("install", "install the per-user service that runs `mmctl run` at login"),
    "uninstall": ("install", "stop and remove the per-user service"),
}


class _Formatter(argparse.HelpFormatter):
    """argparse's formatter, minus its `import shutil` (with bz2 and lzma: a
    quarter of a bare interpreter's start) just to learn the terminal width,
    which argparse asks for whenever an argument is added."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:  # fmt: skip
        if width is None:
            try:
                width = int(os.environ["COLUMNS"])
            except (KeyError, ValueError):
                try:
                    width = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
                except (AttributeError, OSError, ValueError):
                    width = 80
            width -= 2  # as argparse does
        super().__init__(prog, indent_increment, max_help_position, width)


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")

    def parse_args(self, args: Any = None, namespace: Any = None) -> argparse.Namespace:  # type: ignore[override]
        # argparse hands a subcommand's leftovers up to the top parser, which
        # would blame `mmctl`; name the (sub)command they were given to.
        ns, extras = self.parse_known_args(args, namespace)
        if extras:
            chosen = _chosen(self, ns)
            prog = chosen.prog
            hint = _near_option(chosen, extras)
            raise UsageError(
                f"{prog}: unrecognized arguments: {' '.join(quote(a) for a in extras)}"
                f"{hint} (`{prog} --help` lists what it takes)"
            )
        return ns  # type: ignore[no-any-return]

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        # argparse's own check, plus "did you mean" (a mistyped command, config
        # action or choice), and the value quoted so that it stays on one line.
        if action.choices is None or value in action.choices:
            return
        import difflib

        choices = [str(c) for c in action.choices]
        near = difflib.get_close_matches(str(value), choices, n=1, cutoff=0.6)
        if isinstance(action, argparse._SubParsersAction):
            hint = f" (did you mean `{self.prog} {near[0]}`?)" if near else ""
            what = str(action.metavar or "command").lower()
            raise UsageError(f"{self.prog}: unknown {what}: {quote(str(value))}{hint}; "
                             f"`{self.prog} --help` lists them")  # fmt: skip
        hint = f" (did you mean {near[0]}?)" if near else ""
        name = "/".join(action.option_strings) or action.metavar or action.dest
        raise UsageError(f"{self.prog}: {name}: invalid choice: {quote(str(value))}{hint}; "
                         f"choose from {', '.join(choices)}")  # fmt: skip


def _near_option(parser: argparse.ArgumentParser, extras: list[str]) -> str:
    """' (did you mean --json?)' for the first mistyped option that is close to a real one."""
    import difflib

    options = [o for a in parser._actions for o in a.option_strings if o.startswith("--")]
    for arg in extras:
        if arg.startswith("--"):
            near = difflib.get_close_matches(arg.split("=", 1)[0], options, n=1, cutoff=0.6)
            if near:
                return f" (did you mean {near[0]}?)"
    return ""


def _chosen(parser: argparse.ArgumentParser, ns: argparse.Namespace) -> argparse.ArgumentParser:
    """The innermost (sub)parser that `ns` went through: `mmctl config check`."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            name = getattr(ns, action.dest, None)
            if name in action.choices:
                return _chosen(action.choices[name], ns)
    return parser


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = _Parser(
        prog="mmctl",
        description="micromove: micro-movement cues at natural pauses in your typing and mousing.",
        epilog="Exit status: 0 ok, 1 a problem found or an operation failed, 2 bad usage or input.",
    )
    parser.add_argument("--version", action="version", version=f"mmctl {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    # Running one command: only its parser is built (argparse's subparsers
    # cost about a millisecond each, and `mmctl stats` should start fast).
    # Help, or no or an unknown command: all of them, for the listing.
    names = [only] if only in COMMANDS else list(COMMANDS)
    for name in names:
        mod, help_ = COMMANDS[name]
        p = sub.add_parser(name, help=help_, description=help_.capitalize() + ".")
        if name == only:
            module = importlib.import_module(f"micromove.commands.{mod}")
            module.configure(p, name)
            p.set_defaults(_module=module)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    only = next((a for a in args_list if not a.startswith("-")), None)
    if only is not None and any(a in ("-h", "--help") for a in args_list[: args_list.index(only)]):
        only = None  # `mmctl -h stats`: the top-level help, listing every command
    try:
        parser = build_parser(only if only in COMMANDS else None)
        args = parser.parse_args(args_list)
        if args.command is None:
            parser.print_help(sys.stderr)  # no command: a usage error, so on stderr
            return 2
        return int(args._module.run(args) or 0)
    except UsageError as exc:
        # Every line says who speaks: `mmctl: FILE:LINE: key: what`. lines()
        # has already made each one a single line (unprintables escaped).
        for line in exc.lines():
            print(line if line.startswith("mmctl") else f"mmctl: {line}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # Output closed early (e.g. piped into `head`): not an error of ours.
        with contextlib.suppress(OSError):
            sys.stdout = open("/dev/null", "w")  # noqa: SIM115
        return 0


if __name__ == "__main__":
    sys.exit(main())
