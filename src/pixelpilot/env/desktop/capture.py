"""Screen capture for the desktop: an mss grab converted to the RGB PIL image an Observation
holds, and the Pillow setting that keeps that conversion fast."""

from __future__ import annotations

from typing import Any

from PIL import Image

IMAGE_BLOCKS_KEPT = 4
"""Freed 16 MiB image blocks Pillow may keep for reuse; set for the process when a DesktopEnv
opens (a larger setting is left as it is).

Pillow's default keeps none, so every screenshot's pixels land in freshly mapped memory and
page-fault in; reusing blocks makes a 1920x1080 capture several times faster (see
bench/capture_latency_desktop.py) for at most this many blocks of retained memory."""


def keep_image_blocks(count: int = IMAGE_BLOCKS_KEPT) -> None:
    """Let Pillow keep `count` freed image blocks for reuse (never lowers a larger setting)."""
    core = Image.core  # type: ignore[attr-defined]  # Pillow's C module, not re-exported
    if core.get_blocks_max() < count:
        core.set_blocks_max(count)


def capture_image(sct: Any, monitor: dict[str, int]) -> Image.Image:
    """Grab `monitor` with the mss instance `sct` as an RGB PIL image (a copy of the pixels)."""
    shot = sct.grab(monitor)
    return Image.frombytes("RGB", shot.size, shot.raw, "raw", "BGRX")
