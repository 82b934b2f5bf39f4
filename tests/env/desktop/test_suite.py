"""The `desktop:` task suite on real applications in a private Xvfb: every task is solved by its
scripted run (tests/env/desktop/solutions/NAME.jsonl) through the normal agent loop and judged
from what a user would check; runs that do not do the task are judged failures."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from pixelpilot.agent import run_episode
from pixelpilot.env.desktop.env import DesktopConfig, DesktopEnv
from pixelpilot.env.desktop.tasks import DESKTOP_TASKS, TASKS, find_task
from pixelpilot.env.tasks import TASK_SUITES, resolve_task
from pixelpilot.errors import UnknownNameError
from pixelpilot.model import create_policy

SOLUTIONS = Path(__file__).with_name("solutions")
PROGRAMS = ("openbox", "mousepad", "galculator", "pcmanfm", "gnumeric", "xterm")
needs_apps = pytest.mark.skipif(
    not all(shutil.which(p) for p in PROGRAMS),
    reason=f"needs the applications: apt-get install {' '.join(PROGRAMS)}",
)


@pytest.fixture(scope="module")
def env() -> Iterator[DesktopEnv]:
    with DesktopEnv(DesktopConfig(virtual_display="1280x800")) as desktop:
        yield desktop


def solve(env: DesktopEnv, name: str, script: Path) -> tuple[str, bool | None, str, list[str]]:
    """Run `script` on task `name`: (status, verdict, the outcome, the steps' errors)."""
    task, suite = resolve_task(f"desktop:{name}")
    assert suite is not None and suite.name == DESKTOP_TASKS.name
    env.reset(task=task)
    trajectory = run_episode(env, create_policy(f"scripted:{script}"), task, max_steps=15)
    outcome = trajectory.outcome
    errors = [step.error for step in trajectory.steps if step.error]
    return trajectory.status, None if outcome is None else outcome.success, str(outcome), errors


def test_the_suite_is_registered_with_at_least_twelve_tasks() -> None:
    suite = TASK_SUITES.load("desktop")
    names = [task.name for task in suite.tasks()]
    assert len(names) >= 12 and len(set(names)) == len(names)
    assert all(name and name.startswith("desktop:") for name in names)
    assert sorted(p.stem for p in SOLUTIONS.glob("*.jsonl")) == sorted(t.name for t in TASKS)
    with pytest.raises(UnknownNameError, match="Did you mean 'desktop:calc-multiply'"):
        suite.get("calc-multiplx")
    assert find_task("desktop:files-rename") is not None


@pytest.mark.desktop
@pytest.mark.slow
@needs_apps
@pytest.mark.parametrize("name", [task.name for task in TASKS])
def test_every_task_is_solved_by_its_scripted_run(env: DesktopEnv, name: str) -> None:
    status, success, detail, errors = solve(env, name, SOLUTIONS / f"{name}.jsonl")
    assert success is True, (status, detail, errors)
    assert errors == []  # every scripted step ran: none was denied or refused
    assert status in ("terminated", "answered")


@pytest.mark.desktop
@pytest.mark.slow
@needs_apps
@pytest.mark.parametrize(
    ("name", "script"),
    [
        ("calc-multiply", '{"type": "answer", "text": "7006653"}\n'),
        ("editor-write-unicode", '{"type": "type", "text": "Grusse"}\n'),
        ("files-delete", '{"type": "terminate", "status": "success"}\n'),
        ("editor-line-numbers", '{"type": "key", "keys": ["alt", "v"]}\n'),
    ],
)
def test_a_run_that_does_not_do_the_task_is_judged_a_failure(
    env: DesktopEnv, tmp_path: Path, name: str, script: str
) -> None:
    path = tmp_path / "script.jsonl"
    path.write_text(script, encoding="utf-8")
    status, success, detail, _ = solve(env, name, path)
    assert success is False, (status, detail)


@pytest.mark.desktop
@needs_apps
def test_each_task_starts_in_a_fresh_home_that_is_deleted_after(env: DesktopEnv) -> None:
    task, _ = resolve_task("desktop:files-delete")
    env.reset(task=task)
    home = env.episode.home
    assert home is not None and (home / "Documents/old-notes.txt").is_file()
    assert env.observe().app == "Documents (Pcmanfm)"
    env.reset(task=task)
    assert env.episode.home != home and not home.exists()
