"""check_policy: the shared contract every Policy must meet, as named checks.

The checks: `describe` (provenance is a dict), `predict blank` and `predict busy` (a Prediction
for a blank desktop screen and for a busy phone screen with text, each either an action or an
error text, never an exception other than PolicyError for a backend failure), `history` (a
Prediction with earlier steps, one of them a model mistake, in the history), `in bounds` (every
action and extra action lies inside the screenshot it was decided on), `predict_batch` (one
Prediction per item, in order: each inside its own screenshot, and equal to one-at-a-time
prediction when the policy is declared deterministic) and `close twice`.

Screens are drawn here (no display, no download); a policy with a model must be built before.
"""

from __future__ import annotations

from PIL import Image, ImageDraw

from pixelpilot.actions import Action, Click, Observation, Platform, Size, check_bounds
from pixelpilot.checks import CheckError, CheckResult, Checks
from pixelpilot.errors import OutOfBoundsError
from pixelpilot.model.base import History, HistoryEntry, Policy, Prediction

GOAL = "Open the Settings app and turn on Wi-Fi"
DESKTOP = Size(1280, 800)
PHONE = Size(1080, 2400)


class PolicyCheckError(CheckError):
    """check_policy found failures; `.results` holds every check."""

    def __init__(self, results: list[CheckResult]) -> None:
        super().__init__("policy", results)


def blank_screen(size: Size = DESKTOP, platform: Platform = "desktop") -> Observation:
    """A plain white screenshot."""
    return Observation(screenshot=Image.new("RGB", size, (255, 255, 255)), platform=platform)


def busy_screen(size: Size = PHONE, platform: Platform = "android") -> Observation:
    """A screenshot full of coloured tiles and labelled rows, like a launcher or a list."""
    image = Image.new("RGB", size, (30, 30, 40))
    draw = ImageDraw.Draw(image)
    labels = ["Settings", "Wi-Fi", "Bluetooth", "Camera", "Messages", "Clock", "Files", "Maps"]
    tile = max(8, size.width // 4)
    for index in range(40):
        x = (index % 4) * tile
        y = (index // 4) * tile
        if y + tile > size.height:
            break
        colour = ((index * 53) % 256, (index * 97) % 256, (index * 151) % 256)
        draw.rectangle((x + 4, y + 4, x + tile - 5, y + tile - 5), fill=colour)
        draw.text((x + 12, y + tile // 2), labels[index % len(labels)], fill=(255, 255, 255))
    return Observation(screenshot=image, platform=platform)


def _actions(prediction: Prediction) -> list[Action]:
    return [a for a in (prediction.action, *prediction.extra_actions) if a is not None]


def _prediction_problems(prediction: object, obs: Observation) -> list[str]:
    if not isinstance(prediction, Prediction):
        return [f"returned {type(prediction).__name__}, not a Prediction"]
    problems = []
    if prediction.action is None and not prediction.error:
        problems.append("no action and no error text")
    for action in _actions(prediction):
        try:
            check_bounds(action, obs.size)
        except OutOfBoundsError as exc:
            problems.append(f"action outside the {obs.size} screenshot: {exc}")
    return problems


def check_policy(policy: Policy, *, deterministic: bool = False) -> list[CheckResult]:
    """Run the policy contract on `policy` and close it.

    Args:
        deterministic: the policy gives the same answer for the same input (greedy decoding, a
            rule-based baseline); then `predict_batch` must equal one-at-a-time prediction.

    Returns:
        Every check's result (all passed).

    Raises:
        PolicyCheckError: at least one check failed; `.results` holds every check.
    """
    checks = Checks()
    blank, busy = blank_screen(), busy_screen()
    small = blank_screen(Size(640, 480), "browser")
    goal = History(goal=GOAL)
    seen: dict[str, list[str]] = {}

    def describe() -> list[str]:
        info = policy.describe()
        return [] if isinstance(info, dict) else [f"returned {type(info).__name__}, not a dict"]

    checks.run("describe", describe)

    def predict_on(name: str, obs: Observation, history: History) -> None:
        def check() -> list[str]:
            problems = _prediction_problems(policy.predict(obs, history), obs)
            seen[name] = [p for p in problems if "outside" in p]
            return [p for p in problems if "outside" not in p]

        checks.run(name, check)

    predict_on("predict blank", blank, goal)
    predict_on("predict busy", busy, goal)
    earlier = (
        HistoryEntry(action=Click(x=10, y=10), raw_text="click", screen_size=(1080, 2400)),
        HistoryEntry(action=None, raw_text="<garbage>", error="bad_json: not a call"),
    )
    predict_on("history", busy, History(goal=GOAL, steps=earlier))
    checks.record("in bounds", [p for problems in seen.values() for p in problems])

    items = [(blank, goal), (busy, goal), (small, History(goal="Click the OK button"))]

    def batch() -> list[str]:
        predictions = policy.predict_batch(items)
        if len(predictions) != len(items):
            return [f"{len(predictions)} predictions for {len(items)} items"]
        problems = []
        for index, (prediction, (obs, _)) in enumerate(zip(predictions, items, strict=True)):
            problems += [f"item {index}: {p}" for p in _prediction_problems(prediction, obs)]
        if deterministic:
            single = [policy.predict(obs, history) for obs, history in items]
            for index, (a, b) in enumerate(zip(predictions, single, strict=True)):
                if (a.action, a.error) != (b.action, b.error):
                    problems.append(f"item {index}: batched {a.action} != alone {b.action}")
        return problems

    checks.run("predict_batch", batch)

    def close_twice() -> list[str]:
        policy.close()
        policy.close()
        return []

    checks.run("close twice", close_twice)
    if not checks.all_passed():
        raise PolicyCheckError(checks.results)
    return checks.results
