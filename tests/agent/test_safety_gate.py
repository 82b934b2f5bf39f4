"""The risk gate in the loop: blocked never runs, high is denied headless unless allowed, every
decision is recorded with its risk; denials stay in the result whatever the policy claims."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pixelpilot.actions import Click, Key, Observation, Terminate, Type
from pixelpilot.agent import (
    Approval,
    Recorder,
    Risk,
    RiskRules,
    SafetySettings,
    load_run,
    risk_gate,
    run_episode,
)
from pixelpilot.env import FakeEnv
from tests.agent.support import ListPolicy

SETTINGS = Click(x=200, y=200)  # the fake home screen's Settings button


def test_blocked_never_runs_and_high_is_denied_headless(tmp_path: Path) -> None:
    env = FakeEnv()
    policy = ListPolicy(
        [
            Type(text="rm -rf ~/*"),  # blocked
            Key(keys=("alt", "f4")),  # high: closes the window
            SETTINGS,  # low
            Terminate(status="success"),
        ]
    )
    trajectory = run_episode(
        env, policy, "fake:settings", recorder=Recorder(tmp_path / "r", meta={})
    )
    assert env.executed == [SETTINGS]  # neither the blocked nor the high-risk action ran
    run = load_run(tmp_path / "r")
    blocked, high, low = run.steps[:3]
    assert blocked["error_kind"] == "blocked" and blocked["risk"]["level"] == "blocked"
    assert blocked["error"].startswith("blocked: ") and "rm -rf" not in blocked["error"]
    assert high["error_kind"] == "denied" and high["risk"]["level"] == "high"
    assert "denied in a run without a terminal" in high["error"]
    assert low["risk"] == {"level": "low", "reason": "no risk rule matched", "rule": "none"}
    assert low["approval"] == "allow" and low["executed"] is not None
    # The policy claims success; the record keeps the denials next to the claim.
    assert trajectory.claim == "success"
    assert run.result is not None
    assert run.result["safety"]["events"] == {
        "denied": [2],
        "blocked": [1],
        "navigation_blocked": [],
    }
    assert run.result["safety"]["mode"] == "headless"


def test_allow_high_lets_high_risk_run_but_never_blocked(tmp_path: Path) -> None:
    env = FakeEnv()
    policy = ListPolicy([Type(text="rm -rf /"), Key(keys=("alt", "f4"))])
    run_episode(env, policy, "x", max_steps=2, safety=SafetySettings(allow_high=True))
    assert env.executed == [Key(keys=("alt", "f4"))]


def test_a_person_is_asked_about_high_risk_only_and_a_user_hook_composes() -> None:
    asked: list[str] = []
    seen: list[str] = []

    def ask(action: object, obs: Observation, step: int, risk: Risk) -> Approval:
        asked.append(risk.level)
        return Approval("allow", "ok")

    def mine(action: object, obs: Observation, step: int) -> Approval:
        seen.append(type(action).__name__)
        return Approval("allow")

    env = FakeEnv()
    policy = ListPolicy([Key(keys=("alt", "f4")), SETTINGS])
    run_episode(env, policy, "x", max_steps=2, safety=SafetySettings(ask=ask), approve=mine)
    assert asked == ["high"] and seen == ["Key", "Click"]
    assert len(env.executed) == 2


def test_the_task_declares_its_own_allowances(tmp_path: Path) -> None:
    from pixelpilot.actions import Task

    allowance = {"allow": [{"id": "own-page", "rules": ["password-*"], "reason": "its sign-in"}]}
    task = Task(goal="sign in", name="demo", safety=allowance)
    env = FakeEnv()
    recorder = Recorder(tmp_path / "r", meta={})
    run_episode(
        env, ListPolicy([Type(text="Tr0ub4dor&3xyz!")]), task, max_steps=1, recorder=recorder
    )
    assert env.executed == [Type(text="Tr0ub4dor&3xyz!")]
    result = json.loads((tmp_path / "r" / "result.json").read_text())
    assert result["safety"]["allowances"] == ["own-page"]
    step = json.loads((tmp_path / "r" / "trajectory.jsonl").read_text().splitlines()[0])
    assert step["risk"]["level"] == "low" and "allowed by own-page" in step["risk"]["reason"]


@pytest.mark.parametrize(
    "text, level",
    [
        ("\\rm -rf ~", "blocked"),
        ("r\\m -rf ~", "blocked"),
        ('"rm" -rf ~', "blocked"),
        ("$(echo rm) -rf ~", "blocked"),
        ("su -c reboot", "high"),
        ("s\\udo reboot", "high"),
        ("sudo\\ rm x", "high"),
        ("echo 'hello world'", "low"),
    ],
)
def test_shell_spellings_of_a_command_are_rated_as_the_command(text: str, level: str) -> None:
    gate = risk_gate(RiskRules.default())
    decision = gate(Type(text=text), FakeEnv().reset(), 1)
    assert decision.risk is not None and decision.risk.level == level


def test_a_command_typed_in_pieces_is_rated_as_the_line_it_becomes() -> None:
    gate = risk_gate(RiskRules.default(), allow_high=True)
    obs = FakeEnv().reset()
    assert gate(Type(text="rm -r"), obs, 1).decision == "allow"  # high, allowed by the flag
    finished = gate(Type(text="f ~"), obs, 2)
    assert finished.decision == "deny" and finished.risk is not None
    assert finished.risk.level == "blocked"
    assert gate(Key(keys=("enter",)), obs, 3).decision == "allow"  # a new line starts
    assert gate(Type(text="f ~"), obs, 4).decision == "allow"
