"""Test-wide settings and fixtures.

Hypothesis: no per-example deadline (these machines are shared and timing is noisy, and speed is
measured in bench/, never in tests); under CI (`CI` set) the search is derandomized so that a
submission's result does not depend on the luck of the draw.

Markers for tests that need real parts: `desktop` (Xvfb and the desktop extra), `browser`
(Chromium and Playwright), `torch` (torch and transformers). On a partial install those tests are
skipped with the reason; with `PIXELPILOT_REQUIRE_ALL=1` (set by `make test` and CI) a missing
part fails them instead, so a full run never counts a skipped test as passed.

`tiny_checkpoint` (session): the tiny random-weight Qwen2.5-VL checkpoint, built once.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("default", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")


def _missing_modules(*names: str) -> list[str]:
    return [name for name in names if importlib.util.find_spec(name) is None]


def _chromium() -> bool:
    if shutil.which("chromium") or shutil.which("chromium-browser"):
        return True
    cache = Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH", Path.home() / ".cache/ms-playwright"))
    return any(cache.glob("chromium-*"))


def _requirement_gaps() -> dict[str, str]:
    """marker -> why its tests cannot run here ("" when they can)."""
    gaps: dict[str, str] = {}
    missing = _missing_modules("mss", "pyautogui", "Xlib")
    if shutil.which("Xvfb") is None:
        missing.append("the Xvfb binary (apt-get install xvfb)")
    gaps["desktop"] = ", ".join(missing)
    missing = _missing_modules("playwright")
    if not _chromium():
        missing.append("Chromium (apt-get install chromium)")
    gaps["browser"] = ", ".join(missing)
    gaps["torch"] = ", ".join(_missing_modules("torch", "transformers"))
    return gaps


def pytest_configure(config: pytest.Config) -> None:
    for name, what in (
        ("desktop", "needs Xvfb and the desktop extra (mss, pyautogui, python-xlib)"),
        ("browser", "needs Chromium and Playwright (the browser extra)"),
        ("torch", "needs torch and transformers (the qwen extra)"),
    ):
        config.addinivalue_line("markers", f"{name}: {what}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    gaps = _requirement_gaps()
    strict = os.environ.get("PIXELPILOT_REQUIRE_ALL") == "1"
    for marker, gap in gaps.items():
        marked = [item for item in items if item.get_closest_marker(marker) is not None]
        if not gap or not marked:
            continue
        reason = f"{len(marked)} {marker} test(s) need: {gap}"
        if strict:
            raise pytest.UsageError(f"PIXELPILOT_REQUIRE_ALL=1, but {reason}")
        for item in marked:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny random-weight Qwen2.5-VL checkpoint, written once per test session."""
    pytest.importorskip("torch", reason="the tiny checkpoint needs torch (the qwen extra)")
    from pixelpilot.model.qwen.tiny import build_tiny_checkpoint

    return build_tiny_checkpoint(tmp_path_factory.mktemp("tiny-qwen25vl"))
