"""Import optional dependencies with a message that says exactly how to install them."""

from __future__ import annotations

import importlib
from types import ModuleType

from pixelpilot.errors import MissingExtraError


def require(module: str, extra: str, *, package: str | None = None) -> ModuleType:
    """Import `module`, or raise MissingExtraError naming the pip command for `extra`.

    Args:
        module: the dotted module name to import, e.g. "playwright.sync_api".
        extra: the pixelpilot extra that provides it, e.g. "browser".
        package: the distribution name when it differs from the top-level module name.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        dist = package or module.split(".")[0]
        raise MissingExtraError(
            f"{dist} is not installed (needed for pixelpilot's '{extra}' features); "
            f"install it with: pip install 'pixelpilot[{extra}]'"
        ) from exc
