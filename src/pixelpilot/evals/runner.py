"""Runs a benchmark: samples -> predictions.jsonl -> scores -> report.json + report.md.

`evaluate` predicts (resuming when asked) and `rescore` judges a saved predictions.jsonl
without any model. Both score through the same loop over the data set, so a re-scored file
gives the same report as the run that wrote it (only `provenance.report` differs).

Files in the output folder:
- run.json: what the predictions were made with (benchmark, data checksum, model, versions);
  a resumed run must match it.
- predictions.jsonl: one record per sample, with `correct`.
- report.json, report.md, report.html (with a gallery of samples; see report_html).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from pixelpilot.agent.folder_lock import FolderLock, claimed
from pixelpilot.errors import ConfigError
from pixelpilot.evals.base import Benchmark, Dataset, Problems, Record, Score
from pixelpilot.evals.outcome import (
    EvalResult,
    Taken,
    finish,
    leftovers,
    provenance_of,
    score_sample,
    take_saved,
)
from pixelpilot.evals.parallel import EvalProgress, Executor, LocalExecutor, run_pool
from pixelpilot.evals.parallel.process import ProcessExecutor
from pixelpilot.evals.records import (
    PredictionWriter,
    check_same_run,
    fingerprint,
    now,
    read_predictions,
    read_run,
    write_json,
)
from pixelpilot.evals.report_html import Gallery
from pixelpilot.model import Policy
from pixelpilot.versions import versions

PREDICTIONS = "predictions.jsonl"
RUN_FILE = "run.json"
_Progress = EvalProgress  # the bar's former name here


def merge_policy_options(
    config: type[BaseModel], options: dict[str, Any], wanted: dict[str, Any]
) -> dict[str, Any]:
    """`options` plus each benchmark-requested option that the backend's `config` model
    declares (an option the user set wins; a backend without it, e.g. the scripted one, gets
    none)."""
    merged = dict(options)
    for key, value in wanted.items():
        if key in config.model_fields and key not in merged:
            merged[key] = value
    return merged


def evaluate(
    benchmark: Benchmark[Any],
    policy: Policy,
    *,
    data: Path | None,
    out: Path,
    model_info: dict[str, Any],
    limit: int | None = None,
    batch_size: int = 1,
    resume: bool = False,
    strict: bool = False,
    progress: bool = True,
    on_batch: Callable[[list[Record]], None] | None = None,
    workers: int = 1,
    executor: Executor | None = None,
) -> EvalResult:
    """Predict every sample (or the first `limit`), score, and write the report files.

    Args:
        benchmark: the benchmark to run.
        policy: the policy; its `predict_batch` gets up to `batch_size` items at a time.
        data: the data set path (None for benchmarks that need none).
        out: the output folder (created).
        model_info: the model's provenance ({"spec", "options", **policy.describe()}).
        limit: score only the first `limit` samples in benchmark order.
        batch_size: samples per `predict_batch` call.
        resume: continue `out/predictions.jsonl`, skipping samples it already holds.
        strict: stop at the first data problem (EvalDataError) instead of listing it.
        progress: show the live progress bar.
        on_batch: called with each batch's records after they are written (with workers:
            each sample's, from a worker thread, under the pool's lock).
        workers: samples run at once (see `pixelpilot.evals.parallel`); the report equals a
            sequential run's for a deterministic policy.
        executor: where the workers run (default: threads here sharing `policy`, or worker
            processes (`ProcessExecutor`) for a benchmark that declares `worker_processes`,
            the desktop; the Ray backend's `RayExecutor` for a cluster); its worker count wins
            over `workers`.

    Raises:
        ConfigError: `out` already holds predictions and `resume` is off, or a resumed run's
            settings differ from the saved ones.
        UserError: another pixelpilot process is writing `out` (`FolderLock`).
        EvalDataError: with `strict`, the first data problem.
        PolicyError: the policy backend failed (finished batches stay saved: use resume).
    """
    if batch_size < 1:
        raise ConfigError(f"--batch-size must be at least 1, got {batch_size}")
    own = executor is None and workers > 1
    _check_new(out / PREDICTIONS, resume)
    problems = Problems(strict=strict)
    dataset = benchmark.load(data, problems, for_prediction=True)  # a data mistake makes no --out
    with claimed(out) as lock:  # one writer: a second run (or --resume) on `out` is refused
        _check_new(lock.folder / PREDICTIONS, resume)  # again: written before the lock was ours?
        return _evaluate(benchmark, policy, data=data, out=lock.folder, model_info=model_info,
                         limit=limit, batch_size=batch_size, resume=resume, problems=problems,
                         dataset=dataset, progress=progress, on_batch=on_batch,
                         workers=workers, executor=executor, own=own)  # fmt: skip


def _check_new(pred_path: Path, resume: bool) -> None:
    if pred_path.exists() and pred_path.stat().st_size and not resume:
        raise ConfigError(
            f"{pred_path} already exists: pass --resume to continue it, or another --out"
        )


def _evaluate(
    benchmark: Benchmark[Any],
    policy: Policy,
    *,
    data: Path | None,
    out: Path,
    model_info: dict[str, Any],
    limit: int | None,
    batch_size: int,
    resume: bool,
    problems: Problems,
    dataset: Dataset[Any],
    progress: bool,
    on_batch: Callable[[list[Record]], None] | None,
    workers: int,
    executor: Executor | None,
    own: bool,
) -> EvalResult:
    pred_path = out / PREDICTIONS
    total = dataset.total
    if limit is not None:
        total = limit if total is None else min(total, limit)
    if own:  # never more workers (browsers, displays, processes) than samples
        count = workers if total is None else max(1, min(workers, total))
        # one process per worker where the benchmark needs it (the desktop), else threads
        kind = ProcessExecutor if getattr(benchmark, "worker_processes", False) else LocalExecutor
        executor = kind(benchmark, policy, workers=count, batch_size=batch_size)
    workers = executor.workers if executor is not None else 1
    run = {
        "benchmark": benchmark.describe(),
        "data": {"path": str(data) if data else None, "checksum": fingerprint(dataset.files)},
        "model": model_info,
        "run": {"batch_size": batch_size, "workers": workers, "limit": limit, "started": now()},
        "versions": versions(),
    }
    existing: dict[str, Record] = {}
    if resume and pred_path.exists():
        saved = check_same_run(out / RUN_FILE, run)
        existing = read_predictions(pred_path, problems, repair=True)
        # Keep the first start and versions; the limit and batch size are this run's.
        saved_run = saved.get("run", {})
        resumed = [*saved_run.get("resumed", []), run["run"]["started"]]
        run = {**saved, "run": {**saved_run, **run["run"], "started": saved_run.get("started")}}
        run["run"]["resumed"] = resumed
    write_json(out / RUN_FILE, run)
    scores: list[Score] = []
    records: list[Record] = []
    cards = Gallery(out)  # report.html's gallery
    pending: list[Any] = []
    taken = Taken(dataset.samples, limit)

    with (
        PredictionWriter(pred_path, append=resume) as writer,
        EvalProgress(benchmark.title, total, enabled=progress, workers=workers) as bar,
    ):
        if executor is not None:
            try:
                finished = run_pool(
                    benchmark,
                    executor,
                    taken,
                    problems,
                    batch_size=batch_size,
                    take_saved=lambda sample: take_saved(benchmark, sample, existing, problems),
                    score=score_sample,
                    writer=writer,
                    bar=bar,
                    on_batch=on_batch,
                )
            finally:
                if own:
                    executor.shutdown()
            for item in finished:
                scores.append(item.score)
                records.append(item.record)
                cards.add(item.sample, item.record, item.score)

        else:

            def flush() -> None:
                by_id = {sample.id: sample for sample in pending}
                batch = benchmark.predict(policy, pending, problems)
                batch_scores = []
                for record in batch:
                    score = score_sample(benchmark, by_id[record["id"]], record, problems)
                    record["correct"] = score.correct
                    batch_scores.append(score)
                    cards.add(by_id[record["id"]], record, score)
                writer.write(batch)
                scores.extend(batch_scores)
                records.extend(batch)
                bar.advance(len(pending), batch_scores)
                if on_batch is not None:
                    on_batch(batch)
                pending.clear()

            for sample in taken:
                done = take_saved(benchmark, sample, existing, problems)
                if done is not None:
                    scores.append(done[0])
                    records.append(done[1])
                    cards.add(sample, done[1], done[0])
                    bar.advance(1, [done[0]])
                    continue
                pending.append(sample)
                if len(pending) >= batch_size:
                    flush()
            if pending:
                flush()
    notes: list[str] = []
    leftovers(existing, limit, problems, notes)
    provenance = provenance_of(run, dataset.info, mode="predict", source=pred_path)
    return finish(benchmark, out, scores, records, taken.count, problems, provenance, notes, cards)


def rescore(
    benchmark: Benchmark[Any],
    predictions: Path,
    *,
    data: Path | None,
    out: Path,
    limit: int | None = None,
    strict: bool = False,
) -> EvalResult:
    """Score a saved predictions.jsonl against the data set; no model is loaded.

    Only each record's `id` and the benchmark's answer fields (`point`, `action`) are read.
    Writes `out/predictions.jsonl` (the records in data order with `correct` recomputed) and
    the report files. The model provenance comes from a run.json beside `predictions`, and so
    does the default `limit` (the limit the predictions were made with).

    Raises:
        ConfigError: `predictions` cannot be read.
        UserError: another pixelpilot process is writing `out` (`FolderLock`).
        EvalDataError: with `strict`, the first data problem.
    """
    if not predictions.is_file():  # before --out is made
        why = "is a folder" if predictions.is_dir() else "no such file"
        raise ConfigError(f"--predictions {predictions}: {why}: give a predictions.jsonl file")
    FolderLock(out).probe()
    problems = Problems(strict=strict)
    dataset = benchmark.load(data, problems, for_prediction=False)  # a data mistake makes no --out
    with claimed(out) as lock:  # it may be the folder `predictions` is in
        return _rescore(benchmark, predictions, data=data, out=lock.folder, limit=limit,
                        problems=problems, dataset=dataset)  # fmt: skip


def _rescore(
    benchmark: Benchmark[Any],
    predictions: Path,
    *,
    data: Path | None,
    out: Path,
    limit: int | None,
    problems: Problems,
    dataset: Dataset[Any],
) -> EvalResult:
    try:
        saved = read_predictions(predictions, problems)
    except OSError as exc:
        raise ConfigError(f"--predictions {predictions}: {exc.strerror}") from None
    previous = read_run(predictions.parent / RUN_FILE)
    if limit is None and previous is not None:
        saved_limit = previous.get("run", {}).get("limit")
        limit = saved_limit if isinstance(saved_limit, int) else None
    scores: list[Score] = []
    records: list[Record] = []
    cards = Gallery(out)  # report.html's gallery
    taken = Taken(benchmark.rescore_samples(dataset.samples, set(saved)), limit)
    for sample in taken:
        done = take_saved(benchmark, sample, saved, problems)
        if done is not None:
            scores.append(done[0])
            records.append({**done[1], "correct": done[0].correct})
            cards.add(sample, records[-1], done[0])
    notes: list[str] = []
    leftovers(saved, limit, problems, notes)
    tmp = out / (PREDICTIONS + ".tmp")
    with PredictionWriter(tmp, append=False) as writer:
        writer.write(records)
    tmp.replace(out / PREDICTIONS)
    run = previous or {
        "model": {"spec": None, "note": f"unknown: no {RUN_FILE} beside {predictions}"},
    }
    run = {
        **run,
        "benchmark": benchmark.describe(),
        "data": {"path": str(data) if data else None, "checksum": fingerprint(dataset.files)},
    }
    provenance = provenance_of(run, dataset.info, mode="rescore", source=predictions)
    return finish(benchmark, out, scores, records, taken.count, problems, provenance, notes, cards)
