"""`pixelpilot run --tasks FILE.jsonl [--workers N]`: many episodes, one policy.

Each task (see `pixelpilot.evals.parallel.jobs` for the file format) runs in its own run
directory `OUT/NAME/` exactly as `pixelpilot run` writes one; `OUT/summary.json` and a table on
stdout summarise them. With `--ray auto|local|ADDRESS` the tasks run in Ray actors and the
driver writes their run directories. One policy serves every worker through the batching
front, in batches of up to N (one request per worker). Exit status: 0 when every task counts
as done, 1 otherwise, 130 on Ctrl-C (after the running tasks end; no summary is written then).

`OUT/tasks.json` records the batch and every setting that shapes its runs (`batch_settings`);
`--resume` continues an interrupted one in the same OUT with the same settings (finished tasks
kept, the others run; see `pixelpilot.evals.parallel.jobs_resume`).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from pixelpilot.actions import Task
from pixelpilot.agent import Recorder, run_episode
from pixelpilot.agent.folder_lock import FolderLock, claimed, free_name
from pixelpilot.agent.report import write_run_report
from pixelpilot.agent.safety import SafetySettings
from pixelpilot.agent.secrets import Secrets, SecretsEnv
from pixelpilot.cli.common import env_options, load_config, model_options
from pixelpilot.cli.safety import (
    describe_secrets,
    load_secrets,
    safety_settings,
    with_allowed_origins,
)
from pixelpilot.env import ENVIRONMENTS, Environment, create_env
from pixelpilot.env.tasks import resolve_task
from pixelpilot.errors import ConfigError, PixelpilotError
from pixelpilot.evals.parallel.jobs import (
    JobResult,
    LocalTasks,
    TaskExecutor,
    TaskLine,
    read_tasks,
    run_jobs,
    write_summary,
)
from pixelpilot.evals.parallel.jobs_resume import BatchPlan, plan_batch
from pixelpilot.model import POLICIES, Policy, create_policy
from pixelpilot.registry import validate_options
from pixelpilot.versions import versions


def dispatch(args: argparse.Namespace) -> int | None:
    """Run the task file when `--tasks` is given; None for a single `--task` run.

    Raises:
        ConfigError: both or neither of --task and --tasks, or --workers/--ray/--resume
            without --tasks.
    """
    tasks = getattr(args, "tasks", None)
    if tasks is None:
        if args.task is None:
            raise ConfigError("give --task TEXT (one episode) or --tasks FILE.jsonl (many)")
        if getattr(args, "workers", 1) != 1 or getattr(args, "ray", None):
            raise ConfigError("--workers and --ray run a task file: give --tasks FILE.jsonl")
        if getattr(args, "resume", False):
            raise ConfigError("--resume continues a task file's batch: give --tasks FILE.jsonl "
                              "and its --out DIR")  # fmt: skip
        return None
    if args.task is not None:
        raise ConfigError("give either --task or --tasks, not both")
    return handle_batch(args)


def handle_batch(args: argparse.Namespace) -> int:
    # cli.run imports this module (its dispatch line): import it here, once both are loaded.
    from pixelpilot.cli.run import run_settings

    config = load_config(args.config)
    settings = run_settings(args, config)
    if settings["confirm"]:
        raise ConfigError("--confirm asks on the terminal before each action: run tasks one by "
                          "one with --task")  # fmt: skip
    if args.workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {args.workers}")
    if (args.workers > 1 or args.ray) and getattr(
        ENVIRONMENTS.load(args.env), "one_per_process", False
    ):
        raise ConfigError(
            f"--env {args.env} runs one task at a time (it drives one display per process): give "
            "--workers 1 without --ray, or run the desktop: suite in parallel with "
            "`pixelpilot eval desktop --workers N`"
        )
    lines = read_tasks(Path(args.tasks))
    secrets = load_secrets(args, config)
    # Headless gate: a prompt from many workers at once cannot be answered.
    safety = dataclasses.replace(safety_settings(args, config, screenshots=None), ask=None)
    base_opts = env_options(args, config)
    if safety.allowed_origins:  # [safety] allowed_origins also widen the browser's own guard
        base_opts = with_allowed_origins(args.env, base_opts, safety.allowed_origins)
    for line in lines:  # every task's options and name checked before anything starts
        task, suite = resolve_task(line.task)
        if suite is not None and args.env not in suite.environments:
            wanted = " or ".join(f"--env {name}" for name in suite.environments)
            raise ConfigError(f"task {line.index + 1} ('{task.name}') runs with {wanted}")
        env_cls: Any = ENVIRONMENTS.load(args.env)
        options = {**base_opts, **line.env_opts}
        validate_options(env_cls.Config, options, f"task {line.index + 1}'s environment")
    resume = bool(getattr(args, "resume", False))
    if resume and not settings["out"]:
        raise ConfigError("--resume continues the batch in --out DIR: give --out")
    out = Path(settings["out"] or free_name(Path(f"runs/batch-{time.strftime('%Y%m%d-%H%M%S')}")))
    if ".." in out.parts:  # `zz/../b` with no zz: the folder meant is b
        out = out.resolve()
    model_opts = model_options(args, config)
    context = _Context(args, settings, base_opts, model_opts, safety, secrets)
    setup = {"tasks_file": str(args.tasks), "env": args.env, "model": args.model,
             "settings": batch_settings(context)}  # fmt: skip
    # one writer per batch folder: a second `run --tasks` (or --resume) on it is refused
    with _claim(out, resume):
        plan = plan_batch(out, lines, setup, resume=resume, redact=secrets.redact_data)
        console = Console(highlight=False, markup=False, soft_wrap=True)
        if resume:
            _print_plan(console, plan, secrets.redact)

        def done(result: JobResult, busy: int) -> None:
            finished[0] += 1
            count = f"[{finished[0]}/{len(lines)}]"
            text = f"{count} {result.line.name}: {result.status} after {result.steps} step(s)"
            console.print(secrets.redact(f"{text}{_verdict(result)} (busy {busy}/{args.workers})"))

        finished = [len(plan.kept)]
        results = _run(context, out, plan.todo, done) if plan.todo else []
        results = sorted([*plan.kept, *results], key=lambda r: r.line.index)
        info = {"model": args.model, "env": args.env, "workers": args.workers,
                "tasks_file": str(args.tasks), "started_at": plan.record["started_at"],
                "resumes": plan.record["resumes"]}  # fmt: skip
        write_summary(out / "summary.json", results, info)
        console.print(_table(results))
        console.print(secrets.redact(f"summary: {out / 'summary.json'}"))
        return 0 if len(results) == len(lines) and all(r.ok for r in results) else 1


def _claim(out: Path, resume: bool) -> contextlib.AbstractContextManager[Any]:
    """Hold `out` for the batch (checked, then created for a new one); nothing for a --resume
    of a folder that is not there (`plan_batch` says so)."""
    if not resume:
        return claimed(out)
    return FolderLock(out) if out.is_dir() else contextlib.nullcontext()


def batch_settings(context: _Context) -> dict[str, Any]:
    """Everything besides the environment, the model spec and the task lines that shapes
    every run of the batch, keyed by what a user calls it: recorded in OUT/tasks.json and the
    same on `--resume` or the resume is refused. Secrets by name and binding only (never a
    value); a config file by the sha256 of its content (any setting in it may shape a run).
    Options are recorded with their defaults filled in (`_effective`): `--env-opt width=1280`
    where 1280 is the default is the same batch as no option at all.
    Not here: what only changes how the batch is spread (--workers, --ray)."""
    args, safety = context.args, context.safety
    config = getattr(args, "config", None)
    digest = None
    if config is not None:  # load_config has read it already
        try:
            digest = "sha256:" + hashlib.sha256(Path(config).read_bytes()).hexdigest()
        except OSError as exc:
            raise ConfigError(f"cannot read config file {config}: {exc.strerror}") from None
    rules = safety.describe(Task(goal=""))
    secrets = {name: f"typed only on {', '.join(bound)}" if bound else "typed anywhere"
               for name, bound in describe_secrets(context.secrets).items()}  # fmt: skip
    env_cls: Any = ENVIRONMENTS.load(args.env)
    model = args.model.partition(":")[0]
    model_cls: Any = POLICIES.load(model) if model in POLICIES else None
    return {
        "env option": _effective(env_cls, context.base_opts, f"'{args.env}' environment"),
        "model option": _effective(model_cls, context.model_opts, f"'{model}' model"),
        "--max-steps": context.settings["max_steps"],
        "--max-seconds": context.settings["max_seconds"],
        "--allow-risk": safety.allow_high,
        "safety": {k: v for k, v in rules.items() if k not in ("allow_high", "mode")},
        "--secret": secrets,
        "--config": digest,
        "--report": bool(getattr(args, "report", False)),
    }


def _effective(cls: Any, options: dict[str, Any], component: str) -> dict[str, Any]:
    """`options` with every default filled in by the component's Config (validated, as JSON),
    so that an option given at its default value and one left out record alike; as given
    when there is no registered class to ask (a model a test or plugin supplies otherwise)."""
    if cls is None:
        return options
    config = validate_options(cls.Config, options, component)
    return dict(config.model_dump(mode="json"))


def _run(
    context: _Context, out: Path, todo: list[TaskLine], done: Callable[[JobResult, int], None]
) -> list[JobResult]:
    """Run `todo` with the command's policy on local workers or Ray; their results."""
    from pixelpilot.cli.run import close_within

    args, model_opts = context.args, context.model_opts
    ray_started = False
    policy: Policy | None = None
    try:
        executor: TaskExecutor
        if args.ray:
            from pixelpilot.evals.parallel.ray_backend import connect, policy_for_ray
            from pixelpilot.evals.parallel.ray_tasks import RayTasks

            ray_started = connect(args.ray)
            policy, target = policy_for_ray(
                args.model, model_opts, batch_size=args.workers, workers=args.workers
            )
            if getattr(policy, "shareable", True) is False and len(todo) > 1:
                raise ConfigError(  # its episodes on Ray cannot each start it afresh
                    f"{args.model} keeps its place between calls, so on Ray one episode would "
                    "go on where the last left off: run the batch without --ray"
                )
            executor = RayTasks(target, context.run_one, out, workers=args.workers, env=args.env)
        else:
            policy = create_policy(args.model, model_opts)
            executor = LocalTasks(policy, context.run_one, out, workers=args.workers,
                                  batch_size=args.workers)  # fmt: skip
        check = getattr(policy, "check_ready", None)
        if check is not None:
            check()
        return run_jobs(todo, executor, on_done=done)
    finally:
        if policy is not None:
            close_within(policy.close, "the policy")
        if ray_started:
            from pixelpilot.evals.parallel.ray_backend import import_ray

            import_ray().shutdown()


def _print_plan(console: Console, plan: BatchPlan, redact: Callable[[str], str]) -> None:
    """What a --resume keeps, warns of and moves aside; every line passes through `redact`
    (a folder's name may hold a secret's value)."""
    for warning in plan.warnings:
        print(redact(f"pixelpilot: warning: {warning}"), file=sys.stderr)
    console.print(f"resuming: {len(plan.kept)} finished task(s) kept, {len(plan.todo)} to run")
    for old, new in plan.set_aside:
        console.print(redact(f"unfinished run {old.name} moved aside to {new.name}"))


def _verdict(result: JobResult) -> str:
    if result.success is None:
        return ""
    return ", solved" if result.success else ", NOT solved"


def _table(results: list[JobResult]) -> Table:
    table = Table(title="tasks")
    for column in ("#", "name", "status", "steps", "solved", "seconds"):
        table.add_column(column)
    for r in results:
        solved = "-" if r.success is None else ("yes" if r.success else "no")
        table.add_row(str(r.line.index + 1), r.line.name, r.status, str(r.steps), solved,
                      f"{r.seconds:.1f}")  # fmt: skip
    return table


@dataclasses.dataclass
class _Context:
    args: argparse.Namespace
    settings: dict[str, Any]
    base_opts: dict[str, Any]
    model_opts: dict[str, Any]
    safety: SafetySettings
    secrets: Secrets

    def run_one(self, line: TaskLine, policy: Policy, root: Path) -> JobResult:
        """One task on a worker thread (here, or in a Ray actor): build its environment, run
        into `root/NAME/`, close (bounded)."""
        from pixelpilot.cli.run import close_within

        began = time.perf_counter()
        run_dir = root / line.name
        task, _ = resolve_task(line.task)
        task = self.secrets.hide_in_task(task)
        opts = {**self.base_opts, **line.env_opts}
        max_steps = line.max_steps or self.settings["max_steps"]
        max_seconds = line.max_seconds or self.settings["max_seconds"]
        try:
            env: Environment = create_env(self.args.env, opts)
        except PixelpilotError as exc:
            return JobResult(line, "env_error", 0, None, time.perf_counter() - began,
                             str(run_dir), f"the environment did not start: {exc}")  # fmt: skip
        if self.secrets:
            env = SecretsEnv(env, self.secrets)
        try:
            meta = {
                "task": {"goal": task.goal, "name": task.name, "index": line.index},
                "env": {"name": self.args.env, "options": opts},
                "model": {
                    "spec": self.args.model,
                    "options": self.model_opts,
                    **policy.describe(),
                },
                "run": {
                    **self.settings,
                    "max_steps": max_steps,
                    "max_seconds": max_seconds,
                    "out": str(run_dir),
                    "tasks_file": str(self.args.tasks),
                },
                "safety": self.safety.describe(task),
                "secrets": describe_secrets(self.secrets),
                "versions": versions(),
                "command": sys.argv,
                "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            }
            recorder = Recorder(run_dir, meta=meta, redact=self.secrets.redact_data)
            trajectory = run_episode(env, policy, task, max_steps=max_steps,
                                     max_seconds=max_seconds, safety=self.safety,
                                     recorder=recorder)  # fmt: skip
        finally:
            close_within(env.close, f"the environment of {line.name}")
        if getattr(self.args, "report", False):
            write_run_report(run_dir)
        success = trajectory.outcome.success if trajectory.outcome is not None else None
        return JobResult(line, trajectory.status, len(trajectory.steps), success,
                         time.perf_counter() - began, str(run_dir), trajectory.reason,
                         trajectory.ok)  # fmt: skip
