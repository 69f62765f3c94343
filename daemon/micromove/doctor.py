"""`mmctl doctor`: is everything micromove needs in place? Each problem with its fix.

Checks, in order:
- config: the file micromove reads is valid (or there is none: defaults);
- input: the backend `input.backend` picks here (inputs.select, which never
  imports pynput: that happens only when watching starts) and, for X11,
  whether the display answers: `xdpyinfo` when installed (which also lists
  the RECORD extension pynput needs), else an X11 connection handshake on
  the display's socket;
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
import shutil
import socket
import struct
import subprocess
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

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


# ------------------------------------------------------------------ display / input
def _x_socket_address(display: str) -> tuple[int, object] | None:
    """(family, address) of the X server for DISPLAY ([host]:N[.S]), or None if unparsable."""
    host, sep, rest = display.rpartition(":")
    if not sep:
        return None
    num = rest.split(".", 1)[0]
    if not num.isdigit():
        return None
    if host in ("", "unix"):
        return socket.AF_UNIX, f"/tmp/.X11-unix/X{num}"
    return socket.AF_INET, (host, 6000 + int(num))


def x_handshake(display: str, timeout: float = 3.0) -> tuple[bool, str]:
    """Open an X11 connection (no authorization data) and read the server's answer."""
    where = _x_socket_address(display)
    if where is None:
        return False, f"DISPLAY={display!r} is not a display name"
    family, address = where
    candidates: list[object] = [address]
    if family == socket.AF_UNIX and os.uname().sysname == "Linux":
        candidates.insert(0, "\0" + str(address))  # the abstract socket Xorg/Xvfb also listen on
    last = "no answer"
    for addr in candidates:
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(addr)  # type: ignore[arg-type]
            s.sendall(b"l\0" + struct.pack("<HHHH", 11, 0, 0, 0) + b"\0\0")
            head = s.recv(8)
            if not head:
                last = "the server closed the connection"
                continue
            if head[0] == 1:
                return True, "answers"
            reason = s.recv(max(head[1], 1)).decode("latin-1", "replace").strip() if head[0] == 0 else ""
            return True, f"answers (it wants authorization to go further{': ' + reason if reason else ''})"
        except OSError as exc:
            last = exc.strerror or str(exc)
        finally:
            s.close()
    return False, last


def check_x_display(display: str) -> Check:
    fix = "start micromove inside your graphical session, where DISPLAY names a running X server"
    xdpyinfo = shutil.which("xdpyinfo")
    if xdpyinfo:
        try:
            r = subprocess.run(
                [xdpyinfo, "-display", display], capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL
            )
        except subprocess.TimeoutExpired:
            return Check("input", PROBLEM, f"X display {display} does not answer (xdpyinfo timed out)", fix)
        if r.returncode != 0:
            why = (r.stderr.strip().splitlines() or ["no answer"])[-1]
            return Check("input", PROBLEM, f"X display {display} does not answer: {why}", fix)
        words = r.stdout.split()
        if "RECORD" not in words:
            return Check(
                "input", PROBLEM, f"X display {display} has no RECORD extension: pynput cannot see input there",
                "enable the RECORD extension in the X server (Xorg: Load \"record\"), or set input.backend: evdev",
            )  # fmt: skip
        return Check("input", OK, f"x11 (pynput): display {display} answers, RECORD extension present")
    ok, detail = x_handshake(display)
    if not ok:
        return Check("input", PROBLEM, f"X display {display} does not answer: {detail}", fix)
    return Check("input", OK, f"x11 (pynput): display {display} {detail} (install x11-utils for a fuller check)")


def check_input(backend: str, env: Mapping[str, str] | None = None) -> Check:
    import sys

    from .adapters.inputs import InputError, select

    env = os.environ if env is None else env
    try:
        source = select(backend, env)
    except InputError as exc:
        text = str(exc)
        what, _, fix = text.partition("; ")
        return Check("input", PROBLEM, what, fix or "see `mmctl run --help`")
    if sys.platform == "darwin":
        return Check(
            "input", NOTE, "macOS: pynput; permission cannot be checked from here",
            "allow the program that runs mmctl in System Settings > Privacy & Security > Input Monitoring and Accessibility",
        )  # fmt: skip
    name = getattr(source, "name", type(source).__name__)
    if type(source).__name__ == "XI2Source":
        problem = source.probe()  # type: ignore[attr-defined]
        display = env.get("DISPLAY", "")
        if problem:
            return Check("input", PROBLEM, f"x11 via XInput2 on display {display}: {problem}",
                         "set input.backend: auto (it falls back to pynput), or fix the X server")  # fmt: skip
        return Check("input", OK, f"x11 via XInput2: display {display} answers, XInput 2.0 or later present")
    if "x11" in name or "pynput" in name or type(source).__name__ == "PynputSource":
        if importlib_missing("pynput"):
            return Check("input", PROBLEM, "pynput is not installed", "reinstall micromove (./install.sh or pip install .)")
        return check_x_display(env.get("DISPLAY", ""))
    probe = getattr(source, "probe", None)
    problem = probe() if callable(probe) else None
    if problem:
        from .adapters.inputs import EVDEV_PERMISSION_HINT

        return Check("input", PROBLEM, f"evdev: {problem}", EVDEV_PERMISSION_HINT)
    return Check("input", OK, f"{name}: input devices readable")


def importlib_missing(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is None


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

    from .adapters.store import SCHEMA_VERSION, open_readonly
    from .errors import StoreError

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
        conn = open_readonly(db)
    except StoreError as exc:
        fix = "upgrade micromove" if "newer" in str(exc) else aside
        out.append(Check("database", PROBLEM, str(exc), fix))
        return out
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        rows = conn.execute("PRAGMA quick_check").fetchall()
        if rows != [("ok",)]:
            first = str(rows[0][0]) if rows else "no answer"
            out.append(Check("database", PROBLEM, f"{db} is damaged (quick_check: {first})", aside))
            return out
        size = sum(p.stat().st_size for p in (db, Path(f"{db}-wal")) if p.exists())
        days = 0
        if version:
            days = conn.execute("SELECT count(DISTINCT minute / 1440) FROM activity").fetchone()[0]
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
