"""`run --tasks` on Ray: each worker a `TaskWorker` actor that runs tasks into a private folder
and returns each run directory as a zip archive; the driver writes it under its output folder
(see `ray_backend` for the policy actor and the resources a worker declares)."""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pixelpilot.errors import ConfigError
from pixelpilot.evals.parallel.pool import WorkerLost
from pixelpilot.evals.parallel.ray_backend import (
    PLACE_SECONDS,
    RESOURCES,
    RemotePolicy,
    enter,
    get,
    import_ray,
)
from pixelpilot.evals.parallel.wire import pack_folder, unpack_folder
from pixelpilot.model import Policy


class TaskWorker:
    """One worker actor of `run --tasks`: runs tasks into a private folder and returns each
    run directory as a zip archive."""

    def __init__(self, policy: Any, cwd: str) -> None:
        self.args = (policy, cwd)

    def start(self) -> int:
        """Build the policy (a client, or the RemotePolicy as is); the process id."""
        policy, cwd = self.args
        enter(cwd)
        self.policy: Policy = policy if isinstance(policy, RemotePolicy) else policy()
        return os.getpid()

    def run(self, run_one: Any, line: Any) -> tuple[Any, bytes | None]:
        tmp = Path(tempfile.mkdtemp(prefix="pixelpilot-task-"))
        try:
            result = run_one(line, self.policy, tmp)
            folder = tmp / line.name
            return result, pack_folder(folder) if folder.is_dir() else None
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def close(self) -> None:
        if hasattr(self, "policy") and not isinstance(self.policy, RemotePolicy):
            self.policy.close()


class RayTasks:
    """`run --tasks` workers as `TaskWorker` actors (see `jobs.TaskExecutor`); the driver
    writes each run directory under `out`.

    Args:
        policy: a `RemotePolicy`, or a picklable factory each worker calls.
        run_one: runs one task (picklable: it travels to the workers).
        out: the driver's output folder.
        workers: how many actors.
        env: the environment's name (its declared resources, where nodes advertise them).
    """

    def __init__(
        self,
        policy: RemotePolicy | Callable[[], Policy],
        run_one: Callable[..., Any],
        out: Path,
        *,
        workers: int,
        env: str,
        num_cpus: float = 1.0,
    ) -> None:
        if workers < 1:
            raise ConfigError(f"--workers must be at least 1, got {workers}")
        self.ray = import_ray()
        self.policy, self.run_one, self.out = policy, run_one, out
        self.workers, self.num_cpus = workers, num_cpus
        have = self.ray.cluster_resources()
        wanted = RESOURCES.get(env, {})
        self.resources = {k: v for k, v in wanted.items() if have.get(k, 0) >= v}
        self.actors: list[Any] = []

    def open(self, k: int) -> Any:
        actor = self.ray.remote(TaskWorker).options(
            num_cpus=self.num_cpus, resources=self.resources, max_restarts=0
        )
        handle = actor.remote(self.policy, os.getcwd())
        self.actors.append(handle)
        if isinstance(self.policy, RemotePolicy):
            self.policy.attach()
        try:
            get(handle.start.remote(), timeout=PLACE_SECONDS)
        except self.ray.exceptions.GetTimeoutError:
            raise ConfigError(
                f"Ray could not place worker {k} within {PLACE_SECONDS:g} s (it asks for "
                f"{self.num_cpus:g} CPU and {self.resources or 'no other resource'})"
            ) from None
        return handle

    def run(self, handle: Any, line: Any) -> Any:
        try:
            result, data = get(handle.run.remote(self.run_one, line))
        except self.ray.exceptions.RayActorError as exc:
            raise WorkerLost(f"worker died: {type(exc).__name__}") from None
        run_dir = self.out / line.name
        if data is not None:
            unpack_folder(data, run_dir)
        return dataclasses.replace(result, run_dir=str(run_dir))

    def close(self, handle: Any) -> None:
        try:
            self.ray.get(handle.close.remote(), timeout=60)
        except self.ray.exceptions.RayError:
            pass  # already gone
        finally:
            self.ray.kill(handle)
            if isinstance(self.policy, RemotePolicy):
                self.policy.detach()

    def shutdown(self) -> None:
        return None
