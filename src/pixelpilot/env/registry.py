"""The environment registry: names for `--env`, resolved lazily to adapter classes.

Every adapter class has a `Config` pydantic model (its options, each with unit and default) and a
constructor taking that config. `create_env` validates options into the config and builds it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pixelpilot.env.base import Environment
from pixelpilot.registry import Registry, require_class, validate_options

# Classes with a pydantic `Config` and the Environment methods; plugins: `pixelpilot.envs`.
ENVIRONMENTS: Registry[type[Environment]] = Registry(
    "environment",
    group="pixelpilot.envs",
    check=require_class(methods=("Config", "reset", "observe", "execute", "close")),
)
ENVIRONMENTS.register("fake", "pixelpilot.env.fake:FakeEnv", help="generated test screens")
ENVIRONMENTS.register(
    "desktop", "pixelpilot.env.desktop.env:DesktopEnv", help="an X11 desktop (mss + pyautogui)"
)
ENVIRONMENTS.register(
    "browser", "pixelpilot.env.browser.env:BrowserEnv", help="Chromium through Playwright"
)
ENVIRONMENTS.register("android", "pixelpilot.env.android.env:AndroidEnv", help="a device over ADB")


def create_env(name: str, options: Mapping[str, Any] | None = None) -> Environment:
    """Build the environment registered as `name` with `options` for its Config.

    Raises:
        UnknownNameError: no environment of that name (the message lists the known ones).
        ConfigError: an option is unknown or invalid.
        MissingExtraError: the adapter's optional dependencies are not installed.
        PluginError: the registered class is broken (see `pixelpilot.registry`).
    """
    cls: Any = ENVIRONMENTS.load(name)
    config = validate_options(cls.Config, options, f"'{name}' environment")
    env: Environment = cls(config)
    return env
