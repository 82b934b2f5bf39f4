"""`pixelpilot ls envs|models|tasks`: what can be named on the command line."""

from __future__ import annotations

import argparse
from typing import Any

from pixelpilot.env import ENVIRONMENTS
from pixelpilot.env.fake import FakeEnvConfig
from pixelpilot.model import POLICIES


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("ls", help="list environments, models or tasks")
    parser.add_argument("what", choices=("envs", "models", "tasks"))
    parser.set_defaults(handler=handle)


def task_lines() -> list[tuple[str, str]]:
    from pixelpilot.env.sandbox import list_tasks

    lines = [(task.name or "", task.goal) for task in list_tasks()]
    for screen in FakeEnvConfig().screens:
        lines.append((f"fake:{screen.name}", f"(fake env) open the {screen.name} screen"))
    return lines


def handle(args: argparse.Namespace) -> int:
    if args.what == "envs":
        rows = list(ENVIRONMENTS.describe())
    elif args.what == "models":
        rows = list(POLICIES.describe())
    else:
        rows = task_lines()
    width = max((len(name) for name, _ in rows), default=0)
    for name, text in rows:
        print(f"{name:<{width}}  {text}")
    return 0
