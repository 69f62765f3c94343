"""Randomness never decides CI (issue 11 item 1).

Under CI=true the property tests run derandomized (the same examples on every
run), with no example database (what an earlier run left cannot change what
this one tries) and no timing-based failure; a failing example prints the
`@reproduce_failure(...)` line that replays it. Locally they stay random, with
the example database. Checked on a real Hypothesis run in a fresh interpreter
that loads tests/conftest.py, as pytest does.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent

PROBE = """
import json, sys
sys.path.insert(0, {tests!r})
import conftest  # noqa: F401  (chooses the profile, as pytest's import of it does)
from hypothesis import given, settings, strategies as st

seen = []

@settings(max_examples=50)  # a test's own settings keep the profile's other choices
@given(st.lists(st.integers(), max_size=5), st.text(max_size=5))
def explore(xs, s):
    seen.append([xs, s])

explore()

@given(st.integers())
def fails(x):
    assert x < 1000

notes = []
try:
    fails()
except AssertionError as exc:
    notes = getattr(exc, "__notes__", [])
d = settings.default
print(json.dumps({{"derandomize": d.derandomize, "database": repr(d.database), "deadline": repr(d.deadline),
                  "seen": seen, "notes": notes}}))
"""


def probe(tmp_path: Path, **env: str) -> dict[str, object]:
    script = tmp_path / "probe.py"
    script.write_text(PROBE.format(tests=str(TESTS)))
    full = {k: v for k, v in os.environ.items() if k not in ("CI", "HYPOTHESIS_PROFILE")}
    full.update(env)
    # A fresh folder each run: a local .hypothesis/ must not leak in either way.
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=full,
                         cwd=tmp_path, timeout=120, check=True)  # fmt: skip
    result = json.loads(out.stdout.splitlines()[-1])
    assert isinstance(result, dict)
    return result


def test_under_ci_the_examples_are_the_same_on_every_run(tmp_path: Path) -> None:
    first = probe(tmp_path, CI="true")
    second = probe(tmp_path, CI="true")
    assert first["derandomize"] is True and first["database"] == "None" and first["deadline"] == "None"
    assert first["seen"] == second["seen"] and len(first["seen"]) == 50  # type: ignore[arg-type]
    assert not (tmp_path / ".hypothesis" / "examples").exists()  # no examples saved for a later run to read


def test_a_failing_example_prints_its_reproduction(tmp_path: Path) -> None:
    for env in ({"CI": "true"}, {}):
        notes = " ".join(probe(tmp_path, **env)["notes"])  # type: ignore[arg-type]
        assert "x=1000" in notes and re.search(r"@reproduce_failure\('[\d.]+', b'", notes), (env, notes)


def test_locally_the_examples_vary_and_failures_are_remembered(tmp_path: Path) -> None:
    first = probe(tmp_path)
    second = probe(tmp_path)
    assert first["derandomize"] is False and "DirectoryBasedExampleDatabase" in str(first["database"])
    assert first["seen"] != second["seen"]
    assert (tmp_path / ".hypothesis" / "examples").is_dir()
    assert probe(tmp_path, HYPOTHESIS_PROFILE="ci")["derandomize"] is True  # CI's examples, by hand


def test_no_property_test_opts_out_of_the_ci_profile() -> None:
    # A test's own settings win over the profile: none may bring randomness,
    # a database or true randomness back.
    bad = re.compile(r"derandomize\s*=\s*False|database\s*=\s*(?!None)\w|use_true_random\s*=\s*True")
    offenders = [
        f"{p.name}:{n}"
        for p in sorted(TESTS.glob("*.py"))
        if p.name != Path(__file__).name
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if bad.search(line)
    ]
    assert offenders == []
