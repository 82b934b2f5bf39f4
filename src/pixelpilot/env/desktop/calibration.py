"""The desktop calibration surface: a borderless Tk window over one monitor that draws a crosshair
at each target and paints every button press it receives as a MARKER_RGB square centred on the
pressed pixel (see `pixelpilot.env.calibrate`).

It runs as its own process (`python -m pixelpilot.env.desktop.calibration`), because Tk wants
the main thread and its own X connection. It prints "ready" once the window is mapped and drawn,
and exits when its stdin closes, so it never outlives the environment that started it.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence

from pixelpilot.env.calibrate import MARKER_RGB
from pixelpilot.env.desktop.x11 import die_with_parent
from pixelpilot.errors import EnvError

MARKER_RADIUS = 3
"""A press paints a (2 * MARKER_RADIUS + 1) px square, so its centre is the pressed pixel."""

TITLE = "pixelpilot calibration"
BACKGROUND = "#f0f0f0"
CROSSHAIR = "#202020"


class CalibrationWindow:
    """A running calibration window process."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process

    @classmethod
    def start(
        cls,
        display_name: str,
        box: tuple[int, int, int, int],
        targets: Sequence[tuple[int, int]],
        *,
        timeout: float = 10.0,
        environ: Mapping[str, str] | None = None,
    ) -> CalibrationWindow:
        """Show the window on `display_name` and wait until it is drawn.

        Args:
            display_name: the X display, e.g. ":3".
            box: (left, top, width, height) of the window in X pixels.
            targets: crosshair positions in window pixels.
            timeout: seconds to wait for the window to appear.
            environ: the process environment (default: this one with DISPLAY set).

        Raises:
            EnvError: the window did not appear (the message carries the process's error).
        """
        command = [
            sys.executable,
            "-m",
            "pixelpilot.env.desktop.calibration",
            "--geometry",
            "{2}x{3}+{0}+{1}".format(*box),
            "--targets",
            json.dumps([list(t) for t in targets]),
        ]
        process = subprocess.Popen(
            die_with_parent(command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(environ) if environ is not None else {**os.environ, "DISPLAY": display_name},
        )
        window = cls(process)
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], timeout)
        line = process.stdout.readline() if ready else b""
        if line.strip() != b"ready":
            error = window.stop().strip().splitlines()
            reason = error[-1] if error else f"no window within {timeout:g} s"
            raise EnvError(f"the calibration window did not start: {reason}")
        return window

    def stop(self) -> str:
        """Close the window (closing its stdin ends it; SIGKILL if it lingers).

        Returns:
            What the process wrote to stderr.
        """
        try:  # communicate() closes stdin first, which is the window's cue to exit
            _, stderr = self.process.communicate(timeout=3)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, stderr = self.process.communicate()
        return stderr.decode("utf-8", "replace") if stderr else ""


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="pixelpilot's desktop calibration window")
    parser.add_argument("--geometry", required=True, help="WxH+X+Y in X pixels")
    parser.add_argument("--targets", required=True, help="JSON list of [x, y] window pixels")
    args = parser.parse_args(argv)
    targets = json.loads(args.targets)

    import tkinter as tk

    root = tk.Tk()
    root.title(TITLE)
    root.overrideredirect(True)
    root.geometry(args.geometry)
    root.attributes("-topmost", True)
    width, height = (int(v) for v in args.geometry.split("+")[0].split("x"))
    canvas = tk.Canvas(
        root, width=width, height=height, background=BACKGROUND, highlightthickness=0, bd=0
    )
    canvas.place(x=0, y=0, width=width, height=height)
    arm = 12
    for x, y in targets:
        canvas.create_line(x - arm, y, x + arm + 1, y, fill=CROSSHAIR)
        canvas.create_line(x, y - arm, x, y + arm + 1, fill=CROSSHAIR)
    marker = _hex(MARKER_RGB)

    def paint(event: tk.Event) -> None:  # type: ignore[type-arg]
        r = MARKER_RADIUS
        # Tk fills a rectangle's pixels from (x1, y1) up to but excluding (x2, y2).
        canvas.create_rectangle(
            event.x - r, event.y - r, event.x + r + 1, event.y + r + 1, fill=marker, width=0
        )

    canvas.bind("<ButtonPress>", paint)

    def on_stdin(*_: object) -> None:
        if not os.read(sys.stdin.fileno(), 4096):  # the environment closed us or went away
            root.destroy()

    root.tk.createfilehandler(sys.stdin, tk.READABLE, on_stdin)
    root.wait_visibility()
    root.update()
    time.sleep(0.05)  # let the server finish the first expose before saying ready
    root.update()
    print("ready", flush=True)
    root.mainloop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
