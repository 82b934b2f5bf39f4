"""Constrained decoding: a transformers LogitsProcessor that only lets a well-formed call through.

Each batch row has a `ToolCallGrammar` (its tool and its image's resized size). At every step the
processor feeds the row's newest token to the grammar, then masks the scores so that only tokens
whose bytes keep the text a prefix of a valid call survive; once the call is complete only an
end-of-sequence token does. Allowed tokens keep their scores untouched, so a model that already
writes a valid call generates exactly what it would have unconstrained.

Speed: the bytes of every token are computed once per tokenizer (`TokenTable`). A step checks
only the `top_k` best-scoring tokens. Only when none of them is allowed does it scan further:
the tokens whose first byte the grammar accepts (one vectorised lookup), in descending score
order, stopping once `top_k` allowed tokens are found. Under greedy decoding this picks exactly
the best allowed token; under sampling it samples among the best `top_k` allowed tokens.

Budget: a token is allowed only if the call can still be closed within the tokens left
(`max_new_tokens`), assuming one byte per token (every byte is a token in byte-level BPE), so a
call never ends cut off.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from transformers import LogitsProcessor

from pixelpilot.model.qwen.constrain.grammar import State, ToolCallGrammar


def _byte_alphabet() -> dict[str, int]:
    """Byte-level BPE's printable stand-in character for each byte (the GPT-2 scheme)."""
    printable = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAD), *range(0xAE, 0x100)]
    chars: dict[str, int] = {chr(b): b for b in printable}
    extra = 0
    for byte in range(256):
        if byte not in printable:
            chars[chr(256 + extra)] = byte
            extra += 1
    return chars


@dataclass(frozen=True)
class TokenTable:
    """The bytes each token id adds to the text, computed once per tokenizer.

    Attributes:
        data: per token id, its bytes; None for tokens a call may never contain (special
            tokens, ids past the tokenizer that the model's padded vocabulary still scores).
        eos_ids: the end-of-sequence ids allowed once a call is complete.
        first_byte: per token id, its first byte; 256 for tokens that are never allowed.
    """

    data: tuple[bytes | None, ...]
    eos_ids: tuple[int, ...]
    first_byte: np.ndarray

    @classmethod
    def from_tokenizer(cls, tokenizer: Any, vocab_size: int, eos_ids: Iterable[int]) -> TokenTable:
        """Build the table for a transformers tokenizer.

        Args:
            tokenizer: a byte-level BPE tokenizer (Qwen's); others fall back to `decode`.
            vocab_size: the model's output size (may exceed the tokenizer's).
            eos_ids: ids that end generation (the generation config's eos_token_id).
        """
        alphabet = _byte_alphabet()
        added = {
            index: token for index, token in getattr(tokenizer, "added_tokens_decoder", {}).items()
        }
        count = min(len(tokenizer), vocab_size)
        pieces = tokenizer.convert_ids_to_tokens(list(range(count)))
        data: list[bytes | None] = []
        for index, piece in enumerate(pieces):
            if index in added:
                token = added[index]
                data.append(None if token.special else token.content.encode("utf-8"))
            elif piece is None:
                data.append(None)
            elif all(ch in alphabet for ch in piece):
                data.append(bytes(alphabet[ch] for ch in piece))
            else:
                data.append(tokenizer.decode([index]).encode("utf-8"))
        data.extend([None] * (vocab_size - count))
        first = np.array([value[0] if value else 256 for value in data], dtype=np.int16)
        eos = tuple(sorted(i for i in set(eos_ids) if 0 <= i < vocab_size))
        return cls(tuple(data), eos, first)


@dataclass
class ConstraintStats:
    """What the processor did, for benchmarks and provenance."""

    steps: int = 0
    full_scans: int = 0  # steps where no top-k token was allowed and the scan went further
    seconds: float = 0.0
    forced_stops: int = 0


class ToolCallConstraint(LogitsProcessor):  # type: ignore[misc]
    """LogitsProcessor for `model.generate(..., logits_processor=[...])`.

    Args:
        table: the tokenizer's TokenTable.
        grammars: one grammar per batch row.
        prompt_length: the (padded) prompt length; tokens after it are the generated ones.
        max_new_tokens: the generation budget, used to close calls in time.
        top_k: how many best-scoring tokens to check before scanning further, and how many
            allowed tokens that scan collects.
        prefixes: per row, the bytes already written at the end of the prompt (a prefilled
            assistant start); the row's grammar starts in the state after them. None = none.

    Raises:
        ValueError: a prefix that no valid call starts with.
    """

    supports_continuous_batching = False

    def __init__(
        self,
        table: TokenTable,
        grammars: Sequence[ToolCallGrammar],
        *,
        prompt_length: int,
        max_new_tokens: int,
        top_k: int = 32,
        prefixes: Sequence[bytes] | None = None,
    ) -> None:
        self.table = table
        self.grammars = list(grammars)
        self.states: list[State | None] = []
        for grammar, prefix in zip(grammars, prefixes or [b""] * len(grammars), strict=True):
            start = grammar.advance(grammar.initial, prefix)
            if start is None:
                raise ValueError(f"no valid tool call starts with {prefix!r}")
            self.states.append(start)
        self.finished = [False] * len(grammars)
        self.prompt_length = prompt_length
        self.max_new_tokens = max_new_tokens
        self.top_k = top_k
        self.fed = prompt_length
        self.stats = ConstraintStats()
        self._transitions: dict[tuple[int, State, int], State | None] = {}

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        started = time.perf_counter()
        self._feed(input_ids)
        remaining = self.max_new_tokens - (input_ids.shape[1] - self.prompt_length)
        masked = torch.full_like(scores, float("-inf"))
        for row in range(scores.shape[0]):
            if self.finished[row]:
                masked[row] = scores[row]
                continue
            allowed = self._allowed(row, scores[row], remaining)
            index = torch.tensor(allowed, dtype=torch.long, device=scores.device)
            masked[row, index] = scores[row, index]
        self.stats.steps += 1
        self.stats.seconds += time.perf_counter() - started
        return masked

    def _feed(self, input_ids: Any) -> None:
        """Advance each row's grammar over the tokens generated since the last call."""
        if input_ids.shape[1] <= self.fed:
            return
        new = input_ids[:, self.fed :].tolist()
        self.fed = input_ids.shape[1]
        for row, tokens in enumerate(new):
            for token in tokens:
                state = self.states[row]
                if self.finished[row] or state is None:
                    break
                if token in self.table.eos_ids:
                    self.finished[row] = True
                    break
                self.states[row] = self._advance(row, state, token)

    def _advance(self, row: int, state: State, token: int) -> State | None:
        key = (id(self.grammars[row]), state, token)
        if key not in self._transitions:
            data = self.table.data[token] if token < len(self.table.data) else None
            self._transitions[key] = (
                None if data is None else self.grammars[row].advance(state, data)
            )
        return self._transitions[key]

    def _fits(self, row: int, state: State, token: int, remaining: int) -> bool:
        nxt = self._advance(row, state, token)
        return nxt is not None and len(self.grammars[row].finish(nxt)) <= remaining - 1

    def _allowed(self, row: int, scores: Any, remaining: int) -> list[int]:
        state = self.states[row]
        grammar = self.grammars[row]
        if state is None or grammar.is_complete(state):
            return list(self.table.eos_ids)
        k = min(self.top_k, scores.shape[0])
        candidates = scores.topk(k).indices.tolist()
        allowed = [t for t in candidates if self._fits(row, state, t, remaining)]
        if allowed:
            return allowed
        self.stats.full_scans += 1
        first_ok = np.zeros(257, dtype=bool)
        first_ok[:256] = [grammar.step(state, byte) is not None for byte in range(256)]
        pool = np.flatnonzero(first_ok[self.table.first_byte])
        values = scores.detach().float().cpu().numpy()[pool]
        for token in pool[np.argsort(-values, kind="stable")].tolist():
            if self._fits(row, state, token, remaining):
                allowed.append(token)
                if len(allowed) >= self.top_k:
                    break
        if allowed:
            return allowed
        # Unreachable with a byte-level vocabulary; stop rather than emit garbage.
        self.stats.forced_stops += 1
        return list(self.table.eos_ids)

    def completed(self) -> list[bool]:
        """Per row: whether the grammar saw a complete call."""
        return [
            s is not None and g.is_complete(s)
            for g, s in zip(self.grammars, self.states, strict=True)
        ]
