"""The secrets a command loaded, so that `main` hides them in whatever it prints last.

A command's own output goes through its `Secrets`; an error that escapes the command (a refusal
naming an `--out` whose path holds a secret value, a crash message quoting one) is printed by
`main`, which knows no secrets: `load_secrets` records them here and `main` redacts with them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pixelpilot.agent.secrets import Secrets

_loaded: list[Secrets] = []


def remember(secrets: Secrets) -> Secrets:
    """Record `secrets` for `redact` until `forget`; returns them."""
    _loaded.append(secrets)
    return secrets


def redact(text: str) -> str:
    """`text` with every value of every remembered secret replaced by its placeholder."""
    for secrets in _loaded:
        text = secrets.redact(text)
    return text


def forget() -> None:
    """Drop the remembered secrets (at the end of `main`)."""
    _loaded.clear()
