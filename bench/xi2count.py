"""Experiment: a cheaper way to watch X input than pynput (issue 7, figure 3).

    python bench/xi2count.py [--batch-s 0.1]

pynput gets input through the RECORD extension and python-xlib decodes every
event into Python objects (~70 microseconds a pointer move). This asks the
X server for XInput2 *raw* events on the root window (XI_RawKeyPress,
XI_RawButtonPress, XI_RawMotion: what every device does, whatever window
has the focus), then stops using python-xlib: it reads the connection's
socket itself at most once per `--batch-s` and only counts events by the
type in their 32-byte header (a generic event is 32 + 4 * length bytes).
Nothing is decoded: no key, no position. Pointer distance (which the daemon
stores) would need the raw valuators, which this leaves out.

Prints "ready"; on SIGTERM prints one JSON line of counts and exits.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import signal
import sys
import time

GENERIC_EVENT = 35
RAW_KEY_PRESS, RAW_BUTTON_PRESS, RAW_MOTION = 13, 15, 17


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch-s", type=float, default=0.1, help="least time between two reads")
    args = ap.parse_args()

    from Xlib import display
    from Xlib.ext import xinput

    d = display.Display()
    d.xinput_query_version()  # XI2 must be announced before XI2 requests
    mask = xinput.RawKeyPressMask | xinput.RawButtonPressMask | xinput.RawMotionMask
    d.screen().root.xinput_select_events([(xinput.AllMasterDevices, mask)])
    d.sync()
    sock = d.display.socket  # from here on, only raw reads: no requests, no decoding
    sock.setblocking(False)
    seen = {"key": 0, "move": 0, "click": 0, "reads": 0}
    order = sys.byteorder  # python-xlib speaks the machine's byte order

    def stop(*_a: object) -> None:
        print(json.dumps(seen), flush=True)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    print("ready", flush=True)
    buf = b""
    kinds = {RAW_KEY_PRESS: "key", RAW_BUTTON_PRESS: "click", RAW_MOTION: "move"}
    while True:
        select.select([sock], [], [])
        time.sleep(args.batch_s)  # let a burst gather: one wakeup per batch
        chunks = [buf]
        while True:
            try:
                data = sock.recv(1 << 16)
            except BlockingIOError:
                break
            if not data:
                print(json.dumps(seen), flush=True)
                return 1  # the X server went away
            chunks.append(data)
        buf = b"".join(chunks)
        seen["reads"] += 1
        i, n = 0, len(buf)
        while i + 32 <= n:
            size = 32
            if buf[i] & 0x7F == GENERIC_EVENT:
                size += 4 * int.from_bytes(buf[i + 4 : i + 8], order)
                if i + size > n:
                    break
                kind = kinds.get(int.from_bytes(buf[i + 8 : i + 10], order))
                if kind is not None:
                    seen[kind] += 1
            i += size
        buf = buf[i:]


if __name__ == "__main__":
    sys.exit(main())
