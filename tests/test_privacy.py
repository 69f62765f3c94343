"""Privacy by construction (issue 8, fault 7; README "Privacy").

A live `mmctl run -v` on a real X display: a random secret is typed through
XTEST (xdotool) and the pointer is moved to, and clicked at, distinctive
places; a cue set is delivered to the notification server. Then every byte
the project wrote is scanned — every file under the test HOME and XDG
folders (database, -wal and -shm while the daemon still runs, lock, config,
anything else), the daemon's stdout and stderr with debug logging on, what
the notification server received, `mmctl stats --json`/`--csv` and `mmctl
status` output — for the secret (as ASCII, UTF-16 both ways, and any 8
characters of it) and for the coordinates in the forms a program would
write them ("1373,911", "(1373, 911)", "x=1373", "1373x911"...).

Files are 0600 and folders 0700. The daemon opens no socket but Unix ones
(an audit hook in the daemon's own interpreter, via sitecustomize, logs every
socket it creates, binds or connects), and no module of the package imports
network code (a static scan).
"""

from __future__ import annotations

import ast
import json
import os
import re
import secrets
import socket
import stat
import string
import time
from pathlib import Path

import pytest

from _faults import LiveDaemon, counts, db_path, short_config_text, wait_until, write_config
from _mmctl import ROOT, mmctl
from desktop import (  # noqa: F401
    Desktop,
    click,
    desktop_fixture,
    key,
    move,
    notify_server_fixture,
    session_bus_fixture,
    type_text,
    xdotool,
    xvfb_fixture,
)
from micromove.daemon import FLUSH_S

PLACES = [(1373, 911), (487, 1021), (1789, 263)]

AUDIT_HOOK = '''
import json, os, sys

_log = os.environ.get("MM_AUDIT_LOG")


def _hook(event, args):
    if not _log or not event.startswith("socket."):
        return
    if event == "socket.__new__":
        rec = {"event": event, "family": int(args[1])}
    elif event in ("socket.connect", "socket.bind", "socket.sendto", "socket.getaddrinfo", "socket.gethostbyname"):
        sock = args[0] if event in ("socket.connect", "socket.bind", "socket.sendto") else None
        family = getattr(sock, "family", None)
        addr = args[1] if sock is not None else args[0]
        rec = {"event": event, "family": None if family is None else int(family), "address": repr(addr)[:200]}
    else:
        rec = {"event": event}
    with open(_log, "a") as f:
        f.write(json.dumps(rec) + "\\n")


sys.addaudithook(_hook)
'''


def coordinate_patterns(x: int, y: int) -> list[re.Pattern[bytes]]:
    return [
        re.compile(rb"(?<!\d)%d\D{1,4}%d(?!\d)" % (x, y)),  # 1373,911  1373, 911  (1373 911)  1373x911
        re.compile(rb"(?<!\d)%d\D{1,4}%d(?!\d)" % (y, x)),  # the other way round
        re.compile(rb"(?<![A-Za-z_])x\W{0,4}%d(?!\d)" % x),  # x=1373  "x": 1373  x: 1373
        re.compile(rb"(?<![A-Za-z_])y\W{0,4}%d(?!\d)" % y),
        re.compile(rb"\(\s*%d(?!\d)" % x),  # (1373
    ]


# Keys whose names a key-identity leak would write ("Key.scroll_lock", "KP_Divide",
# pynput's KeyCode reprs): pressed after the secret.
NAMED_KEYS = ("Scroll_Lock", "KP_Divide")
KEY_IDENTITY = re.compile(rb"(?i)scroll.?lock|kp.?divide|keycode|keysym|\bKey\.[a-z]")


def leaks(data: bytes, secret: str) -> list[str]:
    found = []
    spread = re.compile(b".{0,8}".join(re.escape(c.encode()) for c in secret), re.DOTALL)
    if spread.search(data):
        found.append("the secret's characters in order, a few bytes apart")
    m = KEY_IDENTITY.search(data)
    if m:
        found.append(f"a key's identity: {m.group(0)!r}")
    for enc in ("ascii", "utf-16-le", "utf-16-be"):
        if secret.encode(enc) in data:
            found.append(f"the secret as {enc}")
    for i in range(len(secret) - 7):
        if secret[i : i + 8].encode() in data:
            found.append(f"8 characters of the secret ({secret[i : i + 8]!r})")
            break
    for x, y in PLACES:
        for pat in coordinate_patterns(x, y):
            m = pat.search(data)
            if m:
                found.append(f"a position: {m.group(0)!r}")
    return found


def files_under(*roots: Path) -> dict[Path, bytes]:
    out = {}
    for root in roots:
        for p in sorted(root.rglob("*")):
            if p.is_file() and not p.is_symlink() and stat.S_ISREG(p.lstat().st_mode):
                out[p] = p.read_bytes()
    return out


@pytest.fixture
def audit_dir(tmp_path: Path) -> Path:
    d = tmp_path / "audit"
    d.mkdir()
    (d / "sitecustomize.py").write_text(AUDIT_HOOK, encoding="utf-8")
    return d


@pytest.mark.desktop
@pytest.mark.slow
@pytest.mark.parametrize("backend", ["xi2", "pynput"])
def test_nothing_written_anywhere_holds_typed_text_or_pointer_positions(
    backend: str, desktop: Desktop, audit_dir: Path, tmp_path: Path
) -> None:
    secret = "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(24))
    home = desktop.home
    write_config(
        home,
        short_config_text(
            {"hands.wrist_pulse": (0.01, "typing"), "hands.grip_modulation": (0.01, "mouse")}
        )
        + f"input: {{backend: {backend}}}\n",
    )
    audit_log = tmp_path / "sockets.jsonl"
    env = dict(desktop.env)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(audit_dir), env.get("PYTHONPATH")]))
    env["MM_AUDIT_LOG"] = str(audit_log)
    db = db_path(home)
    outputs: dict[str, bytes] = {}
    with LiveDaemon(env, "-v") as daemon:
        daemon.started()
        assert f"input backend: x11 via {'XInput2' if backend == 'xi2' else 'pynput'}" in daemon.stderr
        type_text(desktop.display, secret, delay_ms=40)  # ~1 s of typing: the wrist pulse is due
        key(desktop.display, *NAMED_KEYS)
        for x, y in PLACES:
            move(desktop.display, x, y)  # a warp there, then real pointer input around it
            xdotool(desktop.display, "mousemove_relative", "--", 4, 0, "mousemove_relative", "--", -4, 0)
            click(desktop.display, 1)
            time.sleep(0.15)
        daemon.wait_for("cue set delivered", timeout=15)
        # Wait for the batch flush, so that the -wal holds the data, then copy
        # every file while the daemon still has them open.
        n_keys = len(secret) + len(NAMED_KEYS)
        assert wait_until(lambda: counts(db).get("keys") == n_keys, FLUSH_S + 10), counts(db)
        running = files_under(home)
        assert Path(f"{db}-wal") in running and Path(f"{db}-shm") in running
        for args in (["stats", "--json"], ["stats", "--csv"], ["stats"], ["status"]):
            proc = mmctl(*args, env=desktop.env)
            assert proc.returncode == 0, (args, proc.stderr)
            outputs[" ".join(args)] = (proc.stdout + proc.stderr).encode()
        # Modes while running: private folders and files.
        data_dir = db.parent
        run_dir = home / "run" / "micromove"
        for d in (data_dir, run_dir):
            assert stat.S_IMODE(d.stat().st_mode) == 0o700, d
        for p in list(data_dir.iterdir()) + list(run_dir.iterdir()):
            assert stat.S_IMODE(p.stat().st_mode) & 0o077 == 0, (p, oct(p.stat().st_mode))
        assert daemon.stop() == 0, daemon.stderr
    assert json.loads(outputs["stats --json"])["totals"]["keys"] == n_keys
    assert json.loads(outputs["stats --json"])["totals"]["clicks"] == len(PLACES)
    assert json.loads(outputs["stats --json"])["totals"]["moves"] >= 2 * len(PLACES)
    records = desktop.server.records()
    assert records, "no cue set reached the notification server"
    outputs["daemon stdout"] = daemon.stdout_bytes
    outputs["daemon stderr"] = daemon.stderr_bytes
    outputs["notifications"] = desktop.server.record.read_bytes()
    assert b"DEBUG" in outputs["daemon stderr"] or b"INFO" in outputs["daemon stderr"]

    found = {}
    for p, data in {**running, **files_under(home)}.items():
        if leaks(data, secret):
            found[str(p)] = leaks(data, secret)
    for name, data in outputs.items():
        if leaks(data, secret):
            found[name] = leaks(data, secret)
    assert not found, found
    # The scan does find them where they are (the test's own record of what it typed).
    for leak in (secret, f"{PLACES[0][0]},{PLACES[0][1]}", "\n".join(secret), "Key.scroll_lock"):
        assert leaks(f"DEBUG {leak}".encode(), secret), leak

    # After the daemon: folders 0700, files 0600.
    for p in db.parent.iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p

    # Sockets: Unix only (the X display, the session bus, the control socket).
    events = [json.loads(line) for line in audit_log.read_text().splitlines()]
    assert any(e["event"] == "socket.connect" for e in events), "the audit hook saw nothing"
    other = [e for e in events if e.get("family") not in (None, int(socket.AF_UNIX))]
    assert not other, other
    assert not [e for e in events if e["event"] in ("socket.getaddrinfo", "socket.gethostbyname")]
    connects = {e["address"] for e in events if e["event"] == "socket.connect"}
    assert any("X11-unix" in a for a in connects), connects
    assert any(desktop.bus.split("path=", 1)[-1].split(",")[0] in a for a in connects), connects


# ------------------------------------------------------------------ static: no network code
NETWORK_MODULES = {
    "urllib", "http", "requests", "httpx", "aiohttp", "urllib3", "ftplib", "smtplib", "poplib",
    "imaplib", "nntplib", "telnetlib", "xmlrpc", "socketserver", "ssl", "asyncio", "webbrowser",
}
# Address families other than AF_UNIX a module may name, and why.
ALLOWED_FAMILIES = {
    # `mmctl doctor` (x11check) checks that the X display DISPLAY names answers; a display
    # "host:N" is TCP by definition (Xlib would connect there too). Never the daemon.
    "adapters/inputs/x11check.py": {"AF_INET"},
}
NETWORK_CALLS = {"create_connection", "getaddrinfo", "gethostbyname", "gethostbyname_ex", "create_server", "fromfd"}


def test_no_module_of_the_package_has_network_code() -> None:
    package = ROOT / "daemon" / "micromove"
    problems = []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                names = []
            for name in names:
                if name.split(".")[0] in NETWORK_MODULES:
                    problems.append(f"{rel}:{node.lineno}: imports {name}")
            if (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("AF_")
                and node.attr not in {"AF_UNIX", *ALLOWED_FAMILIES.get(rel, ())}
            ):
                problems.append(f"{rel}:{node.lineno}: uses socket.{node.attr}")
            if isinstance(node, ast.Attribute) and node.attr in NETWORK_CALLS:
                problems.append(f"{rel}:{node.lineno}: calls {node.attr}")
    assert not problems, "\n".join(problems)



def test_security_md_states_the_threat_model_and_how_to_report() -> None:
    text = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
    for needle in ("What micromove sees", "What it keeps", "Who can read it", "What it never does",
                   "0600", "0700", "No network", "private security", "Reporting a problem"):
        assert needle in text, needle
