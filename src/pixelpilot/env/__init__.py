"""Environments: the Environment protocol, Observation, FakeEnv, check_env and the registry.

Adapters for real screens (desktop, browser, android) are imported lazily through
`create_env`, so importing this package never imports an X11 library or Playwright. Here:
`base` (the protocol), `checker`, `registry`, `fake`, `tasks` (task suites), `httpserver` (the
local page servers), `calibrate`; one subpackage per adapter: `desktop/`, `browser/`,
`android/`.

May import: `pixelpilot.actions` and the shared modules (`errors`, `registry`, `checks`); never
`model`, `agent`, `evals` or `cli`.
"""

from pixelpilot.actions import Observation, Outcome, Task
from pixelpilot.env.base import Environment, EnvironmentBase, Execution, wait_until_settled
from pixelpilot.env.checker import EnvCheckError, check_env
from pixelpilot.env.fake import FakeElement, FakeEnv, FakeEnvConfig, FakeScreen
from pixelpilot.env.registry import ENVIRONMENTS, create_env

__all__ = [
    "ENVIRONMENTS",
    "EnvCheckError",
    "Environment",
    "EnvironmentBase",
    "Execution",
    "FakeElement",
    "FakeEnv",
    "FakeEnvConfig",
    "FakeScreen",
    "Observation",
    "Outcome",
    "Task",
    "check_env",
    "create_env",
    "wait_until_settled",
]
