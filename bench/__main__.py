"""`python3 -m bench`: micromove's seven benchmark figures, each side by side in one run.

    python3 -m bench [--smoke] [--only FIGURES] [--without workrave] [--out DIR] [--note TEXT]

Run from the repository's root. Installs what it needs when it is missing
(Debian packages: Xvfb, xdotool, x11-utils, dbus, Workrave; the .venv that
./scripts/test makes; ./scripts/test itself installs no comparator), runs the desktop figures under its own Xvfb and
private session bus, prints a table, writes the same figures as JSON to
DIR/results.json (default bench/out/, not tracked) and, after a full run of
every figure, bench/RESULTS.md.

    1 engine    `mmctl simulate` on ~500,000 events vs json.loads per line   goal <= 2x
    2 idle      wakeups and CPU over 60 s without input: daemon, bare
                pynput listener, Workrave                                    goal <= 0.1/s
    3 input     CPU per 10,000 paced pointer moves and per 1,000 key
                presses: daemon (XInput2 backend) vs Workrave (the bare
                listener and the XI2 counter beside); every event counted    goal <= 0.5x moves, <= 1.0x keys
    4 memory    RSS and PSS after start and after a long day of input        goal flat, <= 25 MB
    5 storage   database bytes per active hour (simulate --db)               goal <= 50 KB/h
    6 latency   notification arrival minus the natural-pause instant         goal <= 50 ms
    7 stats     `mmctl stats --json` on a year (~90,000 cues) vs `python
                -c pass` and vs the same on one week                         goal <= 5x, <= 1.3x

`--smoke` runs every figure at a tiny size in well under a minute (CI runs
it through tests/test_bench_smoke.py); its figures say nothing about speed.
`--without workrave` leaves Workrave out (it is then neither installed nor
started): its columns read "not run", the JSON lists it under "without", and
bench/RESULTS.md is not written. The test suite's smoke run does this.
Exit status: 0 when every figure was measured (goals met or not), 1 when
one could not be, 2 for bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FIGURES = ("engine", "idle", "input", "memory", "storage", "latency", "stats")
GROUPS = {  # --only names -> what runs
    "engine": ("engine",),
    "storage": ("storage",),
    "stats": ("stats",),
    "live": ("idle", "input", "memory", "latency"),
}


def say(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ the machine
def _first(path: str, key: str) -> str:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip() if ":" in line else line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return "?"


def _out(*cmd: str) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT).stdout.strip() or "?"
    except OSError:
        return "?"


def machine() -> dict[str, Any]:
    import micromove

    mem_kb = _first("/proc/meminfo", "MemTotal").split()[0]
    return {
        "nproc": os.cpu_count(),
        "cpu": _first("/proc/cpuinfo", "model name"),
        "ram_gb": round(int(mem_kb) / 1024 / 1024, 1) if mem_kb.isdigit() else None,
        "kernel": platform.release(),
        "os": _first("/etc/os-release", "PRETTY_NAME="),
        "python": platform.python_version(),
        "micromove": micromove.__version__,
        "commit": _out("git", "rev-parse", "--short", "HEAD")
        + (" with uncommitted changes" if _out("git", "status", "--porcelain") != "?" else ""),
        "workrave": _out("dpkg-query", "-W", "-f", "${Version}", "workrave"),
        "loadavg_start": os.getloadavg(),
    }


# ------------------------------------------------------------------ people's table
def _s(x: float) -> str:
    return f"{x:.3f} s" if x < 10 else f"{x:.1f} s"


def _ms(x: float) -> str:
    return f"{x:.1f} ms"


def _mb(b: float) -> str:
    return f"{b / 1e6:.1f} MB"


LABEL = {"bare": "bare pynput", "workrave": "Workrave", "xi2": "XI2 counter (bench/xi2count.py)"}


Row = tuple[str, str, str, str, str, str]


def _row(fig: str, ours: str, goal: str, met: bool, theirs: str = "-", ratio: str = "-") -> Row:
    return (fig, ours, theirs, ratio, goal, "yes" if met else "NO")


def _workrave(f: dict[str, Any], what: Any) -> str:
    """Workrave's part of a side-by-side cell, or why there is none."""
    return "Workrave not run (--without workrave)" if "workrave" not in f else f"Workrave {what('workrave')}"


def rows(figs: dict[str, Any]) -> list[Row]:
    """One row per figure (two for figure 3): figure, micromove, side by side, ratio, goal, met."""
    out: list[Row] = []
    if "engine" in figs:
        f = figs["engine"]
        out.append(_row(
            f"1 engine, {f['trace']['events']:,} events", f"mmctl simulate {_s(f['simulate']['cpu_s'])} CPU",
            "<= 2x", f["met"], f"json.loads per line {_s(f['bare_parse']['cpu_s'])}", f"{f['ratio_cpu']:.2f}x",
        ))
    if "idle" in figs:
        f = figs["idle"]

        def idle(n: str) -> str:
            return f"{f[n]['wakeups_per_s']:.2f} wakeups/s, {_s(f[n]['cpu_s'])} CPU"

        out.append(_row(
            f"2 idle, {f['daemon']['seconds']:.0f} s", idle("daemon"), "<= 0.1 wakeups/s", f["met"],
            f"bare pynput {idle('bare')}; {_workrave(f, idle)}",
        ))
    if "input" in figs:
        f = figs["input"]
        for n, unit, key, ratio, goal in (
            (f"{f['moves']:,} pointer moves", "10,000 moves", "cpu_s_per_10k_moves", f["ratio_moves"], 0.5),
            (f"{f['keys']:,} key presses", "1,000 keys", "cpu_s_per_1k_keys", f["ratio_keys"], 1.0),
        ):
            others = "; ".join(
                f"{LABEL[w]} {_s(f[w][key])}" if w in f else _workrave(f, None) for w in ("workrave", "bare", "xi2")
            )
            exact = f.get("exact", True)
            out.append(_row(
                f"3 CPU per {unit} ({n})", _s(f["daemon"][key]) + ("" if exact else " (counts NOT exact)"),
                f"<= {goal}x Workrave", ratio is not None and ratio <= goal and exact, others,
                "-" if ratio is None else f"{ratio:.2f}x Workrave",
            ))
    if "memory" in figs:
        f = figs["memory"]

        def mem(n: str) -> str:
            return f"RSS {_mb(f[n]['rss_end'])}, PSS {_mb(f[n]['pss_end'])}"

        d = f["daemon"]
        ours = f"{mem('daemon')}; start RSS {_mb(d['rss_start'])}, max {_mb(d['rss_max'])} ({d['rss_growth'] / 1e6:+.1f} MB)"
        out.append(_row(
            "4 memory at the end of the day", ours, "flat, <= 25 MB", f["met"],
            f"bare pynput {mem('bare')}; {_workrave(f, mem)}",
        ))
    if "storage" in figs:
        f = figs["storage"]
        ours = f"{f['bytes_per_active_h'] / 1000:.1f} KB/h ({_mb(f['db_bytes'])} for {f['active_h']:.1f} active h)"
        out.append(_row("5 database per active hour", ours, "<= 50 KB/h", f["met"]))
    if "latency" in figs:
        f = figs["latency"]
        ours = f"median {_ms(f['median_ms'])}, max {_ms(f['max_ms'])} ({f['samples']} cue sets)"
        if "buttons" in f:
            io = f["idle_after_cues"]
            ours += (f"; {'with' if f['buttons'] else 'WITHOUT'} Done/Snooze buttons; then idle with the"
                     f" notification connection open: {io['wakeups_per_s']:.2f} wakeups/s")
        out.append(_row("6 delivery latency", ours, "<= 50 ms", f["met"]))
    if "stats" in figs:
        f = figs["stats"]
        week = f.get("stats_week")
        out.append(_row(
            f"7 mmctl stats --json, {f['working_days']} working days ({f.get('delivered_cues', 0):,} cues)",
            f"{_ms(f['stats']['cpu_s'] * 1000)} CPU",
            "<= 5x python, <= 1.3x a week" if week else "<= 5x", f["met"],
            f"python -c pass {_ms(f['bare_python']['cpu_s'] * 1000)}"
            + (f"; one week {_ms(week['cpu_s'] * 1000)}" if week else ""),
            f"{f['ratio_cpu']:.2f}x python" + (f", {f['ratio_week_cpu']:.2f}x week" if week else ""),
        ))
    return out


HEAD = ("figure", "micromove", "side by side", "ratio", "goal", "met")


def text_table(rs: list[Row]) -> str:
    """For a terminal: a heading line per figure, what was measured under it."""
    out = []
    for fig, ours, theirs, ratio, goal, met in rs:
        head = f"{fig}: {ratio}" if ratio != "-" else fig
        out.append(f"{head}  (goal {goal}: {'met' if met == 'yes' else 'NOT MET'})")
        out.append(f"    micromove     {ours}")
        if theirs != "-":
            out.append(f"    side by side  {theirs}")
    return "\n".join(out)


def md_table(rs: list[Row]) -> str:
    lines = ["| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
    lines += ["| " + " | ".join(r) + " |" for r in rs]
    return "\n".join(lines)


# ------------------------------------------------------------------ RESULTS.md
def results_md(res: dict[str, Any]) -> str:
    m, f = res["machine"], res["figures"]
    eng, idle, inp, mem, sto, lat, st = (f[k] for k in FIGURES)
    seen, inj = inp["seen"], inp["injected"]
    met = [k for k in FIGURES if f[k]["met"]]
    missed = [k for k in FIGURES if not f[k]["met"]]
    la = ", ".join(f"{x:.2f}" for x in m["loadavg_start"])
    le = ", ".join(f"{x:.2f}" for x in m["loadavg_end"])
    notes = "".join(f"\n> {n}\n" for n in res["notes"])

    def per(name: str, key: str) -> str:
        return _s(inp[name][key])

    def counts(name: str) -> str:
        c = seen[name]
        return " / ".join(f"{c.get(k, 0):,}" for k in ("key", "move", "click", "scroll"))

    def series(name: str) -> str:
        return ", ".join(f"{x / 1e6:.1f}" for x in mem[name]["rss"])

    xi2_vs = {
        who: inp["xi2"]["moves_cpu_s"] / max(inp[who]["moves_cpu_s"], 0.01)
        for who in ("daemon", "bare", "workrave")
    }
    kinds = ", ".join(f"{k} {v:,}" for k, v in sorted(eng["trace"]["kinds"].items()))
    rows_st = ", ".join(f"{k} {v:,}" for k, v in st["rows"].items())
    return f"""# Benchmark results

Latest full run of `python3 -m bench` (bench/__main__.py says what each figure
measures and how): {res['date']}, {res['duration_s'] / 60:.1f} minutes. A run
writes the same figures to bench/out/results.json.

**Machine:** {m['nproc']} CPUs ({m['cpu']}), {m['ram_gb']} GB RAM, Linux {m['kernel']},
{m['os']}, Python {m['python']}; micromove {m['micromove']} at {m['commit']},
Workrave {m['workrave']}. Load average at the start {la}; at the end {le}.
{notes}
Every figure is a ratio against something measured side by side in the same
run, or a value against its goal. CPU times are user + system seconds (of a
whole process run to its end, from wait4; of a running one, from
/proc/PID/stat), which other work on the machine disturbs far less than wall
time. /proc counts CPU in 10 ms ticks.

{md_table(rows(f))}

**Goals met:** {', '.join(met) or 'none'}. **Not met:** {', '.join(missed) or 'none'}.

## Details

1. **Engine.** A trace of {eng['trace']['events']:,} events ({eng['trace']['days']} generated working days: {kinds}); median of {eng['simulate']['runs']} alternating runs each. `mmctl simulate`: {_s(eng['simulate']['cpu_s'])} CPU ({_s(eng['simulate']['wall_s'])} wall); a bare `json.loads` of every line: {_s(eng['bare_parse']['cpu_s'])} ({_s(eng['bare_parse']['wall_s'])} wall). Ratio {eng['ratio_cpu']:.2f}x CPU (the median of each round's ratio: the two ran one right after the other), {eng['ratio_wall']:.2f}x wall.
2. **Idle**, {idle['daemon']['seconds']:.0f} s with all four watchers running on one display: the daemon woke {idle['daemon']['wakeups']} times and used {_s(idle['daemon']['cpu_s'])} CPU; the bare pynput listener {idle['bare']['wakeups']} and {_s(idle['bare']['cpu_s'])}; Workrave {idle['workrave']['wakeups']} ({idle['workrave']['wakeups_per_s']:.1f}/s) and {_s(idle['workrave']['cpu_s'])}; the XI2 counter {idle['xi2']['wakeups']}. Wakeups are voluntary + involuntary context switches summed over all threads.
3. **Under input.** {inp['moves']:,} relative pointer moves of 5 px from one xdotool process (one every {inp['move_pace_s'] * 1000:.0f} ms plus xdotool's own time: {inp['moves_wall_s']:.1f} s in all), then {inp['keys']:,} key presses ({inp['keys_wall_s']:.1f} s), seen by all four watchers at the same time; the daemon watches through its XInput2 backend (its default on X11). CPU per 10,000 moves: daemon {per('daemon', 'cpu_s_per_10k_moves')}, bare pynput {per('bare', 'cpu_s_per_10k_moves')}, Workrave {per('workrave', 'cpu_s_per_10k_moves')} ({per('workrave', 'net_cpu_s_per_10k_moves')} net of its idle ticking), XI2 counter {per('xi2', 'cpu_s_per_10k_moves')}. Per 1,000 keys: daemon {per('daemon', 'cpu_s_per_1k_keys')}, bare {per('bare', 'cpu_s_per_1k_keys')}, Workrave {per('workrave', 'cpu_s_per_1k_keys')}, XI2 counter {per('xi2', 'cpu_s_per_1k_keys')}. Daemon vs Workrave: {inp['ratio_moves']:.2f}x per move, {inp['ratio_keys']:.2f}x per key (vs the bare pynput listener: {inp.get('ratio_moves_bare', 0):.2f}x and {inp.get('ratio_keys_bare', 0):.2f}x). Wakeups per second while the pointer moved: daemon {inp['daemon']['moves_wakeups_per_s']:.0f}, bare {inp['bare']['moves_wakeups_per_s']:.0f}, Workrave {inp['workrave']['moves_wakeups_per_s']:.0f}, XI2 counter {inp['xi2']['moves_wakeups_per_s']:.0f}.

   Everyone saw the same input. Injected over the whole run (keys / moves / clicks / scroll steps): {inj['key']:,} / {inj['move']:,} / {inj['click']} / {inj['scroll']}. Counted by the daemon (its database; one move per motion report, docs/schema.md): {counts('daemon')} ({'exact' if inp.get('exact') else 'NOT exact'}); by the bare listener: {counts('bare')} (plus the one pointer warp at the start); by the XI2 counter: {counts('xi2')} (its clicks include the scroll buttons).
4. **Memory.** RSS in MB at {', '.join(mem['daemon']['at'])}: daemon {series('daemon')}; bare pynput {series('bare')}; Workrave {series('workrave')}. The "day" is {mem['day_s'] / 60:.1f} minutes of mixed input (typing, pointer travel, clicks, scrolling) after the figure-3 phases; from its middle to its end the daemon's RSS moved by {mem['daemon']['rss_growth_late'] / 1e6:+.2f} MB (the bare listener's by {mem['bare']['rss_growth_late'] / 1e6:+.2f} MB): what growth there is comes with the first minutes of input, as allocators and caches warm up. The day stands for a whole one because what the daemon holds is bounded: counts go to the database every 10 s, and the engine keeps one stretch per kind and the cues due. PSS splits shared library pages between the processes mapping them (four Python processes here), so alone each would have a higher PSS. Each Python process runs from compiled bytecode, as an installed one does (pip compiles at install): the bench starts and stops each once first, to fill its private bytecode cache.
5. **Storage.** `mmctl simulate --db` over the engine's trace ({sto['days']} days, {sto['active_h']:.1f} active hours as `mmctl stats --json` counts them, {sto['cues']} cues): {sto['db_bytes']:,} bytes with the WAL, {sto['bytes_per_active_h'] / 1000:.1f} KB per active hour, the empty schema included.
6. **Latency.** A second daemon with a fast config (a cue due 0.6 s into typing, a natural pause after 0.5 s) and {lat['samples']} bursts of typing. Latency = arrival time recorded by the notification server minus the delivery's time in the daemon's database, which is the natural-pause instant: the time of the last key (the X server's, mapped onto the daemon's clock by the XInput2 backend) + pause.min_s. Median {_ms(lat['median_ms'])}, max {_ms(lat['max_ms'])}; samples {', '.join(f'{x:.1f}' for x in lat['ms'])} ms.
7. **`mmctl stats --json`** on {st['working_days']} working days ({_mb(st['db_bytes'])}; {st['delivered_cues']:,} delivered cues; rows: {rows_st}); median of {st['stats']['runs']} alternating runs: {_ms(st['stats']['cpu_s'] * 1000)} CPU ({_ms(st['stats']['wall_s'] * 1000)} wall) vs `python -c pass` {_ms(st['bare_python']['cpu_s'] * 1000)} ({_ms(st['bare_python']['wall_s'] * 1000)} wall): {st['ratio_cpu']:.2f}x CPU, {st['ratio_wall']:.2f}x wall; vs the same command on a database of one week (5 working days) {_ms(st['stats_week']['cpu_s'] * 1000)} CPU: {st['ratio_week_cpu']:.2f}x (CPU ratios: the median of each round's ratio, the commands run one right after the other). Stats reads the day rollups (schema 6): one row per day shown, whatever the history holds, each day's regions copied as stored and the per-region totals summed from one row per region and day.

## The XInput2 counter beside the daemon

bench/xi2count.py (the experiment the daemon's XInput2 backend grew from)
counts raw events by their header type and nothing else. Side by side in this
run, per 10,000 pointer moves it used {per('xi2', 'cpu_s_per_10k_moves')} CPU,
{xi2_vs['daemon']:.2f}x what the daemon used (the daemon also maps every
event's server time onto its clock, tells scroll buttons from clicks, runs the
engine and writes the database), {xi2_vs['bare']:.2f}x the bare pynput listener
and {xi2_vs['workrave']:.2f}x Workrave; per 1,000 keys {per('xi2', 'cpu_s_per_1k_keys')}.
"""


# ------------------------------------------------------------------ main
def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    ap = argparse.ArgumentParser(prog="python3 -m bench", description=__doc__.splitlines()[0])
    ap.add_argument("--smoke", action="store_true", help="tiny sizes (seconds): proves it runs, measures nothing")
    ap.add_argument("--only", default="", help=f"comma-separated subset of {','.join(GROUPS)} (default: all)")
    ap.add_argument("--out", type=Path, default=HERE / "out", help="where results.json goes (default bench/out)")
    ap.add_argument("--note", action="append", default=[], help="a line to add to the results (repeatable)")
    ap.add_argument("--keep", action="store_true", help="keep the working folder (logs, databases, traces)")
    ap.add_argument(
        "--without", action="append", default=[], choices=["workrave"],
        help="leave this comparator out (not installed, not started; no RESULTS.md)",
    )  # fmt: skip
    args = ap.parse_args(argv)
    only = [g for g in args.only.split(",") if g]
    bad = [g for g in only if g not in GROUPS]
    if bad:
        ap.error(f"--only: unknown {', '.join(bad)} (choose from {', '.join(GROUPS)})")
    groups = only or list(GROUPS)

    from bench import deps

    try:
        deps.ensure_venv(argv)
        deps.ensure_packages(without=tuple(args.without))
    except (deps.DepsError, subprocess.CalledProcessError) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1

    from bench import engine, live, stats_year, timing

    t_start = time.monotonic()
    res: dict[str, Any] = {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "mode": "smoke" if args.smoke else "full",
        "command": "python3 -m bench " + " ".join(argv),
        "machine": machine(),
        "notes": args.note,
        "without": sorted(set(args.without)),
        "figures": {},
    }
    figs = res["figures"]
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="mm-bench-"))
    env = timing.bytecode_env(work / "pycache")
    try:
        if "engine" in groups or "storage" in groups:
            events = 20_000 if args.smoke else 500_000
            trace = work / "trace.jsonl"
            say(f"engine: writing a trace of {events:,} events")
            made = engine.make_trace(trace, events)
            if "engine" in groups:
                say("engine: mmctl simulate vs a bare parse, alternating")
                figs["engine"] = {"trace": made, **engine.measure_engine(trace, env, 1 if args.smoke else 5)}
            if "storage" in groups:
                say("storage: mmctl simulate --db")
                figs["storage"] = engine.measure_storage(trace, work / "storage.db", env)
        if "stats" in groups:
            say("stats: a year's database, mmctl stats --json vs python -c pass")
            figs["stats"] = stats_year.measure(
                work / "year.db", env, runs=3 if args.smoke else 21, days=10 if args.smoke else 250
            )
        if "live" in groups:
            sizes = live.SMOKE if args.smoke else live.FULL
            got = live.run(
                sizes, work, {"PYTHONPYCACHEPREFIX": env["PYTHONPYCACHEPREFIX"]}, without=tuple(args.without)
            )
            res["pids"] = got.pop("pids")
            figs.update(got)
    except (RuntimeError, subprocess.SubprocessError, OSError) as exc:
        print(f"bench: FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            say(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    res["machine"]["loadavg_end"] = os.getloadavg()
    res["duration_s"] = time.monotonic() - t_start
    out = args.out / "results.json"
    out.write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
    print(text_table(rows(figs)))
    print(f"\n{len(figs)} figures in {res['duration_s']:.0f} s; JSON: {out}")
    if not args.smoke and set(figs) == set(FIGURES) and not args.without:
        (HERE / "RESULTS.md").write_text(results_md(res), encoding="utf-8")
        print(f"wrote {HERE / 'RESULTS.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
