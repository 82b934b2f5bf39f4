"""Name -> implementation registries with lazy imports and "did you mean" answers.

Each backend is registered as a "module:Class" string so that listing or resolving names never
imports a heavy dependency; the class is imported only when it is asked for.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterator, Mapping
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from pixelpilot.errors import ConfigError, UnknownNameError

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


class Registry(Generic[T]):
    """A mapping from short names to lazily imported objects of one kind."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._targets: dict[str, str] = {}
        self._help: dict[str, str] = {}

    def register(self, name: str, target: str, *, help: str = "") -> None:
        """Register `target` ("package.module:Attribute") under `name`."""
        if ":" not in target:
            raise ValueError(f"registry target must look like 'module:Attribute', got {target!r}")
        self._targets[name] = target
        self._help[name] = help

    def names(self) -> list[str]:
        return sorted(self._targets)

    def describe(self) -> Iterator[tuple[str, str]]:
        """Yield (name, one-line help) for every registered name, sorted."""
        for name in self.names():
            yield name, self._help[name]

    def __contains__(self, name: object) -> bool:
        return name in self._targets

    def load(self, name: str) -> T:
        """Import and return the object registered as `name`.

        Raises:
            UnknownNameError: `name` is not registered; the message lists the names and the
                closest match.
        """
        try:
            target = self._targets[name]
        except KeyError:
            raise UnknownNameError(self.unknown_message(name)) from None
        module_name, _, attr = target.partition(":")
        module = importlib.import_module(module_name)
        obj: T = getattr(module, attr)
        return obj

    def unknown_message(self, name: str) -> str:
        known = ", ".join(self.names())
        close = difflib.get_close_matches(name, self.names(), n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        return f"unknown {self.kind} '{name}'.{hint} Known {self.kind}s: {known}."


def config_error(component: str, exc: ValidationError) -> ConfigError:
    """Turn a pydantic ValidationError into one readable ConfigError line."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "value"
        parts.append(f"{where}: {err['msg']}")
    return ConfigError(f"invalid {component} option: " + "; ".join(parts))


def validate_options(config_cls: type[M], options: Mapping[str, Any] | None, component: str) -> M:
    """Validate `options` into `config_cls`; invalid options are one readable ConfigError.

    Args:
        component: what the options are for, for the message (e.g. "'browser' environment").
    """
    try:
        return config_cls.model_validate(dict(options or {}))
    except ValidationError as exc:
        raise config_error(component, exc) from None
