"""`mmctl install` / `mmctl uninstall`: the per-user service (README.md: "Install as a service")."""

from __future__ import annotations

import argparse

from .. import install as lib


def configure(p: argparse.ArgumentParser, name: str) -> None:
    p.add_argument(
        "--platform",
        choices=lib.PLATFORMS,
        default=None,
        help="systemd user unit or macOS LaunchAgent (default: launchd on macOS, systemd elsewhere)",
    )
    if name == "install":
        p.add_argument(
            "--dry-run",
            action="store_true",
            help="print exactly the file that would be written, and change nothing",
        )
    else:
        p.add_argument(
            "--purge",
            action="store_true",
            help="also delete the database and the config folder (asks first)",
        )
        p.add_argument("--yes", "-y", action="store_true", help="with --purge: do not ask")


def run(args: argparse.Namespace) -> int:
    platform = args.platform or lib.default_platform()
    if args.command == "install":
        return lib.install(platform, dry_run=args.dry_run)
    if args.yes and not args.purge:
        from ..errors import UsageError

        raise UsageError("uninstall: --yes only goes with --purge")
    return lib.uninstall(platform, purge=args.purge, yes=args.yes)
