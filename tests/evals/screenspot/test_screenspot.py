"""ScreenSpot v1/v2/Pro loaders and scorer on files in the published layouts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from pixelpilot.actions import Box, Click, Type
from pixelpilot.errors import ConfigError
from pixelpilot.evals import EvalDataError, Problems, create_benchmark
from pixelpilot.evals.screenspot.benchmark import ScreenSpotPro, ScreenSpotV2
from pixelpilot.evals.screenspot.data import SHAPE_CONVERTED, SHAPE_OFFICIAL, GroundingSample
from pixelpilot.model import Prediction
from tests.evals import support


def _annotations_only(root: Path, *, official: bool = False, version: str = "v2") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    suffix = "_v2" if version == "v2" else ""
    for platform in support.PLATFORMS:
        records = support.real_annotations(platform)
        out = [support.to_official(r) for r in records] if official else records
        (root / f"screenspot_{platform}{suffix}.json").write_text(json.dumps(out))
    return root


def test_real_v2_annotations_load_with_platform_from_the_file(tmp_path: Path) -> None:
    problems = Problems()
    dataset = ScreenSpotV2().load(_annotations_only(tmp_path), problems, for_prediction=False)
    samples = list(dataset.samples)
    assert problems.items == []
    counts = {p: sum(s.platform == p for s in samples) for p in support.PLATFORMS}
    assert counts == {"mobile": 501, "desktop": 334, "web": 437}
    assert dataset.info["box_format"] == {
        f"screenspot_{p}_v2.json": SHAPE_CONVERTED for p in support.PLATFORMS
    }
    # trap: "shop" records inside the mobile and desktop files keep the file's platform
    shop_mobile = [s for s in samples if s.source == "shop" and s.id.startswith("mobile/")]
    shop_desktop = [s for s in samples if s.source == "shop" and s.id.startswith("desktop/")]
    assert len(shop_mobile) == 52 and {s.platform for s in shop_mobile} == {"mobile"}
    assert len(shop_desktop) == 28 and {s.platform for s in shop_desktop} == {"desktop"}
    first = support.real_annotations("mobile")[0]
    assert samples[0].id == "mobile/0" and samples[0].box == Box(*first["bbox"])


def test_official_shape_is_detected_and_corners_are_x_plus_w(tmp_path: Path) -> None:
    converted = list(
        ScreenSpotV2()
        .load(_annotations_only(tmp_path / "c"), Problems(), for_prediction=False)
        .samples
    )
    dataset = create_benchmark("screenspot").load(
        _annotations_only(tmp_path / "o", official=True, version="v1"),
        Problems(),
        for_prediction=False,
    )
    official = list(dataset.samples)
    assert dataset.info["box_format"]["screenspot_web.json"] == SHAPE_OFFICIAL
    assert [s.box for s in official] == [s.box for s in converted]
    assert [(s.ui_type, s.source) for s in official] == [(s.ui_type, s.source) for s in converted]


def test_wrong_version_and_missing_files_say_what_was_found(tmp_path: Path) -> None:
    _annotations_only(tmp_path, version="v1")
    with pytest.raises(
        ConfigError, match=r"looks like ScreenSpot v1: use `pixelpilot eval screenspot`"
    ):
        ScreenSpotV2().load(tmp_path, Problems(), for_prediction=False)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ConfigError, match="found: no JSON files"):
        ScreenSpotV2().load(empty, Problems(), for_prediction=False)


def test_malformed_and_mixed_records_are_listed_not_fatal(tmp_path: Path) -> None:
    good = support.real_annotations("web")[:3]
    records: list[Any] = [
        good[0],
        support.to_official(good[1]),
        {"img_filename": "x.png", "bbox": [1, 2, 3], "instruction": "a", "data_type": "text"},
        {
            "img_filename": "x.png",
            "bbox": [9, 9, 1, 1],
            "instruction": "b",
            "img_size": [10, 10],
            "ui_type": "icon",
        },
        {"img_filename": "x.png", "bbox": [0, 0, 1, 1], "instruction": "c"},
        "not an object",
        {**good[2], "ui_type": "button"},
    ]
    (tmp_path / "screenspot_web_v2.json").write_text(json.dumps(records))
    problems = Problems()
    dataset = ScreenSpotV2().load(tmp_path, problems, for_prediction=False)
    assert [s.id for s in dataset.samples] == ["web/0", "web/1"]
    assert dataset.info["missing_platforms"] == ["mobile", "desktop"]
    assert dataset.info["box_format"]["screenspot_web_v2.json"].startswith("mixed")
    details = [(p.where, p.detail) for p in problems.items]
    assert [w for w, _ in details] == [f"screenspot_web_v2.json[{i}]" for i in (2, 3, 4, 5, 6)]
    assert "list of 4 numbers" in details[0][1] and "x2 < x1" in details[1][1]
    assert "cannot tell the box shape" in details[2][1] and "'text' or 'icon'" in details[4][1]
    with pytest.raises(EvalDataError, match=r"malformed record at screenspot_web_v2.json\[2\]"):
        list(ScreenSpotV2().load(tmp_path, Problems(strict=True), for_prediction=False).samples)


def _sample(box: Box, platform: str = "mobile") -> GroundingSample:
    return GroundingSample(
        "mobile/0", "tap", Path("x.png"), box, platform, "icon", "ios", platform, None
    )


def test_point_in_box_edges_inclusive_and_unparsed() -> None:
    bench = ScreenSpotV2()
    sample = _sample(Box(10, 20, 30, 40))
    for point, expected in [
        ([10, 20], True),
        ([30, 40], True),
        ([31, 40], False),
        ([20, 19], False),
    ]:
        assert bench.score(sample, {"id": sample.id, "point": point}).correct is expected
    unparsed = bench.score(sample, {"id": sample.id, "point": None})
    assert not unparsed.correct and unparsed.unparsed
    # a record without `point` is read through its action (a click or move)
    assert bench.score(
        sample, {"id": sample.id, "action": {"type": "click", "x": 15, "y": 25}}
    ).correct
    assert bench.score(sample, {"id": sample.id, "action": {"type": "type", "text": "hi"}}).unparsed
    bad = bench.score(sample, {"id": sample.id, "point": [1, "2"]})
    assert bad.unparsed and "point" in bad.details["malformed"]


def test_real_box_past_the_image_edge_is_accepted(tmp_path: Path) -> None:
    record = next(r for r in support.real_annotations("mobile") if r["bbox"][2] > r["img_size"][0])
    assert record["bbox"][2] == record["img_size"][0] + 1  # the published trap
    root = support.make_screenspot(tmp_path, {"mobile": [record]})
    problems = Problems()
    (sample,) = ScreenSpotV2().load(root, problems, for_prediction=True).samples
    assert problems.items == [] and sample.box.x2 == record["img_size"][0] + 1
    right_edge = record["img_size"][0] - 1
    assert ScreenSpotV2().score(sample, {"point": [right_edge, record["bbox"][1]]}).correct


def test_observation_history_and_record_from_a_prediction(tmp_path: Path) -> None:
    records = support.real_annotations("web")[:2]
    root = support.make_screenspot(tmp_path, {"web": records})
    bench = ScreenSpotV2()
    sample = next(iter(bench.load(root, Problems(), for_prediction=True).samples))
    observation, history = bench.observe(sample)
    assert observation.size == tuple(records[0]["img_size"]) and observation.platform == "browser"
    assert history.goal == records[0]["instruction"] and history.steps == ()
    assert bench.policy_options() == {"grounding": True}
    record = bench.to_record(sample, Prediction(Click(x=5, y=6), raw_text="raw"), observation)
    assert (
        record["point"] == [5, 6] and record["action"]["type"] == "click" and record["raw"] == "raw"
    )
    typed = bench.to_record(sample, Prediction(Type(text="hello")), observation)
    assert typed["point"] is None and "no click point" in typed["error"]


def test_missing_and_unreadable_images(tmp_path: Path) -> None:
    records = support.real_annotations("desktop")[:6]
    root = support.make_screenspot(tmp_path, {"desktop": records})
    folder = root / "screenspotv2_image"
    (folder / records[0]["img_filename"]).unlink()
    problems = Problems()
    samples = list(ScreenSpotV2().load(root, problems, for_prediction=True).samples)
    gone = [p for p in problems.items if p.kind == "missing image"]
    assert gone and all(p.where.startswith("desktop/") for p in gone)
    assert len(samples) == len(records) - len(gone)
    (folder / samples[0].image.name).write_bytes(b"not a png")
    from pixelpilot.evals.offline import SampleError

    with pytest.raises(SampleError, match=r"not a readable|cannot identify"):
        ScreenSpotV2().observe(samples[0])


def test_image_folder_override_and_not_found(tmp_path: Path) -> None:
    records = support.real_annotations("web")[:1]
    root = support.make_screenspot(tmp_path / "set", {"web": records}, images="pictures")
    with pytest.raises(ConfigError, match="pass --images DIR"):
        ScreenSpotV2().load(root, Problems(), for_prediction=True)
    bench = create_benchmark("screenspot-v2", {"images": str(root / "pictures")})
    assert len(list(bench.load(root, Problems(), for_prediction=True).samples)) == 1


def _pro_set(root: Path) -> Path:
    (root / "annotations").mkdir(parents=True)
    (root / "images" / "vscode").mkdir(parents=True)
    Image.new("RGB", (3840, 2160)).save(root / "images" / "vscode" / "a.png")
    common = {
        "img_filename": "vscode/a.png",
        "img_size": [3840, 2160],
        "platform": "macos",
        "instruction_cn": "x",
    }
    vscode = [
        {
            **common,
            "id": "vscode_0",
            "bbox": [100, 100, 140, 120],
            "instruction": "run",
            "application": "vscode",
            "group": "Dev",
            "ui_type": "icon",
        },
        {
            **common,
            "id": "vscode_1",
            "bbox": [200, 100, 300, 130],
            "instruction": "open",
            "application": "vscode",
            "group": "Dev",
            "ui_type": "text",
        },
        {
            **common,
            "id": "vscode_1",
            "bbox": [1, 1, 2, 2],
            "instruction": "dup",
            "application": "vscode",
            "group": "Dev",
            "ui_type": "text",
        },
    ]
    word = [
        {
            **common,
            "id": "word_0",
            "bbox": [10, 10, 20, 20],
            "instruction": "bold",
            "application": "word",
            "group": "Office",
            "ui_type": "icon",
        }
    ]
    (root / "annotations" / "vscode_macos.json").write_text(json.dumps(vscode))
    (root / "annotations" / "word_windows.json").write_text(json.dumps(word))
    return root


def test_pro_layout_ids_groups_and_breakdowns(tmp_path: Path) -> None:
    root = _pro_set(tmp_path)
    bench = ScreenSpotPro()
    problems = Problems()
    dataset = bench.load(root, problems, for_prediction=True)
    samples = list(dataset.samples)
    assert [s.id for s in samples] == ["vscode_0", "vscode_1", "word_0"]
    assert [p.kind for p in problems.items] == ["duplicate id"]
    observation, _ = bench.observe(samples[0])
    assert observation.platform == "desktop" and observation.size == (3840, 2160)
    scores = [
        bench.score(samples[0], {"point": [120, 110]}),
        bench.score(samples[1], {"point": [0, 0]}),
        bench.score(samples[2], {"point": None}),
    ]
    summary = bench.summarize(scores)
    assert summary.headline == ("accuracy", pytest.approx(100 / 3))
    group = {row[0]: row for row in summary.tables[0].rows}
    assert group["Dev"] == ["Dev", 0.0, 100.0, 50.0, 2] and group["Office"] == [
        "Office",
        None,
        0.0,
        0.0,
        1,
    ]
    assert summary.tables[1].key == "application" and summary.metrics["unparsed"] == 1
    assert "3 of the 1581 published samples were scored." in summary.notes
    with pytest.raises(ConfigError, match=r"annotations/\*\.json"):
        bench.load(tmp_path / "images", Problems(), for_prediction=True)


def test_v2_summary_tables() -> None:
    bench = ScreenSpotV2()
    samples = [_sample(Box(0, 0, 10, 10), p) for p in ("mobile", "mobile", "web")]
    scores = [
        bench.score(s, {"point": pt})
        for s, pt in zip(samples, ([5, 5], [50, 5], [1, 1]), strict=True)
    ]
    summary = bench.summarize(scores)
    rows = {row[0]: row for row in summary.tables[0].rows}
    assert rows["mobile"] == ["mobile", None, 50.0, 50.0, 2]
    assert rows["web"] == ["web", None, 100.0, 100.0, 1]
    assert rows["all"][3] == pytest.approx(200 / 3)
    assert summary.metrics["mobile_icon"] == {"percent": 50.0, "correct": 1, "total": 2}
