"""Many independent episodes (`pixelpilot run --tasks FILE`) on N worker threads, one policy.

A task file is JSONL: one object per line with `task` (a goal in words or `SUITE:NAME`) and
optionally `env_opts` (options of the environment for this task, over the command's own),
`max_steps` (an integer >= 1), `max_seconds` (more than 0, at most 30 days) and `name` (the run
directory's name; default `NNN-<slug>`). Blank lines and lines starting with `#` are skipped.
Every line is checked before anything runs: a name must make a folder on any file system
(see `check_name`), and a number must be finite (Python's JSON reader would take NaN, Infinity
and 1e999, which no budget or option means).

`run_jobs` hands the tasks to worker threads; each worker builds its own environment per task
(on its own thread: Playwright's sync API is bound to it), runs the episode with the shared
policy behind a `BatchingPolicy`, closes the environment, and reports one `JobResult`. A task
whose environment cannot start or crashes is that task's `env_error`; the others go on.
"""

from __future__ import annotations

import json
import math
import queue
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn, Protocol

from pixelpilot.agent.batching import BatchingPolicy, check_shareable
from pixelpilot.errors import ConfigError
from pixelpilot.evals.parallel.pool import WorkerLost
from pixelpilot.model import Policy

TASK_KEYS = {"task", "env_opts", "max_steps", "max_seconds", "name"}
MAX_SECONDS = 30 * 24 * 3600.0  # a task's largest time budget, as `run --max-seconds`
NAME_CHARACTERS = 100  # a name's length; with ".interrupted-K" added it stays a legal file name
NAME_BYTES = 200  # its UTF-8 length (file systems count bytes: at most 255)
RESERVED_NAMES = ("tasks.json", "summary.json")  # the batch's own files in the output folder
WINDOWS_NAME = re.compile(r"(con|prn|aux|nul|com[1-9]|lpt[1-9])(\..*)?", re.IGNORECASE)
FORBIDDEN = '/\\<>:"|?*'  # path separators, and what Windows never takes in a name
FORBIDDEN_KINDS = ("Cc", "Cf", "Cs", "Zl", "Zp")  # control, format, lone surrogate, line breaks
SET_ASIDE = re.compile(r"\.interrupted-\d+$")  # where a resume moves an unfinished run


@dataclass(frozen=True)
class TaskLine:
    """One task of a task file.

    Attributes:
        index: its position among the file's tasks (0-based).
        task: the goal in words, or `SUITE:NAME`.
        env_opts: environment options for this task (over the command's).
        max_steps: the step budget, or None for the command's.
        max_seconds: the wall-clock budget in s, or None for the command's.
        name: the run directory's name inside the output folder.
    """

    index: int
    task: str
    env_opts: dict[str, Any] = field(default_factory=dict)
    max_steps: int | None = None
    max_seconds: float | None = None
    name: str = ""


@dataclass(frozen=True)
class JobResult:
    """How one task ended: `status` (a run status, or `env_error` when its environment could
    not start), `steps`, `success` (True/False when judged, else None), `seconds` (wall
    clock), `run_dir`, `reason`, and `ok` (the run counts as done: `Trajectory.ok`)."""

    line: TaskLine
    status: str
    steps: int
    success: bool | None
    seconds: float
    run_dir: str
    reason: str = ""
    ok: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.line.index,
            "name": self.line.name,
            "task": self.line.task,
            "status": self.status,
            "steps": self.steps,
            "success": self.success,
            "seconds": round(self.seconds, 3),
            "run_dir": self.run_dir,
            "reason": self.reason,
            "ok": self.ok,
        }


def _slug(text: str) -> str:
    cleaned = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return cleaned[:40].rstrip("-") or "task"


def read_tasks(path: Path) -> list[TaskLine]:
    """Read a task file (see the module docstring).

    Raises:
        ConfigError: the file cannot be read, holds no task, or a line is not a valid task
            (the message names the file and line).
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"--tasks {path}: {exc.strerror}") from None
    out: list[TaskLine] = []
    names: dict[str, str] = {}  # folded name -> the name as first written
    for number, text in enumerate(lines, start=1):
        text = text.strip()
        if not text or text.startswith("#"):
            continue
        line = _read_line(text, f"{path}:{number}", len(out))
        # One folder on a case-insensitive file system, or in another Unicode form: the same.
        folded = unicodedata.normalize("NFC", line.name).casefold()
        if folded in names:
            same = "" if names[folded] == line.name else f" (as {names[folded]!r})"
            raise ConfigError(f"{path}:{number}: the name {line.name!r} is used twice{same}")
        names[folded] = line.name
        out.append(line)
    if not out:
        raise ConfigError(f"--tasks {path}: no task in the file")
    return out


def _read_line(text: str, where: str, index: int) -> TaskLine:
    """One task line, checked; a mistake is a ConfigError starting with `where` (FILE:LINE)."""
    try:
        item = json.loads(text, parse_constant=_not_finite, parse_float=_finite)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{where}: not JSON ({exc.msg})") from None
    except ValueError as exc:  # NaN, Infinity, 1e999
        raise ConfigError(f"{where}: {exc}") from None
    if not isinstance(item, dict):
        raise ConfigError(f'{where}: a task is a JSON object such as {{"task": "open settings"}}')
    unknown = sorted(set(item) - TASK_KEYS)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(TASK_KEYS))}"
        )
    task = item.get("task")
    if not isinstance(task, str) or not task.strip():
        raise ConfigError(f'{where}: "task" must be a non-empty string')
    env_opts = item.get("env_opts", {})
    if not isinstance(env_opts, dict):
        raise ConfigError(f'{where}: "env_opts" must be an object of option: value')
    steps = item.get("max_steps")
    if steps is not None and (not isinstance(steps, int) or isinstance(steps, bool) or steps < 1):
        raise ConfigError(f'{where}: "max_steps" must be an integer >= 1, got {steps!r}')
    seconds = item.get("max_seconds")
    if seconds is not None and (
        not isinstance(seconds, int | float)
        or isinstance(seconds, bool)
        or not 0 < seconds <= MAX_SECONDS
    ):
        raise ConfigError(
            f'{where}: "max_seconds" must be a number of seconds from 0 to {MAX_SECONDS:g} '
            f"(30 days), got {seconds!r}"
        )
    name = item.get("name")
    if name is None:
        name = f"{index + 1:03d}-{_slug(task)}"
    elif not isinstance(name, str):
        raise ConfigError(f'{where}: "name" must be a string (a folder name), got {name!r}')
    problem = check_name(name)
    if problem is not None:
        raise ConfigError(f'{where}: "name" {problem}')
    seconds = float(seconds) if seconds is not None else None
    return TaskLine(index, task, dict(env_opts), steps, seconds, name)


def check_name(name: str) -> str | None:
    """Why `name` cannot be a run directory's name in a batch's output folder, or None.

    A name is one folder, written the same on every file system, that the batch's own files
    and a resume's set-aside folders cannot collide with: not blank, no leading or trailing
    space, no leading dot (hidden; ".", ".."), no trailing dot, none of `FORBIDDEN`, no
    control, format, line or paragraph separator character nor a lone surrogate, at most
    NAME_CHARACTERS characters and NAME_BYTES UTF-8 bytes, not a name Windows reserves (CON,
    NUL, COM1, LPT1.txt, ...), not tasks.json or summary.json, not ending in ".interrupted-K".
    Two names that differ only in case or Unicode form are one folder (see `read_tasks`).
    """
    if not name.strip():
        return "must not be blank"
    if name != name.strip():
        return f"{name!r} must not start or end with a space"
    if name.startswith("."):
        return f"{name!r} must not start with a dot"
    if name.endswith("."):
        return f"{name!r} must not end with a dot (Windows drops it)"
    kinds = FORBIDDEN_KINDS
    bad = next((c for c in name if c in FORBIDDEN or unicodedata.category(c) in kinds), None)
    if bad is not None:
        return f"{name!r} must be one folder name: no {bad!r}"
    if len(name) > NAME_CHARACTERS:
        return f"is {len(name)} characters long: at most {NAME_CHARACTERS}"
    if len(name.encode("utf-8")) > NAME_BYTES:
        return f"is {len(name.encode('utf-8'))} bytes long in UTF-8: at most {NAME_BYTES}"
    if WINDOWS_NAME.fullmatch(name):
        return f"{name!r} is a device name on Windows: choose another name"
    if name.casefold() in RESERVED_NAMES:
        return f"{name!r} is the batch's own file: choose another name"
    if SET_ASIDE.search(name):
        return f"{name!r} ends like a run a resume set aside (NAME.interrupted-K): choose another"
    return None


def _not_finite(constant: str) -> NoReturn:
    raise ValueError(f"{constant} is not a number a task can use (JSON numbers are finite)")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text} is too large for a number (it reads as {number})")
    return number


RunOne = Callable[[TaskLine, Policy, Path], JobResult]
"""Runs one task with the policy it is given, writing its run directory under the folder it
is given; it records its own failures (an environment that does not start is that task's
env_error): an exception it raises stops the run."""


class TaskExecutor(Protocol):
    """Where tasks run (see `LocalTasks`; the Ray backend's `RayTasks`): `open(k)` on worker
    thread k returns its handle, `run(handle, line)` runs one task (raises WorkerLost when the
    worker is gone), `close(handle)`, and `shutdown()` once the run is over."""

    workers: int

    def open(self, k: int) -> Any: ...

    def run(self, handle: Any, line: TaskLine) -> JobResult: ...

    def close(self, handle: Any) -> None: ...

    def shutdown(self) -> None: ...


class LocalTasks:
    """Worker threads here sharing `policy` through one `BatchingPolicy` of `batch_size`;
    run directories go under `out`. With one worker each task tells the policy its episode
    starts (`start_episode`: the front in between would hide it from `run_episode`); with
    more, the policy is shared by episodes at once and must keep no such state."""

    def __init__(
        self, policy: Policy, run_one: RunOne, out: Path, *, workers: int, batch_size: int
    ) -> None:
        if workers < 1:
            raise ConfigError(f"--workers must be at least 1, got {workers}")
        check_shareable(policy, workers)
        self.workers = workers
        self.run_one = run_one
        self.out = out
        self.front = BatchingPolicy(policy, batch_size=batch_size)

    def open(self, k: int) -> None:
        return None

    def run(self, handle: Any, line: TaskLine) -> JobResult:
        start_episode = getattr(self.front.policy, "start_episode", None)
        if self.workers == 1 and start_episode is not None:
            start_episode()
        self.front.attach()
        try:
            return self.run_one(line, self.front, self.out)
        finally:
            self.front.detach()

    def close(self, handle: Any) -> None:
        return None

    def shutdown(self) -> None:
        self.front.close()


def run_jobs(
    lines: Sequence[TaskLine],
    executor: TaskExecutor,
    *,
    on_done: Callable[[JobResult, int], None] | None = None,
) -> list[JobResult]:
    """Run every task on the executor's workers; the results in task order.

    A task whose worker died runs once more on another worker, then is recorded with status
    `error`. The executor is shut down at the end.

    Args:
        lines: the tasks.
        executor: where they run.
        on_done: called after each task with its result and the number of busy workers.

    Raises:
        KeyboardInterrupt: Ctrl-C (workers finish their current task first).
        Whatever a task raised first.
    """
    todo: queue.Queue[tuple[TaskLine, int]] = queue.Queue()
    for line in lines:
        todo.put((line, 0))
    results: dict[int, JobResult] = {}
    errors: list[BaseException] = []
    stop = threading.Event()
    lock = threading.Lock()
    state = {"busy": 0, "alive": min(executor.workers, len(lines))}

    def keep(result: JobResult) -> None:
        with lock:
            results[result.line.index] = result
            if on_done is not None:
                on_done(result, state["busy"])

    def work(k: int) -> None:
        handle = None
        try:
            handle = executor.open(k)
            while not stop.is_set() and len(results) < len(lines):
                try:
                    line, attempt = todo.get(timeout=0.05)
                except queue.Empty:
                    continue
                began = time.perf_counter()
                with lock:
                    state["busy"] += 1
                try:
                    result = executor.run(handle, line)
                except WorkerLost as exc:
                    if attempt < 1 and state["alive"] > 1:
                        todo.put((line, attempt + 1))  # another worker takes it
                    else:
                        keep(JobResult(line, "error", 0, None, time.perf_counter() - began,
                                       "", f"{exc} (retried {attempt}x)"))  # fmt: skip
                    return
                finally:
                    with lock:
                        state["busy"] -= 1
                keep(result)
        except BaseException as exc:  # re-raised by the caller's thread
            with lock:
                errors.append(exc)
            stop.set()
        finally:
            with lock:
                state["alive"] -= 1
                stranded = state["alive"] == 0 and len(results) < len(lines)
            if stranded and not stop.is_set():
                errors.append(WorkerLost("every worker died; the finished tasks are kept"))
                stop.set()
            if handle is not None:
                executor.close(handle)

    threads = [
        threading.Thread(target=work, args=(k,), name=f"task-worker-{k}", daemon=True)
        for k in range(state["alive"])
    ]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(timeout=0.2)
    except BaseException:
        stop.set()
        for thread in threads:
            while thread.is_alive():
                thread.join(timeout=0.2)
        raise
    finally:
        executor.shutdown()
    if errors:
        raise errors[0]
    return [results[line.index] for line in lines if line.index in results]


def write_summary(path: Path, results: Sequence[JobResult], info: dict[str, Any]) -> None:
    """Write summary.json: `info`, counts per status, successes, and one row per task."""
    counts: dict[str, int] = {}
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
    judged = [r for r in results if r.success is not None]
    summary = {
        **info,
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "counts": {
            "tasks": len(results),
            "by_status": counts,
            "judged": len(judged),
            "success": sum(bool(r.success) for r in judged),
            "ok": sum(r.ok for r in results),
        },
        "tasks": [result.to_json() for result in results],
    }
    path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
