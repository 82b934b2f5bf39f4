"""The vocabulary as a byte trie, and the constraint's memory that lasts across steps and requests.

Why a trie: when none of the best-scoring tokens fits the grammar, the processor needs the
allowed tokens of the whole vocabulary. Testing tokens one by one costs one grammar walk per
token (Qwen has ~151,000); walking the grammar down a trie of the tokens' bytes costs one
grammar step per trie edge the grammar ACCEPTS, so a state that allows few tokens (a literal,
a digit, an enum) is answered after a few hundred steps whatever the vocabulary's size. A state
that allows most tokens (inside a string) would visit most of the trie; the walk then stops at a
budget and the caller scans by score instead, which finds an allowed token at once there.

The trie is implicit: the token byte strings sorted, a node being a range of them that shares a
prefix; a node's children are found by bisection (no per-node objects, so it costs one sorted
list however large the vocabulary) and memoised.

`ConstraintCache` holds what one policy computes once and reuses in every later step and
request: the trie, grammar transitions per (grammar, state, token), and the allowed tokens per
(grammar, state). Grammars are keys by identity (the policy keeps one per tool and image size).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from typing import Any

import numpy as np

from pixelpilot.model.qwen.constrain.grammar import State, ToolCallGrammar

# Grammar steps one walk may take before it gives up (the state allows too much to enumerate).
WALK_BUDGET = 20_000
# Entries kept per cache before it is emptied (a bound on memory over a very long run).
CACHE_LIMIT = 1_000_000

_Node = tuple[int, int, int]  # (lo, hi, depth): tokens keys[lo:hi] share keys[lo][:depth]


class TokenTrie:
    """Token ids by their bytes, sorted, walked as a trie.

    Args:
        data: per token id, its bytes (None or empty: a token that never appears in a call).
    """

    def __init__(self, data: Sequence[bytes | None]) -> None:
        pairs = sorted((value, index) for index, value in enumerate(data) if value)
        self.keys: list[bytes] = [value for value, _ in pairs]
        self.ids = np.array([index for _, index in pairs], dtype=np.int64)
        self._children: dict[_Node, tuple[int, list[tuple[int, int, int]]]] = {}

    def children(self, node: _Node) -> tuple[int, list[tuple[int, int, int]]]:
        """(end, [(byte, lo, hi), ...]): keys[lo:end] end here; then a run per next byte."""
        cached = self._children.get(node)
        if cached is not None:
            return cached
        lo, hi, depth = node
        keys = self.keys
        position = lo
        while position < hi and len(keys[position]) == depth:
            position += 1
        end = position
        runs: list[tuple[int, int, int]] = []
        while position < hi:
            key = keys[position]
            byte = key[depth]
            stop = (
                hi
                if byte == 255
                else bisect_left(keys, key[:depth] + bytes((byte + 1,)), position, hi)
            )
            runs.append((byte, position, stop))
            position = stop
        if len(self._children) >= CACHE_LIMIT:
            self._children.clear()
        self._children[node] = (end, runs)
        return end, runs

    def walk(
        self, grammar: ToolCallGrammar, state: State, *, budget: int = WALK_BUDGET
    ) -> tuple[np.ndarray, list[State]] | None:
        """Every token the grammar accepts from `state`, with the state after it.

        Returns:
            (token ids int64 array, states after each), or None when the walk would take more
            than `budget` grammar steps (a state that allows too much to enumerate cheaply).
        """
        found_ids: list[int] = []
        found_states: list[State] = []
        stack: list[tuple[_Node, State]] = [((0, len(self.keys), 0), state)]
        steps = 0
        while stack:
            node, current = stack.pop()
            end, runs = self.children(node)
            if node[2] > 0:
                for position in range(node[0], end):
                    found_ids.append(int(self.ids[position]))
                    found_states.append(current)
            steps += len(runs)
            if steps > budget:
                return None
            depth = node[2] + 1
            for byte, lo, hi in runs:
                after = grammar.step(current, byte)
                if after is not None:
                    stack.append(((lo, hi, depth), after))
        return np.array(found_ids, dtype=np.int64), found_states


class ConstraintCache:
    """What the constraint keeps across steps and requests for one tokenizer's table.

    Args:
        data: the TokenTable's per-id bytes (None: never allowed).
    """

    def __init__(self, data: Sequence[bytes | None]) -> None:
        self.data = data
        self._trie: TokenTrie | None = None
        self._transitions: dict[tuple[ToolCallGrammar, State, int], State | None] = {}
        self._allowed: dict[tuple[ToolCallGrammar, State], Any] = {}

    @property
    def trie(self) -> TokenTrie:
        """The vocabulary trie, built on first use (about a second for 151k tokens)."""
        if self._trie is None:
            self._trie = TokenTrie(self.data)
        return self._trie

    def advance(self, grammar: ToolCallGrammar, state: State, token: int) -> State | None:
        """The grammar's state after `token`'s bytes, or None when the token is refused."""
        key = (grammar, state, token)
        if key in self._transitions:
            return self._transitions[key]
        data = self.data[token] if 0 <= token < len(self.data) else None
        after = None if data is None else grammar.advance(state, data)
        if len(self._transitions) >= CACHE_LIMIT:
            self._transitions.clear()
        self._transitions[key] = after
        return after

    def allowed(
        self, grammar: ToolCallGrammar, state: State
    ) -> tuple[np.ndarray, list[State]] | None:
        """Every token allowed from `state` and the state after it (see `TokenTrie.walk`);
        None when the state allows too much to enumerate. Memoised."""
        key = (grammar, state)
        if key not in self._allowed:
            if len(self._allowed) >= CACHE_LIMIT // 100:
                self._allowed.clear()
            self._allowed[key] = self.trie.walk(grammar, state)
        found: tuple[np.ndarray, list[State]] | None = self._allowed[key]
        return found
