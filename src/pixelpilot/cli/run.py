"""`pixelpilot run`: one episode of a policy on an environment, recorded to a run directory."""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from pixelpilot.actions import describe
from pixelpilot.agent import Recorder, Step, Trajectory, run_episode, terminal_approver
from pixelpilot.cli.common import (
    add_env_arguments,
    add_model_arguments,
    env_options,
    load_config,
    model_options,
)
from pixelpilot.env import create_env
from pixelpilot.env.tasks import resolve_task
from pixelpilot.errors import ConfigError
from pixelpilot.model import create_policy
from pixelpilot.versions import versions

RUN_KEYS = {"max_steps": int, "max_seconds": float, "out": str, "confirm": bool}
KIND_WORDS = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run one episode",
        description="Run a policy on an environment until it finishes, recording every step.",
    )
    add_env_arguments(parser)
    add_model_arguments(parser)
    parser.add_argument("--task", required=True, help="a goal in words, or a task name (sandbox:…)")
    parser.add_argument("--max-steps", type=int, help="step budget (default 30)")
    parser.add_argument("--max-seconds", type=float, help="wall-clock budget in s (default 600)")
    parser.add_argument("--out", help="run directory (default runs/<timestamp>-<task>/)")
    parser.add_argument("--confirm", action="store_true", help="ask before each action")
    parser.add_argument("--config", metavar="FILE.toml", help="options file ([run], [env.*], …)")
    parser.set_defaults(handler=handle)


def slug(text: str) -> str:
    cleaned = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return cleaned[:40].rstrip("-") or "task"


def run_settings(args: argparse.Namespace, config: dict[str, Any]) -> dict[str, Any]:
    """[run] from the config file overridden by flags, validated."""
    table = config.get("run", {})
    if not isinstance(table, dict):
        raise ConfigError("config: [run] must be a table")
    unknown = set(table) - set(RUN_KEYS)
    if unknown:
        raise ConfigError(
            f"config: unknown [run] key(s) {', '.join(sorted(unknown))}; "
            f"known: {', '.join(RUN_KEYS)}"
        )
    settings: dict[str, Any] = {
        "max_steps": 30,
        "max_seconds": 600.0,
        "out": None,
        "confirm": False,
    }
    for key, kind in RUN_KEYS.items():
        if key in table:
            value = table[key]
            if kind is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, kind) or isinstance(value, bool) != (kind is bool):
                raise ConfigError(f"config: [run] {key} must be {KIND_WORDS[kind]}, got {value!r}")
            settings[key] = value
    for key in ("max_steps", "max_seconds", "out"):
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    settings["confirm"] = settings["confirm"] or args.confirm
    if settings["max_steps"] < 1:
        raise ConfigError(f"--max-steps must be at least 1, got {settings['max_steps']}")
    if settings["max_seconds"] <= 0:
        raise ConfigError(f"--max-seconds must be positive, got {settings['max_seconds']}")
    return settings


def step_line(step: Step) -> str:
    t = step.timings
    timing = " ".join(
        f"{name} {t[key]:.2f}s"
        for name, key in (("capture", "capture"), ("predict", "predict"), ("execute", "execute"))
        if key in t
    )
    what = describe(step.action) if step.action is not None else "(no action)"
    if step.error:
        what += f"  ! {step.error_kind}: {step.error}"
    return f"step {step.index:>3}  {what}  [{timing}]"


def summary(trajectory: Trajectory) -> str:
    parts = [f"result: {trajectory.status} after {len(trajectory.steps)} step(s)"]
    if trajectory.reason:
        parts.append(f"({trajectory.reason})")
    if trajectory.outcome is not None:
        verdict = "solved" if trajectory.outcome.success else "not solved"
        parts.append(f"- task {verdict}")
    if trajectory.answer is not None:
        parts.append(f"- answer: {trajectory.answer!r}")
    return " ".join(parts)


def handle(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    settings = run_settings(args, config)
    task, suite = resolve_task(args.task)
    if suite is not None and args.env not in suite.environments:
        wanted = " or ".join(f"--env {name}" for name in suite.environments)
        raise ConfigError(f"task '{task.name}' runs with {wanted}, not --env {args.env}")
    env_opts = env_options(args, config)
    model_opts = model_options(args, config)
    out = Path(settings["out"] or f"runs/{time.strftime('%Y%m%d-%H%M%S')}-{slug(args.task)}")
    console = Console(highlight=False, markup=False, soft_wrap=True)
    with create_env(args.env, env_opts) as env:
        policy = create_policy(args.model, model_opts)
        try:
            meta = {
                "task": {"goal": task.goal, "name": task.name},
                "env": {"name": args.env, "options": env_opts},
                "model": {"spec": args.model, "options": model_opts, **policy.describe()},
                "run": settings,
                "versions": versions(),
                "command": sys.argv,
                "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            }
            recorder = Recorder(out, meta=meta)
            console.print(f"task: {task.goal}")
            trajectory = run_episode(
                env,
                policy,
                task,
                max_steps=settings["max_steps"],
                max_seconds=settings["max_seconds"],
                approve=terminal_approver(out=sys.stdout) if settings["confirm"] else None,
                recorder=recorder,
                on_step=lambda step: console.print(step_line(step)),
            )
        finally:
            policy.close()
    console.print(summary(trajectory))
    console.print(f"run directory: {out}")
    if trajectory.status == "interrupted":
        return 130
    solved = trajectory.outcome.success if trajectory.outcome else None
    ok = solved if solved is not None else trajectory.status in ("success", "answered")
    return 0 if ok else 1
