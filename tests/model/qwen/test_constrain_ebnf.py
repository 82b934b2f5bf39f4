"""The EBNF sent to constrained servers describes the same calls as the project's grammar."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from pixelpilot.model.qwen.constrain.ebnf import tool_call_ebnf, up_to
from pixelpilot.model.qwen.constrain.grammar import ToolCallGrammar
from pixelpilot.model.qwen.tools import load_family

W, H = 1092, 2408


def test_up_to_spells_exactly_the_integers_0_to_n() -> None:
    import re

    for n in (0, 7, 9, 10, 99, 100, 599, 1091, 2407, 100000):
        pattern = re.compile(up_to(n).replace(" ", "").replace('"', ""))
        for value in [*range(0, min(n + 30, 3000)), n, n + 1, 10 * n + 5]:
            assert (pattern.fullmatch(str(value)) is not None) == (value <= n), (n, value)
        assert pattern.fullmatch("0" + str(n)) is None or n == 0  # no leading zeros


def _strings(tool: str, rng: random.Random) -> list[str]:
    click = "click" if tool == "mobile_use" else "left_click"
    texts = []
    for _ in range(60):
        args = rng.choice(
            [
                {"action": click, "coordinate": [rng.randrange(W + 2), rng.randrange(H + 2)]},
                {"action": "type", "text": rng.choice(["hi", 'a "q" \\ é', ""])},
                {"action": "wait", "time": rng.choice([1, 2.5, 0.125, 700])},
                {"action": "terminate", "status": rng.choice(["success", "nope"])},
                {"action": click},
            ]
        )
        call = json.dumps({"name": tool, "arguments": args}, ensure_ascii=False)
        text = f"<tool_call>\n{call}\n</tool_call>"
        texts += [text, text[: rng.randrange(1, len(text))]]
    return texts


@pytest.mark.parametrize("pointer_known", [False, True])
@pytest.mark.parametrize("tool", ["mobile_use", "computer_use"])
def test_xgrammar_and_the_grammar_agree_on_every_string(
    tiny_checkpoint: Path, tool: str, pointer_known: bool
) -> None:
    xgr = pytest.importorskip("xgrammar", reason="needs xgrammar (a dev dependency)")
    transformers = pytest.importorskip("transformers")
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(tiny_checkpoint))
    stop = tokenizer.convert_tokens_to_ids("<|im_end|>")
    info = xgr.TokenizerInfo.from_huggingface(tokenizer, stop_token_ids=[stop])
    actions = load_family().tools[tool].parameters["properties"]["action"]["enum"]
    text = tool_call_ebnf(tool, actions, W, H, pointer_known=pointer_known)
    compiled = xgr.GrammarCompiler(info).compile_grammar(text)
    ours = ToolCallGrammar(tool, actions, W, H, pointer_known=pointer_known)
    accepted = 0
    for sample in _strings(tool, random.Random(7)):
        matcher = xgr.GrammarMatcher(compiled)
        theirs = bool(matcher.accept_string(sample) and matcher.accept_token(stop))
        assert theirs == ours.accepts(sample), sample
        accepted += theirs
    assert accepted > 10
