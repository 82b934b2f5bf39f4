"""The agent loop, approval hooks, history and crash-safe trajectories.

Here: `loop` (run_episode), `steps` (Step, Trajectory, statuses), `trajectory` (the crash-safe
Recorder and load_run), `history` (what a policy sees of earlier steps), `safety` (approval).

May import: `pixelpilot.actions`, `pixelpilot.env`, `pixelpilot.model` and the shared modules.
"""

from pixelpilot.agent.budget import BudgetExceeded, Deadline
from pixelpilot.agent.history import build_history
from pixelpilot.agent.loop import run_episode
from pixelpilot.agent.risk import Risk, RiskContext, RiskRules, assess
from pixelpilot.agent.safety import (
    ALLOW,
    Approval,
    ApproveHook,
    SafetySettings,
    allow_all,
    deny_types,
    risk_gate,
    terminal_approver,
    terminal_asker,
)
from pixelpilot.agent.secrets import Secret, Secrets, SecretsEnv
from pixelpilot.agent.steps import STATUSES, Claim, Judged, Status, Step, Trajectory, step_record
from pixelpilot.agent.trajectory import Recorder, RunRecord, load_run

__all__ = [
    "ALLOW",
    "STATUSES",
    "Approval",
    "ApproveHook",
    "BudgetExceeded",
    "Claim",
    "Deadline",
    "Judged",
    "Recorder",
    "Risk",
    "RiskContext",
    "RiskRules",
    "RunRecord",
    "SafetySettings",
    "Secret",
    "Secrets",
    "SecretsEnv",
    "Status",
    "Step",
    "Trajectory",
    "allow_all",
    "assess",
    "build_history",
    "deny_types",
    "load_run",
    "risk_gate",
    "run_episode",
    "step_record",
    "terminal_approver",
    "terminal_asker",
]
