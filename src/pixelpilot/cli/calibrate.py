"""`pixelpilot calibrate`: click known targets on an environment's calibration surface and report
where each click landed, read back from the screen. Exit status 0 when the worst error is within
--tolerance pixels, 1 when it is not.
"""

from __future__ import annotations

import argparse
from typing import Any

from pixelpilot.cli.common import add_env_arguments, env_options, load_config
from pixelpilot.env import create_env
from pixelpilot.env.calibrate import calibrate, format_report
from pixelpilot.errors import ConfigError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "calibrate",
        help="measure click accuracy on an environment",
        description=(
            "Show the environment's calibration surface, click targets through the normal "
            "action path and measure, from screenshots, how far each click landed from its "
            "target. The last line is `max error: N px`."
        ),
    )
    add_env_arguments(parser)
    parser.add_argument(
        "--count", type=int, default=12, help="number of targets (default 12: a 3x3 grid + 3)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for the random targets")
    parser.add_argument(
        "--tolerance",
        type=float,
        default=1.0,
        metavar="PX",
        help="largest acceptable error in screenshot pixels; exit 1 above it (default 1.0)",
    )
    parser.add_argument("--config", metavar="FILE.toml", help="options file ([env.NAME])")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    if args.count < 1:
        raise ConfigError(f"--count must be at least 1, got {args.count}")
    if not args.tolerance >= 0:
        raise ConfigError(f"--tolerance must be a distance >= 0 px, got {args.tolerance}")
    options = env_options(args, load_config(args.config))
    with create_env(args.env, options) as env:
        report = calibrate(env, count=args.count, seed=args.seed)
    print(format_report(report))
    return 0 if report.max_error <= args.tolerance else 1
