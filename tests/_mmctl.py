"""Run `mmctl` as a person does: the installed console script, in a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DAY = ROOT / "daemon" / "micromove" / "data" / "sample-day.jsonl"


def mmctl_command() -> list[str]:
    """The `mmctl` installed beside this Python (a venv's bin/), else the one on PATH."""
    beside = Path(sys.executable).parent / "mmctl"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("mmctl")
    if found:
        return [found]
    return [sys.executable, "-m", "micromove"]


def mmctl(
    *args: str | os.PathLike[str],
    input: str | bytes | None = None,
    env: dict[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Run mmctl with `args`; text output; never raises on a non-zero exit."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    if isinstance(input, bytes):
        input = input.decode("utf-8")
    return subprocess.run(
        [*mmctl_command(), *map(str, args)],
        input=input,
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=timeout,
        stdin=None if input is not None else subprocess.DEVNULL,
    )


def one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    """Assert the shape of a usage error (exit 2, one stderr line, no stdout); return the line."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stdout == "", proc.stdout
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def config_yaml(
    cues: dict[str, float] | dict[str, tuple[float, str]],
    *,
    min_s: float,
    max_defer_s: float,
    break_s: float,
    min_gap_s: float,
    timeout_s: float | None = None,
    snooze_min: float | None = None,
    reminder: bool | None = None,
    extra: str = "",
) -> str:
    """A config with progression off where only `cues` run (id -> every_min, or
    (every_min, trigger)); every other cue is disabled. One line per section,
    in the example config's order."""
    from micromove.core import catalog

    notify = f"min_gap_s: {min_gap_s}" + (f", timeout_s: {timeout_s}" if timeout_s is not None else "")
    if snooze_min is not None:
        notify += f", snooze_min: {snooze_min}"
    lines = [
        f"pause: {{min_s: {min_s}, max_defer_s: {max_defer_s}}}",
        f"activity: {{break_s: {break_s}}}",
        f"notify: {{{notify}}}",
        "progression: {enabled: false}",
    ]
    if reminder is not None:
        lines.append(f"checkin: {{reminder: {str(reminder).lower()}}}")
    lines.append("cues:")
    for cid in catalog.IDS:
        rule = cues.get(cid)
        if rule is None:
            lines.append(f"  {cid}: {{enabled: false}}")
        elif isinstance(rule, tuple):
            lines.append(f"  {cid}: {{enabled: true, every_min: {rule[0]}, trigger: {rule[1]}}}")
        else:
            lines.append(f"  {cid}: {{enabled: true, every_min: {rule}}}")
    return "\n".join(lines) + "\n" + extra
