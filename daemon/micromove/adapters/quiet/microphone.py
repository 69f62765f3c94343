"""Quiet time "microphone": a microphone is recording (see devices.py)."""

from __future__ import annotations

from collections.abc import Mapping

from .devices import MicrophoneSource


def make(env: Mapping[str, str]) -> MicrophoneSource:
    return MicrophoneSource(env)
