"""check_policy: the shared policy contract, on the built-in CPU policies and on broken ones."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from pixelpilot.actions import Click, Observation, Type
from pixelpilot.errors import PolicyError
from pixelpilot.model import (
    History,
    PolicyBase,
    PolicyCheckError,
    Prediction,
    ScriptedPolicy,
    check_policy,
    create_policy,
)


def _names(results: Sequence[object]) -> set[str]:
    return {getattr(r, "name", "") for r in results}


def test_the_scripted_policy_meets_the_contract() -> None:
    # The second action lies outside every screen of the check: a script's mistake, returned as
    # a Prediction error, never as an out-of-bounds action.
    script = [Click(x=5, y=5), Click(x=9000, y=9000), Type(text="hello"), Click(x=1, y=1)]
    results = check_policy(ScriptedPolicy(script))
    assert _names(results) >= {"predict blank", "in bounds", "predict_batch", "close twice"}


def test_the_ocr_policy_meets_the_contract() -> None:
    pytest.importorskip("rapidocr_onnxruntime", reason="the ocr extra")
    results = check_policy(create_policy("ocr"), deterministic=False)
    assert all(r.passed for r in results)


class _Clumsy(PolicyBase):
    """Breaks the contract four ways."""

    def __init__(self) -> None:
        self.calls = 0

    def predict(self, observation: Observation, history: History) -> Prediction:
        self.calls += 1
        if history.steps:
            raise ValueError("cannot read history")  # a model mistake must never raise
        w = observation.size.width
        return Prediction(action=Click(x=w + 10, y=0))  # outside the screenshot

    def predict_batch(self, items: Sequence[tuple[Observation, History]]) -> list[Prediction]:
        return [self.predict(obs, hist) for obs, hist in items][:-1]  # one short

    def close(self) -> None:
        if self.calls < 0:
            raise PolicyError("unreachable")


def test_a_broken_policy_fails_each_broken_check_and_passes_the_rest() -> None:
    with pytest.raises(PolicyCheckError) as info:
        check_policy(_Clumsy())
    results = {r.name: r for r in info.value.results}
    assert not results["history"].passed and "ValueError" in results["history"].detail
    assert not results["in bounds"].passed and "outside" in results["in bounds"].detail
    assert not results["predict_batch"].passed
    assert "2 predictions for 3 items" in results["predict_batch"].detail
    assert results["describe"].passed and results["close twice"].passed
    assert results["predict blank"].passed  # a Prediction came back; its bounds are judged apart
