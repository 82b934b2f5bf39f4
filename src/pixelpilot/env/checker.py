"""check_env: the conformance checks every Environment adapter must pass.

Run it on a freshly built adapter; it resets, observes, probes unsupported and out-of-bounds
actions (which must raise the typed errors without touching the screen), executes a harmless
`wait`, and closes twice. Failures are collected and raised together.
"""

from __future__ import annotations

from PIL import Image

from pixelpilot.actions import (
    ACTION_TYPES,
    Action,
    Answer,
    Button,
    Click,
    Drag,
    Key,
    LongPress,
    Move,
    Observation,
    OpenApp,
    Scroll,
    Size,
    Swipe,
    Terminate,
    Type,
    Wait,
)
from pixelpilot.env.base import Environment, Execution
from pixelpilot.errors import OutOfBoundsError, PixelpilotError, UnsupportedActionError


class EnvCheckError(PixelpilotError):
    """One or more conformance checks failed; `failures` lists them."""

    def __init__(self, failures: list[str]) -> None:
        super().__init__("environment check failed:\n- " + "\n- ".join(failures))
        self.failures = failures


def sample_action(kind: str, x: int, y: int) -> Action:
    """A representative action of type `kind` whose points are all (x, y)."""
    samples: dict[str, Action] = {
        "click": Click(x=x, y=y),
        "move": Move(x=x, y=y),
        "drag": Drag(x=x, y=y, to_x=x, to_y=y),
        "scroll": Scroll(x=x, y=y, direction="down", amount=100),
        "swipe": Swipe(x=x, y=y, to_x=x, to_y=y),
        "long_press": LongPress(x=x, y=y),
        "type": Type(text="a"),
        "key": Key(keys=("esc",)),
        "button": Button(name="back"),
        "open_app": OpenApp(name="pixelpilot-check"),
        "wait": Wait(seconds=0),
        "answer": Answer(text=""),
        "terminate": Terminate(status="success"),
    }
    return samples[kind]


POINT_ACTIONS = ("click", "move", "drag", "scroll", "swipe", "long_press")


def _check_observation(obs: object, where: str, failures: list[str]) -> Size | None:
    if not isinstance(obs, Observation):
        failures.append(f"{where} returned {type(obs).__name__}, not an Observation")
        return None
    if not isinstance(obs.screenshot, Image.Image):
        failures.append(f"{where}: screenshot is not a PIL image")
        return None
    if obs.screenshot.mode != "RGB":
        failures.append(f"{where}: screenshot mode is {obs.screenshot.mode}, expected RGB")
    if obs.size.width <= 0 or obs.size.height <= 0:
        failures.append(f"{where}: empty screenshot {obs.size}")
    if obs.platform not in ("desktop", "browser", "android"):
        failures.append(f"{where}: unknown platform {obs.platform!r}")
    if not obs.scale > 0:
        failures.append(f"{where}: scale must be positive, got {obs.scale}")
    return obs.size


def check_env(env: Environment) -> list[str]:
    """Run the conformance checks on `env` and close it.

    Returns:
        The names of the checks that passed.

    Raises:
        EnvCheckError: listing every check that failed.
    """
    failures: list[str] = []
    passed: list[str] = []
    supported = set(env.supported_actions)
    unknown = supported - set(ACTION_TYPES)
    if unknown:
        failures.append(f"supported_actions has unknown types: {sorted(unknown)}")
    if supported & {"answer", "terminate"}:
        failures.append("answer/terminate end the episode in the loop; they must not be executed")
    if not supported:
        failures.append("supported_actions is empty")
    if not failures:
        passed.append("supported_actions")

    size = _check_observation(env.reset(), "reset()", failures)
    size2 = _check_observation(env.observe(), "observe()", failures)
    if size is not None and size2 is not None:
        if size != size2:
            failures.append(f"reset() and observe() sizes differ: {size} vs {size2}")
        else:
            passed.append("observations")

    for kind in sorted(set(ACTION_TYPES) - supported - {"answer", "terminate"}):
        try:
            env.execute(sample_action(kind, 0, 0))
            failures.append(f"unsupported action {kind!r} did not raise UnsupportedActionError")
        except UnsupportedActionError:
            passed.append(f"refuses {kind}")

    if size is not None:
        outside = [(size.width, 0), (0, size.height), (-1, 0), (0, -1)]
        for kind in POINT_ACTIONS:
            if kind not in supported:
                continue
            for x, y in outside:
                try:
                    env.execute(sample_action(kind, x, y))
                    failures.append(f"{kind} at ({x}, {y}) outside {size} did not raise")
                except OutOfBoundsError:
                    pass
            passed.append(f"bounds {kind}")

    if "wait" in supported:
        result = env.execute(Wait(seconds=0))
        if not isinstance(result, Execution):
            failures.append(f"execute() returned {type(result).__name__}, not an Execution")
        else:
            passed.append("execute wait")

    try:
        env.close()
        env.close()
        passed.append("close twice")
    except Exception as exc:  # the check reports any failure, whatever its type
        failures.append(f"close() twice raised {type(exc).__name__}: {exc}")
    if failures:
        raise EnvCheckError(failures)
    return passed
