"""The project's own docs are what users need, and they are true (issue 11 items 4, 6, 10).

- Nothing a user reads (help texts, module docs, README, docs/) cites a
  document they do not have: no "contracts", no "section N", no shared/.
- The docs help texts point to exist, and every relative link resolves.
- docs/trace-format.md, docs/stats.md and docs/how-cues-are-timed.md show real
  commands with their real output: the examples run here, through `mmctl`.
- The README's commands table lists every command (the everyday controls
  too) and says what "likely done" is; the runtime folder used without
  XDG_RUNTIME_DIR is documented where people look, and is the one used.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from _mmctl import ROOT, mmctl, mmctl_command
from micromove import cli, paths
from micromove.report import stats

DOCS = ROOT / "docs"
PACKAGE = ROOT / "daemon" / "micromove"
FOREIGN = re.compile(r"contracts|\bsection \d|shared/|§", re.IGNORECASE)


def _user_facing_files() -> list[Path]:
    files = [ROOT / "README.md", *sorted(DOCS.glob("*.md")), *sorted((ROOT / "config").glob("*"))]
    files += [p for p in sorted(PACKAGE.rglob("*"))
              if p.is_file() and "__pycache__" not in p.parts and not p.name.startswith("LICENSE")]  # fmt: skip
    files += sorted((ROOT / "tools").glob("*.py")) + [ROOT / "install.sh", ROOT / "scripts" / "test"]
    files += [p for p in sorted((ROOT / "tests").glob("*.py")) if p.name != Path(__file__).name]
    return [p for p in files if p.is_file()]


def _help_texts() -> dict[str, str]:
    """Every command's --help (and `mmctl config ACTION --help`), as argparse prints it."""
    out = {"mmctl": cli.build_parser(None).format_help()}
    for name in cli.COMMANDS:
        parser = cli.build_parser(name)
        sub = next(a for a in parser._actions if a.dest == "command")
        p = sub.choices[name]  # type: ignore[attr-defined]
        out[f"mmctl {name}"] = p.format_help()
        for a in p._actions:
            if a.dest == "action":  # `config check|show|init`
                for action_name, ap in a.choices.items():  # type: ignore[union-attr]
                    out[f"mmctl {name} {action_name}"] = ap.format_help()
    return out


def test_nothing_cites_documents_users_do_not_have() -> None:
    hits = []
    for p in _user_facing_files():
        try:
            text = p.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        hits += [f"{p.relative_to(ROOT)}:{n}: {line.strip()}" for n, line in enumerate(text.splitlines(), 1)
                 if FOREIGN.search(line)]  # fmt: skip
    for prog, text in _help_texts().items():
        hits += [f"{prog} --help: {line.strip()}" for line in text.splitlines() if FOREIGN.search(line)]
    assert hits == []


def test_help_texts_point_to_docs_that_exist() -> None:
    helps = _help_texts()
    named = {m for text in helps.values() for m in re.findall(r"docs/[\w.-]+\.md", " ".join(text.split()))}
    assert {"docs/stats.md", "docs/trace-format.md", "docs/how-cues-are-timed.md"} <= named, named
    for p in _user_facing_files():
        if p.suffix in (".py", ".md"):
            named |= set(re.findall(r"docs/[\w-]+\.md", p.read_text(encoding="utf-8")))
    assert [n for n in sorted(named) if not (ROOT / n).is_file()] == []


def test_relative_links_resolve() -> None:
    broken = []
    for doc in [ROOT / "README.md", *DOCS.glob("*.md")]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", doc.read_text(encoding="utf-8")):
            if "://" not in target and not (doc.parent / target).exists():
                broken.append(f"{doc.relative_to(ROOT)} -> {target}")
    assert broken == []


# ---------------------------------------------------------------------- examples that run
def _console_examples(text: str) -> list[tuple[str, str]]:
    examples: list[tuple[str, str]] = []
    for block in re.findall(r"```console\n(.*?)```", text, flags=re.S):
        for chunk in re.split(r"^\$ ", block, flags=re.M)[1:]:
            command, _, output = chunk.partition("\n")
            examples.append((command, output))
    return examples


def _sh(command: str, cwd: Path) -> str:
    env = dict(os.environ)
    env["PATH"] = str(Path(mmctl_command()[0]).parent) + os.pathsep + env["PATH"]
    proc = subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.stdout + proc.stderr


def test_trace_format_examples_are_real(tmp_path: Path) -> None:
    examples = _console_examples((DOCS / "trace-format.md").read_text(encoding="utf-8"))
    ran = 0
    for command, expected in examples:
        m = re.fullmatch(r"cat (\S+)", command)
        if m:  # the file the next command reads
            (tmp_path / m.group(1)).write_text(expected, encoding="utf-8")
            continue
        assert _sh(command, tmp_path) == expected, command
        ran += 1
    assert ran >= 5


def _keys(a: float, b: float, step: float = 0.4) -> list[str]:
    out, t = [], a
    while t <= b + 1e-9:
        out.append(json.dumps({"t": round(t, 1), "kind": "key"}))
        t += step
    return out


def test_the_worked_example_of_how_cues_are_timed_is_real(tmp_path: Path) -> None:
    text = (DOCS / "how-cues-are-timed.md").read_text(encoding="utf-8")
    (config_block,) = re.findall(r"```yaml\n(.*?)```", text, flags=re.S)
    (tmp_path / "example.yaml").write_text(config_block)
    # "a key every 0.4 s from 0 to 70 s, again from 80 to 400 s, and again from 700 to 1300 s"
    assert "a key every 0.4 s from 0 to 70 s, again from 80 to 400 s, and\nagain from 700 to 1300 s" in text
    lines = _keys(0, 70) + _keys(80, 400) + _keys(700, 1300)
    (tmp_path / "example.jsonl").write_text("\n".join(lines) + "\n")
    ((command, expected),) = _console_examples(text)
    assert command == "mmctl simulate example.jsonl --config example.yaml"
    assert _sh(command, tmp_path) == expected


def test_the_stats_doc_shows_real_figures_and_every_field(tmp_path: Path) -> None:
    text = (DOCS / "stats.md").read_text(encoding="utf-8")
    for field in (*stats.FIELDS, "regions", "date"):
        assert f"| `{field}` |" in text, field
    day = ROOT / "daemon" / "micromove" / "data" / "sample-day.jsonl"
    sim = mmctl("simulate", day, "--start", "2026-03-02T09:00", "--db", tmp_path / "day.db")
    assert sim.returncode == 0, sim.stderr
    ((command, expected),) = _console_examples(text)
    assert _sh(command, tmp_path) == expected
    real = json.loads(_sh("mmctl stats --db day.db --json", tmp_path))["days"][0]
    start = text.index('{"days": [{"date"')
    shown = text[start:text.index('"totals"', start)]
    pairs = re.findall(r'"(\w+)": ([\d.]+)', shown)
    assert len(pairs) >= len(stats.FIELDS)
    assert all(real[k] == float(v) for k, v in pairs if k not in ("cues", "done", "likely", "dismissed", "ignored")), pairs


# ---------------------------------------------------------------------- README
def test_the_readme_lists_every_command_and_says_what_likely_done_is() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Commands"):readme.index("### Exit statuses")]
    listed = set(re.findall(r"^\| `mmctl (\w+)", table, flags=re.M))
    assert set(cli.COMMANDS) - {"uninstall"} <= listed, set(cli.COMMANDS) - listed
    assert "`mmctl uninstall" in table
    assert "**likely done**" in table and "0.6 times" in table
    session = [c for c, _ in _console_examples(table)]
    assert {"mmctl pause", "mmctl resume", "mmctl done", "mmctl snooze 15m"} <= set(session), session


def test_the_runtime_folder_without_xdg_runtime_dir_is_documented_and_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    assert paths.runtime_dir() == tmp_path / f"micromove-{os.getuid()}"
    monkeypatch.delenv("TMPDIR")
    assert paths.runtime_dir() == Path(f"/tmp/micromove-{os.getuid()}")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    files = readme[readme.index("## Files"):]
    assert "$TMPDIR/micromove-UID/" in files and "/tmp/micromove-1000/" in files
    for command in ("run", "status"):
        help_ = " ".join(mmctl(command, "--help").stdout.split())
        assert "where XDG_RUNTIME_DIR is not set" in help_ and "$TMPDIR/micromove-UID/" in help_, command
