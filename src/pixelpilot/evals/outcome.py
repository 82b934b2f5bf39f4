"""How a benchmark run becomes its result: each sample's score, the saved records a resumed or
re-scored run takes over, and the report written from them (`EvalResult`). Shared by
`evaluate` and `rescore` (`pixelpilot.evals.runner`), so both give the same report.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from pixelpilot import __version__
from pixelpilot.evals.base import Benchmark, EvalDataError, Problems, Record, Score
from pixelpilot.evals.records import now
from pixelpilot.evals.report import build_report, timing_summary, write_reports
from pixelpilot.evals.report_html import Gallery


@dataclass(frozen=True)
class EvalResult:
    """What a run produced: the report object and the folder holding the files."""

    report: dict[str, Any]
    out: Path


def score_sample(
    benchmark: Benchmark[Any], sample: Any, record: Record, problems: Problems
) -> Score:
    """`benchmark`'s score of `record` for `sample`; a malformed prediction is also listed in
    `problems`."""
    score = benchmark.score(sample, record)
    malformed = score.details.get("malformed")
    if malformed:
        problems.add("malformed prediction", sample.id, str(malformed))
    return score


class Taken:
    """The first `limit` samples (all when None), counting how many were read."""

    def __init__(self, samples: Iterable[Any], limit: int | None) -> None:
        self.count = 0
        self._samples = islice(samples, limit)

    def __iter__(self) -> Iterator[Any]:
        for sample in self._samples:
            self.count += 1
            yield sample


def take_saved(
    benchmark: Benchmark[Any], sample: Any, saved: dict[str, Record], problems: Problems
) -> tuple[Score, Record] | None:
    """Score and remove `sample`'s saved record, if there is one."""
    record = saved.pop(sample.id, None)
    if record is None:
        return None
    return score_sample(benchmark, sample, record, problems), record


def finish(
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
    """Summarise `scores` over `samples` read samples, write report.json/.md/.html to `out`.

    Raises:
        EvalDataError: no sample could be read (a score over none would read as a result).
    """
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


def leftovers(
    left: dict[str, Record], limit: int | None, problems: Problems, notes: list[str]
) -> None:
    """Account for saved records no sample took: unknown ids (a problem each), or with a
    limit one note on how many lie beyond it."""
    if not left:
        return
    if limit is None:
        for key in left:
            problems.add("unknown id", key, "a prediction for a sample that is not in the data")
    else:
        notes.append(
            f"{len(left)} saved prediction(s) lie beyond --limit {limit} (or are unknown)."
        )


def provenance_of(
    run: dict[str, Any], info: dict[str, Any], *, mode: str, source: Path
) -> dict[str, Any]:
    """The report's provenance: `run` (run.json) with the data set's `info` and how this
    report was made (`mode` "predict" or "rescore", from `source`)."""
    provenance = dict(run)
    provenance["data"] = {**run.get("data", {}), **info}
    provenance["report"] = {
        "mode": mode,
        "predictions": str(source),
        "created": now(),
        "pixelpilot": __version__,
    }
    return provenance
