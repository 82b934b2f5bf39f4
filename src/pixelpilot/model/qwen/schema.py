"""Qwen tool schemas as package data: one JSON file per model family in `model/qwen/schemas/`.

A later family (Qwen3-VL's 0-1000 coordinates, another action list) is a new file, not an `if`.

API:
    ToolName = Literal["computer_use", "mobile_use"];  FAMILY = "qwen25vl"
    load_family(family=FAMILY) -> ToolFamily      cached; ConfigError for an unknown family
    tool_for_platform(platform) -> ToolName        android -> mobile_use, else computer_use
    tool_function(tool, screen, *, family) -> dict {"name", "description", "parameters"}
    call_json(call) -> str                         json.dumps, default separators, non-ASCII kept
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

from pixelpilot.actions.geometry import Size
from pixelpilot.actions.observation import Platform
from pixelpilot.errors import ConfigError

ToolName = Literal["computer_use", "mobile_use"]
FAMILY = "qwen25vl"


@dataclass(frozen=True)
class ToolSpec:
    """One tool of a family: its description template, JSON-schema parameters and actions.

    `extra_actions` are accepted from the model but not advertised in the description (the
    community `answer` action for question tasks).
    """

    name: ToolName
    description_template: str
    parameters: dict[str, Any]
    extra_actions: tuple[str, ...]

    @property
    def actions(self) -> tuple[str, ...]:
        """Every action name accepted from the model (advertised ones first)."""
        advertised: list[str] = self.parameters["properties"]["action"]["enum"]
        return (*advertised, *self.extra_actions)


@dataclass(frozen=True)
class ToolFamily:
    """A model family's tools; `coordinate_frame` names its coordinate convention."""

    name: str
    coordinate_frame: str
    tools: Mapping[str, ToolSpec]


@cache
def load_family(family: str = FAMILY) -> ToolFamily:
    """Load `model/qwen/schemas/<family>.json`; raises ConfigError for an unknown family."""
    path = resources.files(__package__).joinpath(f"schemas/{family}.json")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"no tool schemas for model family {family!r}") from None
    extra = data.get("extra_actions", {})
    tools = {
        name: ToolSpec(
            name=name,
            description_template=spec["description_template"],
            parameters=spec["parameters"],
            extra_actions=tuple(extra.get(name, ())),
        )
        for name, spec in data["tools"].items()
    }
    return ToolFamily(data["family"], data["coordinate_frame"], tools)


def tool_for_platform(platform: Platform) -> ToolName:
    """The tool a platform's screens are driven with."""
    return "mobile_use" if platform == "android" else "computer_use"


def tool_function(tool: ToolName, screen: Size, *, family: str = FAMILY) -> dict[str, Any]:
    """The tool's function object, the screen size (the model's resized frame) filled in."""
    spec = load_family(family).tools[tool]
    description = spec.description_template.replace("{W}", str(screen.width))
    description = description.replace("{H}", str(screen.height))
    return {"name": spec.name, "description": description, "parameters": spec.parameters}


def call_json(call: Mapping[str, Any]) -> str:
    """A call as the cookbook writes it: json.dumps with default separators, non-ASCII kept."""
    return json.dumps(call, ensure_ascii=False)
