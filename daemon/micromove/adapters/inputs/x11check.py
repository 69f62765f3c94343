"""`mmctl doctor`'s check of the x11 (pynput) backend: is pynput there, does
the X display answer, and does it have the RECORD extension pynput needs.

`xdpyinfo` when installed (it also lists the extensions), else an X11
connection handshake on the display's socket. Never imports pynput.
"""

from __future__ import annotations

import os
import shutil
import socket
import struct
import subprocess
from collections.abc import Mapping

from .base import NOTE, OK, PROBLEM, Finding


def check_pynput(env: Mapping[str, str], platform: str) -> Finding:
    if platform == "darwin":
        return Finding(
            NOTE, "macOS: pynput; permission cannot be checked from here",
            "allow the program that runs mmctl in System Settings > Privacy & Security > Input Monitoring and Accessibility",
        )  # fmt: skip
    import importlib.util

    if importlib.util.find_spec("pynput") is None:
        return Finding(PROBLEM, "pynput is not installed", "reinstall micromove (./install.sh or pip install .)")
    return check_x_display(env.get("DISPLAY", ""))


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


def check_x_display(display: str) -> Finding:
    fix = "start micromove inside your graphical session, where DISPLAY names a running X server"
    xdpyinfo = shutil.which("xdpyinfo")
    if xdpyinfo:
        try:
            r = subprocess.run(
                [xdpyinfo, "-display", display], capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL
            )
        except subprocess.TimeoutExpired:
            return Finding(PROBLEM, f"X display {display} does not answer (xdpyinfo timed out)", fix)
        if r.returncode != 0:
            why = (r.stderr.strip().splitlines() or ["no answer"])[-1]
            return Finding(PROBLEM, f"X display {display} does not answer: {why}", fix)
        words = r.stdout.split()
        if "RECORD" not in words:
            return Finding(
                PROBLEM, f"X display {display} has no RECORD extension: pynput cannot see input there",
                "enable the RECORD extension in the X server (Xorg: Load \"record\"), or set input.backend: evdev",
            )  # fmt: skip
        return Finding(OK, f"x11 (pynput): display {display} answers, RECORD extension present")
    ok, detail = x_handshake(display)
    if not ok:
        return Finding(PROBLEM, f"X display {display} does not answer: {detail}", fix)
    return Finding(OK, f"x11 (pynput): display {display} {detail} (install x11-utils for a fuller check)")
