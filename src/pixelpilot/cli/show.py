"""`pixelpilot show`: write a run's report.html (and optionally a GIF) and open it."""

from __future__ import annotations

import argparse
import webbrowser
from typing import Any

from pixelpilot.agent.report import write_gif, write_run_report


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "show",
        help="write a run's HTML report",
        description="Write RUN_DIR/report.html: every step's screenshot with its action drawn, "
        "the model's output, errors, approvals and timings; no network needed to view it.",
    )
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a run directory written by `run`")
    parser.add_argument("--open", action="store_true", help="open the report in a web browser")
    parser.add_argument("--gif", metavar="OUT.gif", help="also write an animated GIF of the run")
    parser.add_argument(
        "--embed",
        action="store_true",
        help="put the screenshots inside report.html (one file to send; larger)",
    )
    parser.add_argument(
        "--out", metavar="FILE.html", help="report path (default RUN_DIR/report.html)"
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    path = write_run_report(args.run_dir, out=args.out, embed=args.embed)
    print(f"report: {path}")
    if args.gif:
        print(f"gif: {write_gif(args.run_dir, args.gif)}")
    if args.open and not webbrowser.open(path.resolve().as_uri()):
        print("pixelpilot: no web browser could be opened; open the file above by hand")
    return 0
