"""The input-backend registry: one table gives input.backend's values, auto's
choice and doctor's input check."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from micromove import config as config_mod
from micromove import doctor
from micromove.adapters.inputs import InputError, registry
from micromove.adapters.inputs.base import Finding


def test_the_built_in_backends() -> None:
    assert registry.names() == ("auto", "x11", "xi2", "pynput", "evdev", "wayland-idle", "gnome")
    assert registry.REGISTRY["x11"].quality == "counts" and registry.REGISTRY["evdev"].quality == "counts"
    assert registry.REGISTRY["xi2"].quality == "counts"
    assert registry.REGISTRY["wayland-idle"].quality == registry.REGISTRY["gnome"].quality == "presence"
    assert [b.name for b in registry.candidates("x11")] == ["xi2", "x11"]  # XInput2 first, pynput the fallback
    # Wayland: evdev first (it keeps the counts), then the compositor's idle interfaces.
    assert [b.name for b in registry.candidates("wayland")] == ["evdev", "wayland-idle", "gnome"]
    assert registry.session_of({"DISPLAY": ":0"}, "linux") == "x11"
    assert registry.session_of({"DISPLAY": ":0", "WAYLAND_DISPLAY": "w"}, "linux") == "wayland"
    assert registry.session_of({}, "linux") == "console"
    assert registry.session_of({}, "darwin") == "macos"


class Stand:
    name = "stand-in"

    def start(self, tap: object) -> None: ...
    def stop(self) -> None: ...
    def alive(self) -> bool:
        return True

    def failure(self) -> str | None:
        return None


@pytest.fixture(name="extra")
def extra_fixture() -> Iterator[dict[str, bool]]:
    """A presence-only backend for Wayland, preferred over evdev, usable when told."""
    state = {"usable": True}
    registry.register(registry.Backend(
        name="standin",
        summary="a stand-in",
        quality="presence",
        sessions=("wayland",),
        rank=10,
        requires=lambda env, platform: None,
        probe=lambda env, platform: (state["usable"], "" if state["usable"] else "no idle monitor here"),
        create=lambda env, platform: Stand(),
        doctor=lambda env, platform: Finding("note", "stand-in: presence only", "nothing to do"),
    ))  # fmt: skip
    try:
        yield state
    finally:
        del registry.REGISTRY["standin"]


def test_a_registered_backend_is_a_config_value_an_auto_choice_and_a_doctor_check(
    extra: dict[str, bool], tmp_path: object
) -> None:
    assert "standin" in registry.names()
    cfg = config_mod.from_text("input:\n  backend: standin\n", "t.yaml")
    assert cfg.input_backend == "standin"
    wayland = {"WAYLAND_DISPLAY": "wayland-0", "MICROMOVE_EVDEV_DEVICES": "/nonexistent/event*"}
    assert registry.select("auto", env=wayland, platform="linux").name == "stand-in"
    check = doctor.check_input("standin", wayland)
    assert (check.status, check.detail, check.fix) == ("note", "stand-in: presence only", "nothing to do")
    extra["usable"] = False  # auto then says why each Wayland candidate cannot be used
    with pytest.raises(InputError) as exc:
        registry.select("auto", env=wayland, platform="linux")
    msg = str(exc.value)
    assert "the standin backend cannot be used: no idle monitor here" in msg
    assert "the evdev backend cannot be used: no input devices under /nonexistent" in msg


def test_an_unknown_backend_is_refused_with_the_registry_s_names() -> None:
    with pytest.raises(InputError) as exc:
        registry.select("nope", env={}, platform="linux")
    assert str(exc.value) == "input.backend: unknown backend 'nope' (auto, x11, xi2, pynput, evdev, wayland-idle or gnome)"
    with pytest.raises(Exception) as err:
        config_mod.from_text("input:\n  backend: nope\n", "t.yaml")
    assert "must be one of auto, x11, xi2, pynput, evdev, wayland-idle, gnome, not" in str(err.value.errors[0])  # type: ignore[attr-defined]


def test_doctor_takes_its_input_check_from_the_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    def fake(env: object, platform: str) -> Finding:
        seen.append(platform)
        return Finding("problem", "x11 says no", "fix it")

    monkeypatch.setitem(registry.REGISTRY, "x11", registry.dataclasses.replace(registry.REGISTRY["x11"], doctor=fake))
    c = doctor.check_input("x11", {"DISPLAY": ":5"})
    assert (c.name, c.status, c.detail, c.fix) == ("input", "problem", "x11 says no", "fix it") and seen
