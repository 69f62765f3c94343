"""`mmctl status | pause | resume | snooze | done`: talk to the running daemon.

They speak the control protocol (micromove/control/, docs/control-protocol.md) over the daemon's
Unix socket in $XDG_RUNTIME_DIR/micromove/. Standard library only: nothing
heavy is imported.

Exit status: 0 done; 1 micromove is not running, or it could not do it
(e.g. `done` with no cue set shown yet); 2 bad usage (a duration, a cue id).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from ..errors import UsageError

EXIT_STATUS = (
    "exit status: 0 done; 1 micromove is not running, or it could not do it; "
    "2 bad usage (an argument, a duration, a cue id)"
)
DURATION_HELP = "how long: 30s, 10m, 1h, 1h30m, 2d (at most 7 days)"

_HELP = {
    "status": (
        "Show what the running daemon is doing: since when, the input backend, the current typing, "
        "mouse and presence stretches, cues due and when they go out, pause or snooze, the "
        "progression week and active regions, today's counts.",
    ),
    "pause": (
        "Stop cueing (counting goes on) until `mmctl resume`, or for DURATION. The pause is kept "
        "in the database: it survives a restart of the daemon.",
    ),
    "resume": ("End a pause or a snooze: what it held back goes out at the next natural pause.",),
    "snooze": (
        "Push back what is due: no cue for DURATION (default 10m); then what is due goes out at "
        "the next natural pause.",
    ),
    "done": (
        "Mark the last cue set as done, or the named cues (each in the latest cue set that held "
        "it). Confirmed cues are counted apart from the inferred 'likely done' in `mmctl stats`.",
    ),
}


def configure(p: argparse.ArgumentParser, name: str) -> None:
    p.description = _HELP[name][0]
    p.epilog = EXIT_STATUS
    if name == "status":
        p.add_argument("--json", action="store_true", help="print one JSON object (running: false when it is not)")
    elif name == "pause":
        p.add_argument("duration", nargs="?", metavar="DURATION", help=DURATION_HELP + "; default: until resume")
    elif name == "snooze":
        p.add_argument("duration", nargs="?", metavar="DURATION", help=DURATION_HELP + "; default: 10m")
    elif name == "done":
        p.add_argument("cues", nargs="*", metavar="CUE", help="cue ids (`mmctl cues` lists them); default: the last cue set")


def _message(args: argparse.Namespace) -> dict[str, Any]:
    from ..control import protocol as control

    cmd = args.command
    msg: dict[str, Any] = {"cmd": cmd}
    if cmd in ("pause", "snooze") and args.duration is not None:
        msg["for_s"] = control.parse_duration(args.duration)
    if cmd == "done" and args.cues:
        from ..core.catalog import BY_ID

        for c in args.cues:
            if c not in BY_ID:
                raise UsageError(control.unknown_cue_message(c))
        msg["cues"] = list(dict.fromkeys(args.cues))
    return msg


def run(args: argparse.Namespace) -> int:
    from ..control import client as control

    msg = _message(args)  # bad arguments: exit 2 before anything is sent
    as_json = getattr(args, "json", False)
    try:
        reply = control.request(msg)
    except control.NotRunning as exc:
        if args.command == "status":
            if as_json:
                print(json.dumps({"running": False, "error": str(exc)}))
            else:
                print(str(exc))
                print("start it: `systemctl --user start micromove` (or `mmctl run` in a terminal)")
            return 1
        print(f"mmctl: {exc}", file=sys.stderr)
        return 1
    except control.ControlFailed as exc:
        if as_json:
            print(json.dumps({"running": None, "error": str(exc)}))
        print(f"mmctl: {exc}", file=sys.stderr)
        return 1
    if not reply.get("ok"):
        text = str(reply.get("error") or "micromove refused the request")
        if reply.get("code") in ("bad_request", "unknown_cue"):
            raise UsageError(text)
        print(f"mmctl: {text}", file=sys.stderr)
        return 1
    out = _SHOW[args.command](reply, as_json)
    if out:
        sys.stdout.write(out)
    return 0


# ====================================================================== for people
def _clock(wall: float | None, now: float | None = None) -> str:
    from ..timefmt import clock

    return clock(wall, now)


def _title(cue: str) -> str:
    from ..core.catalog import BY_ID

    m = BY_ID.get(cue)
    return f"{m.title} ({cue})" if m is not None else cue


def _hold_line(h: dict[str, Any] | None, now: float) -> str:
    from ..timefmt import format_duration

    if h is None:
        return ""
    word = "snoozed" if h["kind"] == "snooze" else "paused"
    if h["until"] is None:
        return f"{word} until `mmctl resume` (since {_clock(h['since'], now)})"
    return f"{word} until {_clock(h['until'], now)} ({format_duration(h['until'] - now)} more)"


def _named_hold(h: dict[str, Any], now: float) -> str:
    """'pause (until `mmctl resume`)', 'quiet.lock (until it ends)', 'snooze (until 14:05:00)'."""
    if h["until"] is not None:
        return f"{h['name']} (until {_clock(h['until'], now)})"
    return f"{h['name']} (until `mmctl resume`)" if h["name"] == "pause" else f"{h['name']} (until it ends)"


def _held_until_released(holds: list[dict[str, Any]]) -> str:
    """Why a due cue has no time to go out: the indefinite holds in force."""
    names = [h["name"] for h in holds if h["until"] is None]
    if not names or "pause" in names:
        return "held back until `mmctl resume`" + (
            f" and the end of {', '.join(n for n in names if n != 'pause')}" if len(names) > 1 else ""
        )
    return f"held back until the end of {', '.join(names)}"


def _show_status(r: dict[str, Any], as_json: bool) -> str:
    from ..timefmt import format_duration

    if as_json:
        return json.dumps(r, sort_keys=True) + "\n"
    now = r["now"]
    lines = [
        f"micromove is running (pid {r['pid']}, since {_clock(r['since'], now)}, "
        f"{format_duration(now - r['since'])})",
        f"  input: {r['backend']}   config: {r['config']}   database: {r['db'] or '-'}",
    ]
    hold = _hold_line(r.get("hold"), now)
    if hold:
        lines.append(f"  {hold}")
    holds = r.get("holds") or []
    if holds:
        lines.append("  holds:     " + ", ".join(_named_hold(h, now) for h in holds))
    names = {"typing": "typing", "mouse": "mouse", "active": "presence"}
    for trig, label in names.items():
        s = r["stretches"].get(trig)
        if s is None:
            lines.append(f"  {label + ':':10} no stretch going")
        else:
            ago = now - s["last"]
            lines.append(
                f"  {label + ':':10} {format_duration(s['length_s'])} stretch since {_clock(s['start'], now)}"
                f" (latest input {format_duration(ago)} ago)"
            )
    due = r.get("due") or []
    if due:
        for d in due:
            if d["not_before"] is None:
                when = _held_until_released(holds)
            else:
                after = "" if d["not_before"] <= now else f" after {_clock(d['not_before'], now)}"
                when = f"at the next natural pause{after}, at the latest {_clock(d['at_latest'], now)}"
            lines.append(f"  due:       {_title(d['cue'])}: {when}")
    else:
        lines.append("  due:       nothing")
    for u in (r.get("upcoming") or [])[:3]:
        lines.append(f"  next:      {_title(u['cue'])} due at {_clock(u['due_at'], now)} if its stretch goes on")
    p = r["progression"]
    regions = ", ".join(p["regions"])
    if p["enabled"] and p["week"] is not None:
        lines.append(f"  progression: week {p['week']} (since {p['start']}): {regions}")
    else:
        lines.append(f"  progression: off: {regions}")
    last = r.get("last_set")
    if last is not None:
        state = {True: "shown", False: "not shown", None: "being shown"}[last["delivered"]]
        extra = []
        if last["done"]:
            extra.append("done: " + ", ".join(last["done"]))
        if last["likely"]:
            extra.append("likely done")
        tail = f"; {'; '.join(extra)}" if extra else ""
        lines.append(f"  last cue set: {_clock(last['t'], now)} {', '.join(last['cues'])} ({state}{tail})")
    t = r.get("today")
    if t:
        lines.append(
            f"  today: {t['keys']:,} keys, {t['clicks']:,} clicks, {t['scrolls']:,} scrolls; "
            f"{t['cues']} cues shown, {t['done']} done, {t['likely']} likely done"
        )
    return "\n".join(lines) + "\n"


def _show_hold(r: dict[str, Any], as_json: bool) -> str:
    if as_json:
        return json.dumps(r) + "\n"
    now = time.time()
    line = _hold_line(r.get("hold"), now)
    if r.get("hold") and r["hold"]["kind"] == "pause":
        line += "; counting goes on"
    due = r.get("due") or []
    if due:
        line += f"; held back: {', '.join(due)}"
    return line + "\n"


def _show_resume(r: dict[str, Any], as_json: bool) -> str:
    if r.get("was") is None:
        return "micromove was not paused or snoozed\n"
    word = "snooze" if r["was"] == "snooze" else "pause"
    due = r.get("due") or []
    tail = f"; due, at the next natural pause: {', '.join(due)}" if due else ""
    return f"{word} ended: cueing again{tail}\n"


def _show_done(r: dict[str, Any], as_json: bool) -> str:
    out = []
    now = time.time()
    for m in r.get("marked", []):
        word = "already marked done" if m["already"] else "marked done"
        out.append(f"{word}: {_title(m['cue'])}, cue set of {_clock(m['t'], now)}")
    return "\n".join(out) + "\n"


_SHOW = {
    "status": _show_status,
    "pause": _show_hold,
    "snooze": _show_hold,
    "resume": _show_resume,
    "done": _show_done,
}
