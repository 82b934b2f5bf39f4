"""Registries: typed checks on load, duplicates refused, plugins through entry points."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pixelpilot.env import ENVIRONMENTS, FakeEnv
from pixelpilot.env.tasks import TASK_SUITES, resolve_task
from pixelpilot.errors import ConfigError, PluginError, UnknownNameError
from pixelpilot.evals import BENCHMARKS
from pixelpilot.model import POLICIES
from pixelpilot.registry import Registry, require_class

REPO = Path(__file__).resolve().parents[1]


def test_a_duplicate_name_is_an_error_not_an_overwrite() -> None:
    registry: Registry[type] = Registry("thing")
    registry.register("a", "pixelpilot.env.fake:FakeEnv")
    with pytest.raises(PluginError, match=r"registered twice.*FakeEnv.*FakeScreen"):
        registry.register("a", "pixelpilot.env.fake:FakeScreen")
    assert registry.load("a") is FakeEnv  # the first registration stands


def test_loaded_objects_are_checked_against_what_the_registry_holds() -> None:
    registry: Registry[type] = Registry(
        "environment", check=require_class(methods=("reset", "observe", "execute", "close"))
    )
    registry.register("screen", "pixelpilot.env.fake:FakeScreen")  # a config model, no methods
    registry.register("constant", "pixelpilot.env.fake:FAKE_TASKS")  # not a class
    registry.register("missing", "pixelpilot.env.fake:NoSuchThing")
    with pytest.raises(PluginError, match="lacks reset, observe, execute, close"):
        registry.load("screen")
    with pytest.raises(PluginError, match="not a class"):
        registry.load("constant")
    with pytest.raises(PluginError, match="has no attribute 'NoSuchThing'"):
        registry.load("missing")
    with pytest.raises(UnknownNameError, match="Did you mean 'screen'"):
        registry.load("scren")


def test_every_built_in_name_loads_and_passes_its_registry_check() -> None:
    for registry in (ENVIRONMENTS, POLICIES, BENCHMARKS, TASK_SUITES):
        for name in registry.names():
            assert registry.load(name) is not None, (registry.kind, name)
    assert {"fake", "sandbox", "miniwob"} <= set(TASK_SUITES.names())


def test_task_suites_resolve_and_refuse() -> None:
    task, suite = resolve_task("fake:settings")
    assert task.name == "fake:settings" and suite is not None and suite.environments == ("fake",)
    goal, suite = resolve_task("open the settings")
    assert goal.goal == "open the settings" and goal.name is None and suite is None
    with pytest.raises(UnknownNameError, match=r"unknown fake task 'setings'.*fake:settings"):
        resolve_task("fake:setings")
    with pytest.raises(ConfigError, match="--task is empty"):
        resolve_task("  ")
    assert len(TASK_SUITES.load("miniwob").tasks()) >= 100  # the eval extra is installed
    with pytest.raises(ConfigError, match=r"pixelpilot eval miniwob .*--tasks click-button"):
        resolve_task("miniwob:click-button")


PLUGIN_ENV = '''
"""A third-party environment: the fake one under another name."""
from pixelpilot.env.fake import FakeEnv


class HelloEnv(FakeEnv):
    name = "hello"
'''

PLUGIN_POLICY = '''
"""A third-party policy that always waits."""
from pydantic import BaseModel

from pixelpilot.actions import Wait
from pixelpilot.model import PolicyBase, Prediction


class WaitConfig(BaseModel):
    pass


class WaitPolicy(PolicyBase):
    Config = WaitConfig

    @classmethod
    def from_spec(cls, argument, config):
        return cls()

    def predict(self, observation, history):
        return Prediction(action=Wait(seconds=0), raw_text="wait")
'''

PLUGIN_PYPROJECT = """
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "pixelpilot-hello"
version = "0.1"

[project.entry-points."pixelpilot.envs"]
hello = "pixelpilot_hello.env:HelloEnv"

[project.entry-points."pixelpilot.policies"]
waiter = "pixelpilot_hello.policy:WaitPolicy"
"""


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny plugin package, installed with pip into a folder of its own."""
    source = tmp_path_factory.mktemp("plugin-src")
    (source / "pixelpilot_hello").mkdir()
    (source / "pixelpilot_hello" / "__init__.py").write_text("")
    (source / "pixelpilot_hello" / "env.py").write_text(PLUGIN_ENV)
    (source / "pixelpilot_hello" / "policy.py").write_text(PLUGIN_POLICY)
    (source / "pyproject.toml").write_text(PLUGIN_PYPROJECT)
    target = tmp_path_factory.mktemp("plugin-site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index",
         "--no-build-isolation", "--target", str(target), str(source)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return target


def _cli(*args: str, path: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(path)}
    return subprocess.run(
        [sys.executable, "-m", "pixelpilot.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )


def test_an_installed_plugin_is_listed_and_runs(plugin_path: Path, tmp_path: Path) -> None:
    envs = _cli("ls", "envs", path=plugin_path, cwd=tmp_path)
    assert envs.returncode == 0, envs.stderr
    assert "hello" in envs.stdout and "plugin from pixelpilot-hello" in envs.stdout
    models = _cli("ls", "models", path=plugin_path, cwd=tmp_path)
    assert "waiter" in models.stdout
    run = _cli(
        "run", "--env", "hello", "--model", "waiter", "--task", "fake:settings",
        "--max-steps", "2", "--out", str(tmp_path / "run"), path=plugin_path, cwd=tmp_path,
    )  # fmt: skip
    # The plugin env's tasks come from the fake suite only under --env fake: a user mistake.
    assert run.returncode == 2 and "runs with --env fake, not --env hello" in run.stderr
    run = _cli(
        "run", "--env", "hello", "--model", "waiter", "--task", "wait a bit",
        "--max-steps", "2", "--out", str(tmp_path / "run"), path=plugin_path, cwd=tmp_path,
    )  # fmt: skip
    assert "step   1  wait" in run.stdout, run.stdout + run.stderr
    assert (tmp_path / "run" / "trajectory.jsonl").is_file()


def test_a_plugin_that_reuses_a_built_in_name_is_refused(tmp_path: Path) -> None:
    # A distribution installed by hand: its metadata folder with one entry point.
    dist = tmp_path / "pixelpilot_clash-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: pixelpilot-clash\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[pixelpilot.envs]\nfake = pixelpilot.env.fake:FakeEnv\n"
    )
    result = _cli("ls", "envs", path=tmp_path, cwd=tmp_path)
    assert result.returncode == 2
    assert "environment 'fake' is registered twice" in result.stderr
    assert "pixelpilot-clash" in result.stderr and "Traceback" not in result.stderr
