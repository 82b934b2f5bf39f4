"""`pixelpilot ls envs|models|tasks|benchmarks` and `pixelpilot ls options NAME`: what can be
named on the command line, and every option of one component."""

from __future__ import annotations

import argparse
import collections.abc
import enum
import pathlib
import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from pixelpilot.env import ENVIRONMENTS
from pixelpilot.env.tasks import TASK_SUITES
from pixelpilot.errors import ConfigError, UnknownNameError
from pixelpilot.evals import BENCHMARKS
from pixelpilot.model import POLICIES

LISTS = ("envs", "models", "tasks", "benchmarks", "options")


DEFAULT_WIDTH = 60  # characters of a default value shown


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "ls", help="list environments, models, tasks or benchmarks, or a component's options"
    )
    parser.add_argument("what", choices=LISTS)
    parser.add_argument(
        "name",
        nargs="?",
        metavar="ENV|MODEL|BENCH",
        help="with `options`: the environment, model backend or benchmark to describe",
    )
    parser.set_defaults(handler=handle)


def task_lines() -> list[tuple[str, str]]:
    """One line per task of every task suite (plugins included), suite by suite."""
    lines: list[tuple[str, str]] = []
    for name in TASK_SUITES.names():
        suite = TASK_SUITES.load(name)
        where = (
            "--env " + " or ".join(suite.environments)
            if suite.environments
            else "pixelpilot eval " + suite.name
        )
        for task in suite.tasks():
            lines.append((task.name or "", f"({where}) {task.goal}"))
    return lines


def type_name(annotation: Any) -> str:
    """A field's type as a user reads it: "int", "str | None", "list[str]",
    "tuple[FakeScreen, ...]"."""
    if annotation is Ellipsis:  # tuple[X, ...]: its repr would read "Ellipsis"
        return "..."
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return annotation.__name__
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return " | ".join("None" if a is type(None) else type_name(a) for a in args)
    if origin is typing.Literal:
        return " | ".join(repr(a) for a in args)
    if origin is not None and args:
        name = getattr(origin, "__name__", str(origin))
        return f"{name}[{', '.join(type_name(a) for a in args)}]"
    return str(annotation).replace("typing.", "")


# What a KEY=VALUE flag (a TOML value) or a config file's table can spell; a field of any other
# type (a callable, an arbitrary object) can only be set from Python.
_PLAIN = (type(None), bool, int, float, str, pathlib.PurePath, enum.Enum)
_CONTAINERS = (list, tuple, set, frozenset, dict, collections.abc.Sequence,
               collections.abc.Mapping, collections.abc.Set)  # fmt: skip


def settable(annotation: Any, seen: frozenset[type] = frozenset()) -> bool:
    """Whether a value of this type can be written as --env-opt/--model-opt KEY=VALUE or in
    a config file: plain values, literals, lists, tables and models made of those."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if annotation is Any or annotation is Ellipsis or origin is typing.Literal:
        return True
    if origin is typing.Annotated:
        return settable(args[0], seen)
    if origin in (typing.Union, types.UnionType) or origin in _CONTAINERS:
        return all(settable(a, seen) for a in args)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        inner = seen | {annotation}
        return annotation in seen or all(
            settable(f.annotation, inner) for f in annotation.model_fields.values()
        )
    return isinstance(annotation, type) and (
        issubclass(annotation, _PLAIN) or annotation in _CONTAINERS
    )


def default_text(value: Any) -> str:
    """A default as it reads on one line; a long list or table is counted, not cut off."""
    text = repr(value)
    if len(text) <= DEFAULT_WIDTH:
        return text
    if isinstance(value, list | tuple) and value:
        kinds = {type(item).__name__ for item in value}
        kind = kinds.pop() if len(kinds) == 1 else "item"
        return f"({len(value)} {kind} values)"
    if isinstance(value, dict):
        return f"({len(value)} entries)"
    return text[: DEFAULT_WIDTH - 3] + "..."


def option_rows(model: type[BaseModel]) -> list[tuple[str, str, str, str]]:
    """(name, type, default, description) for every field of a config model; the unit is
    stated in each description (the project's convention for config fields). A type no
    KEY=VALUE flag or config file can spell is marked "(Python only)"."""
    rows = []
    for name, field in model.model_fields.items():
        if field.default is not PydanticUndefined:
            default = default_text(field.default)
        elif field.default_factory is not None:
            default = default_text(field.default_factory())  # type: ignore[call-arg]
        else:
            default = "(required)"
        kind = type_name(field.annotation)
        if not settable(field.annotation):
            kind += " (Python only)"
        rows.append((name, kind, default, field.description or ""))
    return rows


def _components(name: str) -> list[tuple[str, type[BaseModel]]]:
    """Every component called `name` (a name may be an environment and a benchmark) with
    the config model of each."""
    found: list[tuple[str, type[BaseModel]]] = []
    spec = name.partition(":")[0]
    if name in ENVIRONMENTS:
        env_cls: Any = ENVIRONMENTS.load(name)
        found.append((f"environment '{name}' (--env-opt KEY=VALUE)", env_cls.Config))
    if spec in POLICIES:
        policy_cls: Any = POLICIES.load(spec)
        found.append((f"model '{spec}' (--model-opt KEY=VALUE)", policy_cls.Config))
    if name in BENCHMARKS:
        bench_cls: Any = BENCHMARKS.load(name)
        found.append((f"benchmark '{name}' (pixelpilot eval {name} flags)", bench_cls.Options))
    return found


def option_lines(name: str) -> list[str]:
    """The text of `pixelpilot ls options NAME`.

    Raises:
        UnknownNameError: no environment, model or benchmark is called `name`.
    """
    components = _components(name)
    if not components:
        known = sorted({*ENVIRONMENTS.names(), *POLICIES.names(), *BENCHMARKS.names()})
        raise UnknownNameError(
            f"no environment, model or benchmark is called '{name}'; known: {', '.join(known)}"
        )
    lines: list[str] = []
    for title, model in components:
        rows = option_rows(model)
        lines.append(f"{title}: {len(rows)} options" if rows else f"{title}: no options")
        widths = [max((len(row[i]) for row in rows), default=0) for i in range(3)]
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)]
            lines.append(f"  {'  '.join(cells)}  {row[3]}".rstrip())
    return lines


def handle(args: argparse.Namespace) -> int:
    if args.what == "options":
        if not args.name:
            raise ConfigError(
                "ls options needs a name: pixelpilot ls options ENV|MODEL|BENCH "
                "(see `pixelpilot ls envs`, `ls models`, `ls benchmarks`)"
            )
        print("\n".join(option_lines(args.name)))
        return 0
    if args.name:
        raise ConfigError(f"`pixelpilot ls {args.what}` takes no name (only `ls options` does)")
    if args.what == "envs":
        rows = list(ENVIRONMENTS.describe())
    elif args.what == "models":
        rows = list(POLICIES.describe())
    elif args.what == "benchmarks":
        rows = list(BENCHMARKS.describe())
    else:
        rows = task_lines()
    width = max((len(name) for name, _ in rows), default=0)
    for name, text in rows:
        print(f"{name:<{width}}  {text}")
    return 0
