"""Camera and microphone in use: a video call, a recording.

Checked once at each cue decision:
- camera: some process has a `/dev/video*` node open (a symlink to it under
  `/proc/PID/fd`). Only the link targets are compared: which process it is
  is never read, kept or logged ("camera in use", nothing more). Processes
  of other users cannot be looked into, which is fine: a desktop's camera
  is used by its own user's programs;
- microphone: an ALSA capture substream is running
  (`/proc/asound/card*/pcm*c/sub*/status` reads `state: RUNNING`); this
  also covers PulseAudio and PipeWire, which run the device while something
  records (and suspend it a few seconds after).
`root` is the file system root to look under (tests may point it elsewhere).
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable, Mapping

from . import Offer


def camera_in_use(root: str = "/", skip_pid: int | None = None) -> bool:
    proc = os.path.join(root, "proc")
    dev_video = os.path.join(root, "dev", "video")
    try:
        pids = [p for p in os.listdir(proc) if p.isdigit()]
    except OSError:
        return False
    for pid in pids:
        if skip_pid is not None and pid == str(skip_pid):
            continue
        fd_dir = os.path.join(proc, pid, "fd")
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue  # gone, or another user's
        for fd in fds:
            try:
                target = os.readlink(os.path.join(fd_dir, fd))
            except OSError:
                continue
            if target.startswith(dev_video) or target.startswith("/dev/video"):
                return True
    return False


def cameras(root: str = "/") -> list[str]:
    return sorted(glob.glob(os.path.join(root, "dev", "video*")))


def microphone_in_use(root: str = "/") -> bool:
    for status in glob.glob(os.path.join(root, "proc", "asound", "card*", "pcm*c", "sub*", "status")):
        try:
            with open(status, encoding="ascii", errors="replace") as f:
                first = f.readline()
        except OSError:
            continue
        if first.split(":", 1)[-1].strip() == "RUNNING" and first.startswith("state"):
            return True
    return False


def capture_devices(root: str = "/") -> list[str]:
    return sorted(glob.glob(os.path.join(root, "proc", "asound", "card*", "pcm*c")))


class _DeviceCheck:
    """A device in use, read from /dev and /proc at each cue decision: nothing to start or stop."""

    event_driven = False
    checked = True

    def __init__(self, env: Mapping[str, str], root: str = "/") -> None:
        self.root = root

    def start(self, changed: Callable[[], None]) -> None:
        pass

    def stop(self) -> None:
        pass


class CameraSource(_DeviceCheck):
    name = "camera"
    what = "camera in use"

    def holding(self) -> bool:
        return camera_in_use(self.root, skip_pid=os.getpid())

    def offer(self) -> Offer:
        n = len(cameras(self.root))
        if not n:
            return Offer(False, "no camera (/dev/video*) here now; checked at each cue decision if one appears")
        return Offer(True, f"{n} video device node{'s' if n > 1 else ''} (checked at each cue decision)")


class MicrophoneSource(_DeviceCheck):
    name = "microphone"
    what = "microphone in use"

    def holding(self) -> bool:
        return microphone_in_use(self.root)

    def offer(self) -> Offer:
        n = len(capture_devices(self.root))
        if not n:
            return Offer(False, "no sound capture device (/proc/asound) here now; checked at each cue decision")
        return Offer(True, f"{n} capture device{'s' if n > 1 else ''} (checked at each cue decision)")
