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
"""

from __future__ import annotations

import os
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


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if _ci() and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true (a skip is a failure in CI): {reason}"
