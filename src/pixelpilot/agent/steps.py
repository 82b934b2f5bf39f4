"""The in-memory records of an episode: Step and Trajectory, and the final statuses."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pixelpilot.actions import Action, Observation, Outcome, Task

Status = Literal[
    "success",  # the policy terminated with status success
    "failure",  # the policy terminated with status failure
    "answered",  # the policy gave an answer to a question task
    "max_steps",  # the step budget ran out
    "timeout",  # the wall-clock budget ran out
    "loop",  # the same action was chosen on an unchanged screen 3 times in a row
    "policy_errors",  # 3 consecutive steps produced no usable action
    "denied",  # the approval hook stopped the run
    "env_error",  # the environment failed (device gone, browser crashed)
    "interrupted",  # Ctrl-C or the fail-safe corner
    "done",  # the environment ended the episode (run_episode's stop_when gave a reason)
]

STATUSES: tuple[str, ...] = Status.__args__  # type: ignore[attr-defined]

ErrorKind = Literal["parse", "bounds", "unsupported", "action", "policy", "denied"]


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
            (the backend failed), denied.
        approval: "allow", "deny", "stop", or None when nothing needed approval.
        executed: the adapter's description of what it did (None when nothing ran).
        timings: seconds per phase: capture, predict (+ the policy's own), execute, settle.
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
    started_at: float = 0.0
    ended_at: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class Trajectory:
    """The result of `run_episode`.

    Attributes:
        status: why the episode ended (one of STATUSES).
        reason: a human-readable detail for the status.
        answer: the policy's answer for question tasks.
        outcome: the environment's own verdict on the task, when it can judge it.
        run_dir: where the recorder wrote the run (None without a recorder).
    """

    task: Task
    status: Status
    steps: list[Step]
    reason: str = ""
    answer: str | None = None
    outcome: Outcome | None = None
    run_dir: Path | None = None
    started_at: float = 0.0
    ended_at: float = 0.0

    def result(self) -> dict[str, Any]:
        """The content of result.json."""
        return {
            "status": self.status,
            "reason": self.reason,
            "steps": len(self.steps),
            "success": None if self.outcome is None else self.outcome.success,
            "reward": None if self.outcome is None else self.outcome.reward,
            "outcome_detail": None if self.outcome is None else self.outcome.detail,
            "answer": self.answer,
            "task": self.task.name or self.task.goal,
            "seconds": round(self.ended_at - self.started_at, 3),
        }
