"""The policy registry: spec strings for `--model`, resolved lazily to backends.

A spec is `NAME` or `NAME:ARGUMENT` (e.g. `scripted:actions.jsonl`, `qwen25vl:/models/7b`,
`openai:http://127.0.0.1:8000/v1#Qwen2.5-VL-7B-Instruct`, `ocr`). Each backend class has a
`Config` pydantic model and a classmethod `from_spec(argument, config)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pixelpilot.model.base import Policy
from pixelpilot.registry import Registry, require_class, validate_options

# Classes with a pydantic `Config`, `from_spec` and the Policy methods; plugins:
# `pixelpilot.policies`.
POLICIES: Registry[type[Policy]] = Registry(
    "model",
    group="pixelpilot.policies",
    check=require_class(
        methods=("Config", "from_spec", "predict", "predict_batch", "describe", "close")
    ),
)
POLICIES.register(
    "scripted",
    "pixelpilot.model.scripted:ScriptedPolicy",
    help="scripted:FILE.jsonl replays actions",
)
POLICIES.register(
    "qwen25vl",
    "pixelpilot.model.qwen.transformers_backend:Qwen25VLPolicy",
    help="qwen25vl:HUB_ID_OR_PATH runs Qwen2.5-VL in-process (transformers)",
)
POLICIES.register(
    "openai",
    "pixelpilot.model.qwen.openai_backend:OpenAICompatPolicy",
    help="openai:BASE_URL#MODEL calls an OpenAI-compatible server (vLLM, SGLang)",
)
POLICIES.register(
    "ocr", "pixelpilot.model.ocr.policy:OCRPolicy", help="ocr: a CPU text-matching baseline"
)


def create_policy(spec: str, options: Mapping[str, Any] | None = None) -> Policy:
    """Build a policy from a spec string and options for its Config.

    Raises:
        UnknownNameError: the spec's name is not registered.
        ConfigError: an option is invalid, or the spec's argument is missing or malformed.
        MissingExtraError: the backend's optional dependencies are not installed.
        PluginError: the registered class is broken (see `pixelpilot.registry`).
    """
    name, _, argument = spec.partition(":")
    cls: Any = POLICIES.load(name)
    config = validate_options(cls.Config, options, f"'{name}' model")
    policy: Policy = cls.from_spec(argument, config)
    policy.spec = spec
    return policy
