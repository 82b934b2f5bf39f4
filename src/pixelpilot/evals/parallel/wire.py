"""What travels between machines: observations and histories with their screenshots as PNG
bytes (compress level 1: fast, lossless), and whole run directories as zip archives.

A Ray object carrying a PIL image would pickle its raw pixels (a 1920x1080 RGB screenshot is
6 MB); as PNG the same screen is typically 50-300 kB. Lossless, so a policy on another node
sees exactly the pixels the environment captured.
"""

from __future__ import annotations

import dataclasses
import io
import shutil
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PIL import Image

from pixelpilot.actions import Observation
from pixelpilot.model import History, HistoryEntry

WireItem = tuple[dict[str, Any], dict[str, Any]]


def image_bytes(image: Image.Image) -> bytes:
    """`image` as PNG bytes (compress level 1)."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def image_from(data: bytes) -> Image.Image:
    """The image back from `image_bytes` (loaded, so the buffer can go)."""
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def pack_observation(observation: Observation) -> dict[str, Any]:
    """An observation (or a subclass with more fields) as plain data plus PNG bytes."""
    fields = {
        f.name: getattr(observation, f.name)
        for f in dataclasses.fields(observation)
        if f.name != "screenshot"
    }
    return {"cls": type(observation), "png": image_bytes(observation.screenshot), **fields}


def unpack_observation(data: dict[str, Any]) -> Observation:
    values = dict(data)
    cls = values.pop("cls")
    screenshot = image_from(values.pop("png"))
    observation: Observation = cls(screenshot=screenshot, **values)
    return observation


def pack_history(history: History) -> dict[str, Any]:
    """A history with each kept screenshot as PNG bytes."""
    steps = []
    for step in history.steps:
        png = image_bytes(step.screenshot) if step.screenshot is not None else None
        values = {f.name: getattr(step, f.name) for f in dataclasses.fields(step)}
        steps.append({**values, "screenshot": None, "png": png})
    return {"goal": history.goal, "steps": steps}


def unpack_history(data: dict[str, Any]) -> History:
    steps = []
    for step in data["steps"]:
        values = dict(step)
        png = values.pop("png")
        values["screenshot"] = image_from(png) if png is not None else None
        steps.append(HistoryEntry(**values))
    return History(data["goal"], tuple(steps))


def pack_items(items: Sequence[tuple[Observation, History]]) -> list[WireItem]:
    return [(pack_observation(obs), pack_history(hist)) for obs, hist in items]


def unpack_items(items: Sequence[WireItem]) -> list[tuple[Observation, History]]:
    return [(unpack_observation(obs), unpack_history(hist)) for obs, hist in items]


def pack_folder(folder: Path) -> bytes:
    """`folder`'s files as a zip archive (stored: PNGs are compressed already)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


def unpack_folder(data: bytes, folder: Path) -> None:
    """Write the archive's files into `folder` (replaced when it exists).

    Raises:
        ValueError: a member's name would leave `folder`.
    """
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    root = folder.resolve()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            target = (folder / name).resolve()
            if root not in target.parents:
                raise ValueError(f"archive member {name!r} leaves {folder}")
        archive.extractall(folder)
