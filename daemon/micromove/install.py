"""Install micromove as a per-user service (README.md: "Install as a service").

A systemd user unit on Linux, a LaunchAgent on macOS, each rendered from a
template shipped in the package (micromove/templates/, identical to the
repository's systemd/ and launchd/ files) with the absolute path of the
installed `mmctl`.

Every call to the service manager (`systemctl --user`, `launchctl`) goes
through `run_manager`, one subprocess with a time limit. Where the manager is
not reachable (not installed, or no user manager to talk to: "Failed to connect
to bus"), the file is still installed and the exact commands that finish the
job are printed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from xml.sax.saxutils import escape as _xml_escape

from . import paths
from .errors import UsageError

PLATFORMS = ("systemd", "launchd")
UNIT_NAME = "micromove.service"
LABEL = "org.micromove.daemon"
PLACEHOLDER_MMCTL = "@MMCTL@"
PLACEHOLDER_LOGDIR = "@LOGDIR@"
TEMPLATES = {"systemd": UNIT_NAME, "launchd": f"{LABEL}.plist"}
MANAGER_TIMEOUT_S = 30.0

Say = Callable[[str], None]


class InstallError(UsageError):
    """Something `mmctl install`/`uninstall` could not do. One line, exit status 1."""

    exit_status = 1


@dataclass(frozen=True)
class ManagerResult:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def why(self) -> str:
        text = (self.stderr.strip() or self.stdout.strip()).splitlines()
        return text[-1] if text else f"exit status {self.returncode}"


def run_manager(argv: list[str], timeout: float = MANAGER_TIMEOUT_S) -> ManagerResult:
    """Run one service-manager command; never raises for a missing program or a hang."""
    args = tuple(argv)
    try:
        proc = subprocess.run(
            list(argv), capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
        )
    except FileNotFoundError:
        return ManagerResult(args, 127, "", f"{argv[0]}: command not found")
    except subprocess.TimeoutExpired:
        return ManagerResult(args, 124, "", f"{argv[0]}: no answer within {timeout:g} s")
    except OSError as exc:
        return ManagerResult(args, 126, "", f"{argv[0]}: {exc.strerror or exc}")
    return ManagerResult(args, proc.returncode, proc.stdout, proc.stderr)


# ------------------------------------------------------------------ places


def default_platform() -> str:
    return "launchd" if sys.platform == "darwin" else "systemd"


def systemd_unit_dir() -> Path:
    """$XDG_CONFIG_HOME/systemd/user (the XDG variable honoured; ~/.config otherwise)."""
    value = os.environ.get("XDG_CONFIG_HOME", "")
    base = Path(value) if value and os.path.isabs(value) else Path.home() / ".config"
    return base / "systemd" / "user"


def launchd_log_dir() -> Path:
    return Path.home() / "Library" / "Logs" / "micromove"


def service_path(platform: str) -> Path:
    if platform == "systemd":
        return systemd_unit_dir() / UNIT_NAME
    return Path.home() / "Library" / "LaunchAgents" / f"{LABEL}.plist"


def mmctl_path() -> Path:
    """The absolute path of the `mmctl` installed with this package.

    The script being run when it is `mmctl` itself; otherwise (python -m
    micromove) the console script beside this Python, in the scripts folder of
    this installation or of the user scheme, or on PATH.

    The path is the real file, symbolic links resolved: `~/.local/bin/mmctl`
    (install.sh's link) and the virtual environment's `bin/mmctl` it points
    to give the same service file, however `mmctl install` was started, so a
    rerun finds it unchanged and restarts nothing.
    """
    argv0 = sys.argv[0] if sys.argv else ""
    if os.path.basename(argv0) == "mmctl" and os.path.isfile(argv0):
        return Path(os.path.realpath(argv0))
    candidates: list[Path] = [Path(sys.executable).parent / "mmctl"]
    for scheme in (sysconfig.get_default_scheme(), sysconfig.get_preferred_scheme("user")):
        try:
            candidates.append(Path(sysconfig.get_path("scripts", scheme)) / "mmctl")
        except KeyError:
            continue
    found = shutil.which("mmctl")
    if found:
        candidates.append(Path(found))
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return Path(os.path.realpath(c))
    raise InstallError(
        "install: cannot find the installed `mmctl` script (install the package with pip so it exists)"
    )


# ------------------------------------------------------------------ rendering


def template_text(platform: str) -> str:
    """The template as shipped in the package (identical to the repository's copy)."""
    return (resources.files("micromove") / "templates" / TEMPLATES[platform]).read_text("utf-8")


_SYSTEMD_PLAIN = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._+-@:,=")


def systemd_quote(path: str) -> str:
    """`path` as the first word of ExecStart: specifiers (%) escaped, quoted if needed.

    systemd does not expand $VARIABLES in the program path (checked with
    systemd-analyze), so a `$` stays as it is.
    """
    text = path.replace("%", "%%")
    if all(ch in _SYSTEMD_PLAIN for ch in path):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _check_path(what: str, path: str) -> None:
    if not os.path.isabs(path):
        raise InstallError(f"install: {what} is not an absolute path: {path!r}")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in path):
        raise InstallError(f"install: {what} contains a control character: {path!r}")


def render(platform: str, mmctl: str | os.PathLike[str] | None = None) -> str:
    """The service file for `platform`, starting `mmctl` (default: the installed one)."""
    exe = os.fspath(mmctl) if mmctl is not None else str(mmctl_path())
    _check_path("the mmctl path", exe)
    text = template_text(platform)
    if platform == "systemd":
        return text.replace(PLACEHOLDER_MMCTL, systemd_quote(exe))
    logdir = str(launchd_log_dir())
    _check_path("the log folder", logdir)
    return text.replace(PLACEHOLDER_MMCTL, _xml_escape(exe)).replace(
        PLACEHOLDER_LOGDIR, _xml_escape(logdir)
    )


def _write_atomic(path: Path, text: str) -> None:
    from . import paths

    path.parent.mkdir(parents=True, exist_ok=True)
    paths.replace_file(path, text, 0o644)


def _read(path: Path) -> str | None:
    try:
        return path.read_text("utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError:
        return ""  # not ours as it is: rewrite it
    except OSError as exc:
        raise InstallError(f"install: cannot read {path}: {exc.strerror or exc}") from None


# ------------------------------------------------------------------ systemd


def _unreachable(res: ManagerResult) -> bool:
    """True when there is no user service manager to talk to (as opposed to a failing command)."""
    if res.returncode in (124, 126, 127):
        return True
    err = res.stderr
    return any(
        s in err
        for s in (
            "Failed to connect to",
            "not been booted with systemd",
            # A session bus without a systemd user manager on it.
            "org.freedesktop.systemd1 was not provided",
            "Service name org.freedesktop.systemd1",
        )
    )


def _systemctl(*args: str) -> ManagerResult:
    return run_manager(["systemctl", "--user", *args])


SYSTEMD_START = ["systemctl --user daemon-reload", f"systemctl --user enable --now {UNIT_NAME}"]
IMPORT_ENV = "systemctl --user import-environment DISPLAY WAYLAND_DISPLAY DBUS_SESSION_BUS_ADDRESS"


def _systemd_instructions(say: Say, why: str) -> None:
    say(f"The systemd user manager is not reachable here ({why}).")
    say("To start micromove now and at every login, run this as yourself in your desktop session:")
    for line in SYSTEMD_START:
        say(f"    {line}")
    say("If your session does not start graphical-session.target (a bare window manager),")
    say("run this first, in the session, so the service finds your display and session bus:")
    say(f"    {IMPORT_ENV}")


def _install_systemd(state: str, say: Say, warn: Say) -> int:
    res = _systemctl("daemon-reload")
    if _unreachable(res):
        _systemd_instructions(say, res.why())
        return 0
    calls = [res]
    if res.ok:
        if state == "updated":
            # A running service keeps its old command line until restarted.
            calls.append(_systemctl("enable", UNIT_NAME))
            if calls[-1].ok:
                calls.append(_systemctl("restart", UNIT_NAME))
        else:
            calls.append(_systemctl("enable", "--now", UNIT_NAME))
    failed = next((c for c in calls if not c.ok), None)
    if failed is not None:
        warn(f"mmctl install: `{' '.join(failed.argv)}` failed: {failed.why()}")
        warn("the unit file is installed; once the problem is fixed, run:")
        for line in SYSTEMD_START:
            warn(f"    {line}")
        return 1
    say(f"{UNIT_NAME} is enabled and started (logs: journalctl --user -u micromove -f)")
    return 0


def _remove_wants_links(unit_dir: Path, say: Say) -> None:
    """Links `systemctl enable` made (…/graphical-session.target.wants/micromove.service)."""
    if not unit_dir.is_dir():
        return
    for sub in sorted(unit_dir.iterdir()):
        if sub.suffix in (".wants", ".requires") and sub.is_dir():
            link = sub / UNIT_NAME
            if link.is_symlink():
                link.unlink()
                say(f"removed {link}")


def _uninstall_systemd(path: Path, say: Say, warn: Say) -> int:
    if not path.exists():
        say(f"micromove is not installed as a systemd user service (no {path})")
        _remove_wants_links(path.parent, say)
        return 0
    status = 0
    res = _systemctl("disable", "--now", UNIT_NAME)
    reachable = not _unreachable(res)
    why = res.why()
    if reachable and not res.ok:
        warn(f"mmctl uninstall: `{' '.join(res.argv)}` failed: {why}")
        status = 1
    elif reachable:
        say(f"{UNIT_NAME} stopped and disabled")
    path.unlink()
    say(f"removed {path}")
    _remove_wants_links(path.parent, say)
    if reachable:
        res = _systemctl("daemon-reload")
        if not res.ok:
            warn(f"mmctl uninstall: `{' '.join(res.argv)}` failed: {res.why()}")
            status = 1
    else:
        say(f"The systemd user manager is not reachable here ({why}).")
        say("If micromove is running in a desktop session, stop it there with:")
        say(f"    systemctl --user stop {UNIT_NAME}")
        say("    systemctl --user daemon-reload")
    return status


# ------------------------------------------------------------------ launchd


def _domain() -> str:
    return f"gui/{os.getuid()}"


def _launchctl(*args: str) -> ManagerResult:
    return run_manager(["launchctl", *args])


def _launchd_instructions(say: Say, path: Path, why: str) -> None:
    say(f"launchd is not reachable here ({why}).")
    say("To start micromove now and at every login, run this in your macOS desktop session:")
    say(f"    launchctl bootstrap {_domain()} {path}")


def _install_launchd(state: str, path: Path, say: Say, warn: Say) -> int:
    service = f"{_domain()}/{LABEL}"
    res = _launchctl("print", service)
    if res.returncode in (124, 126, 127):
        _launchd_instructions(say, path, res.why())
        return 0
    loaded = res.ok
    if loaded and state != "unchanged":
        _launchctl("bootout", service)  # reload it with the new file
    _launchctl("enable", service)  # clears a `launchctl disable` left from before
    if loaded and state == "unchanged":
        res = _launchctl("kickstart", service)  # start it if it is not running
    else:
        res = _launchctl("bootstrap", _domain(), str(path))
    if not res.ok:
        warn(f"mmctl install: `{' '.join(res.argv)}` failed: {res.why()}")
        warn("the agent file is installed; to start it, run in your desktop session:")
        warn(f"    launchctl bootstrap {_domain()} {path}")
        return 1
    say(f"{LABEL} is loaded and started (logs: {launchd_log_dir() / 'micromove.log'})")
    return 0


def _uninstall_launchd(path: Path, say: Say, warn: Say) -> int:
    service = f"{_domain()}/{LABEL}"
    res = _launchctl("bootout", service)
    if res.returncode in (124, 126, 127):
        say(f"launchd is not reachable here ({res.why()}).")
        say("If micromove is running in a desktop session, stop it there with:")
        say(f"    launchctl bootout {service}")
    elif res.ok:
        say(f"{LABEL} stopped and unloaded")
    if path.exists():
        path.unlink()
        say(f"removed {path}")
    else:
        say(f"micromove is not installed as a LaunchAgent (no {path})")
    logdir = launchd_log_dir()
    with contextlib.suppress(OSError):
        logdir.rmdir()  # only when empty: a log is kept unless --purge
        say(f"removed {logdir} (empty)")
    return 0


# ------------------------------------------------------------------ entry points


def _say(line: str) -> None:
    print(line, flush=True)


def _warn(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def install(
    platform: str,
    *,
    dry_run: bool = False,
    mmctl: str | os.PathLike[str] | None = None,
    say: Say = _say,
    warn: Say = _warn,
) -> int:
    """Write the service file, then reload/enable/start it where the manager is reachable.

    With `dry_run`, print exactly the file that would be written to stdout and
    change nothing. Returns the exit status.
    """
    text = render(platform, mmctl)
    path = service_path(platform)
    if dry_run:
        sys.stdout.write(text)
        sys.stdout.flush()
        warn(f"mmctl install --dry-run: would write {path} (nothing changed)")
        return 0
    old = _read(path)
    if old == text:
        state = "unchanged"
        say(f"already installed, up to date: {path}")
    else:
        state = "new" if old is None else "updated"
        try:
            _write_atomic(path, text)
        except OSError as exc:
            raise InstallError(f"install: cannot write {path}: {exc.strerror or exc}") from None
        say(f"{'installed' if state == 'new' else 'updated'} {path}")
    if platform == "systemd":
        return _install_systemd(state, say, warn)
    # launchd opens the log file but does not create its folder.
    paths.ensure_private_dir(launchd_log_dir())
    return _install_launchd(state, path, say, warn)


INSTALL_MARKER = "micromove-install"  # install.sh writes it into the environment it made


@dataclass(frozen=True)
class Program:
    """The virtual environment install.sh made for this `mmctl`, and its link (e.g. ~/.local/bin/mmctl)."""

    venv: Path
    link: Path | None

    def paths(self) -> list[Path]:
        return [self.venv, *([self.link] if self.link is not None else [])]


def installed_program() -> Program | None:
    """This `mmctl`'s own install.sh environment; None when it was installed some other way
    (pip, a distribution package, a development checkout): then nothing of it is ours to remove."""
    venv = Path(sys.prefix)
    marker = venv / INSTALL_MARKER
    if sys.prefix == sys.base_prefix or not marker.is_file():
        return None
    link: Path | None = None
    try:
        lines = marker.read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        lines = []
    for line in lines:
        key, _, value = line.partition("=")
        if key == "link" and os.path.isabs(value):
            candidate = Path(value)
            # Only a link that still points into this environment.
            if candidate.is_symlink() and os.path.realpath(candidate) == os.path.realpath(venv / "bin" / "mmctl"):
                link = candidate
    return Program(venv, link)


def purge_targets(platform: str) -> list[Path]:
    """What `uninstall --purge` removes: the data folder (database), the config folder, and
    on launchd the log folder; only those that exist."""
    out: list[Path] = []
    for p in (
        paths.data_dir(),
        paths.config_dir(),
        *([launchd_log_dir()] if platform == "launchd" else []),
    ):
        if p not in out and (p.exists() or p.is_symlink()):
            out.append(p)
    return out


def confirm_purge(targets: list[Path], yes: bool) -> bool:
    """--yes, or an interactive y/N; without a terminal and without --yes: a usage error."""
    if yes or not targets:
        return True
    if not sys.stdin.isatty():
        raise UsageError(
            "uninstall --purge: would delete "
            + ", ".join(map(str, targets))
            + "; no terminal to confirm on: add --yes to delete them"
        )
    print("This deletes, with everything in them:", file=sys.stderr)
    for p in targets:
        print(f"    {p}", file=sys.stderr)
    print("Delete them? [y/N] ", end="", file=sys.stderr, flush=True)
    try:
        answer = sys.stdin.readline()
    except KeyboardInterrupt:
        answer = ""
    return answer.strip().lower() in ("y", "yes")


def _delete(p: Path, say: Say) -> None:
    try:
        if p.is_symlink() or not p.is_dir():
            p.unlink()
        else:
            shutil.rmtree(p)
    except OSError as exc:
        raise InstallError(f"uninstall --purge: cannot delete {p}: {exc.strerror or exc}") from None
    say(f"deleted {p}")


def _purge(targets: list[Path], say: Say) -> None:
    for p in targets:
        if p.name != paths.APP:
            raise InstallError(f"uninstall --purge: refusing to delete {p}: not a micromove folder")
        _delete(p, say)


def _remove_program(program: Program, say: Say) -> None:
    """Last of all: this very program runs from the environment (its modules are loaded)."""
    if program.link is not None:
        _delete(program.link, say)
    if not (program.venv / INSTALL_MARKER).is_file():  # checked again, just before
        raise InstallError(f"uninstall --purge: refusing to delete {program.venv}: not made by install.sh")
    _delete(program.venv, say)


def uninstall(
    platform: str, *, purge: bool = False, yes: bool = False, say: Say = _say, warn: Say = _warn
) -> int:
    """Stop, disable and remove the service; with `purge`, also delete data, config and, when
    install.sh made them, the program's virtual environment and its link."""
    import shlex

    targets = purge_targets(platform) if purge else []
    program = installed_program()
    if purge and not confirm_purge(targets + (program.paths() if program else []), yes):
        warn("mmctl uninstall: not confirmed; nothing changed")
        return 1
    path = service_path(platform)
    if platform == "systemd":
        status = _uninstall_systemd(path, say, warn)
    else:
        status = _uninstall_launchd(path, say, warn)
    if purge:
        if targets:
            _purge(targets, say)
        elif program is None:
            say("nothing to purge: no micromove data or config folder")
        if program is not None:
            _remove_program(program, say)
        return status
    if paths.data_dir().exists():
        say(
            f"kept your data: {paths.data_dir()} (`mmctl uninstall --purge` deletes it and the config)"
        )
    if program is not None:
        where = " and ".join(map(str, program.paths()))
        say(f"kept the program: {where}")
        say(f"    to delete it: rm -r {' '.join(shlex.quote(str(p)) for p in program.paths())}")
        say("    (or `mmctl uninstall --purge`, which deletes your data and config too)")
    return status
