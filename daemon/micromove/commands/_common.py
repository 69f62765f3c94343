"""What several `mmctl` commands share: which config file and database they use."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config import Config


def add_config_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config", metavar="FILE", help="config file (default: $XDG_CONFIG_HOME/micromove/config.yaml)"
    )


def add_db_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", metavar="FILE", help="database (default: $XDG_DATA_HOME/micromove/micromove.db)")


def config_file(arg: str | None) -> Path | None:
    """The config file in use: --config FILE, else the default one if it exists, else None."""
    from .. import paths

    if arg:
        return Path(arg).expanduser()
    default = paths.config_path()
    return default if default.exists() else None


def load_config(arg: str | None) -> tuple[Config, Path | None]:
    """(config, its file or None for the built-in defaults); ConfigError for a bad file."""
    from .. import config

    path = config_file(arg)
    return (config.load(path) if path is not None else config.DEFAULTS), path


def db_file(arg: str | None) -> Path:
    from .. import paths

    return Path(arg).expanduser() if arg else paths.db_path()
