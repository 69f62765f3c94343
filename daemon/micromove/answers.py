"""Answers given on a cue notification, taken on the daemon's main thread.

The notifier (adapters/notify_dbus.py) hears the buttons on its own reader
thread and hands each answer to `Answers.put`, which only queues it in the
daemon's inbox (inbox.py), waking the loop; the loop runs it between two
passes on the main thread, the only one that touches the engine and the store:

- `done` (the Done button): every cue of that set counts as done, source
  "button" (the same confirmations as `mmctl done`, which records "cli");
- `snooze`: the same hold as `mmctl snooze`, for `notify.snooze_min` minutes;
- `default` (a click on the body): not a done; logged, nothing recorded;
- any other key: ignored with one log line;
- NotificationClosed reason 2 (the person dismissed it): recorded as
  dismissed, never as done; reasons 1 (expired) and 3 (closed by micromove)
  are neither.

Each answer runs as a call of the service (service.py): `done` with the
set's delivery id and source "button", `snooze`, `dismissed`. The service
is attached by the wiring (commands/run.py `wire`); answers that arrive
before it, or where there is none, are logged and ignored.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

# The daemon (micromove.daemon.Daemon) is typed loosely here: it imports this module.
Daemon = Any

log = logging.getLogger("micromove")

MAX_QUEUED = 256  # answers waiting for the loop; beyond that they are dropped (and counted)


def _escape(text: str, limit: int = 40) -> str:
    out = text[:limit].encode("unicode_escape").decode("ascii")
    return out + ("..." if len(text) > limit else "")


# ---------------------------------------------------------------- the queue
class Answers:
    def __init__(self, daemon: Daemon) -> None:
        self.d = daemon
        self.service: Any = None  # micromove.service.Service, set by the wiring
        self._lock = threading.Lock()  # the notifier's thread adds, the loop takes
        self._pending = 0
        self.dropped = 0
        self.unknown_keys = 0
        sink = getattr(daemon.notifier, "set_answer_sink", None)
        self.buttons = bool(sink(self.put)) if sink is not None else False

    def put(self, answer: Any) -> None:
        """Any thread: hand an answer to the loop (through the daemon's inbox). Never blocks."""
        with self._lock:
            if self._pending >= MAX_QUEUED:
                self.dropped += 1
                return
            self._pending += 1
        self.d.inbox.submit(lambda now: self._run(answer, now))

    def submit(self, title: str, body: str, on_result: Any, delivery_id: int | None) -> None:
        """Send a cue set's notification, with Done and Snooze where the notifier can."""
        n = self.d.notifier
        submit_cue = getattr(n, "submit_cue", None)
        if submit_cue is None or delivery_id is None:
            n.submit(title, body, on_result)
            return
        from .adapters.notify_dbus import cue_actions

        submit_cue(title, body, on_result, delivery_id, cue_actions(self.d.session.config.snooze_min))

    def _run(self, answer: Any, now: float) -> None:
        """On the loop's thread."""
        with self._lock:
            self._pending -= 1
            dropped, self.dropped = self.dropped, 0
        if dropped:
            log.warning("%d notification answers dropped: more came in than micromove could take", dropped)
        try:
            self.handle(answer, now)
        except Exception as exc:  # noqa: BLE001 - an answer never stops the daemon
            log.warning("notification answer not handled: %s: %s", type(exc).__name__, exc)

    def handle(self, a: Any, now: float) -> None:
        from .service import ServiceError

        svc = self.service
        if svc is None:
            log.warning("a notification answer came before micromove was ready; ignored")
            return
        did = int(a.tag)
        if a.kind == "action":
            key = a.key
            if key == "done":
                try:
                    r = svc.done(now=now, delivery_id=did, source="button")
                except ServiceError as exc:
                    log.info("Done pressed: %s", exc)
                    return
                if all(m.already for m in r.marked):
                    log.info("Done pressed again: cue set %d was already marked done", did)
            elif key == "snooze":
                svc.snooze(self.d.session.config.snooze_min * 60.0, now)
            elif key == "default":
                log.info("cue notification clicked (not a Done: press Done, or `mmctl done`)")
            else:
                self.unknown_keys += 1
                if self.unknown_keys == 1:
                    log.warning("ignored an unknown notification action '%s' (further ones are not logged)",
                                _escape(str(key)))
        elif a.kind == "closed":
            if a.reason == 2:
                svc.dismissed(did, now)
            else:
                log.debug("cue notification %d closed (reason %d)", did, a.reason)
