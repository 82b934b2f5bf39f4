"""Screenshot speed of the android environment: `screencap -p` (PNG) against raw `screencap`.

    python bench/android_screencap.py                      # against a local test device
    python bench/android_screencap.py --device HOST:PORT   # against a real phone or emulator

Each form is timed end to end as the adapter does it (command, transfer over ADB, decoding to
an RGB image) on a flat UI screen (the home screen) and a photo-like one (the test device's
Photos app; on a real device, whatever is showing), interleaved (raw, png, raw, png, ...) so load
on a shared machine falls on both alike. The pixels of both forms are checked to be identical.
Prints min/median ms of each; the ratio is PNG median / raw median: above 1 means raw is faster.

Where the difference matters is a real phone: `screencap -p` encodes the PNG on the phone's
CPU before a byte is sent, while raw `screencap` sends the framebuffer as it is (4 bytes a
pixel). The test device encodes its PNG on this machine's CPU instead, so against it the
figures only show the transfer and decoding side.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from PIL import Image

from pixelpilot.actions import Action, Button, OpenApp, Size
from pixelpilot.env.android.capture import parse_png, parse_raw
from pixelpilot.env.android.config import AndroidConfig
from pixelpilot.env.android.env import AndroidEnv


def interleaved_forms(
    forms: dict[str, Callable[[], tuple[Image.Image, int]]], repeat: int
) -> dict[str, tuple[float, float, int, Image.Image]]:
    """Each form called in turn (raw, png, raw, png, ...) `repeat` times after one warm-up each.

    Returns per form: (min seconds, median seconds, bytes of the last call, its image).
    """
    last: dict[str, tuple[Image.Image, int]] = {name: fn() for name, fn in forms.items()}
    seconds: dict[str, list[float]] = {name: [] for name in forms}
    for _ in range(repeat):
        for name, fn in forms.items():
            start = time.perf_counter()
            last[name] = fn()
            seconds[name].append(time.perf_counter() - start)
    return {
        name: (min(times), statistics.median(times), last[name][1], last[name][0])
        for name, times in seconds.items()
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", help="HOST:PORT of a real device (default: a test device)")
    parser.add_argument("--size", default="1080x2400", help="test device screen (WxH)")
    parser.add_argument("--repeat", type=int, default=5, help="captures per form and screen")
    args = parser.parse_args()
    with ExitStack() as stack:
        options: dict[str, object] = {}
        device = None
        if args.device is None:
            from pixelpilot.env.android.testdevice import AdbTestDevice, DeviceConfig

            size = Size.parse(args.size)
            device = stack.enter_context(
                AdbTestDevice(DeviceConfig(width=size.width, height=size.height))
            )
            key_dir = stack.enter_context(tempfile.TemporaryDirectory())
            options = {"device": device.serial, "adb_key": Path(key_dir) / "adbkey"}
        else:
            options = {"device": args.device}
        env = stack.enter_context(AndroidEnv(AndroidConfig.model_validate(options)))
        where = "test device" if device else args.device
        print(f"screencap on the {where}: {env.display}, {args.repeat} interleaved captures")
        print("ms: min/median")
        print(f"{'screen':<8} {'raw ms':>13} {'raw MB':>7} {'png ms':>13} {'png MB':>7}", end="")
        print(f" {'png/raw':>8}")

        def raw() -> tuple[Image.Image, int]:
            data = env.conn.read_bytes("screencap")
            return parse_raw(data), len(data)

        def png() -> tuple[Image.Image, int]:
            data = env.conn.read_bytes("screencap -p")
            return parse_png(data), len(data)

        screens: list[tuple[str, Action]] = [("home", Button(name="home"))]
        if device is not None:
            screens.append(("photo", OpenApp(name="Photos")))
        for name, action in screens:
            env.execute(action)
            found = interleaved_forms({"raw": raw, "png": png}, args.repeat)
            raw_min, raw_s, raw_bytes, raw_image = found["raw"]
            png_min, png_s, png_bytes, png_image = found["png"]
            if raw_image.tobytes() != png_image.tobytes():
                print(f"{name}: raw and PNG pixels differ", file=sys.stderr)
                return 1
            print(
                f"{name:<8} {raw_min * 1000:>6.1f}/{raw_s * 1000:<6.1f} {raw_bytes / 1e6:>7.2f} "
                f"{png_min * 1000:>6.1f}/{png_s * 1000:<6.1f} {png_bytes / 1e6:>7.2f} "
                f"{png_s / raw_s:>7.2f}x"
            )
            if device is not None:
                start = time.perf_counter()
                for _ in range(args.repeat):
                    device.phone.screencap_png()
                encode = (time.perf_counter() - start) / args.repeat
                print(f"{'':<8} of the png time, encoding on the device: {encode * 1000:.1f} ms")
    print(
        "The PNG encode is the phone's work on a real device (its CPU, not this one's): run "
        "with --device HOST:PORT against a phone to see the difference that matters."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
