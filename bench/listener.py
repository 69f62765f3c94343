"""The floor: a bare pynput keyboard + mouse listener, run as its own process.

    python bench/listener.py

What any Python program watching X input through pynput pays at the least:
both listeners, callbacks that only count. Prints "ready" once both listen;
on SIGTERM prints one JSON line of what it saw and exits.
"""

from __future__ import annotations

import json
import os
import signal
import sys


def main() -> int:
    from pynput import keyboard, mouse

    seen = {"key": 0, "move": 0, "click": 0, "scroll": 0}

    def on_press(*_a: object) -> None:
        seen["key"] += 1

    def on_move(*_a: object) -> None:
        seen["move"] += 1

    def on_click(_x: object, _y: object, _b: object, pressed: bool, *_a: object) -> None:
        if pressed:
            seen["click"] += 1

    def on_scroll(*_a: object) -> None:
        seen["scroll"] += 1

    def stop(*_a: object) -> None:
        print(json.dumps(seen), flush=True)
        os._exit(0)  # pynput's record threads end only at the next event

    signal.signal(signal.SIGTERM, stop)
    listeners = [
        keyboard.Listener(on_press=on_press),
        mouse.Listener(on_move=on_move, on_click=on_click, on_scroll=on_scroll),
    ]
    for lst in listeners:
        lst.start()
    for lst in listeners:
        lst.wait()
    print("ready", flush=True)
    while True:
        signal.pause()


if __name__ == "__main__":
    sys.exit(main())
