"""The versions that shape a run's results, recorded in every run and report."""

from __future__ import annotations

import importlib.metadata
import platform

from pixelpilot import __version__

VERSIONED = (
    "torch",
    "transformers",
    "accelerate",
    "playwright",
    "adb-shell",
    "mss",
    "pyautogui",
    "rapidocr-onnxruntime",
    "pillow",
    "numpy",
)


def versions() -> dict[str, str]:
    """pixelpilot, Python and the installed versions of the libraries that shape results.

    Reads package metadata only: nothing heavy is imported.
    """
    found = {"pixelpilot": __version__, "python": platform.python_version()}
    for name in VERSIONED:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found
