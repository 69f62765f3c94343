#!/usr/bin/env python3
"""Generate the sample working day: a trace (docs/trace-format.md) that
`mmctl simulate` can replay on any machine, with or without a display.

    python3 tools/make_sample_day.py            # writes daemon/micromove/data/sample-day.jsonl
    python3 tools/make_sample_day.py -o - | head

The day is generated, not recorded, and deterministic: the same seed gives
the same bytes (only random(), uniform() and friends that need no libm
transcendental functions are used, so the output does not depend on the
platform's math library). t=0 is the start of the working day (09:00 with
`mmctl simulate`'s default --start); the last event comes at about 17:30.

What it holds, roughly as a person's day at a desk goes:
  09:00  email: reading (scrolling), clicking, typing replies
  09:35  focused coding: typing bursts with thinking pauses, some mousing
  10:40  coffee break (no input)
  10:52  a meeting: sparse notes and clicks, long quiet gaps
  11:45  coding again
  12:30  lunch, about 45 minutes (no input)
  13:15  design work: long mouse sessions, drags, a few shortcuts
  14:30  reading documentation: scrolling, small moves, quiet stretches
  15:15  coffee break
  15:27  coding
  16:55  wrap-up email

Typing: keys 0.06-0.6 s apart (mostly 0.1-0.3 s), a space between words,
sentence pauses of 1-5 s, thinking pauses of 10-60 s. Mouse: moves every
40-100 ms while the pointer travels (each with its distance in px; one line
per event, nothing coalesced), then a click, a double click, a drag or a
run of scroll steps.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

SEED = 20260302
DEFAULT_OUT = (
    Path(__file__).resolve().parent.parent / "daemon" / "micromove" / "data" / "sample-day.jsonl"
)

MIN = 60.0


class Day:
    """Appends events in time order; each activity returns the time it ends."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.events: list[tuple[float, str, int | None]] = []

    # ------------------------------------------------------------ primitives
    def add(self, t: float, kind: str, px: int | None = None) -> None:
        self.events.append((t, kind, px))

    def key_gap(self) -> float:
        # Mostly 0.1-0.3 s, now and then a slower key (up to 0.6 s).
        r = self.rng
        if r.random() < 0.08:
            return r.uniform(0.3, 0.6)
        return r.triangular(0.06, 0.4, 0.16)

    def word(self, t: float) -> float:
        r = self.rng
        for _ in range(r.choice((1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 7, 8, 9, 10))):
            self.add(t, "key")
            t += self.key_gap()
        if r.random() < 0.06:  # a typo and its correction
            for _ in range(r.randint(1, 3)):
                self.add(t, "key")
                t += r.uniform(0.08, 0.2)
        self.add(t, "key")  # space
        return t + r.triangular(0.1, 0.45, 0.2)

    def sentence(self, t: float) -> float:
        r = self.rng
        for _ in range(r.randint(5, 18)):
            t = self.word(t)
        self.add(t, "key")  # full stop or Enter
        return t + r.uniform(1.0, 5.0)  # sentence pause

    def paragraph(self, t: float, sentences: tuple[int, int] = (1, 4)) -> float:
        for _ in range(self.rng.randint(*sentences)):
            t = self.sentence(t)
        return t

    def think(self, t: float) -> float:
        return t + self.rng.uniform(10.0, 60.0)

    def travel(self, t: float, short: bool = False) -> float:
        """The pointer travels somewhere: moves 40-100 ms apart."""
        r = self.rng
        n = r.randint(3, 10) if short else r.randint(6, 30)
        for i in range(n):
            # Fast in the middle of the gesture, slow at its ends.
            mid = 1.0 - abs(2.0 * i / max(1, n - 1) - 1.0)
            self.add(t, "move", max(1, round(r.uniform(2, 8) + mid * r.uniform(10, 55))))
            t += r.uniform(0.04, 0.1)
        return t

    def click(self, t: float) -> float:
        r = self.rng
        self.add(t, "click")
        if r.random() < 0.15:  # double click
            t += r.uniform(0.1, 0.25)
            self.add(t, "click")
        return t + r.uniform(0.2, 0.8)

    def scroll(self, t: float) -> float:
        r = self.rng
        for _ in range(r.randint(2, 12)):
            self.add(t, "scroll")
            t += r.uniform(0.04, 0.15)
        return t + r.uniform(0.3, 1.5)

    def drag(self, t: float) -> float:
        self.add(t, "click")
        t = self.travel(t + self.rng.uniform(0.1, 0.3))
        return t + self.rng.uniform(0.2, 0.6)

    def gesture(self, t: float) -> float:
        """One use of the mouse: travel, then click, scroll or drag."""
        r = self.rng
        t = self.travel(t)
        x = r.random()
        if x < 0.55:
            return self.click(t)
        if x < 0.8:
            return self.scroll(t)
        if x < 0.9:
            return self.drag(t)
        return t + r.uniform(0.2, 1.0)  # just moved

    def shortcut(self, t: float) -> float:
        for _ in range(self.rng.randint(1, 3)):
            self.add(t, "key")
            t += self.rng.uniform(0.05, 0.15)
        return t + self.rng.uniform(0.3, 1.0)

    # ------------------------------------------------------------ activities
    def email(self, t: float, end: float) -> float:
        r = self.rng
        while t < end:
            t = self.gesture(t)  # open a message
            for _ in range(r.randint(1, 4)):  # read it
                t += r.uniform(3.0, 25.0)
                t = self.scroll(t)
            if r.random() < 0.6:  # reply
                t = self.think(t) if r.random() < 0.3 else t + r.uniform(1.0, 5.0)
                t = self.paragraph(t, (1, 5))
                t = self.gesture(t)  # send
            t += r.uniform(2.0, 15.0)
        return t

    def coding(self, t: float, end: float) -> float:
        r = self.rng
        while t < end:
            t = self.paragraph(t, (1, 3))
            x = r.random()
            if x < 0.35:
                t = self.think(t)
            elif x < 0.55:  # reach for the mouse: jump somewhere, select, scroll
                t += r.uniform(0.5, 2.0)
                for _ in range(r.randint(1, 4)):
                    t = self.gesture(t)
                t += r.uniform(0.5, 2.0)
            elif x < 0.7:
                t = self.shortcut(t)
            else:
                t += r.uniform(2.0, 9.0)
        return t

    def meeting(self, t: float, end: float) -> float:
        r = self.rng
        while t < end:
            t += r.uniform(40.0, 360.0)  # listening; some gaps end every stretch
            if r.random() < 0.6:  # a note
                for _ in range(r.randint(3, 12)):
                    t = self.word(t)
            else:  # the shared screen needs a click
                t = self.gesture(t)
        return t

    def design(self, t: float, end: float) -> float:
        r = self.rng
        while t < end:
            for _ in range(r.randint(3, 15)):
                t = self.gesture(t)
                t += r.uniform(0.2, 3.0)
            x = r.random()
            if x < 0.3:
                t = self.shortcut(t)
            elif x < 0.45:  # name a layer
                for _ in range(r.randint(1, 3)):
                    t = self.word(t)
            elif x < 0.75:
                t += r.uniform(4.0, 40.0)  # looking at it
        return t

    def reading(self, t: float, end: float) -> float:
        r = self.rng
        while t < end:
            t += r.uniform(5.0, 150.0)  # reading a screenful
            if r.random() < 0.8:
                t = self.scroll(t)
            else:
                t = self.travel(t, short=True)
                t = self.click(t)
        return t

    # ------------------------------------------------------------ the day
    def build(self) -> list[tuple[float, str, int | None]]:
        r = self.rng
        t = 0.0
        t = self.email(t, 35 * MIN + r.uniform(-3, 3) * MIN)
        t = self.coding(t + r.uniform(5, 40), 100 * MIN)  # until about 10:40
        t += r.uniform(10, 14) * MIN  # coffee
        t = self.meeting(t, t + r.uniform(45, 55) * MIN)
        t = self.coding(t + r.uniform(60, 180), 210 * MIN)  # until about 12:30
        t += r.uniform(43, 48) * MIN  # lunch
        t = self.design(t, t + r.uniform(70, 78) * MIN)
        t = self.reading(t + r.uniform(20, 90), t + 45 * MIN)
        t += r.uniform(9, 13) * MIN  # coffee
        t = self.coding(t, 475 * MIN)  # until about 16:55
        self.email(t + r.uniform(10, 60), 505 * MIN)  # until about 17:25
        return self.events


def render(events: list[tuple[float, str, int | None]]) -> str:
    out = []
    for t, kind, px in events:
        if px is None:
            out.append(f'{{"t": {t:.3f}, "kind": "{kind}"}}\n')
        else:
            out.append(f'{{"t": {t:.3f}, "kind": "{kind}", "px": {px}}}\n')
    return "".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Generate the sample working day trace.")
    ap.add_argument("-o", "--output", default=str(DEFAULT_OUT), help="file to write ('-': stdout)")
    ap.add_argument("--seed", type=int, default=SEED, help=f"random seed (default {SEED})")
    args = ap.parse_args(argv)
    events = Day(args.seed).build()
    text = render(events)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        out = Path(args.output)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8", newline="\n")
        kinds: dict[str, int] = {}
        for _, kind, _ in events:
            kinds[kind] = kinds.get(kind, 0) + 1
        summary = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
        print(
            f"wrote {out}: {len(events)} events ({summary}), {len(text)} bytes, "
            f"last at t={events[-1][0]:.0f} s",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
