"""Approval hooks: the terminal prompt and type-based denial."""

from __future__ import annotations

import io

from pixelpilot.actions import Click, OpenApp
from pixelpilot.agent import deny_types, terminal_approver
from pixelpilot.env import FakeEnv


def test_terminal_approver_maps_answers_and_reasks_on_nonsense() -> None:
    obs = FakeEnv().reset()
    answers = iter(["maybe", "y", "n", "q", ""])
    prompts: list[str] = []

    def ask(prompt: str) -> str:
        prompts.append(prompt)
        return next(answers)

    out = io.StringIO()
    approve = terminal_approver(ask=ask, out=out)
    assert approve(Click(x=1, y=2), obs, 1).decision == "allow"  # after re-asking
    assert "please answer y, n or q" in out.getvalue()
    assert prompts[0].startswith("step 1: click(1, 2)\n  risk: low - no risk rule matched\n")
    assert prompts[0].endswith("run it? [y]es / [n]o, skip (default) / [q]uit: ")
    assert approve(Click(x=1, y=2), obs, 2).decision == "deny"
    assert approve(Click(x=1, y=2), obs, 3).decision == "stop"
    enter = approve(Click(x=1, y=2), obs, 4)  # Enter alone means no
    assert enter.decision == "deny" and enter.reason == "not approved at the terminal"


def test_end_of_input_stops_rather_than_acting_unattended() -> None:
    def closed(prompt: str) -> str:
        raise EOFError

    decision = terminal_approver(ask=closed)(Click(x=1, y=2), FakeEnv().reset(), 1)
    assert decision.decision == "stop"


def test_deny_types() -> None:
    obs = FakeEnv().reset()
    approve = deny_types({"open_app"})
    assert approve(OpenApp(name="bank"), obs, 1).decision == "deny"
    assert approve(Click(x=1, y=1), obs, 1).decision == "allow"
