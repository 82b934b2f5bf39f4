"""report.html of evaluations, opened in real headless Chromium: tables from report.json, the
ScreenSpot gallery drawn from data in the official format and paged, AndroidControl failing
steps drawn, and MiniWoB++-style episode rows linking to their run reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pixelpilot.actions import Click, Terminate, Type
from pixelpilot.cli import main
from pixelpilot.evals.base import Score
from pixelpilot.evals.report_html import PAGE_SIZE, Gallery, write_eval_html
from tests.agent.report.browser import open_report
from tests.agent.report.runs import record_run
from tests.evals.androidcontrol.test_androidcontrol import write_dataset
from tests.evals.test_runner import planned_actions, screenspot_set, write_script

pytestmark = pytest.mark.browser


def run_eval(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main([*argv, "--no-progress"]) == 0
    return capsys.readouterr().out


def test_screenspot_report_has_tables_and_a_drawn_gallery(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = screenspot_set(tmp_path / "set")
    script = write_script(tmp_path / "a.jsonl", planned_actions(20))
    out = tmp_path / "run"
    argv = ["eval", "screenspot-v2", "--model", f"scripted:{script}", "--data", str(data)]
    printed = run_eval([*argv, "--out", str(out), "--limit", "20"], capsys)
    assert f"page: {out / 'report.html'}" in printed
    report = json.loads((out / "report.json").read_text())
    with open_report(out / "report.html") as opened:
        page = opened.page
        assert opened.console_errors == [] and opened.network_requests() == []
        assert "50.0%" in page.locator("header.top").inner_text()
        platform_rows = len(report["breakdowns"]["platform"]["rows"])
        tables = page.locator("main table")
        assert tables.count() >= len(report["breakdowns"]) + 1
        assert tables.first.locator("tbody tr").count() == platform_rows
        # failures first: 10 of the 20 samples missed (one answered by typing)
        figures = page.locator(".gallery figure")
        assert figures.count() == 10 and page.locator(".gallery figure.good").count() == 0
        page.locator("select.which").select_option("successes")
        assert figures.count() == 10 and page.locator(".gallery figure.bad").count() == 0
        page.locator("select.which").select_option("all")
        assert figures.count() == 20
        first = figures.first
        assert first.locator("rect.gt").count() == 1 and first.locator("g.mark").count() == 1
        loaded = page.evaluate(
            """() => Promise.all(Array.from(document.querySelectorAll('.gallery image')).map(
                (img) => new Promise((done) => {
                    const probe = new Image();
                    probe.onload = () => done(probe.naturalWidth > 0);
                    probe.onerror = () => done(false);
                    probe.src = new URL(img.getAttribute('href'), location.href).href;
                })))"""
        )
        assert loaded and all(loaded)
        groups = page.locator("select.group option").all_inner_texts()
        assert "mobile / text" in groups or "mobile / icon" in groups


def test_screenspot_pro_gallery_groups_by_platform_and_type(tmp_path: Path) -> None:
    from pixelpilot.evals import create_benchmark, evaluate
    from tests.evals.screenspot.test_screenspot import _pro_set
    from tests.evals.test_runner import FlakyPolicy

    data = _pro_set(tmp_path / "pro")
    out = tmp_path / "run"
    bench = create_benchmark("screenspot-pro", {})
    result = evaluate(bench, FlakyPolicy(), data=data, out=out, model_info={}, progress=False)
    scored = result.report["counts"]["scored"]
    with open_report(out / "report.html") as opened:
        page = opened.page
        assert opened.console_errors == [] and opened.network_requests() == []
        page.locator("select.which").select_option("all")
        assert page.locator(".gallery figure").count() == scored
        groups = page.locator("select.group option").all_inner_texts()[1:]
        assert groups == sorted(groups) and "macos / icon" in groups
        href = page.locator(".gallery image").first.get_attribute("href")
        assert href is not None and (out / href).resolve() == (data / "images/vscode/a.png")


def test_a_large_gallery_is_paged(tmp_path: Path) -> None:
    gallery = Gallery(tmp_path)
    for index in range(1581):
        gallery.items.append(
            {
                "title": f"target {index}",
                "group": ("macos / text", "windows / icon")[index % 2],
                "correct": index % 3 == 0,
                "img": None,
                "w": 3840,
                "h": 2160,
                "view": [0, 0, 800, 600],
                "boxes": [[100, 100, 40, 20]],
                "marks": [{"at": [110, 105]}],
                "lines": [f"id {index}"],
            }
        )
    report = {"headline": {"metric": "accuracy", "percent": 33.4}, "counts": {"samples": 1581}}
    path = write_eval_html(tmp_path, report, gallery)
    with open_report(path) as opened:
        page = opened.page
        assert opened.console_errors == []
        page.locator("select.which").select_option("all")
        assert page.locator(".gallery figure").count() == PAGE_SIZE
        assert page.locator(".page-label").inner_text() == "page 1 of 33 (1581 samples)"
        page.locator(".pager button", has_text="next").click()
        assert page.locator(".gallery figure figcaption").first.inner_text().endswith("id 48")
        page.locator("select.group").select_option("windows / icon")
        assert page.locator(".page-label").inner_text() == "page 1 of 17 (790 samples)"


def test_androidcontrol_failing_steps_are_drawn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_dataset(tmp_path / "ac")
    script = write_script(
        tmp_path / "a.jsonl", [Click(x=5, y=5), Click(x=265, y=335), Type(text="x")]
    )
    out = tmp_path / "run"
    argv = ["eval", "androidcontrol", "--data", str(data), "--limit", "3"]
    run_eval([*argv, "--model", f"scripted:{script}", "--out", str(out)], capsys)
    records = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    failing = [r for r in records if not r["correct"]]
    assert failing, records
    with open_report(out / "report.html") as opened:
        page = opened.page
        assert opened.console_errors == [] and opened.network_requests() == []
        figures = page.locator(".gallery figure")
        assert figures.count() == len(failing)
        text = figures.first.inner_text()
        assert "predicted (red)" in text and "reference (green)" in text
        assert figures.first.locator("g.mark.pred").count() == 1
        assert figures.first.locator("image").count() == 1
    assert len(list((out / "report_files").iterdir())) == len(failing)


def test_miniwob_report_links_each_episode_to_its_run_report(tmp_path: Path) -> None:
    from pixelpilot.evals import evaluate
    from pixelpilot.evals.miniwob.benchmark import MiniWob, MiniWobOptions
    from tests.evals.miniwob.support import PageOraclePolicy

    out = tmp_path / "eval"
    options = MiniWobOptions(
        tasks=["click-button"], episodes=1, seed=1, max_steps=4, time_limit_ms=60000
    )
    bench = MiniWob(options.model_copy(update={"trajectories": str(out / "trajectories")}))
    policy = PageOraclePolicy(lambda: bench.runner.current if bench.runner else None, zoom=1.0)
    try:
        evaluate(bench, policy, data=None, out=out, model_info={"spec": "oracle"}, progress=False)
    finally:
        bench.close()
    assert (out / "trajectories" / "click-button" / "1" / "report.html").exists()
    with open_report(out / "report.html") as opened:
        page = opened.page
        assert opened.console_errors == []
        row = page.locator("table.episodes tbody tr")
        assert row.count() == 1 and "solved" in row.inner_text()
        row.locator("a").click()
        page.wait_for_load_state("load")
        assert page.url.endswith("trajectories/click-button/1/report.html")
        assert page.locator("section.step").count() >= 1


def test_episode_rows_link_to_their_run_reports(tmp_path: Path) -> None:
    run_dir = record_run(
        tmp_path / "trajectories" / "click-button" / "0", [Terminate(status="success")]
    )
    gallery = Gallery(tmp_path)
    record = {"id": "click-button/0", "success": True, "reward": 1.0, "trajectory": str(run_dir)}
    gallery.add(None, record, Score("click-button/0", True, False))
    report = {"headline": {"metric": "success_rate", "percent": 100.0}, "counts": {"samples": 1}}
    path = write_eval_html(tmp_path, report, gallery)
    assert (run_dir / "report.html").exists()
    with open_report(path) as opened:
        page = opened.page
        row = page.locator("table.episodes tbody tr")
        assert row.count() == 1 and "solved" in row.inner_text()
        row.locator("a").click()
        page.wait_for_load_state("load")
        assert page.url.endswith("trajectories/click-button/0/report.html")
        assert page.locator("section.step").count() == 1
