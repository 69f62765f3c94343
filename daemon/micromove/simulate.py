"""Offline replay: a trace through the very engine the daemon runs, on a virtual clock.

No sleeping: time is the trace's own. With a database, the session writes
through the same store code as the daemon, times taken from the virtual clock,
so `mmctl stats` reads a simulated day exactly like a real one.
"""

from __future__ import annotations

from collections.abc import Sequence

from .config import Config
from .core.engine import Delivery
from .core.session import Delivered, Session
from .core.trace import ANSWERS, Event


def simulate(events: Sequence[Event], config: Config, *, start: float, db: str | None = None) -> list[Delivery]:
    """Run `events` (validated, in time order); return the cue sets delivered.

    `start` is the UTC epoch time of the trace's t=0.
    """
    delivered: list[Delivery] = []
    store = None
    if db is not None:
        from .adapters.store import Store

        store = Store.open(db)
    try:
        session = Session(
            config,
            wall_offset=start,
            store=store,
            deliver=lambda d: delivered.append(d.delivery),
            assume_delivered=True,  # the simulated person sees every cue set
        )
        session.start(events[0].t if events else 0.0)
        feed = session.input
        for ev in events:
            if ev.kind in ANSWERS:
                session.answer(ev.t, ev.kind)  # no set before it yet: nothing to answer
                continue
            feed(ev.t, ev.kind, ev.px)
        session.finish()
        if store is not None:
            session.flush()
    finally:
        if store is not None:
            store.close()
    return delivered


__all__ = ["simulate", "Delivered"]
