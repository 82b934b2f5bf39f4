"""Qwen2.5-VL in-process (transformers): `--model qwen25vl:<hub id or local folder>`.

One prediction: build the cookbook prompt for the observation's tool (`computer_use` on desktop
and browser, `mobile_use` on Android) with the screen size the model sees (smart_resize under the
pixel budget), tokenise it with the image tokens expanded, generate under the tool-call
constraint (on by default), and parse the text. Coordinates come back in the resized frame and
are mapped per axis to screenshot pixels by `parse_output`; an unparseable output or a coordinate
outside the image is a Prediction with `action=None` and `error`, never an exception.

Grounding mode (`grounding=true`, ScreenSpot) replaces the agent prompt by the reference
grounding prompt (`pixelpilot.model.qwen.grounding`): computer_use at the resized size whatever the
platform, the goal as the whole user turn, no history; with `grounding_prefill` the prefix's
tokens follow the prompt, the constraint starts after them, and the prefix is put back in front
of the generated text before parsing.

`predict_batch` runs several independent requests in one generate call (evaluation, the
batching front); under greedy decoding its results equal one-at-a-time prediction. With
`reuse_prefix` (the default) a single request starts from the KV cache of the last one's prompt
text (`PrefixCache`), and the requests of a batch share the KV cache of the prefix they all
start with, prefilled once and kept across calls (`SharedPrefix`; the batch is padded after that
prefix instead of on the left). `last_batch_reuse` tells, per item, how many prompt tokens came
from a cache; `pixelpilot.model.qwen.reuse` and `.sharing` say why the results stay identical.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pixelpilot._extras import require
from pixelpilot.actions import Observation, Size
from pixelpilot.errors import ConfigError, PolicyError
from pixelpilot.model.base import History, PolicyBase, Prediction
from pixelpilot.model.qwen.config import Qwen25VLConfig
from pixelpilot.model.qwen.constrain.grammar import ToolCallGrammar
from pixelpilot.model.qwen.grounding import GROUNDING_PREFIX
from pixelpilot.model.qwen.inputs import EncodedPrompt, collate, encode_prompt
from pixelpilot.model.qwen.loading import (
    Checkpoint,
    ImageSettings,
    check_quantization,
    load_model,
    load_tokenizer,
    locate_checkpoint,
    quantization_method,
    read_image_settings,
    resolve_attention,
    resolve_device,
    resolve_dtype,
)
from pixelpilot.model.qwen.prompt import message_images, render_messages
from pixelpilot.model.qwen.protocol import Turn, build_turn, prediction_from_reply
from pixelpilot.model.qwen.reuse import BatchReuse, Reuse, VisionCache, image_digest
from pixelpilot.model.qwen.sharing import PromptReuse, full_attention_only
from pixelpilot.model.qwen.tools import (
    FAMILY,
    ToolName,
    load_family,
)

__all__ = ["Qwen25VLConfig", "Qwen25VLPolicy"]


@dataclass(frozen=True)
class _Request:
    """One prediction's turn (messages and geometry) and its tokenised prompt."""

    turn: Turn
    prompt: EncodedPrompt
    digests: tuple[str, ...] = ()  # per image of the prompt, its content digest


class Qwen25VLPolicy(PolicyBase):
    """Qwen2.5-VL-Instruct (3B/7B/32B/72B, AWQ) as a GUI agent policy.

    Args:
        checkpoint: where the weights are (see `locate_checkpoint`).
        config: the backend options.
        spec: the spec string for reports.

    Raises:
        ConfigError, MissingExtraError: from loading (bad folder, missing library).
    """

    Config = Qwen25VLConfig

    def __init__(self, checkpoint: Checkpoint, config: Qwen25VLConfig, *, spec: str = "") -> None:
        require("torch", "qwen")
        require("transformers", "qwen")
        self.config = config
        self.checkpoint = checkpoint
        self.spec = spec or f"qwen25vl:{checkpoint.source}"
        self.image_history = config.image_history
        self._grammars: dict[tuple[Any, ...], ToolCallGrammar] = {}
        self._check_budget()  # before loading: a bad budget fails in a second, not a minute
        started = time.perf_counter()
        self.settings: ImageSettings = read_image_settings(
            checkpoint.path, min_pixels=config.min_pixels, max_pixels=config.max_pixels
        )
        quantization = quantization_method(checkpoint.path)
        check_quantization(quantization, checkpoint.source)
        self.device = resolve_device(config.device)
        if config.cpu_threads is not None:
            import torch

            # Small models on a busy CPU run many times faster single-threaded.
            torch.set_num_threads(config.cpu_threads)
        self.dtype = resolve_dtype(config.dtype, self.device, quantization)
        self.attention = resolve_attention(config.attn_implementation, self.device, self.dtype)
        self.quantization = quantization
        self.model: Any = load_model(
            checkpoint,
            dtype=self.dtype,
            device=self.device,
            device_map=config.device_map,
            attn_implementation=self.attention,
        )
        self.tokenizer: Any = load_tokenizer(checkpoint)
        self.image_token_id = int(self.model.config.image_token_id)
        self.generation = self._generation_config()
        self._table: Any = None
        self._constraint_cache: Any = None
        # A cropped sliding-window cache is not the recomputed one: no prefix reuse there.
        self._reuse = PromptReuse(
            self.model,
            self.image_token_id,
            enabled=config.reuse_prefix and full_attention_only(self.model.config),
        )
        self._vision = VisionCache() if config.reuse_vision and config.image_history else None
        self.last_constraint: Any = None
        self.load_seconds = time.perf_counter() - started

    @property
    def last_reuse(self) -> Reuse:
        """The last predict_batch's prompt tokens, all items together, and how many were cached."""
        return self._reuse.last.overall

    @property
    def last_batch_reuse(self) -> BatchReuse:
        """The last predict_batch's reuse per item, and the shared prefix prefilled once."""
        return self._reuse.last

    @classmethod
    def from_spec(cls, argument: str, config: Qwen25VLConfig) -> Qwen25VLPolicy:
        checkpoint = locate_checkpoint(
            argument, revision=config.revision, cache_dir=config.cache_dir
        )
        return cls(checkpoint, config, spec=f"qwen25vl:{argument}")

    # -- decoding settings ---------------------------------------------------------------------

    def _generation_config(self) -> Any:
        """The checkpoint's generation config with this run's decoding settings applied."""
        import copy

        base = copy.deepcopy(self.model.generation_config)
        base.max_new_tokens = self.config.max_new_tokens
        base.return_dict_in_generate = True  # the cache comes back, for PrefixCache
        base.do_sample = not self.config.greedy
        if self.config.greedy:
            base.temperature, base.top_p, base.top_k = None, None, None
        else:
            base.temperature, base.top_p, base.top_k = self.config.temperature, self.config.top_p, 0
        if self.config.repetition_penalty is not None:
            base.repetition_penalty = self.config.repetition_penalty
        eos = base.eos_token_id
        self.eos_ids = [eos] if isinstance(eos, int) else list(eos or [])
        if (
            self.tokenizer.eos_token_id is not None
            and self.tokenizer.eos_token_id not in self.eos_ids
        ):
            self.eos_ids.append(int(self.tokenizer.eos_token_id))
        base.eos_token_id = self.eos_ids
        if base.pad_token_id is None:
            base.pad_token_id = self.tokenizer.pad_token_id
        self.pad_token_id = int(
            base.pad_token_id if base.pad_token_id is not None else self.eos_ids[0]
        )
        return base

    def _grammar(self, tool: ToolName, resized: Size, pointer_known: bool) -> ToolCallGrammar:
        key = (tool, resized, pointer_known)
        if key not in self._grammars:
            # Only the advertised actions: the prompt does not offer the extra `answer`.
            schema = load_family(FAMILY).tools[tool].parameters
            self._grammars[key] = ToolCallGrammar(
                tool,
                schema["properties"]["action"]["enum"],
                resized.width,
                resized.height,
                pointer_known=pointer_known,
                max_text_chars=self.config.max_text_chars,
            )
        return self._grammars[key]

    def _constraint(self, requests: Sequence[_Request], prompt_length: int) -> Any:
        from pixelpilot.model.qwen.constrain.processor import TokenTable, ToolCallConstraint

        if self._table is None:
            from pixelpilot.model.qwen.constrain.vocab import ConstraintCache

            vocab = int(self.model.config.text_config.vocab_size)
            self._table = TokenTable.from_tokenizer(self.tokenizer, vocab, self.eos_ids)
            # Transitions, allowed sets and the vocabulary trie, kept across steps and requests.
            self._constraint_cache = ConstraintCache(self._table.data)
        grammars = [
            self._grammar(r.turn.tool, r.turn.resized, r.turn.pointer is not None) for r in requests
        ]
        return ToolCallConstraint(
            self._table,
            grammars,
            prompt_length=prompt_length,
            max_new_tokens=self.config.max_new_tokens,
            # Greedy picks the best allowed token: checking the best one alone is exact.
            top_k=1 if self.config.greedy else self.config.constraint_top_k,
            prefixes=[r.turn.prefix.encode("utf-8") for r in requests],
            cache=self._constraint_cache,
        )

    def _check_budget(self) -> None:
        """The constraint counts one byte per token: the budget must fit the shortest call."""
        if not self.config.constrained:
            return
        tools: tuple[ToolName, ...] = ("computer_use", "mobile_use")
        prefix = b""
        if self.config.grounding:  # computer_use only; a prefilled start is already written
            tools = ("computer_use",)
            prefix = GROUNDING_PREFIX.encode() if self.config.grounding_prefill else b""
        needed = 0
        for tool in tools:
            grammar = self._grammar(tool, Size(28, 28), False)
            start = grammar.advance(grammar.initial, prefix)
            assert start is not None  # the prefix is a valid computer_use start
            needed = max(needed, len(grammar.finish(start)))
        if self.config.max_new_tokens < needed:
            raise ConfigError(
                f"max_new_tokens={self.config.max_new_tokens} is too small for constrained "
                f"decoding: a tool call may need {needed} tokens; use at least {needed}"
            )

    # -- prediction ----------------------------------------------------------------------------

    def _encode(self, text: str, images: list[Any]) -> EncodedPrompt:
        return encode_prompt(
            text,
            images,
            tokenizer=self.tokenizer,
            image_token_id=self.image_token_id,
            settings=self.settings,
        )

    def _request(self, observation: Observation, history: History) -> _Request:
        turn = build_turn(
            observation,
            history,
            budget=self.settings.budget,
            image_history=self.image_history,
            grounding=self.config.grounding,
            grounding_prefill=self.config.grounding_prefill,
        )
        text = render_messages(turn.messages, assistant_prefix=turn.prefix)
        images = message_images(turn.messages)
        digests = tuple(image_digest(i) for i in images) if self._vision is not None else ()
        return _Request(turn, self._encode(text, images), digests)

    def predict(self, observation: Observation, history: History) -> Prediction:
        """The next action in screenshot pixels (see the module docstring)."""
        return self.predict_batch([(observation, history)])[0]

    def predict_batch(self, items: Sequence[tuple[Observation, History]]) -> list[Prediction]:
        """Predict for independent (observation, history) pairs in one generate call.

        Raises:
            PolicyError: generation failed (out of memory, device error) or the policy is closed.
        """
        import torch

        if not items:
            return []
        if self.model is None:
            raise PolicyError("the qwen25vl policy was closed; create a new one")
        started = time.perf_counter()
        requests = [self._request(obs, hist) for obs, hist in items]
        rows = [r.prompt.input_ids for r in requests]
        try:
            cache, shared = self._reuse.take(rows)
        except (RuntimeError, MemoryError) as exc:  # the shared prefix's prefill
            raise PolicyError(f"qwen25vl prefill failed on {self.device}: {exc}") from exc
        inputs = collate(
            [r.prompt for r in requests],
            pad_token_id=self.pad_token_id,
            image_token_id=self.image_token_id,
            device=self.model.device,
            shared=shared,
        )
        prompt_length = int(inputs["input_ids"].shape[1])
        processors = []
        if self.config.constrained:
            self.last_constraint = self._constraint(requests, prompt_length)
            processors.append(self.last_constraint)
        extra: dict[str, Any] = {} if cache is None else {"cache": cache}
        if self._vision is not None and len(requests) == 1 and "pixel_values" in inputs:
            from transformers.modeling_outputs import BaseModelOutputWithPooling

            with torch.inference_mode():
                embeddings = self._vision.embeddings(
                    self.model,
                    requests[0].digests,
                    inputs.pop("pixel_values"),
                    inputs["image_grid_thw"],
                )
            # transformers keeps the per-image tuple torch.split gives in pooler_output too
            encoded = BaseModelOutputWithPooling(pooler_output=embeddings)  # type: ignore[arg-type]
            extra["mm_encoder_outputs"] = {"image": encoded}
        prepared = time.perf_counter()
        try:
            with torch.inference_mode():
                self.model.model.rope_deltas = None  # positions come from this prompt alone
                output = self.model.generate(
                    **inputs,
                    **extra,
                    generation_config=self.generation,
                    logits_processor=processors,
                )
        except (RuntimeError, MemoryError) as exc:  # out of memory, device lost, kernel errors
            raise PolicyError(f"qwen25vl generation failed on {self.device}: {exc}") from exc
        generated = time.perf_counter()
        self._reuse.keep(rows, output.cache)
        texts = self.tokenizer.batch_decode(
            output.sequences[:, prompt_length:],
            skip_special_tokens=True,
            clean_up_tokenization_spaces=False,
        )
        share = 1 / len(requests)
        timings = {
            "preprocess": (prepared - started) * share,
            "generate": (generated - prepared) * share,
        }
        return [
            prediction_from_reply(text, r.turn, timings)
            for r, text in zip(requests, texts, strict=True)
        ]

    def describe(self) -> dict[str, object]:
        """Provenance: checkpoint, revision/commit, dtype, device, pixel budget, decoding."""
        import torch
        import transformers

        budget = self.settings.budget
        return {
            "backend": "qwen25vl",
            "spec": self.spec,
            "model": self.checkpoint.source,
            "path": str(self.checkpoint.path),
            "revision": self.config.revision,
            "commit": self.checkpoint.commit,
            "quantization": self.quantization,
            "dtype": str(self.dtype).removeprefix("torch."),
            "device": str(self.device),
            "device_map": self.config.device_map,
            "attn_implementation": self.attention,
            "min_pixels": budget.min_pixels,
            "max_pixels": budget.max_pixels,
            "pixels_from": "config"
            if self.config.min_pixels or self.config.max_pixels
            else "checkpoint",
            "max_new_tokens": self.config.max_new_tokens,
            "greedy": self.config.greedy,
            "temperature": None if self.config.greedy else self.config.temperature,
            "top_p": None if self.config.greedy else self.config.top_p,
            "repetition_penalty": self.generation.repetition_penalty,
            "constrained": self.config.constrained,
            "image_history": self.image_history,
            "grounding": self.config.grounding,
            "grounding_prefill": self.config.grounding and self.config.grounding_prefill,
            "cpu_threads": self.config.cpu_threads,
            "load_seconds": round(self.load_seconds, 3),
            "transformers": transformers.__version__,
            "torch": torch.__version__,
        }

    def close(self) -> None:
        """Drop the model and free GPU memory; safe to call twice."""
        if getattr(self, "model", None) is None:
            return
        self.model = None
        self._table = None
        self._constraint_cache = None
        self._reuse.clear()
        if self._vision is not None:
            self._vision.clear()
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
