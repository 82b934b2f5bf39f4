"""check_env: the conformance checks every Environment adapter must pass.

Each check has a name and a result; a check passes only when none of its assertions failed, so a
failure is never listed as passed. The checks: `supported_actions` (known types, no
answer/terminate, not empty), `observations` (reset and observe give RGB Observations of one size
with a known platform), `refuses KIND` for every unsupported action (UnsupportedActionError),
`bounds KIND` for every supported pointer action (OutOfBoundsError just outside each edge, never
clamped), `execute wait` (an Execution), `determinism` (for environments whose
`deterministic` attribute is True: two resets give identical screenshots, and the same actions
from each give identical screens) and `close twice`.
"""

from __future__ import annotations

from PIL import Image, ImageChops

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
from pixelpilot.checks import CheckError, CheckResult, Checks
from pixelpilot.env.base import Environment, Execution
from pixelpilot.errors import OutOfBoundsError, UnsupportedActionError


class EnvCheckError(CheckError):
    """check_env found failures."""

    def __init__(self, results: list[CheckResult]) -> None:
        super().__init__("environment", results)


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


def observation_problems(obs: object, where: str) -> tuple[list[str], Size | None]:
    """What is wrong with `obs` as an Observation, and its size when it has one."""
    if not isinstance(obs, Observation):
        return [f"{where} returned {type(obs).__name__}, not an Observation"], None
    if not isinstance(obs.screenshot, Image.Image):
        return [f"{where}: screenshot is not a PIL image"], None
    problems = []
    if obs.screenshot.mode != "RGB":
        problems.append(f"{where}: screenshot mode is {obs.screenshot.mode}, expected RGB")
    if obs.size.width <= 0 or obs.size.height <= 0:
        problems.append(f"{where}: empty screenshot {obs.size}")
    if obs.platform not in ("desktop", "browser", "android"):
        problems.append(f"{where}: unknown platform {obs.platform!r}")
    if not obs.scale > 0:
        problems.append(f"{where}: scale must be positive, got {obs.scale}")
    return problems, obs.size


def _same_image(a: Image.Image, b: Image.Image) -> bool:
    return a.size == b.size and ImageChops.difference(a, b).getbbox() is None


def check_env(env: Environment) -> list[CheckResult]:
    """Run the conformance checks on `env` and close it.

    Returns:
        Every check's result (all passed).

    Raises:
        EnvCheckError: at least one check failed; `.results` holds every check.
    """
    checks = Checks()
    supported = set(env.supported_actions)

    def vocabulary() -> list[str]:
        problems = []
        unknown = supported - set(ACTION_TYPES)
        if unknown:
            problems.append(f"unknown types {sorted(unknown)}")
        if supported & {"answer", "terminate"}:
            problems.append("answer/terminate end the episode in the loop; never executed")
        if not supported:
            problems.append("empty")
        return problems

    checks.run("supported_actions", vocabulary)
    size: Size | None = None

    def observations() -> list[str]:
        nonlocal size
        problems, size = observation_problems(env.reset(), "reset()")
        more, size2 = observation_problems(env.observe(), "observe()")
        problems += more
        if size is not None and size2 is not None and size != size2:
            problems.append(f"reset() and observe() sizes differ: {size} vs {size2}")
        return problems

    checks.run("observations", observations)

    for kind in sorted(set(ACTION_TYPES) - supported - {"answer", "terminate"}):

        def refuses(kind: str = kind) -> list[str]:
            try:
                env.execute(sample_action(kind, 0, 0))
            except UnsupportedActionError:
                return []
            return ["did not raise UnsupportedActionError"]

        checks.run(f"refuses {kind}", refuses)

    if size is not None:
        edge = size
        for kind in POINT_ACTIONS:
            if kind not in supported:
                continue

            def bounds(kind: str = kind) -> list[str]:
                problems = []
                for x, y in [(edge.width, 0), (0, edge.height), (-1, 0), (0, -1)]:
                    try:
                        env.execute(sample_action(kind, x, y))
                        problems.append(f"({x}, {y}) outside {edge} did not raise OutOfBounds")
                    except OutOfBoundsError:
                        pass
                return problems

            checks.run(f"bounds {kind}", bounds)

    if "wait" in supported:

        def execute_wait() -> list[str]:
            result = env.execute(Wait(seconds=0))
            if not isinstance(result, Execution):
                return [f"execute() returned {type(result).__name__}, not an Execution"]
            return []

        checks.run("execute wait", execute_wait)

    if getattr(env, "deterministic", False) and size is not None:
        checks.run("determinism", lambda: _determinism(env, size or Size(1, 1), supported))

    def close_twice() -> list[str]:
        env.close()
        env.close()
        return []

    checks.run("close twice", close_twice)
    if not checks.all_passed():
        raise EnvCheckError(checks.results)
    return checks.results


def _determinism(env: Environment, size: Size, supported: set[str]) -> list[str]:
    """Two resets, then the same few actions from each: the screens must be identical."""
    script: list[Action] = []
    if "click" in supported:
        script += [Click(x=size.width // 2, y=size.height // 2), Click(x=1, y=1)]
    if "type" in supported:
        script.append(Type(text="pixelpilot"))
    if "key" in supported:
        script.append(Key(keys=("enter",)))
    runs: list[list[Image.Image]] = []
    for _ in range(2):
        screens = [env.reset().screenshot]
        for action in script:
            env.execute(action)
            screens.append(env.observe().screenshot)
        runs.append(screens)
    problems = []
    for index, (a, b) in enumerate(zip(*runs, strict=True)):
        if not _same_image(a, b):
            where = "after reset" if index == 0 else f"after action {index}"
            problems.append(f"screens differ {where}")
    return problems
