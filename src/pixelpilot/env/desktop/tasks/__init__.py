"""The `desktop` task suite: judged tasks on real Debian applications (`--task desktop:NAME`).

Each task runs in a fresh home folder on the environment's display: `DesktopEnv.reset` writes
the task's files there, starts its applications with HOME (and the XDG folders, and GSettings as
a key file) inside it, and `DesktopEnv.evaluate` judges what the user would check. Tasks need a
private display (`--virtual-display`), so that nothing of the user's own session is touched.

May import: `pixelpilot.actions`, `pixelpilot.errors`, `pixelpilot.env.tasks` (inside
functions).
"""

from __future__ import annotations

from pixelpilot.actions import Task
from pixelpilot.env.desktop.tasks.catalogue import TASKS, DesktopTask

__all__ = ["DESKTOP_TASKS", "TASKS", "DesktopTask", "DesktopTaskSuite", "find_task"]

PREFIX = "desktop:"


def find_task(name: str) -> DesktopTask | None:
    """The task called `name` ("desktop:NAME" or "NAME"), or None."""
    short = name.removeprefix(PREFIX)
    return next((task for task in TASKS if task.name == short), None)


class DesktopTaskSuite:
    """`desktop:NAME`: tasks on real applications in a private display, judged from files,
    saved settings and answers."""

    name = "desktop"
    environments = ("desktop",)
    description = "real Debian applications on a private display (--env desktop)"

    def tasks(self) -> list[Task]:
        return [self._task(task) for task in TASKS]

    def _task(self, task: DesktopTask) -> Task:
        return Task(goal=task.goal, name=PREFIX + task.name, safety=task.safety)

    def get(self, name: str) -> Task:
        from pixelpilot.env.tasks import unknown_task

        found = find_task(name)
        if found is None:
            raise unknown_task("desktop", name.removeprefix(PREFIX), [t.name for t in TASKS])
        return self._task(found)


DESKTOP_TASKS = DesktopTaskSuite()
