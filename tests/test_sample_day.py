"""The shipped sample day: generated deterministically, a valid trace, and what
`mmctl simulate` makes of it, including the exact commands and output that
docs/sample-day.md (and the README) show.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

from _mmctl import ROOT, SAMPLE_DAY, mmctl, mmctl_command
from micromove.core import catalog, trace

DOC = ROOT / "docs" / "sample-day.md"
SAMPLE_COMMAND = "mmctl simulate daemon/micromove/data/sample-day.jsonl"
REGION = {m.id: m.region for m in catalog.MOVEMENTS}
TRIGGER = {m.id: m.trigger for m in catalog.MOVEMENTS}


def run_sample(*args: str | Path) -> list[dict[str, object]]:
    proc = mmctl("simulate", SAMPLE_DAY, *args)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return [json.loads(line) for line in proc.stdout.splitlines()]


def test_generator_is_deterministic_and_matches_the_shipped_file(tmp_path: Path) -> None:
    out = tmp_path / "day.jsonl"
    subprocess.run(
        [sys.executable, str(ROOT / "tools" / "make_sample_day.py"), "-o", str(out)],
        check=True,
        capture_output=True,
    )
    assert out.read_bytes() == SAMPLE_DAY.read_bytes(), (
        "daemon/micromove/data/sample-day.jsonl is not what tools/make_sample_day.py "
        "generates: run `python3 tools/make_sample_day.py` and commit the result"
    )
    other = tmp_path / "other.jsonl"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "make_sample_day.py"),
            "-o",
            str(other),
            "--seed",
            "7",
        ],
        check=True,
        capture_output=True,
    )
    assert other.read_bytes() != out.read_bytes()


def test_sample_day_is_a_valid_working_day() -> None:
    assert SAMPLE_DAY.stat().st_size < 5_000_000
    events = trace.read(str(SAMPLE_DAY))
    kinds = Counter(e.kind for e in events)
    assert set(kinds) == {"key", "move", "click", "scroll"}
    assert kinds["key"] > 10_000 and kinds["move"] > 10_000
    assert events[0].t == 0.0
    assert 8 * 3600 <= events[-1].t <= 9 * 3600  # 09:00 to about 17:30
    assert all(e.px is not None and e.px >= 0 for e in events if e.kind == "move")
    gaps = sorted(b.t - a.t for a, b in zip(events, events[1:], strict=False))
    assert 40 * 60 <= gaps[-1] <= 50 * 60  # lunch
    assert sum(1 for g in gaps if g >= 8 * 60) >= 3  # lunch and two coffee breaks
    # Nothing but times, kinds and distances (the privacy rule: README "Privacy").
    with SAMPLE_DAY.open() as fh:
        for line in fh:
            assert set(json.loads(line)) <= {"t", "kind", "px"}


def test_sample_is_package_data() -> None:
    from importlib.resources import files

    assert files("micromove").joinpath("data", "sample-day.jsonl").is_file()


def test_default_config_first_week_hands_only() -> None:
    rows = run_sample()
    per_cue = Counter(str(r["cue"]) for r in rows)
    hands = {m.id for m in catalog.MOVEMENTS if m.region == "hands"}
    assert set(per_cue) == hands
    assert all(n >= 3 for n in per_cue.values()), per_cue
    times = [float(r["t"]) for r in rows]  # type: ignore[arg-type]
    assert times == sorted(times)
    distinct = sorted(set(times))
    assert all(b - a >= 300 for a, b in zip(distinct, distinct[1:], strict=False))
    for r in rows:
        assert r["trigger"] == TRIGGER[str(r["cue"])]
        assert 0 < float(r["stretch_s"]) <= float(r["t"])  # type: ignore[arg-type]


def test_progression_disabled_brings_every_region(tmp_path: Path) -> None:
    cfg = tmp_path / "all.yaml"
    cfg.write_text("progression:\n  enabled: false\n")
    rows = run_sample("--config", cfg)
    assert {REGION[str(r["cue"])] for r in rows} == set(catalog.REGIONS)
    assert len(rows) > len(run_sample())


def _doc_examples(text: str) -> list[tuple[str, str]]:
    """(command, expected output) for each `$ ` line of the doc's console blocks."""
    examples: list[tuple[str, str]] = []
    for block in re.findall(r"```console\n(.*?)```", text, flags=re.S):
        for chunk in re.split(r"^\$ ", block, flags=re.M)[1:]:
            command, _, output = chunk.partition("\n")
            examples.append((command, output))
    return examples


def _check_examples(examples: list[tuple[str, str]], where: str) -> None:
    env = dict(os.environ)
    env["PATH"] = str(Path(mmctl_command()[0]).parent) + os.pathsep + env["PATH"]
    for command, expected in examples:
        proc = subprocess.run(
            ["bash", "-c", f"set -o pipefail; {command}"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, (command, proc.stderr)
        assert proc.stdout == expected, f"{where} is out of date for: {command}"


def test_doc_shows_the_real_commands_and_output() -> None:
    examples = _doc_examples(DOC.read_text(encoding="utf-8"))
    assert len(examples) >= 3
    assert examples[0][0] == f"{SAMPLE_COMMAND} | head -n 5"
    _check_examples(examples, "docs/sample-day.md")


def test_readme_shows_the_sample_day_and_its_real_output() -> None:
    # Only the README's sample-day examples are run (not its install command).
    readme = ROOT / "README.md"
    assert readme.is_file(), "README.md is missing"
    examples = [
        (c, out)
        for c, out in _doc_examples(readme.read_text(encoding="utf-8"))
        if c.startswith(SAMPLE_COMMAND)
    ]
    assert examples, f"the README should show `{SAMPLE_COMMAND}` and its output in a console block"
    _check_examples(examples, "README.md")
