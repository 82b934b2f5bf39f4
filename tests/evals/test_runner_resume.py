"""`pixelpilot eval --resume` refused with other settings: the message names each field of the
benchmark, data or model that differs, with its saved and its new value, in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from pixelpilot.cli import main
from pixelpilot.errors import ConfigError
from pixelpilot.evals import create_benchmark, evaluate
from tests.evals.test_runner import FlakyPolicy, screenspot_set


def test_a_resume_with_other_settings_names_each_field_that_differs(tmp_path: Path) -> None:
    data = screenspot_set(tmp_path / "set", per_platform=1)
    out = tmp_path / "run"
    info = {"spec": "test:flaky", "load_seconds": 1.0}
    evaluate(create_benchmark("screenspot-v2"), FlakyPolicy(), data=data, out=out,
             model_info=info, progress=False)  # fmt: skip
    images = str(data / "screenspotv2_image")
    other = create_benchmark("screenspot-v2", {"images": images})
    with pytest.raises(ConfigError) as caught:
        evaluate(other, FlakyPolicy(), data=data, out=out, resume=True, progress=False,
                 model_info={"spec": "test:other", "load_seconds": 2.0})  # fmt: skip
    message = str(caught.value)
    assert message == (
        f"cannot resume {out}: the benchmark and model differ from the saved run (run.json: "
        f"benchmark images was none, now {images}; model spec was test:flaky, now test:other); "
        "use the same settings or another --out"
    )
    # What differs on every start of the same model (its load time) is not a difference.
    evaluate(create_benchmark("screenspot-v2"), FlakyPolicy(), data=data, out=out,
             model_info={**info, "load_seconds": 3.0}, resume=True, progress=False)  # fmt: skip


def test_eval_resume_names_the_option_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = screenspot_set(tmp_path / "set", per_platform=1)
    script = tmp_path / "script.jsonl"
    script.write_text('{"type": "click", "x": 1, "y": 1}\n' * 4)
    argv = ["eval", "screenspot-v2", "--data", str(data), "--model", f"scripted:{script}",
            "--out", str(tmp_path / "run")]  # fmt: skip
    assert main(argv) == 0
    images = str(data / "screenspotv2_image")
    capsys.readouterr()
    assert main([*argv, "--resume", "--bench-opt", f"images={images}"]) == 2
    err = capsys.readouterr().err.strip()
    assert f"(run.json: benchmark images was none, now {images})" in err and "\n" not in err
