"""The tool-call grammar of `constrain.grammar` written as EBNF, for grammar engines.

What a server-side constraint sends (vLLM structured outputs and SGLang's `ebnf`, both
xgrammar's EBNF dialect) and what `bench/constraint_engines.py` compiles with xgrammar. Built
from the same tables the project's grammar uses (ARGUMENTS, NEEDS_POINTER, key_names, the value
bounds), so the engines are asked for the same language (the bench checks 1,203 strings):

    <tool_call>\\n{"name": "TOOL", "arguments": {"action": "ACTION", ...}}\\n</tool_call>

with json.dumps separators, each argument at most once in any order (every order is spelled
out), required arguments present, integer coordinates 0..W-1 / 0..H-1, JSON strings of
1..max_chars characters (escapes allowed), key names from `key_names()`, decimals with at most
3 decimals and an integer part <= MAX_SECONDS, non-zero scroll amounts |n| <= MAX_SCROLL.

What EBNF cannot carry: the project's guarantee that a call always closes within the token
budget (its processor checks the shortest completion against the tokens left), and a
positive time (`0.0` is accepted here for long_press).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence

from pixelpilot.model.qwen.constrain.grammar import (
    ARGUMENTS,
    MAX_KEYS,
    MAX_SCROLL,
    MAX_SECONDS,
    NEEDS_POINTER,
    Arg,
    key_names,
)


def literal(text: str) -> str:
    """An EBNF string literal for `text` (JSON escaping suits xgrammar's EBNF)."""
    return json.dumps(text, ensure_ascii=False)


def up_to(n: int) -> str:
    """An EBNF expression for the decimal integers 0..n, no leading zeros."""
    digits = str(n)
    options = []
    for length in range(1, len(digits)):
        options.append("[0-9]" if length == 1 else "[1-9]" + "[0-9]" * (length - 1))
    for index, char in enumerate(digits):
        low = 1 if index == 0 and len(digits) > 1 else 0
        if int(char) > low:
            head = literal(digits[:index]) + " " if index else ""
            options.append(f"{head}[{low}-{int(char) - 1}]" + " [0-9]" * (len(digits) - index - 1))
    options.append(literal(digits))
    return "(" + " | ".join(options) + ")"


def _value(arg: Arg, rules: dict[str, str]) -> str:
    if arg.options:
        return "(" + " | ".join(literal(json.dumps(o)) for o in arg.options) + ")"
    if arg.key_name:
        return "keyname"
    match arg.kind:
        case "point":
            return "point"
        case "scroll":
            return '"-"? (' + up_to(MAX_SCROLL).replace("[0-9] |", "[1-9] |", 1) + ")"
        case "seconds" | "positive_seconds":
            return "seconds"
        case "text":
            return "text"
        case "any_text":
            return "anytext"
        case "keys":
            return "keys"
    raise AssertionError(arg.kind)


def tool_call_ebnf(
    tool: str,
    actions: Sequence[str],
    width: int,
    height: int,
    *,
    pointer_known: bool = False,
    max_chars: int = 512,
) -> str:
    """The EBNF (root rule `root`) of one call of `tool` for a `width` x `height` image.

    Args:
        pointer_known: as ToolCallGrammar's: clicks may omit their coordinate and drags are
            allowed only when the pointer position is known.
    """
    rules: dict[str, str] = {}
    branches = []
    for action in actions:
        if (tool, action) in NEEDS_POINTER and not pointer_known:
            continue
        arguments = ARGUMENTS[tool][action]
        needed = ("yes",) if pointer_known else ("yes", "no_pointer")
        required = [k for k, a in arguments.items() if a.need in needed]
        optional = [k for k in arguments if k not in required]
        orders = []
        for count in range(len(optional) + 1):
            for extra in itertools.combinations(optional, count):
                for order in itertools.permutations([*required, *extra]):
                    parts = [
                        literal(", " + json.dumps(k) + ": ") + " " + _value(arguments[k], rules)
                        for k in order
                    ]
                    orders.append(" ".join(parts) if parts else '""')
        branches.append(literal(json.dumps(action)) + " (" + " | ".join(orders) + ")")
    head = literal(f'<tool_call>\n{{"name": "{tool}", "arguments": {{"action": ')
    names = " | ".join(literal(json.dumps(k)) for k in key_names())
    char = r'([^"\\\x00-\x1f] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4}))'
    lines = [
        f"root ::= {head} ({' | '.join(branches)}) " + literal("}}\n</tool_call>"),
        f'point ::= "[" {up_to(width - 1)} ", " {up_to(height - 1)} "]"',
        f'seconds ::= {up_to(MAX_SECONDS)} ("." [0-9]{{1,3}})?',
        f'text ::= "\\"" {char}{{1,{max_chars}}} "\\""',
        f'anytext ::= "\\"" {char}{{0,{max_chars}}} "\\""',
        f"keyname ::= ({names})",
        f'keys ::= "[" keyname (", " keyname){{0,{MAX_KEYS - 1}}} "]"',
    ]
    return "\n".join(lines) + "\n"
