"""Policies: the Policy protocol, Prediction, History, ScriptedPolicy and the registry.

Model backends (Qwen2.5-VL, an OpenAI-compatible endpoint, the OCR baseline) are imported
lazily through `create_policy`, so importing this package never imports torch.
"""

from pixelpilot.model.base import History, HistoryEntry, Policy, PolicyBase, Prediction
from pixelpilot.model.registry import POLICIES, create_policy
from pixelpilot.model.scripted import ScriptedPolicy, load_script

__all__ = [
    "POLICIES",
    "History",
    "HistoryEntry",
    "Policy",
    "PolicyBase",
    "Prediction",
    "ScriptedPolicy",
    "create_policy",
    "load_script",
]
