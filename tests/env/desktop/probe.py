"""A Tk window that reports every pointer and key event it receives, for the desktop tests.

Run as a script with DISPLAY set. It covers the screen with a canvas, an Entry and a Text, and
writes one JSON object per line to stdout: {"type": "ready"} once drawn, then events
(press, release, motion, key, keyup) in X root coordinates, and replies to commands read from
stdin, one per line: "text", "entry", "clear", "focus text|entry", "animate MS" (the next press
starts MS milliseconds of colour changes). It exits when stdin closes.
"""

from __future__ import annotations

import json
import os
import sys
import tkinter as tk
from typing import Any

TITLE = "pixelpilot probe"
PATCH_BOX = (100, 200, 120, 220)  # window pixels, right/bottom exclusive
PATCH_RGB = (12, 34, 56)
ENTRY_BOX = (700, 380, 1200, 410)  # x1, y1, x2, y2
TEXT_BOX = (700, 440, 1200, 700)
ANIMATED_BOX = (40, 600, 120, 680)


def emit(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def main() -> None:
    root = tk.Tk()
    root.title(TITLE)
    root.overrideredirect(True)
    width, height = root.winfo_screenwidth(), root.winfo_screenheight()
    root.geometry(f"{width}x{height}+0+0")
    canvas = tk.Canvas(root, background="#ffffff", highlightthickness=0, bd=0)
    canvas.place(x=0, y=0, width=width, height=height)
    canvas.create_rectangle(*PATCH_BOX, fill="#{:02x}{:02x}{:02x}".format(*PATCH_RGB), width=0)
    animated = canvas.create_rectangle(*ANIMATED_BOX, fill="#dddddd", width=0)
    entry = tk.Entry(root)
    entry.place(
        x=ENTRY_BOX[0],
        y=ENTRY_BOX[1],
        width=ENTRY_BOX[2] - ENTRY_BOX[0],
        height=ENTRY_BOX[3] - ENTRY_BOX[1],
    )
    text = tk.Text(root, insertontime=0)  # no blinking caret: the screen settles when idle
    text.place(
        x=TEXT_BOX[0],
        y=TEXT_BOX[1],
        width=TEXT_BOX[2] - TEXT_BOX[0],
        height=TEXT_BOX[3] - TEXT_BOX[1],
    )
    entry.configure(insertontime=0)
    state = {"animate_ms": 0}

    def animate(remaining: int, step: int = 0) -> None:
        # A new colour every 20 ms, never repeating, so no two captures during it are equal.
        level = (step * 5) % 256
        canvas.itemconfigure(animated, fill=f"#{level:02x}{255 - level:02x}80")
        if remaining > 0:
            root.after(20, animate, remaining - 20, step + 1)

    def pointer(kind: str, count: int = 1):  # type: ignore[no-untyped-def]
        def handler(event: tk.Event) -> None:  # type: ignore[type-arg]
            record = {"type": kind, "x": event.x_root, "y": event.y_root}
            if kind in ("press", "release"):
                record.update(num=event.num, count=count)
            record["state"] = int(event.state)
            emit(record)
            if kind == "press" and state["animate_ms"]:
                animate(state["animate_ms"])
                state["animate_ms"] = 0

        return handler

    def key(kind: str):  # type: ignore[no-untyped-def]
        def handler(event: tk.Event) -> None:  # type: ignore[type-arg]
            emit({"type": kind, "keysym": event.keysym, "num": event.keysym_num})

        return handler

    # A tag ahead of the class bindings sees every event, even those a class binding ends with
    # "break" (Text's Tab, for one).
    for widget in (root, canvas, entry, text):
        widget.bindtags(("Probe", *widget.bindtags()))
    root.bind_class("Probe", "<ButtonPress>", pointer("press"))
    root.bind_class("Probe", "<Double-ButtonPress>", pointer("press", 2))
    root.bind_class("Probe", "<Triple-ButtonPress>", pointer("press", 3))
    root.bind_class("Probe", "<ButtonRelease>", pointer("release"))
    root.bind_class("Probe", "<Motion>", pointer("motion"))
    root.bind_class("Probe", "<KeyPress>", key("key"))
    root.bind_class("Probe", "<KeyRelease>", key("keyup"))

    def command(line: str) -> None:
        root.update()  # deliver the X events already queued before answering
        word, _, arg = line.strip().partition(" ")
        if word == "text":
            emit({"type": "reply", "value": text.get("1.0", "end-1c")})
        elif word == "entry":
            emit({"type": "reply", "value": entry.get()})
        elif word == "clear":
            text.delete("1.0", "end")
            entry.delete(0, "end")
            emit({"type": "reply", "value": "cleared"})
        elif word == "focus":
            root.focus_force()
            (text if arg == "text" else entry).focus_set()
            root.update()
            emit({"type": "reply", "value": str(root.focus_get())})
        elif word == "animate":
            state["animate_ms"] = int(arg)
            emit({"type": "reply", "value": arg})
        else:
            emit({"type": "reply", "error": f"unknown command {line!r}"})

    buffer = bytearray()

    def on_stdin(*_: object) -> None:
        chunk = os.read(sys.stdin.fileno(), 65536)
        if not chunk:
            root.destroy()
            return
        buffer.extend(chunk)
        while b"\n" in buffer:
            line, _, rest = bytes(buffer).partition(b"\n")
            buffer[:] = rest
            command(line.decode("utf-8"))

    root.tk.createfilehandler(sys.stdin, tk.READABLE, on_stdin)
    root.wait_visibility()
    root.focus_force()
    root.update()
    emit({"type": "ready", "width": width, "height": height})
    root.mainloop()


if __name__ == "__main__":
    main()
