"""MiniWoB++ episodes on the real pages in headless Chromium, through `run_episode`.

A test-only policy reads the target elements' positions from the page and clicks them in
screenshot pixels: the right sequence must earn raw reward > 0 from the page, a wrong one <= 0.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pixelpilot.actions import Click, Wait
from pixelpilot.agent import run_episode
from pixelpilot.env import check_env
from pixelpilot.evals.base import Problems
from pixelpilot.evals.miniwob.benchmark import MiniWobOptions
from pixelpilot.evals.miniwob.pages import MiniWobPage, html_root, list_pages
from pixelpilot.evals.miniwob.run import EpisodeRunner
from pixelpilot.model import ScriptedPolicy
from tests.evals.miniwob.support import PageOraclePolicy, solve

pytestmark = pytest.mark.browser

CLICK_TASKS = [
    "click-button",
    "click-link",
    "click-dialog",
    "click-tab",
    "click-option",
    "click-checkboxes",
]
ZOOM = 3.0


@pytest.fixture(scope="module")
def pages() -> dict[str, MiniWobPage]:
    return list_pages(html_root())


@pytest.fixture(scope="module")
def runner() -> Iterator[EpisodeRunner]:
    # A generous page time limit: a loaded test machine must not make a right answer late.
    runner = EpisodeRunner(MiniWobOptions(zoom=ZOOM, time_limit_ms=60000, max_steps=6))
    try:
        yield runner
    finally:
        runner.close()


def _oracle(runner: EpisodeRunner, mode: str, wait_after: float = 0.0) -> PageOraclePolicy:
    return PageOraclePolicy(
        lambda: runner.current,
        zoom=ZOOM,
        mode=mode,  # type: ignore[arg-type]
        wait_after=wait_after,
    )


@pytest.mark.parametrize("task", CLICK_TASKS)
def test_right_clicks_earn_a_positive_reward(
    runner: EpisodeRunner, pages: dict[str, MiniWobPage], task: str
) -> None:
    policy = _oracle(runner, "good")
    problems = Problems()
    record = runner.run(policy, pages[task], 1, problems)
    assert not problems.items
    assert record is not None
    assert record["id"] == f"{task}/1"
    assert record["reward"] is not None and record["reward"] > 0
    assert record["success"] is True
    # The loop stopped as soon as the page said done: one step per planned click.
    assert record["status"] == "done"
    assert record["steps"] == len(policy.plan)
    assert record["instruction"]
    assert record["time_limit_ms"] == 60000


@pytest.mark.parametrize("task", [t for t in CLICK_TASKS if t != "click-dialog"])
def test_wrong_clicks_earn_no_positive_reward(
    runner: EpisodeRunner, pages: dict[str, MiniWobPage], task: str
) -> None:
    record = runner.run(_oracle(runner, "bad"), pages[task], 0, Problems())
    assert record is not None
    assert record["status"] == "done"
    assert record["reward"] is not None and record["reward"] <= 0
    assert record["success"] is False


def test_a_page_time_limit_ends_a_wrong_episode_with_negative_reward(
    runner: EpisodeRunner, pages: dict[str, MiniWobPage]
) -> None:
    # click-dialog has one rewarding element: a click elsewhere changes nothing until the
    # page's own timer (core.EPISODE_MAX_TIME) ends the episode with -1.
    env = runner.env_for(pages["click-dialog"])
    env.time_limit_ms = 1500
    try:
        policy = _oracle(runner, "bad", wait_after=1.0)
        record = runner.run(policy, pages["click-dialog"], 0, Problems())
    finally:
        env.time_limit_ms = 60000
    assert record is not None
    assert record["status"] == "done"
    assert record["page_reason"] == "timed out"
    assert record["reward"] == -1
    assert record["success"] is False
    assert record["time_limit_ms"] == 1500


def test_same_seed_same_problem(runner: EpisodeRunner, pages: dict[str, MiniWobPage]) -> None:
    env = runner.env_for(pages["click-option"])
    first = env.start(pages["click-option"], 7)
    again = env.start(pages["click-option"], 7)
    other = env.start(pages["click-option"], 8)
    assert first.instruction == again.instruction
    assert first.instruction != other.instruction


def test_the_crop_is_the_task_area_at_the_zoom(
    runner: EpisodeRunner, pages: dict[str, MiniWobPage]
) -> None:
    env = runner.env_for(pages["click-tab"])
    env.start(pages["click-tab"], 3)
    obs = env.reset(task=env.task())
    assert obs.size == (160 * ZOOM, 210 * ZOOM)
    full = env.browser.observe()
    assert full.size == (500 * ZOOM, 320 * ZOOM)
    # The crop is the top-left corner of the page's own screenshot, pixel for pixel.
    assert obs.screenshot.tobytes() == full.screenshot.crop((0, 0, 480, 630)).tobytes()


def test_no_crop_and_another_zoom_shape_the_screenshot_and_clicks_still_land(
    pages: dict[str, MiniWobPage],
) -> None:
    zoom = 2.0
    runner = EpisodeRunner(MiniWobOptions(zoom=zoom, crop=False, time_limit_ms=60000))
    try:
        env = runner.env_for(pages["click-tab"])
        env.start(pages["click-tab"], 3)
        obs = env.reset(task=env.task())
        assert obs.size == (500 * zoom, 320 * zoom)  # the whole 500x320 viewport
        assert obs.scale == zoom
        assert env.browser.session is not None
        points = solve(env.browser.session.page, "click-tab")["good"]
        assert points is not None
        ((x, y),) = points
        policy = PageOraclePolicy(lambda: env, zoom=zoom)
        trajectory = run_episode(env, policy, env.task(), max_steps=3, stop_when=env.done_reason)
        assert trajectory.status == "done"
        assert trajectory.outcome is not None and trajectory.outcome.success
        assert trajectory.steps[0].action == Click(x=int(x * zoom), y=int(y * zoom))
        # Once the page is done, nothing more reaches it.
        assert env.execute(Click(x=1, y=1)).detail.startswith("not executed")
    finally:
        runner.close()


def test_an_episode_the_budget_ends_is_a_failure_without_reward(
    runner: EpisodeRunner, pages: dict[str, MiniWobPage]
) -> None:
    env = runner.env_for(pages["click-button"])
    env.start(pages["click-button"], 2)
    policy = ScriptedPolicy([Wait(seconds=0.05), Wait(seconds=0.05)])
    trajectory = run_episode(env, policy, env.task(), max_steps=2, stop_when=env.done_reason)
    assert trajectory.status == "max_steps"
    assert trajectory.outcome is not None
    assert trajectory.outcome.success is False
    assert trajectory.outcome.reward is None


def test_flight_task_runs_over_http_with_its_larger_task_area(
    runner: EpisodeRunner, pages: dict[str, MiniWobPage]
) -> None:
    env = runner.env_for(pages["flight.AA"])
    env.time_limit_ms = None  # keep the page's own limit
    start = env.start(pages["flight.AA"], 0)
    obs = env.reset(task=env.task())
    outcome = env.evaluate()
    assert start.url.startswith("http://127.0.0.1:")
    assert start.instruction.startswith("{") and "Departure City" in start.instruction
    assert start.time_limit_ms == 60000  # the flight pages set their own
    assert obs.size == (375 * ZOOM, 667 * ZOOM)
    assert outcome is not None and outcome.success is False and outcome.reward is None


def test_a_page_that_cannot_start_is_a_problem_not_a_record(
    runner: EpisodeRunner, tmp_path: Path
) -> None:
    root = tmp_path / "html"
    (root / "core").mkdir(parents=True)
    (root / "miniwob").mkdir()
    (root / "core" / "core.js").write_text("var core = {};\n")
    # A page whose problem never becomes ready.
    (root / "miniwob" / "never-ready.html").write_text(
        "<html><head><script src='../core/core.js'></script><script>\n"
        "var WOB_TASK_READY = false; var WOB_DONE_GLOBAL = false;\n"
        "Math.seedrandom = function () {};\n"
        "core.setDataMode = function () {}; core.startEpisodeReal = function () {};\n"
        "</script></head><body><div id='wrap'></div></body></html>\n"
    )
    page = list_pages(root)["never-ready"]
    env = runner.env_for(page)
    env.ready_timeout = 0.5
    problems = Problems()
    try:
        record = runner.run(_oracle(runner, "good"), page, 0, problems)
    finally:
        env.ready_timeout = 10.0
    assert record is None
    (problem,) = problems.items
    assert problem.kind == "episode did not start" and problem.where == "never-ready/0"
    assert "WOB_TASK_READY stayed false" in problem.detail


def test_the_wrapper_passes_the_environment_checks(pages: dict[str, MiniWobPage]) -> None:
    runner = EpisodeRunner(MiniWobOptions(zoom=1.0))
    try:
        env = runner.env_for(pages["click-button"])
        env.start(pages["click-button"], 0)
        passed = {r.name for r in check_env(env)}
    finally:
        runner.close()
    assert "refuses open_app" in passed  # leaving the task page would break the episode
    assert "bounds click" in passed and "execute wait" in passed
