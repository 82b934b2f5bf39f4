"""run_episode: the perception-plan-act loop.

Each step: observe -> predict -> check -> approve -> record the intent -> execute -> record the
step. Model mistakes (unparseable output, out-of-bounds or unsupported actions, actions the
environment refuses) are recorded on the step and shown to the policy in its history; only
3 in a row end the run. Infrastructure failures of the environment end it with `env_error`;
any other exception (a bug in a policy or an adapter) ends it with `error`, after the step it
happened in is recorded with the exception on it. The wall-clock budget is a hard limit on every
blocking call (see `pixelpilot.agent.budget`). Whatever ends the episode, the record is closed
and result.json written.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future

from pixelpilot.actions import (
    Action,
    Answer,
    Observation,
    Outcome,
    Task,
    Terminate,
    action_to_dict,
    check_bounds,
)
from pixelpilot.agent.budget import BudgetExceeded, Deadline
from pixelpilot.agent.history import build_history
from pixelpilot.agent.repeats import LOOP_REPEATS, RepeatDetector
from pixelpilot.agent.safety import Approval, ApproveHook, SafetySettings
from pixelpilot.agent.steps import (
    Claim,
    ErrorKind,
    Status,
    Step,
    Trajectory,
    a11y_name,
    step_record,
)
from pixelpilot.agent.trajectory import Recorder, SavedScreenshot
from pixelpilot.env import Environment
from pixelpilot.errors import (
    ActionError,
    EnvError,
    Interrupted,
    OutOfBoundsError,
    PolicyError,
    UnsupportedActionError,
    UserError,
)
from pixelpilot.model import Policy, Prediction

MAX_CONSECUTIVE_ERRORS = 3
EVALUATE_GRACE = 2.0  # seconds the judge may take after the budget ran out

StepCallback = Callable[[Step], None]


class _Stop(Exception):
    def __init__(self, status: Status, reason: str, claim: Claim | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.claim = claim


def _check(action: Action, env: Environment, obs: Observation) -> tuple[ErrorKind, str] | None:
    if isinstance(action, Answer | Terminate):
        return None
    if action.type not in env.supported_actions:
        return "unsupported", (
            f"'{action.type}' is not supported by the {env.name} environment; use one of: "
            + ", ".join(sorted(env.supported_actions))
        )
    try:
        check_bounds(action, obs.size)
    except OutOfBoundsError as exc:
        return "bounds", str(exc)
    return None


class _Episode:
    """The state of one running episode (kept out of run_episode to keep each part short)."""

    def __init__(
        self,
        env: Environment,
        policy: Policy,
        task: Task,
        approve: ApproveHook | None,
        recorder: Recorder | None,
        on_step: StepCallback | None,
        deadline: Deadline,
    ) -> None:
        self.env, self.policy, self.task = env, policy, task
        self.approve, self.recorder, self.on_step = approve, recorder, on_step
        self.deadline = deadline
        self.steps: list[Step] = []
        self.consecutive_errors = 0
        self.repeats = RepeatDetector()
        self.released = 0  # steps before this one have had their screenshot pixels dropped
        self.answer: str | None = None
        self.blocked_seen = 0  # how many of the environment's blocked navigations were recorded

    def run_step(self, index: int, obs: Observation, capture_s: float) -> None:
        step = Step(index=index, observation=obs, started_at=time.time())
        step.timings["capture"] = capture_s
        shot = self.recorder.save_screenshot(index, obs.screenshot) if self.recorder else None
        if self.recorder is not None and obs.a11y is not None:
            self.recorder.save_text(a11y_name(index), obs.a11y)
        try:
            self._decide_and_act(step, shot)
        except _Stop:
            raise
        except BudgetExceeded as exc:
            step.error_kind, step.error = "timeout", f"the time budget ran out while {exc.what}"
            raise
        except EnvError as exc:
            step.error_kind, step.error = "env", f"{type(exc).__name__}: {exc}"
            raise
        except (KeyboardInterrupt, Interrupted):
            raise
        except Exception as exc:  # a bug in a policy or adapter: recorded on the step, then ends
            step.error_kind, step.error = "crash", f"{type(exc).__name__}: {exc}"
            raise
        finally:
            step.ended_at = time.time()
            self.steps.append(step)
            self._write_step(step, shot)
            if self.on_step is not None:
                self.on_step(step)
            self._release_screenshots()

    def _release_screenshots(self) -> None:
        """With a recorder (the PNGs are the record), drop the pixels of the steps the policy
        will not see again: all but the last `image_history`."""
        if self.recorder is None:
            return
        window = max(0, getattr(self.policy, "image_history", 0))
        for step in self.steps[self.released : len(self.steps) - window]:
            step.release_screenshot()
        self.released = max(self.released, len(self.steps) - window)

    def _decide_and_act(self, step: Step, shot: Future[SavedScreenshot] | None) -> None:
        history = build_history(
            self.task.goal, self.steps, image_history=getattr(self.policy, "image_history", 0)
        )
        start = time.perf_counter()
        try:
            with self.deadline.guard("the policy was predicting"):
                prediction = self.policy.predict(step.observation, history)
        except PolicyError as exc:
            prediction = Prediction(action=None, error=f"policy failed: {exc}")
            step.error_kind = "policy"
        step.timings["predict"] = time.perf_counter() - start
        step.timings.update({f"model_{k}": v for k, v in prediction.timings.items()})
        step.raw_text, step.action = prediction.raw_text, prediction.action
        step.extra_actions = prediction.extra_actions
        if prediction.action is None:
            step.error = prediction.error or "the policy returned no action"
            step.error_kind = step.error_kind or "parse"
            return self._count_error()
        action = prediction.action
        problem = _check(action, self.env, step.observation)
        if problem is not None:
            step.error_kind, step.error = problem
            return self._count_error()
        if isinstance(action, Terminate):
            claim: Claim = action.status
            raise _Stop("terminated", "the policy ended the episode", claim)
        if isinstance(action, Answer):
            self.answer = action.text
            raise _Stop("answered", "the policy answered")
        self._detect_loop(action, step.observation)
        approval = self._approve(action, step)
        if approval.decision == "deny":
            step.error = approval.reason or "the approval hook denied this action"
            blocked = approval.risk is not None and approval.risk.level == "blocked"
            step.error_kind = "blocked" if blocked else "denied"
            self.consecutive_errors = 0
            return None
        if approval.decision == "stop":
            raise _Stop("denied", approval.reason or "the approval hook stopped the run")
        self._execute(action, step, shot)
        return None

    def _count_error(self) -> None:
        self.consecutive_errors += 1
        if self.consecutive_errors >= MAX_CONSECUTIVE_ERRORS:
            raise _Stop("policy_errors", f"{self.consecutive_errors} policy errors in a row")

    def _detect_loop(self, action: Action, obs: Observation) -> None:
        repeats = self.repeats.see(action, obs)
        if repeats >= LOOP_REPEATS:
            raise _Stop("loop", f"the same action on an unchanged screen {repeats} times")

    def _approve(self, action: Action, step: Step) -> Approval:
        if self.approve is None:
            return Approval("allow")
        decision = self.approve(action, step.observation, step.index)
        step.approval, step.approval_reason = decision.decision, decision.reason
        if decision.risk is not None:
            risk = decision.risk
            step.risk = {"level": risk.level, "reason": risk.reason, "rule": risk.rule}
        return decision

    def _execute(self, action: Action, step: Step, shot: Future[SavedScreenshot] | None) -> None:
        if self.recorder is not None:
            saved = shot.result() if shot is not None else None
            self.recorder.write_intent(
                {
                    "index": step.index,
                    "time": time.time(),
                    "action": action_to_dict(action),
                    "screenshot": saved.path.name if saved else None,
                    "screenshot_sha256": saved.sha256 if saved else None,
                }
            )
        start = time.perf_counter()
        try:
            with self.deadline.guard(f"executing {action.type}"):
                execution = self.env.execute(action)
        except (UnsupportedActionError, OutOfBoundsError, ActionError) as exc:
            step.timings["execute"] = time.perf_counter() - start
            step.error, step.error_kind = str(exc), "action"
            self._note_blocked(step)  # a refused open_app is also a blocked navigation
            return self._count_error()
        except BaseException:
            step.timings["execute"] = time.perf_counter() - start
            step.interrupted = True  # cut off mid-way: the action may or may not have run
            raise
        step.timings["execute"] = time.perf_counter() - start
        step.timings["settle"] = execution.settle_seconds
        step.executed = execution.detail
        self.consecutive_errors = 0
        # What the environment refused on its own (a navigation to another origin) is shown to
        # the policy as feedback, like a denial.
        self._note_blocked(step)
        if step.blocked:
            step.error, step.error_kind = "; ".join(step.blocked), "blocked"
        return None

    def _note_blocked(self, step: Step) -> None:
        """Record on `step` what the environment refused since the last step, also during
        reset or capture (a redirect on load, a meta refresh)."""
        refused = getattr(self.env, "blocked_navigations", ())
        step.blocked = tuple(str(b) for b in refused[self.blocked_seen :])
        self.blocked_seen = len(refused)

    def _write_step(self, step: Step, shot: Future[SavedScreenshot] | None) -> None:
        if self.recorder is None:
            return
        saved = None
        if shot is not None:
            saved = shot.result()
            step.timings["encode"] = saved.encode_seconds
        name = saved.path.name if saved else None
        self.recorder.write_step(step_record(step, name, saved.sha256 if saved else None))


def run_episode(
    env: Environment,
    policy: Policy,
    task: Task | str,
    *,
    max_steps: int = 30,
    max_seconds: float = 600.0,
    approve: ApproveHook | None = None,
    recorder: Recorder | None = None,
    on_step: StepCallback | None = None,
    stop_when: Callable[[], str | None] | None = None,
    safety: SafetySettings | None = None,
) -> Trajectory:
    """Run one episode of `policy` on `env` until it ends, and return its Trajectory.

    Args:
        env: the environment; reset with the task first. Not closed here.
        policy: decides each action; its `start_episode()`, when it has one, is called first.
        task: the Task, or a free-text goal.
        max_steps: the most policy decisions (steps) to make.
        max_seconds: the wall-clock budget in seconds: a hard limit on every blocking call
            (see `pixelpilot.agent.budget`); the run ends with status `timeout`.
        approve: a user's own hook; it sees each non-terminal action the risk gate lets
            through (allow / deny / stop).
        safety: the risk gate's settings (rules, a person to ask, --allow-risk); default:
            the default rules plus the task's own allowances, headless (high risk is denied).
            `SafetySettings(enabled=False)` leaves only `approve`.
        recorder: writes the crash-safe run directory; closed and finished here.
        on_step: called with each finished step (e.g. to print a console line).
        stop_when: asked after each step whether the environment has ended the episode
            (e.g. a MiniWoB++ page reported done); a returned reason ends it with status
            `done`, None lets it go on.

    Returns:
        The trajectory; its `status` says why the episode ended. Ctrl-C (KeyboardInterrupt)
        and `Interrupted` end it with status `interrupted` after the current record is written.
    """
    if isinstance(task, str):
        task = Task(goal=task)
    deadline = Deadline(max_seconds)
    settings = safety if safety is not None else SafetySettings()
    gate = settings.gate(task, then=approve)
    episode = _Episode(env, policy, task, gate, recorder, on_step, deadline)
    started = time.time()
    status: Status = "max_steps"
    reason = f"reached the {max_steps}-step budget"
    claim: Claim | None = None
    error_type: str | None = None
    user_mistake = False
    try:
        if (start_episode := getattr(policy, "start_episode", None)) is not None:
            start_episode()  # the optional Policy hook: a new episode (see PolicyBase)
        start = time.perf_counter()
        with deadline.guard("the environment was resetting"):
            obs = env.reset(task=task)
        capture_s = time.perf_counter() - start
        for index in range(1, max_steps + 1):
            if deadline.expired():
                status, reason = "timeout", f"reached the {max_seconds:g} s budget"
                break
            if index > 1:
                start = time.perf_counter()
                with deadline.guard("the screen was being captured"):
                    obs = env.observe()
                capture_s = time.perf_counter() - start
            episode.run_step(index, obs, capture_s)
            if stop_when is not None and (why := stop_when()) is not None:
                status, reason = "done", why
                break
        else:
            if deadline.expired():
                status, reason = "timeout", f"reached the {max_seconds:g} s budget"
    except _Stop as stop:
        status, reason, claim = stop.status, stop.reason, stop.claim
    except BudgetExceeded as exc:
        status, reason = "timeout", f"reached the {max_seconds:g} s budget while {exc.what}"
    except EnvError as exc:
        status, reason = "env_error", f"{type(exc).__name__}: {exc}"
        error_type = type(exc).__name__
    except (KeyboardInterrupt, Interrupted) as exc:
        status, reason = "interrupted", str(exc) or "interrupted by the user (Ctrl-C)"
    except Exception as exc:  # a bug in a policy or adapter: the run still ends with a record
        status, reason = "error", f"{type(exc).__name__}: {exc}"
        error_type = type(exc).__name__
        user_mistake = isinstance(exc, UserError)  # e.g. a task the environment cannot set up
    outcome = None
    unjudged: str | None = f"the run ended as {status} before the task could be judged"
    if status not in ("env_error", "interrupted", "error"):
        outcome, note = _evaluate(env, episode.answer, deadline)
        reason += note
        unjudged = note.removeprefix("; ") or None
    trajectory = Trajectory(
        task=task,
        status=status,
        steps=episode.steps,
        reason=reason,
        claim=claim,
        answer=episode.answer,
        outcome=outcome,
        run_dir=recorder.run_dir if recorder else None,
        started_at=started,
        ended_at=time.time(),
        error_type=error_type,
        user_mistake=user_mistake,
        unjudged=unjudged if outcome is None else None,
        safety={**settings.describe(task), **_env_origins(env)},
    )
    if recorder is not None:
        recorder.close()
        recorder.finish(trajectory.result())
    return trajectory


def _env_origins(env: Environment) -> dict[str, list[str]]:
    """The origins the environment itself allowed navigation to (browser), for the record."""
    allowed = getattr(env, "allowed", None)
    return {"env_allowed_origins": sorted(allowed)} if allowed else {}


def _evaluate(
    env: Environment, answer: str | None, deadline: Deadline
) -> tuple[Outcome | None, str]:
    """The environment's verdict (None when it cannot judge) and a note for the reason when
    judging failed. Judging may take EVALUATE_GRACE seconds past the budget."""
    try:
        with deadline.guard("the task was being judged", grace=EVALUATE_GRACE):
            return env.evaluate(answer=answer), ""
    except BudgetExceeded:
        return None, "; the task could not be judged in time"
    except EnvError as exc:
        return None, f"; the task could not be judged: {exc}"
    except Exception as exc:  # a judge's bug must not lose the record
        return None, f"; judging the task failed: {type(exc).__name__}: {exc}"
