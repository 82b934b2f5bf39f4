"""Options shared by several subcommands: the environment flags, model options, TOML config.

A config file (`--config FILE.toml`) may hold:

    [run]                 # max_steps, max_seconds, out, confirm
    [env.NAME]            # options of environment NAME's Config (e.g. [env.browser])
    [model.NAME]          # options of model backend NAME's Config (e.g. [model.qwen25vl])

Command-line flags override the file.
"""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path
from typing import Any

from pixelpilot.errors import ConfigError

# flag destination -> option name in the environment's Config
ENV_FLAGS: dict[str, str] = {
    "virtual_display": "virtual_display",
    "wm": "wm",
    "launch": "launch",
    "monitor": "monitor",
    "device_scale_factor": "device_scale_factor",
    "viewport": "viewport",
    "device": "device",
}


def add_env_arguments(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    """--env and the adapter flags (each passed only to adapters whose Config has it)."""
    parser.add_argument("--env", required=required, help="environment: see `pixelpilot ls envs`")
    group = parser.add_argument_group("environment options")
    group.add_argument("--virtual-display", metavar="WxH", help="desktop: run on a private Xvfb")
    group.add_argument(
        "--monitor", type=int, metavar="N", help="desktop: monitor number (1 = first)"
    )
    group.add_argument(
        "--wm",
        choices=("openbox", "none"),
        help="desktop: window manager on the virtual display (default openbox)",
    )
    group.add_argument(
        "--launch",
        action="append",
        metavar="CMD",
        help="desktop: start CMD on the display at reset and wait for its window (repeatable)",
    )
    group.add_argument("--headed", action="store_true", help="browser: show the window")
    group.add_argument(
        "--device-scale-factor", type=float, metavar="F", help="browser: device pixels per CSS px"
    )
    group.add_argument("--viewport", metavar="WxH", help="browser: viewport in CSS pixels")
    group.add_argument("--device", metavar="HOST:PORT", help="android: the ADB device to use")
    add_pairs_argument(group, "--env-opt", "any other option of the environment's config")


def add_model_arguments(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    parser.add_argument(
        "--model", required=required, metavar="SPEC", help="policy: see `pixelpilot ls models`"
    )
    add_pairs_argument(parser, "--model-opt", "an option of the model backend's config")


def add_pairs_argument(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup, flag: str, help: str
) -> None:
    """A repeatable KEY=VALUE flag, read back with `parse_pairs`."""
    parser.add_argument(
        flag, action="append", default=[], metavar="KEY=VALUE", help=f"{help} (repeatable)"
    )


SECTIONS = ("run", "env", "model", "bench", "safety", "secrets")


def load_config(path: str | None) -> dict[str, Any]:
    """Read a TOML config file and check its shape: only the known sections, and `[env.NAME]`,
    `[model.NAME]`, `[bench.NAME]` tables that name a registered component. A misspelled or
    misplaced setting is a ConfigError, never silently ignored.

    Raises:
        ConfigError: the file cannot be read, is not TOML, or has an unknown section or name.
    """
    if path is None:
        return {}
    try:
        with Path(path).open("rb") as handle:
            config = tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    check_config(config, path)
    return config


def check_config(config: dict[str, Any], path: str) -> None:
    """See `load_config`."""
    from pixelpilot.env import ENVIRONMENTS
    from pixelpilot.evals import BENCHMARKS
    from pixelpilot.model import POLICIES

    unknown = [key for key in config if key not in SECTIONS]
    if unknown:
        raise ConfigError(
            f"config file {path}: unknown top-level key(s) {', '.join(sorted(unknown))}; "
            f"settings go in one of the sections [{'], ['.join(SECTIONS)}]"
        )
    for kind, registry in (("env", ENVIRONMENTS), ("model", POLICIES), ("bench", BENCHMARKS)):
        table = config.get(kind, {})
        if not isinstance(table, dict):
            raise ConfigError(f"config file {path}: [{kind}] must hold [{kind}.NAME] tables")
        for name, sub in table.items():
            if not isinstance(sub, dict):
                raise ConfigError(
                    f"config file {path}: '{kind}.{name}' must be a [{kind}.NAME] table naming "
                    f"the {registry.kind} (e.g. [{kind}.{registry.names()[0]}])"
                )
            if name not in registry:
                raise ConfigError(
                    f"config file {path}: [{kind}.{name}]: {registry.unknown_message(name)}"
                )


def parse_pairs(pairs: list[str], flag: str) -> dict[str, Any]:
    """Parse KEY=VALUE pairs; values are read as TOML scalars when they parse, else strings."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{flag} expects KEY=VALUE, got {pair!r}")
        try:
            out[key.strip()] = tomllib.loads(f"v = {value}")["v"]
        except tomllib.TOMLDecodeError:
            out[key.strip()] = value
    return out


def section(config: dict[str, Any], kind: str, name: str) -> dict[str, Any]:
    """The `[kind.name]` table of a config file (empty when absent)."""
    table = config.get(kind, {})
    if not isinstance(table, dict):
        raise ConfigError(f"config: [{kind}] must be a table of [{kind}.NAME] tables")
    sub = table.get(name, {})
    if not isinstance(sub, dict):
        raise ConfigError(f"config: [{kind}.{name}] must be a table")
    return dict(sub)


def env_options(args: argparse.Namespace, config: dict[str, Any]) -> dict[str, Any]:
    """The environment's options: the config file's [env.NAME], then flags, then --env-opt."""
    options = section(config, "env", args.env)
    for dest, option in ENV_FLAGS.items():
        value = getattr(args, dest, None)
        if value is not None:
            options[option] = value
    if getattr(args, "headed", False):
        options["headless"] = False
    options.update(parse_pairs(args.env_opt, "--env-opt"))
    return options


def model_options(args: argparse.Namespace, config: dict[str, Any]) -> dict[str, Any]:
    """The model backend's options: [model.NAME] from the config file, then --model-opt."""
    name = args.model.partition(":")[0]
    options = section(config, "model", name)
    options.update(parse_pairs(args.model_opt, "--model-opt"))
    return options
