"""Options of the qwen25vl backend (`--model-opt KEY=VALUE` or `[model.qwen25vl]`)."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from pixelpilot.model.qwen.grounding import GroundingOptions


class Qwen25VLConfig(GroundingOptions):
    """Options of the qwen25vl backend (`--model-opt KEY=VALUE` or `[model.qwen25vl]`)."""

    model_config = ConfigDict(extra="forbid")

    dtype: Literal["auto", "bfloat16", "float16", "float32"] = Field(
        "auto",
        description="weights dtype; auto = bfloat16 on GPU (float16 for AWQ), float32 on CPU",
    )
    device: str = Field(
        "auto",
        description="torch device for the model and inputs; auto = cuda if visible, else cpu",
    )
    device_map: str | dict[str, int | str] | None = Field(
        None, description="accelerate placement, e.g. auto to spread a 72B over GPUs; None = device"
    )
    attn_implementation: Literal["auto", "flash_attention_2", "sdpa", "eager"] = Field(
        "auto", description="attention kernel; auto = flash_attention_2 when installed, else sdpa"
    )
    min_pixels: int | None = Field(
        None, gt=0, description="smallest image area in pixels; None = the checkpoint's value"
    )
    max_pixels: int | None = Field(
        None, gt=0, description="largest image area in pixels; None = the checkpoint's value"
    )
    max_new_tokens: int = Field(
        512,
        ge=1,
        description="generation budget per step, in tokens (constrained: at least ~100, one byte"
        " per token is assumed so that a call always closes in time)",
    )
    constrained: bool = Field(True, description="only allow well-formed tool calls")
    constraint_top_k: int = Field(
        32, ge=1, description="best-scoring tokens checked before a full vocabulary scan"
    )
    max_text_chars: int = Field(
        512, ge=1, description="longest text argument under the constraint, in characters"
    )
    image_history: int = Field(
        0, ge=0, description="earlier screenshots shown to the model; 0 = text-only history"
    )
    reuse_prefix: bool = Field(
        True,
        description="keep the KV cache of the prompt text shared with the last step (system "
        "prompt, tools, goal, earlier history) and prefill only the rest; same results",
    )
    reuse_vision: bool = Field(
        True,
        description="with image_history: run each screenshot through the vision tower once "
        "and reuse its embeddings while it stays in the window; same results",
    )
    greedy: bool = Field(True, description="greedy decoding; false = sampling")
    temperature: float = Field(1.0, gt=0, description="sampling temperature (greedy=false)")
    top_p: float = Field(1.0, gt=0, le=1, description="nucleus sampling mass (greedy=false)")
    repetition_penalty: float | None = Field(
        None, gt=0, description="None = the checkpoint's generation_config value"
    )
    cpu_threads: int | None = Field(
        None,
        ge=1,
        description="torch CPU threads for the whole process (set on load); None = torch's default",
    )
    revision: str | None = Field(None, description="hub branch, tag or commit; None = main")
    cache_dir: str | None = Field(
        None, description="hub cache folder; None = huggingface_hub's (HF_HUB_CACHE / HF_HOME)"
    )
