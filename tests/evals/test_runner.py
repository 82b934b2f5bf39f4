"""`pixelpilot eval`: predictions.jsonl, resume, re-scoring, reports, problems, CLI errors."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from pixelpilot.actions import Action, Click, Observation, Type, action_to_json
from pixelpilot.cli import main
from pixelpilot.errors import ConfigError, PolicyError
from pixelpilot.evals import Score, create_benchmark, evaluate, rescore
from pixelpilot.evals.runner import _Progress, merge_policy_options
from pixelpilot.model import History, PolicyBase, Prediction, ScriptedPolicy
from tests.evals import support
from tests.evals.androidcontrol.test_androidcontrol import write_dataset


def screenspot_set(root: Path, per_platform: int = 8) -> Path:
    records = {p: support.real_annotations(p)[:per_platform] for p in support.PLATFORMS}
    return support.make_screenspot(root, records)


def planned_actions(count: int) -> list[Action]:
    """For the first `count` samples in benchmark order: a hit on even indexes, a miss on odd
    ones (1 px right of the box, or left of it at the image edge), and a typed answer at 1."""
    records = [r for p in support.PLATFORMS for r in support.real_annotations(p)[:8]][:count]
    actions: list[Action] = []
    for index, record in enumerate(records):
        x1, y1, x2, y2 = record["bbox"]
        width = record["img_size"][0]
        if index == 1:
            actions.append(Type(text="no idea"))
        elif index % 2 == 0:
            actions.append(Click(x=int((x1 + x2) / 2), y=int((y1 + y2) / 2)))
        else:
            miss = int(x2) + 1 if int(x2) + 1 < width else int(x1) - 1
            actions.append(Click(x=miss, y=int(y1)))
    return actions


def write_script(path: Path, actions: Sequence[Action]) -> Path:
    path.write_text("".join(action_to_json(a) + "\n" for a in actions))
    return path


def strip_volatile(report: dict[str, Any]) -> dict[str, Any]:
    out = json.loads(json.dumps(report))
    out["provenance"].pop("report")
    return out


def test_cli_screenspot_v2_run_and_rescore_agree(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = screenspot_set(tmp_path / "set")
    script = write_script(tmp_path / "actions.jsonl", planned_actions(20))
    out = tmp_path / "run"
    argv = ["eval", "screenspot-v2", "--model", f"scripted:{script}", "--data", str(data)]
    status = main([*argv, "--out", str(out), "--limit", "20", "--batch-size", "4", "--no-progress"])
    assert status == 0
    printed = capsys.readouterr().out
    assert "screenspot-v2: accuracy 50.00% over 20 scored of 20 samples (1 unparsed)" in printed
    lines = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert [r["id"] for r in lines] == [f"mobile/{i}" for i in range(8)] + [
        f"desktop/{i}" for i in range(8)
    ] + [f"web/{i}" for i in range(4)]
    assert (
        lines[1]["point"] is None
        and lines[1]["action"]["type"] == "type"
        and not lines[1]["correct"]
    )
    assert [r["correct"] for r in lines] == [i % 2 == 0 for i in range(20)]
    assert all(
        set(r) >= {"id", "instruction", "point", "action", "raw", "correct", "timings"}
        for r in lines
    )
    assert lines[0]["timings"]["batch"] >= 0 and "per_sample" in lines[0]["timings"]
    report = json.loads((out / "report.json").read_text())
    assert report["headline"] == {"metric": "accuracy", "percent": 50.0}
    assert report["counts"] == {
        "samples": 20,
        "scored": 20,
        "unparsed": 1,
        "not_predicted": 0,
        "problems": 0,
    }
    rows = {row["platform"]: row for row in report["breakdowns"]["platform"]["rows"]}
    assert rows["web"]["n"] == 4 and rows["all"]["all"] == 50.0
    provenance = report["provenance"]
    assert (
        provenance["benchmark"]["benchmark"] == "screenspot-v2"
        and provenance["benchmark"]["version"] == "v2"
    )
    assert (
        provenance["model"]["spec"] == f"scripted:{script}"
        and provenance["model"]["backend"] == "scripted"
    )
    assert (
        provenance["data"]["checksum"]["files"] == 3
        and len(provenance["data"]["checksum"]["sha256"]) == 64
    )
    assert provenance["data"]["box_format"]["screenspot_web_v2.json"].startswith("converted")
    assert provenance["versions"]["pixelpilot"] and provenance["report"]["mode"] == "predict"
    markdown = (out / "report.md").read_text()
    assert "# ScreenSpot-v2: accuracy 50.0%" in markdown and "| mobile |" in markdown
    assert "| model.spec |" in markdown

    again = tmp_path / "rescored"
    saved = ["--predictions", str(out / "predictions.jsonl"), "--out", str(again)]
    # no --limit: the limit the predictions were made with (run.json) applies
    assert main(["eval", "screenspot-v2", "--data", str(data), *saved]) == 0
    rescored = json.loads((again / "report.json").read_text())
    assert rescored["provenance"]["report"]["mode"] == "rescore"
    assert strip_volatile(rescored) == strip_volatile(report)
    assert (again / "predictions.jsonl").read_text() == (out / "predictions.jsonl").read_text()


class FlakyPolicy(PolicyBase):
    """Clicks the top-left pixel; counts predictions; fails on the call number `fail_on`."""

    def __init__(self, fail_on: int | None = None) -> None:
        self.spec = "test:flaky"
        self.calls = 0
        self.predicted = 0
        self.fail_on = fail_on

    def predict_batch(self, items: Sequence[tuple[Observation, History]]) -> list[Prediction]:
        self.calls += 1
        if self.calls == self.fail_on:
            raise PolicyError("backend died")
        self.predicted += len(items)
        return [
            Prediction(Click(x=obs.size.width // 2, y=obs.size.height // 2)) for obs, _ in items
        ]

    def describe(self) -> dict[str, object]:
        return {"backend": "test"}


def test_resume_continues_without_redoing_finished_samples(tmp_path: Path) -> None:
    data = screenspot_set(tmp_path / "set", per_platform=4)
    bench = create_benchmark("screenspot-v2")
    info = {"spec": "test:flaky"}
    out = tmp_path / "run"
    with pytest.raises(PolicyError):
        evaluate(
            bench,
            FlakyPolicy(fail_on=3),
            data=data,
            out=out,
            model_info=info,
            batch_size=2,
            progress=False,
        )
    saved = (out / "predictions.jsonl").read_text().splitlines()
    assert len(saved) == 4
    # a crash while writing leaves half a line: resume cuts it off
    with (out / "predictions.jsonl").open("a") as handle:
        handle.write('{"id": "web/9", "poi')
    with pytest.raises(ConfigError, match="already exists: pass --resume"):
        evaluate(bench, FlakyPolicy(), data=data, out=out, model_info=info, progress=False)
    with pytest.raises(ConfigError, match="the model differ"):
        evaluate(
            bench,
            FlakyPolicy(),
            data=data,
            out=out,
            model_info={"spec": "other"},
            resume=True,
            progress=False,
        )
    policy = FlakyPolicy()
    resumed = evaluate(
        bench,
        policy,
        data=data,
        out=out,
        model_info=info,
        batch_size=2,
        resume=True,
        progress=False,
    )
    assert policy.predicted == 12 - 4
    run = json.loads((out / "run.json").read_text())["run"]
    assert len(run["resumed"]) == 1 and run["started"] <= run["resumed"][0]
    ids = [json.loads(line)["id"] for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert len(ids) == 12 == len(set(ids))
    fresh = evaluate(
        bench,
        FlakyPolicy(),
        data=data,
        out=tmp_path / "fresh",
        model_info=info,
        batch_size=5,
        progress=False,
    )
    resumed_report = strip_volatile(resumed.report)
    fresh_report = strip_volatile(fresh.report)
    for report in (resumed_report, fresh_report):
        report["provenance"].pop("run")
        report.pop("timing")
    assert resumed_report == fresh_report and resumed.report["counts"]["problems"] == 0


def test_problems_are_counted_listed_and_strict_stops(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = screenspot_set(tmp_path / "set", per_platform=3)
    web = json.loads((data / "screenspot_web_v2.json").read_text())
    web.append(
        {
            "img_filename": "gone.png",
            "bbox": [0, 0, 5, 5],
            "instruction": "x",
            "img_size": [10, 10],
            "ui_type": "icon",
        }
    )
    web.append({"bbox": [0, 0, 5, 5]})
    (data / "screenspot_web_v2.json").write_text(json.dumps(web))
    out = tmp_path / "run"
    report = evaluate(
        create_benchmark("screenspot-v2"),
        FlakyPolicy(),
        data=data,
        out=out,
        model_info={},
        progress=False,
    ).report
    assert report["counts"]["problems"] == 2 and report["counts"]["scored"] == 9
    assert report["problems"]["counts"] == {"missing image": 1, "malformed record": 1}
    assert "## Problems (2)" in (out / "report.md").read_text()
    # a saved prediction for an id the data does not have, and a broken line
    with (out / "predictions.jsonl").open("a") as handle:
        handle.write('{"id": "web/77", "point": [1, 1]}\nnot json\n')
    rescored = rescore(
        create_benchmark("screenspot-v2"), out / "predictions.jsonl", data=data, out=tmp_path / "re"
    )
    kinds = rescored.report["problems"]["counts"]
    assert (
        kinds["unknown id"] == 1
        and kinds["malformed prediction"] == 1
        and kinds["malformed record"] == 1
    )
    status = main(
        [
            "eval",
            "screenspot-v2",
            "--model",
            "scripted:/dev/null",
            "--data",
            str(data),
            "--out",
            str(tmp_path / "strict"),
            "--strict",
            "--no-progress",
        ]
    )
    assert status == 2
    assert "missing image at web/3" in capsys.readouterr().err


def test_androidcontrol_cli_with_both_protocols(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_dataset(tmp_path / "ac")
    answers = [
        Click(x=50, y=130),  # open_app answered by a click on the Mail icon
        Click(x=265, y=335),
        Type(text="hello"),
    ]
    script = write_script(tmp_path / "a.jsonl", answers)
    out = tmp_path / "run"
    argv = ["eval", "androidcontrol", "--data", str(data), "--limit", "3", "--setting", "low"]
    assert (
        main(
            [
                *argv,
                "--model",
                f"scripted:{script}",
                "--out",
                str(out),
                "--protocol",
                "box",
                "--no-progress",
            ]
        )
        == 0
    )
    report = json.loads((out / "report.json").read_text())
    assert report["headline"] == {"metric": "step_success", "percent": 100.0}
    assert (
        report["provenance"]["benchmark"]["setting"] == "low"
        and report["provenance"]["benchmark"]["protocol"] == "box"
    )
    assert "split 'test'" in report["provenance"]["data"]["selection"]
    first = json.loads((out / "predictions.jsonl").read_text().splitlines()[0])
    assert first["id"] == "101/0" and first["instruction"].endswith("Current step query: do step 0")
    assert (
        main(
            [
                *argv,
                "--predictions",
                str(out / "predictions.jsonl"),
                "--out",
                str(tmp_path / "a"),
                "--protocol",
                "distance",
            ]
        )
        == 0
    )
    distance = json.loads((tmp_path / "a" / "report.json").read_text())
    assert distance["metrics"]["step_success"]["correct"] == 1  # only the typed text passes A
    capsys.readouterr()


def test_cli_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = [
        (["eval", "screenspot-v3", "--data", "x"], "Did you mean 'screenspot-v2'?"),
        (
            [
                "eval",
                "screenspot-v2",
                "--data",
                str(tmp_path),
                "--setting",
                "low",
                "--model",
                "scripted:x",
            ],
            "--setting does not apply to screenspot-v2",
        ),
        (["eval", "screenspot-v2", "--data", str(tmp_path)], "give --model SPEC"),
        (["eval", "screenspot-v2", "--model", "scripted:x"], "needs --data"),
        (
            [
                "eval",
                "androidcontrol",
                "--data",
                str(tmp_path),
                "--predictions",
                "p",
                "--model",
                "m",
            ],
            "drop --model",
        ),
        (
            [
                "eval",
                "screenspot-v2",
                "--data",
                str(tmp_path),
                "--bench-opt",
                "colour=red",
                "--model",
                "s",
            ],
            "colour",
        ),
    ]
    for argv, message in cases:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err


def test_progress_shows_running_accuracy() -> None:
    bar = _Progress("bench", 4, enabled=False)
    bar.advance(2, [])
    bar.advance(2, [Score("a", True, False), Score("b", False, False)])
    task = bar.bar.tasks[0]
    assert task.completed == 4 and task.total == 4 and task.fields["acc"] == "50.0%"


def test_benchmark_policy_options_reach_only_backends_that_declare_them() -> None:
    class GroundingConfig(BaseModel):
        grounding: bool = False
        max_pixels: int | None = None

    assert merge_policy_options(ScriptedPolicy.Config, {}, {"grounding": True}) == {}
    assert merge_policy_options(GroundingConfig, {"max_pixels": 9}, {"grounding": True}) == {
        "max_pixels": 9,
        "grounding": True,
    }
    assert merge_policy_options(GroundingConfig, {"grounding": False}, {"grounding": True}) == {
        "grounding": False
    }
