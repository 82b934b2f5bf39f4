"""The safety flags shared by `run` (and the commands that run episodes): risk approval and
secrets.

    --allow-risk          high-risk actions run unasked (blocked ones still never run)
    --confirm             ask on the terminal before every action, not only high-risk ones
    --secret NAME[@WHERE] a secret from $NAME, typed only where bound (origin or app:REGEX)

A config file's `[safety]` table extends the risk rules (see `pixelpilot.agent.risk`) and may
set `allow_risk = true` and `allowed_origins = [...]`; its `[secrets]` table maps secret names
to environment variables.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pixelpilot.agent.risk import RiskRules
from pixelpilot.agent.safety import SafetySettings, terminal_asker
from pixelpilot.agent.secrets import Secrets
from pixelpilot.cli.redaction import remember
from pixelpilot.env import ENVIRONMENTS
from pixelpilot.errors import ConfigError

SAFETY_KEYS = ("rules", "allow", "disable", "allow_risk", "allowed_origins")


def add_safety_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("safety")
    group.add_argument(
        "--confirm", action="store_true", help="ask on the terminal before every action"
    )
    group.add_argument(
        "--allow-risk",
        action="store_true",
        help="let high-risk actions run without asking (blocked actions never run)",
    )
    group.add_argument(
        "--secret",
        action="append",
        default=[],
        metavar="NAME[@ORIGIN|@app:REGEX]",
        help="a secret read from $NAME; the goal and the model see <secret:NAME> (repeatable)",
    )


def safety_settings(
    args: argparse.Namespace, config: dict[str, Any], *, screenshots: Path | None
) -> SafetySettings:
    """The risk gate for a run: the default rules plus `[safety]`, asking on the terminal when
    one is attached (every action with --confirm), headless otherwise.

    Raises:
        ConfigError: a malformed `[safety]` table.
    """
    table = config.get("safety", {})
    if not isinstance(table, dict):
        raise ConfigError("config: [safety] must be a table")
    unknown = sorted(set(table) - set(SAFETY_KEYS))
    if unknown:
        raise ConfigError(
            f"config: unknown [safety] key(s) {', '.join(unknown)}; known: {', '.join(SAFETY_KEYS)}"
        )
    origins = table.get("allowed_origins", [])
    if not isinstance(origins, list) or not all(isinstance(o, str) for o in origins):
        raise ConfigError("config: [safety] allowed_origins must be a list of origins")
    interactive = sys.stdin is not None and sys.stdin.isatty()
    ask = (
        terminal_asker(out=sys.stdout, screenshots=screenshots)
        if interactive or args.confirm
        else None
    )
    return SafetySettings(
        rules=RiskRules.default().extended(table),
        ask=ask,
        ask_all=bool(args.confirm),
        allow_high=bool(args.allow_risk or table.get("allow_risk", False)),
        allowed_origins=tuple(origins),
    )


def load_secrets(args: argparse.Namespace, config: dict[str, Any]) -> Secrets:
    """The run's secrets from --secret flags and the config's `[secrets]` table."""
    table = config.get("secrets", {})
    if not isinstance(table, dict):
        raise ConfigError('config: [secrets] must be a table of NAME = "ENV_VAR"')
    return remember(Secrets.from_config(args.secret, table))  # main hides them in errors


def describe_secrets(secrets: Secrets) -> dict[str, list[str]]:
    """Names and bindings for meta.json (never values)."""
    return {name: list(secret.bound_to) for name, secret in secrets.by_name.items()}


def with_allowed_origins(
    env_name: str, options: dict[str, Any], origins: tuple[str, ...]
) -> dict[str, Any]:
    """`options` with `origins` added to the environment's `allowed_origins`, when its config
    has that option (the browser's navigation guard)."""
    config = getattr(ENVIRONMENTS.load(env_name), "Config", None)
    if config is None or "allowed_origins" not in getattr(config, "model_fields", {}):
        return options
    merged = [*options.get("allowed_origins", []), *origins]
    return {**options, "allowed_origins": list(dict.fromkeys(merged))}
