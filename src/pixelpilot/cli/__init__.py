"""The `pixelpilot` command. It only parses arguments and calls library functions.

Each subcommand lives in its own module of this package and exposes
`register(subparsers) -> None`, which adds its parser and sets `handler=function(args) -> int`.
Every user mistake (a `UserError`) is printed as one line and exits with status 2; any other
pixelpilot error (a device or browser failing outside an episode) is one line with status 1;
Ctrl-C is 130 and SIGTERM 143, each after the run's record is finished.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from pixelpilot import __version__
from pixelpilot.cli.redaction import forget, redact
from pixelpilot.errors import PixelpilotError, UserError

# Subcommand modules, in the order `pixelpilot --help` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "run",
    "show",
    "replay",
    "ls",
    "calibrate",
    "eval",
    "android",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pixelpilot",
        description="GUI computer-use agents: screenshots in, grounded pixel actions out.",
    )
    parser.add_argument("--version", action="version", version=f"pixelpilot {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"pixelpilot.cli.{name}")
        module.register(subparsers)
    return parser


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: the episode's record is finished and every process that
    pixelpilot started (Xvfb, Chromium, servers) is stopped on the way out."""


TERMINATED = "terminated by SIGTERM"


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise Terminated(TERMINATED)


class _SecondInterrupt:
    """SIGINT: the first raises KeyboardInterrupt (the record is finished and every process
    pixelpilot started is stopped, within a bounded time); a second one while that runs only
    says so, instead of cutting the clean-up short (which left a native thread pool to abort
    the process with SIGABRT)."""

    def __init__(self) -> None:
        self.stopping = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if self.stopping:
            print("pixelpilot: already stopping (finishing the record)", file=sys.stderr)
            return
        self.stopping = True
        raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `pixelpilot` console script; returns the exit status.

    0 done, 1 failed (a pixelpilot error, a task judged not solved, an unexpected error), 2 a
    user mistake, 130 Ctrl-C, 143 SIGTERM. Every case is one line on stderr, never a traceback
    (set PIXELPILOT_DEBUG=1 to see the traceback of an unexpected error).
    """
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if in_main_thread else None
    previous_int = signal.signal(signal.SIGINT, _SecondInterrupt()) if in_main_thread else None
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        handler = getattr(args, "handler", None)
        if handler is None:
            parser.print_help()
            return 2
        status: int = handler(args)
    except UserError as exc:
        print(f"pixelpilot: error: {redact(str(exc))}", file=sys.stderr)
        return 2
    except PixelpilotError as exc:
        # an infrastructure failure outside an episode (e.g. a browser that crashed while
        # calibrating): one line, not a traceback; exit 1 because it is not a usage error
        print(f"pixelpilot: {type(exc).__name__}: {redact(str(exc))}", file=sys.stderr)
        return 1
    except Terminated:
        print(f"pixelpilot: {TERMINATED}", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("pixelpilot: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("PIXELPILOT_DEBUG"):
            raise
        print(
            f"pixelpilot: unexpected error: {type(exc).__name__}: {redact(str(exc))} "
            "(set PIXELPILOT_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        return 1
    finally:
        forget()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if previous_int is not None:
            signal.signal(signal.SIGINT, previous_int)
    return status


if __name__ == "__main__":
    sys.exit(main())
