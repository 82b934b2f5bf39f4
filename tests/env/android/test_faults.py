"""Dropped connections, silence, slowness and a vanished device, injected by the test device
while the real agent loop runs: steps are never lost and never run twice."""

from __future__ import annotations

import json
import time
from pathlib import Path

from pixelpilot.actions import Action, Click, OpenApp, Terminate
from pixelpilot.agent import Recorder, Trajectory, run_episode
from pixelpilot.env.android.env import AndroidEnv
from pixelpilot.env.android.testdevice import AdbTestDevice, Faults
from pixelpilot.env.android.testdevice.faults import FaultState
from pixelpilot.model import ScriptedPolicy
from tests.env.android.support import (
    android_env,
    key_fixture,  # noqa: F401 (the `key` fixture)
    running_device,
    widget_center,
)


def plus(device: AdbTestDevice) -> Click:
    x, y = widget_center(device, "com.pixelpilot.counter", "button:plus")
    return Click(x=x, y=y)


def count(device: AdbTestDevice) -> int:
    app = device.phone.app("com.pixelpilot.counter")
    return int(app.count)  # type: ignore[union-attr]


def taps_run(device: AdbTestDevice) -> int:
    return sum(1 for r in device.commands if r.argv[:2] == ("input", "tap"))


def run_taps(env: AndroidEnv, device: AdbTestDevice, taps: int, run_dir: Path) -> Trajectory:
    script: list[Action] = [OpenApp(name="Counter"), *[plus(device)] * taps]
    script.append(Terminate(status="success"))
    recorder = Recorder(run_dir, meta={"test": "android faults"})
    return run_episode(env, ScriptedPolicy(script), "tap +1", max_steps=taps + 5, recorder=recorder)


def check_record(trajectory: Trajectory, run_dir: Path) -> None:
    lines = (run_dir / "trajectory.jsonl").read_text().splitlines()
    assert len(lines) == len(trajectory.steps)
    result = json.loads((run_dir / "result.json").read_text())
    assert result["status"] == trajectory.status and result["steps"] == len(trajectory.steps)


def test_drops_on_taps_are_recovered_exactly_once(key: Path, tmp_path: Path) -> None:
    faults = Faults(drop_every=2, drop_when="alternate", match="input tap")
    with (
        running_device(faults=faults, width=270, height=600) as device,
        android_env(device, key) as env,
    ):
        trajectory = run_taps(env, device, 22, tmp_path / "run")
    assert (trajectory.status, trajectory.claim) == ("terminated", "success") and len(
        trajectory.steps
    ) == 24
    assert device.drops >= 20
    assert count(device) == 22 and taps_run(device) == 22  # none lost, none twice
    notes = [s.executed or "" for s in trajectory.steps]
    ran_then_dropped = [n for n in notes if "dropped after the device ran it; not repeated" in n]
    dropped_unrun = [n for n in notes if "sent again after 1 dropped connection" in n]
    assert len(ran_then_dropped) + len(dropped_unrun) == device.drops
    assert ran_then_dropped and dropped_unrun
    check_record(trajectory, tmp_path / "run")


def test_drops_anywhere_in_the_protocol_are_recovered(key: Path, tmp_path: Path) -> None:
    faults = Faults(drop_every=15, drop_when="alternate")
    with (
        running_device(faults=faults, width=270, height=600) as device,
        android_env(device, key) as env,
    ):
        trajectory = run_taps(env, device, 15, tmp_path / "run")
        reconnects = env.conn.reconnects
    assert (trajectory.status, trajectory.claim) == ("terminated", "success") and len(
        trajectory.steps
    ) == 17
    assert device.drops >= 20 and reconnects >= device.drops - 1
    assert count(device) == 15 and taps_run(device) == 15
    assert all(s.error is None for s in trajectory.steps)
    check_record(trajectory, tmp_path / "run")


def test_without_markers_an_uncertain_tap_is_recorded_not_repeated(key: Path) -> None:
    faults = Faults(drop_every=2, drop_when="alternate", match="input tap")
    with running_device(faults=faults, width=270, height=600) as device:
        env = android_env(device, key, exactly_once=False)
        env.reset()
        env.execute(OpenApp(name="Counter"))
        details = [env.execute(plus(device)).detail for _ in range(8)]
        env.close()
    uncertain = [d for d in details if "delivery uncertain" in d]
    assert len(uncertain) == device.drops == 4
    # drops alternate: handled-then-dropped taps counted, discarded ones lost, none doubled
    assert count(device) == taps_run(device) == 8 - 2
    assert not any(r.argv[0] == "mkdir" and "/1" in r.argv[-1] for r in device.commands[3:])


def test_idle_drop_and_unsent_command_are_resent_without_markers(key: Path) -> None:
    with running_device() as device:
        env = android_env(device, key, exactly_once=False)
        env.reset()
        env.execute(OpenApp(name="Counter"))
        device.drop_connections()  # the device hangs up between two actions
        time.sleep(0.05)
        before = env.conn.reconnects
        assert "[" not in env.execute(plus(device)).detail  # noticed before sending
        assert env.conn.reconnects == before + 1
        real = env.conn._device
        calls = []

        def broken_pipe(*args: object, **kwargs: object) -> str:
            calls.append(args)
            raise BrokenPipeError("simulated: the socket failed before a byte was written")

        real.shell = broken_pipe
        execution = env.execute(plus(device))
        env.close()
    assert len(calls) == 1 and "sent again after 1 dropped connection" in execution.detail
    assert count(device) == taps_run(device) == 2


def test_silent_device_is_waited_out(key: Path) -> None:
    with running_device() as device:
        env = android_env(
            device,
            key,
            command_timeout=0.3,
            connect_timeout=0.3,
            reconnect_attempts=10,
            reconnect_backoff=0.1,
            reconnect_backoff_max=0.3,
        )
        env.reset()
        env.execute(OpenApp(name="Counter"))
        device.fault_state = FaultState(Faults(silent_after=1, silent_seconds=1.0))
        start = time.monotonic()
        env.execute(plus(device))
        env.execute(plus(device))
        elapsed = time.monotonic() - start
        env.close()
    assert elapsed >= 0.9
    assert count(device) == taps_run(device) == 2


def test_slow_answers_still_work(key: Path) -> None:
    with running_device(faults=Faults(delay_ms=15)) as device, android_env(device, key) as env:
        env.reset()
        env.execute(OpenApp(name="Counter"))
        start = time.monotonic()
        env.execute(plus(device))
        obs = env.observe()
        assert time.monotonic() - start >= 0.1
        assert count(device) == 1 and obs.app == "com.pixelpilot.counter"


def test_device_that_stays_gone_ends_the_run_with_env_error(key: Path, tmp_path: Path) -> None:
    with running_device() as device:
        env = android_env(device, key, reconnect_attempts=3)
        device.fault_state = FaultState(Faults(gone_after=70))
        trajectory = run_taps(env, device, 10, tmp_path / "run")
        env.close()
        assert not device.listening
    assert trajectory.status == "env_error"
    assert "lost the device" in trajectory.reason
    assert 0 < len(trajectory.steps) < 12
    check_record(trajectory, tmp_path / "run")
    intents = (tmp_path / "run" / "intents.jsonl").read_text().splitlines()
    assert len(intents) >= len([s for s in trajectory.steps if s.executed])
