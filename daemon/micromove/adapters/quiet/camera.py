"""Quiet time "camera": a camera is in use (see devices.py)."""

from __future__ import annotations

from collections.abc import Mapping

from .devices import CameraSource


def make(env: Mapping[str, str]) -> CameraSource:
    return CameraSource(env)
