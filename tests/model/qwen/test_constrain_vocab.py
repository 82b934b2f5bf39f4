"""The vocabulary trie and the constraint's cross-step cache, against brute force."""

from __future__ import annotations

from pathlib import Path

import pytest

from pixelpilot.model.qwen.constrain.grammar import State, ToolCallGrammar
from pixelpilot.model.qwen.constrain.processor import TokenTable, ToolCallConstraint
from pixelpilot.model.qwen.constrain.vocab import ConstraintCache, TokenTrie
from pixelpilot.model.qwen.tools import load_family

torch = pytest.importorskip("torch", reason="needs torch (the qwen extra)")
transformers = pytest.importorskip("transformers", reason="needs transformers")

pytestmark = pytest.mark.torch

W, H = 700, 420
PREFIXES = [
    b"",
    b"<tool_",
    b'<tool_call>\n{"name": "computer_use", "arguments": {"action": "',
    b'<tool_call>\n{"name": "computer_use", "arguments": {"action": "left_click", "coo',
    b'<tool_call>\n{"name": "computer_use", "arguments": {"action": "left_click", "coordinate": [6',
    b'<tool_call>\n{"name": "computer_use", "arguments": {"action": "key", "keys": ["ctr',
    b'<tool_call>\n{"name": "computer_use", "arguments": {"action": "type", "text": "hel',
]


@pytest.fixture(scope="module")
def table(tiny_checkpoint: Path) -> TokenTable:
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(tiny_checkpoint))
    eos = [tokenizer.convert_tokens_to_ids(t) for t in ("<|im_end|>", "<|endoftext|>")]
    return TokenTable.from_tokenizer(tokenizer, len(tokenizer) + 40, eos)


def _grammar() -> ToolCallGrammar:
    schema = load_family().tools["computer_use"].parameters
    return ToolCallGrammar("computer_use", schema["properties"]["action"]["enum"], W, H)


def _brute_force(table: TokenTable, grammar: ToolCallGrammar, state: State) -> dict[int, State]:
    found = {}
    for token, data in enumerate(table.data):
        after = grammar.advance(state, data) if data else None
        if after is not None:
            found[token] = after
    return found


@pytest.mark.parametrize("prefix", PREFIXES)
def test_the_trie_walk_finds_exactly_the_allowed_tokens(table: TokenTable, prefix: bytes) -> None:
    grammar = _grammar()
    state = grammar.advance(grammar.initial, prefix)
    assert state is not None
    walked = TokenTrie(table.data).walk(grammar, state, budget=10**9)
    assert walked is not None
    ids, after = walked
    expected = _brute_force(table, grammar, state)
    assert sorted(ids.tolist()) == sorted(expected)
    assert all(expected[int(t)] == s for t, s in zip(ids.tolist(), after, strict=True))
    assert len(expected) > 0


def test_a_state_that_allows_too_much_gives_up_within_its_budget(table: TokenTable) -> None:
    grammar = _grammar()
    state = grammar.advance(grammar.initial, PREFIXES[-1])
    assert state is not None
    assert TokenTrie(table.data).walk(grammar, state, budget=50) is None
    assert len(_brute_force(table, grammar, state)) > 50


def test_a_shared_cache_gives_the_same_masks_and_is_reused(table: TokenTable) -> None:
    grammar = _grammar()
    cache = ConstraintCache(table.data)
    generator = torch.Generator().manual_seed(11)
    scores = [torch.randn((1, len(table.data)), generator=generator) for _ in range(40)]

    def decode(constraint: ToolCallConstraint) -> list[int]:
        ids = torch.zeros((1, 3), dtype=torch.long)
        for row in scores:
            chosen = int(constraint(ids, row.clone()).argmax())
            ids = torch.cat([ids, torch.tensor([[chosen]])], dim=1)
        return [int(t) for t in ids[0, 3:].tolist()]

    def constraint(shared: ConstraintCache | None) -> ToolCallConstraint:
        return ToolCallConstraint(
            table, [grammar], prompt_length=3, max_new_tokens=200, top_k=1, cache=shared
        )

    alone = decode(constraint(None))
    first = decode(constraint(cache))
    remembered = len(cache._transitions), len(cache._allowed)
    again = constraint(cache)
    assert decode(again) == first == alone
    assert (len(cache._transitions), len(cache._allowed)) == remembered  # nothing recomputed
    assert remembered[0] > 0 and remembered[1] > 0
    assert again.stats.full_scans > 0  # the random scores needed the allowed sets


def test_top_1_under_greedy_picks_what_top_32_picks(table: TokenTable) -> None:
    grammar = _grammar()
    generator = torch.Generator().manual_seed(5)
    rows = [torch.randn((1, len(table.data)), generator=generator) for _ in range(60)]
    picks = []
    for top_k in (1, 32):
        processor = ToolCallConstraint(
            table, [grammar], prompt_length=3, max_new_tokens=200, top_k=top_k
        )
        ids = torch.zeros((1, 3), dtype=torch.long)
        for row in rows:
            chosen = int(processor(ids, row.clone()).argmax())
            ids = torch.cat([ids, torch.tensor([[chosen]])], dim=1)
        picks.append(ids[0, 3:].tolist())
    assert picks[0] == picks[1]
    written = b"".join(table.data[t] or b"" for t in picks[0] if t not in table.eos_ids)
    assert grammar.advance(grammar.initial, written) is not None  # a valid call's start
