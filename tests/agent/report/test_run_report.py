"""The run report in real headless Chromium: it loads cleanly and offline, has one section per
step, draws each click within 1 px of its pixel, and still renders a run killed mid-step."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pixelpilot.actions import Action, Click, Terminate
from pixelpilot.agent.report import write_run_report
from tests.agent.report.browser import open_report
from tests.agent.report.runs import ACTIONS, CLICKS, record_run, tear_last_step

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return record_run(tmp_path_factory.mktemp("report") / "run")


def marker_pixels(page: object, index: int) -> list[tuple[float, float]]:
    """Each target's centre on the page, scaled back to screenshot pixels (floored to the
    pixel it lies in)."""
    return page.evaluate(  # type: ignore[attr-defined,no-any-return]
        """(index) => {
            const section = document.getElementById("step-" + index);
            const img = section.querySelector("img.shot");
            const frame = img.getBoundingClientRect();
            const sx = img.naturalWidth / frame.width, sy = img.naturalHeight / frame.height;
            return Array.from(section.querySelectorAll("g.target circle.dot")).map((dot) => {
                const b = dot.getBoundingClientRect();
                return [(b.x + b.width / 2 - frame.x) * sx, (b.y + b.height / 2 - frame.y) * sy];
            });
        }""",
        index,
    )


def test_report_loads_offline_with_one_section_per_step(run_dir: Path) -> None:
    path = write_run_report(run_dir)
    with open_report(path) as opened:
        page = opened.page
        assert opened.console_errors == []
        assert opened.network_requests() == []
        assert page.locator("section.step").count() == len(ACTIONS)
        assert page.locator("#filmstrip a").count() == len(ACTIONS)
        summary = page.locator("header.top").inner_text().lower()
        assert "solved" in summary and "success" in summary
        # judged and claimed are separate cards, never one value
        cards = page.locator(".card .v").all_inner_texts()
        assert cards[:3] == ["solved", "success", "terminated"]
        assert cards[4:6] == ["fake", "test:list"]  # after the step count: environment, model
        assert page.locator(".secret").first.inner_text() == "<secret:PASSWORD>"
        # the fake environment is named as such; "desktop" is only the interface it stands in for
        assert "1280x800 px, scale 1.0, desktop interface" in page.locator("#step-1").inner_text()


def test_click_markers_are_within_one_pixel(run_dir: Path) -> None:
    path = write_run_report(run_dir)
    with open_report(path, width=1100) as opened:
        for index, click in enumerate(CLICKS, start=1):
            (x, y), *_ = marker_pixels(opened.page, index)
            assert abs(x - (click.x + 0.5)) <= 1 and abs(y - (click.y + 0.5)) <= 1, (x, y, click)
        rings = opened.page.locator("#step-2 g.target").get_attribute("data-rings")
        assert rings == "2"  # the double click is drawn as one


def test_keys_and_play_move_between_steps(run_dir: Path) -> None:
    path = write_run_report(run_dir)
    with open_report(path) as opened:
        page = opened.page
        assert page.locator("section.step.current").get_attribute("id") == "step-1"
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        assert page.locator("section.step.current").get_attribute("id") == "step-3"
        page.keyboard.press("ArrowLeft")
        assert page.locator("section.step.current").get_attribute("id") == "step-2"
        page.keyboard.press("End")
        assert page.locator("section.step.current").get_attribute("id") == f"step-{len(ACTIONS)}"
        page.keyboard.press("Home")
        page.locator("#play").click()
        page.wait_for_function(
            "() => document.querySelector('section.step.current').id !== 'step-1'", timeout=10_000
        )
        page.locator("#play").click()  # pause
        assert opened.console_errors == []


def test_a_torn_last_line_renders_with_the_step_flagged(tmp_path: Path) -> None:
    actions: list[Action] = [Click(x=10, y=10), Click(x=199, y=199), Terminate(status="success")]
    run_dir = record_run(tmp_path / "run", actions)
    # killed while writing step 2's record: step 3 never got one either
    tear_last_step(run_dir, drop=1)
    path = write_run_report(run_dir)
    with open_report(path) as opened:
        page = opened.page
        assert opened.console_errors == []
        assert page.locator("section.step").count() == 3
        torn = page.locator("section.step.torn")
        assert [torn.nth(i).get_attribute("id") for i in range(torn.count())] == [
            "step-2",
            "step-3",
        ]
        assert "may or may not have run" in torn.nth(0).inner_text()
        assert "never completed" in torn.nth(1).inner_text()
        assert "torn last line" in page.locator("header.top").inner_text()
        assert page.locator(".card .v").first.inner_text() == "not judged"
        (x, y), *_ = marker_pixels(page, 2)
        assert abs(x - 199.5) <= 1 and abs(y - 199.5) <= 1


def test_embedded_report_is_one_file(run_dir: Path, tmp_path: Path) -> None:
    path = write_run_report(run_dir, out=tmp_path / "alone.html", embed=True)
    with open_report(path) as opened:
        assert opened.requests == [path.resolve().as_uri()] or all(
            url.startswith("data:") for url in opened.requests[1:]
        )
        assert opened.page.locator("img.shot").count() == len(ACTIONS)
        loaded = opened.page.evaluate(
            "Array.from(document.querySelectorAll('img.shot')).every((i) => i.naturalWidth > 0)"
        )
        assert loaded


def test_report_elsewhere_still_finds_the_screenshots(run_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    path = write_run_report(run_dir, out=tmp_path / "elsewhere" / "r.html")
    with open_report(path) as opened:
        widths = opened.page.evaluate(
            "Array.from(document.querySelectorAll('img.shot')).map((i) => i.naturalWidth)"
        )
        assert widths == [1280] * len(ACTIONS)


def test_new_step_fields_are_shown(run_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "risky"
    copy.mkdir()
    for item in run_dir.iterdir():
        (copy / item.name).write_bytes(item.read_bytes())
    lines = (copy / "trajectory.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    first.update(
        risk={"level": "high", "reason": "types a password"},
        approval="deny",
        approval_reason="denied at the terminal",
        error="denied: denied at the terminal",
        error_kind="denied",
        blocked=["navigation to https://evil.example blocked"],
    )
    (copy / "trajectory.jsonl").write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
    result = json.loads((copy / "result.json").read_text())
    result["safety"] = {"events": {"denied": [1], "blocked": [], "navigation_blocked": [1]}}
    (copy / "result.json").write_text(json.dumps(result))
    path = write_run_report(copy)
    with open_report(path) as opened:
        text = opened.page.locator("#step-1").inner_text()
        assert "risk: high" in text and "types a password" in text
        assert "denied at the terminal" in text and "error: denied" in text
        assert "evil.example blocked" in text
        header = opened.page.locator("header.top").inner_text()
        assert "denied at step 1" in header and "navigation blocked at step 1" in header
