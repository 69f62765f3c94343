"""The client side of the control socket: one request, one reply.

What `mmctl status`, `pause`, `resume`, `snooze` and `done` use. Standard
library only.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any

from .protocol import encode
from .sockaddr import address

CLIENT_TIMEOUT_S = 10.0  # how long the client waits for a reply

class NotRunning(Exception):
    """No daemon answers on the control socket."""


class ControlFailed(Exception):
    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


def _pid_hint() -> int | None:
    """The pid in the daemon's lock file, if that process is alive (for messages only)."""
    from ..paths import lock_path

    try:
        text = lock_path().read_text(encoding="ascii").strip()
        pid = int(text)
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def request(msg: dict[str, Any], path: Path | None = None, timeout: float = CLIENT_TIMEOUT_S) -> dict[str, Any]:
    """Send one request, return its reply (NotRunning when nothing listens)."""
    from ..paths import socket_path

    p = path or socket_path()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        try:
            with address(p) as addr:
                sock.connect(addr)
        except (FileNotFoundError, ConnectionRefusedError, NotADirectoryError) as exc:
            pid = _pid_hint()
            if pid is not None:
                raise NotRunning(
                    f"micromove (pid {pid}) does not answer on {p} ({exc.strerror or exc}); "
                    f"its log says why (journalctl --user -u micromove)"
                ) from None
            raise NotRunning(f"micromove is not running (nothing listens on {p})") from None
        except PermissionError:
            raise ControlFailed(f"cannot reach {p}: permission denied (is it another user's?)") from None
        except OSError as exc:
            raise ControlFailed(f"cannot reach {p}: {exc.strerror or exc}") from None
        try:
            sock.sendall(encode(msg))
            buf = bytearray()
            while b"\n" not in buf:
                data = sock.recv(65536)
                if not data:
                    break
                buf += data
                if len(buf) > 16 * 1024 * 1024:
                    raise ControlFailed("the daemon's reply is too long")
        except TimeoutError:
            raise ControlFailed(f"micromove did not answer within {timeout:g} s") from None
        except OSError as exc:
            raise ControlFailed(f"the connection to micromove failed: {exc.strerror or exc}") from None
    finally:
        sock.close()
    line = bytes(buf).split(b"\n", 1)[0]
    if not line:
        raise ControlFailed("micromove closed the connection without an answer")
    try:
        reply = json.loads(line)
    except ValueError:
        raise ControlFailed("micromove's answer is not JSON") from None
    if not isinstance(reply, dict):
        raise ControlFailed("micromove's answer is not a JSON object")
    return reply
