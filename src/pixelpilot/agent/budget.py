"""The wall-clock budget of an episode as a hard limit on every blocking call.

The loop does not only check the budget between steps: each call that can block (the policy's
prediction, the environment's reset, observe, execute and evaluate) runs under
`Deadline.guard`, which ends the call with `BudgetExceeded` once the seconds left have passed,
so a hung policy, a silent model server or a stuck environment ends the run with status
`timeout` at the budget, not when the call returns. Recorder writes are never guarded, so the
record cannot be torn by the timer.

Two timers, one contract:

- In the main thread of the main interpreter (where `pixelpilot run` calls the loop) a
  real-time timer (SIGALRM) interrupts the call wherever it is waiting: a socket read, a sleep,
  a lock, a Python loop.
- In any other thread (the workers of `run --tasks` and `eval --workers`) one shared watchdog
  thread raises `BudgetExceeded` in the guarded thread with `PyThreadState_SetAsyncExc`. Such an
  exception lands when that thread next runs Python bytecode: a Python loop, a sleep or wait in
  short slices, a C call that returns, all end at the budget; but a C call that blocks forever
  (`time.sleep(3600)`, a lock or socket wait without a timeout) is only cut when it returns.
  Adapters bound their own blocking calls (browser watchdogs, HTTP timeouts), and the batching
  front waits for answers in short slices, so in practice this cuts a hung worker at its budget.
  The exception is raised only inside a `guard` block: once the block has ended, a shot that
  had not landed yet is withdrawn (and the block's exit raises it instead), so no
  `BudgetExceeded` ever lands in the code after it. Where the interpreter has no
  `PyThreadState_SetAsyncExc` (not CPython), the budget is checked between calls only.

Like Ctrl-C, the exception can land at any bytecode of the guarded call, so the call's own
`finally` blocks run but its state may be half-updated; the loop treats the episode as over.
"""

from __future__ import annotations

import ctypes
import heapq
import itertools
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from types import FrameType


class BudgetExceeded(BaseException):
    """The episode's wall-clock budget ran out during `what` (a BaseException, so that library
    code catching Exception cannot swallow it)."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def _can_alarm() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


_PYTHONAPI = getattr(ctypes, "pythonapi", None)
_CAN_INTERRUPT_THREADS = hasattr(_PYTHONAPI, "PyThreadState_SetAsyncExc")


def _set_async_exc(thread_id: int, exc: type[BaseException] | None) -> int:
    """Raise `exc` in thread `thread_id` when it next runs bytecode (None withdraws a pending
    one); the number of threads affected (0 or 1). ctypes.pythonapi holds the GIL meanwhile."""
    assert _PYTHONAPI is not None
    target = ctypes.py_object(exc) if exc is not None else None
    return int(_PYTHONAPI.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), target))


def _expired(what: str) -> type[BudgetExceeded]:
    """A BudgetExceeded for `what` that takes no argument: an asynchronous exception is given
    as a class and instantiated without arguments where it lands."""

    class Expired(BudgetExceeded):
        def __init__(self) -> None:
            super().__init__(what)

    Expired.__name__ = Expired.__qualname__ = "BudgetExceeded"
    return Expired


_ARMED, _FIRED, _DONE = "armed", "fired", "done"


class _Shot:
    """One guarded call in a worker thread: armed, then fired by the watchdog or done.

    `lock` makes firing and ending exclusive: the watchdog raises only while the state is
    armed, and the guarded thread marks it done before it withdraws a shot in flight.
    """

    __slots__ = ("lock", "state", "thread_id", "what", "when")

    def __init__(self, when: float, what: str) -> None:
        self.when, self.what = when, what
        self.thread_id = threading.get_ident()
        self.state = _ARMED
        self.lock = threading.Lock()

    def fire(self) -> None:
        with self.lock:
            if self.state == _ARMED:
                self.state = _FIRED
                _set_async_exc(self.thread_id, _expired(self.what))

    def end(self) -> bool:
        """Mark the call over; True when the watchdog had fired (a shot that had not landed
        yet is withdrawn here)."""
        with self.lock:
            fired, self.state = self.state == _FIRED, _DONE
        if fired:
            _set_async_exc(self.thread_id, None)
        return fired


class _Watchdog:
    """One daemon thread that fires each armed shot at its time (monotonic clock)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, _Shot]] = []
        self._order = itertools.count()
        self._compact_at = 1024
        self._thread: threading.Thread | None = None

    def arm(self, seconds: float, what: str) -> _Shot:
        """A shot at the calling thread in `seconds` s."""
        with self._cond:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="pixelpilot-budget-watchdog", daemon=True
                )
                self._thread.start()
            if len(self._heap) >= self._compact_at:  # shots that ended early wait here till due
                self._heap = [entry for entry in self._heap if entry[2].state == _ARMED]
                heapq.heapify(self._heap)
                self._compact_at = max(1024, 2 * len(self._heap))
            shot = _Shot(time.monotonic() + seconds, what)
            heapq.heappush(self._heap, (shot.when, next(self._order), shot))
            self._cond.notify()
        return shot

    def _run(self) -> None:
        with self._cond:
            while True:
                while self._heap and self._heap[0][2].state != _ARMED:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait()
                    continue
                left = self._heap[0][0] - time.monotonic()
                if left > 0:
                    self._cond.wait(left)
                    continue
                heapq.heappop(self._heap)[2].fire()


_WATCHDOG = _Watchdog()


def _after_fork() -> None:
    # A child has no watchdog thread and may inherit its lock held: it starts a fresh one.
    global _WATCHDOG
    _WATCHDOG = _Watchdog()


os.register_at_fork(after_in_child=_after_fork)


class _Watched(AbstractContextManager[None]):
    """`Deadline.guard` in a thread other than the main one (see the module docstring)."""

    def __init__(self, end: float, what: str) -> None:
        self.end, self.what = end, what
        self.shot: _Shot | None = None

    def __enter__(self) -> None:
        left = self.end - time.monotonic()
        if left <= 0:
            raise BudgetExceeded(self.what)
        self.shot = _WATCHDOG.arm(left, self.what)  # last: the shot may land right after

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        assert self.shot is not None
        if self.shot.end() and exc_type is None:
            # The body swallowed the exception, or it had not landed yet: the budget is spent.
            raise BudgetExceeded(self.what)


class Deadline:
    """A point in time (monotonic clock) by which the episode must end.

    Args:
        seconds: the budget from now, in seconds (> 0).
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        """Seconds left (negative once the budget is spent)."""
        return self.end - time.monotonic()

    def expired(self) -> bool:
        return self.remaining() <= 0

    def guard(self, what: str, *, grace: float = 0.0) -> AbstractContextManager[None]:
        """Run the body of a `with` block under the budget (plus `grace` seconds): by SIGALRM
        in the main thread, by the watchdog in any other (see the module docstring).

        Args:
            what: the call, for the message ("the policy was predicting").
            grace: seconds the body may run past the budget.

        Raises:
            BudgetExceeded: the budget was already spent on entering the block, or ran out
                while the body ran (in a worker thread: once the body next runs bytecode).
        """
        if _can_alarm() or not _CAN_INTERRUPT_THREADS:
            return self._alarm(what, grace)
        return _Watched(self.end + grace, what)

    @contextmanager
    def _alarm(self, what: str, grace: float) -> Iterator[None]:
        left = self.remaining() + grace
        if left <= 0:
            raise BudgetExceeded(what)
        if not _can_alarm():
            yield
            return

        def expire(signum: int, frame: FrameType | None) -> None:
            raise BudgetExceeded(what)

        previous = signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, left)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
