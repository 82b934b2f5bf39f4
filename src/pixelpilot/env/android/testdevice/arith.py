"""Shell arithmetic (`$((...))`) for the test device's shell, on 64-bit signed integers.

Operators, loosest first: `?:`, `||`, `&&`, `|`, `^`, `&`, `== !=`, `< <= > >=`, `<< >>`,
`+ -`, `* / %`, then unary `+ - ! ~` and parentheses. Names (with or without `$`) read shell
variables; an unset or empty one is 0, as in mksh. Division truncates toward zero. Assignment
operators are not supported (a syntax error, so nothing runs).
"""

from __future__ import annotations

import re
from collections.abc import Callable

_TOKEN = re.compile(
    r"\s*(?:(0[xX][0-9a-fA-F]+|\d+)|\$?\{?([A-Za-z_][A-Za-z0-9_]*)\}?|\$(\?|#)"
    r"|(<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%()<>!~&|^?:]))"
)
_BINARY: list[tuple[str, ...]] = [
    ("||",),
    ("&&",),
    ("|",),
    ("^",),
    ("&",),
    ("==", "!="),
    ("<", "<=", ">", ">="),
    ("<<", ">>"),
    ("+", "-"),
    ("*", "/", "%"),
]


class ArithError(ValueError):
    """The expression does not parse, or divides by zero; the message is what sh prints."""


def _wrap(value: int) -> int:
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >= 1 << 63 else value


def _apply(op: str, a: int, b: int) -> int:
    if op in ("/", "%"):
        if b == 0:
            raise ArithError("divide by zero")
        quotient = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)
        return quotient if op == "/" else a - b * quotient
    table: dict[str, Callable[[int, int], int]] = {
        "||": lambda x, y: int(bool(x) or bool(y)),
        "&&": lambda x, y: int(bool(x) and bool(y)),
        "|": lambda x, y: x | y,
        "^": lambda x, y: x ^ y,
        "&": lambda x, y: x & y,
        "==": lambda x, y: int(x == y),
        "!=": lambda x, y: int(x != y),
        "<": lambda x, y: int(x < y),
        "<=": lambda x, y: int(x <= y),
        ">": lambda x, y: int(x > y),
        ">=": lambda x, y: int(x >= y),
        "<<": lambda x, y: x << (y & 63),
        ">>": lambda x, y: x >> (y & 63),
        "+": lambda x, y: x + y,
        "-": lambda x, y: x - y,
        "*": lambda x, y: x * y,
    }
    return table[op](a, b)


def evaluate(text: str, variable: Callable[[str], str]) -> int:
    """The value of the arithmetic expression `text`.

    Args:
        text: what stood between `$((` and `))`.
        variable: reads a shell variable by name ("" when unset).

    Raises:
        ArithError: a syntax error, a variable that is not a number, or a division by 0.
    """
    tokens: list[tuple[str, str]] = []  # (kind, text): kind is "num" or "op"
    pos = 0
    while pos < len(text.rstrip()):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise ArithError(f"{text.strip()}: syntax error at {text[pos:].strip()!r}")
        number, name, special, op = match.groups()
        if number is not None:
            octal = len(number) > 1 and number[0] == "0" and number[1] not in "xX"
            try:
                tokens.append(("num", str(int(number, 8 if octal else 0))))
            except ValueError:
                raise ArithError(f"{number}: bad number") from None
        elif name is not None or special is not None:
            value = variable(name or special).strip() or "0"
            if not re.fullmatch(r"-?\d+", value):
                raise ArithError(f"{value}: bad number")
            tokens.append(("num", value))
        else:
            tokens.append(("op", op))
        pos = match.end()
    parser = _Parser(tokens, text.strip())
    result = parser.ternary()
    if parser.pos != len(tokens):
        raise ArithError(f"{text.strip()}: unexpected {tokens[parser.pos][1]!r}")
    return result


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], source: str) -> None:
        self.tokens = tokens
        self.source = source
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def take(self, expected: str) -> None:
        if self.peek() != expected:
            raise ArithError(f"{self.source}: expected {expected!r}")
        self.pos += 1

    def ternary(self) -> int:
        condition = self.binary(0)
        if self.peek() != "?":
            return condition
        self.pos += 1
        yes = self.ternary()
        self.take(":")
        no = self.ternary()
        return yes if condition else no

    def binary(self, level: int) -> int:
        if level == len(_BINARY):
            return self.unary()
        value = self.binary(level + 1)
        while self.peek() in _BINARY[level]:
            op = self.tokens[self.pos][1]
            self.pos += 1
            value = _wrap(_apply(op, value, self.binary(level + 1)))
        return value

    def unary(self) -> int:
        if self.pos >= len(self.tokens):
            raise ArithError(f"{self.source}: missing operand")
        kind, text = self.tokens[self.pos]
        self.pos += 1
        if kind == "num":
            return _wrap(int(text))
        if text == "(":
            value = self.ternary()
            self.take(")")
            return value
        if text in ("+", "-", "!", "~"):
            operand = self.unary()
            return {"+": operand, "-": -operand, "!": int(not operand), "~": ~operand}[text]
        raise ArithError(f"{self.source}: unexpected {text!r}")
