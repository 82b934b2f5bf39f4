"""bench/gpu_step.py runs unchanged on CPU with the tiny configuration and prints its table."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.torch

SCRIPT = Path(__file__).resolve().parents[3] / "bench" / "gpu_step.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gpu_step", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow  # about 20 s on a shared 2-core machine
def test_the_gpu_step_bench_runs_on_cpu_with_the_tiny_config(
    capsys: pytest.CaptureFixture[str],
) -> None:
    bench = _load()
    argv = ["--config", "tiny", "--device", "cpu", "--steps", "2", "--answer-tokens", "6"]
    assert bench.main(argv) == 0
    printed = capsys.readouterr().out
    rows = {
        match.group(1): [float(v) for v in match.group(2).split()]
        for match in re.finditer(r"^tiny\s+(plain|reuse|compiled)\s+([\d.\s-]+)$", printed, re.M)
    }
    assert set(rows) == {"plain", "reuse"}  # compiled only on a GPU (or --compile)
    for values in rows.values():
        vision, prefill, decode, step, episode, memory, warmup = values
        assert min(vision, decode, step, episode, memory, warmup) > 0
        assert vision + prefill + decode <= step  # phases of one generate() within the step
    assert "6-token answers" in printed


def test_the_real_configurations_have_the_published_shapes() -> None:
    bench = _load()
    config, budget = bench.model_config("7b")
    assert config.text_config.hidden_size == 3584 and config.text_config.num_hidden_layers == 28
    assert config.vision_config.out_hidden_size == 3584 and config.image_token_id == 151655
    small, _ = bench.model_config("3b")
    assert small.text_config.vocab_size == 151936 and small.tie_word_embeddings
    assert budget.max_pixels == 12845056
