"""`mmctl config check [FILE]`, `config show`, `config init`.

- check: validates a config file; every problem as `mmctl: FILE:LINE: key: what`
  (exit 2), or one `ok` line (exit 0). Without FILE: the default file; none
  there is fine (the built-in defaults apply).
- show: every effective value and where it came from: `default` or FILE:LINE.
- init: writes the commented example (every key at its default) to the
  default place, folder 0700 and file 0600; an existing file is kept unless
  --force (exit 2 says so).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..errors import UsageError, one_line


def configure(p: argparse.ArgumentParser, name: str) -> None:
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    c = sub.add_parser(
        "check",
        help="validate a config file (default: the one micromove reads)",
        description="Validate a config file: every problem on a line of its own, as mmctl: FILE:LINE: key: what is wrong (exit 2), "
        "or one 'ok' line (exit 0).",
    )
    c.add_argument("file", nargs="?", metavar="FILE", help="file to check (default: $XDG_CONFIG_HOME/micromove/config.yaml)")
    s = sub.add_parser(
        "show",
        help="every effective value and where it came from",
        description="Every effective setting and its origin: 'default' or FILE:LINE.",
    )
    s.add_argument("--config", metavar="FILE", help="config file (default: $XDG_CONFIG_HOME/micromove/config.yaml)")
    s.add_argument("--json", action="store_true", help="one JSON object: {file, values: {key: {value, from}}}")
    i = sub.add_parser(
        "init",
        help="write the commented example config to the default place",
        description="Write the commented example config (every key at its built-in default) to "
        "$XDG_CONFIG_HOME/micromove/config.yaml, or FILE; folder 0700, file 0600.",
    )
    i.add_argument("file", nargs="?", metavar="FILE", help="where to write it (default: the default place)")
    i.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.epilog = "Exit status: 0 ok, 1 the file could not be written, 2 an invalid config or bad usage."


def _show_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, list):  # quiet.hours: as it is written in YAML
        import json

        return json.dumps(v)
    return str(v)


def _check(args: argparse.Namespace) -> int:
    from .. import config, paths
    from ..configedit import flatten

    if args.file is None:
        default = paths.config_path()
        if not default.exists():
            print(f"ok: no config file at {default}; the built-in defaults apply")
            return 0
        path = default
    else:
        path = Path(args.file)
    cfg, origins = config.load_with_origins(path)
    print(f"ok: {path} is valid ({len(origins)} of {len(flatten(cfg.as_dict()))} settings given in it)")
    return 0


def _show(args: argparse.Namespace) -> int:
    from .. import config
    from ..configedit import flatten
    from ._common import config_file

    path = config_file(args.config)
    cfg, origins = config.load_with_origins(path) if path is not None else (config.DEFAULTS, {})
    values = flatten(cfg.as_dict())
    if args.json:
        import json

        out = {
            "file": str(path) if path else None,
            "values": {k: {"value": v, "from": origins.get(k, "default")} for k, v in values.items()},
        }
        sys.stdout.write(json.dumps(out, indent=1) + "\n")
        return 0
    if path is None:
        from .. import paths

        print(f"no config file (looked for {paths.config_path()}): built-in defaults")
    else:
        print(f"config file: {path}")
    kw = max(len(k) for k in values)
    vw = max(len(_show_value(v)) for v in values.values())
    for k, v in values.items():
        print(f"{k.ljust(kw)}  {_show_value(v).ljust(vw)}  {origins.get(k, 'default')}")
    return 0


def example_text() -> str:
    from importlib import resources

    return (resources.files("micromove") / "data" / "micromove.example.yaml").read_text("utf-8")


def _init(args: argparse.Namespace) -> int:
    from .. import paths
    from ..configedit import write_private

    path = Path(args.file).expanduser() if args.file else paths.config_path()
    if path.is_dir():
        raise UsageError(f"config init: {path} is a folder")
    if path.exists() and not args.force:
        raise UsageError(f"config init: {path} already exists; keeping it (add --force to replace it with the example)")
    try:
        write_private(path, example_text())
    except OSError as exc:
        print(one_line(f"mmctl: config init: cannot write {path}: {exc.strerror or exc}"), file=sys.stderr)
        return 1
    print(f"wrote {path} (every key at its default, with comments); edit it, then `mmctl config check`")
    return 0


def run(args: argparse.Namespace) -> int:
    return {"check": _check, "show": _show, "init": _init}[args.action](args)
