"""PolicyBase: one of predict/predict_batch defines the other."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from pixelpilot.actions import Move, Observation
from pixelpilot.env import FakeEnv
from pixelpilot.model import History, PolicyBase, Prediction


class OnlyBatch(PolicyBase):
    def predict_batch(self, items: Sequence[tuple[Observation, History]]) -> list[Prediction]:
        return [Prediction(action=Move(x=i, y=i)) for i, _ in enumerate(items)]


class OnlyOne(PolicyBase):
    def predict(self, observation: Observation, history: History) -> Prediction:
        return Prediction(action=Move(x=len(history.steps), y=0))


def test_either_method_defines_the_other() -> None:
    obs = FakeEnv().reset()
    assert OnlyBatch().predict(obs, History(goal="g")).action == Move(x=0, y=0)
    batch = OnlyOne().predict_batch([(obs, History(goal="g"))] * 3)
    assert [p.action for p in batch] == [Move(x=0, y=0)] * 3


def test_a_policy_defining_neither_is_refused_at_class_creation() -> None:
    with pytest.raises(TypeError, match="must define predict"):

        class Empty(PolicyBase):
            pass
