"""Name -> implementation registries with lazy imports, plugins and "did you mean" answers.

Each backend is registered as a "module:Attribute" string so that listing or resolving names never
imports a heavy dependency; the object is imported only when it is asked for, and then checked
against what the registry holds (a class with the right base or methods) before it is handed out.

Third-party packages add names through entry points: a distribution that declares, in its
`pyproject.toml`,

    [project.entry-points."pixelpilot.envs"]
    myenv = "my_package.env:MyEnv"

makes `--env myenv` work and lists it in `pixelpilot ls envs` once it is installed. The groups are
`pixelpilot.envs`, `pixelpilot.policies`, `pixelpilot.benchmarks` and `pixelpilot.tasks`. Entry
points are read once, the first time a registry is listed or asked for a name. A name registered
twice (by the package or a plugin) is an error, never a silent overwrite.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from pydantic import BaseModel, ValidationError

from pixelpilot.errors import ConfigError, PluginError, UnknownNameError, explain_validation

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Entry:
    """One registered name.

    Attributes:
        target: "package.module:Attribute", imported on first use.
        help: one line for `pixelpilot ls`.
        origin: who registered it: "pixelpilot" or the plugin distribution's name.
    """

    target: str
    help: str
    origin: str


def require_class(
    base: type | None = None, *, methods: tuple[str, ...] = ()
) -> Callable[[object], str | None]:
    """A registry check: the object is a class, a subclass of `base` (when given), and has every
    attribute in `methods`. Returns None when it fits, else what is wrong."""

    def check(obj: object) -> str | None:
        if not isinstance(obj, type):
            return f"is a {type(obj).__name__}, not a class"
        if base is not None and not issubclass(obj, base):
            return f"is not a subclass of {base.__module__}.{base.__qualname__}"
        missing = [name for name in methods if not hasattr(obj, name)]
        if missing:
            return f"lacks {', '.join(missing)}"
        return None

    return check


class Registry(Generic[T]):
    """A mapping from short names to lazily imported objects of one kind.

    Args:
        kind: what the names are, for messages ("environment", "model", "benchmark").
        group: the entry-point group plugins register under (None: no plugins).
        check: validates an imported object; returns None when it fits, else what is wrong.
    """

    def __init__(
        self,
        kind: str,
        *,
        group: str | None = None,
        check: Callable[[object], str | None] | None = None,
    ) -> None:
        self.kind = kind
        self.group = group
        self._check = check
        self._entries: dict[str, Entry] = {}
        self._plugins_loaded = group is None

    def register(
        self, name: str, target: str, *, help: str = "", origin: str = "pixelpilot"
    ) -> None:
        """Register `target` ("package.module:Attribute") under `name`.

        Raises:
            ValueError: `target` is not "module:Attribute".
            PluginError: `name` is already registered (the message says by whom).
        """
        if ":" not in target:
            raise ValueError(f"registry target must look like 'module:Attribute', got {target!r}")
        if name in self._entries:
            first = self._entries[name]
            raise PluginError(
                f"{self.kind} '{name}' is registered twice: {first.target} (from {first.origin}) "
                f"and {target} (from {origin}); uninstall or rename one of them"
            )
        self._entries[name] = Entry(target, help, origin)

    def _load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        assert self.group is not None
        for point in importlib.metadata.entry_points(group=self.group):
            dist = point.dist.name if point.dist is not None else "an unknown distribution"
            help_text = "" if dist == "pixelpilot" else f"(plugin from {dist})"
            self.register(point.name, point.value, help=help_text, origin=dist)

    def entries(self) -> Mapping[str, Entry]:
        """Every registered name (plugins included) and its entry."""
        self._load_plugins()
        return dict(self._entries)

    def names(self) -> list[str]:
        return sorted(self.entries())

    def describe(self) -> Iterator[tuple[str, str]]:
        """Yield (name, one-line help) for every registered name, sorted."""
        entries = self.entries()
        for name in sorted(entries):
            yield name, entries[name].help

    def __contains__(self, name: object) -> bool:
        return name in self.entries()

    def load(self, name: str) -> T:
        """Import and return the object registered as `name`.

        Raises:
            UnknownNameError: `name` is not registered; the message lists the names and the
                closest match.
            PluginError: the target cannot be imported or is not what this registry holds.
        """
        entries = self.entries()
        try:
            entry = entries[name]
        except KeyError:
            raise UnknownNameError(self.unknown_message(name)) from None
        module_name, _, attr = entry.target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if entry.origin == "pixelpilot" or not module_name.startswith(exc.name or "\0"):
                raise  # a missing dependency inside the module: its own message says what
            raise PluginError(
                f"{self.kind} '{name}' from {entry.origin} points at {entry.target}, but "
                f"module {module_name} cannot be imported: {exc}"
            ) from exc
        try:
            obj = getattr(module, attr)
        except AttributeError:
            raise PluginError(
                f"{self.kind} '{name}' from {entry.origin} points at {entry.target}, but "
                f"{module_name} has no attribute {attr!r}"
            ) from None
        problem = self._check(obj) if self._check is not None else None
        if problem is not None:
            raise PluginError(f"{self.kind} '{name}' ({entry.target}) {problem}")
        return cast(T, obj)

    def unknown_message(self, name: str) -> str:
        names = self.names()
        close = difflib.get_close_matches(name, names, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        return f"unknown {self.kind} '{name}'.{hint} Known {self.kind}s: {', '.join(names)}."


def config_error(component: str, exc: ValidationError) -> ConfigError:
    """Turn a pydantic ValidationError into one readable ConfigError line.

    The one place this happens: option validation, config files and CLI flags all call it, so
    every invalid value reads the same way ("invalid COMPONENT option: FIELD: MESSAGE; ...").
    """
    return ConfigError(f"invalid {component} option: {explain_validation(exc)}")


def validate_options(config_cls: type[M], options: Mapping[str, Any] | None, component: str) -> M:
    """Validate `options` into `config_cls`; invalid options are one readable ConfigError.

    Args:
        component: what the options are for, for the message (e.g. "'browser' environment").
    """
    values = dict(options or {})
    try:
        return config_cls.model_validate(values)
    except ValidationError as exc:
        error = config_error(component, exc)
        fields = list(config_cls.model_fields)
        if any(key not in fields for key in values):
            # An unknown key: say which ones exist (`pixelpilot ls options` describes each).
            shown = ", ".join(fields) if fields else "none"
            error = ConfigError(f"{error}; valid options: {shown}")
        raise error from None
