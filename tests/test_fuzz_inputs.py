"""Bad input everywhere: Hypothesis against the trace parser and the config loader (issue 8, fault 6).

(The control-socket protocol is fuzzed in tests/test_control_fuzz.py.)

- Trace parser (trace.py): any bytes give either the events or a TraceError
  naming `FILE:LINE` — never another exception. For JSON-shaped lines the
  error names exactly the first line a reference reading of contracts
  section 1 rejects, and everything parsed obeys the contract.
- Config loader (config.from_text / config.load): any text, any bytes and
  any YAML-shaped document give a Config or a ConfigError whose every line
  is `FILE:LINE: ...` with a line inside the file — never a traceback, and
  never a hang (YAML aliases that expand exponentially).
- Through the CLI: a few such inputs as a person meets them: exit 2, one
  `FILE:LINE: ...` line per error on stderr, no traceback.

Inputs that broke these before the fixes: a JSON line nested 100,000 deep
(RecursionError), YAML nested 1,000 deep (RecursionError), `!!float x` and
a 5,000-digit integer as a value (ValueError), a "billion laughs" alias
chain as a value (hung in the error message).
"""

from __future__ import annotations

import io
import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from _mmctl import mmctl
from micromove import config
from micromove.core import catalog, trace
from micromove.errors import ConfigError, TraceError

SRC = "fuzz.src"
FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

DEEP_JSON = b"[" * 100_000
DEEP_YAML = "pause:\n  min_s: " + "[" * 1_000
LAUGHS = "".join(
    f"{n}: &{n} [{', '.join([f'*{p}'] * 9) if p else ', '.join(['lol'] * 9)}]\n"
    for p, n in zip([""] + list("abcdefgh"), "abcdefghi", strict=True)
) + "pause: {min_s: *i}\n"


# ------------------------------------------------------------------ the trace parser
def parse(data: bytes) -> list[trace.Event]:
    """As trace.read does: a binary file's lines."""
    return list(trace.parse_lines(io.BytesIO(data), SRC))


def check_trace(data: bytes) -> list[trace.Event] | TraceError:
    n_lines = len(io.BytesIO(data).readlines())
    try:
        events = parse(data)
    except TraceError as exc:
        assert exc.source == SRC and exc.line is not None and 1 <= exc.line <= n_lines, exc
        assert str(exc).startswith(f"{SRC}:{exc.line}: ") and "\n" not in str(exc)
        return exc
    last = -math.inf
    for e in events:
        assert math.isfinite(e.t) and e.t >= last and e.kind in trace.KINDS
        assert e.px is None or (math.isfinite(e.px) and e.px >= 0)
        last = e.t
    return events


@FUZZ
@given(st.binary(max_size=300))
@example(DEEP_JSON)
@example(b'{"t": 0, "kind": "key"}\n' + b"{" * 50_000)
@example(b'{"t": 1' + b"0" * 5000 + b', "kind": "key"}')
@example(b"\xff\xfe{\x00}\x00")
@example(b'{"t": 0, "kind": "key"}\r\n\x00\n')
def test_any_bytes_are_events_or_a_trace_error_naming_the_line(data: bytes) -> None:
    check_trace(data)


def reference_first_bad_line(lines: list[str]) -> int | None:
    """Contracts section 1, read independently: the first invalid line's number."""
    last = -math.inf

    def number(v: Any) -> bool:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return False
        try:
            return math.isfinite(v)
        except OverflowError:
            return False

    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line.encode())  # bytes, as the parser reads them
        except (ValueError, RecursionError):
            return n
        if not isinstance(obj, dict) or not number(obj.get("t")) or obj["t"] < last:
            return n
        last = obj["t"]
        if obj.get("kind") not in ("key", "move", "click", "scroll"):
            return n
        if "px" in obj and not (number(obj["px"]) and obj["px"] >= 0):
            return n
    return None


JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["key", "move", "click", "scroll", "Key", "release", "", "t"]),
    st.text(max_size=5),
)
JSON_VALUE = st.recursive(JSON_LEAF, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=3), c, max_size=3), max_leaves=6)
EVENTISH = st.fixed_dictionaries(
    {},
    optional={
        "t": st.one_of(st.floats(min_value=0, max_value=1e6), JSON_VALUE),
        "kind": st.one_of(st.sampled_from(["key", "move", "click", "scroll"]), JSON_VALUE),
        "px": st.one_of(st.floats(min_value=0, max_value=1e4), JSON_VALUE),
        "x": JSON_VALUE,
    },
)
LINE = st.one_of(
    EVENTISH.map(json.dumps),
    JSON_VALUE.map(json.dumps),
    st.sampled_from(["", "   ", "{", "}", '{"t": 1, "kind": "key"} x', "NaN", "[]"]),
    st.text(max_size=20),
)


@FUZZ
@given(st.lists(LINE, max_size=12))
def test_json_shaped_traces_fail_exactly_at_the_first_line_the_contract_rejects(lines: list[str]) -> None:
    lines = [line.replace("\n", " ").replace("\r", " ") for line in lines]
    data = "".join(line + "\n" for line in lines).encode()
    got = check_trace(data)
    expected = reference_first_bad_line(lines)
    if expected is None:
        assert not isinstance(got, TraceError), got
        assert len(got) == sum(1 for line in lines if line.strip())
    else:
        assert isinstance(got, TraceError) and got.line == expected, (got, expected)


# ------------------------------------------------------------------ the config loader
LOCATED = re.compile(r"^(?P<src>.+?):(?P<line>\d+): \S")
YAML_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")  # YAML's line breaks


def yaml_lines(text: str) -> int:
    return len(YAML_BREAK.split(text))


def check_config(text: str, source: str = SRC) -> config.Config | ConfigError:
    n_lines = yaml_lines(text)
    try:
        cfg = config.from_text(text, source)
    except ConfigError as exc:
        assert exc.errors, "an empty ConfigError"
        for line in exc.errors:
            m = LOCATED.match(line)
            assert m and m.group("src") == source, line
            assert 1 <= int(m.group("line")) <= n_lines, (line, n_lines)
            assert "\n" not in line and len(line) < 400, line
        return exc
    assert 0 < cfg.pause_min_s < cfg.break_s and cfg.max_defer_s > 0 and cfg.min_gap_s >= 0
    assert 0 < cfg.notify_timeout_s <= 3 and cfg.input_backend in config.backends()
    assert all(s.every_min > 0 and s.trigger in ("typing", "mouse", "active") for s in cfg.cues.values())
    return cfg


SCHEMA_KEYS = {
    "pause": ["min_s", "max_defer_s", "min"],
    "activity": ["break_s"],
    "notify": ["min_gap_s", "timeout_s"],
    "progression": ["enabled"],
    "input": ["backend"],
    "checkin": ["reminder"],
    "paws": ["min_s"],
}
YAML_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-5, max_value=10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["auto", "x11", "evdev", "typing", "mouse", "active", "yes", "3", "1e400", "0x10"]),
    st.text(max_size=6),
)
YAML_VALUE = st.recursive(YAML_LEAF, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=4), c, max_size=2), max_leaves=5)


@st.composite
def yamlish_documents(draw: st.DrawFn) -> str:
    doc: dict[str, Any] = {}
    for section in draw(st.lists(st.sampled_from(sorted(SCHEMA_KEYS)), max_size=4, unique=True)):
        keys = draw(st.lists(st.sampled_from(SCHEMA_KEYS[section]), max_size=3, unique=True))
        doc[section] = {k: draw(YAML_VALUE) for k in keys} if draw(st.booleans()) else draw(YAML_VALUE)
    if draw(st.booleans()):
        ids = draw(st.lists(st.sampled_from([*catalog.IDS, "hands.wrist_pulze"]), max_size=3, unique=True))
        doc["cues"] = {
            cid: {
                k: draw(YAML_VALUE)
                for k in draw(st.lists(st.sampled_from(["enabled", "every_min", "trigger", "every"]), max_size=3, unique=True))
            }
            for cid in ids
        }
    text = yaml.safe_dump(doc, default_flow_style=draw(st.sampled_from([None, True, False])), allow_unicode=True)
    # Then damage it a little, the way hand-editing does.
    for _ in range(draw(st.integers(0, 2))):
        pos = draw(st.integers(0, len(text)))
        junk = draw(st.sampled_from(["\t", ": ", "- ", "&a ", "*a", "!!float ", "{", "]", "\n  ", "#", "'", "\x00", "%YAML 1.1\n"]))
        text = text[:pos] + junk + text[pos:]
    return text


@settings(FUZZ, max_examples=200)
@given(yamlish_documents())
@example(DEEP_YAML)
@example(LAUGHS)
@example("pause: {min_s: !!float x}")
@example("pause: {min_s: " + "9" * 5000 + "}")
@example("pause: {min_s: &r [*r]}")
@example("cues:\n  hands.wrist_pulse:\n    every_min: !!binary '%%%'\n")
@example("? [a, b]\n: 1\n")
@example("pause: {min_s: 5}\nactivity: {break_s: 5}\n")
def test_any_yaml_shaped_document_is_a_config_or_located_errors(text: str) -> None:
    first = check_config(text)
    again = check_config(text)
    if isinstance(first, ConfigError):
        assert isinstance(again, ConfigError) and again.errors == first.errors
    else:
        assert again == first


@FUZZ
@given(st.text(max_size=300))
def test_any_text_is_a_config_or_located_errors(text: str) -> None:
    check_config(text)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=200))
@example(b"pause:\n  min_s: 3\n\xff\xfe\n")
def test_any_file_bytes_are_a_config_or_located_errors(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("cfg") / "config.yaml"
    path.write_bytes(data)
    try:
        config.load(path)
    except ConfigError as exc:
        try:
            n_lines = yaml_lines(data.decode("utf-8"))
        except UnicodeDecodeError:
            n_lines = data.count(b"\n") + 1
        for line in exc.errors:
            m = LOCATED.match(line)
            assert m and m.group("src") == str(path), line
            assert 1 <= int(m.group("line")) <= n_lines, (line, n_lines)


# ------------------------------------------------------------------ through the CLI
def assert_located_exit_2(proc: Any, path: Path) -> list[str]:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert lines and all(re.match(rf"^{re.escape(str(path))}:\d+: \S", line) for line in lines), proc.stderr
    return lines


@pytest.mark.parametrize(
    "data",
    [DEEP_JSON, b'{"t": 0, "kind": "key"}\n{"t": 1' + b"0" * 5000 + b', "kind": "key"}\n', b"\xff\xfe\x00{"],
    ids=["deep-nesting", "huge-integer", "not-utf8"],
)
def test_bad_traces_through_mmctl_simulate(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(data)
    (line,) = assert_located_exit_2(mmctl("simulate", path), path)
    assert "Traceback" not in line


@pytest.mark.parametrize(
    ("text", "errors"),
    [
        (DEEP_YAML, 1),
        (LAUGHS, 10),
        ("pause: {min_s: !!float x, max_defer_s: " + "9" * 5000 + "}\nnotify: {timeout_s: 9}\n", 3),
        ("pause:\n  min_s: 3\n\tmax_defer_s: 1\n", 1),
    ],
    ids=["deep-nesting", "billion-laughs", "unreadable-values", "tab"],
)
@pytest.mark.parametrize("command", ["simulate", "run", "config"])
def test_bad_configs_through_the_cli(tmp_path: Path, text: str, errors: int, command: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    trace_file = tmp_path / "t.jsonl"
    trace_file.write_text('{"t": 0, "kind": "key"}\n', encoding="utf-8")
    args = {
        "simulate": ["simulate", trace_file, "--config", path],
        "run": ["run", "--config", path],
        "config": ["config", "check", path],
    }[command]
    # `run` reads its config before it looks for a display: none is needed here.
    # The time limit is a hang detector (the billion laughs took 50 s to print
    # before the fix); it takes well under a second.
    proc = mmctl(*args, timeout=30, env={"DISPLAY": ""})
    lines = assert_located_exit_2(proc, path)
    assert len(lines) == errors, proc.stderr
