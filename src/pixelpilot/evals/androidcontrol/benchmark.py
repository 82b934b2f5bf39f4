"""AndroidControl (offline): predict each step's action from its screenshot and instruction.

Each step sees the current screenshot only, the goal, and the text history of the previous
GROUND-TRUTH actions (History entries whose actions are the converted ground truth). HIGH gives
the goal alone; LOW adds the step instruction on a line after the goal, so the Qwen mobile_use
prompt reads "The user query:  GOAL\\nCurrent step query: STEP\\nTask progress ..." as in the
reference evaluation. Samples are `<episode_id>/<step>`; the step set is a split of
`splits.json` (default "test") or an explicit list of step ids (`steps`).

Scoring: `androidcontrol.protocols` (protocol "distance" = A, "box" = B). Report: type
accuracy, grounding accuracy (click steps whose type matched), step success rate (headline);
one setting per run.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from PIL import UnidentifiedImageError
from pydantic import BaseModel, ConfigDict, Field

from pixelpilot.actions import (
    Action,
    Box,
    Observation,
    Size,
    action_from_json,
    action_points,
    action_to_dict,
    map_points,
    rescale_point,
)
from pixelpilot.actions.observation import load_image
from pixelpilot.errors import ConfigError, ParseError
from pixelpilot.evals.androidcontrol.a11y import boxes_at, boxes_labelled, parse_forest
from pixelpilot.evals.androidcontrol.data import (
    GT_TYPES,
    Episode,
    GroundTruth,
    episode_from_example,
    history_action,
    iter_examples,
    parse_ground_truth,
    read_split,
    read_step_list,
    record_files,
)
from pixelpilot.evals.androidcontrol.protocols import score_box, score_distance
from pixelpilot.evals.androidcontrol.tfrecord import RecordError
from pixelpilot.evals.base import Dataset, Problems, Record, Score, Summary, Table
from pixelpilot.evals.offline import OfflineBenchmark, SampleError
from pixelpilot.evals.scoring import percent, rate
from pixelpilot.model import History, HistoryEntry, Prediction


class AndroidControlOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    setting: Literal["low", "high"] = Field("high", description="low: goal + step instruction")
    protocol: Literal["distance", "box"] = Field("box", description="A = distance, B = box")
    split: str = Field("test", description="split of splits.json to evaluate")
    splits: str | None = Field(None, description="splits.json (default: DATA/splits.json)")
    steps: str | None = Field(None, description="file of step ids <episode>/<step> instead")


@dataclass(frozen=True)
class StepSample:
    """One AndroidControl step. `screenshot` is None when loaded only for re-scoring;
    `candidates` is None when no accessibility tree could be read for it."""

    id: str
    instruction: str
    gt: GroundTruth
    size: Size
    screenshot: bytes | None
    history: tuple[HistoryEntry, ...]
    candidates: tuple[Box, ...] | None


class AndroidControl(OfflineBenchmark[StepSample]):
    """AndroidControl, read from the official GZIP TFRecord files."""

    name = "androidcontrol"
    title = "AndroidControl"
    Options = AndroidControlOptions

    @property
    def opts(self) -> AndroidControlOptions:
        assert isinstance(self.options, AndroidControlOptions)
        return self.options

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "scroll_convention": "content: a direction names where the content moves "
            "(finger swiping up = scroll down)",
            "history": "text of the previous ground-truth actions; current screenshot only",
        }

    # ---- loading --------------------------------------------------------------------------

    def load(
        self, data: Path | None, problems: Problems, *, for_prediction: bool
    ) -> Dataset[StepSample]:
        if data is None:
            raise ConfigError(
                "androidcontrol needs --data: the folder of TFRecord files (and splits.json)"
            )
        files = record_files(data)
        if not files:
            raise ConfigError(
                f"--data {data}: no AndroidControl TFRecord files (android_control-*) there"
            )
        info: dict[str, Any] = {"files": [p.name for p in files]}
        steps: list[str] | None = None
        episodes: set[int] | None = None
        if self.opts.steps is not None:
            try:
                steps = read_step_list(Path(self.opts.steps))
            except (OSError, ValueError) as exc:
                raise ConfigError(f"--steps {self.opts.steps}: {exc}") from None
            info["selection"] = f"explicit step list {self.opts.steps} ({len(steps)} steps)"
        else:
            splits = (
                Path(self.opts.splits)
                if self.opts.splits
                else (data if data.is_dir() else data.parent) / "splits.json"
            )
            if splits.is_file():
                try:
                    episodes = read_split(splits, self.opts.split)
                except (OSError, ValueError) as exc:
                    raise ConfigError(str(exc)) from None
                info["selection"] = (
                    f"split '{self.opts.split}' of {splits} ({len(episodes)} episodes)"
                )
                files.append(splits)
            elif self.opts.splits:
                raise ConfigError(f"--splits {self.opts.splits}: no such file")
            else:
                info["selection"] = "every episode in the files (no splits.json found)"
        iterator = self._iter_steps(files, problems, info, steps, episodes, for_prediction)
        return Dataset(iterator, len(steps) if steps is not None else None, info, files)

    def _iter_steps(
        self,
        files: list[Path],
        problems: Problems,
        info: dict[str, Any],
        steps: list[str] | None,
        episodes: set[int] | None,
        for_prediction: bool,
    ) -> Iterator[StepSample]:
        wanted = set(steps) if steps is not None else None
        seen: set[str] = set()
        found_episodes: set[int] = set()
        for path in files:
            if path.suffix == ".json":
                continue
            name = path.name

            def report(message: str, name: str = name) -> None:
                problems.add("corrupt file", name, message)

            for example in iter_examples(path, report):
                try:
                    episode = episode_from_example(example)
                except RecordError as exc:
                    problems.add("malformed record", path.name, str(exc))
                    continue
                if episodes is not None and episode.episode_id not in episodes:
                    continue
                found_episodes.add(episode.episode_id)
                for sample in self._episode_steps(episode, problems, wanted, for_prediction):
                    seen.add(sample.id)
                    yield sample
        info["episodes_found"] = len(found_episodes)
        if episodes is not None and len(found_episodes) < len(episodes):
            info["episodes_missing"] = len(episodes) - len(found_episodes)
        for step_id in sorted(wanted - seen) if wanted is not None else []:
            problems.add(
                "unknown id", step_id, "listed in --steps but not found in the TFRecord files"
            )

    def _episode_steps(
        self, episode: Episode, problems: Problems, wanted: set[str] | None, for_prediction: bool
    ) -> Iterator[StepSample]:
        history: list[HistoryEntry] = []
        for index, text in enumerate(episode.actions):
            step_id = f"{episode.episode_id}/{index}"
            size = episode.sizes[index]
            try:
                gt: GroundTruth | None = parse_ground_truth(text)
            except ValueError as exc:
                gt = None
                if wanted is None or step_id in wanted:
                    problems.add("malformed record", step_id, str(exc))
            if gt is not None and (wanted is None or step_id in wanted):
                yield StepSample(
                    id=step_id,
                    instruction=self._instruction(episode.goal, episode.step_instructions[index]),
                    gt=gt,
                    size=size,
                    screenshot=episode.screenshots[index] if for_prediction else None,
                    history=tuple(history),
                    candidates=self._candidates(episode, index, gt, problems, step_id),
                )
            action = history_action(gt, size) if gt is not None else None
            history.append(
                HistoryEntry(action=action, raw_text=text, screen_size=(size.width, size.height))
            )

    def _instruction(self, goal: str, step_instruction: str) -> str:
        if self.opts.setting == "low":
            return f"{goal}\nCurrent step query: {step_instruction}"
        return goal

    @staticmethod
    def _candidates(
        episode: Episode, index: int, gt: GroundTruth, problems: Problems, step_id: str
    ) -> tuple[Box, ...] | None:
        if gt.type not in ("click", "long_press", "open_app") or not episode.trees:
            return None
        if not episode.trees[index]:
            return None
        try:
            windows = parse_forest(episode.trees[index])
        except RecordError as exc:
            problems.add("malformed accessibility tree", step_id, str(exc))
            return None
        if gt.type == "open_app":
            return boxes_labelled(windows, gt.text or "")
        return boxes_at(windows, gt.x or 0, gt.y or 0)

    # ---- prediction -----------------------------------------------------------------------

    def observe(self, sample: StepSample) -> tuple[Observation, History]:
        if sample.screenshot is None:
            raise SampleError("missing image", "the step was loaded without its screenshot")
        try:
            screenshot = load_image(sample.screenshot)  # transparency onto white
        except (OSError, UnidentifiedImageError) as exc:
            raise SampleError(
                "unreadable image", f"screenshot is not a readable image: {exc}"
            ) from None
        observation = Observation(screenshot=screenshot, platform="android")
        return observation, History(goal=sample.instruction, steps=sample.history)

    def to_record(
        self, sample: StepSample, prediction: Prediction, observation: Observation
    ) -> Record:
        action = prediction.action
        if action is not None and observation.size != sample.size:
            # Ground truth is in device pixels; bring a differently sized screenshot's answer there.
            shot = observation.size
            device = sample.size

            def to_device(x: int, y: int) -> tuple[int, int]:
                point = rescale_point(x, y, shot, device)
                return point.x, point.y

            action = map_points(action, to_device)
        point = next(iter(action_points(action)), None) if action is not None else None
        return {
            "id": sample.id,
            "instruction": sample.instruction,
            "action": action_to_dict(action) if action is not None else None,
            "point": list(point) if point is not None else None,
            "raw": prediction.raw_text,
            "error": prediction.error,
            "ground_truth": sample.gt.raw,
        }

    # ---- scoring --------------------------------------------------------------------------

    def score(self, sample: StepSample, record: Mapping[str, Any]) -> Score:
        tags = {"action_type": sample.gt.type}
        raw = record.get("action")
        action: Action | None = None
        if raw is not None:
            try:
                if not isinstance(raw, dict):
                    raise ParseError(f"'action' must be an object or null, got {raw!r}", str(raw))
                action = action_from_json(raw)
            except ParseError as exc:
                return Score(
                    sample.id, False, True, tags, {"type_match": False, "malformed": str(exc)}
                )
        if self.opts.protocol == "distance":
            verdict = score_distance(sample.gt, action, sample.size)
        else:
            verdict = score_box(sample.gt, action, sample.size, sample.candidates)
        return Score(sample.id, verdict.correct, action is None, tags, verdict.as_details())

    def summarize(self, scores: Sequence[Score]) -> Summary:
        clicks = [
            s for s in scores if s.tags["action_type"] == "click" and s.details.get("type_match")
        ]
        metrics: dict[str, Any] = {
            "step_success": rate(scores),
            "type_accuracy": rate(scores, lambda s: bool(s.details.get("type_match"))),
            "grounding_accuracy": rate(clicks),
            "unparsed": sum(s.unparsed for s in scores),
            "setting": self.opts.setting,
            "protocol": self.opts.protocol,
        }
        rows: list[list[Any]] = []
        for kind in [*GT_TYPES, None]:
            subset = [s for s in scores if kind is None or s.tags["action_type"] == kind]
            if kind is not None and not subset:
                continue
            typed = sum(bool(s.details.get("type_match")) for s in subset)
            rows.append(
                [
                    kind or "all",
                    len(subset),
                    percent(typed, len(subset)),
                    percent(sum(s.correct for s in subset), len(subset)),
                ]
            )
        protocol = "A (distance)" if self.opts.protocol == "distance" else "B (box)"
        notes = [
            f"Setting {self.opts.setting.upper()}, protocol {protocol}.",
            "Scroll directions name where the content moves: a finger swiping up is 'scroll down'.",
        ]
        if self.opts.protocol == "box":
            sources: dict[str, int] = {}
            for s in scores:
                source = s.details.get("box_source")
                if isinstance(source, str):
                    sources[source] = sources.get(source, 0) + 1
            metrics["candidate_boxes"] = sources
            if sources.get("no tree"):
                notes.append(
                    f"{sources['no tree']} step(s) had no accessibility tree: clicks there were "
                    "judged by the distance criterion alone (an open_app answered by a click "
                    "was wrong)."
                )
        tables = [
            Table(
                "action_type",
                "By ground-truth action type (%)",
                ["action type", "n", "type match", "step success"],
                rows,
            )
        ]
        return Summary(("step_success", metrics["step_success"]["percent"]), metrics, tables, notes)
