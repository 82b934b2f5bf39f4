"""What the online benchmarks (MiniWoB++, the desktop suite) share: the episode options and the
run directory of each episode.

An online benchmark's sample is an episode run live through the agent loop; these pieces are
the same whatever runs the episode (a browser page, a desktop application).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pixelpilot.agent.folder_lock import check_free
from pixelpilot.errors import ConfigError


class EpisodeOptions(BaseModel):
    """The options every online benchmark has; each benchmark adds its own."""

    model_config = ConfigDict(extra="forbid")

    tasks: list[str] | None = Field(
        None, description="task names (comma-separated on the command line); default: all"
    )
    max_steps: int = Field(15, ge=1, description="policy decisions per episode")
    max_seconds: float = Field(300.0, gt=0, description="wall-clock budget per episode, s")
    settle_timeout: float = Field(
        2.0, ge=0, description="seconds to wait for the screen to settle after an action"
    )
    trajectories: str | None = Field(
        None, description="folder for each episode's run directory (TASK/EPISODE/); none: not kept"
    )

    @field_validator("tasks", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        """A comma-separated string is a list of names. None names no task and means all; an
        empty list (`--tasks ''`, `--tasks ,`) is refused rather than read as all."""
        if isinstance(value, str):
            value = [name.strip() for name in value.split(",") if name.strip()]
        if isinstance(value, list) and not value:
            raise ValueError(
                "names no task: give task names separated by commas, or leave it out for all"
            )
        return value


def fresh_run_dir(root: str | None, *parts: str) -> Path | None:
    """The run directory of one episode under `root` (None when trajectories are not kept).

    A directory left by an interrupted run holds no finished record of this episode: it is
    removed so the episode runs again.

    Raises:
        ConfigError: the path exists and is not a pixelpilot run directory.
        UserError: a process is writing it (`check_free`).
    """
    if root is None:
        return None
    run_dir = Path(root).joinpath(*parts)
    if run_dir.exists():
        if not (run_dir / "meta.json").is_file():
            raise ConfigError(
                f"{run_dir} exists and is not a pixelpilot run directory; move it away"
            )
        check_free(run_dir, doing="replace")  # never another process's running episode
        shutil.rmtree(run_dir)
    return run_dir
