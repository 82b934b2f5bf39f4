"""`pixelpilot ls options ENV|MODEL|BENCH`: every option of a component with its type, default
and description; a name that is an environment and a benchmark shows both; mistakes are one
line with status 2."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel, Field

from pixelpilot.cli import main
from pixelpilot.cli.ls import option_rows, type_name
from pixelpilot.env.desktop.config import DesktopConfig
from pixelpilot.evals.desktop.benchmark import DesktopBenchOptions


def test_every_desktop_option_is_listed_with_type_default_and_description(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["ls", "options", "desktop"]) == 0
    out = capsys.readouterr().out
    assert "environment 'desktop' (--env-opt KEY=VALUE): " in out
    assert "benchmark 'desktop' (pixelpilot eval desktop flags): " in out
    for name in [*DesktopConfig.model_fields, *DesktopBenchOptions.model_fields]:
        assert re.search(rf"^  {name} ", out, re.MULTILINE), name
    line = next(x for x in out.splitlines() if x.startswith("  settle_timeout "))
    assert re.match(r"  settle_timeout\s+float\s+2\.0\s+seconds to wait after an action", line)


def test_a_model_spec_with_an_argument_names_its_backend(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["ls", "options", "qwen25vl:Qwen/Qwen2.5-VL-7B-Instruct"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("model 'qwen25vl' (--model-opt KEY=VALUE): ")
    assert re.search(r"^  max_pixels\s+int", out, re.MULTILINE)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ls", "options", "nope"], "no environment, model or benchmark is called 'nope'; known: "),
        (["ls", "options"], "ls options needs a name"),
        (["ls", "envs", "desktop"], "takes no name"),
    ],
)
def test_mistakes_are_one_line_with_status_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_types_and_defaults_read_as_written() -> None:
    class Demo(BaseModel):
        size: int = Field(3, description="pixels")
        mode: Literal["a", "b"] = "a"
        names: list[str] | None = None
        table: dict[str, float] = Field(default_factory=dict)
        needed: str

    rows = {row[0]: row for row in option_rows(Demo)}
    assert rows["size"] == ("size", "int", "3", "pixels")
    assert rows["mode"][1:3] == ("'a' | 'b'", "'a'")
    assert rows["names"][1] == "list[str] | None"
    assert rows["table"][1:3] == ("dict[str, float]", "{}")
    assert rows["needed"][2] == "(required)"
    assert type_name(float) == "float"


def test_an_unknown_env_option_lists_the_valid_keys(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "run",
            "--env",
            "fake",
            "--model",
            "scripted:x.jsonl",
            "--task",
            "t",
            "--env-opt",
            "colour=red",
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "colour: Extra inputs are not permitted; valid options: " in err


def test_the_fake_screens_read_as_a_type_a_count_and_a_description(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["ls", "options", "fake"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("  screens "))
    assert re.match(r"  screens\s+tuple\[FakeScreen, \.\.\.\]\s+\(6 FakeScreen values\)\s+\S", line)
    assert "Ellipsis" not in line and "elements" in line and "Python only" not in line


def test_a_type_only_python_can_give_is_marked_and_ellipsis_reads_as_written() -> None:
    class Item(BaseModel):
        name: str

    class Demo(BaseModel):
        hook: Callable[[], None] | None = Field(None, description="called after each step")
        items: tuple[Item, ...] = tuple(Item(name=f"item-{k}") for k in range(9))
        sizes: tuple[int, ...] = (1, 2)
        where: Path | None = None
        lookup: dict[str, list[float]] = Field(
            default_factory=lambda: {f"k{k}": [k] for k in range(20)}
        )

    rows = {row[0]: row for row in option_rows(Demo)}
    assert rows["hook"][1:] == ("Callable[[], None] | None (Python only)", "None",
                                "called after each step")  # fmt: skip
    assert rows["items"][1:3] == ("tuple[Item, ...]", "(9 Item values)")
    assert rows["sizes"][1:3] == ("tuple[int, ...]", "(1, 2)")
    assert rows["where"][1] == "Path | None"
    assert rows["lookup"][1:3] == ("dict[str, list[float]]", "(20 entries)")
    assert type_name(tuple[str, ...]) == "tuple[str, ...]"
