"""`pixelpilot ls envs|models|tasks|benchmarks`: what can be named on the command line."""

from __future__ import annotations

import argparse
from typing import Any

from pixelpilot.env import ENVIRONMENTS
from pixelpilot.env.tasks import TASK_SUITES
from pixelpilot.evals import BENCHMARKS
from pixelpilot.model import POLICIES


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("ls", help="list environments, models, tasks or benchmarks")
    parser.add_argument("what", choices=("envs", "models", "tasks", "benchmarks"))
    parser.set_defaults(handler=handle)


def task_lines() -> list[tuple[str, str]]:
    """One line per task of every task suite (plugins included), suite by suite."""
    lines: list[tuple[str, str]] = []
    for name in TASK_SUITES.names():
        suite = TASK_SUITES.load(name)
        where = (
            "--env " + " or ".join(suite.environments)
            if suite.environments
            else "pixelpilot eval " + suite.name
        )
        for task in suite.tasks():
            lines.append((task.name or "", f"({where}) {task.goal}"))
    return lines


def handle(args: argparse.Namespace) -> int:
    if args.what == "envs":
        rows = list(ENVIRONMENTS.describe())
    elif args.what == "models":
        rows = list(POLICIES.describe())
    elif args.what == "benchmarks":
        rows = list(BENCHMARKS.describe())
    else:
        rows = task_lines()
    width = max((len(name) for name, _ in rows), default=0)
    for name, text in rows:
        print(f"{name:<{width}}  {text}")
    return 0
