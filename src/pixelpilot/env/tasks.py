"""Resolve the `--task` text into a Task.

`PREFIX:NAME` names a task from a task suite (the browser's web sandbox is `sandbox:`; the fake
environment's screens are `fake:SCREEN`); any other text is a free-form goal.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from pixelpilot.actions import Task
from pixelpilot.errors import UnknownNameError

# prefix -> "module:function" taking the name after the prefix and returning a Task
TASK_SUITES: dict[str, str] = {
    "sandbox": "pixelpilot.env.sandbox:get_task",
}


def _fake_task(name: str) -> Task:
    return Task(goal=f"open the {name} screen", name=f"fake:{name}")


def resolve_task(text: str) -> Task:
    """Turn `--task` text into a Task.

    Raises:
        UnknownNameError: a suite prefix is given with a name the suite does not know.
    """
    prefix, sep, name = text.partition(":")
    if sep and prefix == "fake" and name:
        return _fake_task(name)
    if sep and prefix in TASK_SUITES and name and " " not in prefix:
        module_name, _, attr = TASK_SUITES[prefix].partition(":")
        getter: Callable[[str], Task] = getattr(importlib.import_module(module_name), attr)
        return getter(name)
    if sep and prefix in TASK_SUITES and not name:
        raise UnknownNameError(f"'{text}' names no task; see `pixelpilot ls tasks`")
    return Task(goal=text)
