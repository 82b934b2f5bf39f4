"""ScreenSpot v1, v2 and Pro: one instruction + one screenshot -> one click point.

A sample is correct when the predicted point lies inside the target box, edges included, in
original image pixels. Output that yields no point (no Click/Move action) is wrong and counted
as unparsed. The policy is asked for grounding (`policy_options`: `grounding=True`): for
Qwen2.5-VL that is the reference evaluation's computer_use prompt with the resized screen size
and the instruction as the user turn. The pixel budget and decoding settings come from the
policy's own options and are recorded in the report through `policy.describe()`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from PIL import UnidentifiedImageError
from pydantic import BaseModel, ConfigDict, Field

from pixelpilot.actions import Click, Move, Observation, Platform, action_to_dict
from pixelpilot.actions.observation import load_image
from pixelpilot.errors import ConfigError
from pixelpilot.evals.base import Dataset, Problems, Record, Score, Summary, Table
from pixelpilot.evals.offline import OfflineBenchmark, SampleError
from pixelpilot.evals.scoring import group_table_rows, point_in_box, rate
from pixelpilot.evals.screenspot.data import (
    PLATFORMS,
    PRO_GROUPS,
    PUBLISHED_SIZES,
    GroundingSample,
    load_pro,
    load_v1v2,
)
from pixelpilot.model import History, Prediction

# The reference grounding evaluation prompts every platform, phones included, with the
# computer_use tool, and policies choose their tool from the observation's platform.
OBSERVATION_PLATFORM: dict[str, Platform] = {
    "mobile": "desktop",
    "desktop": "desktop",
    "web": "browser",
}
METRIC = "point inside the target box, edges included, original image pixels (micro average)"


class ScreenSpotOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    images: str | None = Field(None, description="image folder (default: found under --data)")


def read_point(record: Mapping[str, Any]) -> tuple[float, float] | None:
    """The predicted point of a saved record: `point` [x, y] or null; when a record has no
    `point` key, the point of its `action` (a click or move). Raises ValueError if malformed."""
    if "point" not in record:
        action = record.get("action")
        if isinstance(action, dict) and action.get("type") in ("click", "move"):
            return read_point({"point": [action.get("x"), action.get("y")]})
        if action is None or isinstance(action, dict):
            return None
        raise ValueError(f"'action' must be an object or null, got {action!r}")
    point = record["point"]
    if point is None:
        return None
    if (
        isinstance(point, list)
        and len(point) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in point)
    ):
        return float(point[0]), float(point[1])
    raise ValueError(f"'point' must be [x, y] or null, got {point!r}")


class _ScreenSpotBase(OfflineBenchmark[GroundingSample]):
    Options = ScreenSpotOptions
    version: ClassVar[str]

    @property
    def images(self) -> str | None:
        assert isinstance(self.options, ScreenSpotOptions)
        return self.options.images

    def policy_options(self) -> dict[str, Any]:
        return {"grounding": True}

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "version": self.version, "metric": METRIC}

    def observe(self, sample: GroundingSample) -> tuple[Observation, History]:
        try:
            screenshot = load_image(sample.image)  # transparency onto white, as Qwen's loader
        except FileNotFoundError:
            raise SampleError("missing image", f"{sample.image} does not exist") from None
        except (OSError, UnidentifiedImageError) as exc:
            raise SampleError("unreadable image", f"{sample.image}: {exc}") from None
        platform = OBSERVATION_PLATFORM.get(sample.platform, "desktop")
        return Observation(screenshot=screenshot, platform=platform), History(
            goal=sample.instruction
        )

    def to_record(
        self, sample: GroundingSample, prediction: Prediction, observation: Observation
    ) -> Record:
        action = prediction.action
        point = [action.x, action.y] if isinstance(action, Click | Move) else None
        error = prediction.error
        if action is not None and point is None:
            error = f"no click point: the policy answered {action.type}"
        return {
            "id": sample.id,
            "instruction": sample.instruction,
            "point": point,
            "action": action_to_dict(action) if action is not None else None,
            "raw": prediction.raw_text,
            "error": error,
            "box": list(sample.box),
            "image_size": list(observation.size),
        }

    def score(self, sample: GroundingSample, record: Mapping[str, Any]) -> Score:
        tags = {
            "platform": sample.platform,
            "ui_type": sample.ui_type,
            "source": sample.source,
            "group": sample.group,
        }
        try:
            point = read_point(record)
        except ValueError as exc:
            return Score(sample.id, False, True, tags, {"malformed": str(exc)})
        if point is None:
            return Score(sample.id, False, True, tags)
        return Score(sample.id, point_in_box(point[0], point[1], sample.box), False, tags)

    def _common_metrics(
        self, scores: Sequence[Score], published: int
    ) -> tuple[dict[str, Any], list[str]]:
        metrics: dict[str, Any] = {
            "accuracy": rate(scores),
            "unparsed": sum(s.unparsed for s in scores),
            "published_size": published,
        }
        notes = []
        if len(scores) != published:
            notes.append(f"{len(scores)} of the {published} published samples were scored.")
        return metrics, notes


class ScreenSpot(_ScreenSpotBase):
    """ScreenSpot v1 (SeeClick): three platform files and an image folder."""

    name = "screenspot"
    title = "ScreenSpot"
    version = "v1"

    def load(
        self, data: Path | None, problems: Problems, *, for_prediction: bool
    ) -> Dataset[GroundingSample]:
        if data is None:
            raise ConfigError(
                f"{self.name} needs --data: the folder with the screenspot_*.json files"
            )
        samples, info, files = load_v1v2(
            data, self.version, problems, images=self.images, check_images=for_prediction
        )
        return Dataset(samples, len(samples), info, files)

    def summarize(self, scores: Sequence[Score]) -> Summary:
        published = sum(v for k, v in PUBLISHED_SIZES[self.version].items() if k in PLATFORMS)
        metrics, notes = self._common_metrics(scores, published)
        for platform in PLATFORMS:
            for ui_type in ("text", "icon"):
                subset = [
                    s
                    for s in scores
                    if s.tags["platform"] == platform and s.tags["ui_type"] == ui_type
                ]
                metrics[f"{platform}_{ui_type}"] = rate(subset)
        columns = ["platform", "text", "icon", "all", "n"]
        tables = [
            Table(
                "platform",
                "Accuracy by platform and element type (%)",
                columns,
                group_table_rows(scores, "platform", PLATFORMS, "ui_type", ("text", "icon")),
            ),
            Table(
                "source",
                "Accuracy by data source (%)",
                ["source", "text", "icon", "all", "n"],
                group_table_rows(scores, "source", (), "ui_type", ("text", "icon")),
            ),
        ]
        notes.append("Platform comes from the file a record is in, never from its data source.")
        return Summary(("accuracy", metrics["accuracy"]["percent"]), metrics, tables, notes)


class ScreenSpotV2(ScreenSpot):
    """ScreenSpot-v2 (OS-Atlas): `screenspot_*_v2.json` and an image folder."""

    name = "screenspot-v2"
    title = "ScreenSpot-v2"
    version = "v2"


class ScreenSpotPro(ScreenSpot):
    """ScreenSpot-Pro: `annotations/*.json` and `images/`."""

    name = "screenspot-pro"
    title = "ScreenSpot-Pro"
    version = "pro"

    def load(
        self, data: Path | None, problems: Problems, *, for_prediction: bool
    ) -> Dataset[GroundingSample]:
        if data is None:
            raise ConfigError(f"{self.name} needs --data: the folder with annotations/ and images/")
        samples, info, files = load_pro(
            data, problems, images=self.images, check_images=for_prediction
        )
        return Dataset(samples, len(samples), info, files)

    def observe(self, sample: GroundingSample) -> tuple[Observation, History]:
        observation, history = super().observe(sample)
        # Pro's `platform` is the OS (windows, macos, linux): every screen is a desktop.
        return Observation(screenshot=observation.screenshot, platform="desktop"), history

    def summarize(self, scores: Sequence[Score]) -> Summary:
        metrics, notes = self._common_metrics(scores, PUBLISHED_SIZES["pro"]["all"])
        split = ("text", "icon")
        for group in PRO_GROUPS:
            metrics[f"group_{group}"] = rate(s for s in scores if s.tags["group"] == group)
        tables = [
            Table(
                "group",
                "Accuracy by application group and element type (%)",
                ["group", "text", "icon", "all", "n"],
                group_table_rows(scores, "group", PRO_GROUPS, "ui_type", split),
            ),
            Table(
                "application",
                "Accuracy by application and element type (%)",
                ["application", "text", "icon", "all", "n"],
                group_table_rows(scores, "source", (), "ui_type", split),
            ),
        ]
        return Summary(("accuracy", metrics["accuracy"]["percent"]), metrics, tables, notes)
