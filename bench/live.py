"""Figures 2, 3, 4 and 6: the live daemon on a real (virtual) desktop, side by side.

One Xvfb and one private session bus without service activation (the classes
of tests/desktop.py), the project's notification server on it, and on that
display at the same time, each with its own HOME:

    daemon    `mmctl run`, default config: on X11 that is the XInput2 backend
    bare      bench/listener.py: a bare pynput keyboard + mouse listener
    workrave  Debian's Workrave; its three break limits raised to a day
              (GSettings keyfile backend) so that no break window opens
              during the run; what it watches and its timers are unchanged
    xi2       bench/xi2count.py: the cheaper-path experiment (counts only)

They see the same input, injected by xdotool (one process per phase,
commands on stdin). Pointer moves are relative XTEST motion
(`mousemove_relative`), as a real mouse makes; an absolute `mousemove` is a
pointer warp, which XInput2 raw events do not report.

Phases: settle; idle (figure 2); paced pointer moves, then paced key presses
(figure 3); a "long day" of mixed input in blocks, memory read after each
(figure 4); then the others are stopped and a second daemon with a fast
config measures delivery latency (figure 6).
"""

from __future__ import annotations

import contextlib
import json
import select
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bench import proc, timing

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from desktop import NotifyServer, SessionBus, Xvfb, desktop_env  # noqa: E402

START_TIMEOUT_S = 30.0
MONITORS = ("daemon", "bare", "workrave", "xi2")
WORKRAVE_KEYFILE = "".join(
    f"[org/workrave/timers/{timer}]\nlimit=86400\n\n" for timer in ("micro-pause", "rest-break", "daily-limit")
)
# Latency: a cue due 0.6 s into a typing stretch, a natural pause after 0.5 s
# without input, a stretch ended by 1 s without input, no gap between cue sets;
# no back-off: nobody answers these cue sets, and the figure is latency, not cadence.
LATENCY_CONFIG = """\
pause:
  min_s: 0.5
  max_defer_s: 600
activity:
  break_s: 1
notify:
  min_gap_s: 0
  back_off: false
cues:
  hands.wrist_pulse:
    every_min: 0.01
"""
DAY_TEXT = "the quick brown fox jumps over the lazy dog "


@dataclass(frozen=True)
class Sizes:
    settle_s: float
    idle_s: float
    moves: int
    move_pace_s: float
    keys: int
    key_pace_s: float
    day_blocks: int
    latency_samples: int


FULL = Sizes(5.0, 60.0, 10_000, 0.004, 1_000, 0.01, 30, 15)
SMOKE = Sizes(1.0, 3.0, 300, 0.004, 50, 0.01, 1, 2)


def say(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


@dataclass
class Desk:
    display: str
    bus: str
    work: Path
    extra_env: dict[str, str]
    procs: dict[str, subprocess.Popen[str]] = field(default_factory=dict)
    monitors: tuple[str, ...] = MONITORS  # the watchers running side by side

    def env(self, name: str, extra: dict[str, str] | None = None) -> dict[str, str]:
        return desktop_env(self.display, self.bus, self.work / name / "home", {**self.extra_env, **(extra or {})})

    def xdotool(self, script: str) -> float:
        """Run an xdotool script (one command a line); its wall time."""
        t0 = time.monotonic()
        subprocess.run(
            ["xdotool", "-"], input=script, text=True, env=self.env("xdotool"), check=True,
            capture_output=True, timeout=600,
        )
        return time.monotonic() - t0


# ------------------------------------------------------------------ starting things
def _wait_line(p: subprocess.Popen[str], want: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if log is not None:
            if want in log.read_text(errors="replace"):
                return
            if p.poll() is not None:
                break
            time.sleep(0.02)
            continue
        assert p.stdout is not None
        ready, _, _ = select.select([p.stdout], [], [], deadline - time.monotonic())
        if not ready:
            break
        line = p.stdout.readline()
        if not line:
            break
        if want in line:
            return
    tail = log.read_text(errors="replace")[-800:] if log is not None else ""
    p.kill()
    raise RuntimeError(f"{p.args!r} did not say {want!r} within {START_TIMEOUT_S:.0f} s (exit {p.poll()}): {tail}")


def start_daemon(desk: Desk, name: str, config: str | None = None) -> subprocess.Popen[str]:
    env = desk.env(name)
    args = [*timing.mmctl(), "run"]
    if config is not None:
        cfg = desk.work / name / "config.yaml"
        cfg.write_text(config, encoding="utf-8")
        args += ["--config", str(cfg)]
    log = desk.work / name / "daemon.log"
    with log.open("w") as err:
        p = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, text=True)
    _wait_line(p, "watching input", log)
    desk.procs[name] = p
    return p


def start_script(desk: Desk, name: str, script: str) -> subprocess.Popen[str]:
    p = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / script)], env=desk.env(name),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True,
    )
    _wait_line(p, "ready")
    desk.procs[name] = p
    return p


def start_workrave(desk: Desk) -> subprocess.Popen[str]:
    env = desk.env("workrave", {"GSETTINGS_BACKEND": "keyfile", "NO_AT_BRIDGE": "1"})
    keyfile = Path(env["XDG_CONFIG_HOME"]) / "glib-2.0" / "settings" / "keyfile"
    keyfile.parent.mkdir(parents=True, exist_ok=True)
    keyfile.write_text(WORKRAVE_KEYFILE, encoding="utf-8")
    log = desk.work / "workrave" / "workrave.log"
    with log.open("w") as out:
        p = subprocess.Popen(["workrave"], env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out, text=True)
    desk.procs["workrave"] = p
    # Its windows are up once xdotool finds them (--sync waits for them).
    subprocess.run(
        ["xdotool", "search", "--sync", "--class", "workrave"], env=env, check=True,
        capture_output=True, timeout=START_TIMEOUT_S,
    )
    return p


def stop(p: subprocess.Popen[str]) -> tuple[int | None, str]:
    """SIGTERM, wait; (exit status, what it printed on stdout)."""
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
    try:
        out, _ = p.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate(timeout=5)
    return p.returncode, out or ""


@contextlib.contextmanager
def desktop(work: Path, extra_env: dict[str, str], monitors: tuple[str, ...] = MONITORS) -> Iterator[Desk]:
    with contextlib.ExitStack() as stack:
        display = stack.enter_context(Xvfb())
        bus = stack.enter_context(SessionBus())
        desk = Desk(display, bus, work, extra_env, monitors=monitors)
        for name in (*MONITORS, "latency", "xdotool"):
            (work / name / "home").mkdir(parents=True, exist_ok=True)
        try:
            yield desk
        finally:
            for p in desk.procs.values():
                if p.poll() is None:
                    p.kill()
                    p.wait(timeout=5)


def warm_up(desk: Desk) -> None:
    """Start the daemon and the Python comparators once each, and stop them.

    An installed micromove runs from compiled bytecode: pip compiles every
    module when it installs the package, as it did for the libraries. The
    bench runs with a fresh private bytecode cache (PYTHONPYCACHEPREFIX), so
    without this the measured processes would compile the standard library,
    the libraries and micromove at their start, and keep the compiler's
    garbage in their memory figures (about 6 MB: measured 27 MB cold against
    21 MB warm for the daemon).
    """
    for name, start in (
        ("warm-daemon", lambda: start_daemon(desk, "warm-daemon")),
        ("warm-bare", lambda: start_script(desk, "warm-bare", "listener.py")),
        ("warm-xi2", lambda: start_script(desk, "warm-xi2", "xi2count.py")),
    ):
        p = start()
        p.terminate()
        p.wait(timeout=30)
        desk.procs.pop(name, None)


# ------------------------------------------------------------------ input scripts
def moves_script(n: int, pace_s: float) -> str:
    """n relative pointer moves of 5 px, zigzagging 250 px left and right."""
    return "".join(f"mousemove_relative -- {5 if (i // 50) % 2 == 0 else -5} 0\nsleep {pace_s}\n" for i in range(n))


def keys_script(n: int, pace_s: float, keys: tuple[str, ...] = tuple("asdfjkl")) -> str:
    return "".join(f"key {keys[i % len(keys)]}\nsleep {pace_s}\n" for i in range(n))


def day_block() -> tuple[str, dict[str, int]]:
    """A few seconds of mixed work: a typed line, pointer travel, a click, three scroll steps."""
    typed = tuple("space" if c == " " else c for c in DAY_TEXT)
    script = (
        keys_script(len(typed), 0.05, typed)
        + "sleep 0.5\n"
        + moves_script(200, 0.006)  # a whole zigzag: back where it started
        + "click 1\nsleep 0.3\n"
        + "click 5\nsleep 0.1\n" * 3
        + "sleep 0.5\n"
    )
    return script, {"key": len(typed), "move": 200, "click": 1, "scroll": 3}


# ------------------------------------------------------------------ measuring
def samples(desk: Desk) -> dict[str, proc.Sample]:
    return {name: proc.sample(desk.procs[name].pid) for name in desk.monitors}


def memories(desk: Desk) -> dict[str, dict[str, int]]:
    return {name: proc.memory(desk.procs[name].pid) for name in desk.monitors}


def phase(desk: Desk, script: str, tail_s: float = 0.5) -> tuple[float, dict[str, proc.Sample], dict[str, proc.Sample]]:
    """Inject `script`; (its wall time, samples before, samples after a short tail)."""
    before = samples(desk)
    took = desk.xdotool(script)
    time.sleep(tail_s)  # let everyone finish what is queued
    return took, before, samples(desk)


def daemon_counts(db: Path) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(db)) as c:
        row = c.execute(
            "SELECT total(keys), total(moves), total(clicks), total(scrolls) FROM activity"
        ).fetchone()
    return dict(zip(("key", "move", "click", "scroll"), (int(v) for v in row), strict=True))


def run(sizes: Sizes, work: Path, extra_env: dict[str, str], without: tuple[str, ...] = ()) -> dict[str, object]:
    """Every live phase; the figures idle, input, memory and latency.

    `without`: comparators left out (only "workrave" may be); their entries are
    missing from the figures, and each figure says so under "without".
    """
    monitors = tuple(m for m in MONITORS if m not in without)
    with desktop(work, extra_env, monitors) as desk:
        # A server with buttons: cues go out with Done and Snooze over the
        # daemon's long-lived bus connection, as on GNOME or dunst.
        server = NotifyServer(desk.bus, work / "notifications.jsonl", actions=True).start()
        try:
            return _measure(desk, sizes, server)
        finally:
            server.stop()


def _measure(desk: Desk, sizes: Sizes, server: NotifyServer) -> dict[str, object]:
    workrave = "workrave" in desk.monitors
    say(
        f"live: Xvfb {desk.display}; starting the daemon, the bare listener, "
        + ("Workrave, " if workrave else "")
        + "the XI2 counter"
        + ("" if workrave else " (without Workrave)")
    )
    warm_up(desk)
    start_daemon(desk, "daemon")
    start_script(desk, "bare", "listener.py")
    if workrave:
        start_workrave(desk)
    start_script(desk, "xi2", "xi2count.py")
    monitors = desk.monitors
    without = [m for m in MONITORS if m not in monitors]
    pids = {name: desk.procs[name].pid for name in monitors}
    desk.xdotool("mousemove 1200 600\n")  # a pointer warp: away from Workrave's windows
    time.sleep(sizes.settle_s)
    mem: dict[str, list[dict[str, int]]] = {name: [] for name in monitors}
    mem_at: list[str] = []

    def mem_sample(label: str) -> None:
        mem_at.append(label)
        for name, m in memories(desk).items():
            mem[name].append(m)

    mem_sample("start")

    # ---- figure 2: idle
    say(f"live: idle for {sizes.idle_s:.0f} s")
    before = samples(desk)
    time.sleep(sizes.idle_s)
    after = samples(desk)
    idle = {}
    for name in monitors:
        dt = after[name].t - before[name].t
        idle[name] = {
            "seconds": dt,
            "cpu_s": after[name].cpu_s - before[name].cpu_s,
            "wakeups": after[name].wakeups - before[name].wakeups,
            "wakeups_per_s": (after[name].wakeups - before[name].wakeups) / dt,
        }
    mem_sample("after idle")

    # ---- figure 3: under input
    injected = {"key": 0, "move": 0, "click": 0, "scroll": 0}
    say(f"live: {sizes.moves} pointer moves, one every {sizes.move_pace_s * 1000:.0f} ms + xdotool's own time")
    m_took, m_before, m_after = phase(desk, moves_script(sizes.moves, sizes.move_pace_s))
    injected["move"] += sizes.moves
    say(f"live: {sizes.keys} key presses")
    k_took, k_before, k_after = phase(desk, keys_script(sizes.keys, sizes.key_pace_s))
    injected["key"] += sizes.keys
    under: dict[str, dict[str, float]] = {}
    for name in monitors:
        idle_rate = idle[name]["cpu_s"] / idle[name]["seconds"]
        m_cpu = m_after[name].cpu_s - m_before[name].cpu_s
        k_cpu = k_after[name].cpu_s - k_before[name].cpu_s
        m_dt = m_after[name].t - m_before[name].t
        k_dt = k_after[name].t - k_before[name].t
        under[name] = {
            "moves_cpu_s": m_cpu,
            "cpu_s_per_10k_moves": m_cpu * 10_000 / sizes.moves,
            "net_cpu_s_per_10k_moves": (m_cpu - idle_rate * m_dt) * 10_000 / sizes.moves,
            "moves_wakeups_per_s": (m_after[name].wakeups - m_before[name].wakeups) / m_dt,
            "keys_cpu_s": k_cpu,
            "cpu_s_per_1k_keys": k_cpu * 1_000 / sizes.keys,
            "net_cpu_s_per_1k_keys": (k_cpu - idle_rate * k_dt) * 1_000 / sizes.keys,
            "keys_wakeups_per_s": (k_after[name].wakeups - k_before[name].wakeups) / k_dt,
        }
    mem_sample("after moves and keys")

    # ---- figure 4: a long day of input, memory after each block
    say(f"live: a long day of mixed input, {sizes.day_blocks} blocks")
    day_first = len(mem_at)
    day_t0 = time.monotonic()
    for i in range(sizes.day_blocks):
        script, counts = day_block()
        desk.xdotool(script)
        for k, v in counts.items():
            injected[k] += v
        if i % 5 == 4 or i == sizes.day_blocks - 1:
            mem_sample(f"day block {i + 1}")
    day_s = time.monotonic() - day_t0
    time.sleep(1.0)

    # ---- what each saw
    seen: dict[str, dict[str, int]] = {}
    rc, _ = stop(desk.procs["daemon"])
    if rc != 0:
        raise RuntimeError(f"the daemon exited {rc} on SIGTERM: {(desk.work / 'daemon' / 'daemon.log').read_text()[-800:]}")
    db = Path(desk.env("daemon")["XDG_DATA_HOME"]) / "micromove" / "micromove.db"
    seen["daemon"] = daemon_counts(db)
    for name in ("bare", "xi2"):
        _, out = stop(desk.procs[name])
        seen[name] = json.loads(out.strip().splitlines()[-1])
    if workrave:
        stop(desk.procs["workrave"])
    cues_main = len(server.records())

    # ---- figure 6: delivery latency, with a fast config
    latency = _latency(desk, sizes.latency_samples, server, cues_main)

    def mem_fig(name: str) -> dict[str, object]:
        rows = mem[name]
        return {
            "at": mem_at,
            "rss": [m["rss"] for m in rows],
            "pss": [m["pss"] for m in rows],
            "rss_start": rows[0]["rss"],
            "rss_end": rows[-1]["rss"],
            "rss_max": max(m["rss"] for m in rows),
            "pss_end": rows[-1]["pss"],
            "rss_growth": rows[-1]["rss"] - rows[0]["rss"],
            # after the warm-up: from the middle of the day to its end
            "rss_growth_late": rows[-1]["rss"] - rows[day_first + (len(rows) - day_first) // 2]["rss"],
        }

    memory = {name: mem_fig(name) for name in monitors}
    d_mem = memory["daemon"]
    flat = d_mem["rss_growth"] <= 2e6  # type: ignore[operator]
    small = d_mem["rss_max"] <= 25e6  # type: ignore[operator]
    # /proc counts in ticks: a tiny (smoke) phase can show 0 s for a watcher
    floor = 1 / proc.TICK
    # Against Workrave (the goal); None when it was left out (--without workrave).
    wr = under.get("workrave")
    ratio_moves = under["daemon"]["moves_cpu_s"] / max(wr["moves_cpu_s"], floor) if wr else None
    ratio_keys = under["daemon"]["keys_cpu_s"] / max(wr["keys_cpu_s"], floor) if wr else None
    ratio_moves_bare = under["daemon"]["moves_cpu_s"] / max(under["bare"]["moves_cpu_s"], floor)
    ratio_keys_bare = under["daemon"]["keys_cpu_s"] / max(under["bare"]["keys_cpu_s"], floor)
    return {
        "idle": {
            **idle,
            "without": without,
            "goal": "daemon <= 0.1 wakeups/s",
            "met": idle["daemon"]["wakeups_per_s"] <= 0.1,
        },
        "input": {
            **under,
            "moves": sizes.moves,
            "move_pace_s": sizes.move_pace_s,
            "moves_wall_s": m_took,
            "keys": sizes.keys,
            "key_pace_s": sizes.key_pace_s,
            "keys_wall_s": k_took,
            "ratio_moves": ratio_moves,
            "ratio_keys": ratio_keys,
            "ratio_moves_bare": ratio_moves_bare,
            "ratio_keys_bare": ratio_keys_bare,
            "injected": injected,
            "seen": seen,
            "without": without,
            "exact": seen["daemon"] == injected,
            "goal": "daemon <= 0.5x Workrave per move and <= 1.0x per key, every event counted",
            "met": (ratio_moves is not None and ratio_keys is not None
                    and ratio_moves <= 0.5 and ratio_keys <= 1.0 and seen["daemon"] == injected),
        },
        "memory": {
            **memory,
            "day_s": day_s,
            "without": without,
            "goal": "daemon flat (RSS growth <= 2 MB from start to end) and <= 25 MB RSS",
            "flat": flat,
            "met": flat and small,
        },
        "latency": latency,
        "pids": pids,
    }


def _latency(desk: Desk, n: int, server: NotifyServer, skip: int) -> dict[str, object]:
    say(f"live: delivery latency, {n} cue sets")
    start_daemon(desk, "latency", LATENCY_CONFIG)
    burst = "a" * 20
    for k in range(n):
        desk.xdotool(f"type --delay 50 {burst}\n")
        recs = server.wait_records(skip + k + 1, timeout=15)
        if len(recs) < skip + k + 1:
            raise RuntimeError(f"cue set {k + 1} did not arrive: {(desk.work / 'latency' / 'daemon.log').read_text()[-800:]}")
        time.sleep(1.6)  # > activity.break_s: the next burst is a new stretch
    # Idle again, now with the notification connection open (its reader
    # thread blocks on the socket): the daemon must still not wake.
    quiet_s = max(1.0, min(20.0, n * 1.5))
    time.sleep(11.0 if n >= 10 else 1.0)  # a full run: past the last batch flush (10 s)
    pid = desk.procs["latency"].pid
    before = proc.sample(pid)
    time.sleep(quiet_s)
    after = proc.sample(pid)
    idle_open = {
        "seconds": after.t - before.t,
        "wakeups": after.wakeups - before.wakeups,
        "wakeups_per_s": (after.wakeups - before.wakeups) / (after.t - before.t),
        "cpu_s": after.cpu_s - before.cpu_s,
    }
    rc, _ = stop(desk.procs["latency"])
    if rc != 0:
        raise RuntimeError(f"the latency daemon exited {rc}")
    db = Path(desk.env("latency")["XDG_DATA_HOME"]) / "micromove" / "micromove.db"
    with contextlib.closing(sqlite3.connect(db)) as c:
        due = [t for (t,) in c.execute("SELECT t FROM deliveries WHERE delivered = 1 ORDER BY t")]
    arrived = [r["t"] for r in server.records()[skip:]]
    if len(due) != n or len(arrived) != n:
        raise RuntimeError(f"latency: {n} bursts, {len(due)} deliveries recorded, {len(arrived)} arrived")
    ms = [(a - d) * 1000 for a, d in zip(arrived, due, strict=True)]
    return {
        "samples": n,
        "ms": ms,
        "median_ms": statistics.median(ms),
        "max_ms": max(ms),
        "goal": "<= 50 ms (median and max)",
        "met": max(ms) <= 50,
        "buttons": all(r.get("actions", [])[:1] == ["done"] for r in server.records()[skip:]),
        "idle_after_cues": idle_open,
    }
