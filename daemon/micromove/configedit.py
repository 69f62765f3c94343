"""Change values in a person's config file, keeping their comments and layout.

`set_values(text, edits)` edits YAML text in place: a value that is there
is replaced where it stands (its line, its comment kept); a key that is
missing is added at the end of its section with the section's indentation;
a missing section is appended. Only block-style mappings are edited this
way; anything else (flow style `{...}`, anchors, a section that is not a
mapping) falls back to re-writing the whole file from its values, which
loses comments (`apply` says so).

`apply(path, edits)` reads the file (a missing one is created), edits it,
validates the result with `config.from_text` and checks every edited value
took effect, then replaces the file atomically (mode 0600, a new folder
0700). Nothing is written when validation fails.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

Edit = tuple[tuple[str, ...], Any]  # (("cues", "hands.wrist_pulse", "every_min"), 30)

HEADER = "# micromove config: only what differs from the defaults (`mmctl config show` lists all).\n"


class _Fallback(Exception):
    pass


def fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    import re

    return text if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", text) else '"' + text.replace('"', '\\"') + '"'


def _render(path: tuple[str, ...], value: Any, indent: int) -> str:
    lines = [" " * (indent + 2 * i) + f"{key}:" for i, key in enumerate(path[:-1])]
    lines.append(" " * (indent + 2 * (len(path) - 1)) + f"{path[-1]}: {fmt(value)}")
    return "\n".join(lines)


def _line_end(text: str, index: int) -> int:
    end = text.find("\n", index)
    return len(text) if end < 0 else end


def _is_null(node: Any) -> bool:
    import yaml

    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def _last_end(node: Any) -> int:
    import yaml

    if isinstance(node, yaml.MappingNode) and node.value and not node.flow_style:
        k, v = node.value[-1]
        if _is_null(v) and v.start_mark.index == v.end_mark.index:
            return int(k.end_mark.index)
        return _last_end(v)
    if isinstance(node, yaml.SequenceNode) and node.value and not node.flow_style:
        return _last_end(node.value[-1])
    return int(node.end_mark.index)


def _set_one(text: str, path: tuple[str, ...], value: Any) -> str:
    import yaml

    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if root is None or (_is_null(root) and not root.value):
        base = text if not text or text.endswith("\n") else text + "\n"
        return base + _render(path, value, 0) + "\n"
    node = root
    for depth, key in enumerate(path):
        if not isinstance(node, yaml.MappingNode) or node.flow_style or not node.value:
            raise _Fallback
        found = next(
            ((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == key), None
        )
        if found is None:
            indent = node.value[0][0].start_mark.column
            pos = _line_end(text, _last_end(node))
            return text[:pos] + "\n" + _render(path[depth:], value, indent) + text[pos:]
        k, v = found
        if getattr(v, "anchor", None) or isinstance(v, yaml.nodes.Node) and v.tag.startswith("!"):
            raise _Fallback
        if depth == len(path) - 1:
            if not isinstance(v, yaml.ScalarNode) or v.style in ("|", ">"):
                raise _Fallback
            start, end = v.start_mark.index, v.end_mark.index
            new = fmt(value)
            if start == end and not text[:start].endswith(" "):
                new = " " + new
            return text[:start] + new + text[end:]
        if _is_null(v):
            # `key:` with nothing under it (or ~ / null): put the children under it.
            stripped = text[: v.start_mark.index] + text[v.end_mark.index :]
            pos = _line_end(stripped, k.end_mark.index)
            return stripped[:pos] + "\n" + _render(path[depth + 1 :], value, k.start_mark.column + 2) + stripped[pos:]
        node = v
    raise _Fallback


def set_values(text: str, edits: list[Edit]) -> str:
    """`text` with each edit made; _Fallback (internal) when the layout is not editable in place."""
    for path, value in edits:
        text = _set_one(text, path, value)
    return text


def _rewrite(text: str, edits: list[Edit]) -> str:
    """The whole file re-written from its values with the edits (comments lost)."""
    import yaml

    data = yaml.safe_load(text) or {}
    if not isinstance(data, dict):
        data = {}
    for path, value in edits:
        d = data
        for key in path[:-1]:
            if not isinstance(d.get(key), dict):
                d[key] = {}
            d = d[key]
        d[path[-1]] = value
    return HEADER + yaml.safe_dump(data, sort_keys=False, default_flow_style=False)


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` atomically, mode 0600; a missing folder is made 0700.

    OSError for a failure (nothing half-written is left behind).
    """
    from . import paths

    folder = path.parent
    if not folder.exists():
        old = os.umask(0o077)
        try:
            folder.mkdir(parents=True, mode=0o700)
        finally:
            os.umask(old)
    elif folder.resolve() == paths.config_dir().resolve():
        paths.ensure_private_dir(folder)
    paths.replace_file(path, text, 0o600)


def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"a": {"b": 1}} -> {"a.b": 1} (the key paths config origins use)."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def _took_effect(text: str, source: str, edits: list[Edit]) -> bool:
    from . import config

    flat = flatten(config.from_text(text, source).as_dict())
    return all(flat.get(".".join(path)) == value for path, value in edits)


def apply(path: Path, edits: list[Edit]) -> bool:
    """Make `edits` in the config file at `path`; True if its comments were kept.

    Raises ConfigError when the file is invalid (before or after: nothing is
    written then) and OSError when it cannot be read or written.
    """
    from . import config
    from .errors import ConfigError

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = HEADER
    source = str(path)
    config.from_text(text, source)  # the file as it is must be valid
    kept = True
    try:
        new = set_values(text, edits)
        if not _took_effect(new, source, edits):
            raise _Fallback
    except (_Fallback, ConfigError):
        kept = False
        new = _rewrite(text, edits)
    if not kept and not _took_effect(new, source, edits):
        raise ConfigError([f"{source}: the change did not take effect; the file was left as it was"])
    write_private(path, new)
    return kept
