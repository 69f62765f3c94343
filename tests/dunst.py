"""dunst, a real notification server, driven as a person would drive it.

dunst 1.9 answers a notification's buttons through its context menu: its
config's `dmenu` program gets the menu on stdin, one line per action, e.g.
`#Done (Micro-move: Hands and wrists) [4,done]`, and dunst invokes the line
it prints. Here `dmenu` is a small script that prints the line whose key is
in the file `want` (and logs every menu it saw), so `press("done")` is:
write the key, `dunstctl context`, wait for the script to have answered.
`dunstctl close` closes the topmost notification as the person would
(NotificationClosed reason 2, dismissed).

    with Dunst(display, bus, folder) as dunst:
        dunst.press("done")
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from pathlib import Path

from desktop import START_TIMEOUT_S, end_process, need

PICK = """#!/bin/sh
# dunst's dmenu: print the menu line of the wanted action key; log the menu.
here=$(dirname "$0")
want=$(cat "$here/want")
menu=$(cat)
printf '%s\\n--\\n' "$menu" >>"$here/menus.log"
printf '%s\\n' "$menu" | grep -F ",$want]" | head -n 1
"""

DUNSTRC = """[global]
    dmenu = {pick}
    browser = /bin/true
    history_length = 50
"""


class Dunst:
    def __init__(self, display: str, bus: str, folder: Path) -> None:
        self.display = display
        self.bus = bus
        self.dir = folder
        self.proc: subprocess.Popen[bytes] | None = None
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "DISPLAY": display,
            "DBUS_SESSION_BUS_ADDRESS": bus,
            "HOME": str(folder),
            "XDG_CONFIG_HOME": str(folder / "config"),
        }

    def start(self) -> Dunst:
        exe = need("dunst")
        need("dunstctl")
        self.dir.mkdir(parents=True, exist_ok=True)
        pick = self.dir / "pick.sh"
        pick.write_text(PICK, encoding="utf-8")
        pick.chmod(0o755)
        (self.dir / "want").write_text("none\n", encoding="utf-8")
        rc = self.dir / "dunstrc"
        rc.write_text(DUNSTRC.format(pick=pick), encoding="utf-8")
        self.proc = subprocess.Popen(
            [exe, "-config", str(rc)],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=open(self.dir / "dunst.log", "wb"),  # noqa: SIM115 - closed with the process
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dunst exited {self.proc.returncode}: {self.log()[-500:]}")
            if self._ctl("is-paused", check=False).returncode == 0:
                return self
            time.sleep(0.05)
        raise RuntimeError(f"dunst did not answer within {START_TIMEOUT_S} s: {self.log()[-500:]}")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        end_process(proc)

    def __enter__(self) -> Dunst:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def log(self) -> str:
        with contextlib.suppress(OSError):
            return (self.dir / "dunst.log").read_text(encoding="utf-8", errors="replace")
        return ""

    def _ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        r = subprocess.run(["dunstctl", *args], env=self.env, capture_output=True, text=True, timeout=15, check=False)
        if check and r.returncode != 0:
            raise RuntimeError(f"dunstctl {' '.join(args)} failed ({r.returncode}): {r.stderr.strip()}")
        return r

    def displayed(self) -> int:
        out = self._ctl("count", "displayed").stdout.strip()
        return int(out) if out.isdigit() else 0

    def wait_displayed(self, n: int = 1, timeout: float = 15.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.displayed() >= n:
                return True
            time.sleep(0.05)
        return False

    def menus(self) -> list[list[str]]:
        """Every context menu dunst showed so far, as its lines."""
        p = self.dir / "menus.log"
        if not p.exists():
            return []
        text = p.read_text(encoding="utf-8")
        return [[ln for ln in block.splitlines() if ln] for block in text.split("--\n") if block.strip()]

    def press(self, key: str) -> list[str]:
        """Invoke action `key` of the displayed notification through dunst's menu; that menu."""
        before = len(self.menus())
        (self.dir / "want").write_text(key + "\n", encoding="utf-8")
        self._ctl("context")
        deadline = time.monotonic() + 10
        while len(self.menus()) <= before and time.monotonic() < deadline:
            time.sleep(0.02)
        menus = self.menus()
        if len(menus) <= before:
            raise AssertionError(f"dunst showed no menu: {self.log()[-500:]}")
        return menus[-1]

    def close(self) -> None:
        """Close the topmost notification, as the person would (reason 2)."""
        self._ctl("close")
