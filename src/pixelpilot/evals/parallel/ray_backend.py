"""Ray: environment workers as Ray actors, the policy as one actor behind the batching front.

- `connect(address)`: "auto" (the cluster this machine belongs to), "local" (start one here),
  or a cluster address such as "ray://head:10001". Needs the `ray` extra.
- `start_policy(factory, ...)`: one `PolicyServer` actor builds the policy from `factory` (a
  picklable callable, e.g. `functools.partial(create_policy, spec, options)`) and serves every
  worker through a `BatchingPolicy`; GPU on request (`num_gpus`). Returns a `RemotePolicy`, a
  Policy that any process can call. For an OpenAI-compatible server (vLLM, SGLang) no actor is
  needed: give the workers the factory itself and each builds its own client.
- `RayExecutor`: one `EvalWorker` actor per worker (resources declared per benchmark: a CPU,
  plus `browser: 1` for MiniWoB++ where the cluster's nodes advertise that resource). Workers
  get samples from the driver, run `benchmark.predict` and send records back; screenshots
  travel as PNG bytes and each episode's run directory as a zip archive, which the driver
  writes where a local run would have. A worker that dies raises `WorkerLost`: the pool retries
  its chunk once on another worker, then lists it (see `pool`).
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from pixelpilot.actions import Observation
from pixelpilot.agent.batching import BatchingPolicy, check_shareable
from pixelpilot.errors import ConfigError, MissingExtraError, PolicyError
from pixelpilot.evals.base import Benchmark, Problems, Record
from pixelpilot.evals.offline import OfflineBenchmark
from pixelpilot.evals.parallel.pool import WorkerLost
from pixelpilot.evals.parallel.wire import pack_folder, pack_items, unpack_folder, unpack_items
from pixelpilot.model import History, Policy, Prediction

INSTALL = "pip install 'pixelpilot[ray]'"
PLACE_SECONDS = 120.0  # how long a worker may wait for a node with its resources
# Custom resources a benchmark's or an environment's workers ask for, when some node
# advertises them (`ray start --resources '{"browser": 8}'`).
RESOURCES: dict[str, dict[str, float]] = {
    "miniwob": {"browser": 1.0},
    "browser": {"browser": 1.0},
    "desktop": {"display": 1.0},
    "android": {"android": 1.0},
}


def import_ray() -> ModuleType:
    """The `ray` module.

    Raises:
        MissingExtraError: Ray is not installed (the message is the pip command).
    """
    try:
        import ray
    except ImportError:
        raise MissingExtraError(f"--ray needs Ray: {INSTALL}") from None
    return ray


def connect(address: str) -> bool:
    """Join (or start, for "local") a Ray cluster; True when this call initialised Ray (the
    caller then calls `ray.shutdown()` at the end).

    Raises:
        ConfigError: no cluster answers at `address` (one line that says what to do).
    """
    ray = import_ray()
    if ray.is_initialized():
        return False
    try:
        if address == "local":
            ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False)
        else:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(
            f"--ray {address}: no Ray cluster answers ({first}); start one with "
            "`ray start --head` or give --ray local"
        ) from None
    return True


def get(ref: Any, *, timeout: float | None = None) -> Any:
    """`ray.get`, re-raising what a remote method raised as itself (a PolicyError stays a
    PolicyError with its one-line message, not a Ray traceback).

    Raises:
        PolicyError: the policy actor died.
        RayActorError: the actor the call went to died (callers turn it into WorkerLost).
    """
    ray = import_ray()
    try:
        return ray.get(ref, timeout=timeout)
    except ray.exceptions.RayTaskError as exc:
        cause: BaseException = exc
        while isinstance(cause, ray.exceptions.RayTaskError) and isinstance(
            getattr(cause, "cause", None), BaseException
        ):
            cause = cause.cause
        if isinstance(cause, ray.exceptions.RayActorError):
            raise PolicyError(f"the policy actor died: {type(cause).__name__}") from None
        raise cause from None


def node_id() -> str | None:
    """The Ray node this process runs on (None when Ray is not initialised here)."""
    ray = import_ray()
    return str(ray.get_runtime_context().get_node_id()) if ray.is_initialized() else None


def enter(cwd: str) -> None:
    """Run in the driver's working directory when this node has it (relative paths in specs,
    options and samples then mean what they meant on the driver)."""
    if Path(cwd).is_dir():
        os.chdir(cwd)


class PolicyServer:
    """The actor that holds the one policy (see the module docstring). `start` builds it (not
    `__init__`: an error there would reach the driver as an opaque ActorDiedError)."""

    def __init__(
        self, factory: Callable[[], Policy], batch_size: int, max_wait: float | None, cwd: str
    ) -> None:
        self.factory, self.batch_size, self.max_wait, self.cwd = factory, batch_size, max_wait, cwd

    def start(self) -> dict[str, Any]:
        enter(self.cwd)
        self.policy = self.factory()
        self.front = BatchingPolicy(self.policy, batch_size=self.batch_size, max_wait=self.max_wait)
        return {
            "node": node_id(),
            "shareable": getattr(self.policy, "shareable", True),
            "spec": self.policy.spec,
            "image_history": self.policy.image_history,
            "describe": self.policy.describe(),
        }

    def predict_batch(self, items: list[Any]) -> list[Prediction]:
        return self.front.predict_batch(unpack_items(items))

    def attach(self) -> None:
        """A worker joined: the front stops waiting once every attached worker has asked."""
        self.front.attach()

    def detach(self) -> None:
        self.front.detach()

    def close(self) -> None:
        self.front.close()
        self.policy.close()


class RemotePolicy:
    """A Policy whose calls go to a `PolicyServer` actor (picklable: workers hold copies)."""

    def __init__(self, handle: Any, info: dict[str, Any]) -> None:
        self.handle = handle
        self.spec: str = info["spec"]
        self.image_history: int = info["image_history"]
        self.shareable: bool = info.get("shareable", True)
        self._describe: dict[str, object] = info["describe"]
        self.node: str | None = info.get("node")

    def predict(self, observation: Observation, history: History) -> Prediction:
        return self.predict_batch([(observation, history)])[0]

    def predict_batch(self, items: Sequence[tuple[Observation, History]]) -> list[Prediction]:
        if self.handle is None:
            raise PolicyError(f"{self.spec}: the policy actor is closed")
        # Screenshots cross machines as PNG; on the policy's own node the raw pixels are cheaper.
        packed = pack_items(items, compress=self.node is None or self.node != node_id())
        predictions: list[Prediction] = get(self.handle.predict_batch.remote(packed))
        return predictions

    def describe(self) -> dict[str, object]:
        return dict(self._describe)

    def attach(self) -> None:
        """Count one more worker on the server's front (see `BatchingPolicy.attach`)."""
        if self.handle is not None:
            import_ray().get(self.handle.attach.remote())

    def detach(self) -> None:
        if self.handle is not None:
            import_ray().get(self.handle.detach.remote())

    def close(self) -> None:
        """Stop the server actor (the policy in it is closed). Safe to call twice."""
        ray = import_ray()
        handle, self.handle = self.handle, None
        if handle is None:
            return
        try:
            ray.get(handle.close.remote(), timeout=30)
        finally:
            ray.kill(handle)


def start_policy(
    factory: Callable[[], Policy],
    *,
    batch_size: int,
    workers: int,
    num_gpus: float = 0.0,
    max_wait: float | None = None,
) -> RemotePolicy:
    """Start the policy actor and wait until it has built the policy.

    Args:
        factory: builds the policy inside the actor.
        batch_size: the most items per `predict_batch` call of the policy.
        workers: how many workers will call it (its concurrency is sized from this).
        num_gpus: GPUs for the actor (1 for a local Qwen2.5-VL on a GPU node).
        max_wait: seconds the front waits for more requests after the first (None: adapt to
            the policy's speed, see `BatchingPolicy`).
    """
    ray = import_ray()
    actor = ray.remote(PolicyServer).options(
        num_cpus=1, num_gpus=num_gpus, max_concurrency=max(4, 2 * workers * batch_size)
    )
    handle = actor.remote(factory, batch_size, max_wait, os.getcwd())
    try:
        return RemotePolicy(handle, get(handle.start.remote()))
    except BaseException:
        ray.kill(handle)
        raise


def policy_for_ray(
    spec: str,
    options: dict[str, Any],
    *,
    batch_size: int,
    workers: int,
    num_gpus: float | None = None,
) -> tuple[Policy, RemotePolicy | Callable[[], Policy]]:
    """The policy for a Ray run: (what the driver calls and closes, what workers get).

    An `openai:` spec: the driver builds its own client (for provenance) and each worker builds
    one from the factory, so requests go straight to the server (vLLM, SGLang: they batch and
    scale themselves). Any other spec: one `PolicyServer` actor, on a GPU when `num_gpus` says
    so (default: 1 for qwen25vl when the cluster has a GPU, else 0).
    """
    from pixelpilot.model import create_policy

    factory = functools.partial(create_policy, spec, options)
    if spec.startswith("openai:"):
        return factory(), factory  # each worker its own client: nothing shared
    if num_gpus is None:
        has_gpu = import_ray().cluster_resources().get("GPU", 0) >= 1
        num_gpus = 1.0 if has_gpu and spec.startswith("qwen25vl:") else 0.0
    remote = start_policy(factory, batch_size=batch_size, workers=workers, num_gpus=num_gpus)
    try:
        check_shareable(remote, workers)
    except ConfigError:
        remote.close()
        raise
    return remote, remote


class EvalWorker:
    """One worker actor: its own benchmark copy (its own browser) and the policy it is given.

    A benchmark that keeps run directories writes them to a private temporary folder here;
    `predict` returns each as a zip archive for the driver to unpack.
    """

    def __init__(self, bench_cls: Any, options: Any, policy: Any, cwd: str) -> None:
        self.args = (bench_cls, options, policy, cwd)
        self.tmp = Path(tempfile.mkdtemp(prefix="pixelpilot-worker-"))

    def start(self) -> int:
        """Build the benchmark copy and the policy; the process id."""
        bench_cls, options, policy, cwd = self.args
        enter(cwd)
        if getattr(options, "trajectories", None):
            options = options.model_copy(update={"trajectories": str(self.tmp)})
        self.bench: Benchmark[Any] = bench_cls(options)
        self.policy: Policy = policy if isinstance(policy, RemotePolicy) else policy()
        return os.getpid()

    def predict(self, chunk: list[Any]) -> tuple[list[Record], list[Any], dict[str, bytes]]:
        problems = Problems()
        records = self.bench.predict(self.policy, chunk, problems)
        folders: dict[str, bytes] = {}
        for record in records:
            path = record.get("trajectory")
            if isinstance(path, str) and Path(path).is_relative_to(self.tmp):
                relative = Path(path).relative_to(self.tmp).as_posix()
                folders[relative] = pack_folder(Path(path))
                shutil.rmtree(path, ignore_errors=True)
                record["trajectory"] = relative
        return records, problems.items, folders

    def close(self) -> None:
        try:
            if hasattr(self, "bench"):
                self.bench.close()
            if hasattr(self, "policy") and not isinstance(self.policy, RemotePolicy):
                self.policy.close()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)


class RayExecutor:
    """The pool's workers as `EvalWorker` actors (see `pool.Executor`).

    Args:
        benchmark: the driver's benchmark (its class and options are sent to each worker).
        policy: a `RemotePolicy`, or a picklable factory each worker calls (OpenAI clients).
        workers: how many actors.
        num_cpus: CPUs each worker declares.

    Raises:
        MissingExtraError: Ray is not installed.
    """

    def __init__(
        self,
        benchmark: Benchmark[Any],
        policy: RemotePolicy | Callable[[], Policy],
        *,
        workers: int,
        num_cpus: float = 1.0,
    ) -> None:
        if workers < 1:
            raise ConfigError(f"--workers must be at least 1, got {workers}")
        self.ray = import_ray()
        self.benchmark = benchmark
        self.policy = policy
        self.workers = workers
        self.online = not isinstance(benchmark, OfflineBenchmark)
        self.num_cpus = num_cpus
        self.actors: list[Any] = []
        self.pids: list[int] = []  # each worker's process id, once placed
        self.placed: list[float] = []  # time.perf_counter() when each worker was ready
        root = getattr(benchmark.options, "trajectories", None)
        self.trajectories = Path(root) if root else None

    def resources(self) -> dict[str, float]:
        """The custom resources a worker asks for: those its benchmark declares that some node
        of the cluster advertises."""
        have = self.ray.cluster_resources()
        wanted = RESOURCES.get(self.benchmark.name, {})
        return {name: amount for name, amount in wanted.items() if have.get(name, 0) >= amount}

    def open(self, k: int) -> Any:
        actor = self.ray.remote(EvalWorker).options(
            num_cpus=self.num_cpus, resources=self.resources(), max_restarts=0
        )
        handle = actor.remote(
            type(self.benchmark), self.benchmark.options, self.policy, os.getcwd()
        )
        self.actors.append(handle)
        if isinstance(self.policy, RemotePolicy):
            self.policy.attach()
        try:
            self.pids.append(get(handle.start.remote(), timeout=PLACE_SECONDS))
            self.placed.append(time.perf_counter())
        except self.ray.exceptions.GetTimeoutError:
            raise ConfigError(
                f"Ray could not place worker {k} within {PLACE_SECONDS:g} s (it asks for "
                f"{self.num_cpus:g} CPU and {self.resources() or 'no other resource'})"
            ) from None
        return handle

    def predict(self, handle: Any, chunk: list[Any], problems: Problems) -> list[Record]:
        try:
            records, found, folders = get(handle.predict.remote(chunk))
        except self.ray.exceptions.RayActorError as exc:
            raise WorkerLost(f"worker died: {type(exc).__name__}") from None
        for problem in found:
            problems.add(problem.kind, problem.where, problem.detail)
        for record in records:
            relative = record.get("trajectory")
            if isinstance(relative, str) and relative in folders and self.trajectories:
                unpack_folder(folders[relative], self.trajectories / relative)
                record["trajectory"] = str(self.trajectories / relative)
        return list(records)

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
        """Nothing shared to release: the policy actor belongs to whoever started it."""
        return None
