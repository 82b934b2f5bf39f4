"""run_episode: every stop condition, error feedback and approval."""

from __future__ import annotations

from pathlib import Path

import pytest

from pixelpilot.actions import (
    Action,
    Answer,
    Click,
    Move,
    Observation,
    OpenApp,
    Swipe,
    Terminate,
    Type,
    Wait,
)
from pixelpilot.agent import Approval, Recorder, deny_types, load_run, run_episode
from pixelpilot.env import Execution, FakeEnv, FakeEnvConfig
from pixelpilot.errors import EnvError, Interrupted, PolicyError
from pixelpilot.model import History, Prediction
from tests.agent.support import ListPolicy

SETTINGS = Click(x=200, y=200)  # the Settings button on the fake home screen
EMPTY = Click(x=1200, y=700)  # nothing there


def test_terminate_success_and_failure() -> None:
    env = FakeEnv()
    traj = run_episode(env, ListPolicy([SETTINGS, Terminate(status="success")]), "open settings")
    assert (traj.status, traj.claim) == ("terminated", "success") and len(traj.steps) == 2
    assert env.executed == [SETTINGS]
    traj = run_episode(FakeEnv(), ListPolicy([Terminate(status="failure")]), "x")
    assert (traj.status, traj.claim) == ("terminated", "failure") and len(traj.steps) == 1


def test_answer_ends_the_episode_with_the_answer() -> None:
    traj = run_episode(FakeEnv(), ListPolicy([Answer(text="42")]), "what is it?")
    assert traj.status == "answered" and traj.answer == "42"


def test_step_budget() -> None:
    moves: list[Action | Prediction | Exception] = [Move(x=i, y=i) for i in range(10)]
    traj = run_episode(FakeEnv(), ListPolicy(moves), "wander", max_steps=4)
    assert traj.status == "max_steps" and len(traj.steps) == 4


def test_wall_clock_budget() -> None:
    env = FakeEnv(FakeEnvConfig(delay=0.15))
    moves: list[Action | Prediction | Exception] = [Move(x=i, y=i) for i in range(50)]
    traj = run_episode(env, ListPolicy(moves), "wander", max_seconds=0.4)
    assert traj.status == "timeout"
    assert 2 <= len(traj.steps) <= 4


def test_same_action_on_unchanged_screen_three_times_is_a_loop() -> None:
    env = FakeEnv()
    traj = run_episode(env, ListPolicy([EMPTY, EMPTY, EMPTY, EMPTY]), "stuck")
    assert traj.status == "loop"
    assert env.executed == [EMPTY, EMPTY]  # the third repeat is not executed
    # the same click that keeps changing the screen is not a loop
    back_and_forth: list[Action | Prediction | Exception] = [
        SETTINGS,
        Click(x=200, y=700),  # Back
        SETTINGS,
        Click(x=200, y=700),
        SETTINGS,
        Terminate(status="success"),
    ]
    assert run_episode(FakeEnv(), ListPolicy(back_and_forth), "x").claim == "success"


def test_a_repeated_action_counts_from_the_screen_it_stopped_changing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The same click changes the fake screen twice (home -> settings -> toggled), then nothing:
    # repeats on a changed screen do not count, so the loop is the 3rd click on the last one.
    traj = run_episode(FakeEnv(), ListPolicy([SETTINGS] * 6), "stuck on settings")
    assert traj.status == "loop" and len(traj.steps) == 5
    # Screens are only compared when the action repeats: distinct actions digest nothing.
    digests: list[int] = []
    real = Observation.pixel_digest
    monkeypatch.setattr(Observation, "pixel_digest", lambda obs: digests.append(1) or real(obs))
    moves: list[Action | Prediction | Exception] = [Move(x=i, y=i) for i in range(1, 6)]
    assert run_episode(FakeEnv(), ListPolicy(moves), "wander", max_steps=5).status == "max_steps"
    assert digests == []


def test_policy_mistakes_are_recorded_fed_back_and_stop_after_three_in_a_row() -> None:
    bad = Prediction(action=None, raw_text="<tool_call>{oops", error="unparseable tool call")
    policy = ListPolicy([bad, Click(x=5000, y=5), Swipe(x=1, y=1, to_x=2, to_y=2), SETTINGS])
    env = FakeEnv(FakeEnvConfig(platform="desktop"))
    env.supported_actions = frozenset(env.supported_actions - {"swipe"})
    traj = run_episode(env, policy, "x")
    assert traj.status == "policy_errors" and len(traj.steps) == 3
    assert [s.error_kind for s in traj.steps] == ["parse", "bounds", "unsupported"]
    assert env.executed == []
    # the second and third predictions saw the earlier errors in their history
    assert policy.histories[1].steps[0].error == "unparseable tool call"
    assert policy.histories[1].steps[0].raw_text == "<tool_call>{oops"
    assert "outside the 1280x800 screen" in (policy.histories[2].steps[1].error or "")


def test_a_good_step_resets_the_error_count() -> None:
    bad = Prediction(action=None, error="nope")
    items: list[Action | Prediction | Exception] = [
        bad,
        bad,
        Move(x=1, y=1),
        bad,
        PolicyError("endpoint down"),
        Terminate(status="success"),
    ]
    traj = run_episode(FakeEnv(), ListPolicy(items), "x")
    assert (traj.status, traj.claim) == ("terminated", "success")
    assert traj.steps[4].error_kind == "policy" and "endpoint down" in (traj.steps[4].error or "")


def test_deny_skips_the_action_and_stop_ends_the_run() -> None:
    env = FakeEnv()
    traj = run_episode(
        env,
        ListPolicy([OpenApp(name="mail"), SETTINGS, Terminate(status="success")]),
        "x",
        approve=deny_types({"open_app"}),
    )
    assert (traj.status, traj.claim) == ("terminated", "success")
    assert traj.steps[0].approval == "deny" and traj.steps[0].error_kind == "denied"
    assert env.executed == [SETTINGS]

    def stop_on_type(action: Action, obs: Observation, step: int) -> Approval:
        return (
            Approval("stop", "typing needs a human") if action.type == "type" else Approval("allow")
        )

    env = FakeEnv()
    traj = run_episode(
        env, ListPolicy([SETTINGS, Type(text="hi"), SETTINGS]), "x", approve=stop_on_type
    )
    assert traj.status == "denied" and traj.reason == "typing needs a human"
    assert env.executed == [SETTINGS]


class _Failing(FakeEnv):
    def __init__(self, error: BaseException, after: int) -> None:
        super().__init__()
        self.error, self.after = error, after

    def execute(self, action: Action) -> Execution:
        if len(self.executed) >= self.after:
            raise self.error
        return super().execute(action)


@pytest.mark.parametrize(
    "error, status",
    [
        (EnvError("device disconnected"), "env_error"),
        (Interrupted("fail-safe corner"), "interrupted"),
        (KeyboardInterrupt(), "interrupted"),
    ],
)
def test_environment_failures_and_interrupts_end_cleanly_with_a_record(
    tmp_path: Path, error: BaseException, status: str
) -> None:
    env = _Failing(error, after=1)
    recorder = Recorder(tmp_path / "run", meta={"test": True})
    moves: list[Action | Prediction | Exception] = [Move(x=1, y=1), Move(x=2, y=2), Wait(seconds=0)]
    traj = run_episode(env, ListPolicy(moves), "x", recorder=recorder)
    assert traj.status == status and len(traj.steps) == 2
    run = load_run(tmp_path / "run")
    assert run.result is not None and run.result["status"] == status
    assert [s["index"] for s in run.steps] == [1, 2]
    assert run.steps[1]["action"] == {"type": "move", "x": 2, "y": 2}
    assert run.steps[1]["executed"] is None and run.steps[1]["interrupted"] is True
    if status == "env_error":
        assert run.steps[1]["error_kind"] == "env"
        assert run.steps[1]["error"] == "EnvError: device disconnected"
    # the failing step's execution was cut off: its intent may or may not have run
    assert [p["index"] for p in run.pending] == [2]
    assert any("may or may not have run" in w for w in run.warnings)


def test_recorded_steps_release_their_pixels_outside_the_image_window(tmp_path: Path) -> None:
    seen: list[list[tuple[int, int]]] = []

    class Window(ListPolicy):
        image_history = 2

        def predict(self, observation: Observation, history: History) -> Prediction:
            # the policy's window must hold real screenshots, never released ones
            seen.append([e.screenshot.size for e in history.steps if e.screenshot is not None])
            return super().predict(observation, history)

    moves: list[Action | Prediction | Exception] = [Move(x=i, y=i) for i in range(1, 6)]
    recorder = Recorder(tmp_path / "run", meta={})
    traj = run_episode(FakeEnv(), Window(moves), "wander", max_steps=5, recorder=recorder)
    recorder.close()
    assert seen == [[], [(1280, 800)], [(1280, 800)] * 2, [(1280, 800)] * 2, [(1280, 800)] * 2]
    released = [s.screenshot_released for s in traj.steps]
    assert released == [True, True, True, False, False]
    assert traj.steps[0].observation.screenshot.size == (0, 0)
    assert all(s.screen == (1280, 800) for s in traj.steps)
    assert [r["screen"] for r in load_run(tmp_path / "run").steps] == [[1280, 800]] * 5
    # without a recorder nothing is on disk, so every screenshot is kept
    traj = run_episode(FakeEnv(), ListPolicy(list(moves)), "wander", max_steps=5)
    assert [s.observation.screenshot.size for s in traj.steps] == [(1280, 800)] * 5


class Episodes(ListPolicy):
    """Counts the episodes `run_episode` starts, and what it had asked before each."""

    def __init__(self, items: list[Action | Prediction | Exception]) -> None:
        super().__init__(items)
        self.starts: list[int] = []  # histories seen when each episode started

    def start_episode(self) -> None:
        self.starts.append(len(self.histories))


def test_every_episode_first_tells_the_policy_it_starts() -> None:
    policy = Episodes([SETTINGS, Terminate(status="success"), Terminate(status="failure")])
    run_episode(FakeEnv(), policy, "one")
    run_episode(FakeEnv(), policy, "two")
    assert policy.starts == [0, 2]  # before the first prediction of each


class BrokenStart(ListPolicy):
    def start_episode(self) -> None:
        raise RuntimeError("broken hook")


def test_a_failing_episode_start_is_recorded_as_the_runs_error() -> None:
    trajectory = run_episode(FakeEnv(), BrokenStart([Terminate(status="success")]), "x")
    assert trajectory.status == "error" and "broken hook" in trajectory.reason
