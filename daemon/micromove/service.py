"""The application's use cases, in one place: status, pause, snooze, resume,
done, holds for quiet-time sources, and the weekly check-in reminder.

The daemon owns one `Service` and runs it on its main thread, the only
thread that touches the engine and the store. Whatever asks from another
thread (the control socket, a notification's button) hands a call to the
main loop through the daemon's `Inbox` (inbox.py), which wakes the loop.
Each method takes and returns typed values (the dataclasses below); the
control protocol (control/protocol.py) turns them into JSON.

The service sees the rest of the daemon only through the ports it is given
at the one wiring point, commands/run.py: the session (the engine and the
confirmations), the store, the notifier, the clock, and a few facts about
the daemon (`DaemonInfo`). It imports neither the daemon nor the control
package.

Holds are named (docs/architecture.md): "pause" and "snooze" are the
person's (a later one replaces the other; `resume` lifts only these) and
are kept in the database (state key `control.hold`), so they survive a
restart; "quiet.<source>" holds belong to quiet-time sources, which set and
lift them again after a restart, so they are not kept.

All times a method takes (`now`) are engine time; the values it returns
carry wall time (UTC epoch seconds), rounded to the millisecond.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import time
from collections.abc import Callable, Container
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from .timefmt import format_duration, local_date

log = logging.getLogger("micromove")

INF = math.inf
HOLD_KEY = "control.hold"
PERSON_HOLDS = ("pause", "snooze")  # the holds the person sets (and `resume` lifts)
QUIET_PREFIX = "quiet."


class ServiceError(Exception):
    """A request the service cannot do: `code` (e.g. "nothing") and a line for a person."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# ====================================================================== ports
class SessionPort(Protocol):
    """What the service needs of the session (core/session.Session)."""

    engine: Any
    config: Any
    confirm: Any
    wall_offset: float
    progression_start: date | None

    def active_regions(self, wall: float) -> tuple[str, ...]: ...
    def flush(self) -> None: ...


class StorePort(Protocol):
    def get_state(self, key: str) -> str | None: ...
    def set_state(self, key: str, value: str) -> None: ...
    def flush(self) -> None: ...


OnResult = Callable[[bool, "str | None"], None]


class NotifierPort(Protocol):
    def submit(self, title: str, body: str, on_result: OnResult) -> None: ...


class ClockPort(Protocol):
    def now(self) -> float: ...


@dataclass(slots=True)
class DaemonInfo:
    """Facts about the running daemon that status shows."""

    backend: str = "?"
    quality: str | None = None  # the backend's data quality: "counts" or "presence"
    db: Path | None = None
    socket: Path | None = None
    in_flight: Container[int | None] = ()  # delivery ids the notifier has not answered yet
    pid: int = field(default_factory=os.getpid)


# ====================================================================== values
@dataclass(frozen=True, slots=True)
class HoldView:
    name: str
    since: float  # wall
    until: float | None  # wall; None: until released


@dataclass(frozen=True, slots=True)
class HoldResult:
    """pause / snooze: the person's hold now, the one it replaced, the cues it holds back."""

    hold: HoldView | None
    was: str | None
    due: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ResumeResult:
    was: str | None  # None: nothing to resume
    due: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Marked:
    cue: str
    delivery_id: int
    t: float  # wall time of the cue set
    already: bool


@dataclass(frozen=True, slots=True)
class DoneResult:
    marked: tuple[Marked, ...]
    source: str


@dataclass(frozen=True, slots=True)
class StretchView:
    start: float
    last: float
    length_s: float


@dataclass(frozen=True, slots=True)
class DueView:
    cue: str
    trigger: str
    due_since: float | None
    not_before: float | None  # None: held until released
    at_latest: float | None


@dataclass(frozen=True, slots=True)
class UpcomingView:
    cue: str
    trigger: str | None
    due_at: float | None


@dataclass(frozen=True, slots=True)
class ProgressionView:
    enabled: bool
    start: str | None
    week: int | None
    regions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LastSetView:
    delivery_id: int
    t: float
    cues: tuple[str, ...]
    delivered: bool | None  # None: the notifier has not answered yet
    done: tuple[str, ...]
    likely: bool


@dataclass(frozen=True, slots=True)
class Status:
    pid: int
    version: str
    since: float
    now: float
    backend: str
    input_quality: str | None
    config: str
    db: str | None
    socket: str | None
    idle_s: float | None
    stretches: dict[str, StretchView | None]
    due: tuple[DueView, ...]
    next_pause: float | None
    upcoming: tuple[UpcomingView, ...]
    hold: HoldView | None  # the person's (pause or snooze)
    holds: tuple[HoldView, ...]  # every hold in force, by name
    progression: ProgressionView
    last_set: LastSetView | None
    reminder_enabled: bool
    reminder_next: float | None
    settings: dict[str, float]


@dataclass(slots=True)
class _Hold:
    name: str
    since: float  # wall
    until_t: float  # engine time; INF: until released


# ====================================================================== the service
class Service:
    def __init__(
        self,
        session: SessionPort,
        store: StorePort,
        notifier: NotifierPort,
        clock: ClockPort,
        *,
        wake: Callable[[], None] = lambda: None,
        info: DaemonInfo | None = None,
        last_checkin: Callable[[], float | None] = lambda: None,
    ) -> None:
        from .core.reminder import CheckinReminder

        self.session = session
        self.store = store
        self.clock = clock
        self.info = info or DaemonInfo()
        self._holds: dict[str, _Hold] = {}
        self.started_wall = 0.0
        self.reminder = CheckinReminder(
            enabled=session.config.checkin_reminder,
            get_state=store.get_state,
            set_state=store.set_state,
            last_checkin=last_checkin,
            submit=notifier.submit,
        )
        self.reminder.on_result_hook = wake

    def _wall(self, t: float) -> float:
        return t + self.session.wall_offset

    # ---------------------------------------------------------------- life (the loop's hooks)
    def start(self, now: float) -> None:
        wall = self._wall(now)
        self.started_wall = wall
        self._restore_holds(now)
        try:
            self.reminder.start(wall, self.session.progression_start)
        except Exception as exc:  # noqa: BLE001
            log.warning("check-in reminder off: %s", exc)
            self.reminder.enabled = False

    def stop(self) -> None:
        pass

    def on_pass(self, now: float) -> None:
        """Each pass of the loop: holds that ran out, the check-in reminder."""
        over = [h for h in self._holds.values() if h.until_t <= now]
        for h in over:
            del self._holds[h.name]
            if h.name in PERSON_HOLDS:
                log.info("%s over: cueing again", "snooze" if h.name == "snooze" else "pause")
            else:
                log.info("%s over", h.name)
        if any(h.name in PERSON_HOLDS for h in over):
            self._save_holds()
        try:
            self._reminder(now)
        except Exception as exc:  # noqa: BLE001 - a reminder never stops the daemon
            log.warning("check-in reminder off until restart: %s: %s", type(exc).__name__, exc)
            self.reminder.enabled = False

    def next_deadline(self) -> float | None:
        """Engine time at which the loop should look again (the reminder's natural pause)."""
        return self._reminder_pause(self.clock.now())

    # ---------------------------------------------------------------- holds
    def pause(self, for_s: float | None, now: float) -> HoldResult:
        """No cue until `resume`, or for `for_s` seconds (counting goes on)."""
        return self._person_hold("pause", for_s, now)

    def snooze(self, for_s: float, now: float) -> HoldResult:
        """No cue for `for_s` seconds; then what is due goes out at the next natural pause."""
        return self._person_hold("snooze", for_s, now)

    def resume(self, now: float) -> ResumeResult:
        """End the person's pause or snooze (quiet-time holds stay)."""
        engine = self.session.engine
        mine = [h for n, h in self._holds.items() if n in PERSON_HOLDS]
        if not mine:
            return ResumeResult(None)
        for h in mine:
            engine.release(h.name, now)
            del self._holds[h.name]
        self._save_holds()
        was = mine[-1].name
        log.info("resumed (was %s)", "snoozed" if was == "snooze" else "paused")
        return ResumeResult(was, tuple(sorted(p.cue for p in engine.pending())))

    def hold(self, name: str, until: float | None, now: float) -> None:
        """A quiet-time source holds cues back: `name` is "quiet.<source>",
        `until` a wall time (None: until `release`). Holding again replaces it."""
        if not name.startswith(QUIET_PREFIX) or name == QUIET_PREFIX:
            raise ValueError(f"a quiet-time hold is named quiet.<source>, not {name!r}")
        until_t = INF if until is None else until - self.session.wall_offset
        if until_t <= now:
            self.release(name, now)
            return
        self.session.engine.hold(name, None if until_t == INF else until_t, now)
        fresh = name not in self._holds
        self._holds[name] = _Hold(name, self._wall(now), until_t)
        if fresh:
            log.info("%s: holding cues back%s", name,
                     "" if until is None else f" for {format_duration(until_t - now)}")

    def release(self, name: str, now: float) -> None:
        """A quiet-time source lifts its hold (no-op if it holds nothing)."""
        if name in PERSON_HOLDS:
            raise ValueError(f"{name!r} is the person's: resume lifts it")
        if self._holds.pop(name, None) is not None:
            self.session.engine.release(name, now)
            log.info("%s: over", name)

    def holds(self, now: float) -> tuple[HoldView, ...]:
        """Every hold in force, by name."""
        return tuple(self._view(h) for h in sorted(self._holds.values(), key=lambda h: h.name) if h.until_t > now)

    def _person_hold(self, kind: str, for_s: float | None, now: float) -> HoldResult:
        engine = self.session.engine
        until = INF if for_s is None else now + for_s
        prev = next((n for n in PERSON_HOLDS if n in self._holds), None)
        for other in PERSON_HOLDS:  # a later pause or snooze replaces the current one
            if other != kind and other in self._holds:
                engine.release(other, now)
                del self._holds[other]
        engine.hold(kind, None if until == INF else until, now)
        self._holds[kind] = _Hold(kind, self._wall(now), until)
        self._save_holds()
        due = tuple(p.cue for p in engine.pending())
        if until == INF:
            log.info("paused until `mmctl resume` (counting goes on)")
        else:
            log.info("%s for %s", "snoozed" if kind == "snooze" else "paused", format_duration(for_s or 0))
        return HoldResult(self._person_view(now), prev, tuple(sorted(due)))

    def _view(self, h: _Hold) -> HoldView:
        return HoldView(h.name, round(h.since, 3), None if h.until_t == INF else round(self._wall(h.until_t), 3))

    def _person_view(self, now: float) -> HoldView | None:
        for n in PERSON_HOLDS:
            h = self._holds.get(n)
            if h is not None and h.until_t > now:
                return self._view(h)
        return None

    # ---------------------------------------------------------------- done
    def done(
        self,
        cues: tuple[str, ...] | None = None,
        *,
        now: float,
        delivery_id: int | None = None,
        source: str = "cli",
    ) -> DoneResult:
        """Mark cues done: the last cue set (no cues), each named cue in the
        latest set that held it, or every cue of the set `delivery_id`.
        ServiceError("nothing") when no cue set fits."""
        from .core.confirm import NothingToMark

        confirm = self.session.confirm
        if confirm is None:
            raise ServiceError("nothing", "micromove keeps no database here: nothing to mark")
        try:
            if delivery_id is not None:
                marked = confirm.done_set(delivery_id, now)
            else:
                marked = confirm.done(list(cues) if cues is not None else None, now)
        except NothingToMark as exc:
            raise ServiceError("nothing", str(exc)) from None
        fresh = [c for _s, c, already in marked if not already]
        if fresh:
            log.info("marked done%s: %s", "" if source == "cli" else f" ({source})", ", ".join(fresh))
        self._write()
        return DoneResult(
            tuple(Marked(c, s.delivery_id, round(self._wall(s.t), 3), already) for s, c, already in marked),
            source,
        )

    # ---------------------------------------------------------------- status
    def status(self, now: float) -> Status:
        from . import __version__
        from .core import progression
        from .core.engine import TRIGGERS

        session = self.session
        engine = session.engine
        cfg = session.config
        wall = self._wall(now)
        w = self._wall

        stretches: dict[str, StretchView | None] = {}
        for trig in TRIGGERS:
            st = engine.stretch(trig)
            stretches[trig] = None if st is None else StretchView(
                round(w(st.start), 3), round(w(st.last), 3), round(st.length, 3)
            )
        last_input = engine.last_input
        last_delivery = engine.last_delivery
        hold_until = engine.held_until
        gap_end = max(
            (last_delivery + cfg.min_gap_s) if last_delivery is not None else -INF,
            hold_until if hold_until is not None else -INF,
        )
        pause_at = (last_input + cfg.pause_min_s) if last_input is not None else None
        due = []
        for p in sorted(engine.pending(), key=lambda p: (p.due_at, p.cue)):
            not_before = max(p.due_at, gap_end)
            if not_before == INF:
                latest = None
            elif not_before > p.due_at:
                latest = not_before + cfg.max_defer_s
            else:
                latest = p.cap_at
            due.append(DueView(p.cue, p.trigger, _t(w, p.due_at), _t(w, not_before), _t(w, latest)))
        cues_cfg = cfg.cues
        upcoming = tuple(
            UpcomingView(cid, cues_cfg[cid].trigger if cid in cues_cfg else None, _t(w, t))
            for t, cid in engine.upcoming()
        )
        start = session.progression_start
        today = local_date(wall)
        prog = ProgressionView(
            cfg.progression_enabled,
            start.isoformat() if start is not None else None,
            progression.week_number(start, today) if start is not None else None,
            tuple(session.active_regions(wall)),
        )
        last_set = None
        confirm = session.confirm
        if confirm is not None and confirm.recent:
            s = confirm.recent[-1]
            delivered = False if s.failed else (None if s.delivery_id in self.info.in_flight else True)
            last_set = LastSetView(s.delivery_id, round(w(s.t), 3), tuple(s.cues), delivered,
                                   tuple(sorted(s.done)), s.likely)
        # Write what is pending so the database figures a caller adds are current.
        with contextlib.suppress(Exception):
            session.flush()
        nd = self.reminder.next_due()
        info = self.info
        return Status(
            pid=info.pid,
            version=__version__,
            since=round(self.started_wall, 3),
            now=round(wall, 3),
            backend=info.backend,
            input_quality=info.quality,
            config=str(cfg.source),
            db=str(info.db) if info.db is not None else None,
            socket=str(info.socket) if info.socket is not None else None,
            idle_s=round(now - last_input, 3) if last_input is not None else None,
            stretches=stretches,
            due=tuple(due),
            next_pause=_t(w, pause_at) if due and pause_at is not None else None,
            upcoming=upcoming,
            hold=self._person_view(now),
            holds=self.holds(now),
            progression=prog,
            last_set=last_set,
            reminder_enabled=self.reminder.enabled,
            reminder_next=round(nd, 3) if nd is not None else None,
            settings={
                "pause_min_s": cfg.pause_min_s,
                "max_defer_s": cfg.max_defer_s,
                "break_s": cfg.break_s,
                "min_gap_s": cfg.min_gap_s,
            },
        )

    # ---------------------------------------------------------------- persistence
    def _save_holds(self) -> None:
        kept = {
            n: (h.since, None if h.until_t == INF else self._wall(h.until_t))
            for n, h in self._holds.items()
            if n in PERSON_HOLDS
        }
        try:
            self.store.set_state(HOLD_KEY, encode_holds(kept) if kept else "")
        except Exception as exc:  # noqa: BLE001
            log.warning("cannot keep the pause in the database: %s", exc)
        self._write()

    def _write(self) -> None:
        """Write at once what a request changed (a crash right after must not undo it)."""
        try:
            self.store.flush()
        except Exception as exc:  # noqa: BLE001 - kept in memory; the loop retries
            log.warning("%s", exc)

    def _restore_holds(self, now: float) -> None:
        try:
            raw = self.store.get_state(HOLD_KEY)
        except Exception as exc:  # noqa: BLE001
            log.warning("cannot read the pause state: %s", exc)
            return
        if not raw:
            return
        try:
            saved = decode_holds(raw)
        except ValueError:
            log.warning("pause state %r in the database is not understood; ignoring it", raw[:80])
            return
        wall = self._wall(now)
        for kind, (since, until) in saved.items():
            if kind not in PERSON_HOLDS or (until is not None and until <= wall):
                continue
            until_t = INF if until is None else until - self.session.wall_offset
            self.session.engine.hold(kind, None if until is None else until_t, now)
            self._holds[kind] = _Hold(kind, since, until_t)
            when = "until `mmctl resume`" if until is None else f"for {format_duration(until - wall)} more"
            log.info("still %s (since %s) %s", "snoozed" if kind == "snooze" else "paused",
                     time.strftime("%Y-%m-%d %H:%M", time.localtime(since)), when)

    # ---------------------------------------------------------------- reminder
    def _quiet(self, now: float) -> bool:
        engine = self.session.engine
        if any(h.until_t > now for h in self._holds.values()) or engine.pending():
            return False
        last = engine.last_delivery
        return last is None or now - last >= 60.0

    def _reminder_pause(self, now: float) -> float | None:
        """Engine time of the natural pause the reminder waits for, if it is due."""
        if not self.reminder.due(self._wall(now)) or not self._quiet(now):
            return None
        engine = self.session.engine
        last = engine.last_input
        if last is None or engine.stretch("active") is None:
            return None  # nobody at the desk: wait for input
        return float(last + self.session.config.pause_min_s)

    def _reminder(self, now: float) -> None:
        r = self.reminder
        wall = self._wall(now)
        r.take_result(wall)
        at = self._reminder_pause(now)
        if at is None or now < at:
            return
        r.maybe_send(wall, at_pause=True, quiet=self._quiet(now))


def _t(w: Callable[[float], float], t: float | None) -> float | None:
    if t is None or t == INF or t == -INF:
        return None
    return round(float(w(t)), 3)


# ====================================================================== the kept holds
def _number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def encode_holds(holds: dict[str, tuple[float, float | None]]) -> str:
    """Holds to keep (name -> (since, until), wall times; until None: until
    released) -> the value of the state key control.hold."""
    return json.dumps({"holds": {n: {"since": s, "until": u} for n, (s, u) in holds.items()}})


def decode_holds(raw: str) -> dict[str, tuple[float, float | None]]:
    """The value of control.hold -> name -> (since, until); ValueError if damaged.

    Reads the named form {"holds": {name: {"since", "until"}}} and the older
    single-hold form {"kind": "pause"|"snooze", "since", "until"}.
    """
    try:
        v = json.loads(raw)
        if isinstance(v, dict) and "holds" in v:
            items = v["holds"]
            if not isinstance(items, dict):
                raise ValueError(raw)
            pairs = [(n, h["since"], h["until"]) for n, h in items.items()]
        else:
            pairs = [(v["kind"], v["since"], v["until"])]
        out: dict[str, tuple[float, float | None]] = {}
        for name, since, until in pairs:
            if not isinstance(name, str) or not _number(since) or not (until is None or _number(until)):
                raise ValueError(raw)
            if name not in PERSON_HOLDS and not (name.startswith(QUIET_PREFIX) and name != QUIET_PREFIX):
                raise ValueError(raw)
            out[name] = (float(since), None if until is None else float(until))
        return out
    except (KeyError, TypeError, AttributeError, IndexError) as exc:
        raise ValueError(raw) from exc
