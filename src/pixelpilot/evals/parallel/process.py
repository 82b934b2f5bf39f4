"""Worker processes: each worker of the pool in a process of its own, the policy in this one.

For benchmarks whose environment is process-global (the desktop: pyautogui and the X connection
drive one display per process), so threads cannot share a process. `ProcessExecutor` is a pool
`Executor` (see `pool`): worker k is a process started with the spawn method that builds its
own benchmark from the driver's benchmark class and options (its own display) and runs
`benchmark.predict` on each chunk it is sent, writing run directories where a sequential run
would (the same machine, the same working directory).

The policy stays here, once, behind one `BatchingPolicy`: in a worker, a `PipePolicy`
(`process_worker`) sends each request (observation and history, screenshots as PNG bytes:
`wire`) over the worker's pipe; the pool thread that owns the worker answers it through the
front, so requests of all workers are batched. Messages, as tuples: to a worker ("run",
samples), ("answer", seq, predictions), ("raise", seq, exception), ("close",); from it
("ready",), ("predict", seq, items), ("done", records, problems), ("error", exception). An
answer whose request was given up (the episode's time budget ran out meanwhile) is dropped by
its sequence number.

Every process a worker starts is stopped, whatever ends the run. A worker sets the environment
variable `PIXELPILOT_EVAL_WORKER` to a tag of its own, which every program it starts inherits
(Xvfb, the window manager, applications); whenever a worker stops (closed at the end, killed,
interrupted) the programs still carrying its tag are stopped too (SIGTERM, then SIGKILL), found
through /proc (Linux; elsewhere only the worker itself is stopped). A worker that dies raises
`WorkerLost`, so the pool runs its chunk once more on another worker (see `pool.RETRIES`).
Ctrl-C ends each worker's episode at its next policy call (see `process_worker` for why not at
once). Not stopped here: multiprocessing's resource tracker, one per interpreter (whoever uses
multiprocessing shares it), which ends with the interpreter.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import signal
import threading
import time
import uuid
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from pixelpilot.agent.batching import BatchingPolicy, check_shareable
from pixelpilot.errors import ConfigError
from pixelpilot.evals.base import Benchmark, Problems, Record
from pixelpilot.evals.offline import OfflineBenchmark
from pixelpilot.evals.parallel.pool import WorkerLost
from pixelpilot.evals.parallel.process_worker import TAG_VARIABLE, portable, serve
from pixelpilot.evals.parallel.wire import unpack_items
from pixelpilot.model import Policy

START_SECONDS = 120.0  # a worker's start (a fresh interpreter importing the benchmark), s
CLOSE_SECONDS = 30.0  # for a worker to end its episode and close (its display) before SIGTERM
SIGNAL_SECONDS = 5.0  # after SIGTERM before SIGKILL, s


# --- the programs a worker started ------------------------------------------------------------
def tagged(tag: str) -> list[int]:
    """The running processes (not zombies) whose environment carries `tag`, by process id."""
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    marker = f"{TAG_VARIABLE}={tag}".encode()
    found = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:  # gone, or another user's
            continue
        if marker in environ.split(b"\0") and _running(int(entry.name)):
            found.append(int(entry.name))
    return found


def _running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] not in (["Z"], ["X"])


def stop_tagged(tag: str, *, timeout: float = SIGNAL_SECONDS) -> list[int]:
    """Stop every process carrying `tag` (SIGTERM; SIGKILL after `timeout` s); their ids.
    Each signal goes to the processes found carrying the tag just before it (no reused id)."""
    stopped: list[int] = []
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = tagged(tag)
        if not pids:
            break
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
        stopped += [pid for pid in pids if pid not in stopped]
        deadline = time.monotonic() + timeout
        while any(_running(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.05)
    return stopped


# --- in the driver ----------------------------------------------------------------------------
class Worker:
    """The driver's handle on one worker process: its pipe, process and tag.

    `stop` asks it to close, then escalates (SIGTERM, then SIGKILL) and stops whatever it
    started; safe to call from several threads and more than once.
    """

    def __init__(self, k: int, process: Any, conn: Connection, tag: str) -> None:
        self.k, self.process, self.conn, self.tag = k, process, conn, tag
        self._send_lock = threading.Lock()
        self._stop_lock = threading.Lock()
        self.stopped = False

    def send(self, message: tuple[Any, ...]) -> None:
        """Raises WorkerLost when the worker is gone."""
        try:
            with self._send_lock:
                self.conn.send(message)
        except (OSError, ValueError):
            raise WorkerLost(f"worker {self.k} died ({self._how()})") from None

    def receive(self, timeout: float | None = None) -> tuple[Any, ...]:
        """The worker's next message (only the pool thread that owns it reads).

        Raises:
            WorkerLost: it died (the pipe closed), or sent nothing within `timeout` s.
        """
        try:
            if not self.conn.poll(timeout):
                raise WorkerLost(f"worker {self.k} sent nothing within {timeout:g} s")
            message: tuple[Any, ...] = self.conn.recv()
        except (EOFError, OSError, ValueError, pickle.UnpicklingError):
            raise WorkerLost(f"worker {self.k} died ({self._how()})") from None
        return message

    def _how(self) -> str:
        self.process.join(1.0)
        code = self.process.exitcode
        if code is None:
            return "its pipe closed"
        return f"killed by signal {-code}" if code < 0 else f"exit status {code}"

    def ask_to_stop(self) -> None:
        """Ask it to close: between chunks at once, during an episode at its next policy call
        (the episode ends as interrupted; see `process_worker`)."""
        with contextlib.suppress(WorkerLost):
            self.send(("close",))

    def stop(self, *, grace: float = CLOSE_SECONDS) -> None:
        """Wait `grace` s for it to close, escalate, then stop the programs it left."""
        with self._stop_lock:
            if self.stopped:
                return
            self.ask_to_stop()
            self.process.join(grace)
            for sig in (signal.SIGTERM, signal.SIGKILL):
                if not self.process.is_alive():
                    break
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.process.pid, sig)
                self.process.join(SIGNAL_SECONDS)
            self.process.join()
            stop_tagged(self.tag)
            self.stopped = True


class ProcessExecutor:
    """The pool's workers as processes sharing `policy` (see the module docstring); use it as a
    context manager, or call `shutdown()` once the run is over (also after an error or
    Ctrl-C): it stops every worker and what they started.

    Args:
        benchmark: the driver's benchmark; its class and options build each worker's own.
        policy: the one policy; it stays in this process.
        workers: how many processes.
        batch_size: the most requests per `predict_batch` call of the policy.
        start_seconds: how long a worker may take to start (a fresh interpreter importing
            and building the benchmark), s.

    Raises:
        ConfigError: workers < 1, or the policy keeps its place between calls (not shareable).
    """

    def __init__(
        self,
        benchmark: Benchmark[Any],
        policy: Policy,
        *,
        workers: int,
        batch_size: int,
        start_seconds: float = START_SECONDS,
    ) -> None:
        if workers < 1:
            raise ConfigError(f"--workers must be at least 1, got {workers}")
        check_shareable(policy, workers)
        self.benchmark, self.policy = benchmark, policy
        self.workers, self.start_seconds = workers, start_seconds
        self.online = not isinstance(benchmark, OfflineBenchmark)
        self.front = BatchingPolicy(policy, batch_size=batch_size)
        self.info = {
            "spec": policy.spec,
            "image_history": policy.image_history,
            "describe": policy.describe(),
        }
        self.started: list[Worker] = []  # every worker ever started, for shutdown
        self.closed = False  # shut down: no worker starts any more
        self._lock = threading.Lock()
        self._context = multiprocessing.get_context("spawn")

    def open(self, k: int) -> Worker:
        """Start worker k and wait until it has built its benchmark.

        Raises:
            WorkerLost: it exited or did not answer within `start_seconds`.
            What building the benchmark raised there (re-raised here as itself).
        """
        mine, theirs = self._context.Pipe(duplex=True)
        tag = f"{os.getpid()}-{k}-{uuid.uuid4().hex[:12]}"
        options = self.benchmark.options
        process = self._context.Process(
            target=serve,
            args=(theirs, type(self.benchmark), options, self.info, tag),
            name=f"pixelpilot-eval-worker-{k}",
            daemon=True,
        )
        with self._lock:
            if self.closed:  # a pool thread still starting while the run is being stopped
                raise WorkerLost(f"worker {k} was not started: the run is stopping")
            process.start()
            worker = Worker(k, process, mine, tag)
            self.started.append(worker)
        theirs.close()  # the worker holds the only other end: its death closes the pipe
        try:
            message = worker.receive(self.start_seconds)
            if message[0] == "error":
                raise message[1]
        except BaseException:
            worker.stop(grace=1.0)
            raise
        return worker

    def predict(self, handle: Worker, chunk: list[Any], problems: Problems) -> list[Record]:
        """Run `chunk` on the worker, answering its policy calls; the records it returned.

        Raises:
            WorkerLost: the worker died (its chunk is then retried or listed by the pool).
            What the benchmark raised in the worker, as itself.
        """
        self.front.attach()
        try:
            handle.send(("run", chunk))
            while True:
                message = handle.receive()
                if message[0] == "predict":
                    self._answer(handle, message[1], message[2])
                elif message[0] == "done":
                    for problem in message[2]:
                        problems.add(problem.kind, problem.where, problem.detail)
                    records: list[Record] = message[1]
                    return records
                else:  # "error"
                    raise message[1]
        finally:
            self.front.detach()

    def _answer(self, handle: Worker, seq: int, items: Any) -> None:
        reply: tuple[Any, ...]
        try:
            reply = ("answer", seq, self.front.predict_batch(unpack_items(items)))
        except Exception as exc:  # the worker's episode handles it as a sequential one would
            reply = ("raise", seq, portable(exc))
        handle.send(reply)

    def close(self, handle: Worker) -> None:
        """Stop the worker (it closes its benchmark) and whatever it started."""
        handle.stop()
        handle.conn.close()

    def shutdown(self) -> None:
        """Stop every worker still running (an interrupted or failed run: each ends its episode
        at its next policy call), what they started, and the batching front; no worker starts
        afterwards. Safe to call twice."""
        with self._lock:
            self.closed = True
            running = [worker for worker in self.started if not worker.stopped]
        for worker in running:
            worker.ask_to_stop()  # all at once: their closes overlap
        for worker in running:
            worker.stop()
        self.front.close()

    def __enter__(self) -> ProcessExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
