"""A child process for the SIGKILL test: runs a long episode and reports each execution.

Usage: python -m tests.agent.kill_child RUN_DIR
Prints "ready" once recording starts and "executed N" after step N's action has run.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pixelpilot.actions import Action, Move
from pixelpilot.agent import Recorder, run_episode
from pixelpilot.env import Execution, FakeEnv, FakeEnvConfig
from tests.agent.support import ListPolicy


class ReportingEnv(FakeEnv):
    def execute(self, action: Action) -> Execution:
        result = super().execute(action)
        print(f"executed {len(self.executed)}", flush=True)
        return result


def main() -> None:
    env = ReportingEnv(FakeEnvConfig(width=1920, height=1080, delay=0.005))
    recorder = Recorder(Path(sys.argv[1]), meta={"kill": True})
    print("ready", flush=True)
    moves: list[Action] = [Move(x=i % 1900, y=(7 * i) % 1000) for i in range(100_000)]
    run_episode(env, ListPolicy(list(moves)), "wander", max_steps=100_000, recorder=recorder)


if __name__ == "__main__":
    main()
