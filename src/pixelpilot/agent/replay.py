"""Replay: run a recorded run's actions again on a fresh environment, step by step.

Before each recorded action runs, the current screen is compared with the screenshot that
action was decided on (`screen_difference`). When they differ by more than the threshold the
replay has diverged: it stops with status `diverged` (result.json says at which recorded step
and by how much), or, with a fallback policy, hands the rest of the task to that policy, which
sees the replayed steps as its history. The replay is an ordinary episode of `run_episode`
(recorded, approved and judged like any run); only its result.json gains a `replay` object.

The difference is perceptual, not exact: both screens are turned to grey, shrunk with a box
filter to at most COMPARE_WIDTH pixels wide (so anti-aliasing, a blinking caret or a one-pixel
shift hardly count), and the difference is the percentage of compared pixels whose grey level
differs by more than PIXEL_TOLERANCE (of 255), leaving out the ignored boxes (e.g. a clock).
Screens of different sizes differ by 100 %. The default threshold, DIFF_THRESHOLD = 1 % of the
screen, lets a caret or a spinner through and stops at a changed label, a moved button or
another page.

Recorded steps that executed nothing (parse errors, denials, refusals) are not replayed; a step
whose execution was cut off (a pending intent) ends the recording. Secrets were recorded as
placeholders (`<secret:NAME>`): the replay reads each one it needs again from the environment
variable NAME, bound to the origins and apps the recording's meta.json names, and types it
through `SecretsEnv` exactly as a run does (the new records hold placeholders only).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageChops

from pixelpilot.actions import Action, Answer, Box, Observation, Task, Terminate, Type
from pixelpilot.agent.loop import run_episode
from pixelpilot.agent.safety import ApproveHook, SafetySettings
from pixelpilot.agent.secrets import PLACEHOLDER, Secrets, SecretsEnv
from pixelpilot.agent.steps import Step, Trajectory
from pixelpilot.agent.trajectory import Recorder, RunRecord, load_run
from pixelpilot.env import Environment
from pixelpilot.errors import ConfigError, ParseError, PolicyError
from pixelpilot.model import History, Policy, PolicyBase, Prediction

DIFF_THRESHOLD = 1.0  # percent of the compared screen that may differ
PIXEL_TOLERANCE = 12  # grey levels (0-255) a shrunk pixel may change by and still count as equal
COMPARE_WIDTH = 640  # pixels: screens are shrunk to at most this width before comparing


def screen_difference(
    current: Image.Image, recorded: Image.Image, *, ignore: Sequence[Box] = ()
) -> float:
    """The perceptual difference of two screenshots, in percent (0 = alike, 100 = unrelated).

    Args:
        current, recorded: screenshots in the same pixel frame.
        ignore: boxes in screenshot pixels that are left out of the comparison.

    Returns:
        The percentage of compared pixels that differ (100.0 when the sizes differ or
        everything is ignored).
    """
    if current.size != recorded.size:
        return 100.0
    width, height = current.size
    factor = max(1.0, width / COMPARE_WIDTH)
    small = (max(1, round(width / factor)), max(1, round(height / factor)))
    a = current.convert("L").resize(small, Image.Resampling.BOX)
    b = recorded.convert("L").resize(small, Image.Resampling.BOX)
    changed = ImageChops.difference(a, b).point(lambda v: 255 if v > PIXEL_TOLERANCE else 0)
    mask = Image.new("L", small, 255)
    for box in ignore:
        mask.paste(
            0,
            (
                int(box.x1 / factor),
                int(box.y1 / factor),
                int(box.x2 / factor) + 1,
                int(box.y2 / factor) + 1,
            ),
        )
    counted = mask.histogram()[255]
    if counted == 0:
        return 100.0
    differing = ImageChops.multiply(changed, mask).histogram()[255]
    return round(100.0 * differing / counted, 3)


@dataclass(frozen=True)
class Recorded:
    """One recorded step to replay: its index in the recording, action and screenshot."""

    index: int
    action: Action
    screenshot: Path | None


def replayable(record: RunRecord) -> list[Recorded]:
    """The recorded steps whose action ran (or ended the run), in order."""
    from pixelpilot.actions import action_from_json

    out: list[Recorded] = []
    for step in record.steps:
        data = step.get("action")
        if data is None or step.get("error") or step.get("interrupted"):
            continue
        try:
            action = action_from_json(data)
        except ParseError as exc:
            raise ConfigError(f"{record.run_dir}: step {step['index']}: {exc}") from None
        shot = step.get("screenshot")
        out.append(Recorded(int(step["index"]), action, record.run_dir / shot if shot else None))
    return out


def needed_secrets(actions: Sequence[Action]) -> list[str]:
    """The secret names the actions' placeholders refer to, in order of first use."""
    names: list[str] = []
    for action in actions:
        if isinstance(action, Type):
            names += [n for n in PLACEHOLDER.findall(action.text) if n not in names]
    return names


def recorded_secrets(record: RunRecord, actions: Sequence[Action]) -> Secrets:
    """The secrets `actions` type, each read from the environment variable of its name and
    bound where the recording bound it (meta.json's `secrets`: name -> origins/apps).

    Raises:
        ConfigError: a variable is not set (or too short to be a secret); the message names it.
    """
    bindings = record.meta.get("secrets") or {}
    table = {
        name: {"env": name, "bound_to": list(bindings.get(name) or [])}
        for name in needed_secrets(actions)
    }
    return Secrets.from_config([], table)


class ReplayPolicy(PolicyBase):
    """Returns the recorded actions while the screen matches the recording; then stops, or
    asks `fallback` (with the episode so far as its history)."""

    def __init__(
        self,
        steps: list[Recorded],
        *,
        threshold: float = DIFF_THRESHOLD,
        ignore: Sequence[Box] = (),
        fallback: Policy | None = None,
    ) -> None:
        self.steps, self.threshold, self.ignore = list(steps), threshold, tuple(ignore)
        self.fallback = fallback
        self.position = 0
        self.diverged_at: int | None = None
        self.difference: float | None = None
        self.handed_over_at: int | None = None
        self.stop_reason: str | None = None
        self.spec = "replay"
        # the fallback's screenshot history, so the loop builds the history it expects
        self.image_history = int(getattr(fallback, "image_history", 0) or 0)

    def predict(self, observation: Observation, history: History) -> Prediction:
        if self.handed_over_at is None and self.position >= len(self.steps):
            if self.fallback is None:
                self.stop_reason = "the recording has no action to replay"
                raise PolicyError(self.stop_reason)
            self.handed_over_at = self.steps[-1].index + 1 if self.steps else 1
        if self.handed_over_at is not None and self.fallback is not None:
            return self.fallback.predict(observation, history)
        step = self.steps[self.position]
        difference = self._difference(observation, step)
        if difference > self.threshold:
            self.diverged_at, self.difference = step.index, difference
            message = (
                f"the screen differs from recorded step {step.index} by {difference:.2f}% "
                f"(threshold {self.threshold:g}%)"
            )
            if self.fallback is None:
                self.stop_reason = message
                raise PolicyError(f"replay stopped: {message}")
            self.handed_over_at = step.index
            return self.fallback.predict(observation, history)
        self.position += 1
        raw = f"replay of recorded step {step.index} (screen difference {difference:.2f}%)"
        return Prediction(action=step.action, raw_text=raw)

    def _difference(self, observation: Observation, step: Recorded) -> float:
        if step.screenshot is None or not step.screenshot.exists():
            return 0.0  # nothing to compare with: trust the recording
        with Image.open(step.screenshot) as recorded:
            return screen_difference(observation.screenshot, recorded, ignore=self.ignore)

    def stop_when(self) -> str | None:
        """run_episode's stop_when: the reason to end the episode now, else None."""
        if self.stop_reason is not None:
            return self.stop_reason
        if self.handed_over_at is None and self.position >= len(self.steps):
            if self.fallback is None:
                return f"replayed all {len(self.steps)} recorded actions"
            self.handed_over_at = self.steps[-1].index + 1 if self.steps else 1
        return None


@dataclass(frozen=True)
class ReplayResult:
    """What a replay did.

    Attributes:
        status: the episode's status, or "diverged" when the screen departed from the
            recording and no fallback policy was given.
        trajectory: the replay's episode.
        replayed: how many recorded actions ran again.
        diverged_at: the recorded step whose screen differed, or None.
        difference: that step's screen difference in percent, or None.
        handed_over_at: the recorded step from which the fallback policy decided, or None.
        run_dir: the new run directory.
    """

    status: str
    trajectory: Trajectory
    replayed: int
    diverged_at: int | None
    difference: float | None
    handed_over_at: int | None
    run_dir: Path


def recorded_task(record: RunRecord) -> Task:
    """The task of a recorded run: its named task again, else its goal (and start URL)."""
    from pixelpilot.env.tasks import resolve_task

    task = record.meta.get("task") or {}
    if not isinstance(task, dict) or not task.get("goal"):
        raise ConfigError(f"{record.run_dir}/meta.json records no task goal; pass a task")
    if task.get("name"):
        return resolve_task(str(task["name"]))[0]
    return Task(goal=str(task["goal"]), start_url=task.get("start_url"))


def replay_run(
    source: Path | str,
    env: Environment,
    *,
    out: Path | str,
    task: Task | None = None,
    threshold: float = DIFF_THRESHOLD,
    ignore: Sequence[Box] = (),
    fallback: Policy | None = None,
    max_steps: int = 30,
    max_seconds: float = 600.0,
    approve: ApproveHook | None = None,
    safety: SafetySettings | None = None,
    meta: dict[str, Any] | None = None,
    on_step: Callable[[Step], None] | None = None,
) -> ReplayResult:
    """Replay the run recorded in `source` on `env` and record the replay in `out`.

    Args:
        source: the recorded run directory.
        env: a fresh environment (reset here with the task; not closed).
        out: the new run directory.
        task: the task to start (default: the recorded one, see `recorded_task`).
        threshold: the largest screen difference, in percent, that still counts as the same
            screen (see `screen_difference`).
        ignore: boxes in screenshot pixels left out of every comparison.
        fallback: the policy that takes over when the screen diverges or the recording ends
            without a terminal action; None stops there.
        max_steps: the step budget for the fallback policy, on top of the replayed steps.
        max_seconds: the episode's wall-clock budget in seconds.
        approve, safety, on_step: as for `run_episode`: the replayed actions pass the same
            risk gate as a run's (an action a person allowed while recording is asked again).
        meta: extra meta.json entries for the new run (e.g. the environment's options).

    Raises:
        UserError: `source` is not a run directory, or `out` already holds a run.
        ConfigError: the recording has an unreadable action, no task, or needs a secret whose
            environment variable is not set.
    """
    record = load_run(source)
    steps = replayable(record)
    if threshold < 0:
        raise ConfigError(f"the replay threshold must be a percentage >= 0, got {threshold}")
    secrets = recorded_secrets(record, [s.action for s in steps])
    if secrets:
        env = SecretsEnv(env, secrets)  # type: ignore[assignment]
    task = task or recorded_task(record)
    policy = ReplayPolicy(steps, threshold=threshold, ignore=ignore, fallback=fallback)
    settings = {
        "source": str(Path(source).resolve()),
        "threshold_percent": threshold,
        "ignore": [list(b) for b in ignore],
        "fallback": fallback.describe() if fallback is not None else None,
    }
    run_meta = {**record.meta, **(meta or {}), "replay": settings}
    run_meta["task"] = {"goal": task.goal, "name": task.name, "start_url": task.start_url}
    recorder = Recorder(out, meta=run_meta, redact=secrets.redact_data)
    terminal = bool(steps) and isinstance(steps[-1].action, Answer | Terminate)
    budget = len(steps) + (max_steps if fallback is not None or not terminal else 0) + 1
    trajectory = run_episode(
        env,
        policy,
        task,
        max_steps=budget,
        max_seconds=max_seconds,
        approve=approve,
        safety=safety,
        recorder=recorder,
        on_step=on_step,
        stop_when=policy.stop_when,
    )
    status: str = trajectory.status
    result = trajectory.result()
    if policy.stop_reason is not None:
        status = "diverged" if policy.diverged_at is not None else "done"
        result.update(status=status, reason=policy.stop_reason, claim=None)
    result["replay"] = {
        **settings,
        "recorded_actions": len(steps),
        "replayed": policy.position,
        "diverged_at": policy.diverged_at,
        "difference_percent": policy.difference,
        "handed_over_at": policy.handed_over_at,
    }
    recorder.finish(result)  # replaces the result.json run_episode wrote
    return ReplayResult(
        status,
        trajectory,
        policy.position,
        policy.diverged_at,
        policy.difference,
        policy.handed_over_at,
        recorder.run_dir,
    )
