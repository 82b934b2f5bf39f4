"""AndroidControl: official TFRecord files written here, read back through the real reader."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from pixelpilot.actions import Box, Button, Click, LongPress, OpenApp, Size, Swipe, Type
from pixelpilot.errors import ConfigError
from pixelpilot.evals import EvalDataError, Problems, Score, create_benchmark
from pixelpilot.evals.androidcontrol.benchmark import AndroidControl, StepSample
from pixelpilot.model import Prediction
from tests.evals import support

W, H = 270, 600
ACTIONS = [
    {"action_type": "open_app", "app_name": "Mail"},
    {"action_type": "click", "x": 135, "y": 300},
    {"action_type": "input_text", "text": "hello world"},
    {"action_type": "scroll", "direction": "down"},
    {"action_type": "long_press", "x": 50, "y": 500},
    {"action_type": "navigate_back"},
    {"action_type": "navigate_home"},
    {"action_type": "wait"},
]
LAUNCHER = support.forest(
    [(1, (0, 0, W, H), [support.node((20, 100, 80, 160), desc="Mail", clickable=True)])]
)
SCREEN = support.forest(
    [
        (
            1,
            (0, 0, W, H),
            [
                support.node((0, 0, W, H)),
                support.node((0, 260, 270, 340), clickable=True),
                support.node((100, 280, 170, 320), text="Send"),
            ],
        )
    ]
)
TREES = [LAUNCHER, SCREEN, SCREEN, SCREEN, b"", SCREEN, SCREEN, SCREEN, SCREEN]


def write_dataset(root: Path, *, splits: bool = True) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    first = [
        support.episode_example(
            101,
            "Send hello by mail",
            ACTIONS,
            [f"do step {i}" for i in range(8)],
            size=(W, H),
            trees=TREES,
        ),
        support.episode_example(202, "train only", ACTIONS[1:2], ["tap"], size=(W, H)),
    ]
    second = [
        support.episode_example(
            303,
            "broken middle step",
            [ACTIONS[1], {"action_type": "fly"}, ACTIONS[5]],
            ["a", "b", "c"],
            size=(W, H),
        )
    ]
    support.write_tfrecord(root / "android_control-00000-of-00002", first)
    support.write_tfrecord(root / "android_control-00001-of-00002", second)
    if splits:
        (root / "splits.json").write_text(
            json.dumps({"train": [202], "validation": [], "test": [101, 303]})
        )
    return root


def load(root: Path, problems: Problems | None = None, **options: object) -> list[StepSample]:
    bench = create_benchmark("androidcontrol", options)
    found = problems if problems is not None else Problems()
    return list(bench.load(root, found, for_prediction=True).samples)


def test_test_split_steps_ids_and_ground_truth(tmp_path: Path) -> None:
    problems = Problems()
    samples = load(write_dataset(tmp_path), problems)
    assert [s.id for s in samples] == [f"101/{i}" for i in range(8)] + ["303/0", "303/2"]
    assert [(p.kind, p.where) for p in problems.items] == [("malformed record", "303/1")]
    assert "unknown action_type 'fly'" in problems.items[0].detail
    assert [s.gt.type for s in samples[:8]] == [a["action_type"] for a in ACTIONS]
    assert samples[1].size == Size(W, H) and samples[1].instruction == "Send hello by mail"


def test_history_is_the_converted_ground_truth(tmp_path: Path) -> None:
    samples = load(write_dataset(tmp_path))
    steps = samples[7].history
    assert [e.action for e in steps] == [
        OpenApp(name="Mail"),
        Click(x=135, y=300),
        Type(text="hello world"),
        # scroll down (content) is the finger swiping up: centre -> top edge
        Swipe(x=135, y=300, to_x=135, to_y=0),
        LongPress(x=50, y=500),
        Button(name="back"),
        Button(name="home"),
    ]
    assert all(e.screen_size == (W, H) and e.error is None for e in steps)
    assert json.loads(steps[0].raw_text) == ACTIONS[0]
    broken = samples[9].history  # 303/2: its step 1 could not be converted
    assert broken[1].action is None and "fly" in broken[1].raw_text


def test_low_setting_adds_the_step_instruction(tmp_path: Path) -> None:
    bench = create_benchmark("androidcontrol", {"setting": "low"})
    assert isinstance(bench, AndroidControl)
    samples = list(bench.load(write_dataset(tmp_path), Problems(), for_prediction=True).samples)
    assert samples[2].instruction == "Send hello by mail\nCurrent step query: do step 2"
    observation, history = bench.observe(samples[2])
    assert history.goal == samples[2].instruction and len(history.steps) == 2
    assert observation.platform == "android" and observation.size == (W, H)


def test_candidate_boxes_come_from_the_accessibility_tree(tmp_path: Path) -> None:
    samples = load(write_dataset(tmp_path))
    assert samples[0].candidates == (Box(20, 100, 80, 160),)  # open_app: the icon labelled Mail
    assert samples[1].candidates == (Box(100, 280, 170, 320), Box(0, 260, 270, 340))
    assert samples[4].candidates is None  # long_press step without a tree
    assert samples[2].candidates is None  # type steps need none
    assert samples[8].candidates is None  # episode 303 has no trees at all


def test_explicit_step_list_and_unknown_ids(tmp_path: Path) -> None:
    root = write_dataset(tmp_path)
    steps = tmp_path / "steps.txt"
    steps.write_text("# a subset\n101/3\n202/0\n999/1\n")
    problems = Problems()
    dataset = create_benchmark("androidcontrol", {"steps": str(steps)}).load(
        root, problems, for_prediction=False
    )
    assert dataset.total == 3
    samples = list(dataset.samples)
    assert [s.id for s in samples] == ["101/3", "202/0"] and samples[0].screenshot is None
    assert [(p.kind, p.where) for p in problems.items] == [("unknown id", "999/1")]
    assert "explicit step list" in dataset.info["selection"]
    steps.write_text('["1/x"]')
    with pytest.raises(ConfigError, match="bad step id '1/x'"):
        load(root, steps=str(steps))


def test_no_splits_file_uses_every_episode_and_says_so(tmp_path: Path) -> None:
    root = write_dataset(tmp_path, splits=False)
    bench = create_benchmark("androidcontrol")
    dataset = bench.load(root, Problems(), for_prediction=False)
    assert len(list(dataset.samples)) == 8 + 1 + 2
    assert dataset.info["selection"] == "every episode in the files (no splits.json found)"
    with pytest.raises(ConfigError, match="no split 'dev'"):
        load(write_dataset(tmp_path / "b"), split="dev")
    with pytest.raises(ConfigError, match="no AndroidControl TFRecord files"):
        load(tmp_path / "missing")


def test_damaged_files_are_listed_and_reading_goes_on(tmp_path: Path) -> None:
    root = write_dataset(tmp_path)
    good = support.episode_example(303, "replaced", [ACTIONS[1]], ["a"], size=(W, H))
    bad_lengths = support.example({"episode_id": support.feature([303], "int64")})
    raw = bytearray(support.tfrecord_bytes([bad_lengths, b"\x0b", good, good]))
    raw[-10] ^= 0xFF  # damage the last payload: its checksum fails
    (root / "android_control-00001-of-00002").write_bytes(gzip.compress(bytes(raw)))
    (root / "android_control-00002-of-00003").write_bytes(
        gzip.compress(support.tfrecord_bytes([good]))[:-20]
    )
    problems = Problems()
    samples = load(root, problems)
    assert [s.id for s in samples if s.id.startswith("303/")] == ["303/0"]
    kinds = [(p.kind, p.where) for p in problems.items]
    assert ("malformed record", "android_control-00001-of-00002") in kinds  # missing features
    assert ("corrupt file", "android_control-00002-of-00003") in kinds  # truncated stream
    details = " ".join(p.detail for p in problems.items)
    assert "undecodable tf.train.Example" in details and "bad payload checksum" in details
    assert "feature 'goal' is missing" in details or "feature 'screenshots' is missing" in details
    with pytest.raises(EvalDataError):
        load(root, Problems(strict=True))


def test_prediction_on_a_smaller_screenshot_is_mapped_to_device_pixels(tmp_path: Path) -> None:
    root = tmp_path / "scaled"
    root.mkdir()
    # PNGs at half the recorded device size
    payload = support.example(
        {
            "episode_id": support.feature([5], "int64"),
            "goal": support.feature([b"g"], "bytes"),
            "screenshots": support.feature([support.png((W // 2, H // 2))] * 2, "bytes"),
            "screenshot_widths": support.feature([W, W], "int64"),
            "screenshot_heights": support.feature([H, H], "int64"),
            "actions": support.feature([json.dumps(ACTIONS[1]).encode()], "bytes"),
            "step_instructions": support.feature([b"tap"], "bytes"),
        }
    )
    support.write_tfrecord(root / "android_control-00000-of-00001", [payload])
    bench = create_benchmark("androidcontrol")
    (sample,) = bench.load(root, Problems(), for_prediction=True).samples
    assert isinstance(bench, AndroidControl)
    observation, _ = bench.observe(sample)
    assert observation.size == (W // 2, H // 2)
    record = bench.to_record(sample, Prediction(Click(x=67, y=150)), observation)
    assert record["action"] == {"type": "click", "x": 135, "y": 301, "button": "left", "count": 1}
    assert record["point"] == [135, 301] and json.loads(record["ground_truth"]) == ACTIONS[1]
    assert bench.score(sample, record).correct


def marks(scores: list[Score]) -> str:
    """x for a correct step, . for a wrong one."""
    return "".join("x" if s.correct else "." for s in scores)


def test_summary_reports_type_grounding_and_success(tmp_path: Path) -> None:
    bench = create_benchmark("androidcontrol", {"protocol": "box"})
    samples = load(write_dataset(tmp_path))
    answers = [
        {"type": "click", "x": 50, "y": 130},  # open_app by clicking the icon (B only)
        {"type": "click", "x": 265, "y": 335},  # inside the enlarged row box
        {"type": "type", "text": "hello"},  # contained in "hello world"
        {"type": "swipe", "x": 135, "y": 500, "to_x": 135, "to_y": 100, "duration_ms": 300},
        {"type": "click", "x": 50, "y": 500},  # long_press answered by click: type mismatch
        {"type": "button", "name": "home"},  # back expected: type match, wrong name
        None,  # unparsed
        {"type": "wait", "seconds": 1.0},
        {"type": "click", "x": 0, "y": 0},  # 303/0: far away, no tree: distance only
        {"type": "button", "name": "back"},
    ]
    scores = [bench.score(s, {"action": a}) for s, a in zip(samples, answers, strict=True)]
    summary = bench.summarize(scores)
    assert marks(scores) == "xxxx...x.x"
    assert summary.headline == ("step_success", 60.0)
    assert summary.metrics["type_accuracy"]["correct"] == 8
    assert summary.metrics["grounding_accuracy"] == {"percent": 50.0, "correct": 1, "total": 2}
    assert summary.metrics["unparsed"] == 1
    assert summary.metrics["candidate_boxes"] == {"tree": 2, "no tree": 1}
    assert any("1 step(s) had no accessibility tree" in n for n in summary.notes)
    rows = {row[0]: row for row in summary.tables[0].rows}
    assert rows["navigate_back"] == ["navigate_back", 2, 100.0, 50.0]
    distance = create_benchmark("androidcontrol", {"protocol": "distance"})
    scores_a = [distance.score(s, {"action": a}) for s, a in zip(samples, answers, strict=True)]
    # protocol A: clicking the icon is not open_app; the row click is 481/1000 away from the
    # true point; "hello" vs "hello world" has token F1 0.67; home is not navigate_back's type
    assert marks(scores_a) == "..xx...x.x"
    assert [bool(s.details["type_match"]) for s in scores_a].count(True) == 6
    malformed = bench.score(samples[0], {"action": {"type": "teleport"}})
    assert malformed.unparsed and "invalid action" in malformed.details["malformed"]
