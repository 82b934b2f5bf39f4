"""MiniWobEnv: a browser environment wrapper that runs MiniWoB++ episodes and judges them.

The episode protocol is the page's own JavaScript (`core.js`):

1. open the task page (a fresh browser context per episode: no state leaks between episodes);
2. `Math.seedrandom(SEED)`, `core.setDataMode(MODE)`, optionally `core.EPISODE_MAX_TIME = MS`;
3. `core.startEpisodeReal()`, then wait until `WOB_TASK_READY` is true;
4. the instruction is `core.getUtterance()`;
5. the policy acts on screenshots until the page sets `WOB_DONE_GLOBAL` (it calls
   `core.endEpisode`, also when `EPISODE_MAX_TIME` runs out) or the loop's budget ends;
6. `WOB_RAW_REWARD_GLOBAL` is the reward without the time penalty: success is raw reward > 0.

Because the instruction only exists once the page has generated the problem (step 3 depends on
the seed), an episode is prepared with `start(page, seed)` BEFORE `run_episode`, which then
calls `reset(task=...)` and gets the prepared episode's first observation. `done_reason` is the
`stop_when` check that ends the loop as soon as the page says the episode is over.

When an episode ends, `core.js` shows a "START" cover over the task whose click would start a
new episode and overwrite the reward. Its click handler is removed at start, and `execute`
refuses to act once the page is done, so the reward of the episode that ran is the one read.

Screenshots are cropped to the task area `#wrap` (160x210 CSS pixels; 375x667 for the flight
tasks), read from the page at each observation, and actions are moved back by the crop's offset.
The zoom is the browser's device scale factor: the page lays out exactly as at scale 1 (so the
tasks' own pixel logic is unchanged) and the screenshot gains `zoom` device pixels per CSS pixel.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import PurePosixPath
from typing import Any

from pixelpilot.actions import Action, Observation, Outcome, Task, map_points
from pixelpilot.env.base import EnvironmentBase, Execution
from pixelpilot.env.browser.config import local_folder_origin
from pixelpilot.env.browser.env import BrowserEnv
from pixelpilot.env.browser.launch import navigate, playwright_errors
from pixelpilot.env.browser.navigation import is_local, navigation_origin
from pixelpilot.errors import EnvError
from pixelpilot.evals.miniwob.pages import MiniWobPage

START_JS = """([seed, mode, limit]) => {
  Math.seedrandom(seed);
  core.setDataMode(mode);
  if (limit !== null) core.EPISODE_MAX_TIME = limit;
  core.startEpisodeReal();
  if (core.cover_div) core.cover_div.onclick = null;
  return core.EPISODE_MAX_TIME;
}"""
READY_JS = "() => WOB_TASK_READY === true"
UTTERANCE_JS = """() => {
  const u = core.getUtterance();
  return typeof u === 'string' ? u : u.utterance;
}"""
STATE_JS = """() => ({
  done: WOB_DONE_GLOBAL === true,
  raw: Number(WOB_RAW_REWARD_GLOBAL),
  reward: Number(WOB_REWARD_GLOBAL),
  reason: WOB_REWARD_REASON === null || WOB_REWARD_REASON === undefined
    ? null : String(WOB_REWARD_REASON),
})"""
AREA_JS = """() => {
  const r = document.getElementById('wrap').getBoundingClientRect();
  return [r.left, r.top, r.right, r.bottom];
}"""


# MiniWoB++ pages ask for made-up passwords, card numbers and codes: typing them there is the
# task, so the benchmark declares these allowances for its own pages (recorded in every run).
SAFETY = {
    "allow": [
        {
            "id": "miniwob-pages",
            "rules": ["password-*", "card-*", "token-like", "iban", "us-ssn"],
            "url": r"^(file://|http://127\.0\.0\.1:\d+/)",
            "reason": "MiniWoB++ task pages (local files), whose tasks ask for made-up values",
        }
    ]
}


@dataclass(frozen=True)
class EpisodeStart:
    """A prepared episode.

    Attributes:
        page: the task's page.
        seed: the value given to `Math.seedrandom`.
        url: the page's URL.
        instruction: `core.getUtterance()`.
        time_limit_ms: `core.EPISODE_MAX_TIME` as the page has it after the start (ms).
        seconds: how long opening and starting took.
    """

    page: MiniWobPage
    seed: int
    url: str
    instruction: str
    time_limit_ms: float
    seconds: float


@dataclass(frozen=True)
class PageState:
    """What the page says about the episode.

    Attributes:
        done: `WOB_DONE_GLOBAL`.
        raw_reward: `WOB_RAW_REWARD_GLOBAL` (1 success, -1 or 0 failure; partial in between).
        reward: `WOB_REWARD_GLOBAL`, the raw reward discounted by the time taken.
        reason: `WOB_REWARD_REASON` ("timed out" when `EPISODE_MAX_TIME` ran out), or None.
    """

    done: bool
    raw_reward: float
    reward: float
    reason: str | None

    @property
    def success(self) -> bool:
        return self.done and self.raw_reward > 0


class MiniWobEnv(EnvironmentBase):
    """Runs MiniWoB++ episodes in `browser`, which it owns from now on (closed by `close`).

    Args:
        browser: the browser environment (its device scale factor is the zoom).
        url_for: turns a page into the URL to open (file:// for the standard tasks; the
            flight tasks need an http origin).
        crop: crop observations to the task area `#wrap`.
        data_mode: the argument of `core.setDataMode` ("test", "train" or "default").
        time_limit_ms: `core.EPISODE_MAX_TIME` to set (ms); None keeps the page's own.
        ready_timeout: seconds to wait for `WOB_TASK_READY`.
    """

    name = "miniwob"

    def __init__(
        self,
        browser: BrowserEnv,
        *,
        url_for: Callable[[MiniWobPage], str],
        crop: bool = True,
        data_mode: str = "test",
        time_limit_ms: int | None = None,
        ready_timeout: float = 10.0,
    ) -> None:
        self.browser = browser
        self.supported_actions = browser.supported_actions - {"open_app"}
        self.url_for = url_for
        self.crop = crop
        self.data_mode = data_mode
        self.time_limit_ms = time_limit_ms
        self.ready_timeout = ready_timeout
        self.episode: EpisodeStart | None = None
        self.final: PageState | None = None
        self._origin: tuple[int, int] = (0, 0)
        self._fresh = False
        self._base_origins: list[str] | None = None  # the browser's own allowed_origins

    # -- episode ---------------------------------------------------------------------------

    def start(self, page: MiniWobPage, seed: int) -> EpisodeStart:
        """Open `page`, seed it and start an episode; returns its instruction.

        Raises:
            EnvError: the page could not be opened, or it did not get ready in time.
        """
        began = time.perf_counter()
        url = self.url_for(page)
        self.final = None
        self._open(page, url)
        limit = self._js(
            "start the MiniWoB++ episode", START_JS, [seed, self.data_mode, self.time_limit_ms]
        )
        self._wait_ready(page)
        instruction = self._js("read the instruction", UTTERANCE_JS)
        self.episode = EpisodeStart(
            page=page,
            seed=seed,
            url=url,
            instruction=" ".join(str(instruction).split()),
            time_limit_ms=float(limit),
            seconds=time.perf_counter() - began,
        )
        self._fresh = True
        return self.episode

    def task(self) -> Task:
        """The Task of the prepared episode, for `run_episode`."""
        episode = self._episode()
        return Task(
            goal=episode.instruction,
            name=f"miniwob:{episode.page.name}",
            start_url=episode.url,
            safety=SAFETY,
        )

    def reset(self, *, task: Task | None = None) -> Observation:
        """Observe the episode `start` prepared (started again with the same seed if it was
        already used, so a second reset replays the same problem).

        Raises:
            EnvError: no episode was started, or `task` names another task.
        """
        episode = self._episode()
        if task is not None and task.name not in (None, f"miniwob:{episode.page.name}"):
            raise EnvError(
                f"the prepared MiniWoB++ episode is {episode.page.name}, not {task.name}; "
                "call start() with the task's page first"
            )
        if not self._fresh:
            self.start(episode.page, episode.seed)
        self._fresh = False
        return self.observe()

    def observe(self) -> Observation:
        full = self.browser.observe()
        if not self.crop:
            self._origin = (0, 0)
            return self.remember(full)
        box = self._area(full)
        self._origin = box[:2]
        return self.remember(replace(full, screenshot=full.screenshot.crop(box)))

    def execute(self, action: Action) -> Execution:
        self.validate(action)
        state = self.state()
        if state.done:
            return Execution(detail=f"not executed: {self.done_reason()}")
        ox, oy = self._origin
        moved = map_points(action, lambda x, y: (x + ox, y + oy)) if (ox or oy) else action
        return self.browser.execute(moved)

    def state(self) -> PageState:
        """The page's episode state; once it is done, the first done state is kept.

        Raises:
            EnvError: the page could not be read (browser gone).
        """
        if self.final is not None:
            return self.final
        data = self._js("read the episode state", STATE_JS)
        state = PageState(
            done=bool(data["done"]),
            raw_reward=float(data["raw"]),
            reward=float(data["reward"]),
            reason=data["reason"],
        )
        if state.done:
            self.final = state
        return state

    def done_reason(self) -> str | None:
        """For `run_episode(stop_when=...)`: why the episode is over, or None while it runs."""
        state = self.state()
        if not state.done:
            return None
        why = f" ({state.reason})" if state.reason else ""
        return f"the page ended the episode with raw reward {state.raw_reward:g}{why}"

    def evaluate(self, *, answer: str | None = None) -> Outcome | None:
        """Success when the page ended the episode with raw reward > 0. An episode the page
        has not ended (the step budget ran out first) is a failure with no reward."""
        if self.episode is None:
            return None
        state = self.state()
        if not state.done:
            return Outcome(success=False, reward=None, detail="the page did not end the episode")
        detail = f"raw reward {state.raw_reward:g}, time-discounted {state.reward:g}"
        if state.reason:
            detail += f"; {state.reason}"
        return Outcome(success=state.success, reward=state.raw_reward, detail=detail)

    def close(self) -> None:
        self.browser.close()

    # -- internals -------------------------------------------------------------------------

    def _episode(self) -> EpisodeStart:
        if self.episode is None:
            raise EnvError("no MiniWoB++ episode was started; call start(page, seed) first")
        return self.episode

    def _open(self, page: MiniWobPage, url: str) -> None:
        # The standard pages keep no state outside their own JavaScript (no cookies, no
        # storage), so reloading one in the same page is as fresh as a new browser context
        # and saves the ~0.4 s a context costs. The flight pages use cookies and
        # localStorage: they always get a fresh context.
        session = self.browser.session
        if self._base_origins is None:
            self._base_origins = list(self.browser.config.allowed_origins)
        allowed = list(self._base_origins)
        if is_local(url):  # the page loads ../core/core.js: its html folder is allowed
            root = page.path.parents[len(PurePosixPath(page.relative).parts) - 1]
            allowed.append(local_folder_origin("", f"{root}/"))
        self.browser.config = self.browser.config.model_copy(update={"allowed_origins": allowed})
        if page.flight or session is None or not session.alive:
            self.browser.reset(task=Task(goal=f"MiniWoB++ {page.name}", start_url=url))
            return
        handle = session.page
        timeout = self.browser.config.call_timeout
        # The new page is the episode's start: the guard allows its folder (a local page's
        # origin) and the configured origins, not the previous page's.
        guard, origin = self.browser.guard, navigation_origin(url)
        guard.allowed = {*self.browser.config.allowed_origins, *([origin] if origin else [])}
        self.browser.start_url = url
        with guard.opening(url):
            error = session.call(f"open {url}", lambda: navigate(handle, url, timeout=timeout))
        if error is not None:
            raise EnvError(f"cannot open the MiniWoB++ page {url}: {error}")
        guard.landed(handle.url)

    def _js(self, label: str, script: str, arg: Any = None) -> Any:
        session = self.browser.session
        if session is None:
            raise EnvError("the browser is not running")
        page = session.page
        return session.call(label, lambda: page.evaluate(script, arg))

    def _wait_ready(self, page: MiniWobPage) -> None:
        session = self.browser.session
        if session is None:
            raise EnvError("the browser is not running")
        handle = session.page
        timeout = self.ready_timeout
        _, timeout_error = playwright_errors()
        try:
            session.call(
                "wait for WOB_TASK_READY",
                lambda: handle.wait_for_function(READY_JS, timeout=timeout * 1000, polling=20),
                timeout=timeout + 1,
            )
        except EnvError as exc:
            if isinstance(exc.__cause__, timeout_error):
                raise EnvError(
                    f"MiniWoB++ task {page.name} was not ready {timeout:g} s after the start "
                    "(WOB_TASK_READY stayed false)"
                ) from exc
            raise

    def _area(self, full: Observation) -> tuple[int, int, int, int]:
        """The task area in screenshot pixels: (left, top, right, bottom), right/bottom
        exclusive, clipped to the screenshot."""
        left, top, right, bottom = self._js("locate the task area", AREA_JS)
        scale = full.scale
        width, height = full.size
        x1, y1 = max(0, round(left * scale)), max(0, round(top * scale))
        x2, y2 = min(width, round(right * scale)), min(height, round(bottom * scale))
        if x2 <= x1 or y2 <= y1:
            raise EnvError(
                f"the task area #wrap {json.dumps([left, top, right, bottom])} (CSS px) lies "
                "outside the viewport; use a larger viewport or crop=False"
            )
        return x1, y1, x2, y2
