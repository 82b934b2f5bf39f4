"""The OCR baseline solves the web sandbox's click tasks end to end: real Chromium, real OCR,
`run_episode`, and the sandbox's own success check as the judge."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pixelpilot.agent import run_episode
from pixelpilot.env.browser.sandbox import get_task
from pixelpilot.model.ocr.policy import OCRPolicy
from tests.env.browser.support import open_env

pytestmark = pytest.mark.browser

# The sandbox tasks that a click (or clicks and scrolls) solves. The rest need typing several
# fields, a dropdown, a right-click menu, a drag or a keyboard shortcut.
CLICK_TASKS = ["close-modal", "find-contact", "accept-terms"]


@pytest.fixture(scope="module")
def policy() -> Iterator[OCRPolicy]:
    shared = OCRPolicy()
    yield shared
    shared.close()


@pytest.mark.slow
# OCR costs seconds a screen on 2 cores, and far more when the machine is busy.
@pytest.mark.timeout(900)
@pytest.mark.parametrize("name", CLICK_TASKS)
def test_ocr_policy_solves_sandbox_click_tasks(policy: OCRPolicy, name: str) -> None:
    with open_env() as env:
        trajectory = run_episode(env, policy, get_task(name), max_steps=20, max_seconds=800)
    trail = [(s.action, s.raw_text[:120]) for s in trajectory.steps]
    assert trajectory.outcome is not None and trajectory.outcome.success, (
        trajectory.status,
        trajectory.reason,
        trail,
    )
    assert (trajectory.status, trajectory.claim) == ("terminated", "success")
