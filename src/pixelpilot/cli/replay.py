"""`pixelpilot replay`: run a recorded run's actions again on a fresh environment."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from pixelpilot.actions import Box, describe
from pixelpilot.agent import Step, load_run
from pixelpilot.agent.folder_lock import FolderLock, free_name
from pixelpilot.agent.replay import DIFF_THRESHOLD, replay_run
from pixelpilot.agent.report import write_run_report
from pixelpilot.cli.common import add_env_arguments, add_pairs_argument, env_options, parse_pairs
from pixelpilot.cli.safety import safety_settings
from pixelpilot.env import create_env
from pixelpilot.env.tasks import resolve_task
from pixelpilot.errors import ConfigError
from pixelpilot.model import Policy, create_policy


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "replay",
        help="replay a recorded run",
        description="Re-execute a recorded run's actions on a fresh environment, checking before "
        "each one that the screen still looks as recorded; stop as `diverged` (or hand over to "
        "--fallback-model) when it does not. Records a new run.",
    )
    parser.add_argument("run_dir", metavar="RUN_DIR", help="the recorded run directory")
    add_env_arguments(parser, required=False)
    parser.add_argument("--out", help="new run directory (default runs/<timestamp>-replay/)")
    parser.add_argument("--task", help="start this task instead of the recorded one")
    parser.add_argument(
        "--threshold",
        type=float,
        default=DIFF_THRESHOLD,
        metavar="PERCENT",
        help=f"largest screen difference still counted as the same screen (default "
        f"{DIFF_THRESHOLD:g}%%)",
    )
    parser.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="X,Y,W,H",
        help="a box in screenshot pixels left out of the comparison, e.g. a clock (repeatable)",
    )
    parser.add_argument("--fallback-model", metavar="SPEC", help="policy that takes over")
    add_pairs_argument(parser, "--fallback-model-opt", "an option of the fallback model")
    parser.add_argument("--max-steps", type=int, default=30, help="fallback step budget")
    parser.add_argument("--max-seconds", type=float, default=600.0, help="wall-clock budget, s")
    parser.add_argument("--confirm", action="store_true", help="ask before every action")
    parser.add_argument(
        "--allow-risk",
        action="store_true",
        help="let high-risk actions run without asking (blocked actions never run)",
    )
    parser.add_argument("--report", action="store_true", help="write report.html at the end")
    parser.set_defaults(handler=handle)


def parse_box(text: str) -> Box:
    """`X,Y,W,H` in screenshot pixels as a Box; anything else is a ConfigError."""
    parts = text.split(",")
    try:
        x, y, w, h = (int(p) for p in parts)
    except ValueError:
        raise ConfigError(f"--ignore expects X,Y,W,H in pixels, got {text!r}") from None
    if w <= 0 or h <= 0:
        raise ConfigError(f"--ignore needs a positive width and height, got {text!r}")
    return Box.from_xywh(x, y, w, h)


def handle(args: argparse.Namespace) -> int:
    record = load_run(args.run_dir)
    recorded_env = record.meta.get("env") or {}
    options: dict[str, Any] = {}
    if args.env is None:
        args.env = recorded_env.get("name") if isinstance(recorded_env, dict) else None
        if not args.env:
            raise ConfigError(f"{args.run_dir}/meta.json records no environment; pass --env")
        options = dict(recorded_env.get("options") or {})
    options.update(env_options(args, {}))
    ignore = [parse_box(text) for text in args.ignore]
    if not 0 <= args.threshold < 100:  # also refuses nan: a check that can never fire is none
        raise ConfigError(
            f"--threshold must be a percentage from 0 to below 100, got {args.threshold}"
        )
    task, suite = resolve_task(args.task) if args.task else (None, None)
    if suite is not None and args.env not in suite.environments:
        wanted = " or ".join(f"--env {name}" for name in suite.environments)
        raise ConfigError(f"task '{args.task}' runs with {wanted}, not --env {args.env}")
    out = Path(args.out or free_name(Path(f"runs/{time.strftime('%Y%m%d-%H%M%S')}-replay")))
    FolderLock(out).probe()  # a busy --out is refused before a model loads
    fallback: Policy | None = None
    if args.fallback_model:
        opts = parse_pairs(args.fallback_model_opt, "--fallback-model-opt")
        fallback = create_policy(args.fallback_model, opts)
    try:
        with create_env(args.env, options) as env:
            result = replay_run(
                args.run_dir,
                env,
                out=out,
                task=task,
                threshold=args.threshold,
                ignore=ignore,
                fallback=fallback,
                max_steps=args.max_steps,
                max_seconds=args.max_seconds,
                safety=safety_settings(args, {}, screenshots=out),
                meta={"env": {"name": args.env, "options": options}, "command": sys.argv},
                on_step=_print_step,
            )
    finally:
        if fallback is not None:
            fallback.close()
    trajectory = result.trajectory
    line = f"replay: {result.status}, {result.replayed} recorded action(s) replayed"
    if result.diverged_at is not None:
        line += (
            f"; the screen diverged at recorded step {result.diverged_at} "
            f"({result.difference:.2f}% > {args.threshold:g}%)"
        )
    if result.handed_over_at is not None:
        line += f"; {args.fallback_model} took over at recorded step {result.handed_over_at}"
    print(line)
    print(
        f"task {trajectory.judged}"
        + (" (judged by the environment)" if trajectory.outcome is not None else "")
    )
    print(f"run directory: {result.run_dir}")
    if args.report:
        print(f"report: {write_run_report(result.run_dir)}")
    return 0 if result.status != "diverged" and trajectory.ok else 1


def _print_step(step: Step) -> None:
    what = describe(step.action) if step.action is not None else "(no action)"
    if step.error:
        what += f"  ! {step.error}"
    print(f"step {step.index:>3}  {what}", flush=True)
