"""Configuration: the built-in defaults, the YAML loader and its validation.

Defaults live here and only here (the timing keys of contracts section 3, the
project's own few keys, and every cue's settings taken from the catalog).
config/micromove.example.yaml is the commented copy of these defaults; a test
proves the two are equal.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .core import catalog
from .core.engine import CueRule, EngineConfig


def backends() -> tuple[str, ...]:
    """What input.backend accepts: auto and every backend in the input registry."""
    from .adapters.inputs.registry import names

    return names()


@dataclass(frozen=True, slots=True)
class CueSettings:
    enabled: bool
    every_min: float
    trigger: str  # typing | mouse | active


def _default_cues() -> Mapping[str, CueSettings]:
    return MappingProxyType(
        {m.id: CueSettings(True, m.every_min, m.trigger) for m in catalog.MOVEMENTS}
    )


@dataclass(frozen=True, slots=True)
class Config:
    pause_min_s: float = 3.0
    max_defer_s: float = 180.0
    break_s: float = 120.0
    min_gap_s: float = 300.0
    # Hard limit on one notification call; the engine never waits on it.
    notify_timeout_s: float = 3.0
    progression_enabled: bool = True
    input_backend: str = "auto"
    # Weekly self-check reminder (`mmctl checkin`).
    checkin_reminder: bool = True
    cues: Mapping[str, CueSettings] = field(default_factory=_default_cues)
    source: str = "built-in defaults"

    def engine_config(self, active: Callable[[str], bool] | None = None) -> EngineConfig:
        """The engine's view: enabled cues that `active` (progression) allows."""
        rules = tuple(
            CueRule(cue_id, s.trigger, s.every_min * 60.0)  # type: ignore[arg-type]
            for cue_id, s in self.cues.items()
            if s.enabled and (active is None or active(cue_id))
        )
        return EngineConfig(
            pause_min_s=self.pause_min_s,
            max_defer_s=self.max_defer_s,
            break_s=self.break_s,
            min_gap_s=self.min_gap_s,
            cues=rules,
        )

    def as_dict(self) -> dict[str, Any]:
        """The nested mapping a YAML file with these values would hold."""
        return {
            "pause": {"min_s": self.pause_min_s, "max_defer_s": self.max_defer_s},
            "activity": {"break_s": self.break_s},
            "notify": {"min_gap_s": self.min_gap_s, "timeout_s": self.notify_timeout_s},
            "progression": {"enabled": self.progression_enabled},
            "input": {"backend": self.input_backend},
            "checkin": {"reminder": self.checkin_reminder},
            "cues": {
                cue_id: {"enabled": s.enabled, "every_min": s.every_min, "trigger": s.trigger}
                for cue_id, s in self.cues.items()
            },
        }


DEFAULTS = Config()


def load(path: Path | str | None) -> Config:
    """Load a config file; None gives the built-in defaults.

    Raises ConfigError listing every problem, each as
    'FILE:LINE: key.path: what is wrong'.
    """
    return load_with_origins(path)[0]


def load_with_origins(path: Path | str | None) -> tuple[Config, dict[str, str]]:
    """Like `load`, and where each effective value came from (FILE:LINE or "default")."""
    if path is None:
        return DEFAULTS, {}
    from .errors import ConfigError

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{p}: no such file"]) from None
    except IsADirectoryError:
        raise ConfigError([f"{p}: is a folder, not a config file"]) from None
    except PermissionError:
        raise ConfigError([f"{p}: permission denied"]) from None
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise ConfigError([f"{p}:{line}: not UTF-8 text"]) from None
    return _parse(text, str(p))


def from_text(text: str, source: str) -> Config:
    """Parse and validate YAML text; ConfigError lists every problem."""
    return _parse(text, source)[0]


# key -> (kind, check, what the check says when it fails)
_NUMBER_RULES: dict[str, tuple[str, str]] = {
    "pause.min_s": (">0", "must be greater than 0"),
    "pause.max_defer_s": (">0", "must be greater than 0"),
    "activity.break_s": (">0", "must be greater than 0"),
    "notify.min_gap_s": (">=0", "must be 0 or more"),
    "notify.timeout_s": ("(0,3]", "must be greater than 0 and at most 3"),
}
_BOOL_KEYS = ("progression.enabled", "checkin.reminder")
_SCHEMA: dict[str, tuple[str, ...]] = {
    "pause": ("min_s", "max_defer_s"),
    "activity": ("break_s",),
    "notify": ("min_gap_s", "timeout_s"),
    "progression": ("enabled",),
    "input": ("backend",),
    "checkin": ("reminder",),
    "cues": (),
}
_CUE_KEYS = ("enabled", "every_min", "trigger")


def _suggest(word: str, options: Any) -> str:
    import difflib

    near = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean {near[0]!r}?)" if near else ""


def _is_number(v: object) -> bool:
    import math

    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _parse(text: str, source: str) -> tuple[Config, dict[str, str]]:
    import yaml

    from .errors import ConfigError

    errors: list[str] = []

    def err(node: Any, key: str, msg: str) -> None:
        line = node.start_mark.line + 1 if node is not None else 1
        errors.append(f"{source}:{line}: {key}: {msg}" if key else f"{source}:{line}: {msg}")

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:
        raise ConfigError([f"{source}:1: not valid YAML: nested too deeply"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError([f"{source}:{line}: not valid YAML: {problem}"]) from None

    values: dict[str, Any] = {}
    origins: dict[str, str] = {}

    def scalar(node: Any) -> Any:
        try:
            return yaml.SafeLoader(text).construct_object(node, deep=True)  # noqa: S506
        except (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError) as exc:
            return exc  # e.g. `!!float x`, an integer of 5000 digits: shown as unreadable

    def mapping(node: Any, key: str) -> list[tuple[Any, Any]] | None:
        if node is None:
            return []
        if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null":
            return []  # an empty section means its defaults
        if not isinstance(node, yaml.MappingNode):
            err(node, key, "must be a mapping of keys to values")
            return None
        seen: set[str] = set()
        out = []
        for k, v in node.value:
            name = k.value if isinstance(k, yaml.ScalarNode) else None
            if not isinstance(name, str) or not isinstance(k, yaml.ScalarNode):
                err(k, key, "keys must be plain names")
                continue
            if name in seen:
                err(k, f"{key}.{name}" if key else name, "given twice")
                continue
            seen.add(name)
            out.append((k, v))
        return out

    top = mapping(root, "")
    if top is None:
        raise ConfigError(errors)
    for knode, vnode in top:
        section = knode.value
        if section not in _SCHEMA:
            err(knode, section, "unknown key" + _suggest(section, _SCHEMA))
            continue
        items = mapping(vnode, section)
        if items is None:
            continue
        if section == "cues":
            for cnode, cvnode in items:
                cue_id = cnode.value
                path = f"cues.{cue_id}"
                if cue_id not in catalog.BY_ID:
                    err(cnode, path, "unknown cue id" + _suggest(cue_id, catalog.IDS))
                    continue
                citems = mapping(cvnode, path)
                for fk, fv in citems or []:
                    fpath = f"{path}.{fk.value}"
                    if fk.value not in _CUE_KEYS:
                        err(fk, fpath, "unknown key" + _suggest(fk.value, _CUE_KEYS))
                        continue
                    v = scalar(fv)
                    if fk.value == "enabled" and not isinstance(v, bool):
                        err(fv, fpath, f"must be true or false, not {_show(v)}")
                    elif fk.value == "every_min" and not (_is_number(v) and v > 0):
                        err(fv, fpath, _number_msg(v, "must be greater than 0"))
                    elif fk.value == "trigger" and v not in ("typing", "mouse", "active"):
                        err(fv, fpath, f"must be typing, mouse or active, not {_show(v)}")
                    else:
                        values[fpath] = v
                        origins[fpath] = f"{source}:{fv.start_mark.line + 1}"
            continue
        for fk, fv in items:
            fpath = f"{section}.{fk.value}"
            if fk.value not in _SCHEMA[section]:
                err(fk, fpath, "unknown key" + _suggest(fk.value, _SCHEMA[section]))
                continue
            v = scalar(fv)
            if fpath in _NUMBER_RULES:
                rule, msg = _NUMBER_RULES[fpath]
                ok = _is_number(v) and (
                    (rule == ">0" and v > 0)
                    or (rule == ">=0" and v >= 0)
                    or (rule == "(0,3]" and 0 < v <= 3)
                )
                if not ok:
                    err(fv, fpath, _number_msg(v, msg))
                    continue
            elif fpath in _BOOL_KEYS:
                if not isinstance(v, bool):
                    err(fv, fpath, f"must be true or false, not {_show(v)}")
                    continue
            elif fpath == "input.backend" and v not in (known := backends()):
                err(fv, fpath, f"must be one of {', '.join(known)}, not {_show(v)}")
                continue
            values[fpath] = v
            origins[fpath] = f"{source}:{fv.start_mark.line + 1}"

    d = DEFAULTS
    min_s = values.get("pause.min_s", d.pause_min_s)
    break_s = values.get("activity.break_s", d.break_s)
    if "pause.min_s" not in errors and min_s >= break_s and not any(
        ": pause.min_s:" in e or ": activity.break_s:" in e for e in errors
    ):
        line = origins.get("pause.min_s", origins.get("activity.break_s", f"{source}:1"))
        errors.append(
            f"{line}: pause.min_s: must be below activity.break_s ({min_s:g} is not below {break_s:g})"
        )
    if errors:
        raise ConfigError(sorted(errors, key=lambda e: int(e[len(source) + 1 :].split(":", 1)[0])))

    cues = dict(_default_cues())
    for cue_id, base in list(cues.items()):
        cues[cue_id] = CueSettings(
            values.get(f"cues.{cue_id}.enabled", base.enabled),
            float(values.get(f"cues.{cue_id}.every_min", base.every_min)),
            values.get(f"cues.{cue_id}.trigger", base.trigger),
        )
    cfg = Config(
        pause_min_s=float(min_s),
        max_defer_s=float(values.get("pause.max_defer_s", d.max_defer_s)),
        break_s=float(break_s),
        min_gap_s=float(values.get("notify.min_gap_s", d.min_gap_s)),
        notify_timeout_s=float(values.get("notify.timeout_s", d.notify_timeout_s)),
        progression_enabled=values.get("progression.enabled", d.progression_enabled),
        input_backend=values.get("input.backend", d.input_backend),
        checkin_reminder=values.get("checkin.reminder", d.checkin_reminder),
        cues=MappingProxyType(cues),
        source=source,
    )
    return cfg, origins


def _show(v: object) -> str:
    import json

    if isinstance(v, Exception):
        return "an unreadable value"
    if isinstance(v, (list, dict, set)):
        # Never dumped: YAML aliases can make a small file an exponentially large
        # (or self-containing) value.
        return "a list" if isinstance(v, list) else "a mapping" if isinstance(v, dict) else "a set"
    try:
        text = json.dumps(v, default=str)
    except ValueError:
        text = repr(v)
    return text if len(text) <= 80 else text[:77] + "..."


def _number_msg(v: object, rule: str) -> str:
    if not _is_number(v):
        return f"must be a number, not {_show(v)}"
    return f"{rule}, not {_show(v)}"
