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

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from pixelpilot import __version__
from pixelpilot.agent.folder_lock import FolderLock
from pixelpilot.errors import ConfigError
from pixelpilot.evals.base import Benchmark, EvalDataError, Problems, Record, Score
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
from pixelpilot.evals.report import build_report, timing_summary, write_reports
from pixelpilot.evals.report_html import Gallery
from pixelpilot.model import Policy
from pixelpilot.versions import versions

PREDICTIONS = "predictions.jsonl"
RUN_FILE = "run.json"
_Progress = EvalProgress  # the bar's former name here


@dataclass(frozen=True)
class EvalResult:
    """What a run produced: the report object and the folder holding the files."""

    report: dict[str, Any]
    out: Path


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


def _score(benchmark: Benchmark[Any], sample: Any, record: Record, problems: Problems) -> Score:
    score = benchmark.score(sample, record)
    malformed = score.details.get("malformed")
    if malformed:
        problems.add("malformed prediction", sample.id, str(malformed))
    return score


class _Taken:
    """The first `limit` samples (all when None), counting how many were read."""

    def __init__(self, samples: Iterable[Any], limit: int | None) -> None:
        self.count = 0
        self._samples = islice(samples, limit)

    def __iter__(self) -> Iterator[Any]:
        for sample in self._samples:
            self.count += 1
            yield sample


def _take_saved(
    benchmark: Benchmark[Any], sample: Any, saved: dict[str, Record], problems: Problems
) -> tuple[Score, Record] | None:
    """Score and remove `sample`'s saved record, if there is one."""
    record = saved.pop(sample.id, None)
    if record is None:
        return None
    return _score(benchmark, sample, record, problems), record


def _finish(
    benchmark: Benchmark[Any],
    out: Path,
    scores: list[Score],
    records: list[Record],
    samples: int,
    problems: Problems,
    provenance: dict[str, Any],
    notes: list[str],
    gallery: Gallery | None = None,
) -> EvalResult:
    if samples == 0:
        # A score over zero samples would read as a result: say what was found instead.
        found = "; ".join(f"{p.kind} at {p.where}: {p.detail}" for p in problems.items[:3])
        more = f" (and {len(problems.items) - 3} more)" if len(problems.items) > 3 else ""
        raise EvalDataError(
            f"no readable sample for {benchmark.title}"
            + (f": {found}{more}" if found else ": the data holds none")
        )
    summary = benchmark.summarize(scores)
    summary.notes.extend(notes)
    counts = {
        "samples": samples,
        "scored": len(scores),
        "unparsed": sum(s.unparsed for s in scores),
        "not_predicted": samples - len(scores),
    }
    report = build_report(summary, counts=counts, problems=problems.items, provenance=provenance)
    report["timing"] = timing_summary(records)
    write_reports(out, report, gallery)
    return EvalResult(report, out)


def _leftovers(
    left: dict[str, Record], limit: int | None, problems: Problems, notes: list[str]
) -> None:
    if not left:
        return
    if limit is None:
        for key in left:
            problems.add("unknown id", key, "a prediction for a sample that is not in the data")
    else:
        notes.append(
            f"{len(left)} saved prediction(s) lie beyond --limit {limit} (or are unknown)."
        )


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
    out.mkdir(parents=True, exist_ok=True)
    with FolderLock(out):  # one writer: a second run (or --resume) on `out` is refused
        return _evaluate(benchmark, policy, data=data, out=out, model_info=model_info,
                         limit=limit, batch_size=batch_size, resume=resume, strict=strict,
                         progress=progress, on_batch=on_batch, workers=workers,
                         executor=executor, own=own)  # fmt: skip


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
    strict: bool,
    progress: bool,
    on_batch: Callable[[list[Record]], None] | None,
    workers: int,
    executor: Executor | None,
    own: bool,
) -> EvalResult:
    pred_path = out / PREDICTIONS
    if pred_path.exists() and pred_path.stat().st_size and not resume:
        raise ConfigError(
            f"{pred_path} already exists: pass --resume to continue it, or another --out"
        )
    problems = Problems(strict=strict)
    dataset = benchmark.load(data, problems, for_prediction=True)
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
    taken = _Taken(dataset.samples, limit)

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
                    take_saved=lambda sample: _take_saved(benchmark, sample, existing, problems),
                    score=_score,
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
                    score = _score(benchmark, by_id[record["id"]], record, problems)
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
                done = _take_saved(benchmark, sample, existing, problems)
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
    _leftovers(existing, limit, problems, notes)
    provenance = _provenance(run, dataset.info, mode="predict", source=pred_path)
    return _finish(benchmark, out, scores, records, taken.count, problems, provenance, notes, cards)


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
    out.mkdir(parents=True, exist_ok=True)
    with FolderLock(out):  # it may be the folder `predictions` is in
        return _rescore(benchmark, predictions, data=data, out=out, limit=limit, strict=strict)


def _rescore(
    benchmark: Benchmark[Any],
    predictions: Path,
    *,
    data: Path | None,
    out: Path,
    limit: int | None,
    strict: bool,
) -> EvalResult:
    problems = Problems(strict=strict)
    try:
        saved = read_predictions(predictions, problems)
    except OSError as exc:
        raise ConfigError(f"--predictions {predictions}: {exc.strerror}") from None
    dataset = benchmark.load(data, problems, for_prediction=False)
    previous = read_run(predictions.parent / RUN_FILE)
    if limit is None and previous is not None:
        saved_limit = previous.get("run", {}).get("limit")
        limit = saved_limit if isinstance(saved_limit, int) else None
    scores: list[Score] = []
    records: list[Record] = []
    cards = Gallery(out)  # report.html's gallery
    taken = _Taken(benchmark.rescore_samples(dataset.samples, set(saved)), limit)
    for sample in taken:
        done = _take_saved(benchmark, sample, saved, problems)
        if done is not None:
            scores.append(done[0])
            records.append({**done[1], "correct": done[0].correct})
            cards.add(sample, records[-1], done[0])
    notes: list[str] = []
    _leftovers(saved, limit, problems, notes)
    out.mkdir(parents=True, exist_ok=True)
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
    provenance = _provenance(run, dataset.info, mode="rescore", source=predictions)
    return _finish(benchmark, out, scores, records, taken.count, problems, provenance, notes, cards)


def _provenance(
    run: dict[str, Any], info: dict[str, Any], *, mode: str, source: Path
) -> dict[str, Any]:
    provenance = dict(run)
    provenance["data"] = {**run.get("data", {}), **info}
    provenance["report"] = {
        "mode": mode,
        "predictions": str(source),
        "created": now(),
        "pixelpilot": __version__,
    }
    return provenance
