"""The wall-clock budget of an episode as a hard limit on every blocking call.

The loop does not only check the budget between steps: each call that can block (the policy's
prediction, the environment's reset, observe, execute and evaluate) runs under
`Deadline.guard`, which arms a real-time timer (SIGALRM) for the seconds left. When it fires, the
call is interrupted with `BudgetExceeded` wherever it is waiting (a socket read, a sleep, a lock,
a Python loop), so a hung policy, a silent model server or a stuck environment ends the run with
status `timeout` at the budget, not when the call returns. Recorder writes are never guarded,
so the record cannot be torn by the timer.

The timer needs the main thread of the main interpreter (where `pixelpilot run` calls the loop).
Elsewhere (a worker thread) `guard` still refuses to start a call once the budget is spent, and
the budget is checked between calls; adapters bound their own calls (browser watchdogs, HTTP
timeouts).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class BudgetExceeded(BaseException):
    """The episode's wall-clock budget ran out during `what` (a BaseException, so that library
    code catching Exception cannot swallow it)."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def _can_alarm() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


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

    @contextmanager
    def guard(self, what: str, *, grace: float = 0.0) -> Iterator[None]:
        """Run the body under the budget (plus `grace` seconds).

        Raises:
            BudgetExceeded: the budget was already spent, or ran out while the body ran.
        """
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
