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

from . import catalog
from .engine import CueRule, EngineConfig

BACKENDS = ("auto", "x11", "evdev")


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
    """Load a config file; None or a missing default file gives the defaults.

    Raises ConfigError listing every problem, each as
    'FILE:LINE: key.path: what is wrong'.
    """
    if path is None:
        return DEFAULTS
    from .errors import ConfigError

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{p}: no such file"]) from None
    return from_text(text, str(p))


def from_text(text: str, source: str) -> Config:
    """Parse and validate YAML text. (Full validation: see the config issue.)"""
    import yaml

    data = yaml.safe_load(text) or {}
    return from_mapping(data, source)


def from_mapping(data: Mapping[str, Any], source: str) -> Config:
    pause = data.get("pause", {}) or {}
    activity = data.get("activity", {}) or {}
    notify = data.get("notify", {}) or {}
    progression = data.get("progression", {}) or {}
    inp = data.get("input", {}) or {}
    checkin = data.get("checkin", {}) or {}
    cues = dict(_default_cues())
    for cue_id, over in (data.get("cues", {}) or {}).items():
        base = cues[cue_id]
        over = over or {}
        cues[cue_id] = CueSettings(
            over.get("enabled", base.enabled),
            float(over.get("every_min", base.every_min)),
            over.get("trigger", base.trigger),
        )
    d = DEFAULTS
    return Config(
        pause_min_s=float(pause.get("min_s", d.pause_min_s)),
        max_defer_s=float(pause.get("max_defer_s", d.max_defer_s)),
        break_s=float(activity.get("break_s", d.break_s)),
        min_gap_s=float(notify.get("min_gap_s", d.min_gap_s)),
        notify_timeout_s=float(notify.get("timeout_s", d.notify_timeout_s)),
        progression_enabled=bool(progression.get("enabled", d.progression_enabled)),
        input_backend=str(inp.get("backend", d.input_backend)),
        checkin_reminder=bool(checkin.get("reminder", d.checkin_reminder)),
        cues=MappingProxyType(cues),
        source=source,
    )
