"""`pixelpilot eval BENCH`: run a policy on a benchmark, or re-score saved predictions.

Benchmark options come from the named flags below (each accepted only by benchmarks whose
Options declare it) or `--bench-opt KEY=VALUE`; model options from `--model-opt` and the
config file's [model.NAME] table.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from pixelpilot.agent.folder_lock import FolderLock, free_name
from pixelpilot.cli.common import (
    add_model_arguments,
    add_pairs_argument,
    load_config,
    model_options,
    parse_pairs,
    section,
)
from pixelpilot.errors import ConfigError
from pixelpilot.evals import BENCHMARKS, EvalResult, create_benchmark, evaluate, rescore
from pixelpilot.evals.base import Benchmark
from pixelpilot.evals.runner import merge_policy_options
from pixelpilot.model import POLICIES, Policy, create_policy

# flag destination -> option name in the benchmark's Options
BENCH_FLAGS: dict[str, str] = {
    "images": "images",
    "setting": "setting",
    "protocol": "protocol",
    "split": "split",
    "splits": "splits",
    "steps": "steps",
    "tasks": "tasks",
    "episodes": "episodes",
    "zoom": "zoom",
    "crop": "crop",
    "time_limit_ms": "time_limit_ms",
}


def register(subparsers: Any) -> None:
    names = ", ".join(BENCHMARKS.names())
    parser = subparsers.add_parser(
        "eval",
        help="evaluate a model on a benchmark",
        description="Run a policy on a benchmark and write predictions.jsonl, report.json, "
        "report.md and report.html; or re-score a saved predictions.jsonl without a model.",
    )
    parser.add_argument("benchmark", metavar="BENCH", help=f"one of: {names}")
    parser.add_argument("--data", metavar="PATH", help="the benchmark's data folder or file")
    add_model_arguments(parser, required=False)
    parser.add_argument("--out", metavar="DIR", help="output folder (default evals/<bench>-<time>)")
    parser.add_argument("--limit", type=int, metavar="N", help="only the first N samples")
    parser.add_argument("--batch-size", type=int, default=1, metavar="B", help="samples per batch")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="samples at once: N browsers for miniwob, N processes with a display each for "
        "desktop, N loaders for offline benchmarks; one model serves them all in batches of "
        "--batch-size",
    )
    parser.add_argument(
        "--ray",
        metavar="auto|local|ADDRESS",
        help="run the workers as Ray actors on a cluster (auto: the one this machine is in; "
        "local: start one here); the model runs in one actor, or behind --model openai:...",
    )
    parser.add_argument(
        "--ray-gpus",
        type=float,
        metavar="G",
        help="GPUs for the model's actor (default: 1 for qwen25vl when the cluster has one)",
    )
    parser.add_argument(
        "--predictions", metavar="FILE", help="re-score this predictions.jsonl (no model)"
    )
    parser.add_argument("--resume", action="store_true", help="continue an interrupted run")
    parser.add_argument("--strict", action="store_true", help="stop at the first data problem")
    parser.add_argument("--no-progress", action="store_true", help="no live progress bar")
    parser.add_argument("--config", metavar="FILE.toml", help="options file ([model.*], [bench.*])")
    group = parser.add_argument_group("benchmark options")
    group.add_argument("--images", metavar="DIR", help="screenspot*: the screenshot folder")
    group.add_argument(
        "--setting", choices=("low", "high"), help="androidcontrol: instruction level"
    )
    group.add_argument(
        "--protocol", choices=("distance", "box"), help="androidcontrol: scorer A or B"
    )
    group.add_argument("--split", help="androidcontrol: split of splits.json (default test)")
    group.add_argument("--splits", metavar="FILE", help="androidcontrol: the splits.json")
    group.add_argument("--steps", metavar="FILE", help="androidcontrol: list of step ids")
    group.add_argument("--tasks", metavar="A,B,C", help="miniwob: tasks to run (default all)")
    group.add_argument("--episodes", type=int, metavar="N", help="miniwob: episodes per task")
    group.add_argument(
        "--zoom", type=float, metavar="F", help="miniwob: device pixels per CSS pixel (default 3)"
    )
    group.add_argument(
        "--crop",
        action=argparse.BooleanOptionalAction,
        help="miniwob: show only the task area (default) or the whole viewport",
    )
    group.add_argument(
        "--time-limit-ms", type=int, metavar="MS", help="miniwob: core.EPISODE_MAX_TIME"
    )
    add_pairs_argument(group, "--bench-opt", "any other option of the benchmark")
    parser.set_defaults(handler=handle)


def bench_options(args: argparse.Namespace, config: dict[str, Any]) -> dict[str, Any]:
    """The benchmark's options: [bench.NAME] from the config file, flags, then --bench-opt.

    Raises:
        ConfigError: a flag was given that the benchmark does not take.
    """
    cls = BENCHMARKS.load(args.benchmark)
    fields = cls.Options.model_fields
    options = section(config, "bench", args.benchmark)
    for dest, option in BENCH_FLAGS.items():
        value = getattr(args, dest, None)
        if value is None:
            continue
        if option not in fields:
            raise ConfigError(f"--{dest} does not apply to {args.benchmark}")
        options[option] = value
    options.update(parse_pairs(args.bench_opt, "--bench-opt"))
    return options


def handle(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = Path(args.out or free_name(Path(f"evals/{args.benchmark}-{stamp}")))
    options = bench_options(args, config)
    if "trajectories" in BENCHMARKS.load(args.benchmark).Options.model_fields:
        # Online benchmarks keep each episode's run directory beside the predictions.
        options.setdefault("trajectories", str(out / "trajectories"))
    benchmark = create_benchmark(args.benchmark, options)
    data = Path(args.data) if args.data else None
    if data is None and benchmark.needs_data:
        raise ConfigError(f"{args.benchmark} needs --data PATH (the benchmark's data folder)")
    if args.limit is not None and args.limit < 1:
        raise ConfigError(f"--limit must be at least 1, got {args.limit}")
    if args.workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {args.workers}")
    FolderLock(out).probe()  # a busy --out is refused before a model loads
    if options.get("trajectories"):  # episodes' run directories, when not inside --out
        FolderLock(Path(options["trajectories"]), what="--bench-opt trajectories").probe()
    if args.predictions:
        if args.model or args.resume:
            raise ConfigError("--predictions re-scores saved output: drop --model and --resume")
        result = rescore(
            benchmark,
            Path(args.predictions),
            data=data,
            out=out,
            limit=args.limit,
            strict=args.strict,
        )
    else:
        if not args.model:
            raise ConfigError("give --model SPEC to run a model, or --predictions FILE to re-score")
        backend: Any = POLICIES.load(args.model.partition(":")[0])
        options = merge_policy_options(
            backend.Config, model_options(args, config), benchmark.policy_options()
        )
        if args.ray:
            result = evaluate_on_ray(args, benchmark, options, data, out)
            print(summary_line(result))
            return 0
        policy = create_policy(args.model, options)
        try:
            result = evaluate(
                benchmark,
                policy,
                data=data,
                out=out,
                model_info={"spec": args.model, "options": options, **policy.describe()},
                limit=args.limit,
                batch_size=args.batch_size,
                resume=args.resume,
                strict=args.strict,
                progress=not args.no_progress,
                workers=args.workers,
            )
        finally:
            policy.close()
            benchmark.close()
    print(summary_line(result))
    return 0


def evaluate_on_ray(
    args: argparse.Namespace,
    benchmark: Benchmark[Any],
    options: dict[str, Any],
    data: Path | None,
    out: Path,
) -> EvalResult:
    """`evaluate` with the workers as Ray actors: the policy in one actor (an `openai:` spec:
    each worker its own client), the driver writing every file.

    Raises:
        MissingExtraError: Ray is not installed.
        ConfigError: no cluster at --ray's address, or a worker cannot be placed, or the
            benchmark needs worker processes of its own (the desktop).
    """
    if getattr(benchmark, "worker_processes", False):
        raise ConfigError(
            f"{benchmark.name} does not run on Ray (each worker needs a private display that "
            "this machine starts and stops): drop --ray and give --workers N"
        )
    from pixelpilot.evals.parallel.ray_backend import (
        RayExecutor,
        connect,
        import_ray,
        policy_for_ray,
    )

    started = connect(args.ray)
    policy: Policy | None = None
    try:
        policy, target = policy_for_ray(
            args.model,
            options,
            batch_size=args.batch_size,
            workers=args.workers,
            num_gpus=args.ray_gpus,
        )
        executor = RayExecutor(benchmark, target, workers=args.workers)
        return evaluate(
            benchmark,
            policy,
            data=data,
            out=out,
            model_info={"spec": args.model, "options": options, **policy.describe()},
            limit=args.limit,
            batch_size=args.batch_size,
            resume=args.resume,
            strict=args.strict,
            progress=not args.no_progress,
            executor=executor,
        )
    finally:
        if policy is not None:
            policy.close()
        benchmark.close()
        if started:
            import_ray().shutdown()


def summary_line(result: EvalResult) -> str:
    report = result.report
    headline = report["headline"]
    value = "-" if headline["percent"] is None else f"{headline['percent']:.2f}%"
    counts = report["counts"]
    line = (
        f"{report['benchmark']}: {headline['metric']} {value} over {counts['scored']} scored "
        f"of {counts['samples']} samples ({counts['unparsed']} unparsed)"
    )
    if counts["problems"]:
        line += f"; {counts['problems']} problem(s) listed in the report"
    return f"{line}\nreport: {result.out / 'report.md'}\npage: {result.out / 'report.html'}"
