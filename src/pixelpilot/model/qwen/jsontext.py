"""Bounded JSON decoding for model text: every failure is one JsonTextError, nothing else escapes.

Python's `json` accepts more than a tool call can use and fails in more ways than
JSONDecodeError: `NaN` and `Infinity` decode to non-finite floats (and then `round()` raises
ValueError or OverflowError), `1e400` decodes to `inf`, an integer of 4,301 or more digits raises
ValueError (the int-string conversion limit), a 400-digit integer decodes but overflows `float()`,
and about 1,000 nested `[` raise RecursionError. The decoder here refuses each at the source:

- `NaN`, `Infinity`, `-Infinity`: refused.
- a float that is not finite after parsing (`1e400`): refused.
- an integer literal of more than MAX_INT_DIGITS digits: refused before `int()` sees it.
- nesting deeper than MAX_DEPTH: refused by a linear pre-scan, before the recursive decoder runs.

API:
    decode_at(text, pos) -> (value, end)   the JSON value starting at text[pos] (raw_decode style)
    loads(text) -> value                   the whole text as one JSON value
    JsonTextError(ValueError)              why, with the position when known
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["MAX_DEPTH", "MAX_INT_DIGITS", "JsonTextError", "decode_at", "loads"]

# A tool call nests 3-4 levels ({"arguments": {"coordinate": [x, y]}}); 32 leaves room for
# any sane argument and keeps every recursive walk (decode, dumps, repr) far from the stack limit.
MAX_DEPTH = 32
# 18 digits hold every int64-sized value; nothing in a tool call needs more.
MAX_INT_DIGITS = 18


class JsonTextError(ValueError):
    """The text is not a JSON value within the bounds above."""


def _parse_int(literal: str) -> int:
    digits = len(literal) - literal.startswith("-")
    if digits > MAX_INT_DIGITS:
        raise JsonTextError(f"an integer of {digits} digits (at most {MAX_INT_DIGITS})")
    return int(literal)


def _parse_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise JsonTextError(f"the number {literal[:40]} is not a finite float")
    return value


def _parse_constant(name: str) -> float:
    raise JsonTextError(f"{name} is not a JSON number")


_DECODER = json.JSONDecoder(
    parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant
)


def _check_depth(text: str, pos: int) -> None:
    """Raise when the value starting at `pos` nests deeper than MAX_DEPTH.

    Scans brackets outside string literals until the value closes (or the text ends); O(length).
    """
    depth = 0
    in_string = escaped = False
    for index in range(pos, len(text)):
        char = text[index]
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise JsonTextError(f"nesting deeper than {MAX_DEPTH} at position {index}")
        elif char in "]}":
            depth -= 1
            if depth <= 0:
                return
        elif depth == 0 and not char.isspace():
            return  # a scalar at the top level: nothing nests


def decode_at(text: str, pos: int = 0) -> tuple[Any, int]:
    """The JSON value that starts at `text[pos]` and the index just after it.

    Raises:
        JsonTextError: not JSON at `pos`, or outside the bounds in the module docstring.
    """
    _check_depth(text, pos)
    try:
        value, end = _DECODER.raw_decode(text, pos)
    except json.JSONDecodeError as exc:
        raise JsonTextError(str(exc)) from None
    except RecursionError:  # unreachable after _check_depth; kept as the last guard
        raise JsonTextError("nesting too deep") from None
    return value, end


def loads(text: str) -> Any:
    """`text` (surrounding whitespace allowed) as exactly one bounded JSON value.

    Raises:
        JsonTextError: as `decode_at`, or extra data after the value.
    """
    start = len(text) - len(text.lstrip())
    value, end = decode_at(text, start)
    if text[end:].strip():
        raise JsonTextError(f"extra data after the JSON value at position {end}")
    return value
