"""`pixelpilot eval` end to end with real policies: the tiny Qwen2.5-VL checkpoint and OCR."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pixelpilot.cli import main
from tests.evals import support
from tests.evals.test_runner import strip_volatile

pytestmark = pytest.mark.torch


@pytest.mark.slow
def test_screenspot_v2_with_the_tiny_qwen_checkpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pixelpilot.model.qwen.tiny import build_tiny_checkpoint

    checkpoint = build_tiny_checkpoint(tmp_path / "tiny")
    data = support.make_screenspot(
        tmp_path / "set", {p: support.real_annotations(p)[:8] for p in support.PLATFORMS}
    )
    out = tmp_path / "run"
    argv = ["eval", "screenspot-v2", "--model", f"qwen25vl:{checkpoint}", "--data", str(data)]
    assert (
        main([*argv, "--out", str(out), "--limit", "20", "--batch-size", "4", "--no-progress"]) == 0
    )
    records = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert len(records) == 20 and all(r["raw"] for r in records)
    for record in records:
        # the random model answers something; a click must land on the screenshot
        if record["point"] is not None:
            width, height = record["image_size"]
            assert 0 <= record["point"][0] < width and 0 <= record["point"][1] < height
        assert record["timings"]["generate"] > 0
    report = json.loads((out / "report.json").read_text())
    model = report["provenance"]["model"]
    assert model["backend"] == "qwen25vl" and model["max_pixels"] > 0 and model["dtype"]
    assert model["grounding"] is True and model["grounding_prefill"] is True
    assert "greedy" in model and report["counts"]["scored"] == 20
    again = tmp_path / "again"
    assert (
        main(
            [
                "eval",
                "screenspot-v2",
                "--data",
                str(data),
                "--predictions",
                str(out / "predictions.jsonl"),
                "--out",
                str(again),
            ]
        )
        == 0
    )
    assert strip_volatile(json.loads((again / "report.json").read_text())) == strip_volatile(report)
    capsys.readouterr()


@pytest.mark.slow
def test_ocr_baseline_finds_large_text_labels(tmp_path: Path) -> None:
    # Targets wide and tall enough for their instruction to be written legibly inside.
    records = {
        p: [
            r
            for r in support.real_annotations(p)
            if r["bbox"][2] - r["bbox"][0] >= 300 and r["bbox"][3] - r["bbox"][1] >= 40
        ][:2]
        for p in support.PLATFORMS
    }
    data = support.make_screenspot(tmp_path / "set", records, labels=True)
    out = tmp_path / "run"
    assert (
        main(
            [
                "eval",
                "screenspot-v2",
                "--model",
                "ocr",
                "--data",
                str(data),
                "--out",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    report = json.loads((out / "report.json").read_text())
    assert report["counts"]["scored"] == 6
    assert report["metrics"]["accuracy"]["correct"] >= 5, (out / "predictions.jsonl").read_text()
