"""`run --tasks --model scripted:FILE`: every task gets the whole script, in a plain batch
and in a resumed one alike (the batch's tasks are episodes of one policy, and each episode
starts the script afresh); on Ray, where it cannot, a batch of several tasks is refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pixelpilot.actions import Click, Terminate, action_to_dict, action_to_json
from pixelpilot.agent import load_run
from pixelpilot.cli import main
from pixelpilot.model.scripted import ScriptedPolicy
from tests.cli.test_batch import outcomes, write_tasks

TASKS = [{"task": "fake:wifi"}, {"task": "fake:settings"}, {"task": "fake:wifi"}]
SCRIPT = [Click(x=200, y=200), Click(x=200, y=200)]  # home -> settings -> wifi


def scripted_batch(tmp_path: Path, out: str, *extra: str) -> list[str]:
    script = tmp_path / "script.jsonl"
    script.write_text("".join(action_to_json(a) + "\n" for a in SCRIPT))
    tasks = write_tasks(tmp_path / "tasks.jsonl", TASKS)
    return ["run", "--env", "fake", "--model", f"scripted:{script}", "--tasks", str(tasks),
            "--out", str(tmp_path / out), *extra]  # fmt: skip


def actions(run_dir: Path) -> list[Any]:
    return [step["action"] for step in load_run(run_dir).steps]


WHOLE_SCRIPT = [action_to_dict(a) for a in [*SCRIPT, Terminate(status="failure")]]


def test_every_task_gets_the_whole_script_plain_or_resumed(tmp_path: Path) -> None:
    assert main(scripted_batch(tmp_path, "plain")) == 1  # the script claims failure
    plain = outcomes(tmp_path / "plain")
    assert [row[1:] for row in plain] == [("terminated", 3, True), ("terminated", 3, False),
                                          ("terminated", 3, True)]  # fmt: skip
    for name, *_ in plain:
        assert actions(tmp_path / "plain" / name) == WHOLE_SCRIPT, name
    # Interrupted after the first task: the rest run in another command, another policy.
    assert main(scripted_batch(tmp_path, "resumed")) == 1
    out = tmp_path / "resumed"
    (out / "summary.json").unlink()
    for name, *_ in plain[1:]:
        (out / name / "result.json").unlink()
    assert main([*scripted_batch(tmp_path, "resumed"), "--resume"]) == 1
    assert outcomes(out) == plain
    for name, *_ in plain:
        assert actions(out / name) == WHOLE_SCRIPT, name


def test_on_ray_a_script_for_several_tasks_is_refused_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    made: list[ScriptedPolicy] = []

    def policy_for_ray(spec: str, options: Any, **kwargs: Any) -> tuple[Any, Any]:
        made.append(ScriptedPolicy(SCRIPT, spec=spec))  # as the policy actor reports it
        return made[-1], made[-1]

    monkeypatch.setattr("pixelpilot.evals.parallel.ray_backend.connect", lambda address: False)
    monkeypatch.setattr("pixelpilot.evals.parallel.ray_backend.policy_for_ray", policy_for_ray)
    assert main(scripted_batch(tmp_path, "out", "--ray", "local")) == 2
    err = capsys.readouterr().err.strip()
    assert "keeps its place between calls, so on Ray one episode would go on where the last " \
           "left off: run the batch without --ray" in err and "\n" not in err  # fmt: skip
    assert len(made) == 1 and not list((tmp_path / "out").glob("0*"))  # no task ran
