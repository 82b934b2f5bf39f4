"""The in-memory records of an episode: Step and Trajectory, and the final statuses."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from PIL import Image

from pixelpilot.actions import Action, Observation, Outcome, Task

Status = Literal[
    "terminated",  # the policy ended the episode (its claim, success or failure, is `claim`)
    "answered",  # the policy gave an answer to a question task
    "max_steps",  # the step budget ran out
    "timeout",  # the wall-clock budget ran out
    "loop",  # the same action was chosen on an unchanged screen 3 times in a row
    "policy_errors",  # 3 consecutive steps produced no usable action
    "denied",  # the approval hook stopped the run
    "env_error",  # the environment failed (device gone, browser crashed)
    "interrupted",  # Ctrl-C or the fail-safe corner
    "done",  # the environment ended the episode (run_episode's stop_when gave a reason)
    "error",  # an unexpected exception (a bug in a policy or adapter); the record says which
    "diverged",  # replay only: the screen no longer matched the recording
]

Claim = Literal["success", "failure"]
"""What the policy said when it terminated: its claim, never a verdict."""

Judged = Literal["solved", "not solved", "not judged"]
"""The environment's verdict on the task; "not judged" when it cannot check the task."""

STATUSES: tuple[str, ...] = Status.__args__  # type: ignore[attr-defined]

ErrorKind = Literal[
    "parse",
    "bounds",
    "unsupported",
    "action",
    "policy",
    "denied",
    "blocked",
    "env",
    "timeout",
    "crash",
]


@dataclass
class Step:
    """One turn of the loop.

    Attributes:
        index: 1-based step number.
        observation: what the policy saw.
        action: the action chosen (None when the policy's output was unusable).
        raw_text: the policy's raw output.
        error: why the action was not executed or failed (fed back to the policy).
        error_kind: parse, bounds, unsupported, action (refused while executing), policy
            (the backend failed), denied, env (the environment failed during the step), timeout
            (the budget ran out during the step), crash (an unexpected exception).
        interrupted: the action's execution was cut off (env failure, budget, crash): it may
            or may not have run.
        risk: the action's rating before it ran ({"level", "reason", "rule"}), when rated.
        blocked: what the environment refused while executing the action (navigations to an
            origin outside the allowed set), one line each.
        approval: "allow", "deny", "stop", or None when nothing needed approval.
        executed: the adapter's description of what it did (None when nothing ran).
        timings: seconds per phase: capture, predict (+ the policy's own), execute, settle.
        screen: (width, height) of the observation's screenshot in pixels, kept when the
            screenshot's pixels are released (see `release_screenshot`).
        screenshot_released: the observation's pixels were dropped: the step's screenshot is
            the PNG in the run directory.
    """

    index: int
    observation: Observation
    action: Action | None = None
    raw_text: str = ""
    error: str | None = None
    error_kind: ErrorKind | None = None
    extra_actions: tuple[Action, ...] = ()
    approval: str | None = None
    approval_reason: str = ""
    executed: str | None = None
    interrupted: bool = False
    risk: dict[str, str] | None = None
    blocked: tuple[str, ...] = ()
    started_at: float = 0.0
    ended_at: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    screen: tuple[int, int] = (0, 0)
    screenshot_released: bool = False

    def __post_init__(self) -> None:
        if self.screen == (0, 0):
            self.screen = (self.observation.size.width, self.observation.size.height)

    def release_screenshot(self) -> None:
        """Drop the screenshot's pixels (the observation keeps every other field; its
        screenshot becomes a 0x0 image). The loop calls this once a recorded step is on disk
        and out of the policy's image window, so an episode's memory does not grow by a full
        screen per step (8 MB at 1920x1080)."""
        if not self.screenshot_released:
            self.observation = replace(self.observation, screenshot=Image.new("RGB", (0, 0)))
            self.screenshot_released = True


@dataclass
class Trajectory:
    """The result of `run_episode`.

    Attributes:
        status: why the episode ended (one of STATUSES).
        steps: the steps in order. With a recorder, a step's screenshot pixels are released
            once it is on disk and outside the policy's image window (`screenshot_released`;
            the run directory's `step_NNNN.png` is the screenshot); without one, all are kept.
        reason: a human-readable detail for the status.
        claim: the policy's own claim when it terminated ("success" or "failure"), else None.
        answer: the policy's answer for question tasks.
        outcome: the environment's own verdict on the task, when it can judge it.
        run_dir: where the recorder wrote the run (None without a recorder).
        error_type: the exception's type name when status is "error" or "env_error".
        unjudged: why a task was not judged although it might have been (the run ended early,
            or the judge failed or ran out of time); None when judged, or when the environment
            cannot judge this task at all.
        user_mistake: the error was a UserError (a task the environment cannot set up, a bad
            option found late): the command exits 2 as for any user mistake.
    """

    task: Task
    status: Status
    steps: list[Step]
    reason: str = ""
    claim: Claim | None = None
    answer: str | None = None
    outcome: Outcome | None = None
    run_dir: Path | None = None
    started_at: float = 0.0
    ended_at: float = 0.0
    error_type: str | None = None
    user_mistake: bool = False
    unjudged: str | None = None
    safety: dict[str, Any] = field(default_factory=dict)

    def safety_events(self) -> dict[str, list[int]]:
        """Steps whose action was denied, blocked by a rule, or that had a navigation blocked."""
        return {
            "denied": [s.index for s in self.steps if s.error_kind == "denied"],
            "blocked": [s.index for s in self.steps if s.error_kind == "blocked"],
            "navigation_blocked": [s.index for s in self.steps if s.blocked],
        }

    @property
    def judged(self) -> Judged:
        if self.outcome is None:
            return "not judged"
        return "solved" if self.outcome.success else "not solved"

    @property
    def ok(self) -> bool:
        """Whether the run counts as done: judged solved, or (when nothing can judge the task)
        ended by the policy with a success claim or an answer. Never True when judged not
        solved, whatever the policy claimed."""
        if self.outcome is not None:
            return self.outcome.success
        if self.unjudged is not None:  # a judge that failed or never ran is no verdict
            return False
        return (self.status, self.claim) == ("terminated", "success") or self.status == "answered"

    def result(self) -> dict[str, Any]:
        """The content of result.json.

        `judged` (solved / not solved / not judged) is the environment's verdict and `success`
        its boolean (null when not judged); `claim` is only what the policy said.
        """
        return {
            "status": self.status,
            "reason": self.reason,
            "judged": self.judged,
            "unjudged_reason": self.unjudged,
            "success": None if self.outcome is None else self.outcome.success,
            "claim": self.claim,
            "answer": self.answer,
            "steps": len(self.steps),
            "reward": None if self.outcome is None else self.outcome.reward,
            "outcome_detail": None if self.outcome is None else self.outcome.detail,
            "error_type": self.error_type,
            "safety": {**self.safety, "events": self.safety_events()},
            "task": self.task.name or self.task.goal,
            "seconds": round(self.ended_at - self.started_at, 3),
        }


def a11y_name(index: int) -> str:
    """The file of step `index`'s accessibility tree in the run directory."""
    return f"step_{index:04d}.xml"


def step_record(step: Step, screenshot: str | None, sha256: str | None) -> dict[str, Any]:
    """The trajectory.jsonl record of a finished step."""
    from pixelpilot.actions import action_to_dict

    obs = step.observation
    return {
        "index": step.index,
        "started_at": step.started_at,
        "ended_at": step.ended_at,
        "screenshot": screenshot,
        "screenshot_sha256": sha256,
        "screen": list(step.screen),
        "scale": obs.scale,
        "platform": obs.platform,
        "url": obs.url,
        "app": obs.app,
        "a11y": a11y_name(step.index) if obs.a11y is not None else None,
        "raw_output": step.raw_text,
        "action": action_to_dict(step.action) if step.action is not None else None,
        "extra_actions": [action_to_dict(a) for a in step.extra_actions],
        "error": step.error,
        "error_kind": step.error_kind,
        "approval": step.approval,
        "approval_reason": step.approval_reason,
        "executed": step.executed,
        "interrupted": step.interrupted,
        "risk": step.risk,
        "blocked": list(step.blocked),
        "timings": {k: round(v, 6) for k, v in step.timings.items()},
    }
