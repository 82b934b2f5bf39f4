"""The output folder of `run --tasks`: its task record, and what `--resume` keeps and reruns.

A batch writes `OUT/tasks.json` before its first task starts: the environment, the model spec,
the settings that shape every run (the command's environment and model options, budgets,
safety settings, secrets' names and bindings but never their values, the config file's
digest: whatever the command passes as `settings`) and the task lines, all redacted like every
record, so a later `--resume` can tell whether it continues the same batch: a resume with any
other setting is refused, naming each difference. Resuming after an interruption (Ctrl-C,
a killed process, a crash):

- a task whose run directory finished (its `result.json` read back) is kept as it is: the
  summary reports it from its result.json;
- a task whose run directory is unfinished (no result.json, or one that cannot be read: cut
  short by outside damage) runs again, after its directory is moved aside to
  `NAME.interrupted-K` (the first free K): no record is ever deleted; an unreadable result.json
  is named in a warning;
- a task without a run directory runs.

A folder whose batch never started a task (the policy failed to load, say) holds nothing to
keep or mix: a new run or a resume there simply starts the batch afresh. A new batch never
writes into a folder that holds something else (a run directory, say).

Why the parsed task lines and not the file's bytes: a comment or a blank line added to the file
does not change the batch, while a changed task, option or budget does, and would give a
summary mixing two task lists.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pixelpilot.actions import Outcome, Task
from pixelpilot.agent import Trajectory
from pixelpilot.agent.folder_lock import LOCK_NAME, check_free
from pixelpilot.agent.trajectory import RESULT
from pixelpilot.errors import ConfigError
from pixelpilot.evals.parallel.jobs import JobResult, TaskLine
from pixelpilot.evals.records import differences, plain

RECORD = "tasks.json"
SUMMARY = "summary.json"
FORMAT = 2  # 2: `settings` recorded
COMPARED = ("env", "model")  # the setup a resumed batch must share, besides settings and tasks

Redact = Callable[[Any], Any]


@dataclass(frozen=True)
class BatchPlan:
    """What a run into an output folder does.

    Attributes:
        todo: the tasks to run, in task order.
        kept: the finished tasks' results, read back from their result.json (empty unless
            resuming).
        set_aside: (run directory, where it was moved) for each unfinished run directory.
        record: the folder's tasks.json as now written (`started_at`, `resumes`, ...).
        warnings: one line each (a result.json that could not be read back).
    """

    todo: list[TaskLine]
    kept: list[JobResult]
    set_aside: list[tuple[Path, Path]]
    record: dict[str, Any]
    warnings: list[str] = dataclasses.field(default_factory=list)


class UnreadableResult(ValueError):
    """A run directory's result.json cannot be read back (the message names the file)."""


def plan_batch(
    out: Path,
    lines: Sequence[TaskLine],
    setup: dict[str, Any],
    *,
    resume: bool,
    redact: Redact = lambda data: data,
) -> BatchPlan:
    """Prepare `out` for a batch of `lines`: a new batch (records tasks.json), or with `resume`
    the continuation of the batch already there (moves unfinished run directories aside).

    Args:
        out: the output folder (created for a new batch).
        lines: the task file's tasks.
        setup: `tasks_file`, `env` and `model` (the spec) of this command, and its `settings`:
            a JSON-able dict of what shapes every run, keyed by what a user calls each (a flag);
            a dict value is compared key by key.
        resume: continue the batch in `out` instead of starting one.
        redact: applied to the settings and task lines before they are recorded or compared.

    Raises:
        ConfigError: without `resume`, `out` already holds a batch, or is not empty and holds
            no batch; with it, `out` does not exist, holds no batch, or was started with other
            tasks, environment, model or settings; or tasks.json cannot be read or written.
    """
    tasks = redact([plain(dataclasses.asdict(line)) for line in lines])
    setup = {**setup, "settings": redact(plain(setup.get("settings", {})))}
    record = _read_record(out)
    started = record is not None and _started(out, record)
    if not resume:
        if started or (out / SUMMARY).exists():
            raise ConfigError(
                f"{out} already holds a batch: give --resume to continue it, or another --out"
            )
        if record is None and out.is_dir() and any(p.name != LOCK_NAME for p in out.iterdir()):
            raise ConfigError(
                f"{out} is not empty and holds no batch (no {RECORD}): a batch writes a run "
                "directory per task there; give an empty or new --out"
            )
        return _start(out, list(lines), setup, tasks)
    if not out.is_dir():
        why = "is a file, not a folder" if out.exists() else "does not exist"
        raise ConfigError(f"--resume: {out} {why}: there is no batch to continue")
    if record is None:
        raise ConfigError(
            f"--resume: {out} holds no batch to continue (no {RECORD}: not the --out of "
            "`run --tasks`, or started before --resume existed)"
        )
    if not started:
        return _start(out, list(lines), setup, tasks)
    _check_same(out, record, setup, tasks)
    kept: list[JobResult] = []
    todo: list[TaskLine] = []
    warnings: list[str] = []
    for line in lines:  # every finished run read back before anything is moved
        if (out / line.name / RESULT).exists():
            try:
                kept.append(read_result(line, out / line.name))
                continue
            except UnreadableResult as exc:
                warnings.append(f"{exc}: the run counts as unfinished and runs again")
        todo.append(line)
    unfinished = [out / line.name for line in todo]
    moved = [(d, _set_aside(d)) for d in unfinished if d.exists() or d.is_symlink()]
    record.setdefault("resumes", []).append(
        {
            "at": _now(),
            "tasks_file": setup["tasks_file"],
            "kept": len(kept),
            "rerun": [line.name for line in todo],
            "set_aside": [[old.name, new.name] for old, new in moved],
        }
    )
    _write_record(out, record)
    return BatchPlan(todo, kept, moved, record, warnings)


def read_result(line: TaskLine, run_dir: Path) -> JobResult:
    """The `JobResult` of a finished run directory, as the run that wrote it reported it
    (`seconds`: the episode's own time from result.json). Only result.json is read: it is
    written last, in one piece, when the run ends.

    Raises:
        UnreadableResult: result.json cannot be read, is not JSON (cut short by outside
            damage) or is not a run's result.
    """
    path = run_dir / RESULT
    try:
        result = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UnreadableResult(f"{path} cannot be read ({exc.strerror})") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise UnreadableResult(f"{path} is not valid JSON ({exc})") from None
    success = result.get("success") if isinstance(result, dict) else None
    try:
        trajectory = Trajectory(  # only to ask it `ok`: whether the run counts as done
            task=Task(goal=line.task),
            status=result["status"],
            steps=[],
            claim=result.get("claim"),
            answer=result.get("answer"),
            outcome=None if success is None else Outcome(success=bool(success)),
            unjudged=result.get("unjudged_reason"),
        )
        if not isinstance(trajectory.status, str):
            raise TypeError("status is not a string")
        return JobResult(line, trajectory.status, int(result.get("steps", 0)), success,
                         float(result.get("seconds", 0.0)), str(run_dir),
                         str(result.get("reason", "")), trajectory.ok)  # fmt: skip
    except (AttributeError, KeyError, TypeError, ValueError):
        raise UnreadableResult(f"{path} does not hold a run's result") from None


def _start(out: Path, lines: list[TaskLine], setup: dict[str, Any], tasks: list[Any]) -> BatchPlan:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create {out}: {exc.strerror}") from None
    record = {"format": FORMAT, **setup, "started_at": _now(), "tasks": tasks, "resumes": []}
    _write_record(out, record)
    return BatchPlan(lines, [], [], record)


def _read_record(out: Path) -> dict[str, Any] | None:
    """The folder's tasks.json, or None when it has none."""
    path = out / RECORD
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path} cannot be read ({exc}): give another --out") from None
    if not isinstance(record, dict) or not isinstance(record.get("tasks"), list):
        raise ConfigError(f"{path} is not a batch record: give another --out")
    return record


def _started(out: Path, record: dict[str, Any]) -> bool:
    """Whether any task of the recorded batch has a run directory (or a set-aside one)."""
    names = [str(task.get("name")) for task in record["tasks"] if isinstance(task, dict)]
    return bool(record.get("resumes")) or any(
        (out / name).exists() or (out / name).is_symlink() for name in names
    )


def _check_same(out: Path, record: dict[str, Any], setup: dict[str, Any], tasks: list[Any]) -> None:
    for key in COMPARED:
        if record.get(key) != setup[key]:
            raise ConfigError(
                f"--resume: {out} was started with --{key} {record.get(key)}, not {setup[key]}: "
                f"give --{key} {record.get(key)}, or another --out"
            )
    if not isinstance(record.get("settings"), dict):
        raise ConfigError(
            f"--resume: {out / RECORD} does not record the batch's settings (written by an older "
            "pixelpilot): a resume cannot check that the rest would run alike; give another --out"
        )
    changes = differences(record["settings"], setup["settings"])
    if changes:
        raise ConfigError(
            f"--resume: {out} was started with other settings ({'; '.join(changes)}): the rest "
            "would run otherwise than the finished tasks; give the same settings (see "
            f"{out / RECORD}), or another --out"
        )
    recorded: list[Any] = record["tasks"]
    if recorded == tasks:
        return
    if len(recorded) != len(tasks):
        change = f"{len(tasks)} tasks now, {len(recorded)} when the batch started"
    else:
        first = next(i for i, (a, b) in enumerate(zip(recorded, tasks, strict=True)) if a != b)
        change = f"task {first + 1} ({tasks[first].get('name')}) changed"
    raise ConfigError(
        f"--resume: {setup['tasks_file']} is not the task list {out} was started with "
        f"({change}; see {out / RECORD}): resuming would mix two batches; give another --out"
    )


def _set_aside(run_dir: Path) -> Path:
    check_free(run_dir, doing="--resume: move aside")  # a run another process is writing
    k = 1
    while True:
        target = run_dir.with_name(f"{run_dir.name}.interrupted-{k}")
        if not (target.exists() or target.is_symlink()):
            break
        k += 1
    try:
        run_dir.rename(target)
    except OSError as exc:
        raise ConfigError(f"--resume: cannot move {run_dir} aside: {exc.strerror}") from None
    return target


def _write_record(out: Path, record: dict[str, Any]) -> None:
    path = out / RECORD
    tmp = path.with_name(f".{RECORD}.tmp")
    try:
        tmp.write_text(json.dumps(record, indent=2, default=str) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from None


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")
