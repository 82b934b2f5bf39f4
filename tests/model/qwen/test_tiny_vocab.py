"""The tiny tokenizer widened to a chosen vocabulary size (for Qwen-sized benchmarks)."""

from __future__ import annotations

import pytest

from pixelpilot.model.qwen.tiny import QWEN_ADDED_TOKENS, build_tokenizer

pytest.importorskip("tokenizers", reason="needs tokenizers (the qwen extra)")

TEXT = (
    '<tool_call>\n{"name": "computer_use", "arguments": {"action": "type", '
    '"text": "open the wifi settings, 你好 ✓"}}\n</tool_call>'
)


def test_a_widened_tokenizer_has_the_size_asked_and_qwen_added_tokens_after_it() -> None:
    small = build_tokenizer()
    wide = build_tokenizer(vocab=6000)
    assert wide.get_vocab_size(with_added_tokens=False) == 6000
    assert wide.get_vocab_size(with_added_tokens=True) == 6000 + len(QWEN_ADDED_TOKENS)
    for offset, (content, _) in enumerate(QWEN_ADDED_TOKENS):
        assert wide.token_to_id(content) == 6000 + offset  # Qwen's order, right after the BPE
    for tokenizer in (small, wide):
        ids = tokenizer.encode(TEXT).ids
        assert tokenizer.decode(ids, skip_special_tokens=False) == TEXT
    assert len(wide.encode(TEXT).ids) <= len(small.encode(TEXT).ids)
    small_vocab = small.get_vocab(with_added_tokens=False)
    wide_vocab = wide.get_vocab(with_added_tokens=False)
    assert all(wide_vocab[piece] == index for piece, index in small_vocab.items())
    assert build_tokenizer(vocab=6000).to_str() == wide.to_str()  # deterministic
