"""Task suites: named tasks for `--task PREFIX:NAME`, one registry for every suite.

A task suite is an object with `name` (its prefix), `environments` (the `--env` names its tasks
run on), `tasks()` (every task, each named "PREFIX:NAME") and `get(name)`. The built-in suites are
`fake` (the fake environment's screens) and `sandbox` (the browser's web sandbox); `miniwob`
(MiniWoB++ task pages, run through `pixelpilot eval miniwob`) registers through pixelpilot's own
entry point, and third-party suites the same way, in the `pixelpilot.tasks` group. `--task` text
without a known prefix is a free-form goal.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from pixelpilot.actions import Task
from pixelpilot.errors import UnknownNameError
from pixelpilot.registry import Registry


@runtime_checkable
class TaskSuite(Protocol):
    """A named collection of tasks.

    Attributes:
        name: the prefix in `--task NAME:TASK`.
        environments: the environment names (`--env`) its tasks run on; empty when they run
            only through a benchmark (then `get` says which command runs them).
        description: one line for `pixelpilot ls tasks`.
    """

    name: str
    environments: tuple[str, ...]
    description: str

    def tasks(self) -> list[Task]:
        """Every task of the suite, each with `name` "PREFIX:NAME"."""
        ...

    def get(self, name: str) -> Task:
        """The task called `name` (with or without the prefix).

        Raises:
            UnknownNameError: no such task; the message lists the closest name.
            ConfigError: the suite's tasks cannot run through `pixelpilot run`.
        """
        ...


def _check_suite(obj: object) -> str | None:
    if not isinstance(obj, TaskSuite):
        return "is not a task suite (needs name, environments, description, tasks() and get())"
    return None


TASK_SUITES: Registry[TaskSuite] = Registry(
    "task suite", group="pixelpilot.tasks", check=_check_suite
)
TASK_SUITES.register(
    "fake", "pixelpilot.env.fake:FAKE_TASKS", help="the fake environment's screens (--env fake)"
)
TASK_SUITES.register(
    "desktop",
    "pixelpilot.env.desktop.tasks:DESKTOP_TASKS",
    help="real Debian applications on a private display (--env desktop)",
)
TASK_SUITES.register(
    "sandbox",
    "pixelpilot.env.browser.sandbox:SANDBOX_TASKS",
    help="the bundled web sandbox (--env browser)",
)


def unknown_task(suite: str, name: str, known: Iterable[str]) -> UnknownNameError:
    """The error for a task name a suite does not know, with the closest name."""
    names = list(known)
    close = difflib.get_close_matches(name, names, n=1)
    hint = f" Did you mean '{suite}:{close[0]}'?" if close else ""
    shown = ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")
    return UnknownNameError(
        f"unknown {suite} task '{name}'.{hint} {suite} tasks: {shown} (see `pixelpilot ls tasks`)."
    )


def resolve_task(text: str) -> tuple[Task, TaskSuite | None]:
    """Turn `--task` text into a Task and the suite it came from (None for a free-form goal).

    Raises:
        UnknownNameError: a suite prefix is given with a name the suite does not know, or none.
        ConfigError: the text is empty, or the suite's tasks cannot run through `pixelpilot run`.
    """
    from pixelpilot.errors import ConfigError

    if not text.strip():
        raise ConfigError(
            "--task is empty: give a goal in words or a task name (`pixelpilot ls tasks`)"
        )
    prefix, sep, name = text.partition(":")
    if sep and " " not in prefix and prefix in TASK_SUITES:
        suite = TASK_SUITES.load(prefix)
        if not name.strip():
            raise UnknownNameError(f"'{text}' names no task; see `pixelpilot ls tasks`")
        return suite.get(name), suite
    return Task(goal=text), None
