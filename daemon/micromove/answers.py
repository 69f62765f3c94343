"""Answers given on a cue notification, taken on the daemon's main thread.

The notifier (adapters/notify_dbus.py) hears the buttons on its own reader
thread and hands each answer to `Answers.put`, which only queues it and wakes
the loop (the Waker); `take` then runs on the main thread, the only one that
touches the engine and the store:

- `done` (the Done button): every cue of that set counts as done, source
  "button" (the same confirmations as `mmctl done`, which records "cli");
- `snooze`: the same hold as `mmctl snooze`, for `notify.snooze_min` minutes;
- `default` (a click on the body): not a done; logged, nothing recorded;
- any other key: ignored with one log line;
- NotificationClosed reason 2 (the person dismissed it): recorded as
  dismissed, never as done; reasons 1 (expired) and 3 (closed by micromove)
  are neither.

`mark_done` and `snooze` are the two service calls a button makes; they are
kept here, small, so that they can be pointed at the daemon's service layer.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any

# The daemon (micromove.daemon.Daemon) is typed loosely here: it imports this module.
Daemon = Any

log = logging.getLogger("micromove")

MAX_QUEUED = 256  # answers waiting for the loop; beyond that they are dropped (and counted)


def _escape(text: str, limit: int = 40) -> str:
    out = text[:limit].encode("unicode_escape").decode("ascii")
    return out + ("..." if len(text) > limit else "")


# ---------------------------------------------------------------- the service calls
def mark_done(d: Daemon, delivery_id: int, now: float, source: str = "button") -> list[str]:
    """Every cue of the set `delivery_id` done (as `mmctl done`); the cues newly marked."""
    from .core.confirm import NothingToMark

    confirm = d.session.confirm
    if confirm is None:
        log.info("Done pressed, but micromove keeps no database here: nothing to mark")
        return []
    try:
        marked = confirm.done_set(delivery_id, now, source)
    except NothingToMark as exc:
        log.info("Done pressed: %s", exc)
        return []
    fresh = [c for _s, c, already in marked if not already]
    if fresh:
        log.info("marked done (Done on the notification): %s", ", ".join(fresh))
    else:
        log.info("Done pressed again: cue set %d was already marked done", delivery_id)
    _write(d)
    return fresh


def snooze(d: Daemon, for_s: float, now: float, source: str = "button") -> None:
    """Hold cues for `for_s` seconds, as `mmctl snooze`."""
    control = d.control
    if control is not None:
        control.set_hold("snooze", for_s, now)  # logs, keeps it in the database
        return
    d.session.engine.hold(now + for_s)
    log.info("snoozed for %g min", for_s / 60.0)


def _write(d: Daemon) -> None:
    try:
        d.store.flush()
    except Exception as exc:  # noqa: BLE001 - kept in memory; the loop retries
        log.warning("%s", exc)


# ---------------------------------------------------------------- the queue
class Answers:
    def __init__(self, daemon: Daemon) -> None:
        self.d = daemon
        self._q: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._lock = threading.Lock()  # `dropped` (the notifier's thread adds, the loop reads)
        self.dropped = 0
        self.unknown_keys = 0
        sink = getattr(daemon.notifier, "set_answer_sink", None)
        self.buttons = bool(sink(self.put)) if sink is not None else False

    def put(self, answer: Any) -> None:
        """Any thread: queue an answer and wake the loop. Never blocks."""
        if self._q.qsize() >= MAX_QUEUED:
            with self._lock:
                self.dropped += 1
            return
        self._q.put(answer)
        self.d.waker.wake()

    def submit(self, title: str, body: str, on_result: Any, delivery_id: int | None) -> None:
        """Send a cue set's notification, with Done and Snooze where the notifier can."""
        n = self.d.notifier
        submit_cue = getattr(n, "submit_cue", None)
        if submit_cue is None or delivery_id is None:
            n.submit(title, body, on_result)
            return
        from .adapters.notify_dbus import cue_actions

        submit_cue(title, body, on_result, delivery_id, cue_actions(self.d.session.config.snooze_min))

    def take(self, now: float) -> None:
        """Main thread, each pass: act on what was answered."""
        while True:
            try:
                a = self._q.get_nowait()
            except queue.Empty:
                break
            try:
                self.handle(a, now)
            except Exception as exc:  # noqa: BLE001 - an answer never stops the daemon
                log.warning("notification answer not handled: %s: %s", type(exc).__name__, exc)
        with self._lock:
            dropped, self.dropped = self.dropped, 0
        if dropped:
            log.warning("%d notification answers dropped: more came in than micromove could take", dropped)

    def handle(self, a: Any, now: float) -> None:
        did = int(a.tag)
        if a.kind == "action":
            key = a.key
            if key == "done":
                mark_done(self.d, did, now, "button")
            elif key == "snooze":
                snooze(self.d, self.d.session.config.snooze_min * 60.0, now, "button")
            elif key == "default":
                log.info("cue notification clicked (not a Done: press Done, or `mmctl done`)")
            else:
                self.unknown_keys += 1
                if self.unknown_keys == 1:
                    log.warning("ignored an unknown notification action '%s' (further ones are not logged)",
                                _escape(str(key)))
        elif a.kind == "closed":
            if a.reason == 2:
                confirm = self.d.session.confirm
                s = confirm.dismissed(did, now) if confirm is not None else None
                if s is not None:
                    log.info("cue notification dismissed (not a done): %s", ", ".join(s.cues))
            else:
                log.debug("cue notification %d closed (reason %d)", did, a.reason)
