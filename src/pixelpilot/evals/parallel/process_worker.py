"""Inside a worker process of `ProcessExecutor` (see `process`): `serve` builds the benchmark,
runs each chunk the driver sends and closes; `PipePolicy` is the driver's policy as the worker
sees it.

Messages cross the pipe whole: the episode's time budget (SIGALRM) and SIGTERM are held while
one is written or read, and delivered right after, so an episode cut short by its budget never
leaves half a message in the pipe. A late answer to a request given up on is recognised by its
sequence number and dropped.

Ctrl-C (SIGINT; a terminal sends it to the driver and its workers alike) only asks the worker to
stop: the request is acted on while the worker waits on the pipe (for the policy's answer, or
for its next chunk), where it raises KeyboardInterrupt, so the episode ends as interrupted and the
benchmark is closed. Raised at any other point, KeyboardInterrupt could cut a library call
half-way (python-xlib holding its display lock), and closing the display would then hang.
SIGTERM raises SystemExit at once: it is the driver's next step when a worker does not stop.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
from collections.abc import Iterator, Sequence
from multiprocessing.connection import Connection
from types import FrameType
from typing import Any

from pixelpilot.actions import Observation
from pixelpilot.evals.base import Benchmark, Problems
from pixelpilot.evals.parallel.wire import pack_items
from pixelpilot.model import History, Prediction

TAG_VARIABLE = "PIXELPILOT_EVAL_WORKER"
"""Set in a worker to its tag: every program it starts inherits it (see `process.stop_tagged`)."""

_HELD = {signal.SIGALRM, signal.SIGTERM}
POLL_SECONDS = 0.1  # how often a waiting worker looks for a stop request
_STOP = {"requested": False}  # set by SIGINT (a plain flag: safe in a signal handler)


def portable(exc: BaseException) -> BaseException:
    """`exc` if it survives pickling, else a RuntimeError with its type and message."""
    try:
        copy: BaseException = pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return copy


class ParentGone(KeyboardInterrupt):
    """The driver closed the pipe (it stopped): the episode ends as interrupted, the worker
    closes its benchmark and exits."""


@contextlib.contextmanager
def _held() -> Iterator[None]:
    """Hold the budget's alarm and SIGTERM while a message crosses the pipe: one cut half-way
    would leave the next message unreadable. They are delivered right after."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class PipePolicy:
    """The driver's policy as a worker sees it: each call goes over the pipe and waits for the
    answer (the episode's budget can cut the wait short: the late answer is dropped).

    Args:
        conn: the worker's end of the pipe.
        info: the policy's `spec`, `image_history` and `describe()` from the driver.

    Raises (predict_batch):
        ParentGone: the driver closed the pipe or asked the worker to stop.
        KeyboardInterrupt: Ctrl-C asked the worker to stop.
        PolicyError (or what the driver's policy raised): as the driver's policy raised it.
    """

    def __init__(self, conn: Connection, info: dict[str, Any]) -> None:
        self.conn = conn
        self.spec: str = info["spec"]
        self.image_history: int = info["image_history"]
        self._describe: dict[str, object] = info["describe"]
        self.seq = 0

    def predict(self, observation: Observation, history: History) -> Prediction:
        return self.predict_batch([(observation, history)])[0]

    def predict_batch(self, items: Sequence[tuple[Observation, History]]) -> list[Prediction]:
        if _STOP["requested"]:
            raise KeyboardInterrupt
        self.seq += 1
        # one machine: raw pixels through the pipe, cheaper than a PNG encode and decode
        send(self.conn, ("predict", self.seq, pack_items(items, compress=False)))
        while True:
            message = receive(self.conn)
            if message[0] == "close":
                raise ParentGone("the run was stopped")
            if message[0] in ("answer", "raise") and message[1] == self.seq:
                if message[0] == "raise":
                    raise message[2]
                predictions: list[Prediction] = message[2]
                return predictions

    def describe(self) -> dict[str, object]:
        return dict(self._describe)

    def close(self) -> None:
        return None


def send(conn: Connection, message: tuple[Any, ...]) -> None:
    """Send `message` whole (signals held).

    Raises:
        ParentGone: the other end is closed.
    """
    try:
        with _held():
            conn.send(message)
    except (OSError, ValueError):
        raise ParentGone("the driver closed the pipe") from None


def receive(conn: Connection) -> tuple[Any, ...]:
    """The next message; the wait can be cut short by a signal, the read itself cannot.

    Raises:
        ParentGone: the other end is closed.
        KeyboardInterrupt: Ctrl-C asked the worker to stop (see the module docstring).
    """
    try:
        while not conn.poll(POLL_SECONDS):
            if _STOP["requested"]:
                raise KeyboardInterrupt
        with _held():
            message: tuple[Any, ...] = conn.recv()
    except (EOFError, OSError, ValueError):
        raise ParentGone("the driver closed the pipe") from None
    return message


def _request_stop(signum: int, frame: FrameType | None) -> None:
    _STOP["requested"] = True


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def serve(conn: Connection, bench_cls: Any, options: Any, info: dict[str, Any], tag: str) -> None:
    """A worker process's main: build the benchmark, run each chunk it is sent, close.

    Ctrl-C (SIGINT) ends the current episode as interrupted at its next policy call, and the
    worker; SIGTERM stops it at once; in both cases and at the end the benchmark is closed (its
    display stopped).
    """
    os.environ[TAG_VARIABLE] = tag
    signal.signal(signal.SIGINT, _request_stop)
    signal.signal(signal.SIGTERM, _terminate)
    bench: Benchmark[Any] | None = None
    try:
        try:
            bench = bench_cls(options)
        except Exception as exc:
            send(conn, ("error", portable(exc)))
            return
        policy = PipePolicy(conn, info)
        send(conn, ("ready",))
        while True:
            message = receive(conn)
            if message[0] == "close":
                return
            if message[0] != "run":
                continue  # a late answer to a request the budget gave up on
            problems = Problems()
            try:
                records = bench.predict(policy, message[1], problems)
            except Exception as exc:  # the driver re-raises it as itself
                send(conn, ("error", portable(exc)))
                continue
            send(conn, ("done", records, problems.items))
    except (KeyboardInterrupt, SystemExit):
        return  # ParentGone, Ctrl-C, SIGTERM: the driver knows from the closed pipe
    finally:
        # A close that hangs is still cut short by SIGTERM, the driver's next step.
        try:
            if bench is not None:
                bench.close()
        finally:
            conn.close()
