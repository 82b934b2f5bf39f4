"""The benchmark interface: samples -> predictions -> scores -> report.

A benchmark is one class (registered in `pixelpilot.evals.registry`) with four jobs:

1. `load(data, problems, for_prediction=...)` reads the data set into a `Dataset` of samples,
   each with a stable string `id`. Bad records go to `problems`, never raise half-way.
2. `predict(policy, batch, problems)` asks a policy about a batch of samples and returns one
   JSON-ready record per sample it could run (offline benchmarks: one `predict_batch` call;
   online ones such as MiniWoB++ run episodes here).
3. `score(sample, record)` judges one record; it reads only what a saved `predictions.jsonl`
   holds, so re-scoring a saved file gives the same numbers as the run that wrote it.
4. `summarize(scores)` turns the scores into the headline metric and breakdown tables.

The runner (`pixelpilot.evals.runner`) owns everything else: predictions.jsonl, resume,
progress, provenance and the report files.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

from pixelpilot.errors import UserError
from pixelpilot.model import Policy

Record = dict[str, Any]


class SampleLike(Protocol):
    @property
    def id(self) -> str: ...


S = TypeVar("S", bound=SampleLike)


class EvalDataError(UserError):
    """A data problem stopped a `--strict` run; the message names the sample and the problem."""


@dataclass(frozen=True)
class Problem:
    """Something wrong with the data or a saved prediction, listed in the report.

    Attributes:
        kind: a short category, e.g. "malformed record", "missing image", "unknown id".
        where: the sample id, file or line it concerns.
        detail: what exactly was wrong.
    """

    kind: str
    where: str
    detail: str


class Problems:
    """Collects problems; with `strict` the first one stops the run with EvalDataError."""

    def __init__(self, *, strict: bool = False) -> None:
        self.strict = strict
        self.items: list[Problem] = []

    def add(self, kind: str, where: str, detail: str) -> None:
        problem = Problem(kind, where, detail)
        if self.strict:
            raise EvalDataError(f"{kind} at {where}: {detail} (drop --strict to list and go on)")
        self.items.append(problem)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for item in self.items:
            out[item.kind] = out.get(item.kind, 0) + 1
        return out


@dataclass
class Dataset(Generic[S]):
    """What `load` returns.

    Attributes:
        samples: the samples in benchmark order; may be a lazy iterator (AndroidControl
            streams its records), consumed once.
        total: how many samples there are when known without reading them all, else None.
        info: provenance of the data (detected format, split, ...); a lazy loader may add to
            it while its samples are read (the report is written afterwards).
        files: the files the checksum covers (annotations, record files; not image folders).
    """

    samples: Iterable[S]
    total: int | None
    info: dict[str, Any] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)


@dataclass(frozen=True)
class Score:
    """One sample's verdict.

    Attributes:
        id: the sample id.
        correct: the benchmark's success criterion for this sample.
        unparsed: the model's output gave nothing to score (no point, no action).
        tags: breakdown keys, e.g. {"platform": "web", "ui_type": "icon"}.
        details: further per-sample facts a summary uses (type match, fallbacks, ...).
    """

    id: str
    correct: bool
    unparsed: bool
    tags: Mapping[str, str] = field(default_factory=dict)
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Table:
    """A breakdown table; `rows` hold plain values (str, int, float percent, or None)."""

    key: str
    title: str
    columns: list[str]
    rows: list[list[Any]]


@dataclass(frozen=True)
class Summary:
    """A benchmark's results.

    Attributes:
        headline: (metric name, value in percent).
        metrics: every named number the report carries (JSON-ready).
        tables: breakdowns in the order the papers present them.
        notes: sentences the reader must see (fallbacks used, partial data, conventions).
    """

    headline: tuple[str, float | None]
    metrics: dict[str, Any]
    tables: list[Table]
    notes: list[str] = field(default_factory=list)


class NoOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Benchmark(ABC, Generic[S]):
    """Base class of every benchmark; see the module docstring for the life cycle.

    Class attributes:
        name: the registry name (`pixelpilot eval NAME`).
        title: the human name with version, e.g. "ScreenSpot-v2".
        Options: a pydantic model of the benchmark's options (setting, protocol, ...).
        needs_data: whether `--data` is required.
    """

    name: ClassVar[str]
    title: ClassVar[str]
    Options: ClassVar[type[BaseModel]] = NoOptions
    needs_data: ClassVar[bool] = True

    def __init__(self, options: BaseModel | None = None) -> None:
        self.options = options if options is not None else self.Options()

    @abstractmethod
    def load(self, data: Path | None, problems: Problems, *, for_prediction: bool) -> Dataset[S]:
        """Read the data set. `for_prediction=False` (re-scoring) may skip images.

        Raises:
            ConfigError: the path is not a data set of this benchmark (says what was found).
        """

    @abstractmethod
    def predict(self, policy: Policy, batch: Sequence[S], problems: Problems) -> list[Record]:
        """Run the policy on a batch; one record (with "id") per sample that could run."""

    @abstractmethod
    def score(self, sample: S, record: Mapping[str, Any]) -> Score:
        """Judge one saved record against its sample."""

    @abstractmethod
    def summarize(self, scores: Sequence[Score]) -> Summary:
        """The headline metric, every breakdown and the notes."""

    def rescore_samples(self, samples: Iterable[S], predicted: set[str]) -> Iterable[S]:
        """The samples a re-score covers, given the ids a predictions file holds: all of them
        for a data set; an online benchmark narrows them to what was run."""
        return samples

    def describe(self) -> dict[str, Any]:
        """Provenance of the protocol: version, metric definition, options."""
        return {"benchmark": self.name, "title": self.title, **self.options.model_dump()}

    def policy_options(self) -> dict[str, Any]:
        """Options this benchmark asks of a policy (e.g. grounding mode); the runner passes
        each one only to backends whose Config declares it."""
        return {}

    def close(self) -> None:
        """Release what `predict` started (an online benchmark's browsers). Safe to call
        twice; the caller of `evaluate` calls it once the run is over."""
        return None
