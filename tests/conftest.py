"""Shared test set-up.

Every test runs with HOME and the XDG folders inside its own temporary
directory, so nothing touches the real user's files. Under CI=true a skipped
test is a failure: CI installs every tool the suite needs, so a skip there
means something is missing.

Hypothesis runs under one of two profiles, chosen here before any test module
is imported (so every `@settings(...)` in the tests inherits from it):
- "ci" (CI=true): derandomized, so the property tests try the same examples on
  every run and randomness never decides CI; no example database (nothing a
  previous run left behind can change what runs); a failure prints the
  `@reproduce_failure` blob that replays it.
- "dev" (otherwise): random, with the local example database (.hypothesis/,
  git-ignored) that replays earlier failures first, and the blob printed too.
HYPOTHESIS_PROFILE=ci|dev picks one by hand (e.g. to run CI's examples locally).

The suite runs in several processes at once (./scripts/test passes pytest-xdist's
`-n`). Everything a test starts is its own (Xvfb on a free display, private
buses, compositors in a private runtime folder) except what every process on
the machine sees: a test marked `machine_wide` (holding a video device open,
which any daemon's camera check sees) runs alone, with no other test of any
micromove test run on the machine running beside it (see _machine_wide).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings


def _ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


# Timing must not decide CI either (a loaded machine): no deadline, no too_slow check.
settings.register_profile(
    "ci", derandomize=True, database=None, print_blob=True, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if _ci() else "dev"))


@pytest.fixture(autouse=True)
def _private_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    run = home / "run"
    run.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(run))
    return home


_LOCKS = Path(tempfile.gettempdir()) / f"micromove-tests-{os.getuid()}"


@contextlib.contextmanager
def machine_lock(exclusive: bool) -> Iterator[None]:
    """Shared for an ordinary test, exclusive for a `machine_wide` one.

    Two flock(2) files: `gate` is taken first by every test and held by an
    exclusive one until it ends, so that once one waits no new test starts
    (a stream of shared holders cannot starve it); `main` is shared by
    running tests and taken whole by the exclusive one.
    """
    _LOCKS.mkdir(mode=0o700, exist_ok=True)
    with open(_LOCKS / "gate", "a") as gate, open(_LOCKS / "main", "a") as main:
        fcntl.flock(gate, fcntl.LOCK_EX)
        try:
            fcntl.flock(main, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        finally:
            if not exclusive:
                fcntl.flock(gate, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(main, fcntl.LOCK_UN)
            if exclusive:
                fcntl.flock(gate, fcntl.LOCK_UN)


@pytest.fixture(autouse=True)
def _machine_wide(request: pytest.FixtureRequest) -> Iterator[None]:
    if os.environ.get("MICROMOVE_TESTS_LOCKED"):  # a pytest run inside a test: the outer test holds it
        yield
        return
    with machine_lock(request.node.get_closest_marker("machine_wide") is not None):
        os.environ["MICROMOVE_TESTS_LOCKED"] = "1"
        try:
            yield
        finally:
            del os.environ["MICROMOVE_TESTS_LOCKED"]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if _ci() and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true (a skip is a failure in CI): {reason}"
