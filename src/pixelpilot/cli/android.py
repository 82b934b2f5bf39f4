"""`pixelpilot android-testdevice`: run the offline ADB test device until interrupted."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from typing import Any

from pydantic import ValidationError

from pixelpilot.actions import Size
from pixelpilot.errors import ConfigError, UserError
from pixelpilot.registry import config_error


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "android-testdevice",
        help="run a virtual Android phone that speaks ADB (for tests and CI)",
        description="Serve a virtual phone over the real ADB wire protocol on HOST:PORT, for "
        "`--env android --device HOST:PORT` without an emulator. Runs until Ctrl-C.",
    )
    parser.add_argument("--port", type=int, required=True, help="TCP port (0: any free port)")
    parser.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    parser.add_argument(
        "--size", default="1080x2400", metavar="WxH", help="screen in pixels (default 1080x2400)"
    )
    parser.add_argument(
        "--density", type=int, default=420, metavar="DPI", help="screen density (default 420)"
    )
    parser.add_argument(
        "--auth",
        choices=("accept", "deny", "off"),
        default="accept",
        help="new keys: accept (as if Allow were tapped; default), deny (the prompt is never "
        "answered), off (no authentication)",
    )
    parser.add_argument(
        "--adbkeyboard", action="store_true", help="install the ADBKeyboard IME (for Unicode)"
    )
    parser.add_argument(
        "--animation-ms", type=int, default=0, metavar="MS", help="app transition length"
    )
    parser.add_argument(
        "--displays",
        type=int,
        default=1,
        metavar="N",
        help="displays the phone has (1-3, default 1); with several, screencap without -d "
        "warns on stderr as on a foldable or an emulator with an external display",
    )
    parser.add_argument("--log-commands", action="store_true", help="print every command run")
    faults = parser.add_argument_group("faults (N counts the messages the device receives)")
    faults.add_argument("--drop-after", type=int, metavar="N", help="drop the connection once")
    faults.add_argument("--drop-every", type=int, metavar="N", help="drop it on every Nth")
    faults.add_argument(
        "--drop-when",
        choices=("before", "after", "alternate"),
        default="before",
        help="before: the message is discarded (default); after: it is handled, no answer "
        "is sent; alternate: after, before, ...",
    )
    faults.add_argument("--max-drops", type=int, metavar="N", help="stop dropping after N drops")
    faults.add_argument(
        "--drop-match", metavar="TEXT", help="count only commands containing TEXT for drops"
    )
    faults.add_argument("--silent-after", type=int, metavar="N", help="stop answering on the Nth")
    faults.add_argument(
        "--silent-seconds", type=float, metavar="S", help="end the silence after S s"
    )
    faults.add_argument(
        "--delay-ms", type=int, default=0, metavar="MS", help="wait before every reply"
    )
    faults.add_argument("--gone-after", type=int, metavar="N", help="vanish on the Nth message")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from pixelpilot.env.android.testdevice import AdbTestDevice, DeviceConfig, Faults

    size = Size.parse(args.size)
    try:
        faults = Faults(
            drop_after=args.drop_after,
            drop_every=args.drop_every,
            drop_when=args.drop_when,
            max_drops=args.max_drops,
            match=args.drop_match,
            silent_after=args.silent_after,
            silent_seconds=args.silent_seconds,
            delay_ms=args.delay_ms,
            gone_after=args.gone_after,
        )
        config = DeviceConfig(
            width=size.width,
            height=size.height,
            density=args.density,
            auth=args.auth,
            adbkeyboard=args.adbkeyboard,
            animation_ms=args.animation_ms,
            displays=args.displays,
            faults=faults,
        )
    except ValidationError as exc:
        raise config_error("android-testdevice", exc) from None
    if args.log_commands:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        device_log = logging.getLogger("pixelpilot.adbdevice")
        device_log.addHandler(handler)
        device_log.setLevel(logging.INFO)
    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port must be 0 (any free port) to 65535, got {args.port}")
    device = AdbTestDevice(config, host=args.host, port=args.port)
    try:
        device.start()
    except OSError as exc:
        raise UserError(
            f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}; pick another "
            "--port (0 picks a free one)"
        ) from None
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(
        f"pixelpilot test device listening on {device.serial} ({size}, {args.density} dpi); "
        f"use it with --env android --device {device.serial}",
        flush=True,
    )
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        device.stop()
    print("test device stopped", flush=True)
    return 0
