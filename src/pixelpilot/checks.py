"""Named conformance checks, shared by `check_env` and `check_policy`.

A check passes only when none of its assertions failed, so a failure is never listed as passed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pixelpilot.errors import PixelpilotError


@dataclass(frozen=True)
class CheckResult:
    """One named check: `passed` is True only when every assertion of the check held.

    Attributes:
        name: e.g. "bounds click", "predict_batch".
        passed: whether it held.
        detail: what went wrong ("" when it passed).
    """

    name: str
    passed: bool
    detail: str = ""


class CheckError(PixelpilotError):
    """One or more checks failed; `results` holds every check, `failures` the failed ones."""

    def __init__(self, what: str, results: list[CheckResult]) -> None:
        self.results = results
        self.failures = [f"{r.name}: {r.detail}" for r in results if not r.passed]
        super().__init__(f"{what} check failed:\n- " + "\n- ".join(self.failures))


class Checks:
    """Collects named checks; `run(name, fn)` records fn's problems (an empty list = passed)."""

    def __init__(self) -> None:
        self.results: list[CheckResult] = []

    def record(self, name: str, problems: list[str]) -> None:
        self.results.append(CheckResult(name, not problems, "; ".join(problems)))

    def run(self, name: str, fn: Callable[[], list[str]]) -> None:
        """Run `fn` and record its problems; an exception it raises is the check's failure."""
        try:
            problems = fn()
        except Exception as exc:  # a check reports any failure, whatever its type
            problems = [f"raised {type(exc).__name__}: {exc}"]
        self.record(name, problems)

    def all_passed(self) -> bool:
        return all(result.passed for result in self.results)
