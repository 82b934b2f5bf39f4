"""How a run ended, read from result.json: the environment's judgement and the policy's claim.

The two are kept apart everywhere: `judged` is what the environment decided ("solved",
"not solved" or "not judged"), `claim` what the policy said when it terminated ("success",
"failure" or None). result.json holds both as `judged` and `claim`; records written before those
keys existed are read through their `success` and `status` keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

JUDGED_WORDS = {True: "solved", False: "not solved", None: "not judged"}
CLAIMS = ("success", "failure")


@dataclass(frozen=True)
class RunOutcome:
    """A run's ending.

    Attributes:
        status: result.json's status, or "unfinished" when there is no result.json.
        reason: the human-readable detail of the status.
        judged: "solved", "not solved" or "not judged".
        claim: "success", "failure", or None when the policy made no claim.
        reward: the environment's reward when it gave one.
        answer: the policy's answer for question tasks.
        seconds: the run's duration, when recorded.
    """

    status: str
    reason: str
    judged: str
    claim: str | None
    reward: float | None = None
    answer: str | None = None
    seconds: float | None = None


def read_outcome(result: dict[str, Any] | None) -> RunOutcome:
    """The outcome in `result` (result.json's object; None for a run that never finished)."""
    if result is None:
        return RunOutcome(
            "unfinished", "the run stopped before writing result.json", "not judged", None
        )
    status = str(result.get("status", "unknown"))
    if "judged" in result:
        judged = str(result["judged"] or "not judged")
    else:
        success = result.get("success")
        judged = JUDGED_WORDS.get(success if isinstance(success, bool) else None, "not judged")
    if "claim" in result:
        claim = result["claim"] if result["claim"] in CLAIMS else None
    else:
        claim = status if status in CLAIMS else None
    reward = result.get("reward")
    seconds = result.get("seconds")
    return RunOutcome(
        status=status,
        reason=str(result.get("reason") or ""),
        judged=judged,
        claim=claim,
        reward=float(reward) if isinstance(reward, int | float) else None,
        answer=result.get("answer"),
        seconds=float(seconds) if isinstance(seconds, int | float) else None,
    )


def judged_tone(judged: str) -> str:
    """The CSS tone of a judgement: good, bad or none."""
    return {"solved": "good", "not solved": "bad"}.get(judged, "none")
