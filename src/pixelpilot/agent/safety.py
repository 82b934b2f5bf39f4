"""Approval: a hook that sees each action before it runs and allows, denies or stops.

A denied action is recorded but not executed, and the episode goes on (the policy sees the
denial in its history). A stop ends the episode with status `denied`. Terminal actions
(`answer`, `terminate`) are not submitted for approval: they execute nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Literal, TextIO

from pixelpilot.actions import Action, Observation, describe


@dataclass(frozen=True)
class Approval:
    decision: Literal["allow", "deny", "stop"]
    reason: str = ""


ALLOW = Approval("allow")

ApproveHook = Callable[[Action, Observation, int], Approval]
"""Called as approve(action, observation, step_index) before an action executes."""


def allow_all(action: Action, observation: Observation, step: int) -> Approval:
    return ALLOW


def deny_types(types: Collection[str], *, reason: str = "") -> ApproveHook:
    """An approver that denies every action whose type is in `types` and allows the rest."""
    blocked = frozenset(types)

    def approve(action: Action, observation: Observation, step: int) -> Approval:
        if action.type in blocked:
            return Approval("deny", reason or f"{action.type} actions are not allowed")
        return ALLOW

    return approve


def terminal_approver(
    *, ask: Callable[[str], str] = input, out: TextIO | None = None
) -> ApproveHook:
    """Ask on the terminal before each action: [y]es runs it, [n]o skips it, [q]uit stops.

    End of input (Ctrl-D, or no terminal) stops the run rather than acting unattended.
    """

    def approve(action: Action, observation: Observation, step: int) -> Approval:
        prompt = f"step {step}: run {describe(action)}? [y]es / [n]o, skip / [q]uit: "
        while True:
            try:
                answer = ask(prompt).strip().lower()
            except EOFError:
                return Approval("stop", "no answer on the terminal")
            if answer in ("y", "yes", ""):
                return ALLOW
            if answer in ("n", "no"):
                return Approval("deny", "denied at the terminal")
            if answer in ("q", "quit"):
                return Approval("stop", "stopped at the terminal")
            if out is not None:
                print("please answer y, n or q", file=out)

    return approve
