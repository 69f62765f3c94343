"""Time faults end to end: the daemon's loop on a virtual clock, a real Store, `mmctl stats` (issue 8, fault 5).

The daemon (micromove.daemon.Daemon, with the real Session, Engine, ClockWatch
and Store) runs on a controllable clock: engine time (the boot clock), wall
time (engine time + an offset that a clock change moves) and the awake clock
(which stops while the machine sleeps). Input comes through the real Tap at
scripted engine times; the notifier answers at once. What the daemon wrote is
then read back by `mmctl stats --json` in a subprocess, with TZ set.

- DST: on 2026-03-29 (23 hours) and 2026-10-25 (25 hours) in Europe/Berlin,
  typing without a break from 22:00 the evening before to 02:00 the morning
  after is split at each local midnight: 2 h, 23 h (or 25 h), 2 h, with the
  exact key counts of each local day.
- Midnight rollover on an ordinary day: the same split (the evening before
  each DST day).
- Clock set back or forward by an hour in the middle of typing: one stretch,
  as long as the typing really was (never a negative or doubled length), the
  counts all there; the next stretch is placed on the new clock.
- Suspend and resume (boot clock and wall clock jump, awake clock does not):
  the sleep is a break, not activity; no minute of the sleep has counts;
  the cue set that fell due while asleep is recorded as not shown.
(Helper A's tests/test_daemon_unit.py has the loop's own suspend/rebase logs.)
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from _mmctl import mmctl
from fakes import START, FakeClock, FakeSource, local_time_zone
from micromove import config as config_mod
from micromove.adapters.store import Store
from micromove.config import Config
from micromove.core import catalog
from micromove.daemon import Daemon

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture(autouse=True)
def berlin() -> Iterator[None]:
    with local_time_zone("Europe/Berlin"):
        yield


def local(iso: str) -> float:
    return datetime.fromisoformat(iso).replace(tzinfo=BERLIN).timestamp()


class Waker:
    """The loop's sleep on the virtual clock: runs scripted actions at their engine times."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.script: list[tuple[float, int, Callable[[], None]]] = []
        self.flag = False
        self.stop: Callable[[], None] = lambda: None

    def at(self, t: float, fn: Callable[[], None]) -> None:
        self.script.append((t, len(self.script), fn))

    def wake(self) -> None:
        self.flag = True

    def wait(self, timeout: float | None) -> bool:
        if self.flag:
            self.flag = False
            return True
        limit = math.inf if timeout is None else self.clock.t + timeout
        if self.script:
            self.script.sort()
            t, _n, fn = self.script[0]
            if t <= limit:
                self.script.pop(0)
                self.clock.t = max(self.clock.t, t)
                fn()
                self.flag = False
                return True
        if math.isinf(limit):
            self.stop()  # nothing scripted, nothing due: the end
            return True
        self.clock.t = limit
        return False

    def sleep(self, seconds: float) -> None:  # batch_s is 0: never called
        self.clock.t += seconds

    def close(self) -> None:
        pass


class Notifier:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def submit(self, title: str, body: str, on_result: Callable[..., None]) -> None:
        self.sent.append(title)
        on_result(True, None)


def config(break_s: float = 120) -> Config:
    lines = [f"activity: {{break_s: {break_s}}}", "progression: {enabled: false}", "cues:"]
    for cid in catalog.IDS:
        lines.append(f"  {cid}: {{enabled: {str(cid == 'hands.wrist_pulse').lower()}}}")
    return config_mod.from_text("\n".join(lines) + "\n", "time-test.yaml")


class Run:
    def __init__(self, tmp: Path, wall_at_start: float, cfg: Config | None = None) -> None:
        self.clock = FakeClock(START, wall_at_start - START)
        self.waker = Waker(self.clock)
        self.notifier = Notifier()
        self.db = tmp / "micromove.db"
        self.store = Store.open(self.db)
        self.daemon = Daemon(
            cfg or config(),
            store=self.store,
            source=FakeSource(),
            notifier=self.notifier,
            clock=self.clock,
            waker=self.waker,  # type: ignore[arg-type]
            batch_s=0.0,
            flush_s=600.0,
        )
        self.waker.stop = lambda: self.daemon.request_stop("end of script")
        self.keys: list[float] = []  # wall time of each key as the daemon's clock had it

    def key_at(self, t: float) -> None:
        def press() -> None:
            self.keys.append(self.clock.wall())
            self.daemon.tap.key()

        self.waker.at(t, press)

    def typing(self, t0: float, t1: float, every: float) -> None:
        n = int(round((t1 - t0) / every))
        for i in range(n + 1):
            self.key_at(t0 + i * every)

    def at(self, t: float, fn: Callable[[], None]) -> None:
        def act() -> None:
            fn()
            self.waker.wake()

        self.waker.at(t, act)

    def run(self) -> None:
        self.daemon.start()
        assert self.daemon.run() == 0
        self.store.close()

    def stats(self, *args: str) -> dict:  # type: ignore[type-arg]
        proc = mmctl("stats", "--json", "--db", self.db, *args, env={"TZ": "Europe/Berlin"})
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)  # type: ignore[no-any-return]

    def rows(self, sql: str) -> list[tuple[object, ...]]:
        conn = sqlite3.connect(self.db)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()


def by_date(rep: dict) -> dict:  # type: ignore[type-arg]
    return {d["date"]: d for d in rep["days"]}


def keys_per_local_day(walls: list[float]) -> dict[str, int]:
    out: dict[str, int] = {}
    for w in walls:
        d = datetime.fromtimestamp(w, BERLIN).date().isoformat()
        out[d] = out.get(d, 0) + 1
    return out


# ------------------------------------------------------------------ DST and midnight
@pytest.mark.parametrize(
    ("before", "day", "after", "hours"),
    [("2026-03-28", "2026-03-29", "2026-03-30", 23), ("2026-10-24", "2026-10-25", "2026-10-26", 25)],
)
def test_typing_across_a_dst_day_is_split_at_each_local_midnight(
    tmp_path: Path, before: str, day: str, after: str, hours: int
) -> None:
    t0 = local(f"{before}T22:00:00")
    t_end = local(f"{after}T02:00:00")
    r = Run(tmp_path, t0)
    span = t_end - t0
    assert span == (hours + 4) * 3600
    r.typing(START, START + span, every=60.0)  # one key a minute: never a break
    r.run()
    days = by_date(r.stats())
    assert sorted(days) == [before, day, after]
    assert [days[d]["typing_s"] for d in (before, day, after)] == [7200, hours * 3600, 7200]
    assert [days[d]["active_s"] for d in (before, day, after)] == [7200, hours * 3600, 7200]
    assert {d: days[d]["keys"] for d in days} == keys_per_local_day(r.keys)
    assert [days[d]["keys"] for d in (before, day, after)] == [120, hours * 60, 121]
    # The longest stretch belongs, whole, to the day it began.
    assert days[before]["longest_typing_stretch_s"] == span
    assert days[day]["longest_typing_stretch_s"] == 0


# ------------------------------------------------------------------ clock set
@pytest.mark.parametrize("jump", [-3600.0, +3600.0, -86400.0])
def test_a_clock_set_in_the_middle_of_typing_gives_one_true_length_stretch(
    tmp_path: Path, jump: float
) -> None:
    t0 = local("2026-05-04T10:00:00")
    r = Run(tmp_path, t0)
    r.typing(START, START + 1800, every=10.0)  # 30 min of typing
    r.at(START + 905, lambda: setattr(r.clock, "offset", r.clock.offset + jump))
    # After a break, a second stretch: placed on the new clock.
    r.typing(START + 2400, START + 2520, every=10.0)
    r.run()
    stretches = r.rows("SELECT kind, start, end FROM stretches WHERE kind = 'typing' ORDER BY start")
    assert all(e >= s for _k, s, e in stretches), stretches  # type: ignore[operator]
    first = [s for s in stretches if s[1] == t0]
    assert len(stretches) == 2 and len(first) == 1, stretches
    assert first[0][2] == t0 + 1800  # its true length, on the clock it began with
    second = [s for s in stretches if s[1] != t0][0]
    assert second[1:] == (t0 + 2400 + jump, t0 + 2520 + jump)
    rep = r.stats()
    assert rep["totals"]["typing_s"] == 1800 + 120
    assert rep["totals"]["keys"] == len(r.keys) == 181 + 13
    assert sum(d["keys"] for d in rep["days"]) == len(r.keys)
    assert all(d[f] >= 0 for d in rep["days"] for f in ("typing_s", "active_s", "mouse_s"))


# ------------------------------------------------------------------ suspend
def test_a_suspend_is_a_break_not_activity(tmp_path: Path) -> None:
    t0 = local("2026-05-04T16:00:00")
    r = Run(tmp_path, t0)
    # Typing without a pause for 1250 s: the wrist pulse (every 20 min) is due
    # and waits for the natural pause, which would come 3 s after the last key.
    r.typing(START, START + 1250, every=1.0)

    def suspend() -> None:  # the lid closed for two hours, right after the last key
        r.clock.t += 7200.0
        r.clock.slept += 7200.0

    back = START + 1250.5 + 7200
    r.at(START + 1250.5, suspend)
    r.typing(back + 60, back + 660, every=10.0)
    r.run()
    rep = r.stats()
    assert rep["totals"]["typing_s"] == 1250 + 600
    assert rep["totals"]["active_s"] == 1250 + 600
    assert rep["totals"]["keys"] == len(r.keys) == 1251 + 61
    minutes = [m for (m,) in r.rows("SELECT minute FROM activity WHERE keys > 0")]
    asleep = range(int((t0 + 1251) // 60) + 1, int((t0 + 1250.5 + 7200) // 60))
    assert not [m for m in minutes if m in asleep]  # type: ignore[operator]
    # The cue set that fell due while asleep was recorded, not shown late.
    delivered = r.rows("SELECT delivered, error FROM deliveries ORDER BY id")
    assert delivered and delivered[0][0] == 0 and "asleep" in str(delivered[0][1]), delivered
