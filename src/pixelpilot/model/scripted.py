"""ScriptedPolicy: replays a JSONL file of actions, one per step.

Each non-empty line (lines starting with `#` are comments) is an action in its on-disk JSON form,
e.g. {"type": "click", "x": 640, "y": 400}. When the script runs out, the policy answers
terminate(failure) so a run never hangs on an exhausted script.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict

from pixelpilot.actions import Action, Observation, Terminate, action_from_json, check_bounds
from pixelpilot.errors import ConfigError, OutOfBoundsError, ParseError
from pixelpilot.model.base import History, PolicyBase, Prediction


class ScriptedConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")


def load_script(path: Path) -> list[Action]:
    """Read a JSONL action script; a bad line is a ConfigError naming the file and line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read action script {path}: {exc.strerror}") from None
    actions: list[Action] = []
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        try:
            actions.append(action_from_json(text))
        except ParseError as exc:
            raise ConfigError(f"{path}:{number}: {exc}") from None
    return actions


class ScriptedPolicy(PolicyBase):
    """Returns the script's actions in order, one per `predict` call. Every episode starts the
    script from the top (`start_episode`, called by `run_episode`), so each task of a batch,
    first or resumed, gets the whole script; without episodes (the samples of an offline
    benchmark) it goes on from call to call. It keeps its place between calls: it must not be
    shared by episodes that run at once (`shareable` is False)."""

    shareable = False

    Config = ScriptedConfig

    def __init__(self, actions: list[Action], *, spec: str = "scripted") -> None:
        self.actions = list(actions)
        self.position = 0
        self.spec = spec

    @classmethod
    def from_spec(cls, argument: str, config: ScriptedConfig) -> ScriptedPolicy:
        if not argument:
            raise ConfigError("the scripted model needs a file: --model scripted:actions.jsonl")
        return cls(load_script(Path(argument)), spec=f"scripted:{argument}")

    def start_episode(self) -> None:
        """Start the script from its first action."""
        self.position = 0

    def predict(self, observation: Observation, history: History) -> Prediction:
        if self.position >= len(self.actions):
            return Prediction(
                action=Terminate(status="failure"),
                raw_text=f"(script exhausted after {len(self.actions)} actions)",
            )
        action = self.actions[self.position]
        self.position += 1
        raw = action.model_dump_json()
        try:
            check_bounds(action, observation.size)
        except OutOfBoundsError as exc:  # a mistake in the script, recorded like a model's
            return Prediction(action=None, raw_text=raw, error=f"out_of_bounds: {exc}")
        return Prediction(action=action, raw_text=raw)

    def describe(self) -> dict[str, object]:
        return {"backend": "scripted", "spec": self.spec, "actions": len(self.actions)}
