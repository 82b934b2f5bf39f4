"""Small policies and environments for loop tests."""

from __future__ import annotations

from collections.abc import Callable

from pixelpilot.actions import Action, Observation
from pixelpilot.model import History, PolicyBase, Prediction


class ListPolicy(PolicyBase):
    """Returns the given predictions in order and remembers the histories it was shown."""

    def __init__(self, items: list[Action | Prediction | Exception]) -> None:
        self.items = list(items)
        self.histories: list[History] = []
        self.spec = "test:list"

    def predict(self, observation: Observation, history: History) -> Prediction:
        self.histories.append(history)
        item = self.items.pop(0)
        if isinstance(item, Exception):
            raise item
        if isinstance(item, Prediction):
            return item
        return Prediction(action=item, raw_text=item.model_dump_json())


class CallbackPolicy(PolicyBase):
    def __init__(self, fn: Callable[[Observation, History], Prediction]) -> None:
        self.fn = fn
        self.spec = "test:callback"

    def predict(self, observation: Observation, history: History) -> Prediction:
        return self.fn(observation, history)
