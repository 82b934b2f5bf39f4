"""What travels between processes and machines: observations and histories with their
screenshots, and whole run directories as zip archives.

Between machines a screenshot travels as PNG (compress level 1: fast, lossless): a 1920x1080
RGB screen is 6 MB raw and typically 50-300 kB as PNG. Between processes of one machine the
raw pixels travel instead (`compress=False`): copying 6 MB through shared memory is cheaper
than encoding and decoding the PNG (~17 + 10 ms per 1080p screen on one core). Lossless either
way, so the policy sees exactly the pixels the environment captured.
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
from pixelpilot.agent.folder_lock import LOCK_NAME, check_free
from pixelpilot.model import History, HistoryEntry

WireItem = tuple[dict[str, Any], dict[str, Any]]


def pack_image(image: Image.Image, *, compress: bool = True) -> dict[str, Any]:
    """`image` for the wire: {"png": bytes} (compress level 1) or {"mode", "size", "raw"}."""
    if compress:
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", compress_level=1)
        return {"png": buffer.getvalue()}
    return {"mode": image.mode, "size": image.size, "raw": image.tobytes()}


def unpack_image(data: dict[str, Any]) -> Image.Image:
    """The image back from `pack_image` (loaded, so the buffer can go)."""
    if "png" in data:
        image = Image.open(io.BytesIO(data["png"]))
        image.load()
        return image
    return Image.frombytes(data["mode"], tuple(data["size"]), data["raw"])


def pack_observation(observation: Observation, *, compress: bool = True) -> dict[str, Any]:
    """An observation (or a subclass with more fields) as plain data plus its screenshot."""
    fields = {
        f.name: getattr(observation, f.name)
        for f in dataclasses.fields(observation)
        if f.name != "screenshot"
    }
    image = pack_image(observation.screenshot, compress=compress)
    return {"cls": type(observation), "image": image, **fields}


def unpack_observation(data: dict[str, Any]) -> Observation:
    values = dict(data)
    cls = values.pop("cls")
    screenshot = unpack_image(values.pop("image"))
    observation: Observation = cls(screenshot=screenshot, **values)
    return observation


def pack_history(history: History, *, compress: bool = True) -> dict[str, Any]:
    """A history with each kept screenshot packed like an observation's."""
    steps = []
    for step in history.steps:
        shot = step.screenshot
        image = pack_image(shot, compress=compress) if shot is not None else None
        values = {f.name: getattr(step, f.name) for f in dataclasses.fields(step)}
        steps.append({**values, "screenshot": None, "image": image})
    return {"goal": history.goal, "steps": steps}


def unpack_history(data: dict[str, Any]) -> History:
    steps = []
    for step in data["steps"]:
        values = dict(step)
        image = values.pop("image")
        values["screenshot"] = unpack_image(image) if image is not None else None
        steps.append(HistoryEntry(**values))
    return History(data["goal"], tuple(steps))


def pack_items(
    items: Sequence[tuple[Observation, History]], *, compress: bool = True
) -> list[WireItem]:
    """Requests for a policy in another process: compress=False on the same machine."""
    return [
        (pack_observation(obs, compress=compress), pack_history(hist, compress=compress))
        for obs, hist in items
    ]


def unpack_items(items: Sequence[WireItem]) -> list[tuple[Observation, History]]:
    return [(unpack_observation(obs), unpack_history(hist)) for obs, hist in items]


def pack_folder(folder: Path) -> bytes:
    """`folder`'s files as a zip archive (stored: PNGs are compressed already), without the
    worker's folder lock files (the driver holds its own)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.name != LOCK_NAME:
                archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


def unpack_folder(data: bytes, folder: Path) -> None:
    """Write the archive's files into `folder` (replaced when it exists).

    Raises:
        ValueError: a member's name would leave `folder`.
        UserError: a process is writing `folder` (`check_free`).
    """
    if folder.exists():
        check_free(folder, doing="replace")  # never another process's running episode
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    root = folder.resolve()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            target = (folder / name).resolve()
            if root not in target.parents:
                raise ValueError(f"archive member {name!r} leaves {folder}")
        archive.extractall(folder)
