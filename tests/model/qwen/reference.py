"""The reference implementation (qwen-vl-utils) for comparison tests, imported as installed.

qwen-vl-utils imports torchvision at module level for its video helpers; `smart_resize` and
`to_rgb` use neither torch nor torchvision. Where torchvision is not installed (CPU machines here:
the PyPI wheel is built against CUDA torch) empty placeholder modules stand in for the import
only, and are removed again at once so nothing else (transformers) ever sees them.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any

import pytest


def vision_process() -> Any:
    """`qwen_vl_utils.vision_process`, or skip the test when qwen-vl-utils is not installed."""
    if importlib.util.find_spec("qwen_vl_utils") is None:
        pytest.skip("needs qwen-vl-utils (pip install qwen-vl-utils), the reference smart_resize")
    if "qwen_vl_utils.vision_process" in sys.modules:
        return sys.modules["qwen_vl_utils.vision_process"]
    placeholders: dict[str, types.ModuleType] = {}
    if importlib.util.find_spec("torchvision") is None:
        root = types.ModuleType("torchvision")
        transforms = types.ModuleType("torchvision.transforms")
        transforms.InterpolationMode = types.SimpleNamespace(BICUBIC="bicubic")  # type: ignore[attr-defined]
        root.io = types.ModuleType("torchvision.io")  # type: ignore[attr-defined]
        root.transforms = transforms  # type: ignore[attr-defined]
        root.__version__ = "0.0"  # type: ignore[attr-defined]
        placeholders = {
            "torchvision": root,
            "torchvision.io": root.io,  # type: ignore[attr-defined]
            "torchvision.transforms": transforms,
        }
    sys.modules.update(placeholders)
    try:
        return importlib.import_module("qwen_vl_utils.vision_process")
    finally:
        for name in placeholders:
            sys.modules.pop(name, None)
