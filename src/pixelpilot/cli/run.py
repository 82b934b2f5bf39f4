"""`pixelpilot run`: one episode of a policy on an environment, recorded to a run directory."""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from rich.console import Console

from pixelpilot.actions import Task, describe
from pixelpilot.agent import BudgetExceeded, Deadline, Recorder, Step, Trajectory, run_episode
from pixelpilot.agent.folder_lock import FolderLock, holding, reserve_folder
from pixelpilot.agent.report import write_run_report
from pixelpilot.agent.safety import SafetySettings
from pixelpilot.agent.secrets import Secrets, SecretsEnv
from pixelpilot.agent.steps import Status
from pixelpilot.agent.trajectory import claim_run_dir
from pixelpilot.cli import TERMINATED, batch
from pixelpilot.cli.common import (
    add_env_arguments,
    add_model_arguments,
    env_options,
    load_config,
    model_options,
)
from pixelpilot.cli.safety import (
    add_safety_arguments,
    describe_secrets,
    load_secrets,
    safety_settings,
    with_allowed_origins,
)
from pixelpilot.env import Environment, create_env
from pixelpilot.env.tasks import resolve_task
from pixelpilot.errors import ConfigError, PixelpilotError, UserError
from pixelpilot.model import create_policy
from pixelpilot.versions import versions

RUN_KEYS = {"max_steps": int, "max_seconds": float, "out": str, "confirm": bool}
MAX_SECONDS = 30 * 24 * 3600.0
KIND_WORDS = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run one episode",
        description="Run a policy on an environment until it finishes, recording every step.",
    )
    add_env_arguments(parser)
    add_model_arguments(parser)
    parser.add_argument("--task", help="a goal in words, or a task name (sandbox:…)")
    parser.add_argument(
        "--tasks", metavar="FILE.jsonl", help="run many tasks, one JSON object a line (see docs)"
    )
    parser.add_argument(
        "--workers", type=int, default=1, metavar="N", help="with --tasks: N tasks at once"
    )
    parser.add_argument(
        "--ray", metavar="auto|local|ADDRESS", help="with --tasks: run the tasks in Ray actors"
    )
    parser.add_argument(
        "--resume", action="store_true", help="with --tasks: continue the batch in --out"
    )
    parser.add_argument("--max-steps", type=int, help="step budget (default 30)")
    parser.add_argument("--max-seconds", type=float, help="wall-clock budget in s (default 600)")
    parser.add_argument("--out", help="run directory (default runs/<timestamp>-<task>/)")
    parser.add_argument("--config", metavar="FILE.toml", help="options file ([run], [env.*], …)")
    parser.add_argument(
        "--report", action="store_true", help="write RUN_DIR/report.html at the end (see `show`)"
    )
    add_safety_arguments(parser)
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
    if not 0 < settings["max_seconds"] <= MAX_SECONDS:  # also refuses nan
        raise ConfigError(
            f"--max-seconds must be a number of seconds from 0 to {MAX_SECONDS:g} (30 days), "
            f"got {settings['max_seconds']}"
        )
    return settings


LINE_TEXT = 160  # characters of an action or error shown on a console line (the record is whole)


def _clip(text: str) -> str:
    return text if len(text) <= LINE_TEXT else f"{text[:LINE_TEXT]}... ({len(text)} characters)"


def step_line(step: Step) -> str:
    """One console line per step; an action that did not run is marked so."""
    t = step.timings
    timing = " ".join(
        f"{name} {t[key]:.2f}s"
        for name, key in (("capture", "capture"), ("predict", "predict"), ("execute", "execute"))
        if key in t
    )
    what = _clip(describe(step.action)) if step.action is not None else "(no action)"
    terminal = step.action is not None and step.action.type in ("answer", "terminate")
    if step.error:
        what += f"  ! {step.error_kind}: {_clip(step.error)}"
    elif step.action is not None and step.executed is None and not terminal:
        what += "  (not executed)"
    if step.extra_actions:
        what += f"  (+{len(step.extra_actions)} more call(s) in the output, not executed)"
    return f"step {step.index:>3}  {what}  [{timing}]"


def summary(trajectory: Trajectory) -> str:
    """One line that leads with the judged outcome, then how the episode ended.

    The policy's claim is shown as a claim ("the policy claimed success"), never as the result.
    """
    steps = f"after {len(trajectory.steps)} step(s)"
    if trajectory.outcome is not None:
        verdict = "task solved" if trajectory.outcome.success else "task NOT solved"
        lead = f"{verdict} (judged by the environment: {trajectory.outcome.detail})"
    elif trajectory.unjudged is not None:
        lead = f"task not judged ({trajectory.unjudged})"
    else:
        lead = "task not judged (the environment cannot check this task)"
    ended = f"episode ended: {trajectory.status} {steps}"
    if trajectory.reason:
        ended += f" ({trajectory.reason})"
    parts = [lead, ended]
    if trajectory.claim is not None:
        parts.append(f"the policy claimed {trajectory.claim}")
    if trajectory.answer is not None:
        parts.append(f"answer: {trajectory.answer!r}")
    return "result: " + "; ".join(parts)


CLOSE_SECONDS = 3.0


def close_within(close: Callable[[], None], what: str) -> None:
    """Call `close`, giving up after CLOSE_SECONDS (a hung browser or model must not keep the
    command running past its budget); a failure to close is one line on stderr."""
    try:
        with Deadline(CLOSE_SECONDS).guard(f"closing {what}"):
            close()
    except BudgetExceeded:
        print(f"pixelpilot: warning: {what} did not close within {CLOSE_SECONDS:g} s",
              file=sys.stderr)  # fmt: skip
    except Exception as exc:  # closing must never hide the run's result
        print(f"pixelpilot: warning: closing {what} failed: {type(exc).__name__}: {exc}",
              file=sys.stderr)  # fmt: skip


def exit_status(trajectory: Trajectory) -> int:
    """0 when the run counts as done (see `Trajectory.ok`), 130 when interrupted (143 by
    SIGTERM), 2 when a user mistake surfaced during the episode, else 1."""
    if trajectory.status == "interrupted":
        return 143 if trajectory.reason == TERMINATED else 130
    if trajectory.user_mistake:
        return 2
    return 0 if trajectory.ok else 1


def handle(args: argparse.Namespace) -> int:
    if (status := batch.dispatch(args)) is not None:
        return status
    config = load_config(args.config)
    settings = run_settings(args, config)
    secrets = load_secrets(args, config)
    task, suite = resolve_task(args.task)
    task = secrets.hide_in_task(task)
    if suite is not None and args.env not in suite.environments:
        wanted = " or ".join(f"--env {name}" for name in suite.environments)
        raise ConfigError(f"task '{task.name}' runs with {wanted}, not --env {args.env}")
    env_opts = env_options(args, config)
    model_opts = model_options(args, config)
    console = Console(highlight=False, markup=False, soft_wrap=True)

    def show(line: str) -> None:
        console.print(secrets.redact(line))

    # --out is checked, made and locked before anything starts (a busy, used or impossible one
    # is refused now, not after the environment and model loaded); the default name is made
    # unique (runs started in the same second); a start-up user mistake removes what was made
    # (an error's message is printed by main, which hides the loaded secrets)
    if settings["out"]:
        claim = claim_run_dir(Path(settings["out"]), what="--out")
    else:
        claim = reserve_folder(Path("runs") / f"{time.strftime('%Y%m%d-%H%M%S')}-{slug(task.goal)}")
    with holding(claim):  # the recorder takes it over (and releases it) once it is made
        out = claim.folder
        safety = safety_settings(args, config, screenshots=out)
        if safety.allowed_origins:  # [safety] allowed_origins also widen the browser's guard
            env_opts = with_allowed_origins(args.env, env_opts, safety.allowed_origins)
        trajectory = _run(args, task, settings, env_opts, model_opts, out, safety, secrets, show,
                          claim)  # fmt: skip
    show(summary(trajectory))
    show(f"run directory: {out}")
    if trajectory.user_mistake:  # the same one line on stderr as any user mistake
        message = trajectory.reason.partition(": ")[2] or trajectory.reason
        print(f"pixelpilot: error: {secrets.redact(message)}", file=sys.stderr)
    if args.report:
        show(f"report: {write_run_report(out)}")
    return exit_status(trajectory)


def _run(
    args: argparse.Namespace,
    task: Task,
    settings: dict[str, Any],
    env_opts: dict[str, Any],
    model_opts: dict[str, Any],
    out: Path,
    safety: SafetySettings,
    secrets: Secrets,
    show: Callable[[str], None],
    claim: FolderLock,
) -> Trajectory:
    """Build the environment and the policy, run the episode, and close both (bounded).
    `claim` holds `out` (see `claim_run_dir`): its recorder takes it over.

    A start-up that is interrupted (Ctrl-C, SIGTERM) or fails for a reason other than a user
    mistake (the environment or the model would not start) still leaves a run directory:
    meta.json and a result.json saying what happened, with no steps.
    """
    meta: dict[str, Any] = {
        "task": {"goal": task.goal, "name": task.name},
        "env": {"name": args.env, "options": env_opts},
        "model": {"spec": args.model, "options": model_opts},
        "run": settings,
        "safety": safety.describe(task),
        "secrets": describe_secrets(secrets),
        "versions": versions(),
        "command": sys.argv,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    started = time.time()

    def startup(doing: str, failed: Status) -> contextlib.AbstractContextManager[None]:
        record = Trajectory(task, failed, [], started_at=started)
        return _startup_record(out, meta, record, doing, secrets.redact_data, claim)

    with startup("starting the environment", "env_error"):
        env: Environment = create_env(args.env, env_opts)
    if secrets:
        env = SecretsEnv(env, secrets)
    try:
        with startup("loading the model", "error"):
            policy = create_policy(args.model, model_opts)
        try:
            with startup("checking the model", "error"):
                check = getattr(policy, "check_ready", None)
                if check is not None:
                    check()
            meta["model"].update(policy.describe())
            recorder = Recorder(out, meta=meta, redact=secrets.redact_data, claim=claim)
            show(f"task: {task.goal}")
            return run_episode(
                env,
                policy,
                task,
                max_steps=settings["max_steps"],
                max_seconds=settings["max_seconds"],
                safety=safety,
                recorder=recorder,
                on_step=lambda step: show(step_line(step)),
            )
        finally:
            close_within(policy.close, "the policy")
    finally:
        close_within(env.close, "the environment")


@contextlib.contextmanager
def _startup_record(
    out: Path,
    meta: dict[str, Any],
    record: Trajectory,
    doing: str,
    redact: Callable[[Any], Any],
    claim: FolderLock,
) -> Iterator[None]:
    """Write a run directory with no steps (`record`'s status, or "interrupted") when the block
    is interrupted or fails, then re-raise. Not for a user mistake: nothing ran, and the
    one-line error says what to change. Every record passes through `redact` (the run's
    secrets)."""
    try:
        yield
    except UserError:
        raise
    except (KeyboardInterrupt, Exception) as exc:
        if isinstance(exc, KeyboardInterrupt):
            why = str(exc) or "interrupted by the user (Ctrl-C)"
            record.status, record.reason = "interrupted", f"{why} while {doing}"
        else:
            record.reason = f"{type(exc).__name__}: {exc} (while {doing})"
            record.error_type = type(exc).__name__
        record.ended_at = time.time()
        with contextlib.suppress(PixelpilotError, OSError):  # the original error matters more
            recorder = Recorder(out, meta=meta, redact=redact, claim=claim)
            try:
                recorder.finish(record.result())
            finally:
                recorder.close()
        raise
