"""Quiet hours: the pure ranges (core/quiet_hours), their config validation, and
`mmctl simulate` on its virtual local clock (the daemon runs the same session code)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from _mmctl import mmctl, one_error_line
from fakes import local_time_zone
from micromove import config as config_mod
from micromove.core.engine import Delivery
from micromove.core.quiet_hours import QuietHours, parse_range
from micromove.core.session import Session
from micromove.errors import ConfigError

TZ = "Europe/Berlin"


def at(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


# ------------------------------------------------------------------ ranges
@pytest.mark.parametrize(
    ("text", "start", "end"),
    [("22:00-07:00", 1320, 420), ("9:05-10:00", 545, 600), ("00:00-24:00", 0, 1440), ("12:30 - 13:30", 750, 810)],
)
def test_ranges_parse(text: str, start: int, end: int) -> None:
    r = parse_range(text)
    assert (r.start_min, r.end_min) == (start, end)


@pytest.mark.parametrize("text", ["22-07", "25:00-07:00", "10:60-11:00", "10:00-10:00", "24:00-01:00", "x", "10:00-24:30"])
def test_bad_ranges_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_range(text)


def test_inside_and_until_past_midnight() -> None:
    with local_time_zone(TZ):
        q = QuietHours.parse(["22:00-07:00"])
        assert q.until(at("2026-03-02T21:59:59")) is None
        assert q.until(at("2026-03-02T22:00")) == at("2026-03-03T07:00")
        assert q.until(at("2026-03-03T06:59")) == at("2026-03-03T07:00")
        assert q.until(at("2026-03-03T07:00")) is None  # the end is excluded
        assert q.next_start(at("2026-03-03T07:00")) == at("2026-03-03T22:00")


def test_overlapping_ranges_join() -> None:
    with local_time_zone(TZ):
        q = QuietHours.parse(["12:00-13:00", "12:30-14:00", "14:00-14:15"])
        assert q.until(at("2026-03-02T12:10")) == at("2026-03-02T14:15")
        assert q.next_start(at("2026-03-02T11:00")) == at("2026-03-02T12:00")


def test_dst_night_keeps_clock_times() -> None:
    with local_time_zone(TZ):  # 2026-03-29: 02:00 -> 03:00
        q = QuietHours.parse(["01:00-04:00"])
        start, end = at("2026-03-29T01:00"), q.until(at("2026-03-29T01:30"))
        assert end == at("2026-03-29T04:00")
        assert end - start == 2 * 3600  # one hour fewer that night


# ------------------------------------------------------------------ config
def test_config_hours_and_switches() -> None:
    cfg = config_mod.from_text('quiet:\n  lock: false\n  hours: ["22:00-07:00", "12:30-13:30"]\n', "c.yaml")
    assert cfg.quiet_hours == ("22:00-07:00", "12:30-13:30")
    assert not cfg.quiet_on("lock") and cfg.quiet_on("dnd")
    assert config_mod.DEFAULTS.quiet_hours == () and all(config_mod.DEFAULTS.quiet_on(n) for n in config_mod.QUIET_SOURCES)


@pytest.mark.parametrize(
    ("text", "line", "what"),
    [
        ('quiet:\n  hours:\n    - "22:00-07:00"\n    - "25:00-26:00"\n', 4, 'quiet.hours[2]: not a time of day'),
        ("quiet:\n  hours:\n    - 22:00-07:00x\n", 3, 'quiet.hours[1]: must be "HH:MM-HH:MM"'),
        ("quiet:\n  hours:\n    - 22:00\n", 3, 'quiet.hours[1]: must be "HH:MM-HH:MM", not 1320 (put the range in quotes'),
        ('quiet:\n  hours: "22:00-07:00"\n', 2, "quiet.hours: must be a list"),
        ("quiet:\n  lock: yes please\n", 2, "quiet.lock: must be true or false"),
        ("quiet:\n  hour: []\n", 2, "quiet.hour: unknown key (did you mean 'hours'?)"),
        ('quiet:\n  hours: ["10:00-10:00"]\n', 2, "quiet.hours[1]: starts and ends at the same time"),
    ],
)
def test_config_errors_name_file_and_line(text: str, line: int, what: str) -> None:
    with pytest.raises(ConfigError) as info:
        config_mod.from_text(text, "q.yaml")
    assert len(info.value.errors) == 1, info.value.errors
    assert info.value.errors[0].startswith(f"q.yaml:{line}: {what}"), info.value.errors


def test_config_check_command_reports_bad_hours(tmp_path: Path) -> None:
    f = tmp_path / "q.yaml"
    f.write_text('quiet:\n  hours: ["9:00-17:00", "17:00-99:00"]\n')
    proc = mmctl("config", "check", f)
    assert proc.returncode == 2
    line = one_error_line(proc)
    assert f"{f}:2: quiet.hours[2]" in line


# ------------------------------------------------------------------ session (what simulate runs)
def short(hours: list[str]) -> config_mod.Config:
    from test_daemon_unit import short_config

    return short_config(f"quiet:\n  hours: {json.dumps(hours)}\n")


def run_session(cfg: config_mod.Config, start_wall: float, events: list[tuple[float, str]], end: float) -> list[Delivery]:
    out: list[Delivery] = []
    s = Session(cfg, wall_offset=start_wall, deliver=lambda d: out.append(d.delivery))
    s.start(0.0)
    for t, k in events:
        s.input(t, k)
    s.advance(end)
    return out


def test_cue_held_in_quiet_hours_goes_out_at_first_pause_after() -> None:
    with local_time_zone(TZ):
        w0 = at("2026-03-02T11:59:00")  # quiet 12:00-12:01 is engine time [60, 120)
        # Wrist pulse every 3 s of typing; pause_min 1 s, max_defer 30 s, break 20 s.
        events = [(i * 0.5, "key") for i in range(261)]  # typing 0..130 s without a pause
        got = run_session(short(["12:00-12:01"]), w0, events, 200.0)
        assert not [d for d in got if 60.0 <= d.t < 120.0]
        # Before 12:00 there is no natural pause: the cap sends it (due at 3 s, cap 33 s).
        assert got[0].t == 33.0 and got[0].reason == "max_defer"
        # Due again at 36 s; its cap at 66 s falls in the quiet hours: held, not sent,
        # and the cap does not break through; after 12:01 it goes out at the first
        # natural pause (130 + 1 s) rather than at a cap (120 + 30 s).
        after = [d for d in got if d.t >= 120.0]
        assert [(d.t, d.reason) for d in after][:1] == [(131.0, "pause")]


def test_max_defer_does_not_break_through_quiet_hours() -> None:
    with local_time_zone(TZ):
        w0 = at("2026-03-02T12:00:00")
        events = [(i * 0.5, "key") for i in range(0, 400)]  # continuous typing for 200 s, no pause
        got = run_session(short(["12:00-12:02"]), w0, events, 400.0)
        assert got, "the held cue must go out after the quiet hours"
        assert min(d.t for d in got) >= 120.0
        first = got[0]
        # Due since 12:02 (hold end), no pause while typing: its cap is 30 s after 12:02.
        assert first.t == 150.0 and first.reason == "max_defer"


def test_simulate_applies_quiet_hours_on_its_virtual_clock(tmp_path: Path) -> None:
    trace = tmp_path / "t.jsonl"
    # Typing 0..80 s without a pause; wrist pulse every 3 s of typing.
    lines = [{"t": i * 0.5, "kind": "key"} for i in range(161)]
    trace.write_text("".join(json.dumps(x) + "\n" for x in lines))
    cfg = tmp_path / "c.yaml"
    base = (
        "pause: {min_s: 1, max_defer_s: 30}\nactivity: {break_s: 15}\nnotify: {min_gap_s: 0}\n"
        "progression: {enabled: false}\ncues:\n"
    )
    from micromove.core import catalog

    for cid in catalog.IDS:
        base += f"  {cid}: {{enabled: {'true, every_min: 0.05, trigger: typing' if cid == 'hands.wrist_pulse' else 'false'}}}\n"
    loud = base
    quiet = base + 'quiet:\n  hours: ["09:00-09:01"]\n'
    cfg.write_text(loud)
    env = {"TZ": TZ}
    a = mmctl("simulate", trace, "--config", cfg, "--start", "2026-03-02T09:00", env=env)
    assert a.returncode == 0, a.stderr
    cfg.write_text(quiet)
    b = mmctl("simulate", trace, "--config", cfg, "--start", "2026-03-02T09:00", env=env)
    assert b.returncode == 0, b.stderr
    ta = [json.loads(x)["t"] for x in a.stdout.splitlines()]
    tb = [json.loads(x)["t"] for x in b.stdout.splitlines()]
    assert ta[0] == 33.0  # without quiet hours: by its cap in the first minute
    # With them: nothing before 09:01, then at the first natural pause (80 + 1 s).
    assert tb == [81.0], tb
    # Another start time of day: the same trace is outside the quiet hours.
    c = mmctl("simulate", trace, "--config", cfg, "--start", "2026-03-02T10:00", env=env)
    assert [json.loads(x)["t"] for x in c.stdout.splitlines()] == ta


# ------------------------------------------------------------------ property: against minute-by-minute
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_minute = st.integers(0, 1439)


@st.composite
def _ranges(draw: st.DrawFn) -> list[tuple[int, int]]:
    out = []
    for _ in range(draw(st.integers(1, 3))):
        a = draw(_minute)
        b = draw(st.integers(1, 1440).filter(lambda b, a=a: b % 1440 != a))
        out.append((a, b))
    return out


def _covered(ranges: list[tuple[int, int]], m: int) -> bool:
    """Is minute-of-day m inside a range (end excluded, past midnight when end <= start)?"""
    return any((a < b and a <= m < b) or (a >= b and (m >= a or m < b)) for a, b in ranges)


@settings(max_examples=200, deadline=None)
@given(ranges=_ranges(), m=_minute)
def test_until_agrees_with_minute_by_minute(ranges: list[tuple[int, int]], m: int) -> None:
    texts = [f"{a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}" for a, b in ranges]
    with local_time_zone("UTC"):
        q = QuietHours.parse(texts)
        day0 = at("2026-03-02T00:00")
        wall = day0 + m * 60
        end = q.until(wall)
        assert (end is not None) == _covered(ranges, m)
        if end is not None:
            k = int((end - day0) // 60)
            assert all(_covered(ranges, j % 1440) for j in range(m, k))  # quiet all along
            assert k - m >= 1440 or not _covered(ranges, k % 1440)  # and not just after
        else:
            nxt = q.next_start(wall)
            assert nxt is not None and nxt > wall
            k = int((nxt - day0) // 60)
            assert _covered(ranges, k % 1440) and not any(_covered(ranges, j % 1440) for j in range(m, k))
