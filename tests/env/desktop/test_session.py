"""A real desktop on the virtual display: the window manager, `launch` commands, `open_app` and
the focused window in observations, with xterm and mousepad on a private Xvfb; everything started
is stopped by the next reset or by close."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pixelpilot.actions import OpenApp, Size, Task, Type
from pixelpilot.cli.common import add_env_arguments, env_options
from pixelpilot.env import create_env
from pixelpilot.env.desktop.env import DesktopConfig, DesktopEnv
from pixelpilot.env.desktop.windows import client_windows
from pixelpilot.env.desktop.xvfb import VirtualDisplay
from pixelpilot.errors import ActionError, ConfigError

pytestmark = [
    pytest.mark.desktop,
    pytest.mark.skipif(
        not all(shutil.which(p) for p in ("openbox", "xterm", "mousepad")),
        reason="needs openbox, xterm and mousepad (apt-get install openbox xterm mousepad)",
    ),
]

XTERM = "xterm -T pixelpilot-term"


def alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def started_pids(env: DesktopEnv) -> list[int]:
    return [program.process.pid for program in env.programs._programs]


def test_virtual_display_runs_a_window_manager_that_stops_with_it() -> None:
    env = DesktopEnv(DesktopConfig(virtual_display="800x600", launch=[XTERM]))
    try:
        wm = env.programs._wm
        assert wm is not None and alive(wm.process.pid)
        root = env._xdisplay.screen().root
        check = root.get_full_property(env._xdisplay.intern_atom("_NET_SUPPORTING_WM_CHECK"), 0)
        assert check is not None  # an EWMH window manager manages the screen
        observation = env.reset()
        assert observation.app == "pixelpilot-term (XTerm)"
        assert len(client_windows(env._xdisplay)) == 1
        apps = started_pids(env)
    finally:
        env.close()
    assert not alive(wm.process.pid)
    assert not any(alive(pid) for pid in apps)


def test_wm_none_leaves_the_display_bare() -> None:
    with DesktopEnv(DesktopConfig(virtual_display="640x480", wm="none")) as env:
        assert env.programs._wm is None
        root = env._xdisplay.screen().root
        atom = env._xdisplay.intern_atom("_NET_SUPPORTING_WM_CHECK")
        assert root.get_full_property(atom, 0) is None


def test_each_reset_stops_the_previous_episodes_programs() -> None:
    with DesktopEnv(DesktopConfig(virtual_display="800x600", launch=[XTERM])) as env:
        env.reset()
        first = started_pids(env)
        env.reset()
        second = started_pids(env)
        assert len(first) == len(second) == 1 and first != second
        assert not alive(first[0]) and alive(second[0])
        assert len(client_windows(env._xdisplay)) == 1


def test_open_app_launches_by_name_and_focuses_its_window() -> None:
    with DesktopEnv(DesktopConfig(virtual_display="1024x768")) as env:
        env.reset()
        execution = env.execute(OpenApp(name="text editor"))
        assert execution.detail.startswith("launched mousepad (pid ")
        assert "'Untitled 1 - Mousepad'" in execution.detail
        assert env.observe().app == "Untitled 1 - Mousepad (Mousepad)"
        env.execute(Type(text="typed into the focused window"))
        assert env.observe().app == "*Untitled 1 - Mousepad (Mousepad)"


def test_open_app_refuses_unknown_and_disallowed_names() -> None:
    config = DesktopConfig(virtual_display="640x480", allowed_apps=["xterm"])
    with DesktopEnv(config) as env:
        env.reset()
        with pytest.raises(ActionError, match="no installed application matches 'zzqx'"):
            env.execute(OpenApp(name="zzqx"))
        with pytest.raises(ActionError, match=r"refused: Mousepad \(mousepad\) is not in"):
            env.execute(OpenApp(name="Mousepad"))
        assert started_pids(env) == []
        env.execute(OpenApp(name="XTerm"))
        app = env.observe().app
        assert app is not None and app.endswith("(XTerm)")


def test_open_app_in_the_user_map_that_shows_no_window_is_a_step_error() -> None:
    config = DesktopConfig(
        virtual_display="640x480", apps={"sleeper": "sleep 30"}, window_timeout=1.0
    )
    with DesktopEnv(config) as env:
        env.reset()
        with pytest.raises(ActionError, match=r"'sleep 30' was started, but no window appeared"):
            env.execute(OpenApp(name="sleeper"))
        [pid] = started_pids(env)
    assert not alive(pid)


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("no-such-program-x", r"--launch 'no-such-program-x': cannot start"),
        ("false", "--launch 'false': 'false' exited with status 1 before showing a window"),
        ("true", "--launch 'true': 'true' exited \\(status 0\\) without showing a window"),
        (
            "/nonexistent/prog",
            "--launch '/nonexistent/prog': cannot start '/nonexistent/prog': "
            "no executable file /nonexistent/prog",
        ),
        ("sh -c 'exit 3'", """: "sh -c 'exit 3'" exited with status 3"""),  # quoting kept
    ],
)
def test_a_launch_that_cannot_start_is_one_config_line(command: str, message: str) -> None:
    config = DesktopConfig(virtual_display="640x480", launch=[command], window_timeout=60.0)
    env = DesktopEnv(config)
    start = time.monotonic()
    with env, pytest.raises(ConfigError, match=message):
        env.reset()
    # a command that is gone is not waited for the whole window timeout
    assert time.monotonic() - start < 15


KILLED_RUN = """
import sys
from pixelpilot.env.desktop.env import DesktopConfig, DesktopEnv
env = DesktopEnv(DesktopConfig(virtual_display="640x480", launch=[sys.argv[1]]))
env.reset()
print(env.virtual.process.pid, env.programs._wm.process.pid,
      *(p.process.pid for p in env.programs._programs), flush=True)
sys.stdin.read()
"""


def test_a_killed_pixelpilot_leaves_no_display_manager_or_app_behind() -> None:
    # SIGKILL runs none of pixelpilot's clean-up: the parent-death signal stops them instead.
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_RUN, XTERM],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        pids = [int(p) for p in child.stdout.readline().split()]
        assert len(pids) == 3 and all(alive(pid) for pid in pids)
    finally:
        child.kill()
        child.wait()
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in pids if alive(pid)]


def test_launch_and_wm_reach_the_config_through_create_env() -> None:
    env = create_env("desktop", {"virtual_display": "640x480", "wm": "none", "launch": XTERM})
    try:
        assert isinstance(env, DesktopEnv)
        assert env.config.launch == [XTERM] and env.config.wm == "none"
        assert env.reset().app is not None
    finally:
        env.close()
    with pytest.raises(ConfigError, match="unknown window manager 'kwin'"):
        create_env("desktop", {"virtual_display": "640x480", "wm": "kwin"})


def test_programs_get_the_display_and_no_session_bus() -> None:
    with DesktopEnv(DesktopConfig(virtual_display="640x480")) as env:
        environ = env.programs.environ(Path("/tmp/home-x"))
        assert environ["DISPLAY"] == env.display_name
        assert environ["HOME"] == "/tmp/home-x"
        assert environ["XDG_CONFIG_HOME"] == "/tmp/home-x/.config"
        assert environ["DBUS_SESSION_BUS_ADDRESS"].startswith("unix:path=/nonexistent")
        assert env.programs.environ()["HOME"] == os.environ.get("HOME")


@pytest.fixture
def display_name() -> Iterator[str]:
    virtual = VirtualDisplay.start(Size(320, 240))
    try:
        yield virtual.name
    finally:
        virtual.stop()


def test_a_desktop_task_needs_a_private_display(display_name: str) -> None:
    env = DesktopEnv(DesktopConfig(display=display_name))
    with env, pytest.raises(ConfigError, match="runs on a private display only"):
        env.reset(task=Task(goal="x", name="desktop:calc-multiply"))


def test_the_launch_and_wm_flags_become_desktop_options() -> None:
    parser = argparse.ArgumentParser()
    add_env_arguments(parser)
    flags = [
        "--env",
        "desktop",
        "--virtual-display",
        "800x600",
        "--wm",
        "none",
        "--launch",
        "xterm",
    ]
    args = parser.parse_args([*flags, "--launch", "mousepad notes.txt"])
    options = env_options(args, {})
    assert options == {
        "virtual_display": "800x600",
        "wm": "none",
        "launch": ["xterm", "mousepad notes.txt"],
    }
    plain = env_options(parser.parse_args(["--env", "browser"]), {})
    assert "launch" not in plain and "wm" not in plain  # other adapters never see them
