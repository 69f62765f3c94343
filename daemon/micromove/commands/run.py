"""`mmctl run`: the daemon, in the foreground (contracts section 7).

What the service units start. Logs to stderr. Exit status: 0 after SIGTERM
or SIGINT (everything flushed); 1 when input cannot be watched (no display,
Wayland without a usable backend, missing permission) or stops being
watched, or the last data could not be written; 2 for a bad config or
database, or when micromove is already running for this user.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from typing import Any

from ._common import add_config_arg, add_db_arg, db_file, load_config


def configure(p: argparse.ArgumentParser, name: str) -> None:
    add_config_arg(p)
    add_db_arg(p)
    p.add_argument("-v", "--verbose", action="store_true", help="log debugging detail too")


def _load(args: argparse.Namespace) -> Any:
    return load_config(args.config)[0]


def _make_notifier(cfg: Any) -> Any:
    from ..adapters.notify import AsyncNotifier

    return AsyncNotifier(timeout_s=cfg.notify_timeout_s)


def _thread_excepthook(log: Any) -> Any:
    from ..logsetup import describe_exception

    def hook(a: threading.ExceptHookArgs) -> None:
        # One line, never a traceback: an input library's exception may carry
        # a key or a position in its message, so describe_exception decides.
        name = a.thread.name if a.thread is not None else "?"
        what = describe_exception(a.exc_value) if a.exc_value is not None else a.exc_type.__name__
        log.error("thread %s ended: %s", name, what)

    return hook


def wire(daemon: Any, store: Any, notifier: Any, socket_path: Any, quality: str | None = None) -> Any:
    """The one wiring point of the service: it gets its ports (the session
    with its engine, the store, the notifier, the clock) and runs as one of
    the loop's hooks; the control socket's endpoint (when `socket_path` is
    given) hands it the requests through the daemon's inbox."""
    from ..control.server import ControlEndpoint
    from ..report import readmodel
    from ..service import DaemonInfo, Service

    db = getattr(store, "path", None)
    service = Service(
        daemon.session,
        store,
        notifier,
        daemon.clock,
        wake=daemon.waker.wake,
        info=DaemonInfo(
            backend=getattr(daemon.source, "name", "?"),
            quality=quality,
            db=db,
            socket=socket_path,
            in_flight=daemon.in_flight,
        ),
        last_checkin=(lambda: readmodel.last_checkin_time(db)) if db is not None else (lambda: None),
    )
    daemon.add_hook(service)
    if socket_path is not None:
        daemon.add_hook(ControlEndpoint(socket_path, service, daemon.inbox, today=readmodel.today_figures))
    return service


def run(args: argparse.Namespace) -> int:
    from .. import __version__, logsetup, paths
    from ..adapters.inputs import InputError
    from ..adapters.inputs.registry import choose
    from ..daemon import AlreadyRunning, Daemon, Waker, acquire_lock, release_lock
    from ..errors import StoreError, UsageError

    log = logsetup.setup(args.verbose)
    cfg = _load(args)  # ConfigError: the CLI prints every error line, exit 2
    db = db_file(args.db)
    lock = paths.lock_path()
    try:
        lock_fd = acquire_lock(lock)
    except AlreadyRunning as exc:
        raise UsageError(str(exc)) from None
    threading.excepthook = _thread_excepthook(log)
    store = None
    try:
        log.info("micromove %s starting (pid %d)", __version__, os.getpid())
        log.info("config: %s", cfg.source)
        log.info("database: %s", db)
        try:
            backend = choose(cfg.input_backend)
            source = backend.create(os.environ, sys.platform)
        except InputError as exc:
            log.error("cannot watch input: %s", exc)
            return 1
        log.info("input backend: %s (input.backend: %s)", source.name, cfg.input_backend)

        from ..adapters.store import Store

        store = Store.open(db)  # StoreError: one line, exit 2
        notifier = _make_notifier(cfg)
        waker = Waker()
        daemon = Daemon(
            cfg,
            store=store,
            source=source,
            notifier=notifier,
            waker=waker,
            reload=lambda: _load(args),
        )
        wire(daemon, store, notifier, paths.socket_path(), quality=backend.quality)
        signal.set_wakeup_fd(waker.w, warn_on_full_buffer=False)
        signal.signal(signal.SIGTERM, lambda *_: daemon.request_stop("SIGTERM"))
        signal.signal(signal.SIGINT, lambda *_: daemon.request_stop("SIGINT"))
        signal.signal(signal.SIGHUP, lambda *_: daemon.request_reload())
        try:
            daemon.start()
        except InputError as exc:
            log.error("cannot watch input: %s", exc)
            return 1
        rc = daemon.run()
        close = getattr(notifier, "close", None)
        if close is not None:
            try:
                close()
            except Exception as exc:  # noqa: BLE001
                log.warning("closing the notifier: %s", exc)
        try:
            store.close()
            store = None
        except StoreError as exc:
            log.error("%s", exc)
            rc = rc or 1
        log.info("stopped")
        sys.stderr.flush()
        return rc
    finally:
        if store is not None:
            try:
                store.close()
            except StoreError as exc:
                log.error("%s", exc)
        release_lock(lock_fd, lock)
