"""Approval: every action is rated and approved before it runs.

An approve hook sees each action before it runs and allows, denies or stops. A denied action is
recorded but not executed, and the episode goes on (the policy sees the denial in its history).
A stop ends the episode with status `denied`. Terminal actions (`answer`, `terminate`) are not
submitted for approval: they execute nothing.

The default hook is the risk gate (`risk_gate`): each action is rated by `pixelpilot.agent.risk`
(low / high / blocked, with a reason) in the context of its screen, and

- `blocked` never runs;
- `high` asks a person when the run has a terminal (`ask`), and is denied in a headless run
  unless the configuration allows it (`allow_high`, the `--allow-risk` flag, or a `[safety]`
  allowance that lowers the rule for the page or app it is expected on);
- `low` runs, after a user's own hook (`then`) agrees when there is one.

Every decision is recorded on the step with the risk, its rule and the reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TextIO

from pixelpilot.actions import Action, Key, Observation, Task, Type, describe
from pixelpilot.agent.risk import Risk, RiskContext, RiskRules, assess


@dataclass(frozen=True)
class Approval:
    """A decision on one action; `risk` is its rating when the risk gate decided."""

    decision: Literal["allow", "deny", "stop"]
    reason: str = ""
    risk: Risk | None = None


ALLOW = Approval("allow")

ApproveHook = Callable[[Action, Observation, int], Approval]
"""Called as approve(action, observation, step_index) before an action executes."""

AskHook = Callable[[Action, Observation, int, Risk], Approval]
"""Asks a person about one action, shown with its risk; returns the person's decision."""


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


def risk_gate(
    rules: RiskRules,
    *,
    allowed_origins: tuple[str, ...] = (),
    ask: AskHook | None = None,
    ask_all: bool = False,
    allow_high: bool = False,
    then: ApproveHook | None = None,
) -> ApproveHook:
    """The default approve hook: rate each action, then decide as the module docstring says.

    Args:
        rules: the rules in force (defaults, the config's `[safety]`, the task's allowances).
        allowed_origins: origins navigation may reach (browser), for the rules' context.
        ask: asks a person (a terminal is attached); None in a headless run.
        ask_all: ask about every action, not only high-risk ones (`--confirm`).
        allow_high: let high-risk actions run unasked (`--allow-risk`).
        then: a user's own hook, consulted for every action the gate lets through.

    The gate keeps the text typed since the last newline or Enter: a command typed in pieces
    (`rm -r`, then `f ~`) is rated as the line it becomes, not piece by piece.
    """
    line = [""]  # the approved typed text since the last newline or Enter

    def approve(action: Action, observation: Observation, step: int) -> Approval:
        decision = _decide(action, observation, step)
        if decision.decision == "allow":
            if isinstance(action, Type):
                line[0] = (line[0] + action.text).rsplit("\n", 1)[-1][-LINE_LIMIT:]
            elif isinstance(action, Key) and "enter" in action.keys:
                line[0] = ""
        return decision

    def _decide(action: Action, observation: Observation, step: int) -> Approval:
        context = RiskContext(
            platform=observation.platform,
            url=observation.url,
            app=observation.app,
            allowed_origins=allowed_origins,
        )
        risk = _rate(action, context, rules)
        if isinstance(action, Type) and line[0]:
            whole = _rate(Type(text=line[0] + action.text), context, rules)
            if _SEVERITY[whole.level] > _SEVERITY[risk.level]:
                risk = whole
        if risk.level == "blocked":
            return Approval("deny", f"blocked: {risk.reason}", risk)
        decision = Approval("allow", "", risk)
        if risk.level == "high" and allow_high:
            decision = Approval("allow", "high risk allowed by --allow-risk", risk)
        elif risk.level == "high" and ask is None:
            return Approval(
                "deny",
                f"high risk, denied in a run without a terminal: {risk.reason} (allow it with "
                "--allow-risk or a [safety] allowance)",
                risk,
            )
        elif ask is not None and (risk.level == "high" or ask_all):
            decision = _with_risk(ask(action, observation, step, risk), risk)
        if decision.decision == "allow" and then is not None:
            return _with_risk(then(action, observation, step), risk)
        return decision

    return approve


@dataclass(frozen=True)
class SafetySettings:
    """How an episode's actions are gated (see the module docstring).

    Attributes:
        rules: the rules in force before the task's own allowances are added.
        ask: a person to ask (a terminal is attached); None in a headless run.
        ask_all: ask about every action (`--confirm`), not only high-risk ones.
        allow_high: high-risk actions run unasked (`--allow-risk`).
        allowed_origins: origins navigation may reach besides the task's start (browser).
        enabled: False leaves only the user's own hook (no rating at all).
    """

    rules: RiskRules = field(default_factory=RiskRules.default)
    ask: AskHook | None = None
    ask_all: bool = False
    allow_high: bool = False
    allowed_origins: tuple[str, ...] = ()
    enabled: bool = True

    def rules_for(self, task: Task) -> RiskRules:
        """The rules plus the task's own `[safety]` allowances."""
        return self.rules.extended(task.safety) if task.safety else self.rules

    def gate(self, task: Task, *, then: ApproveHook | None = None) -> ApproveHook | None:
        """The approve hook for one episode of `task`, composed with a user's own `then`."""
        if not self.enabled:
            return then
        return risk_gate(
            self.rules_for(task),
            allowed_origins=self.allowed_origins,
            ask=self.ask,
            ask_all=self.ask_all,
            allow_high=self.allow_high,
            then=then,
        )

    def describe(self, task: Task) -> dict[str, object]:
        """What was in force, for meta.json, result.json and evaluation reports."""
        if not self.enabled:
            return {"enabled": False}
        rules = self.rules_for(task)
        return {
            "enabled": True,
            "mode": "ask" if self.ask is not None else "headless",
            "ask_all": self.ask_all,
            "allow_high": self.allow_high,
            "allowances": [a.id for a in rules.allow],
            "disabled": sorted(rules.disable),
            "allowed_origins": list(self.allowed_origins),
        }


_SEVERITY = {"low": 0, "high": 1, "blocked": 2}
LINE_LIMIT = 4000  # characters of the current typed line kept for rating
# Shell spellings that run the same command as the plain one: \rm, r\m, "rm", 'rm', $(echo rm)
_ECHO = re.compile(r"\$\(\s*echo\s+([\w./-]+)\s*\)|`\s*echo\s+([\w./-]+)\s*`")


def shell_plain(text: str) -> str:
    """`text` with shell quoting and escapes taken out (`\\rm` -> `rm`, `"rm"` -> `rm`,
    `$(echo rm)` -> `rm`), so a rule written for the plain command sees every spelling of it.
    A heuristic for rating only: the text typed is never changed."""
    text = _ECHO.sub(lambda m: m.group(1) or m.group(2), text)
    text = re.sub(r"\\(.)", r"\1", text)
    return text.replace('"', "").replace("'", "")


def _rate_text(text: str, context: RiskContext, rules: RiskRules) -> Risk:
    """The most severe rating of `text` as typed and in its plain shell spelling."""
    first = assess(Type(text=text), context, rules)
    plain = shell_plain(text)
    if plain == text or not plain.strip():
        return first
    second = assess(Type(text=plain), context, rules)
    return second if _SEVERITY[second.level] > _SEVERITY[first.level] else first


def _rate(action: Action, context: RiskContext, rules: RiskRules) -> Risk:
    """`assess`, with secret placeholders taken out of typed text: a `<secret:NAME>` is the
    user's own value, typed only where it is bound (see `pixelpilot.agent.secrets`), not a
    password the model made up; what else the text holds is rated as usual."""
    from pixelpilot.agent.secrets import PLACEHOLDER

    if not isinstance(action, Type):
        return assess(action, context, rules)
    if not PLACEHOLDER.search(action.text):
        return _rate_text(action.text, context, rules)
    names = ", ".join(f"<secret:{m}>" for m in PLACEHOLDER.findall(action.text))
    rest = PLACEHOLDER.sub(" ", action.text).strip()
    risk = _rate_text(rest, context, rules) if rest else None
    if risk is not None and risk.level != "low":
        return risk
    return Risk("low", f"types {names} where the secret is bound", "secret")


def _with_risk(approval: Approval, risk: Risk) -> Approval:
    return Approval(approval.decision, approval.reason, approval.risk or risk)


def terminal_asker(
    *,
    ask: Callable[[str], str] = input,
    out: TextIO | None = None,
    screenshots: Path | None = None,
) -> AskHook:
    """Ask on the terminal: the action in words, its risk and reason, the current URL or app,
    and the path of a screenshot with the target marked; `y` runs it, `n` or Enter alone skips
    it, `q` stops the run. End of input (Ctrl-D, no terminal) stops rather than acting.

    Args:
        screenshots: where the annotated screenshots are written (the run directory); None
            writes none.
    """

    def approve(action: Action, observation: Observation, step: int, risk: Risk) -> Approval:
        lines = [f"step {step}: {describe(action)}", f"  risk: {risk.level} - {risk.reason}"]
        where = observation.url or observation.app
        if where:
            lines.append(f"  on: {where}")
        if screenshots is not None:
            from pixelpilot.agent.report.draw import save_annotated

            path = save_annotated(
                screenshots / f"confirm_{step:04d}.png", observation.screenshot, action
            )
            lines.append(f"  screenshot with the target marked: {path}")
        prompt = "\n".join(lines) + "\nrun it? [y]es / [n]o, skip (default) / [q]uit: "
        while True:
            try:
                answer = ask(prompt).strip().lower()
            except EOFError:
                return Approval("stop", "no answer on the terminal")
            if answer in ("y", "yes"):
                return Approval("allow", "approved at the terminal")
            if answer in ("n", "no", ""):
                return Approval("deny", "not approved at the terminal")
            if answer in ("q", "quit"):
                return Approval("stop", "stopped at the terminal")
            if out is not None:
                print("please answer y, n or q", file=out)

    return approve


def terminal_approver(
    *, ask: Callable[[str], str] = input, out: TextIO | None = None
) -> ApproveHook:
    """A user hook that asks on the terminal before every action it sees (rated with the
    default rules for the prompt); see `terminal_asker`. Enter alone means no. Passed as
    `approve`, it sees what the risk gate lets through; for a gate that asks about high-risk
    actions instead of denying them, pass `SafetySettings(ask=terminal_asker())`."""
    asker = terminal_asker(ask=ask, out=out)

    def approve(action: Action, observation: Observation, step: int) -> Approval:
        context = RiskContext(observation.platform, observation.url, observation.app)
        return asker(action, observation, step, assess(action, context))

    return approve
