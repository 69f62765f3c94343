"""Bad traces through `mmctl simulate`, as a person meets them (docs/trace-format.md).

Every invalid-line rule: exit 2, one line on stderr naming FILE:LINE, nothing
on stdout, no traceback, and with --db nothing written.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from _mmctl import mmctl, one_error_line

# A valid head long enough that the engine would deliver cues from it (25
# minutes of typing, a key every 0.5 s, ending in a natural pause), so a
# half-processed trace would print something.
HEAD = [json.dumps({"t": i * 0.5, "kind": "key"}) for i in range(3001)]
LAST_T = 1500.0

BAD_LINES = {
    "bad JSON": ('{"t": 1600, "kind": "key"', "JSON"),
    "trailing garbage": ('{"t": 1600, "kind": "key"} x', "JSON"),
    "not JSON at all": ("key pressed", "JSON"),
    "an array": ('[1600, "key"]', "object"),
    "a string": ('"key"', "object"),
    "a number": ("1600", "object"),
    "null": ("null", "object"),
    "missing t": ('{"kind": "key"}', '"t"'),
    "t a string": ('{"t": "1600", "kind": "key"}', '"t"'),
    "t true": ('{"t": true, "kind": "key"}', '"t"'),
    "t false": ('{"t": false, "kind": "key"}', '"t"'),
    "t null": ('{"t": null, "kind": "key"}', '"t"'),
    "t a list": ('{"t": [1600], "kind": "key"}', '"t"'),
    "t NaN": ('{"t": NaN, "kind": "key"}', '"t"'),
    "t Infinity": ('{"t": Infinity, "kind": "key"}', '"t"'),
    "time backwards": ('{"t": 1499.5, "kind": "key"}', "backwards"),
    "missing kind": ('{"t": 1600}', '"kind"'),
    "kind a number": ('{"t": 1600, "kind": 1}', '"kind"'),
    "kind null": ('{"t": 1600, "kind": null}', '"kind"'),
    "kind a list": ('{"t": 1600, "kind": ["key"]}', '"kind"'),
    "kind unknown": ('{"t": 1600, "kind": "release"}', '"kind"'),
    "kind wrong case": ('{"t": 1600, "kind": "Key"}', '"kind"'),
    "px negative": ('{"t": 1600, "kind": "move", "px": -1}', '"px"'),
    "px a string": ('{"t": 1600, "kind": "move", "px": "14"}', '"px"'),
    "px true": ('{"t": 1600, "kind": "move", "px": true}', '"px"'),
    "px a list": ('{"t": 1600, "kind": "move", "px": [14]}', '"px"'),
    # The person's answers (done, dismiss) follow the same rules, and carry no px.
    "done without t": ('{"kind": "done"}', '"t"'),
    "dismiss without t": ('{"kind": "dismiss"}', '"t"'),
    "done t a string": ('{"t": "1600", "kind": "done"}', '"t"'),
    "dismiss t true": ('{"t": true, "kind": "dismiss"}', '"t"'),
    "done backwards": ('{"t": 1499, "kind": "done"}', "backwards"),
    "done with px": ('{"t": 1600, "kind": "done", "px": 3}', '"px"'),
    "kind Done": ('{"t": 1600, "kind": "Done"}', '"kind"'),
    "kind dismissed": ('{"t": 1600, "kind": "dismissed"}', '"kind"'),
}


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_the_valid_head_alone_delivers(tmp_path: Path) -> None:
    # Guards the tests below: without the bad line, the same trace prints cues.
    proc = mmctl("simulate", write(tmp_path / "ok.jsonl", HEAD))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip(), "the valid head should deliver at least one cue"


@pytest.mark.parametrize("case", sorted(BAD_LINES))
def test_bad_line_at_the_end_is_named_and_nothing_is_done(tmp_path: Path, case: str) -> None:
    bad, word = BAD_LINES[case]
    trace = write(tmp_path / "day.jsonl", [*HEAD, bad, '{"t": 1700, "kind": "key"}'])
    db = tmp_path / "out.db"
    line = one_error_line(mmctl("simulate", trace, "--db", db))
    lineno = len(HEAD) + 1
    assert f"{trace}:{lineno}:" in line, line
    assert word in line, line
    assert not db.exists(), "a trace that fails must not create the database"
    assert not list(tmp_path.glob("out.db*")), "nor its -wal/-journal files"


@pytest.mark.parametrize("case", ["bad JSON", "t a string", "kind unknown", "px negative"])
def test_bad_first_line(tmp_path: Path, case: str) -> None:
    trace = write(tmp_path / "t.jsonl", [BAD_LINES[case][0].replace("1600", "0")])
    line = one_error_line(mmctl("simulate", trace))
    assert f"{trace}:1:" in line, line


def test_blank_lines_are_skipped_and_still_counted(tmp_path: Path) -> None:
    lines = ['{"t": 0, "kind": "key"}', "", "   ", "\t", '{"t": 1, "kind": "key"}']
    ok = mmctl("simulate", write(tmp_path / "ok.jsonl", lines))
    assert ok.returncode == 0 and ok.stderr == "", ok.stderr
    bad = write(tmp_path / "bad.jsonl", [*lines, "", '{"t": 0.5, "kind": "key"}'])
    line = one_error_line(mmctl("simulate", bad))
    assert f"{bad}:7:" in line, line


def test_blank_lines_give_the_same_cues(tmp_path: Path) -> None:
    spaced = [line for pair in zip(HEAD, [""] * len(HEAD), strict=True) for line in pair]
    a = mmctl("simulate", write(tmp_path / "a.jsonl", HEAD), "--start", "2026-03-02T09:00")
    b = mmctl("simulate", write(tmp_path / "b.jsonl", spaced), "--start", "2026-03-02T09:00")
    assert a.returncode == b.returncode == 0
    assert a.stdout == b.stdout != ""


def test_extra_fields_are_ignored_and_px_is_optional(tmp_path: Path) -> None:
    plain = []
    extra = []
    for i, line in enumerate(HEAD):
        obj = json.loads(line)
        if i % 3 == 0:
            obj["kind"] = "move"  # no px
        elif i % 3 == 1:
            obj = {"kind": "move", "px": 7.5, "t": obj["t"]}
        plain.append(json.dumps(obj))
        extra.append(json.dumps({**obj, "device": "usb-1", "seq": i, "note": None}))
    a = mmctl("simulate", write(tmp_path / "a.jsonl", plain), "--start", "2026-03-02T09:00")
    b = mmctl("simulate", write(tmp_path / "b.jsonl", extra), "--start", "2026-03-02T09:00")
    assert a.returncode == 0 and b.returncode == 0, (a.stderr, b.stderr)
    assert a.stdout == b.stdout != ""


def test_px_zero_and_fractional_are_valid(tmp_path: Path) -> None:
    trace = write(
        tmp_path / "t.jsonl",
        ['{"t": 0, "kind": "move", "px": 0}', '{"t": 0.5, "kind": "move", "px": 0.25}'],
    )
    proc = mmctl("simulate", trace)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr


def test_equal_times_are_not_backwards(tmp_path: Path) -> None:
    trace = write(tmp_path / "t.jsonl", ['{"t": 1, "kind": "key"}', '{"t": 1, "kind": "click"}'])
    proc = mmctl("simulate", trace)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr


def test_non_utf8_bytes_name_the_line(tmp_path: Path) -> None:
    trace = tmp_path / "latin1.jsonl"
    body = "".join(line + "\n" for line in HEAD).encode()
    trace.write_bytes(body + b'{"t": 1600, "kind": "key", "note": "caf\xe9"}\n')
    db = tmp_path / "x.db"
    line = one_error_line(mmctl("simulate", trace, "--db", db))
    assert f"{trace}:{len(HEAD) + 1}:" in line, line
    assert not db.exists()


def test_bad_line_on_stdin_names_stdin(tmp_path: Path) -> None:
    text = '{"t": 0, "kind": "key"}\n{"t": "x", "kind": "key"}\n'
    line = one_error_line(mmctl("simulate", "-", input=text))
    assert ":2:" in line and "stdin" in line, line


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    db = tmp_path / "x.db"
    line = one_error_line(mmctl("simulate", missing, "--db", db))
    assert str(missing) in line, line
    assert not db.exists()


def test_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "traces"
    folder.mkdir()
    line = one_error_line(mmctl("simulate", folder))
    assert str(folder) in line, line


def test_empty_trace_is_valid_and_delivers_nothing(tmp_path: Path) -> None:
    trace = tmp_path / "empty.jsonl"
    trace.write_text("")
    proc = mmctl("simulate", trace)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")


def test_bad_trace_leaves_an_existing_database_unchanged(tmp_path: Path) -> None:
    db = tmp_path / "day.db"
    good = write(tmp_path / "good.jsonl", HEAD)
    first = mmctl("simulate", good, "--db", db, "--start", "2026-03-02T09:00")
    assert first.returncode == 0, first.stderr
    assert db.exists()
    before = {p.name: p.read_bytes() for p in tmp_path.glob("day.db*")}
    bad = write(tmp_path / "bad.jsonl", [*HEAD, '{"t": 1, "kind": "key"}'])
    line = one_error_line(mmctl("simulate", bad, "--db", db, "--start", "2026-03-03T09:00"))
    assert f"{bad}:{len(HEAD) + 1}:" in line
    after = {p.name: p.read_bytes() for p in tmp_path.glob("day.db*")}
    assert after == before


def _outcome(line: str) -> object:
    from micromove.core.trace import parse_lines
    from micromove.errors import TraceError

    try:
        return list(parse_lines([line]))
    except TraceError as exc:
        return str(exc)


_VALUE = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["key", "move", "done", "dismiss", "x"]),
)  # fmt: skip


@given(
    obj=st.dictionaries(st.sampled_from(["t", "kind", "px", "z"]), _VALUE, max_size=4),
    tail=st.sampled_from(["", "\n", "\r\n", " \t\n", "x\n", "\u00a0\n", "}\n", ",\n", " {}\n"]),
    raw=st.text(max_size=12),
)
def test_the_fast_path_decides_every_line_as_the_full_decoder_does(obj: dict, tail: str, raw: str) -> None:
    """A line goes straight to the JSON scanner only when it starts with its
    value; a leading blank sends it through the full decoder. Both must say
    the same of any line: the same events, or the same error."""
    for line in (json.dumps(obj) + tail, raw, raw + "\n", "{" + raw):
        assert _outcome(line) == _outcome(" " + line), line
