"""Policies: the Policy protocol, Prediction, History, ScriptedPolicy and the registry.

Model backends (Qwen2.5-VL, an OpenAI-compatible endpoint, the OCR baseline) are imported
lazily through `create_policy`, so importing this package never imports torch. Here: `base`
(the protocol), `checker` (check_policy), `registry`, `scripted`; `qwen/` and `ocr/`.

May import: `pixelpilot.actions` and the shared modules; never `env`, `agent`, `evals` or `cli`.
"""

from pixelpilot.model.base import History, HistoryEntry, Policy, PolicyBase, Prediction
from pixelpilot.model.checker import PolicyCheckError, check_policy
from pixelpilot.model.registry import POLICIES, create_policy
from pixelpilot.model.scripted import ScriptedPolicy, load_script

__all__ = [
    "POLICIES",
    "History",
    "HistoryEntry",
    "Policy",
    "PolicyBase",
    "PolicyCheckError",
    "Prediction",
    "ScriptedPolicy",
    "check_policy",
    "create_policy",
    "load_script",
]
