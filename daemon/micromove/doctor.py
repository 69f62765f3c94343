"""`mmctl doctor`: is everything micromove needs in place? Each problem with its fix.

Checks, in order:
- config: the file micromove reads is valid (or there is none: defaults);
- input: the backend `input.backend` picks here (the input registry, which
  never imports pynput: that happens only when watching starts), then that
  backend's own check (adapters/inputs/registry.py: for X11 whether the
  display answers, for evdev whether the devices can be read);
- notifications: a session bus, and a notification server on it, asked who
  it is (GetServerInformation);
- database: its folder (0700) and files (0600), the schema version and a
  read-only `PRAGMA quick_check`; no database yet is fine;
- runtime folder (control socket, lock): 0700;
- service: the unit (LaunchAgent) file installed and starting an `mmctl`
  that exists; whether micromove runs: the daemon's lock is held (this works
  where `systemctl --user` cannot be reached, which doctor then says).

Statuses: ok, problem (exit 1), note (worth knowing, not a failure).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from .adapters.inputs.x11check import x_handshake

__all__ = ["Check", "check_input", "run_checks", "x_handshake"]

OK, PROBLEM, NOTE = "ok", "problem", "note"


@dataclass
class Check:
    name: str
    status: str
    detail: str
    fix: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return asdict(self)


# ------------------------------------------------------------------ config
def check_config(config_arg: str | None) -> tuple[Check, object]:
    from . import config, paths
    from .errors import ConfigError

    path = Path(config_arg).expanduser() if config_arg else paths.config_path()
    if not config_arg and not path.exists():
        return Check("config", OK, f"no config file at {path}: built-in defaults"), config.DEFAULTS
    try:
        cfg = config.load(path)
    except ConfigError as exc:
        n = len(exc.errors)
        more = f" (and {n - 1} more)" if n > 1 else ""
        return (
            Check("config", PROBLEM, exc.errors[0] + more, f"`mmctl config check {path}` lists every error; fix them (or `mmctl config init --force` for the defaults)"),
            None,
        )
    return Check("config", OK, f"{path} is valid"), cfg


# ------------------------------------------------------------------ input
def check_input(backend: str, env: Mapping[str, str] | None = None) -> Check:
    """The backend `input.backend` picks here, and that backend's own check."""
    import sys

    from .adapters.inputs import InputError
    from .adapters.inputs.registry import choose

    env = os.environ if env is None else env
    try:
        entry = choose(backend, env)
    except InputError as exc:
        text = str(exc)
        what, _, fix = text.partition("; ")
        return Check("input", PROBLEM, what, fix or "see `mmctl run --help`")
    f = entry.doctor(env, sys.platform)
    return Check("input", f.status, f.detail, f.fix)


# ------------------------------------------------------------------ notifications
def check_notifications(env: Mapping[str, str] | None = None) -> Check:
    import sys
    import time

    env = os.environ if env is None else env
    if sys.platform == "darwin":
        return Check("notifications", NOTE, "macOS: notification permission cannot be checked from here")
    address = env.get("DBUS_SESSION_BUS_ADDRESS")
    if not address:
        return Check(
            "notifications", PROBLEM, "no session bus: DBUS_SESSION_BUS_ADDRESS is not set",
            "run inside your desktop session; for the service: systemctl --user import-environment DBUS_SESSION_BUS_ADDRESS",
        )  # fmt: skip
    from .adapters.notify import DBusNotifier, NotifyResult

    n = DBusNotifier(2.0, address=address)
    info = n.server_info()
    if info is not None:
        name, vendor, version = info
        return Check("notifications", OK, f"notification server: {name} {version} ({vendor})")
    conn = n._open(time.monotonic() + 2.0)
    if isinstance(conn, NotifyResult):
        return Check(
            "notifications", PROBLEM, conn.error or "the session bus cannot be reached",
            "run inside your desktop session, whose DBUS_SESSION_BUS_ADDRESS names a running bus",
        )  # fmt: skip
    conn.close()
    return Check(
        "notifications", PROBLEM, "no notification server on the session bus",
        "start your desktop's notification service (or a standalone one such as dunst)",
    )  # fmt: skip


# ------------------------------------------------------------------ files
def _mode(p: Path) -> int:
    return p.stat().st_mode & 0o777


def check_database(db: Path, default: bool) -> list[Check]:
    import sqlite3

    from .adapters.store import SCHEMA_VERSION
    from .errors import StoreError
    from .report import readmodel

    out: list[Check] = []
    folder = db.parent
    if default and folder.is_dir():
        m = _mode(folder)
        if m & 0o077:
            out.append(Check("database", PROBLEM, f"folder {folder} is open to others (mode {m:o})", f"chmod 700 {folder}"))
    if not db.exists():
        out.append(Check("database", OK, f"no database yet at {db}: the daemon creates it when it first runs"))
        return out
    loose = [p for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")) if p.exists() and _mode(p) & 0o077]
    if loose:
        out.append(
            Check(
                "database", PROBLEM,
                "open to others: " + ", ".join(f"{p} (mode {_mode(p):o})" for p in loose),
                "chmod 600 " + " ".join(str(p) for p in loose),
            )  # fmt: skip
        )
    aside = "stop micromove and start it again: it moves the damaged file aside (kept, renamed .corrupt-...) and starts a new one"
    try:
        conn = readmodel.open_db(db)
    except StoreError as exc:
        fix = "upgrade micromove" if "newer" in str(exc) else aside
        out.append(Check("database", PROBLEM, str(exc), fix))
        return out
    try:
        version, rows, days = readmodel.health(conn)
        if rows != [("ok",)]:
            first = str(rows[0][0]) if rows else "no answer"
            out.append(Check("database", PROBLEM, f"{db} is damaged (quick_check: {first})", aside))
            return out
        size = sum(p.stat().st_size for p in (db, Path(f"{db}-wal")) if p.exists())
    except sqlite3.Error as exc:
        out.append(Check("database", PROBLEM, f"{db}: {exc}", aside))
        return out
    finally:
        conn.close()
    if version < SCHEMA_VERSION:
        out.append(Check("database", NOTE, f"{db}: schema version {version}; the daemon upgrades it when it starts"))
    out.append(
        Check(
            "database", OK,
            f"{db}: sound (quick_check ok), schema {version}, "
            + (f"about {days} day{'s' if days != 1 else ''} recorded" if days else "nothing recorded yet")
            + f", {size / 1e6:.1f} MB",
        )  # fmt: skip
    )
    return out


def check_runtime() -> Check | None:
    from . import paths

    d = paths.runtime_dir()
    if not d.is_dir():
        return None
    m = _mode(d)
    if m & 0o077:
        return Check("runtime", PROBLEM, f"runtime folder {d} is open to others (mode {m:o})", f"chmod 700 {d}")
    return Check("runtime", OK, f"runtime folder {d} (0700)")


# ------------------------------------------------------------------ service
def _exec_start(platform: str, text: str) -> str | None:
    if platform == "launchd":
        import plistlib

        try:
            args = plistlib.loads(text.encode("utf-8")).get("ProgramArguments") or []
        except Exception:  # noqa: BLE001 - a broken plist
            return None
        return str(args[0]) if args else None
    import shlex

    for line in text.splitlines():
        if line.strip().startswith("ExecStart="):
            try:
                words = shlex.split(line.split("=", 1)[1])
            except ValueError:
                return None
            return words[0].replace("%%", "%") if words else None
    return None


def check_service() -> list[Check]:
    from . import install
    from .running import daemon_pid

    platform = install.default_platform()
    unit = install.service_path(platform)
    out: list[Check] = []
    if not unit.exists():
        out.append(Check("service", PROBLEM, f"not installed ({unit} is missing)", "mmctl install"))
    else:
        try:
            exe = _exec_start(platform, unit.read_text("utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            exe = None
            out.append(Check("service", PROBLEM, f"cannot read {unit}: {exc}", "mmctl install (rewrites it)"))
        if exe is not None and not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
            out.append(Check("service", PROBLEM, f"{unit} starts {exe}, which does not exist", "mmctl install (rewrites it for this mmctl)"))
        elif exe is None and not out:
            out.append(Check("service", PROBLEM, f"{unit} has no program to start", "mmctl install (rewrites it)"))
        elif not out:
            out.append(Check("service", OK, f"installed: {unit}"))

    pid = daemon_pid()
    manager = ""
    reachable = True
    if platform == "systemd":
        r = install.run_manager(["systemctl", "--user", "is-active", install.UNIT_NAME], timeout=5)
        state = r.stdout.strip()
        if install._unreachable(r) or (r.returncode != 0 and not state):
            reachable = False
            manager = f"; the systemd user manager is not reachable here ({r.why()})"
        else:
            manager = f"; systemd says {state or 'unknown'}"
        start = f"systemctl --user start {install.UNIT_NAME}"
    else:
        start = f"launchctl kickstart gui/{os.getuid()}/{install.LABEL}"
    if pid is not None:
        out.append(Check("daemon", OK, f"micromove is running (pid {pid}){manager}"))
    else:
        how = start if reachable else f"{start} in your desktop session, or run `mmctl run`"
        out.append(Check("daemon", PROBLEM, f"micromove is not running{manager}", how))
    return out


# ------------------------------------------------------------------ all
def run_checks(config_arg: str | None, db_arg: str | None) -> list[Check]:
    from . import paths

    checks: list[Check] = []
    cfg_check, cfg = check_config(config_arg)
    checks.append(cfg_check)
    backend = getattr(cfg, "input_backend", "auto")
    checks.append(check_input(backend))
    checks.append(check_notifications())
    db = Path(db_arg).expanduser() if db_arg else paths.db_path()
    checks += check_database(db, default=db_arg is None)
    rt = check_runtime()
    if rt is not None:
        checks.append(rt)
    checks += check_service()
    return checks
