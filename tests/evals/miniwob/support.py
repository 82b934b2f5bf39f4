"""Test-only help for MiniWoB++: per-task solvers that read element positions from the live page,
and a policy that clicks them.

Each solver is JavaScript evaluated in the task page once the episode has started. It returns
{"good": [[x, y], ...], "bad": [[x, y], ...] | null} in CSS pixels: the click sequence that
solves the problem, and one that fails it (null when this problem has no wrong element).
Only tests read the page like this; the policies under evaluation see screenshots.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pixelpilot.actions import Click, Observation, Terminate, Wait
from pixelpilot.evals.miniwob.env import MiniWobEnv
from pixelpilot.model import History, PolicyBase, Prediction

CENTRE = """const c = (el) => { const r = el.getBoundingClientRect();
  return [r.left + r.width / 2, r.top + r.height / 2]; };
const utter = core.getUtterance();
const quoted = (utter.match(/"(.*)"/) || [null, null])[1];
"""

SOLVERS: dict[str, str] = {
    "click-button": """
const all = [...document.querySelectorAll('#area button')];
const good = all.find((b) => b.textContent === quoted);
const bad = all.find((b) => b.textContent !== quoted);
return {good: [c(good)], bad: bad ? [c(bad)] : null};
""",
    "click-link": """
const all = [...document.querySelectorAll('#area .alink')];
const good = all.find((a) => a.innerHTML === quoted);
const bad = all.find((a) => a.innerHTML !== quoted);
return {good: [c(good)], bad: bad ? [c(bad)] : null};
""",
    "click-dialog": """
// The only wrong move is a click elsewhere: the dialog's text (the page then times out).
return {good: [c(document.querySelector('button.ui-button'))],
        bad: [c(document.querySelector('#dialog p'))]};
""",
    "click-tab": """
const want = 'Tab #' + utter.match(/#(\\d)/)[1];
const all = [...document.querySelectorAll('#area ul a')];
return {good: [c(all.find((a) => a.textContent === want))],
        bad: [c(all.find((a) => a.textContent !== want))]};
""",
    "click-option": """
const want = utter.match(/^Select (.*) and click Submit\\.$/)[1];
const labels = [...document.querySelectorAll('#boxes label')];
const good = labels.find((l) => l.textContent === want);
const bad = labels.find((l) => l.textContent !== want);
const submit = c(document.getElementById('subbtn'));
return {good: [c(good.querySelector('input')), submit],
        bad: bad ? [c(bad.querySelector('input')), submit] : null};
""",
    "click-checkboxes": """
const list = utter.match(/^Select (.*) and click Submit\\.$/)[1];
const want = list === 'nothing' ? [] : list.split(', ');
const labels = [...document.querySelectorAll('#boxes label')];
const submit = c(document.getElementById('subbtn'));
// Wrong: tick exactly the boxes not asked for, so every box is wrong (reward -1).
const pick = (inside) => labels.filter((l) => want.includes(l.textContent) === inside)
  .map((l) => c(l.querySelector('input')));
return {good: [...pick(true), submit], bad: [...pick(false), submit]};
""",
}


def solve(page: Any, task: str) -> dict[str, list[list[float]] | None]:
    """Run `task`'s solver in the Playwright `page`."""
    result: dict[str, list[list[float]] | None] = page.evaluate(
        "() => {" + CENTRE + SOLVERS[task] + "}"
    )
    return result


class PageOraclePolicy(PolicyBase):
    """Clicks the solver's good (or bad) sequence, read from the live page at each episode's
    first step; then waits `wait_after` seconds per step (so a page time limit can run out),
    or terminates when `wait_after` is 0.

    Args:
        env_of: returns the MiniWobEnv running the episode.
        zoom: screenshot pixels per CSS pixel (the crop starts at the page's top left).
        mode: "good" or "bad".
    """

    def __init__(
        self,
        env_of: Callable[[], MiniWobEnv | None],
        *,
        zoom: float,
        mode: Literal["good", "bad"] = "good",
        wait_after: float = 0.0,
    ) -> None:
        self.env_of = env_of
        self.zoom, self.mode, self.wait_after = zoom, mode, wait_after
        self.spec = f"oracle:{mode}"
        self.plan: list[Click] = []
        self.episodes: list[str] = []

    def predict(self, observation: Observation, history: History) -> Prediction:
        if not history.steps:
            env = self.env_of()
            assert env is not None and env.episode is not None
            assert env.browser.session is not None
            task = env.episode.page.name
            self.episodes.append(f"{task}/{env.episode.seed}")
            points = solve(env.browser.session.page, task)[self.mode]
            assert points is not None, f"this problem has no {self.mode} sequence"
            self.plan = [Click(x=int(x * self.zoom), y=int(y * self.zoom)) for x, y in points]
        index = len(history.steps)
        if index < len(self.plan):
            return Prediction(action=self.plan[index], raw_text="oracle click")
        if self.wait_after > 0:
            return Prediction(action=Wait(seconds=self.wait_after), raw_text="oracle wait")
        return Prediction(action=Terminate(status="failure"), raw_text="oracle done")
