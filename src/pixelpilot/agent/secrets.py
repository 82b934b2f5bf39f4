"""Secrets: values the agent may type but nobody else may see, not the model, not the record.

A secret has a name and a value read from an environment variable (`--secret NAME` reads
`$NAME`; a config file's `[secrets]` table maps names to environment variables, never to values).
The goal and the model only ever see the placeholder `<secret:NAME>`; a `type` action whose text
holds a placeholder gets the value substituted inside the environment's `execute`, at the last
moment, by `SecretsEnv`. A secret bound to origins or apps (`--secret NAME@https://host`,
`--secret NAME@app:REGEX`) is typed only while the current page has one of those origins or the
foreground app matches: a pop-up on another origin cannot harvest it.

Everything written or shown goes through `Secrets.redact`: the goal, every record of the run
directory (meta.json, trajectory.jsonl, intents.jsonl, result.json), error messages and console
lines; a value that shows up anyway (an adapter's message, text read off the screen) becomes its
placeholder. Screenshots are pixels and are kept as captured: type secrets into password fields.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pixelpilot.actions import Action, Observation, Task, Type
from pixelpilot.env import Environment, Execution
from pixelpilot.errors import ActionError, ConfigError, PixelpilotError

PLACEHOLDER = re.compile(r"<secret:([A-Za-z_][A-Za-z0-9_]*)>")
MIN_LENGTH = 4  # characters: shorter values would redact ordinary text everywhere


def placeholder(name: str) -> str:
    return f"<secret:{name}>"


@dataclass(frozen=True)
class Secret:
    """One secret.

    Attributes:
        name: what the placeholder calls it (`<secret:NAME>`).
        value: the secret itself (from the environment; never stored).
        bound_to: origins ("https://host[:port]") and app patterns ("app:REGEX") where it may
            be typed; empty means anywhere.
    """

    name: str
    value: str
    bound_to: tuple[str, ...] = ()

    def allowed(self, observation: Observation | None) -> bool:
        """Whether the current screen is one the secret is bound to."""
        if not self.bound_to:
            return True
        if observation is None:
            return False
        origin = _origin(observation.url) if observation.url else None
        for target in self.bound_to:
            if target.startswith("app:"):
                if observation.app and re.search(target[4:], observation.app):
                    return True
            elif origin is not None and _origin(target) == origin:
                return True
        return False


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class Secrets:
    """The secrets of one run (possibly none)."""

    def __init__(self, secrets: Sequence[Secret] = ()) -> None:
        self.by_name = {s.name: s for s in secrets}
        # Longest first, so a value that contains another is replaced whole.
        self._values = sorted(((s.value, placeholder(s.name)) for s in secrets), reverse=True)

    def __bool__(self) -> bool:
        return bool(self.by_name)

    @classmethod
    def from_config(cls, specs: Sequence[str], table: Mapping[str, Any] | None = None) -> Secrets:
        """Secrets from `--secret NAME[@ORIGIN|@app:REGEX]` flags and a `[secrets]` table
        (`NAME = "ENV_VAR"` or `NAME = {env = "ENV_VAR", bound_to = ["https://host"]}`).

        Raises:
            ConfigError: a malformed entry, or an environment variable that is not set or holds
                a value shorter than MIN_LENGTH characters.
        """
        found: dict[str, Secret] = {}
        for name, entry in (table or {}).items():
            bound: tuple[str, ...] = ()
            if isinstance(entry, str):
                variable = entry
            elif isinstance(entry, Mapping) and isinstance(entry.get("env"), str):
                variable, bound = entry["env"], tuple(entry.get("bound_to", ()))
            else:
                raise ConfigError(
                    f'[secrets] {name}: expected "ENV_VAR" or {{env = "ENV_VAR", bound_to = '
                    "[...]}; the table names environment variables, never values"
                )
            found[name] = _secret(name, variable, bound, from_table=True)
        for spec in specs:
            name, _, target = spec.partition("@")
            found[name] = _secret(name, name, (target,) if target else ())
        return cls(list(found.values()))

    def redact(self, text: str) -> str:
        """`text` with every secret value replaced by its placeholder."""
        for value, mark in self._values:
            if value in text:
                text = text.replace(value, mark)
        return text

    def redact_data(self, data: Any) -> Any:
        """A JSON-ready structure with every string (keys included) redacted."""
        if not self._values:
            return data
        if isinstance(data, str):
            return self.redact(data)
        if isinstance(data, Mapping):
            return {self.redact_data(k): self.redact_data(v) for k, v in data.items()}
        if isinstance(data, list | tuple):
            return [self.redact_data(item) for item in data]
        return data

    def hide_in_task(self, task: Task) -> Task:
        """The task with any secret value written in its goal replaced by the placeholder."""
        from dataclasses import replace

        return replace(task, goal=self.redact(task.goal)) if self._values else task

    def substitute(self, text: str, observation: Observation | None) -> str:
        """`text` with each placeholder replaced by its value.

        Raises:
            ActionError: a placeholder names no secret of this run, or the secret is bound to
                other origins or apps than the current screen's (the message names neither
                value nor page content beyond the origin).
        """

        def value(match: re.Match[str]) -> str:
            secret = self.by_name.get(match.group(1))
            if secret is None:
                known = ", ".join(placeholder(n) for n in self.by_name) or "none"
                raise ActionError(f"{match.group(0)} is not a secret of this run (known: {known})")
            if not secret.allowed(observation):
                where = (observation.url or observation.app if observation else None) or ""
                shown = _origin(where) if "://" in where else where or "this screen"
                raise ActionError(
                    f"{match.group(0)} may only be typed on {', '.join(secret.bound_to)}, "
                    f"not on {shown}"
                )
            return secret.value

        return PLACEHOLDER.sub(value, text)


def _secret(
    name: str, variable: str, bound: tuple[str, ...], *, from_table: bool = False
) -> Secret:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ConfigError(
            f"secret name {name!r}: use letters, digits and _ (it goes in <secret:NAME>)"
        )
    # A [secrets] entry that is no variable name may be the value itself, written there by
    # mistake: never repeat it.
    valid = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", variable) is not None
    shown = "named by its [secrets] entry" if from_table else variable
    if from_table and not valid:
        raise ConfigError(
            f"[secrets] {name}: the entry is not the name of an environment variable; the "
            'table names variables (NAME = "ENV_VAR"), never values'
        )
    value = os.environ.get(variable)
    if value is None and from_table:
        raise ConfigError(
            f"secret {name!r}: the environment variable its [secrets] entry names is not set "
            "(export it first; the table names variables, never values)"
        )
    if value is None:
        raise ConfigError(
            f"secret {name!r}: environment variable {shown} is not set (export it first; "
            "secrets are read from the environment, never from the command line or a file)"
        )
    if not value:
        raise ConfigError(f"secret {name!r}: environment variable {shown} is set but empty")
    if len(value) < MIN_LENGTH:
        raise ConfigError(f"secret {name!r}: the value is shorter than {MIN_LENGTH} characters")
    for target in bound:
        if not (target.startswith("app:") or "://" in target):
            raise ConfigError(
                f"secret {name!r}: bind it to an origin (https://host) or an app (app:REGEX), "
                f"got {target!r}"
            )
    return Secret(name, value, bound)


class SecretsEnv:
    """An environment wrapper that types secrets: placeholders in `type` actions become values
    inside `execute`, only where the secret is bound; what comes back (the execution detail,
    error messages) is redacted. Everything else is passed through to the wrapped environment.
    """

    def __init__(self, env: Environment, secrets: Secrets) -> None:
        self.env = env
        self.secrets = secrets
        self.last: Observation | None = None
        self.name = env.name
        self.supported_actions = env.supported_actions

    def __getattr__(self, name: str) -> Any:
        return getattr(self.env, name)

    def reset(self, *, task: Task | None = None) -> Observation:
        self.last = self.env.reset(task=task)
        return self.last

    def observe(self) -> Observation:
        self.last = self.env.observe()
        return self.last

    def execute(self, action: Action) -> Execution:
        typed = False
        if isinstance(action, Type) and PLACEHOLDER.search(action.text):
            typed = True
            names = ", ".join(m.group(0) for m in PLACEHOLDER.finditer(action.text))
            action = Type(text=self.secrets.substitute(action.text, self.last))
        try:
            execution = self.env.execute(action)
        except PixelpilotError as exc:
            if typed:
                # The adapter's message may quote part of the value (a character it cannot
                # type, its position): say only which secret and what kind of failure.
                exc.args = (
                    f"typing {names} failed ({type(exc).__name__}; the adapter's message is "
                    "withheld because it may quote the secret)",
                )
            else:
                exc.args = tuple(self.secrets.redact(str(a)) for a in exc.args)
            raise
        return Execution(self.secrets.redact(execution.detail), execution.settle_seconds)

    def evaluate(self, *, answer: str | None = None) -> Any:
        return self.env.evaluate(answer=answer)

    def close(self) -> None:
        self.env.close()
