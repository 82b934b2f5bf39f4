"""The constrained-decoding LogitsProcessor over the tiny tokenizer (no model forward passes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pixelpilot.model.qwen.constrain.grammar import ToolCallGrammar
from pixelpilot.model.qwen.constrain.processor import TokenTable, ToolCallConstraint
from pixelpilot.model.qwen.tools import load_family
from tests.model.qwen.support import tool_call

torch = pytest.importorskip("torch", reason="needs torch (the qwen extra)")
transformers = pytest.importorskip("transformers", reason="needs transformers")
AutoTokenizer = transformers.AutoTokenizer

pytestmark = pytest.mark.torch

W, H = 700, 420
PROMPT = 5  # a fake prompt length: the processor only looks past it


@pytest.fixture(scope="module")
def tokenizer(tiny_checkpoint: Path) -> Any:
    return AutoTokenizer.from_pretrained(str(tiny_checkpoint))


@pytest.fixture(scope="module")
def table(tokenizer: Any, tiny_checkpoint: Path) -> TokenTable:
    eos = [tokenizer.convert_tokens_to_ids(t) for t in ("<|im_end|>", "<|endoftext|>")]
    return TokenTable.from_tokenizer(tokenizer, len(tokenizer) + 40, eos)


def grammar(tool: str = "computer_use") -> ToolCallGrammar:
    schema = load_family().tools[tool].parameters
    return ToolCallGrammar(tool, schema["properties"]["action"]["enum"], W, H)


def test_token_table_matches_the_tokenizer(tokenizer: Any, table: TokenTable) -> None:
    for index in range(len(tokenizer)):
        data = table.data[index]
        piece = tokenizer.convert_ids_to_tokens(index)
        if piece in ("<|im_end|>", "<|image_pad|>", "<|endoftext|>", "<|vision_start|>"):
            assert data is None  # special tokens never appear inside a call
        elif piece in ("<tool_call>", "</tool_call>"):
            assert data == piece.encode()
        elif data is not None:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                continue  # a byte-level token holding part of a character
            assert tokenizer.decode([index]) == text
    assert table.data[len(tokenizer) :] == (None,) * 40  # the model's padded ids
    firsts = set(table.first_byte.tolist())
    assert firsts == set(range(257))  # every byte starts some token (byte-level BPE); 256: never


def _run(
    table: TokenTable,
    grammars: list[ToolCallGrammar],
    scorer: Any,
    *,
    budget: int,
    top_k: int = 8,
) -> tuple[list[list[int]], ToolCallConstraint]:
    """Greedy decoding with the constraint over scores from `scorer(step, row)`."""
    constraint = ToolCallConstraint(
        table, grammars, prompt_length=PROMPT, max_new_tokens=budget, top_k=top_k
    )
    rows = len(grammars)
    ids = torch.zeros((rows, PROMPT), dtype=torch.long)
    for step in range(budget):
        scores = torch.stack([scorer(step, row) for row in range(rows)])
        masked = constraint(ids, scores)
        chosen = masked.argmax(dim=-1)
        ids = torch.cat([ids, chosen[:, None]], dim=1)
        if all(int(t) in table.eos_ids for t in chosen):
            break
    return ids[:, PROMPT:].tolist(), constraint


def test_a_valid_answer_passes_through_untouched(tokenizer: Any, table: TokenTable) -> None:
    text = tool_call("computer_use", action="left_click", coordinate=[699, 7])
    target = [*tokenizer(text, add_special_tokens=False)["input_ids"], table.eos_ids[0]]
    generator = torch.Generator().manual_seed(0)
    vocab = len(table.data)
    constraint = ToolCallConstraint(
        table, [grammar()], prompt_length=PROMPT, max_new_tokens=128, top_k=8
    )
    ids = torch.zeros((1, PROMPT), dtype=torch.long)
    for token in target:
        scores = torch.randn((1, vocab), generator=generator)
        scores[0, token] = 50.0
        masked = constraint(ids, scores.clone())
        kept = torch.isfinite(masked[0])
        assert kept[token] and masked[0, token] == scores[0, token]
        assert torch.equal(masked[0, kept], scores[0, kept])  # allowed scores are unchanged
        assert int(masked.argmax()) == token
        ids = torch.cat([ids, torch.tensor([[token]])], dim=1)
    assert constraint.completed() == [True]
    assert constraint.stats.full_scans == 0


def test_random_scores_always_give_a_complete_call_within_the_budget(
    tokenizer: Any, table: TokenTable
) -> None:
    for seed in range(20):
        generator = torch.Generator().manual_seed(seed)
        tool = "computer_use" if seed % 2 else "mobile_use"
        budget = 100 + seed
        tokens, constraint = _run(
            table,
            [grammar(tool)],
            lambda step, row: torch.randn(len(table.data), generator=generator),  # noqa: B023
            budget=budget,
        )
        assert constraint.completed() == [True], seed
        assert len(tokens[0]) <= budget
        text = tokenizer.decode(tokens[0], skip_special_tokens=True)
        assert grammar(tool).accepts(text), text


def test_rows_are_independent_and_a_finished_row_is_left_alone(
    tokenizer: Any, table: TokenTable
) -> None:
    generator = torch.Generator().manual_seed(7)
    grammars = [grammar("computer_use"), grammar("mobile_use")]
    tokens, constraint = _run(
        table, grammars, lambda s, r: torch.randn(len(table.data), generator=generator), budget=120
    )
    assert constraint.completed() == [True, True]
    for row, g in enumerate(grammars):
        # generate() pads a finished row; here it kept sampling, unmasked, after its EOS
        end = next(i for i, t in enumerate(tokens[row]) if t in table.eos_ids)
        assert g.accepts(tokenizer.decode(tokens[row][:end], skip_special_tokens=True))
    scores = torch.randn((2, len(table.data)), generator=generator)
    finished = torch.tensor([[0] * PROMPT + tokens[0], [0] * PROMPT + tokens[1]])
    assert torch.equal(constraint(finished, scores.clone()), scores)


def test_falls_back_to_the_best_allowed_tokens_when_no_top_candidate_is_allowed(
    table: TokenTable,
) -> None:
    g = grammar()
    prefix = b'<tool_call>\n{"name": "computer_use", "arguments": {"action": "left_click", "coo'
    generator = torch.Generator().manual_seed(3)
    for state in (g.initial, g.advance(g.initial, prefix)):
        assert state is not None
        constraint = ToolCallConstraint(
            table, [g], prompt_length=PROMPT, max_new_tokens=128, top_k=4
        )
        constraint.states[0] = state
        scores = torch.randn((1, len(table.data)), generator=generator)
        # the four best-scoring tokens are ones a call never contains (special, padding ids)
        banned = [i for i, data in enumerate(table.data) if data is None][:4]
        scores[0, banned] = 10.0
        masked = constraint(torch.zeros((1, PROMPT), dtype=torch.long), scores.clone())
        assert constraint.stats.full_scans == 1
        allowed = torch.isfinite(masked[0]).nonzero().flatten().tolist()
        assert 0 < len(allowed) <= 4
        valid = [
            t for t, data in enumerate(table.data) if data and g.advance(state, data) is not None
        ]
        best = sorted(valid, key=lambda t: -float(scores[0, t]))[: len(allowed)]
        assert sorted(allowed) == sorted(best)  # the best-scoring valid tokens, exactly
        assert int(masked.argmax()) == best[0]
