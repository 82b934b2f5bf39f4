"""Per-phase timing bars: predict split into the policy's parts, settling not counted twice."""

from __future__ import annotations

import pytest

from pixelpilot.agent.report.timings import bar, phases, total


def test_predict_is_split_and_execute_excludes_settle() -> None:
    timings = {
        "capture": 0.1,
        "predict": 1.0,
        "model_preprocess": 0.2,
        "model_generate": 0.7,
        "execute": 0.5,
        "settle": 0.3,
        "encode": 0.05,
    }
    got = [(p.label, round(p.seconds, 6)) for p in phases(timings)]
    assert got == [
        ("capture", 0.1),
        ("predict: preprocess", 0.2),
        ("predict: generate", 0.7),
        ("predict: other", 0.1),
        ("execute", 0.2),
        ("settle", 0.3),
        ("record (PNG, beside predict)", 0.05),
    ]
    assert total(timings) == pytest.approx(1.65)


def test_bars_share_one_scale_and_missing_timings_say_so() -> None:
    html = bar({"capture": 1.0}, scale=4.0)
    assert 'style="width:25.000%"' in html and "capture 1.000 s" in html
    assert "no timings recorded" in bar({}, scale=1.0)
    assert [p.label for p in phases({"predict": 0.4, "execute": 0.0})] == ["predict"]
