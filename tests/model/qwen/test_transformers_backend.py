"""Qwen25VLPolicy on the tiny checkpoint: predictions, coordinates, errors as data, batching."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pixelpilot.actions import Click, Observation, Wait, check_bounds, rescale_point
from pixelpilot.agent import run_episode
from pixelpilot.env import FakeEnv
from pixelpilot.errors import PolicyError
from pixelpilot.model import History, HistoryEntry, create_policy
from pixelpilot.model.qwen.constrain.grammar import ToolCallGrammar
from pixelpilot.model.qwen.tools import tool_for_platform
from pixelpilot.model.qwen.transformers_backend import Qwen25VLPolicy
from pixelpilot.model.qwen.vision import PixelBudget
from tests.model.qwen.support import force_output, load_policy, observation, tool_call

pytestmark = pytest.mark.torch

GOAL = History(goal="open settings")


def _accepted(policy: Qwen25VLPolicy, obs: Observation, text: str) -> bool:
    """Whether `text` is a complete call for the frame the model saw (no pointer yet)."""
    tool = tool_for_platform(obs.platform)
    resized = policy.settings.budget.resize(obs.size)
    return policy._grammars[tool, resized, False].accepts(text)


def test_predicts_a_parsed_in_bounds_action_on_a_fake_screen(tiny_policy: Qwen25VLPolicy) -> None:
    obs = FakeEnv().reset()
    prediction = tiny_policy.predict(obs, GOAL)
    assert prediction.error is None and prediction.action is not None
    check_bounds(prediction.action, obs.size)
    assert prediction.raw_text.startswith("<tool_call>\n")
    assert _accepted(tiny_policy, obs, prediction.raw_text)
    assert set(prediction.timings) == {"preprocess", "generate", "parse"}


def test_coordinates_are_mapped_from_the_resized_frame(
    tiny_policy: Qwen25VLPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    obs = observation(1280, 800)
    resized = tiny_policy.settings.budget.resize(obs.size)
    assert resized != obs.size  # the tiny budget shrinks a 1280x800 screenshot
    text = tool_call("computer_use", action="left_click", coordinate=[resized.width - 1, 3])
    force_output(tiny_policy, monkeypatch, text)
    prediction = tiny_policy.predict(obs, GOAL)
    assert prediction.raw_text == text  # a valid answer passes through the constraint as is
    x, y = rescale_point(resized.width - 1, 3, resized, obs.size)
    assert prediction.action == Click(x=x, y=y)


def test_a_trained_models_answer_is_generated_exactly(
    tiny_checkpoint: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = load_policy(tiny_checkpoint, max_new_tokens=256)
    obs = observation(900, 1600, platform="android")
    text = tool_call("mobile_use", action="type", text="héllo wörld ✓")
    target = force_output(policy, monkeypatch, text)
    original = policy.model.generate
    outputs = []

    def spy(**kwargs: object) -> object:
        out = original(**kwargs)
        outputs.append(out)
        return out

    monkeypatch.setattr(policy.model, "generate", spy)
    prediction = policy.predict(obs, GOAL)
    length = policy.last_constraint.prompt_length
    assert outputs[0].sequences[0, length:].tolist() == target  # type: ignore[attr-defined]
    assert prediction.raw_text == text
    assert prediction.action is not None and prediction.action.type == "type"
    assert policy.last_constraint.stats.full_scans == 0


def test_unconstrained_garbage_is_a_prediction_error_not_an_exception(
    tiny_checkpoint: Path,
) -> None:
    policy = load_policy(tiny_checkpoint, constrained=False, max_new_tokens=24)
    prediction = policy.predict(observation(640, 480), GOAL)
    assert prediction.action is None
    assert prediction.error is not None and prediction.error.startswith("no_tool_call: ")


def test_batched_greedy_predictions_equal_one_at_a_time(tiny_policy: Qwen25VLPolicy) -> None:
    earlier = HistoryEntry(action=Wait(seconds=1), raw_text="", screen_size=(1280, 800))
    items = [
        (observation(1280, 800, seed=1), GOAL),
        (observation(1080, 2400, platform="android", seed=2), History(goal="open mail")),
        (observation(640, 480, seed=3), History(goal="search for cats", steps=(earlier,))),
    ]
    single = [tiny_policy.predict(obs, hist) for obs, hist in items]
    batched = tiny_policy.predict_batch(items)
    assert [p.raw_text for p in batched] == [p.raw_text for p in single]
    assert [p.action for p in batched] == [p.action for p in single]
    assert all(p.action is not None for p in batched)
    assert tiny_policy.predict_batch([]) == []


def _sampled_actions_are_valid(checkpoint: Path, seeds: range) -> None:
    import torch

    policy = load_policy(checkpoint, greedy=False, max_new_tokens=160)
    sizes = [(1280, 800, "desktop"), (1080, 2400, "android"), (777, 333, "browser")]
    for seed in seeds:
        width, height, platform = sizes[seed % len(sizes)]
        obs = observation(width, height, platform=platform, seed=seed)  # type: ignore[arg-type]
        torch.manual_seed(seed)
        prediction = policy.predict(obs, GOAL)
        assert prediction.action is not None, (seed, prediction.raw_text, prediction.error)
        check_bounds(prediction.action, obs.size)
        assert _accepted(policy, obs, prediction.raw_text), (seed, prediction.raw_text)
    policy.close()


def test_sampled_random_model_always_gives_a_valid_action(tiny_checkpoint: Path) -> None:
    _sampled_actions_are_valid(tiny_checkpoint, range(10))


@pytest.mark.slow
def test_sampled_random_model_gives_a_valid_action_on_100_of_100_seeds(
    tiny_checkpoint: Path,
) -> None:
    _sampled_actions_are_valid(tiny_checkpoint, range(100))


def test_image_history_puts_earlier_screenshots_in_the_prompt(
    tiny_checkpoint: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = load_policy(tiny_checkpoint, image_history=2)
    assert policy.image_history == 2
    earlier = observation(1280, 800, seed=5)
    step = HistoryEntry(
        action=Click(x=10, y=10),
        raw_text=tool_call("computer_use", action="left_click", coordinate=[4, 4]),
        screenshot=earlier.screenshot,
        screen_size=(1280, 800),
    )
    grids: list[object] = []
    original = policy.model.generate

    def spy(**kwargs: object) -> object:
        grids.append(kwargs["image_grid_thw"])
        return original(**kwargs)

    monkeypatch.setattr(policy.model, "generate", spy)
    prediction = policy.predict(observation(1280, 800), History(goal="x", steps=(step,)))
    assert prediction.action is not None
    assert len(grids[0]) == 2  # type: ignore[arg-type]  # the earlier screenshot and this one
    policy.close()


def test_three_agent_steps_on_the_fake_env(tiny_policy: Qwen25VLPolicy) -> None:
    env = FakeEnv()
    trajectory = run_episode(env, tiny_policy, "open settings", max_steps=3)
    assert len(trajectory.steps) == 3
    for step in trajectory.steps:
        assert step.action is not None and step.error is None
        check_bounds(step.action, step.observation.size)


def test_describe_records_provenance_and_the_pixel_budget(tiny_checkpoint: Path) -> None:
    options = {"max_pixels": 100_000, "cpu_threads": 1}
    policy = create_policy(f"qwen25vl:{tiny_checkpoint}", options)
    assert isinstance(policy, Qwen25VLPolicy)
    info = policy.describe()
    assert info["backend"] == "qwen25vl" and info["model"] == str(tiny_checkpoint)
    assert info["dtype"] == "float32" and info["device"] == "cpu"
    assert info["attn_implementation"] == "sdpa"
    assert (info["min_pixels"], info["max_pixels"], info["pixels_from"]) == (
        3136,
        100_000,
        "config",
    )
    assert info["constrained"] is True and info["greedy"] is True
    assert info["commit"] is None  # a local folder has no hub commit
    json.dumps(info)  # reports are JSON
    obs = observation(1280, 800)
    assert policy.settings.budget.resize(obs.size) == PixelBudget(3136, 100_000).resize(obs.size)
    prediction = policy.predict(obs, GOAL)
    assert prediction.action is not None
    resized = PixelBudget(3136, 100_000).resize(obs.size)
    grammar = policy._grammars["computer_use", resized, False]
    assert isinstance(grammar, ToolCallGrammar) and grammar.size == tuple(resized)
    policy.close()
    policy.close()
    with pytest.raises(PolicyError, match="closed"):
        policy.predict(obs, GOAL)


def test_a_failing_generate_is_a_policy_error(
    tiny_policy: Qwen25VLPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    def out_of_memory(**kwargs: object) -> None:
        raise RuntimeError("CUDA out of memory. Tried to allocate 20.00 GiB")

    monkeypatch.setattr(tiny_policy.model, "generate", out_of_memory)
    with pytest.raises(PolicyError, match="out of memory") as info:
        tiny_policy.predict(observation(640, 480), GOAL)
    assert isinstance(info.value.__cause__, RuntimeError)


@pytest.mark.slow
def test_the_documented_command_runs_three_steps(tmp_path: Path) -> None:
    """`python -m pixelpilot.model.tiny DIR && pixelpilot run --env fake --model qwen25vl:DIR
    --task "open settings" --max-steps 3`, as the README shows it."""
    import subprocess
    import sys

    folder, run_dir = tmp_path / "tiny", tmp_path / "run"
    subprocess.run([sys.executable, "-m", "pixelpilot.model.tiny", str(folder)], check=True)
    command = [sys.executable, "-m", "pixelpilot.cli", "run", "--env", "fake"]
    command += ["--model", f"qwen25vl:{folder}", "--task", "open settings", "--max-steps", "3"]
    command += ["--out", str(run_dir)]
    done = subprocess.run(command, timeout=600)
    assert done.returncode == 1  # ran to the step budget without solving the task
    assert json.loads((run_dir / "result.json").read_text())["status"] == "max_steps"
    steps = [json.loads(line) for line in (run_dir / "trajectory.jsonl").read_text().splitlines()]
    assert len(steps) == 3
    for step in steps:
        assert step["error"] is None and step["action"] is not None, step
        assert step["raw_output"].startswith("<tool_call>\n")
        x, y = step["action"].get("x", 0), step["action"].get("y", 0)
        assert 0 <= x < step["screen"][0] and 0 <= y < step["screen"][1]
