"""What a running process costs, read from /proc (Linux).

- CPU seconds: utime + stime of /proc/PID/stat (the whole process, threads
  that have already ended included).
- Wakeups: voluntary + nonvoluntary context switches summed over every
  thread in /proc/PID/task/*/status (a thread that ended takes its count
  with it; the processes measured here keep their threads).
- Memory: Rss and Pss of /proc/PID/smaps_rollup, in bytes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Sample:
    t: float  # time.monotonic() when read
    cpu_s: float
    wakeups: int


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14, 15)


def wakeups(pid: int) -> int:
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            text = (task / "status").read_text()
        except OSError:  # the thread ended meanwhile
            continue
        for line in text.splitlines():
            if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                total += int(line.split()[1])
    return total


def sample(pid: int) -> Sample:
    import time

    return Sample(time.monotonic(), cpu_seconds(pid), wakeups(pid))


def memory(pid: int) -> dict[str, int]:
    """{"rss": bytes, "pss": bytes} from /proc/PID/smaps_rollup."""
    out = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("Rss", "Pss"):
            out[name.lower()] = int(rest.split()[0]) * 1024
    return out
