"""One episode's share of the desktop: the applications it started (`launch` commands, its
task's applications, `open_app`) and, for a `desktop:` task, the task and its fresh home folder.
`end` stops the applications and deletes the home; the environment calls it at each reset and
at close.
"""

from __future__ import annotations

import shlex
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from pixelpilot.actions import Outcome, Task
from pixelpilot.env.desktop.apps import choose_app
from pixelpilot.env.desktop.scratch import scratch_prefix
from pixelpilot.env.desktop.session import LaunchError, Programs
from pixelpilot.env.desktop.tasks import PREFIX, DesktopTask, find_task
from pixelpilot.errors import ConfigError, EnvError

JUDGE_POLL_SECONDS = 0.2
"""Seconds between the judge's looks while a failed verdict may still turn."""


class Episode:
    """The programs and task state of the current episode.

    Args:
        programs: starts and stops programs on the environment's display.
        private: the display is a private Xvfb (`desktop:` tasks need one).
        window_timeout: seconds each started program gets to show a focused window.
    """

    def __init__(self, programs: Programs, *, private: bool, window_timeout: float) -> None:
        self.programs, self.private, self.window_timeout = programs, private, window_timeout
        self.task: DesktopTask | None = None
        self._home: tempfile.TemporaryDirectory[str] | None = None

    @property
    def home(self) -> Path | None:
        """The current `desktop:` task's home folder (None outside such a task)."""
        return Path(self._home.name) if self._home is not None else None

    @property
    def cwd(self) -> Path | None:
        """The folder applications start in (the task's; None: the caller's)."""
        return None if self.home is None or self.task is None else self.home / self.task.cwd

    def begin(self, task: Task | None, launch: Sequence[str]) -> None:
        """End the previous episode, prepare `task` when it is a `desktop:` task, then start
        the `launch` command lines and the task's applications, each until its window has the
        focus.

        Raises:
            ConfigError: the task cannot run here (no private display, a missing application),
                or a `launch` line cannot start or shows no window.
            EnvError: a task's application did not start.
        """
        self.end()
        spec = None
        if task is not None and task.name is not None and task.name.startswith(PREFIX):
            spec = find_task(task.name)
        commands: list[tuple[str, ...]] = []
        if spec is not None:
            spec.check_ready(private_display=self.private)
            # A helper an application forked may still be writing as the home is deleted.
            self._home = tempfile.TemporaryDirectory(
                prefix=scratch_prefix("home"), ignore_cleanup_errors=True
            )
            self.task = spec
            commands = spec.prepare(Path(self._home.name))
        for line in launch:
            try:
                self._launch(shlex.split(line))
            except (LaunchError, ValueError) as exc:
                raise ConfigError(f"--launch {line!r}: {exc}") from None
        for command in commands:
            try:
                self._launch(command)
            except LaunchError as exc:
                raise EnvError(f"task {PREFIX}{spec.name if spec else ''}: {exc}") from exc

    def _launch(self, command: Sequence[str]) -> str:
        launched = self.programs.launch(
            command, timeout=self.window_timeout, home=self.home, cwd=self.cwd
        )
        title = launched.window.title if launched.window else None
        return f"launched {shlex.join(launched.command)} (pid {launched.pid}); window {title!r}"

    def open_app(
        self,
        name: str,
        *,
        names: Mapping[str, str],
        allowed: Sequence[str] | None,
        cutoff: float,
    ) -> str:
        """Start the application `name` resolves to (see `apps.choose_app`) in this episode's
        home and wait until its window is focused; returns what ran, for the step record.

        Raises:
            ActionError: no application matches, it is not allowed, or it showed no focused
                window in time.
        """
        environ = self.programs.environ(self.home)
        match = choose_app(name, environ, names, allowed, cutoff=cutoff)
        return f"{self._launch(match.command)}; {match.how}"

    def evaluate(self, answer: str | None, *, grace: float = 0.0) -> Outcome | None:
        """Judge the current `desktop:` task (None outside one). A failed verdict is checked
        again for up to `grace` seconds: an application may still be writing what the last
        action saved (a file dialog closes some time after Enter)."""
        if self.task is None or self.home is None:
            return None
        deadline = time.monotonic() + grace
        while True:
            outcome = self.task.judge(self.home, answer)
            if outcome.success or time.monotonic() >= deadline:
                return outcome
            time.sleep(JUDGE_POLL_SECONDS)

    def end(self) -> None:
        """Stop the applications started for this episode and delete its home. Safe to repeat."""
        try:
            self.programs.stop_apps()
        finally:
            self.task = None
            home, self._home = self._home, None
            if home is not None:
                home.cleanup()
